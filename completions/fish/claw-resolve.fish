# fish completion for claw-resolve
function __claw_bundles --description 'bundle names under $CLAW_HOME/VMs'
    set -l home ~/ClawOS
    set -q CLAW_HOME; and set home $CLAW_HOME
    for f in $home/VMs/*.clawbundle
        string replace -r '^.*/(.*)\.clawbundle$' '$1' $f
    end
end
complete -c claw-resolve -a latest -d "Apple's newest restore image"
complete -c claw-resolve -s b -l bundle -x -d "write ipsw.json in the bundle" -a "(__claw_bundles)"
complete -c claw-resolve -s c -l config -r -F -d "take SPEC from this claw.yml"
complete -c claw-resolve -l json -d "print JSON"
complete -c claw-resolve -l catalog-url -x -d "Apple catalog URL"
complete -c claw-resolve -l ipswme-url -x -d "ipsw.me API base URL"
complete -c claw-resolve -s q -l quiet -d "only errors"
complete -c claw-resolve -s v -l verbose -d "say more"
complete -c claw-resolve -s h -l help -d "print the usage"
complete -c claw-resolve -l version -d "print the version"

# fish completion for claw-ls
function __claw_bundles --description 'bundle names under $CLAW_HOME/VMs'
    set -l home ~/ClawOS
    set -q CLAW_HOME; and set home $CLAW_HOME
    for f in $home/VMs/*.clawbundle
        string replace -r '^.*/(.*)\.clawbundle$' '$1' $f
    end
end
complete -c claw-ls -f -a "(__claw_bundles)"
complete -c claw-ls -l json -d "print JSON"
complete -c claw-ls -s q -l quiet -d "only errors"
complete -c claw-ls -s v -l verbose -d "say more"
complete -c claw-ls -s h -l help -d "print the usage"
complete -c claw-ls -l version -d "print the version"

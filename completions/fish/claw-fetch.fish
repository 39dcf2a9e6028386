# fish completion for claw-fetch
function __claw_bundles --description 'bundle names under $CLAW_HOME/VMs'
    set -l home ~/ClawOS
    set -q CLAW_HOME; and set home $CLAW_HOME
    for f in $home/VMs/*.clawbundle
        string replace -r '^.*/(.*)\.clawbundle$' '$1' $f
    end
end
complete -c claw-fetch -s b -l bundle -x -d "link restore.ipsw in the bundle" -a "(__claw_bundles)"
complete -c claw-fetch -s o -l output -r -F -d "download to this path"
complete -c claw-fetch -l cache -x -a "(__fish_complete_directories)" -d "cache folder"
complete -c claw-fetch -l sha256 -x -d "expected SHA-256"
complete -c claw-fetch -l sha1 -x -d "expected SHA-1"
complete -c claw-fetch -s j -l jobs -x -a "1 2 4 8 16" -d "connections"
complete -c claw-fetch -l list -d "list the cache"
complete -c claw-fetch -l prune -d "remove what no bundle uses"
complete -c claw-fetch -l json -d "print JSON"
complete -c claw-fetch -s q -l quiet -d "only errors"
complete -c claw-fetch -s v -l verbose -d "say more"
complete -c claw-fetch -s h -l help -d "print the usage"
complete -c claw-fetch -l version -d "print the version"

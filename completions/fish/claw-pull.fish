# fish completion for claw-pull
complete -c claw-pull -f
complete -c claw-pull -s b -l bundle -x -d "the bundle the machine goes into" -a "(__claw_bundles)"
complete -c claw-pull -s j -l jobs -x -a "1 2 4 8 16" -d "blobs at once"
complete -c claw-pull -l insecure -d "plain HTTP to a registry on this machine, or to --insecure=HOST"
complete -c claw-pull -s q -l quiet -d "only errors"
complete -c claw-pull -s v -l verbose -d "say more"
complete -c claw-pull -s h -l help -d "print the usage"
complete -c claw-pull -l version -d "print the version"

# fish completion for claw-push
complete -c claw-push -f
complete -c claw-push -s b -l bundle -x -d "the stopped machine to push" -a "(__claw_bundles)"
complete -c claw-push -s j -l jobs -x -a "1 2 4 8 16" -d "chunks at once"
complete -c claw-push -l insecure -d "plain HTTP to a registry on this machine, or to --insecure=HOST"
complete -c claw-push -s q -l quiet -d "only errors"
complete -c claw-push -s v -l verbose -d "say more"
complete -c claw-push -s h -l help -d "print the usage"
complete -c claw-push -l version -d "print the version"

# fish completion for claw-ls
complete -c claw-ls -f -a "(__claw_bundles)"
complete -c claw-ls -l json -d "print JSON"
complete -c claw-ls -s q -l quiet -d "only errors"
complete -c claw-ls -s v -l verbose -d "say more"
complete -c claw-ls -s h -l help -d "print the usage"
complete -c claw-ls -l version -d "print the version"

# fish completion for claw-bundle
complete -c claw-bundle -f
complete -c claw-bundle -s c -l config -r -F -d "init: link the bundle's claw.yml to this file"
complete -c claw-bundle -s q -l quiet -d "only errors"
complete -c claw-bundle -s v -l verbose -d "say more"
complete -c claw-bundle -s h -l help -d "print the usage"
complete -c claw-bundle -l version -d "print the version"
complete -c claw-bundle -n "not __fish_seen_subcommand_from init rm" -a "init" -d "make a bundle, or mark one"
complete -c claw-bundle -n "not __fish_seen_subcommand_from init rm" -a "rm" -d "delete bundles, nothing else"
complete -c claw-bundle -n "__fish_seen_subcommand_from init rm" -a "(__claw_bundles)"

# fish completion for claw-verify
complete -c claw-verify -f
complete -c claw-verify -s b -l bundle -x -d "the bundle" -a "(__claw_bundles)"
complete -c claw-verify -l host -x -a "(__fish_print_hostnames)" -d "any Mac reachable by SSH"
complete -c claw-verify -s c -l config -r -F -d "this claw.yml"
complete -c claw-verify -l port -x -d "the SSH port"
complete -c claw-verify -l user -x -a "(__fish_complete_users)" -d "the user to log in as"
complete -c claw-verify -l json -d "print the manifest"
complete -c claw-verify -s q -l quiet -d "only errors"
complete -c claw-verify -s v -l verbose -d "say more"
complete -c claw-verify -s h -l help -d "print the usage"
complete -c claw-verify -l version -d "print the version"

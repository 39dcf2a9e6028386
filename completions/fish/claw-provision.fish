# fish completion for claw-provision
complete -c claw-provision -f
complete -c claw-provision -s b -l bundle -x -d "the bundle" -a "(__claw_bundles)"
complete -c claw-provision -l host -x -a "(__fish_print_hostnames)" -d "any Mac reachable by SSH"
complete -c claw-provision -s c -l config -r -F -d "this claw.yml"
complete -c claw-provision -l port -x -d "the SSH port"
complete -c claw-provision -l user -x -a "(__fish_complete_users)" -d "the user to log in as"
complete -c claw-provision -l print-script -d "print the script, run nothing"
complete -c claw-provision -l from-step -x -d "resume from step N"
complete -c claw-provision -l timeout -x -d "seconds to wait for the first boot"
complete -c claw-provision -s q -l quiet -d "only errors"
complete -c claw-provision -s v -l verbose -d "say more"
complete -c claw-provision -s h -l help -d "print the usage"
complete -c claw-provision -l version -d "print the version"

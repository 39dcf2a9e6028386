# fish completion for claw-boot
complete -c claw-boot -f
complete -c claw-boot -s b -l bundle -x -d "the bundle" -a "(__claw_bundles)"
complete -c claw-boot -s c -l config -r -F -d "this claw.yml"
complete -c claw-boot -s d -l detach -d "return once the machine runs"
complete -c claw-boot -l dir -x -a "(__fish_complete_directories)" -d "share a host folder with the guest: [NAME:]PATH[:ro]"
complete -c claw-boot -l recovery -d "start into macOS Recovery"
complete -c claw-boot -l no-resume -d "discard a saved state and start afresh"
complete -c claw-boot -l stop-timeout -x -d "seconds before a stop is forced"
complete -c claw-boot -l shutdown -d "tell the running guest over SSH to shut down"
complete -c claw-boot -s q -l quiet -d "only errors"
complete -c claw-boot -s v -l verbose -d "say more"
complete -c claw-boot -s h -l help -d "print the usage"
complete -c claw-boot -l version -d "print the version"

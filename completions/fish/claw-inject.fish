# fish completion for claw-inject
complete -c claw-inject -f
complete -c claw-inject -s b -l bundle -x -d "the bundle" -a "(__claw_bundles)"
complete -c claw-inject -s c -l config -r -F -d "this claw.yml"
complete -c claw-inject -l root -x -a "(__fish_complete_directories)" -d "the Data volume root"
complete -c claw-inject -l only -x -a "user ssh vnc autologin sudo setup firstboot" -d "parts"
complete -c claw-inject -l dry-run -d "list, write nothing"
complete -c claw-inject -l password-fd -x -d "read the password from this descriptor"
complete -c claw-inject -l vnc-password-fd -x -d "read the VNC password from this descriptor"
complete -c claw-inject -s q -l quiet -d "only errors"
complete -c claw-inject -s v -l verbose -d "say more"
complete -c claw-inject -s h -l help -d "print the usage"
complete -c claw-inject -l version -d "print the version"

# fish completion for claw-config
complete -c claw-config -f
complete -c claw-config -s b -l bundle -x -d "read the bundle's claw.yml" -a "(__claw_bundles)"
complete -c claw-config -s c -l config -r -F -d "read this claw.yml"
complete -c claw-config -l json -d "print JSON"
complete -c claw-config -s q -l quiet -d "only errors"
complete -c claw-config -s v -l verbose -d "say more"
complete -c claw-config -s h -l help -d "print the usage"
complete -c claw-config -l version -d "print the version"
complete -c claw-config -n "not __fish_seen_subcommand_from check get dump digest secrets" -a "check get dump digest secrets"
complete -c claw-config -n "__fish_seen_subcommand_from get" -a "name vm.cpu vm.ram vm.disk vm.macos vm.display.width vm.display.height vm.display.dpi vm.shares access.username access.password access.ssh_key access.vnc_password access.ssh_password_login tools.homebrew tools.packages tools.casks tools.npm_global tools.custom"

# fish completion for claw: the commands, then each command's own completion.
complete -c claw -f
complete -c claw -n "__fish_use_subcommand" -s h -l help -d "print the usage"
complete -c claw -n "__fish_use_subcommand" -l version -d "print the version"
complete -c claw -n "__fish_use_subcommand" -a ls -d "list bundles"
complete -c claw -n "__fish_use_subcommand" -a config -d "read claw.yml"
complete -c claw -n "__fish_use_subcommand" -a help -d "print the usage"
complete -c claw -n "__fish_seen_subcommand_from help" -a "ls config"
# `claw NAME ARGS` completes as `claw-NAME ARGS`.
complete -c claw -n "not __fish_use_subcommand; and not __fish_seen_subcommand_from help" -a "(set -l t (commandline -opc) (commandline -ct); complete -C \"claw-\$t[2] \$t[3..-1]\")"

# fish completion for claw-restore
complete -c claw-restore -f
complete -c claw-restore -s b -l bundle -x -d "the bundle" -a "(__claw_bundles)"
complete -c claw-restore -s c -l config -r -F -d "this claw.yml"
complete -c claw-restore -l ipsw -r -F -d "the restore image"
complete -c claw-restore -l disk-format -x -a "raw asif" -d "the disk image format"
complete -c claw-restore -l force -d "restore again over a finished bundle"
complete -c claw-restore -l reidentify -d "a new machine identifier and MAC"
complete -c claw-restore -s q -l quiet -d "only errors"
complete -c claw-restore -s v -l verbose -d "say more"
complete -c claw-restore -s h -l help -d "print the usage"
complete -c claw-restore -l version -d "print the version"

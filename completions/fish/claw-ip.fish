# fish completion for claw-ip
complete -c claw-ip -f
complete -c claw-ip -s b -l bundle -x -d "the bundle's machine" -a "(__claw_bundles)"
complete -c claw-ip -l mac -x -d "this MAC address"
complete -c claw-ip -l wait -d "poll until found"
complete -c claw-ip -l ssh -d "also wait until SSH answers"
complete -c claw-ip -l port -x -d "the SSH port"
complete -c claw-ip -l leases -r -F -d "the DHCP lease file"
complete -c claw-ip -l resolver -x -a "dhcp arp any" -d "where to look"
complete -c claw-ip -l json -d "print JSON"
complete -c claw-ip -s q -l quiet -d "only errors"
complete -c claw-ip -s v -l verbose -d "say more"
complete -c claw-ip -s h -l help -d "print the usage"
complete -c claw-ip -l version -d "print the version"

#!/bin/sh
# pipe.sh: the stages piped and chained by hand, as `claw create` runs them, for one
# machine NAME from CONFIG. Each stage reads the bundle and what the one before printed.
#   pipe.sh NAME CONFIG
set -eu
name=${1:?usage: pipe.sh NAME CONFIG}
config=${2:?usage: pipe.sh NAME CONFIG}

# The bundle's path, resolved here: sudo resets CLAW_HOME, and root would look elsewhere.
bundle=$(claw-bundle init "$name")
claw-resolve -b "$bundle" -c "$config" | claw-fetch -b "$bundle" -j 8   # which IPSW, downloaded and verified
claw-restore -b "$bundle" -c "$config"                                # macOS into disk.img
# sudo resets the environment: the secrets (CLAW_PASSWORD, a password_file) are read here, as
# you, and handed to claw-inject on its standard input, never on its command line.
secrets=$(claw-config -c "$config" secrets)
printf '%s\n' "$secrets" |
	sudo claw-inject -b "$bundle" -c "$config" --password-fd 0 --vnc-password-fd 0   # user, SSH, VNC, Setup Assistant
secrets=
claw-boot -b "$bundle" -c "$config" -d                                # running, in the background
ip=$(claw-ip -b "$bundle" --wait --ssh)                               # its address, once SSH answers
echo "$name is at $ip"
claw-provision -b "$bundle" -c "$config"                              # tools, step by step
claw-verify -b "$bundle" -c "$config"                                 # every tool checked: manifest.json

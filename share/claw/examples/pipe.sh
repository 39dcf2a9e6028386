#!/bin/sh
# pipe.sh: the stages piped and chained by hand, as `claw create` runs them, for one
# machine NAME from CONFIG. Each stage reads the bundle and what the one before printed.
#   pipe.sh NAME CONFIG
set -eu
name=${1:?usage: pipe.sh NAME CONFIG}
config=${2:?usage: pipe.sh NAME CONFIG}

claw-resolve -b "$name" -c "$config" | claw-fetch -b "$name" -j 8   # which IPSW, downloaded and verified
claw-restore -b "$name" -c "$config"                                # macOS into disk.img
# sudo resets the environment: the secrets (CLAW_PASSWORD, a password_file) are read here, as
# you, and handed to claw-inject on its standard input, never on its command line.
secrets=$(claw-config -c "$config" secrets)
printf '%s\n' "$secrets" |
	sudo claw-inject -b "$name" -c "$config" --password-fd 0 --vnc-password-fd 0   # user, SSH, VNC, Setup Assistant, offline
secrets=
claw-boot -b "$name" -c "$config" -d                                # running, in the background
ip=$(claw-ip -b "$name" --wait --ssh)                               # its address, once SSH answers
echo "$name is at $ip"
claw-provision -b "$name" -c "$config"                              # tools, step by step
claw-verify -b "$name" -c "$config"                                 # every tool checked: manifest.json

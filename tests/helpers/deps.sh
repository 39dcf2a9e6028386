#!/bin/sh
# make deps: install what claw needs to build and test, through the system's
# package manager, only where it is missing. Debian/Ubuntu (apt-get) or macOS (brew).
set -eu

debian_pkgs='make gcc clang pkg-config libyaml-dev libcurl4-openssl-dev libplist-dev libplist-utils
libssl-dev libjansson-dev bats bats-support bats-assert nginx-light openssh-server openssh-client
mandoc shellcheck zsh fish bash-completion aria2 curl util-linux procps iproute2 strace python3 python3-yaml
sudo bindfs fuse libblocksruntime-dev liblz4-dev lz4 docker-registry apache2-utils openssl xfsprogs'
brew_pkgs='pkg-config libyaml curl libplist openssl@3 jansson bats-core bats-support bats-assert
nginx mandoc shellcheck fish aria2 lz4'

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "deps: need root to run: $*" >&2
		exit 77
	fi
}

if command -v apt-get >/dev/null 2>&1; then
	missing=''
	for p in $debian_pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "deps: installing$missing" >&2
		as_root apt-get update -qq
		# shellcheck disable=SC2086 # one word a package
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
	fi
elif command -v brew >/dev/null 2>&1; then
	for p in $brew_pkgs; do
		brew list --versions "$p" >/dev/null 2>&1 || brew install "$p"
	done
else
	echo "deps: no apt-get or brew here; install by hand: $debian_pkgs" >&2
	exit 69
fi

# The test guest's package managers: the stand-in brew and npm (tests/fakes/guest) and what
# they can install, written into the guest tree $GUEST (its bin/ is on the guest's PATH).
# shellcheck shell=bash

# guest_fake NAME DEST: the stand-in NAME written to DEST, run by this machine's own python3,
# named by its full path: the guest's PATH may hold a stand-in python3 of its own.
guest_fake() {
	mkdir -p "$(dirname "$2")"
	{
		printf '#!%s\n' "$(python3 -c 'import sys; print(sys.executable)')"
		tail -n +2 "$TOP/tests/fakes/guest/$1"
	} >"$2"
	chmod +x "$2"
}

# bottle NAME VERSION [COMMAND...]: a formula brew can pour, its keg's bin/ holding the commands.
bottle() {
	local d=$GUEST/brew-bottles/$1/$2 c
	mkdir -p "$d/bin" "$d/share/doc"
	shift 2
	for c in "$@"; do
		printf '#!/bin/sh\necho "%s"\n' "$c" >"$d/bin/$c"
		chmod +x "$d/bin/$c"
	done
	echo '{"homebrew_version": "4.4.9"}' >"$d/INSTALL_RECEIPT.json"
}

# cask TOKEN VERSION [APP...]: a cask brew can install.
cask() {
	local d=$GUEST/brew-casks/$1/$2 a
	mkdir -p "$d"
	shift 2
	for a in "$@"; do mkdir -p "$d/$a/Contents"; done
}

# package NAME VERSION [BIN-JSON]: a package the npm registry holds (no BIN-JSON: a library, no
# "bin" at all); every file BIN-JSON names is a script.
package() {
	local d=$GUEST/npm-registry/$1 f
	mkdir -p "$d"
	if [ -n "${3:-}" ]; then
		printf '{"name": "%s", "version": "%s", "main": "index.js", "bin": %s}\n' "$1" "$2" "$3" >"$d/package.json"
	else
		printf '{"name": "%s", "version": "%s", "main": "index.js"}\n' "$1" "$2" >"$d/package.json"
	fi
	echo 'module.exports = {};' >"$d/index.js"
	python3 -c 'import json,sys; b=json.loads(sys.argv[1] or "null"); [print(f) for f in (b.values() if isinstance(b, dict) else [b] if b else [])]' "${3:-}" |
		while IFS= read -r f; do
			mkdir -p "$(dirname "$d/$f")"
			printf '#!/bin/sh\necho "%s %s"\n' "$1" "$2" >"$d/$f"
		done
}

# in_guest COMMAND...: run COMMAND here as the guest's shell would.
in_guest() { HOME=$GUEST/home CLAW_APPLICATIONS=$GUEST/Applications PATH="$GUEST/bin:$PATH" "$@"; }

# guest_clean: the guest tree back to empty.
guest_clean() {
	rm -rf "${GUEST:?}/bin/"* "${GUEST:?}/Applications/"* "${GUEST:?}/Cellar" "${GUEST:?}/Caskroom" "${GUEST:?}/opt" \
		"${GUEST:?}/lib" "${GUEST:?}/brew-bottles" "${GUEST:?}/brew-casks" "${GUEST:?}/npm-registry"
}

# guest_data_volume DIR: DIR as restore leaves a guest's Data volume (the admin group claw-inject
# adds its user to, the host keys the test sshd serves as the guest's).
guest_data_volume() {
	local groups=$1/private/var/db/dslocal/nodes/Default/groups t
	mkdir -p "$1/private/var/db/dslocal/nodes/Default/users" "$groups" "$1/Users" "$1/private/etc/ssh"
	python3 -c 'import plistlib,sys; plistlib.dump({"name":["admin"],"gid":["80"],"users":["root"]}, open(sys.argv[1],"wb"), fmt=plistlib.FMT_BINARY)' \
		"$groups/admin.plist"
	for t in rsa ecdsa ed25519; do ssh-keygen -q -t "$t" -N '' -C '' -f "$1/private/etc/ssh/ssh_host_${t}_key"; done
}

#!/usr/bin/env bats
# claw-verify against real OpenSSH, with fake brew/npm and .app layouts placed on the test guest.

load helpers/common
load helpers/servers

setup_file() { sshd_start; }
teardown_file() { sshd_stop; }

tool() { # NAME VERSION-LINE: a command in the guest's bin that prints its version
	printf '#!/bin/sh\necho "%s"\n' "$2" >"$GUEST/bin/$1"
	chmod +x "$GUEST/bin/$1"
}

setup() {
	common_setup
	B=$(guest_bundle dev)
	rm -rf "${GUEST:?}/bin/"* "${GUEST:?}/Applications/"* "$GUEST"/brew-* "$GUEST/npm-global"
	cp "$TOP/tests/fakes/guest/brew" "$TOP/tests/fakes/guest/npm" "$GUEST/bin/"
	tool rg "ripgrep 14.1.1"
	tool zoxide "zoxide v0.9.6"
	tool tsc "Version 5.6.3"
	tool gcloud "Google Cloud SDK 499.0.0"
	printf 'ripgrep 14.1.1\n' >"$GUEST/brew-formulae"
	printf 'lodash 4.17.21\n@scope/lib 1.0.0\n' >"$GUEST/npm-global"
	printf 'orbstack 1.8.0\n' >"$GUEST/brew-casks"
	app="$GUEST/Applications/Visual Studio Code.app/Contents"
	mkdir -p "$app"
	cat >"$app/Info.plist" <<'PLIST'
<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
	<key>CFBundleName</key><string>Code</string>
	<key>CFBundleShortVersionString</key>
	<string>1.95.3</string>
</dict></plist>
PLIST
	cat >"$B/claw.yml" <<'YML'
tools:
  homebrew: true
  packages: [ripgrep, zoxide]
  casks: [visual-studio-code, google-cloud-sdk, orbstack]
  npm_global: [typescript, lodash]
YML
}

verify() { claw-verify -b dev --user root --port "$SSH_PORT" "$@"; }

@test "every tool found, each the way its kind is checked; manifest.json in the spec's shape" {
	run verify
	assert_success
	assert_line --regexp '^brew +brew +4\.4\.9 +ok$'
	assert_line --regexp '^ripgrep +brew +14\.1\.1 +ok$'
	assert_line --regexp '^zoxide +brew +0\.9\.6 +ok$'
	assert_line --regexp '^visual-studio-code +cask +1\.95\.3 +ok$'
	assert_line --regexp '^google-cloud-sdk +cask +499\.0\.0 +ok$'
	assert_line --regexp '^orbstack +cask +1\.8\.0 +ok$'
	assert_line --regexp '^typescript +npm +5\.6\.3 +ok$'
	assert_line --regexp '^lodash +npm +4\.17\.21 +ok$'
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted(d)); print(d["vmName"]); print([(t["name"], t["version"], t["installed"]) for t in d["tools"]][:2])' "$B/manifest.json"
	assert_line --index 0 "['timestamp', 'tools', 'vmName']"
	assert_line --index 1 dev
	assert_line --index 2 "[('brew', '4.4.9', True), ('ripgrep', '14.1.1', True)]"
}

@test "one SSH session for all the tools, not one per tool" {
	before=$(grep -c 'Accepted publickey' "$BATS_FILE_TMPDIR/sshd/sshd.log" || true)
	verify >/dev/null
	after=$(grep -c 'Accepted publickey' "$BATS_FILE_TMPDIR/sshd/sshd.log")
	[ $((after - before)) -eq 1 ]
}

@test "a missing tool: MISSING, exit 1, and still in the manifest" {
	rm "$GUEST/bin/zoxide" "$GUEST/npm-global"
	rm -r "$GUEST/Applications/Visual Studio Code.app"
	run verify
	assert_failure 1
	assert_line --regexp '^zoxide +brew +- +MISSING$'
	assert_line --regexp '^visual-studio-code +cask +- +MISSING$'
	assert_line --regexp '^lodash +npm +- +MISSING$'
	assert_line "claw-verify: 3 of 8 tools missing"
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([t for t in d["tools"] if t["name"]=="zoxide"])' "$B/manifest.json"
	assert_output "[{'name': 'zoxide', 'version': None, 'installed': False, 'kind': 'brew'}]"
}

@test "--json prints the manifest" {
	run verify --json
	assert_success
	run python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["tools"]), d["vmName"])' <<<"$output"
	assert_output "8 dev"
}

@test "the table can be extended in \$CLAW_HOME/tools.tsv" {
	tool mytool "mytool 2.0"
	printf 'npm\t@scope/thing\tbin:mytool\n' >"$CLAW_HOME/tools.tsv"
	printf 'tools:\n  homebrew: false\n  npm_global: ["@scope/thing"]\n' >"$B/claw.yml"
	run verify
	assert_success
	assert_line --regexp '^@scope/thing +npm +2\.0 +ok$'
}

@test "hostile names never run: only validated names reach the script, and quoted" {
	printf 'tools:\n  packages: ["x;touch /tmp/claw-pwned"]\n' >"$B/claw.yml"
	run verify
	assert_failure 78
	[ ! -e /tmp/claw-pwned ]
}

@test "a host key that is not the guest's is refused" {
	ssh-keygen -q -t ed25519 -N '' -f other
	printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 other.pub)" >"$B/ssh/known_hosts"
	run verify
	assert_failure 77
	[ ! -e "$B/manifest.json" ]
}

@test "usage errors are 64" {
	run claw-verify
	assert_failure 64
	run claw-verify -b dev --port 0
	assert_failure 64
}

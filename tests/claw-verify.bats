#!/usr/bin/env bats
# claw-verify against real OpenSSH. The guest's brew and npm are the stand-ins in
# tests/fakes/guest, which install from the test's "bottles" and "registry" into the guest
# tree (Cellar/, Caskroom/, lib/node_modules/, bin/ on PATH) and answer as the real ones do.

load helpers/common
load helpers/servers
load helpers/guest

setup_file() { sshd_start; }
teardown_file() { sshd_stop; }

setup() {
	common_setup
	B=$(guest_bundle dev)
	guest_clean
	rm -f "$GUEST/pwned" "$GUEST/home/pwned"
	guest_fake brew "$GUEST/bin/brew"
	bottle git 2.47.1 git git-shell scalar
	bottle node 23.4.0 node npm npx corepack
	guest_fake npm "$GUEST/brew-bottles/node/23.4.0/bin/npm"
	bottle python@3.13 3.13.1 python3 python3.13 pip3 pip3.13
	ln -s python@3.13 "$GUEST/brew-bottles/python3"
	bottle wget 1.25.0 wget
	cask visual-studio-code 1.96.2 "Visual Studio Code.app"
	cask google-chrome 131.0.6778.205 "Google Chrome.app"
	package @anthropic-ai/claude-code 0.2.9 '{"claude": "cli.js"}'
	package @google/generative-ai 0.21.0
	package @openai/codex 0.1.2504 '{"codex": "bin/codex.js"}'
	package openclaw 2026.1.5 '"openclaw.mjs"'
	package pnpm 9.15.1 '{"pnpm": "bin/pnpm.cjs", "pnpx": "bin/pnpx.cjs"}'
	# The spec's own tools: list, verbatim.
	cat >"$B/claw.yml" <<'YML'
tools:
  homebrew: true
  packages: [git, node, python3, wget]
  casks: [visual-studio-code, google-chrome]
  npm_global: ["@anthropic-ai/claude-code", "@google/generative-ai", "@openai/codex", "openclaw@latest", "pnpm"]
YML
}

install_all() {
	in_guest brew install git node python3 wget >/dev/null
	in_guest brew install --cask visual-studio-code google-chrome >/dev/null
	in_guest npm install -g @anthropic-ai/claude-code @google/generative-ai @openai/codex openclaw@latest pnpm >/dev/null
}

verify() { claw-verify -b dev --user root --port "$SSH_PORT" "$@"; }

manifest() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t={t["name"]: t for t in d["tools"]}; print(eval(sys.argv[2]))' "$B/manifest.json" "$1"; }

@test "the spec's tools, each judged by what its package manager says, in manifest.json's shape" {
	install_all
	run verify
	assert_success
	assert_line --regexp '^brew +brew +4\.4\.9 +ok +brew$'
	assert_line --regexp '^git +brew +2\.47\.1 +ok +git git-shell scalar$'
	assert_line --regexp '^python3 +brew +3\.13\.1 +ok +pip3 pip3\.13 python3 python3\.13$'
	assert_line --regexp '^visual-studio-code +cask +1\.96\.2 +ok +Visual Studio Code\.app$'
	assert_line --regexp '^google-chrome +cask +131\.0\.6778\.205 +ok +Google Chrome\.app$'
	assert_line --regexp '^@anthropic-ai/claude-code +npm +0\.2\.9 +ok +claude$'
	assert_line --regexp '^@google/generative-ai +npm +0\.21\.0 +ok +-$'
	assert_line --regexp '^openclaw@latest +npm +2026\.1\.5 +ok +openclaw$'
	assert_line --regexp '^pnpm +npm +9\.15\.1 +ok +pnpm pnpx$'
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted(d)); print(d["vmName"]); print([(t["name"], t["version"], t["installed"]) for t in d["tools"]][:2])' "$B/manifest.json"
	assert_line --index 0 "['timestamp', 'tools', 'vmName']"
	assert_line --index 1 dev
	assert_line --index 2 "[('brew', '4.4.9', True), ('git', '2.47.1', True)]"
	run manifest 't["@anthropic-ai/claude-code"]["commands"], t["@anthropic-ai/claude-code"]["missing"], t["openclaw@latest"]["package"]'
	assert_output "({'claude': '$GUEST/bin/claude'}, [], 'openclaw')"
	run manifest 't["@google/generative-ai"]["commands"], t["@google/generative-ai"]["ok"], t["visual-studio-code"]["commands"]'
	assert_output "({}, True, {'Visual Studio Code.app': '$GUEST/Applications/Visual Studio Code.app'})"
}

@test "one SSH session for all the tools, not one per tool" {
	install_all
	before=$(grep -c 'Accepted publickey' "$BATS_FILE_TMPDIR/sshd/sshd.log" || true)
	verify >/dev/null
	after=$(grep -c 'Accepted publickey' "$BATS_FILE_TMPDIR/sshd/sshd.log")
	[ $((after - before)) -eq 1 ]
}

@test "nothing installed: every tool MISSING, exit 1, each still in the manifest" {
	rm "$GUEST/bin/brew"
	run verify
	assert_failure 1
	assert_line --regexp '^brew +brew +- +MISSING +-$'
	assert_line --regexp '^git +brew +- +MISSING +-$'
	assert_line --regexp '^google-chrome +cask +- +MISSING +-$'
	assert_line --regexp '^pnpm +npm +- +MISSING +-$'
	assert_line "claw-verify: 12 of 12 tools missing or incomplete"
	run manifest 't["pnpm"]'
	assert_output "{'name': 'pnpm', 'version': None, 'installed': False, 'kind': 'npm', 'commands': {}, 'missing': [], 'ok': False}"
}

@test "a package npm lists whose command is not on PATH is INCOMPLETE, naming the command" {
	install_all
	rm "$GUEST/bin/claude" "$GUEST/bin/pnpx"
	run verify
	assert_failure 1
	assert_line --regexp '^@anthropic-ai/claude-code +npm +0\.2\.9 +INCOMPLETE +missing: claude$'
	assert_line --regexp '^pnpm +npm +9\.15\.1 +INCOMPLETE +pnpm; missing: pnpx$'
	assert_line --regexp '^@openai/codex +npm +0\.1\.2504 +ok +codex$'
	assert_line "claw-verify: 2 of 12 tools missing or incomplete"
	run manifest 't["pnpm"]["installed"], t["pnpm"]["missing"], t["pnpm"]["ok"]'
	assert_output "(True, ['pnpx'], False)"
}

@test "a command's link left dangling is not a command" {
	install_all
	rm "$GUEST/lib/node_modules/@openai/codex/bin/codex.js"
	run verify
	assert_failure 1
	assert_line --regexp '^@openai/codex +npm +0\.1\.2504 +INCOMPLETE +missing: codex$'
}

@test "a package not installed is MISSING; the others are still judged" {
	install_all
	rm -r "$GUEST/lib/node_modules/openclaw" "$GUEST/Caskroom/google-chrome" "$GUEST/Cellar/wget"
	run verify
	assert_failure 1
	assert_line --regexp '^openclaw@latest +npm +- +MISSING +-$'
	assert_line --regexp '^google-chrome +cask +- +MISSING +-$'
	assert_line --regexp '^wget +brew +- +MISSING +-$'
	assert_line --regexp '^pnpm +npm +9\.15\.1 +ok +pnpm pnpx$'
	assert_line "claw-verify: 3 of 12 tools missing or incomplete"
}

@test "a cask whose .app was removed is INCOMPLETE; its binaries must be on PATH" {
	install_all
	cask google-cloud-sdk 502.0.0
	mkdir -p "$GUEST/brew-casks/google-cloud-sdk/502.0.0/bin"
	printf '#!/bin/sh\necho gcloud\n' >"$GUEST/brew-casks/google-cloud-sdk/502.0.0/bin/gcloud"
	chmod +x "$GUEST/brew-casks/google-cloud-sdk/502.0.0/bin/gcloud"
	in_guest brew install --cask google-cloud-sdk >/dev/null
	printf 'tools:\n  casks: [visual-studio-code, google-cloud-sdk]\n' >"$B/claw.yml"
	rm -r "$GUEST/Applications/Visual Studio Code.app"
	run verify
	assert_failure 1
	assert_line --regexp '^visual-studio-code +cask +1\.96\.2 +INCOMPLETE +missing: Visual Studio Code\.app$'
	assert_line --regexp '^google-cloud-sdk +cask +502\.0\.0 +ok +gcloud$'
}

@test "a keg-only formula's commands stay in its keg, off PATH, and that is fine" {
	bottle openjdk 23.0.1 java javac
	touch "$GUEST/brew-bottles/openjdk/keg-only"
	in_guest brew install openjdk >/dev/null
	[ ! -e "$GUEST/bin/java" ]
	printf 'tools:\n  packages: [openjdk]\n' >"$B/claw.yml"
	run verify
	assert_success
	assert_line --regexp '^openjdk +brew +23\.0\.1 +ok +java javac$'
	run manifest 't["openjdk"]["keg_only"], t["openjdk"]["commands"]["java"]'
	assert_output "(True, '$GUEST/Cellar/openjdk/23.0.1/bin/java')"
}

@test "a formula's unlinked command, not keg-only, is missing from PATH" {
	bottle claw-test-tool 1.0 claw-test-tool claw-test-helper
	in_guest brew install claw-test-tool >/dev/null
	rm "$GUEST/bin/claw-test-helper"
	printf 'tools:\n  packages: [claw-test-tool]\n' >"$B/claw.yml"
	run verify
	assert_failure 1
	assert_line --regexp '^claw-test-tool +brew +1\.0 +INCOMPLETE +claw-test-tool; missing: claw-test-helper$'
}

@test "hostile names from the guest are data: nothing runs, the manifest holds them" {
	package evil 6.6.6 '{"$(touch pwned)": "a.js", "x;touch pwned": "b.js", "it'"'"'s": "c.js", "../../up": "d.js", "`touch pwned`": "e.js"}'
	in_guest brew install node >/dev/null
	in_guest npm install -g evil >/dev/null
	printf 'tools:\n  npm_global: [evil]\n' >"$B/claw.yml"
	run verify
	assert_success
	[ ! -e "$GUEST/pwned" ]
	[ ! -e "$GUEST/home/pwned" ]
	run manifest 'sorted(t["evil"]["commands"])'
	assert_output "['\$(touch pwned)', '\`touch pwned\`', \"it's\", 'up', 'x;touch pwned']"
}

@test "hostile names in claw.yml never reach the guest: only validated names are accepted" {
	printf 'tools:\n  packages: ["x;touch /tmp/claw-pwned"]\n' >"$B/claw.yml"
	run verify
	assert_failure 78
	[ ! -e /tmp/claw-pwned ]
	printf 'tools:\n  npm_global: ["$(touch /tmp/claw-pwned)"]\n' >"$B/claw.yml"
	run verify
	assert_failure 78
	[ ! -e /tmp/claw-pwned ]
}

@test "--json prints the manifest" {
	install_all
	run verify --json
	assert_success
	run python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["tools"]), d["vmName"], all(t["ok"] for t in d["tools"]))' <<<"$output"
	assert_output "12 dev True"
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

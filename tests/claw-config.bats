#!/usr/bin/env bats
# claw-config: check, get, dump; every config error names file, line, column and exits 78.

load helpers/common

setup() { common_setup; }

@test "the built-in default is valid and complete" {
	run claw-config check
	assert_success
	assert_output ""
	run claw-config get vm.macos
	assert_output "latest"
	run claw-config get access.username
	assert_output "admin"
}

@test "get: sizes in bytes, lists one per line, booleans as words" {
	config <<'YML'
vm:
  ram: 16GB
  disk: 1.5TB
tools:
  homebrew: no
  packages: [git, python@3.12, homebrew/cask/firefox]
YML
	run claw-config -c claw.yml get vm.ram
	assert_output "17179869184"
	run claw-config -c claw.yml get vm.disk
	assert_output "1649267441664"
	run claw-config -c claw.yml get tools.packages
	assert_output $'git\npython@3.12\nhomebrew/cask/firefox'
	run claw-config -c claw.yml get tools.homebrew
	assert_output "false"
}

@test "get: a key the schema knows but the config leaves unset exits 1 and prints nothing" {
	run claw-config get access.ssh_key
	assert_failure 1
	assert_output ""
}

@test "get: an unknown key is a usage error (64)" {
	run claw-config get vm.rma
	assert_failure 64
	assert_line --index 0 "claw-config: unknown key 'vm.rma'"
}

@test "get and dump never print a secret" {
	config <<'YML'
access:
  password: "s3cret-pw"
  vnc_password: "vncpw"
YML
	run claw-config -c claw.yml get access.password
	assert_success
	assert_output "********"
	run claw-config -c claw.yml dump
	refute_output --partial "s3cret"
	assert_output --partial "password: '********'"
	run claw-config -c claw.yml dump --json
	refute_output --partial "s3cret"
	refute_output --partial "vncpw"
}

@test "cpu is clamped to the host's cores" {
	config <<'YML'
vm:
  cpu: 4096
YML
	run claw-config -c claw.yml get vm.cpu
	assert_output "$(nproc)"
}

@test "hostile strings round-trip unchanged through dump --json" {
	config <<'YML'
vm:
  macos: "/ipsw/it's \"quoted\"; $(rm -rf /) `id` \u00e9\u6f22\nline2.ipsw"
tools:
  custom:
    - name: "step; with $(subshell) and 'quotes'"
      run: |
        echo "hi" ; touch '$HOME/x'
        printf '%s\n' "$(id)" \ 
    - "echo \"plain\" && exit 0"
YML
	run claw-config -c claw.yml dump --json
	assert_success
	macos=$(printf '%s' "$output" | python3 -c 'import json,sys; print(json.load(sys.stdin)["vm"]["macos"], end="")')
	[ "$macos" = "/ipsw/it's \"quoted\"; \$(rm -rf /) \`id\` é漢
line2.ipsw" ]
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d["tools"]["custom"]; print(c[0]["name"]); print(c[0]["run"], end=""); print(c[1]["run"])' /dev/stdin <<<"$(claw-config -c claw.yml dump --json)"
	assert_line --index 0 "step; with \$(subshell) and 'quotes'"
	assert_line --index 1 "echo \"hi\" ; touch '\$HOME/x'"
	assert_line --index 2 "printf '%s\n' \"\$(id)\" \\ "
	assert_line --index 3 'echo "plain" && exit 0'
}

@test "dump reads back as the same config" {
	config <<'YML'
name: dev
vm: {cpu: 1, ram: 1536MB, disk: 100GB, macos: "15.2"}
tools:
  packages: [git]
  custom: ["true", {name: n, run: "yes"}]
YML
	claw-config -c claw.yml dump >dumped.yml
	run claw-config -c dumped.yml dump --json
	expected=$(claw-config -c claw.yml dump --json)
	assert_output "$expected"
	run claw-config -c dumped.yml get vm.macos
	assert_output "15.2"
}

# The error cases: exact message and exit 78.
bad() {
	run claw-config -c claw.yml check
	assert_failure 78
	assert_output "claw-config: $1"
}

@test "error: unknown key suggests the nearest" {
	printf 'vm:\n  cpu: 2\n  rma: 8GB\n' | config
	bad "claw.yml:3:3: unknown key 'rma' in 'vm' (did you mean 'ram'?)"
}

@test "error: unknown top-level key lists the known ones" {
	printf 'network: nat\n' | config
	bad "claw.yml:1:1: unknown key 'network' (expected one of: name, vm, access, tools)"
}

@test "error: wrong type" {
	printf 'vm:\n  cpu: [1, 2]\n' | config
	bad "claw.yml:2:8: 'vm.cpu' must be a positive integer, not a list"
}

@test "error: a scalar where a list belongs" {
	printf 'tools:\n  packages: git\n' | config
	bad "claw.yml:2:13: 'tools.packages' must be a list, not a scalar"
}

@test "error: bad size" {
	printf 'vm:\n  ram: 8XB\n' | config
	bad "claw.yml:2:8: 'vm.ram' must be a size like 8GB (units KB, MB, GB, TB), not '8XB'"
}

@test "error: a size without a unit" {
	printf 'vm:\n  ram: 8\n' | config
	bad "claw.yml:2:8: 'vm.ram' must be a size like 8GB (units KB, MB, GB, TB), not '8'"
}

@test "error: zero and negative sizes" {
	printf 'vm:\n  disk: 0GB\n' | config
	bad "claw.yml:2:9: 'vm.disk' must be greater than zero, not '0GB'"
	printf 'vm:\n  ram: -8GB\n' | config
	bad "claw.yml:2:8: 'vm.ram' must be greater than zero, not '-8GB'"
	printf 'vm:\n  display:\n    dpi: 0\n' | config
	bad "claw.yml:3:10: 'vm.display.dpi' must be greater than zero, not '0'"
}

@test "error: usernames macOS would reject" {
	for u in '"John Smith"' root '"x;id"' '"$(id)"' '"1abc"' '"jos\u00e9"'; do
		printf 'access:\n  username: %s\n' "$u" | config
		run claw-config -c claw.yml check
		assert_failure 78
		assert_output --regexp "^claw-config: claw.yml:2:13: 'access.username' '.*' is not a name macOS accepts"
	done
}

@test "error: vnc_password over 8 characters" {
	printf 'access:\n  vnc_password: "123456789"\n' | config
	bad "claw.yml:2:17: 'access.vnc_password' is 9 characters; VNC allows at most 8"
}

@test "error: vnc password over 8 characters from the environment" {
	CLAW_VNC_PASSWORD=123456789 run claw-config check
	assert_failure 78
	assert_output "claw-config: CLAW_VNC_PASSWORD is 9 characters; VNC allows at most 8"
}

@test "error: missing ssh_key" {
	printf 'access:\n  ssh_key: ~/.ssh/nope.pub\n' | config
	bad "claw.yml:2:12: 'access.ssh_key': cannot open '$HOME/.ssh/nope.pub': No such file or directory"
}

@test "error: unreadable ssh_key" {
	[ "$(id -u)" -ne 0 ] || skip "root reads every file"
	echo "ssh-ed25519 AAAA x" >k.pub
	chmod 000 k.pub
	printf 'access:\n  ssh_key: k.pub\n' | config
	bad "claw.yml:2:12: 'access.ssh_key': cannot open '$BATS_TEST_TMPDIR/k.pub': Permission denied"
}

@test "error: ssh_key that is a private key, or not a key" {
	printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n' >id
	printf 'access:\n  ssh_key: id\n' | config
	bad "claw.yml:2:12: 'access.ssh_key': '$BATS_TEST_TMPDIR/id' is a private key; name its .pub"
	echo "hello" >k.pub
	printf 'access:\n  ssh_key: k.pub\n' | config
	bad "claw.yml:2:12: 'access.ssh_key': '$BATS_TEST_TMPDIR/k.pub' is not an OpenSSH public key"
}

@test "a readable ssh_key, relative to the config file, is taken" {
	mkdir -p conf
	ssh-keygen -q -t ed25519 -N '' -f conf/id_test
	printf 'access:\n  ssh_key: id_test.pub\n' | config conf/claw.yml
	run claw-config -c conf/claw.yml get access.ssh_key
	assert_success
	assert_output "$BATS_TEST_TMPDIR/conf/id_test.pub"
}

@test "error: YAML syntax" {
	printf 'vm:\n  cpu: 2\n ram: 8GB\n' | config
	bad "claw.yml:3:2: YAML syntax: did not find expected key while parsing a block mapping that began at line 1, column 1"
}

@test "error: an unclosed bracket or quote names the line it began on, not only where libyaml noticed" {
	printf 'vm:\n  cpu: [4\n' | config
	bad "claw.yml:3:1: YAML syntax: did not find expected ',' or ']' while parsing a flow sequence that began at line 2, column 8"
	printf 'vm:\n  macos: "15.2\n  cpu: 4\n\n' | config
	bad "claw.yml:5:1: YAML syntax: found unexpected end of stream while scanning a quoted scalar that began at line 2, column 10"
}

@test "error: duplicate keys" {
	printf 'vm:\n  cpu: 2\nvm:\n  cpu: 3\n' | config
	bad "claw.yml:3:1: duplicate key 'vm' (first at line 1)"
}

@test "error: an empty file, and one with only comments" {
	: | config
	bad "claw.yml: empty file; expected a mapping with vm, access, tools"
	printf '# nothing\n\n' | config
	bad "claw.yml: empty file; expected a mapping with vm, access, tools"
}

@test "error: a package name that is not a Homebrew or npm name" {
	printf 'tools:\n  casks: ["firefox; rm -rf ~"]\n' | config
	bad "claw.yml:2:11: 'tools.casks': 'firefox; rm -rf ~' is not a valid Homebrew name"
	printf 'tools:\n  npm_global:\n    - "$(curl evil)"\n' | config
	bad "claw.yml:3:7: 'tools.npm_global': '\$(curl evil)' is not a valid npm package name"
}

@test "error: password and password_file together" {
	printf 'access:\n  password: x\n  password_file: pw\n' | config
	bad "claw.yml:3:18: set either 'access.password' or 'access.password_file', not both"
}

@test "secrets from a file: must not be readable by others" {
	printf 'from-file\n' >pw
	chmod 644 pw
	printf 'access:\n  password_file: pw\n' | config
	bad "claw.yml:2:18: 'access.password_file': '$BATS_TEST_TMPDIR/pw' is readable by others; chmod 600 it"
	chmod 600 pw
	run claw-config -c claw.yml check
	assert_success
}

@test "the environment overrides the config's secrets, and they stay masked" {
	CLAW_PASSWORD='env pw $(x)' run claw-config get access.password
	assert_success
	assert_output "********"
}

@test "a missing config file is 66" {
	run claw-config -c nope.yml check
	assert_failure 66
	assert_output "claw-config: cannot open 'nope.yml': No such file or directory"
}

@test "a config that is not a file" {
	mkdir dir.yml
	run claw-config -c dir.yml check
	assert_failure
	assert_output --partial "claw-config: cannot read 'dir.yml'"
}

@test "usage errors are 64 and print the usage" {
	run claw-config
	assert_failure 64
	assert_line --index 0 "claw-config: missing command: check, get or dump"
	assert_line --index 1 --partial "usage: claw-config"
	run claw-config frob
	assert_failure 64
	run claw-config get
	assert_failure 64
	run claw-config --nope check
	assert_failure 64
	run claw-config -b x -c y check
	assert_failure 64
}

@test "-h prints the usage on stdout, --version the version" {
	run claw-config -h
	assert_success
	assert_line --index 0 --partial "usage: claw-config"
	run claw-config --version
	assert_output --regexp '^claw-config [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "-b reads the bundle's claw.yml" {
	make_bundle "$CLAW_HOME/VMs/dev.clawbundle"
	printf 'vm:\n  macos: "14.6"\n' >"$CLAW_HOME/VMs/dev.clawbundle/claw.yml"
	run claw-config -b dev get vm.macos
	assert_output "14.6"
	run claw-config -b nope get vm.macos
	assert_failure 66
	assert_output "claw-config: no bundle 'nope' (looked for '$CLAW_HOME/VMs/nope.clawbundle')"
}

@test "a full disk or closed stdout is an error, not silence" {
	[ -w /dev/full ] || skip "no /dev/full"
	run sh -c 'claw-config dump >/dev/full'
	assert_failure 74
	assert_output "claw-config: cannot write to standard output"
}

@test "digest: one SHA-256 that changes exactly when a named key or file does" {
	printf 'tools:\n  packages: [jq]\nvm:\n  cpu: 2\n' >d.yml
	run claw-config -c d.yml digest tools @missing.json
	assert_success
	assert_output --regexp '^[0-9a-f]{64}$'
	first=$output
	run claw-config -c d.yml digest tools @missing.json
	assert_output "$first"
	sed -i 's/cpu: 2/cpu: 1/' d.yml # not a named key: the same digest
	run claw-config -c d.yml digest tools @missing.json
	assert_output "$first"
	echo '{}' >missing.json # a file that appears is a change
	run claw-config -c d.yml digest tools @missing.json
	refute_output "$first"
	second=$output
	sed -i 's/\[jq\]/[jq, rg]/' d.yml
	run claw-config -c d.yml digest tools @missing.json
	refute_output "$second"
	# A secret changes the digest, and never shows in it.
	a=$(CLAW_PASSWORD=one claw-config -c d.yml digest access)
	b=$(CLAW_PASSWORD=two claw-config -c d.yml digest access)
	[ "$a" != "$b" ]
	run claw-config -c d.yml digest vm.nope
	assert_failure 64
	assert_line --index 0 "claw-config: unknown key 'vm.nope'"
	run claw-config -c d.yml digest
	assert_failure 64
}

@test "digest: keyed by CLAW_HOME's stamp.key, so a guess loop cannot recover a password from it" {
	printf 'access:\n  password: hunter2\n' >p.yml
	stamp=$(claw-config -c p.yml digest access)
	[ "$(stat -c %a "$CLAW_HOME/stamp.key")" = 600 ]
	[ "$(stat -c %s "$CLAW_HOME/stamp.key")" = 32 ]
	# Whoever reads the stamp but not the key guesses with a key of their own: nothing matches.
	for guess in admin password hunter2 secret; do
		printf 'access:\n  password: %s\n' "$guess" >guess.yml
		[ "$(CLAW_HOME=$BATS_TEST_TMPDIR/attacker claw-config -c guess.yml digest access)" != "$stamp" ]
	done
	# With the key the same inputs give the same digest (what the stamps compare).
	[ "$(claw-config -c p.yml digest access)" = "$stamp" ]
	# A key others can read is refused, not used.
	chmod 0644 "$CLAW_HOME/stamp.key"
	run claw-config -c p.yml digest access
	assert_failure 77
	assert_output "claw-config: '$CLAW_HOME/stamp.key' is readable by others or not yours; chmod 600 it"
}

@test "secrets: the password and the VNC password, a line each, as this user resolves them; never on a terminal" {
	printf 'access:\n  password: from-file\n  vnc_password: vnc\n' >s.yml
	run sh -c 'claw-config -c s.yml secrets | od -c'
	assert_output --partial 'f   r   o   m   -   f   i   l   e  \n   v   n   c  \n'
	run sh -c 'CLAW_PASSWORD=env-pw claw-config -c s.yml secrets | head -n 1'
	assert_output env-pw
	printf 'access:\n  password: pw\n' >n.yml
	run sh -c 'claw-config -c n.yml secrets | od -An -c'
	assert_output --regexp '^ +p +w +\\n +\\n$'
	run script -qec 'claw-config -c s.yml secrets' /dev/null
	assert_failure 64
	assert_output --partial "claw-config: secrets are printed into a pipe, never on a terminal"
}

@test "digest: comma-separated groups give a line each, the same as one call per group" {
	printf 'tools:\n  packages: [jq]\nvm:\n  cpu: 2\n' >d.yml
	echo '{"a": 1}' >in.json
	one=$(claw-config -c d.yml digest vm.cpu)
	two=$(claw-config -c d.yml digest tools @in.json)
	run claw-config -c d.yml digest vm.cpu , tools @in.json , vm.cpu
	assert_success
	assert_output "$one
$two
$one"
	# A group is not its items run together: "a , b" differs from "a b".
	run claw-config -c d.yml digest vm.cpu tools @in.json
	refute_line "$one"
	refute_line "$two"
	# An empty group is a usage error, found before anything is printed.
	for args in ", vm.cpu" "vm.cpu ," "vm.cpu , , tools" ","; do
		# shellcheck disable=SC2086 # the groups, split on purpose
		run sh -c 'claw-config -c d.yml digest "$@" 2>err.txt' sh $args
		assert_failure 64
		assert_output ""
		run head -n 1 err.txt
		assert_output "claw-config: an empty group: a ',' needs keys or @files on both sides"
	done
}

@test "limits: no anchors or aliases, at most 16 deep, at most 1 MiB; refused at once, not after minutes or gigabytes" {
	# 16 levels: the top, tools, custom, then 13 nested lists in a step are still read (and
	# refused for their type, not their depth); 17 are refused for their depth.
	python3 -c 'print("tools:\n  custom:\n    - " + "[" * 13 + "x" + "]" * 13)' >d16.yml
	run claw-config -c d16.yml check
	assert_failure 78
	assert_output "claw-config: d16.yml:3:7: 'tools.custom' entries must be a command or a mapping with name and run, not a list"
	python3 -c 'print("tools:\n  custom:\n    - " + "[" * 14 + "x" + "]" * 14)' >d17.yml
	run claw-config -c d17.yml check
	assert_failure 78
	assert_output "claw-config: d17.yml:3:20: nested more than 16 deep; claw.yml is never that deep"
	python3 -c 'print("tools:\n  packages: " + "[" * 800000)' >deep.yml
	run timeout 10 claw-config -c deep.yml check
	assert_failure 78
	assert_output --partial "nested more than 16 deep"
	printf 'tools:\n  packages: &p [jq]\n  casks: *p\n' >alias.yml
	run claw-config -c alias.yml check
	assert_failure 78
	assert_output "claw-config: alias.yml:2:13: YAML anchors and aliases ('&', '*') are not taken in claw.yml; write the value out"
	# The billion laughs: nine levels of ten aliases each, under a key claw reads.
	python3 - <<'PY'
lines = ["tools:", "  custom:", "    - &a0 [x, x, x, x, x, x, x, x, x, x]"]
for i in range(1, 9):
    lines.append("    - &a%d [%s]" % (i, ", ".join(["*a%d" % (i - 1)] * 10)))
open("laughs.yml", "w").write("\n".join(lines) + "\n")
PY
	run timeout 10 claw-config -c laughs.yml check
	assert_failure 78
	assert_output --partial "anchors and aliases"
	python3 -c 's = "tools:\n  custom:\n"; open("big.yml", "w").write(s + "#" + "x" * (1048576 - len(s) - 2) + "\n")'
	[ "$(stat -c %s big.yml)" = 1048576 ]
	run claw-config -c big.yml check
	assert_success
	echo >>big.yml
	run claw-config -c big.yml check
	assert_failure 65
	assert_output "claw-config: 'big.yml' is larger than 1048576 bytes"
}

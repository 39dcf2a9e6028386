#!/usr/bin/env bats
# A bundle is a bundle: every command that takes a NAME or -b, pointed at a directory that is not
# a bundle (., .., a victim full of someone's files by relative and absolute path, through ~, a
# link, or named x.clawbundle without the marker), refuses with its documented status and leaves
# the victim byte for byte as it was. `/` is given only inside a chroot over an overlay of /, in
# a private mount namespace, so that even a regression cannot touch this machine.

load helpers/common
load helpers/vm

setup() {
	common_setup
	W=$BATS_TEST_TMPDIR/w
	mkdir -p "$W/victim/sub" "$W/a/b" "$W/x.clawbundle/docs"
	head -c 4096 /dev/urandom >"$W/victim/data.bin"
	echo 'my notes' >"$W/victim/notes.txt"
	echo 'nested' >"$W/victim/sub/deep.txt"
	chmod 0600 "$W/victim/notes.txt"
	ln -s notes.txt "$W/victim/sub/link"
	# A victim that is named like a bundle, holding what a user might keep there.
	echo 'thesis' >"$W/x.clawbundle/docs/thesis.tex"
	echo 'todo' >"$W/x.clawbundle/todo.txt"
	ln -s victim "$W/link"
	cd "$W/a/b" || return 1
}

# Every file under $W (the working directory and its parents included): type, mode, size, target
# or digest. What a command may not change.
tree_state() {
	(cd "$W" && find . -printf '%p %y %m %s %l\n' | sort && find . -type f -exec sha256sum {} + | sort)
}

# Each command that takes a bundle, as a user would run it: creators first.
CREATORS=(
	"claw create"
	"claw-resolve latest -b"
	"claw-fetch -b"
	"claw-restore --ipsw /dev/null -b"
	"claw-bundle init"
)
OPENERS=(
	"claw rm" "claw rm -f" "claw start" "claw stop" "claw stop --force" "claw suspend" "claw ssh" "claw ip" "claw ls"
	"claw-boot -b" "claw-inject -b" "claw-inject --root $BATS_TEST_TMPDIR/tree -b" "claw-ip -b" "claw-provision -b"
	"claw-verify -b" "claw-config check -b" "claw-ls" "claw-bundle rm"
)

# expect_refusals TARGET CREATE_STATUS OPEN_STATUS: every command refuses TARGET, the tree unchanged.
expect_refusals() {
	local target=$1 cs=$2 os=$3 before after cmd
	before=$(tree_state)
	for cmd in "${CREATORS[@]}"; do
		run_as_user "$cmd" "$target"
		[ "$status" -eq "$cs" ] || fail "'$cmd $target' exited $status, not $cs: $output"
	done
	for cmd in "${OPENERS[@]}"; do
		run_as_user "$cmd" "$target"
		[ "$status" -eq "$os" ] || fail "'$cmd $target' exited $status, not $os: $output"
	done
	# claw clone never writes into an existing path, and never copies from a non-bundle.
	run_as_user "claw clone" "$target" fresh
	[ "$status" -eq 66 ] || fail "'claw clone $target fresh' exited $status: $output"
	run_as_user "claw clone fresh" "$target"
	[ "$status" -ne 0 ] || fail "'claw clone fresh $target' succeeded"
	after=$(tree_state)
	[ "$before" = "$after" ] || fail "the tree changed for '$target': $(diff <(echo "$before") <(echo "$after"))"
}

# run_as_user "CMD WORDS" TARGET [MORE]: the driver's stage programs are the fake builds for the two
# that need a hypervisor, so the bundle checks run, not the "needs macOS" refusal.
run_as_user() {
	local words
	read -r -a words <<<"$1"
	shift
	case ${words[0]} in
	claw-restore | claw-boot) words[0]=$CLAW_FAKE_BIN/${words[0]} ;;
	esac
	run "${words[@]}" "$@"
}

@test "., .., a victim by relative and absolute path, a link to it: refused, 73 to make, 66 to open; untouched" {
	for t in . .. ../../victim "$W/victim" "$W/link" "$W/victim/"; do
		expect_refusals "$t" 73 66
	done
}

@test "~ (HOME pointed at the victim) and a victim named x.clawbundle without the marker: refused, untouched" {
	export HOME=$W/victim
	expect_refusals ~ 73 66
	expect_refusals "$W/x.clawbundle" 73 66
	expect_refusals ../../x.clawbundle 73 66
	run claw rm "$W/x.clawbundle"
	assert_failure 66
	assert_output "claw: '$W/x.clawbundle' is not a claw bundle (no .clawbundle marker in it)"
	run claw-bundle rm "$W/x.clawbundle"
	assert_failure 66
	assert_output "claw-bundle: '$W/x.clawbundle' is not a claw bundle (no .clawbundle marker in it); claw rm deletes only bundles ('claw ls' marks one an earlier claw made)"
}

# in_overlay_root CMD...: CMD as root of a chroot whose / is an overlay over this machine's /, with
# a /dev of its own and a new /proc, in a private mount namespace: what it writes or removes,
# /etc included, lands in a tmpfs that goes with the namespace.
in_overlay_root() {
	local t=$BATS_TEST_TMPDIR/overlay
	mkdir -p "$t"
	unshare -m --propagation private sh -ec '
		t=$1; shift
		mount -t tmpfs tmpfs "$t"
		mkdir -p "$t/upper" "$t/work" "$t/root"
		mount -t overlay overlay -o "lowerdir=/,upperdir=$t/upper,workdir=$t/work" "$t/root"
		mount -t tmpfs tmpfs "$t/root/dev"
		mknod -m 666 "$t/root/dev/null" c 1 3
		mknod -m 444 "$t/root/dev/urandom" c 1 9
		ln -s /proc/self/fd/0 "$t/root/dev/stdin"
		mount -t proc proc "$t/root/proc"
		exec chroot "$t/root" "$@"
	' in_overlay_root "$t" "$@"
}

@test "/ is refused by every command (run only in a chroot over an overlay of /)" {
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a private mount namespace here"
	cat >"$BATS_TEST_TMPDIR/slash.sh" <<SH
cd /etc || exit 70
for cmd in "claw create /" "claw rm /" "claw rm -f /" "claw stop --force /" "claw clone / x" "claw-bundle rm /" \\
	"claw-bundle init /" "claw-resolve latest -b /" "claw-fetch -b /" "claw-inject -b /" "claw-provision -b /"; do
	\$cmd >/dev/null 2>&1
	echo "\$? \$cmd"
done
find / -mindepth 1 -maxdepth 1 | wc -l
SH
	run in_overlay_root env PATH="$CLAW_BIN:/usr/bin:/bin:/usr/sbin:/sbin" CLAW_HOME=/nonexistent HOME=/root \
		sh "$BATS_TEST_TMPDIR/slash.sh"
	assert_success
	assert_line "73 claw create /"
	assert_line "66 claw rm /"
	assert_line "66 claw rm -f /"
	assert_line "66 claw stop --force /"
	assert_line "66 claw clone / x"
	assert_line "66 claw-bundle rm /"
	assert_line "73 claw-bundle init /"
	assert_line "73 claw-resolve latest -b /"
	assert_line "73 claw-fetch -b /"
	assert_line "66 claw-inject -b /"
	assert_line "66 claw-provision -b /"
	# Nothing under / went missing in the chroot.
	[ "$(tail -n 1 <<<"$output")" -eq "$(find / -mindepth 1 -maxdepth 1 | wc -l)" ]
}

@test "a bundle named like \$HOME or \$CLAW_HOME, even with a marker, is not removed" {
	export HOME=$W/home.clawbundle CLAW_HOME=$W/claw.clawbundle
	mkdir -p "$HOME" "$CLAW_HOME/VMs"
	echo 'claw-bundle 1' >"$HOME/.clawbundle"
	echo 'claw-bundle 1' >"$CLAW_HOME/.clawbundle"
	echo precious >"$HOME/file"
	before=$(tree_state)
	run claw-bundle rm "$HOME"
	assert_failure 64
	assert_output "claw-bundle: '$HOME' is \$HOME, not a bundle; refusing to remove it"
	run claw-bundle rm "$CLAW_HOME"
	assert_failure 64
	assert_output "claw-bundle: '$CLAW_HOME' is \$CLAW_HOME, not a bundle; refusing to remove it"
	[ "$before" = "$(tree_state)" ]
}

@test "claw rm removes what the layout names, keeps and lists anyone else's files, and fails 65" {
	make_bundle dev.clawbundle
	for f in claw.yml ipsw.json disk.img aux.img config.json inject.json provision.sh manifest.json; do
		echo "$f" >"dev.clawbundle/$f"
	done
	mkdir -p dev.clawbundle/ssh dev.clawbundle/.stamps dev.clawbundle/run
	echo key >dev.clawbundle/ssh/id_ed25519
	echo digest >dev.clawbundle/.stamps/inject
	echo 'half-written' >dev.clawbundle/.config.json.123.456
	echo mine >dev.clawbundle/my-notes.txt
	mkdir dev.clawbundle/my-dir
	run claw rm ./dev.clawbundle
	assert_failure 65
	assert_output "claw-bundle: kept './dev.clawbundle': it holds files claw did not make (remove them, then rm again)
claw-bundle:   kept: my-dir
claw-bundle:   kept: my-notes.txt" || assert_output "claw-bundle: kept './dev.clawbundle': it holds files claw did not make (remove them, then rm again)
claw-bundle:   kept: my-notes.txt
claw-bundle:   kept: my-dir"
	run ls -A dev.clawbundle
	assert_output $'.clawbundle\nlock\nmy-dir\nmy-notes.txt'
	[ "$(cat dev.clawbundle/my-notes.txt)" = mine ]
	rm -r dev.clawbundle/my-notes.txt dev.clawbundle/my-dir
	run claw rm ./dev.clawbundle
	assert_success
	[ ! -e dev.clawbundle ]
}

@test "claw rm on a link removes the link only; links inside a bundle are never followed" {
	make_bundle real.clawbundle
	echo keep >real.clawbundle/config.json
	ln -s real.clawbundle alias.clawbundle
	run claw-bundle rm alias.clawbundle
	assert_success
	[ ! -L alias.clawbundle ]
	[ "$(cat real.clawbundle/config.json)" = keep ]
	# ssh/ and run/ as links to the victim: the links go, the victim stays.
	ln -s "$W/victim" real.clawbundle/ssh
	ln -s "$W/victim/notes.txt" real.clawbundle/disk.img
	before=$(cd "$W/victim" && find . -printf '%p %m %s\n' | sort)
	run claw rm ./real.clawbundle
	assert_success
	[ ! -e real.clawbundle ]
	[ "$before" = "$(cd "$W/victim" && find . -printf '%p %m %s\n' | sort)" ]
	[ "$(cat "$W/victim/notes.txt")" = 'my notes' ]
}

@test "claw rm refuses a running machine (75), a locked bundle (75), and a mount inside it" {
	make_bundle busy.clawbundle
	pretend_running busy.clawbundle
	run claw-bundle rm busy.clawbundle
	kill $!
	assert_failure 75
	assert_output --regexp "^claw-bundle: 'busy' is running \(pid [0-9]+\); stop it first$"
	(flock 9 && exec sleep 30) 9>busy.clawbundle/lock &
	locker=$!
	sleep 0.2
	run claw-bundle rm busy.clawbundle
	kill $locker
	assert_failure 75
	assert_output --regexp "^claw-bundle: bundle 'busy' is busy \(pid [0-9]+ holds its lock\)$"
	[ -f busy.clawbundle/.clawbundle ]
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a private mount namespace here"
	mkdir -p busy.clawbundle/run
	run unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs busy.clawbundle/run && echo x >busy.clawbundle/run/f && claw-bundle rm busy.clawbundle'
	assert_failure 65
	assert_output "claw-bundle: 'busy.clawbundle/run' is on another file system (a mount?); not removing it"
	# A bind mount of the user's own folder, on the same file system: the same st_dev, another mount.
	mkdir -p busy.clawbundle/snapshots
	rm -rf busy.clawbundle/run
	run unshare -m --propagation private sh -c 'mount --bind "$1" busy.clawbundle/snapshots && claw-bundle rm busy.clawbundle' _ "$W/victim"
	assert_failure 65
	assert_output "claw-bundle: 'busy.clawbundle/snapshots' is on another file system (a mount?); not removing it"
	[ "$(cat "$W/victim/notes.txt")" = 'my notes' ]
	[ -f "$W/victim/sub/deep.txt" ]
}

@test "a bundle an earlier claw made (no marker) is recognised, marked, used and removed" {
	mkdir -p "$CLAW_HOME/VMs/old.clawbundle"
	echo '{"cpuCount": 4, "memorySize": 8589934592, "os": {"version": "15.2"}, "version": 1}' \
		>"$CLAW_HOME/VMs/old.clawbundle/config.json"
	run claw ls
	assert_success
	assert_line --index 1 --regexp '^old +stopped +15\.2 +4 '
	[ "$(cat "$CLAW_HOME/VMs/old.clawbundle/.clawbundle")" = "claw-bundle 1" ]
	run claw-config -b old get vm.cpu
	assert_success
	run claw rm old
	assert_success
	[ ! -e "$CLAW_HOME/VMs/old.clawbundle" ]
}

@test "claw ls passes over a folder in VMs that only looks like a bundle" {
	make_bundle "$CLAW_HOME/VMs/good.clawbundle"
	mkdir -p "$CLAW_HOME/VMs/stray.clawbundle"
	echo mine >"$CLAW_HOME/VMs/stray.clawbundle/file"
	run claw ls
	assert_success
	assert_line "claw-ls: '$CLAW_HOME/VMs/stray.clawbundle' is not a claw bundle (no .clawbundle marker in it); claw writes only into bundles it made (skipped)"
	assert_line --regexp '^good +incomplete'
	run ls -A "$CLAW_HOME/VMs/stray.clawbundle"
	assert_output file
}

@test "a new bundle: 0700, the marker before anything else, also in an empty folder; a file there is refused" {
	run claw-bundle init new.clawbundle
	assert_success
	assert_output "new.clawbundle"
	[ "$(stat -c %a new.clawbundle)" = 700 ]
	[ "$(cat new.clawbundle/.clawbundle)" = "claw-bundle 1" ]
	mkdir empty.clawbundle
	run claw-bundle init empty.clawbundle
	assert_success
	[ -f empty.clawbundle/.clawbundle ]
	echo x >file.clawbundle
	run claw-bundle init file.clawbundle
	assert_failure 73
	assert_output "claw-bundle: 'file.clawbundle' is not a bundle (not a directory)"
	[ "$(cat file.clawbundle)" = x ]
}

@test "claw clone never writes into an existing path" {
	make_bundle src.clawbundle
	echo '{"macAddress": "ee:a7:85:09:92:39", "version": 1}' >src.clawbundle/config.json
	mkdir dst.clawbundle
	echo mine >dst.clawbundle/file
	run claw clone ./src.clawbundle ./dst.clawbundle
	assert_failure 73
	assert_output "claw: './dst.clawbundle' exists; claw clone makes a new bundle"
	run claw clone ./src.clawbundle ../../victim
	assert_failure 73
	run ls -A dst.clawbundle
	assert_output file
}

@test "an interrupted claw rm leaves a bundle that a second rm finishes" {
	make_bundle big.clawbundle
	mkdir -p big.clawbundle/snapshots/a big.clawbundle/run
	for i in $(seq 1 3000); do : >"big.clawbundle/snapshots/a/f$i"; done
	echo config >big.clawbundle/config.json
	claw-bundle rm big.clawbundle &
	pid=$!
	sleep 0.02
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" || true
	if [ -e big.clawbundle ]; then
		[ -f big.clawbundle/.clawbundle ]
		run claw-bundle rm big.clawbundle
		assert_success
	fi
	[ ! -e big.clawbundle ]
	[ -d "$W/victim" ]
}

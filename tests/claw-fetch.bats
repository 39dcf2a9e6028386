#!/usr/bin/env bats
# claw-fetch against real servers on loopback: nginx (Range, limit_rate) and the
# fault server (drops, ignored Range, lying lengths, stalls, wrong bytes).

load helpers/common
load helpers/servers
load helpers/ipsw

setup_file() {
	export WWW=$BATS_FILE_TMPDIR/www
	mkdir -p "$WWW"
	head -c 33554432 /dev/urandom >"$WWW/UniversalMac_99.1_99A1_Restore.ipsw"
	export IPSW=$WWW/UniversalMac_99.1_99A1_Restore.ipsw
	SHA256=$(sha256sum "$IPSW" | cut -c1-64)
	SHA1=$(sha1sum "$IPSW" | cut -c1-40)
	export SHA256 SHA1
	nginx_start "$WWW"
	faultd_start "$IPSW"
	export URL=$NGINX_URL/UniversalMac_99.1_99A1_Restore.ipsw
	ipswme_device "$WWW" "[{\"identifier\": \"VirtualMac2,1\", \"version\": \"99.1\", \"buildid\": \"99A1\", \"sha1sum\": \"$SHA1\", \"sha256sum\": \"$SHA256\", \"filesize\": 33554432, \"url\": \"$URL\", \"signed\": true}]"
	# The real catalog, with its newest restore pointed at the local file and its SHA-1 made this file's.
	sed -e "s|$MESU_URL|$URL|g" -e "s|$MESU_SHA1|$SHA1|g" "$MESU" >"$WWW/catalog.xml"
}

teardown_file() {
	nginx_stop
	faultd_stop
}

setup() {
	common_setup
	export CLAW_CATALOG_URL=$NGINX_URL/catalog.xml CLAW_IPSWME_URL=$NGINX_URL/v4
	CACHE=$CLAW_HOME/Cache
}

@test "a URL with its sha256: downloaded, verified, cached, its path printed" {
	run claw-fetch --sha256 "$SHA256" "$URL"
	assert_success
	assert_output "$CACHE/UniversalMac_99.1_99A1_Restore.ipsw"
	cmp "$IPSW" "$output"
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["sha256"], d["size"])' "$CACHE/UniversalMac_99.1_99A1_Restore.ipsw.digest"
	assert_output "$SHA256 33554432"
	[ ! -e "$CACHE/UniversalMac_99.1_99A1_Restore.ipsw.part" ]
}

@test "claw-resolve | claw-fetch: the ipsw.me record, cached as restore-VERSION-BUILD.ipsw" {
	run sh -c 'claw-resolve 99.1 | claw-fetch -v'
	assert_success
	assert_line "$CACHE/restore-99.1-99A1.ipsw"
	assert_line "claw-fetch: verified sha256 $SHA256"
	cmp "$IPSW" "$CACHE/restore-99.1-99A1.ipsw"
}

@test "claw-resolve latest | claw-fetch: the catalog's SHA-1 is what it checks, and it says so" {
	run sh -c 'claw-resolve latest | claw-fetch -v'
	assert_success
	assert_line "claw-fetch: verified sha1 $SHA1 (SHA-1 is all the source gives)"
	assert_line "$CACHE/restore-26.6-25G72.ipsw"
}

@test "-b: reads the bundle's ipsw.json and links restore.ipsw into the cache" {
	claw-resolve -b dev 99.1 >/dev/null
	run claw-fetch -b dev </dev/null
	assert_success
	assert_output "$CACHE/restore-99.1-99A1.ipsw"
	[ "$(readlink "$CLAW_HOME/VMs/dev.clawbundle/restore.ipsw")" = "$CACHE/restore-99.1-99A1.ipsw" ]
	run claw-fetch -b fresh </dev/null
	assert_failure 66
	assert_output --partial "run claw-resolve -b fresh first"
}

@test "a cache hit costs no rehash: the memo, keyed by size and mtime, answers" {
	claw-fetch --sha256 "$SHA256" "$URL" >/dev/null
	f=$CACHE/UniversalMac_99.1_99A1_Restore.ipsw
	# Change a byte but keep size and mtime: only a rehash could notice, and none happens.
	stamp=$(stat -c %y "$f")
	printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc status=none
	touch -d "$stamp" "$f"
	run claw-fetch -v --sha256 "$SHA256" "$URL"
	assert_success
	assert_line "claw-fetch: cache hit: '$f'"
	refute_line --partial "checking"
}

@test "a stale memo means a rehash; a file that no longer matches is fetched again" {
	claw-fetch --sha256 "$SHA256" "$URL" >/dev/null
	f=$CACHE/UniversalMac_99.1_99A1_Restore.ipsw
	printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc status=none
	run claw-fetch --sha256 "$SHA256" "$URL"
	assert_success
	assert_line "claw-fetch: '$f' does not match its sha256; downloading it again"
	cmp "$IPSW" "$f"
}

@test "-j 4: a connection that crawls does not hold up the end; the others take halves of its piece" {
	# 32 MiB in four connections is eight 4 MiB pieces; one trickles at 512 KiB/s: the first,
	# whose bytes go to the ring, or the second, whose bytes wait in its connection's stage:
	# 900 KiB of them at once, so the halves taken from it must start past what it holds there.
	for slow in /slowfrom/0/524288 /slowfrom/4194304/524288/921600; do
		at=$(echo "$slow" | cut -d/ -f3)
		rm -f slow.ipsw
		run claw-fetch -j 4 -o slow.ipsw --sha256 "$SHA256" "$FAULT_URL$slow"
		assert_success
		cmp slow.ipsw "$IPSW"
		# Once the other pieces were done, free connections asked for the rest of that piece.
		run awk -v p="$slow" -v at="$at" '$1 == p && $2 > at && $2 < at + 4194304 { print $2 }' \
			"$BATS_FILE_TMPDIR/faultd.port.log"
		[ "${#lines[@]}" -ge 2 ] || fail "halves asked for: ${lines[*]:-none}; log: $(cat "$BATS_FILE_TMPDIR/faultd.port.log")"
	done
}

@test "-j 1 and -j 8 give identical files" {
	claw-fetch -j 1 -o one.ipsw --sha256 "$SHA256" "$URL" >/dev/null
	claw-fetch -j 8 -o eight.ipsw --sha256 "$SHA256" "$URL" >/dev/null
	cmp one.ipsw "$IPSW"
	cmp eight.ipsw "$IPSW"
}

@test "resume after kill -9 mid-download" {
	for j in 1 4; do
		rm -f out.ipsw*
		claw-fetch -j "$j" -o out.ipsw --sha256 "$SHA256" "$NGINX_URL/slow/UniversalMac_99.1_99A1_Restore.ipsw" >/dev/null 2>&1 &
		pid=$!
		for _ in $(seq 1 100); do
			[ "$(stat -c %b out.ipsw.part 2>/dev/null || echo 0)" -gt 4096 ] && break
			sleep 0.02
		done
		kill -9 "$pid"
		wait "$pid" || true
		[ -e out.ipsw.part ]
		[ ! -e out.ipsw ]
		run claw-fetch -j "$j" -o out.ipsw --sha256 "$SHA256" "$NGINX_URL/slow/UniversalMac_99.1_99A1_Restore.ipsw"
		assert_success
		cmp out.ipsw "$IPSW"
		[ ! -e out.ipsw.part ]
		[ ! -e out.ipsw.part.state ]
	done
}

@test "a .part with holes and no state file (its record lost) starts over, not trusting the holes" {
	head -c 1048576 "$IPSW" >out.ipsw.part
	truncate -s 33554432 out.ipsw.part
	run claw-fetch -v -j 4 -o out.ipsw --sha256 "$SHA256" "$URL"
	assert_success
	refute_output --partial "resum"
	cmp out.ipsw "$IPSW"
}

@test "the state file is written only after the .part is synced: it never counts what a power cut takes" {
	[ "$(uname)" = Linux ] || skip "watched with strace, which is Linux's"
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		run strace -f -y -qq -e trace=fsync,rename,renameat,renameat2 -e signal=none -o trace \
			claw-fetch -j 4 -o out.ipsw --sha256 "$SHA256" "$NGINX_URL/slow/UniversalMac_99.1_99A1_Restore.ipsw"
	assert_success
	cmp out.ipsw "$IPSW"
	# Between one state file and the next, the .part was synced at least once.
	run awk '/fsync\(.*out\.ipsw\.part>/ { synced = 1 }
		/rename.*"out\.ipsw\.part\.state"/ { states++; if (!synced) bad++; synced = 0 }
		END { print states + 0, bad + 0 }' trace
	assert_output --regexp '^[1-9][0-9]* 0$'
}

@test "SIGINT and SIGTERM leave a resumable .part and say so; a second run resumes" {
	for sig in INT TERM; do
		rm -f out.ipsw*
		claw-fetch -j 1 -o out.ipsw --sha256 "$SHA256" "$NGINX_URL/slow/UniversalMac_99.1_99A1_Restore.ipsw" >/dev/null 2>err &
		pid=$!
		for _ in $(seq 1 100); do
			[ "$(stat -c %s out.ipsw.part 2>/dev/null || echo 0)" -gt 1000000 ] && break
			sleep 0.02
		done
		kill -"$sig" "$pid"
		status=0
		wait "$pid" || status=$?
		[ "$status" -eq $((128 + $(kill -l "$sig"))) ]
		run cat err
		assert_output --regexp "^claw-fetch: interrupted; [0-9.]+[KMG]?B kept in '.*out.ipsw.part', run again to resume$"
		kept=$(stat -c %s out.ipsw.part)
		[ "$kept" -gt 0 ]
		[ "$kept" -lt 33554432 ]
		run claw-fetch -j 1 -o out.ipsw --sha256 "$SHA256" "$URL"
		assert_success
		cmp out.ipsw "$IPSW"
	done
}

@test "twenty dropped connections still give the right file" {
	for j in 1 4; do
		run claw-fetch -j "$j" -o "drops$j.ipsw" --sha256 "$SHA256" "$FAULT_URL/drops/20/$j"
		assert_success
		cmp "drops$j.ipsw" "$IPSW"
	done
}

@test "a server that ignores Range never corrupts the file" {
	# A stale partial from elsewhere: the server will answer 200 with the whole file to the Range request.
	head -c 5000000 /dev/urandom >norange.ipsw.part
	run claw-fetch -v -j 1 -o norange.ipsw --sha256 "$SHA256" "$FAULT_URL/norange"
	assert_success
	cmp norange.ipsw "$IPSW"
	run claw-fetch -v -j 8 -o norange8.ipsw --sha256 "$SHA256" "$FAULT_URL/norange"
	assert_success
	assert_line "claw-fetch: the server ignored Range requests; the download used one connection"
	cmp norange8.ipsw "$IPSW"
}

@test "wrong bytes: a digest mismatch, exit 65, nothing in the cache" {
	run claw-fetch --sha256 "$SHA256" "$FAULT_URL/corrupt"
	assert_failure 65
	assert_output --regexp "^claw-fetch: sha256 mismatch for '$FAULT_URL/corrupt': got [0-9a-f]{64}, expected $SHA256 \(from the command line\)$"
	run ls -A "$CACHE"
	assert_output ""
}

@test "a server that lies about the length is refused, and nothing reaches the final name" {
	CLAW_FETCH_RETRIES=2 run claw-fetch -j 1 -o lie.ipsw --sha256 "$SHA256" "$FAULT_URL/shortlen"
	assert_failure 65
	assert_output --partial "the server says the file is 33554432 bytes; expected 33555432"
	[ ! -e lie.ipsw ]
	run claw-fetch -o size.ipsw <<<"url=$URL
size=999"
	assert_failure 65
	assert_output "claw-fetch: '$URL' is 33554432 bytes on the server; the record says 999"
	[ ! -e size.ipsw ]
}

@test "a stalled connection is dropped and resumed" {
	CLAW_FETCH_STALL=1 run claw-fetch -j 1 -o stall.ipsw --sha256 "$SHA256" "$FAULT_URL/stall/1000000"
	assert_success
	cmp stall.ipsw "$IPSW"
}

@test "a server without HEAD still works" {
	run claw-fetch -o nohead.ipsw --sha256 "$SHA256" "$FAULT_URL/nohead"
	assert_success
	cmp nohead.ipsw "$IPSW"
}

@test "no digest known: a warning, and the sha256 is still recorded" {
	run claw-fetch "$URL"
	assert_success
	assert_line "claw-fetch: no digest known for '$URL'; its sha256 is recorded, but nothing checks it"
	grep -q "$SHA256" "$CACHE/UniversalMac_99.1_99A1_Restore.ipsw.digest"
}

@test "HTTP errors and unreachable servers" {
	run claw-fetch "$FAULT_URL/status/404"
	assert_failure 69
	assert_output "claw-fetch: '$FAULT_URL/status/404': HTTP 404"
	CLAW_FETCH_RETRIES=1 run claw-fetch "$FAULT_URL/status/503"
	assert_failure 75
	port=$(free_port)
	run claw-fetch "http://127.0.0.1:$port/x.ipsw"
	assert_failure 75
	assert_output --partial "claw-fetch: cannot reach 'http://127.0.0.1:$port/x.ipsw'"
}

@test "not enough space: refused before downloading, with both numbers" {
	mkdir -p small
	mount -t tmpfs -o size=8m tmpfs small 2>/dev/null || skip "cannot mount a tmpfs here"
	run claw-fetch --cache small --sha256 "$SHA256" "$URL"
	umount small
	assert_failure 73
	assert_output --regexp "^claw-fetch: not enough space in 'small': need 32MB, [0-9.]+MB free$"
}

@test "a full disk mid-download (size unknown up front) is 73 and names the file" {
	mkdir -p small
	mount -t tmpfs -o size=8m tmpfs small 2>/dev/null || skip "cannot mount a tmpfs here"
	run claw-fetch -j 1 --cache small "$FAULT_URL/nohead" <<<""
	umount small
	assert_failure 73
	assert_output --partial "claw-fetch: cannot write 'small/nohead.part': No space left on device"
}

@test "a local file:// IPSW is verified and used where it is, never copied" {
	run sh -c "claw-resolve '$IPSW' | claw-fetch -b dev --sha256 $SHA256"
	assert_success
	assert_output "$IPSW"
	[ "$(readlink "$CLAW_HOME/VMs/dev.clawbundle/restore.ipsw")" = "$IPSW" ]
	[ ! -d "$CACHE" ] || [ -z "$(ls -A "$CACHE")" ]
	run claw-fetch --sha256 "$(printf '0%.0s' $(seq 64))" "file://$IPSW"
	assert_failure 65
}

@test "--list and --prune" {
	claw-resolve -b dev 99.1 >/dev/null
	claw-fetch -b dev </dev/null >/dev/null
	claw-fetch --sha256 "$SHA256" "$URL" >/dev/null
	head -c 100 /dev/zero >"$CACHE/left.ipsw.part"
	run claw-fetch --list
	assert_success
	assert_line --regexp '^restore-99.1-99A1.ipsw +32MB +sha256 +dev$'
	assert_line --regexp '^UniversalMac_99.1_99A1_Restore.ipsw +32MB +sha256 +-$'
	run claw-fetch --list --json
	assert_success
	run claw-fetch --prune
	assert_success
	assert_line "$CACHE/UniversalMac_99.1_99A1_Restore.ipsw"
	assert_line "$CACHE/left.ipsw.part"
	refute_line --partial "restore-99.1-99A1.ipsw"
	[ -e "$CACHE/restore-99.1-99A1.ipsw" ]
	[ ! -e "$CACHE/UniversalMac_99.1_99A1_Restore.ipsw.digest" ]
}

@test "a 2 GiB file over 8 connections and over one: offsets past 2^31, verified" {
	truncate -s 2G "$WWW/big.ipsw"
	want=$(python3 -c 'import hashlib; h=hashlib.sha256(); z=bytes(1<<24)
for _ in range(128): h.update(z)
print(h.hexdigest())')
	run claw-fetch -j 8 -o big.ipsw --sha256 "$want" "$NGINX_URL/big.ipsw"
	assert_success
	[ "$(stat -c %s big.ipsw)" = 2147483648 ]
	rm -f big.ipsw
	# One connection: every byte through the digest thread's 32 MiB ring, round it 64 times.
	run claw-fetch -j 1 -o big.ipsw --sha256 "$want" "$NGINX_URL/big.ipsw"
	rm -f "$WWW/big.ipsw"
	assert_success
	[ "$(stat -c %s big.ipsw)" = 2147483648 ]
	rm -f big.ipsw
}

@test "one connection through the ring: random bytes, wrapping it at odd offsets, byte for byte" {
	head -c $(((96 << 20) + 12345)) /dev/urandom >"$WWW/odd.ipsw"
	want=$(sha256sum "$WWW/odd.ipsw" | cut -c1-64)
	run claw-fetch -j 1 -o odd.ipsw --sha256 "$want" "$NGINX_URL/odd.ipsw"
	assert_success
	cmp odd.ipsw "$WWW/odd.ipsw"
	rm -f "$WWW/odd.ipsw" odd.ipsw
}

@test "a connection's whole blocks go to the disk past the page cache, its ragged ends through it" {
	[ "$(uname)" = Linux ] || skip "watched with strace, which is Linux's"
	dd if=/dev/zero of=probe bs=4096 count=1 oflag=direct status=none 2>/dev/null ||
		skip "this file system takes no direct writes"
	size=$(((40 << 20) + 12345))
	head -c "$size" /dev/urandom >"$WWW/direct.ipsw"
	want=$(sha256sum "$WWW/direct.ipsw" | cut -c1-64)
	# Resumed at an odd offset: the first block is ragged too. At 25 MB/s (nginx's /slow/), what
	# arrives while the prefix is hashed stays small however loaded the machine is.
	head -c $(((5 << 20) + 777)) "$WWW/direct.ipsw" >direct.ipsw.part
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		run strace -ff -y -s 0 -qq -e trace=openat,pwrite64 -e signal=none -o trace claw-fetch -j 1 \
			-o direct.ipsw --sha256 "$want" "$NGINX_URL/slow/direct.ipsw"
	assert_success
	cmp direct.ipsw "$WWW/direct.ipsw"
	rm -f "$WWW/direct.ipsw" direct.ipsw
	direct_fd=$(cat trace.* | sed -n 's/.*openat(.*"direct\.ipsw\.part", [^)]*O_DIRECT[^)]*) = \([0-9]*\)<.*/\1/p')
	[ -n "$direct_fd" ]
	# Each thread's writes to the .part: descriptor, length, offset. The writer is the thread
	# that writes past the cache; curl's thread writes what arrived while the resumed prefix
	# was being hashed, through the cache.
	for t in trace.*; do
		sed -n 's/^pwrite64(\([0-9]*\)<[^>]*direct\.ipsw\.part>, ""\.\.\., \([0-9]*\), \([0-9]*\)) = .*/\1 \2 \3/p' "$t" >"writes.${t#trace.}"
	done
	writer=$(grep -l "^$direct_fd " writes.*)
	[ "$(echo "$writer" | wc -l)" -eq 1 ]
	awk -v d="$direct_fd" -v size="$size" '
		$1 == d { direct += $2; if ($2 % 4096 || $3 % 4096) print "unaligned:", $0 }
		$1 != d { ragged++; if ($2 >= 4096 || (($2 + $3) % 4096 && $2 + $3 != size)) print "not a ragged end:", $0 }
		END { print "direct bytes:", direct, "ragged ends:", ragged }' "$writer" >sum
	cat sum
	run cat sum
	assert_output --regexp "^direct bytes: [0-9]+ ragged ends: [12]$"
	direct=$(awk '{ print $3 }' sum)
	# Every byte written once, and almost all of them past the cache.
	[ "$(cat writes.* | awk '{ n += $2 } END { print n }')" -eq $((size - (5 << 20) - 777)) ]
	[ "$direct" -ge $((30 << 20)) ]
}

@test "-j 4: bytes off the digest's frontier reach the file in large writes, not in the socket's small reads" {
	[ "$(uname)" = Linux ] || skip "watched with strace, which is Linux's"
	# The first piece trickles, so the others arrive off the digest's frontier: staged per
	# connection, written, and read back by the digest once the first piece is in.
	size=$(stat -c %s "$IPSW")
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		run strace -ff -y -s 0 -qq -e trace=pwrite64,pread64 -e signal=none -o trace claw-fetch -j 4 \
			-o many.ipsw --sha256 "$SHA256" "$FAULT_URL/slowfrom/0/4194304"
	assert_success
	cmp many.ipsw "$IPSW"
	# call, length: every read and write of the .part, by any thread.
	cat trace.* | sed -n 's/^\(p[a-z0-9]*\)([0-9]*<[^>]*many\.ipsw\.part>, ""\.\.\., \([0-9]*\), [0-9]*) = .*/\1 \2/p' >io
	awk -v size="$size" '
		$1 == "pwrite64" { written += $2; writes++ }
		$1 == "pread64" { back += $2 }
		END {
			if (written != size) print "written:", written, "of", size
			if (written / writes < 262144) print "small writes:", writes, "for", written, "bytes"
			if (back < size / 2) print "read back:", back + 0, "of", size
		}' io >wrong
	[ ! -s wrong ] || fail "$(cat wrong)"
}

@test "the file is made durable while it arrives, and once more at the end" {
	[ "$(uname)" = Linux ] || skip "watched with strace, which is Linux's"
	truncate -s 256M "$WWW/durable.ipsw"
	want=$(python3 -c 'import hashlib; print(hashlib.sha256(bytes(256 << 20)).hexdigest())')
	# (LeakSanitizer cannot run under ptrace; the other tests cover leaks.)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		run strace -f -y -qq -e trace=pwrite64,fsync -e signal=none -o trace claw-fetch -j 1 -o durable.ipsw \
			--sha256 "$want" "$NGINX_URL/durable.ipsw"
	rm -f "$WWW/durable.ipsw"
	assert_success
	# Line numbers in the .part's trace: its fsyncs (at their start), and its last write.
	grep -n 'durable.ipsw.part>' trace | grep -E '(pwrite64|fsync)\(' >part.trace
	last_write=$(grep 'pwrite64(' part.trace | tail -n 1 | cut -d: -f1)
	syncs=$(grep 'fsync(' part.trace | cut -d: -f1)
	[ -n "$last_write" ]
	[ -n "$syncs" ]
	early=0
	for n in $syncs; do [ "$n" -gt "$last_write" ] || early=$((early + 1)); done
	echo "fsyncs before the last write: $early; after it: $(($(echo "$syncs" | wc -l) - early))"
	# 64 MiB steps: at 64, 128 and 192 MiB, unless a slow flush merged some.
	[ "$early" -ge 1 ]
	[ "$(echo "$syncs" | tail -n 1)" -gt "$last_write" ]
	rm -f durable.ipsw
}

@test "usage errors are 64" {
	run claw-fetch -j 0 "$URL"
	assert_failure 64
	assert_line --index 0 "claw-fetch: -j takes 1 to 16 connections, not '0'"
	run claw-fetch --sha256 abc "$URL"
	assert_failure 64
	run claw-fetch --sha256 "$SHA256" --sha1 "$SHA1" "$URL"
	assert_failure 64
	run claw-fetch --list "$URL"
	assert_failure 64
	run claw-fetch </dev/null
	assert_failure 66
	assert_output "claw-fetch: nothing on standard input; expected a URL or a claw-resolve record"
	run claw-fetch a b
	assert_failure 64
}

@test "a malformed record on stdin is 65 and names the line" {
	run claw-fetch <<<"url=$URL
this is not a record"
	assert_failure 65
	assert_output "claw-fetch: standard input: line 2: expected key=value"
	run claw-fetch <<<'{"url": 5'
	assert_failure 65
}

@test "two fetches of one image at once (make -j2): one downloads, the other waits and finds it cached" {
	slow=$NGINX_URL/slow/UniversalMac_99.1_99A1_Restore.ipsw
	claw-fetch -v -j 1 --sha256 "$SHA256" "$slow" >out1 2>err1 &
	one=$!
	claw-fetch -v -j 1 --sha256 "$SHA256" "$slow" >out2 2>err2 &
	two=$!
	wait $one
	wait $two
	[ "$(cat out1)" = "$CACHE/UniversalMac_99.1_99A1_Restore.ipsw" ]
	[ "$(cat out2)" = "$(cat out1)" ]
	cmp "$IPSW" "$(cat out1)"
	run cat err1 err2
	assert_line --partial "waiting for another claw-fetch of '$CACHE/UniversalMac_99.1_99A1_Restore.ipsw'"
	assert_line --partial "cache hit"
}

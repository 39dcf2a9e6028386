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

# earlier_part FILE: FILE as claw-fetch's own partial, its .state beside it marking it so (the
# state of one connection: the .part's length says how far it got).
earlier_part() { printf '{"url":"%s"}' "${2:-earlier}" >"$1.state"; }

setup() {
	common_setup
	export CLAW_CATALOG_URL=$NGINX_URL/catalog.xml CLAW_IPSWME_URL=$NGINX_URL/v4
	CACHE=$CLAW_HOME/Cache
}

teardown() {
	https_stop
}

# https_start: nginx over TLS at $HTTPS_URL, with a certificate from a CA of the test's own
# ($HTTPS_CA). /tohttp redirects to the plain nginx, /tohttps to itself.
https_start() {
	local dir=$BATS_TEST_TMPDIR/https
	mkdir -p "$dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" \
		-days 2 -subj "/CN=claw test CA" 2>/dev/null || return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/srv.key" -out "$dir/srv.csr" \
		-subj "/CN=127.0.0.1" 2>/dev/null || return 1
	printf 'subjectAltName=IP:127.0.0.1\n' >"$dir/ext"
	openssl x509 -req -in "$dir/srv.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -out "$dir/srv.pem" \
		-days 2 -extfile "$dir/ext" 2>/dev/null || return 1
	local port
	port=$(free_port)
	cat >"$dir/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$port ssl;
		ssl_certificate $dir/srv.pem;
		ssl_certificate_key $dir/srv.key;
		root $WWW;
		location = /tohttp { return 302 $URL; }
		location = /tohttps { return 302 https://127.0.0.1:$port/UniversalMac_99.1_99A1_Restore.ipsw; }
	}
}
CONF
	nginx -c "$dir/nginx.conf" -p "$dir" || return 1
	wait_port "$port"
	export HTTPS_URL="https://127.0.0.1:$port" HTTPS_CA=$dir/ca.pem
}

https_stop() {
	local pid=$BATS_TEST_TMPDIR/https/nginx.pid
	[ ! -f "$pid" ] || kill "$(cat "$pid")" 2>/dev/null || true
}

# trusting_test_ca CMD...: CMD in a private mount namespace where the system's CA bundle is
# the test's CA alone (libcurl reads no variable for it), so nothing else ever trusts that CA.
trusting_test_ca() {
	unshare -m --propagation private sh -c 'mount --bind "$1" /etc/ssl/certs/ca-certificates.crt && shift && exec "$@"' \
		_ "$HTTPS_CA" "$@"
}

# user_folder DIR: a folder of the user's own files, as claw-fetch might meet one: documents,
# images of their own (an .ipsw, a .part, a file named as claw-fetch would name its download),
# a subfolder, a symbolic link, and out.ipsw, the file -o will be asked to replace.
user_folder() {
	mkdir -p "$1/sub"
	printf 'my notes\n' >"$1/notes.txt"
	head -c 300000 /dev/urandom >"$1/photo.jpg"
	head -c 200000 /dev/urandom >"$1/mine.ipsw"
	head -c 100000 /dev/urandom >"$1/film.mkv.part"
	head -c 100000 /dev/urandom >"$1/corrupt"
	head -c 4000000 /dev/urandom >"$1/out.ipsw"
	printf 'deep\n' >"$1/sub/deep.txt"
	chmod 600 "$1/notes.txt"
	ln -s notes.txt "$1/link"
}

# user_files DIR [NAME]: every file in DIR but a download's resumable pair (NAME.part and its
# state; NAME defaults to out.ipsw), with its type, mode and digest: what must be byte for
# byte as it was.
user_files() {
	local n=${2:-out.ipsw}
	(cd "$1" && find . -mindepth 1 ! -name "$n.part" ! -name "$n.part.state" | LC_ALL=C sort | while read -r f; do
		if [ -L "$f" ]; then
			echo "$f link $(readlink "$f")"
		elif [ -f "$f" ]; then
			echo "$f $(stat -c %a "$f") $(sha256sum <"$f" | cut -c1-64)"
		else
			echo "$f $(stat -c '%F %a' "$f")"
		fi
	done)
}

# pair_or_nothing DIR NAME: NAME.part and NAME.part.state both there (a resume can go on), or neither.
pair_or_nothing() {
	if [ -e "$1/$2.part" ] || [ -e "$1/$2.part.state" ]; then
		[ -f "$1/$2.part" ] || fail "$2.part.state without $2.part"
		[ -f "$1/$2.part.state" ] || fail "$2.part without $2.part.state"
	fi
}

# small_disk SIZE SCRIPT: SCRIPT (bash) in a private mount namespace with a tmpfs of SIZE at
# ./small, so that a full disk hurts nothing else and vanishes with the namespace.
small_disk() {
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a private mount namespace here"
	mkdir -p small
	unshare -m --propagation private bash -c 'mount -t tmpfs -o size="$1" tmpfs small || exit 99; eval "$2"' _ "$1" "$2"
}

@test "-o: a NAME.part that is not claw-fetch's (no .state beside it) is refused and left as it was" {
	mkdir dl
	head -c 3000000 /dev/urandom >dl/x.ipsw.part
	echo 'a browser was here' >dl/x.ipsw.part.note
	before=$(sha256sum dl/x.ipsw.part)
	run claw-fetch -o dl/x.ipsw --sha256 "$SHA256" "$URL"
	assert_failure 73
	assert_output "claw-fetch: 'dl/x.ipsw.part' is there and is not a partial download of claw-fetch's (no .state beside it); move it away"
	[ "$(sha256sum dl/x.ipsw.part)" = "$before" ]
	[ ! -e dl/x.ipsw ]
	# Its own, with its state beside it, it resumes.
	head -c 1000000 "$IPSW" >dl/y.ipsw.part
	earlier_part dl/y.ipsw.part
	run claw-fetch -j 1 -o dl/y.ipsw --sha256 "$SHA256" "$URL"
	assert_success
	cmp dl/y.ipsw "$IPSW"
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

@test "claw-resolve -b B | claw-fetch -b B: one bundle, both stages, whichever locks it first" {
	# claw-fetch starts first and opens the bundle before the record arrives: it must not
	# hold the bundle's lock while claw-resolve, which needs it, is still to print the record.
	run timeout 30 sh -c 'claw-bundle init dev >/dev/null && { sleep 1; claw-resolve -b dev 99.1; } | claw-fetch -b dev'
	assert_success
	assert_output "$CACHE/restore-99.1-99A1.ipsw"
	[ "$(readlink "$CLAW_HOME/VMs/dev.clawbundle/restore.ipsw")" = "$CACHE/restore-99.1-99A1.ipsw" ]
	# And the bundle made by whichever of the two comes first.
	run timeout 30 sh -c '{ sleep 1; claw-resolve -b new 99.1; } | claw-fetch -b new'
	assert_success
	[ -f "$CLAW_HOME/VMs/new.clawbundle/ipsw.json" ]
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
	assert_line "claw-fetch: '$f' does not match its sha256; downloading it again (it stays until the new one is verified)"
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

@test "a .part in the cache with holes and no state file (its record lost) starts over, not trusting the holes" {
	# In the cache, claw's own folder; a stateless .part elsewhere is someone else's, refused.
	mkdir -p "$CACHE"
	part=$CACHE/UniversalMac_99.1_99A1_Restore.ipsw.part
	head -c 1048576 "$IPSW" >"$part"
	truncate -s 33554432 "$part"
	run claw-fetch -v -j 4 --sha256 "$SHA256" "$URL"
	assert_success
	refute_output --partial "resum"
	cmp "$CACHE/UniversalMac_99.1_99A1_Restore.ipsw" "$IPSW"
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
	earlier_part norange.ipsw.part
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
	run small_disk 8m 'claw-fetch --cache small --sha256 "$SHA256" "$URL"; echo "status $?"; ls -A small'
	assert_line --index 0 --regexp "^claw-fetch: not enough space in 'small': need 32MB, [0-9.]+MB free$"
	assert_line --index 1 "status 73"
	[ "${#lines[@]}" -eq 2 ]
}

@test "a size the server gives only with its GET (no HEAD) is checked for room before a byte is written" {
	run small_disk 8m 'claw-fetch -j 1 --cache small "$FAULT_URL/nohead" </dev/null; echo "status $?"; ls -A small'
	assert_line --index 0 "claw-fetch: no digest known for '$FAULT_URL/nohead'; its sha256 is recorded, but nothing checks it"
	assert_line --index 1 --regexp "^claw-fetch: not enough space in 'small': need 32MB, [0-9.]+MB free$"
	assert_line --index 2 "status 73"
	[ "${#lines[@]}" -eq 3 ]
}

@test "a full disk mid-download (no size said at all) is 73, names the file, and leaves a resumable pair" {
	run small_disk 8m 'claw-fetch -j 1 --cache small "$FAULT_URL/nolength" </dev/null; echo "status $?"; ls -A small'
	assert_line "claw-fetch: cannot write 'small/nolength.part': No space left on device"
	assert_line "status 73"
	assert_line "nolength.part"
	assert_line "nolength.part.state"
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
	# A partial claw-fetch left (interrupted: a .part and its state), and one of somebody else's.
	cp "$IPSW" "$WWW/left.ipsw"
	claw-fetch -j 1 --sha256 "$SHA256" "$NGINX_URL/slow/left.ipsw" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do
		[ "$(stat -c %s "$CACHE/left.ipsw.part" 2>/dev/null || echo 0)" -gt 1000000 ] && break
		sleep 0.02
	done
	kill -INT "$pid"
	wait "$pid" || true
	rm -f "$WWW/left.ipsw"
	[ -e "$CACHE/left.ipsw.part.state" ]
	head -c 100 /dev/zero >"$CACHE/other.ipsw.part"
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
	assert_line "claw-fetch: left alone, not made by claw-fetch: '$CACHE/other.ipsw.part'"
	refute_line --partial "restore-99.1-99A1.ipsw"
	[ -e "$CACHE/restore-99.1-99A1.ipsw" ]
	[ -e "$CACHE/other.ipsw.part" ]
	[ ! -e "$CACHE/UniversalMac_99.1_99A1_Restore.ipsw.digest" ]
	[ ! -e "$CACHE/left.ipsw.part.state" ]
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
	earlier_part direct.ipsw.part
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

# ---- what claw-fetch may write and remove: -o, --cache and --prune among the user's files ----

@test "-o onto a file of the user's: replaced only by a verified download, with no memo beside it" {
	user_folder u
	before=$(user_files u)
	run claw-fetch -o u/out.ipsw --sha256 "$SHA256" "$URL"
	assert_success
	assert_output "claw-fetch: 'u/out.ipsw' does not match its sha256; downloading it again (it stays until the new one is verified)
$BATS_TEST_TMPDIR/u/out.ipsw"
	cmp u/out.ipsw "$IPSW"
	LC_ALL=C run ls -A u
	assert_output "$(printf '%s\n' corrupt film.mkv.part link mine.ipsw notes.txt out.ipsw photo.jpg sub)"
	# Everything else as it was; out.ipsw is claw-fetch's now.
	[ "$(user_files u | grep -v '^./out.ipsw ')" = "$(echo "$before" | grep -v '^./out.ipsw ')" ]
}

@test "-o onto a file of the user's: a refused connection, a wrong digest, an interrupt leave every file as it was" {
	user_folder u
	before=$(user_files u)
	port=$(free_port)
	run claw-fetch -o u/out.ipsw --sha256 "$SHA256" "http://127.0.0.1:$port/x.ipsw"
	assert_failure 75
	[ "$(user_files u)" = "$before" ]
	[ ! -e u/out.ipsw.part ]
	pair_or_nothing u out.ipsw
	run claw-fetch -o u/out.ipsw --sha256 "$SHA256" "$FAULT_URL/corrupt"
	assert_failure 65
	[ "$(user_files u)" = "$before" ]
	[ ! -e u/out.ipsw.part ]
	[ ! -e u/out.ipsw.part.state ]
	for j in 1 4; do
		claw-fetch -j "$j" -o u/out.ipsw --sha256 "$SHA256" "$NGINX_URL/slow/UniversalMac_99.1_99A1_Restore.ipsw" 2>err &
		pid=$!
		for _ in $(seq 1 100); do
			[ "$(stat -c %b u/out.ipsw.part 2>/dev/null || echo 0)" -gt 2048 ] && break
			sleep 0.02
		done
		kill -INT "$pid"
		status=0
		wait "$pid" || status=$?
		[ "$status" -eq 130 ]
		[ "$(user_files u)" = "$before" ]
		[ -e u/out.ipsw.part ]
		pair_or_nothing u out.ipsw
		rm u/out.ipsw.part u/out.ipsw.part.state
	done
	# The same run to its end: now, and only now, out.ipsw is replaced.
	run claw-fetch -o u/out.ipsw --sha256 "$SHA256" "$URL"
	assert_success
	cmp u/out.ipsw "$IPSW"
}

@test "-o onto a full disk: refused up front, stopped by a full disk, or by room that others took; the user's files as they were" {
	export BEFORE=$BATS_TEST_TMPDIR/before AFTER=$BATS_TEST_TMPDIR/after
	# Each script fills ./small (a tmpfs) with the user's files, then fetches into it.
	prep='mkdir small/u && cp -a "$BATS_TEST_TMPDIR"/seed/. small/u/ && (cd "$BATS_TEST_TMPDIR" && user_files small/u) >"$BEFORE"'
	user_folder seed
	export -f user_files
	export BATS_TEST_TMPDIR
	# 32 MiB, its size known from HEAD, on 20 MiB: refused before a byte is written.
	run small_disk 20m "$prep"'; claw-fetch -o small/u/out.ipsw --sha256 "$SHA256" "$URL"; echo "status $?"
		user_files small/u >"$AFTER"; ls -A small/u | grep "out.ipsw.part" || true'
	assert_line --index 0 --partial "'small/u/out.ipsw' does not match its sha256"
	assert_line --index 1 --regexp "^claw-fetch: not enough space in 'small/u': need 32MB, [0-9.]+MB free$"
	assert_line --index 2 "status 73"
	[ "${#lines[@]}" -eq 3 ]
	[ "$(cat "$AFTER")" = "$(cat "$BEFORE")" ]
	# No size said at all: the disk fills mid-way.
	run small_disk 20m "$prep"'; claw-fetch -j 1 -o small/u/out.ipsw --sha256 "$SHA256" "$FAULT_URL/nolength"; echo "status $?"
		user_files small/u >"$AFTER"; ls -A small/u | grep "out.ipsw.part" || true'
	assert_line --index 1 "claw-fetch: cannot write 'small/u/out.ipsw.part': No space left on device"
	assert_line --index 2 "status 73"
	assert_line --index 3 "out.ipsw.part"
	assert_line --index 4 "out.ipsw.part.state"
	[ "$(cat "$AFTER")" = "$(cat "$BEFORE")" ]
	# Room enough when it starts; then something else takes it while the bytes trickle in.
	run small_disk 44m "$prep"'; claw-fetch -j 1 -o small/u/out.ipsw --sha256 "$SHA256" "$FAULT_URL/slowfrom/0/2097152" &
		while [ "$(stat -c %s small/u/out.ipsw.part 2>/dev/null || echo 0)" -lt 1000000 ]; do sleep 0.05; done
		head -c 27000000 /dev/zero >small/filler; wait $!; echo "status $?"
		user_files small/u >"$AFTER"; ls -A small/u | grep "out.ipsw.part" || true'
	assert_line --index 1 --regexp "^claw-fetch: not enough space left in 'small/u': need [0-9.]+MB more, [0-9.]+MB free$"
	assert_line --index 2 "status 73"
	assert_line --index 3 "out.ipsw.part"
	assert_line --index 4 "out.ipsw.part.state"
	[ "$(cat "$AFTER")" = "$(cat "$BEFORE")" ]
}

@test "--cache pointed at the user's folder: a failed download leaves the user's file of the same name as it was" {
	user_folder u
	before=$(user_files u corrupt)
	# The fault server's /corrupt would be cached as 'corrupt', a name the user's folder holds.
	run claw-fetch --cache u --sha256 "$SHA256" "$FAULT_URL/corrupt"
	assert_failure 65
	[ "$(user_files u corrupt)" = "$before" ]
	[ ! -e u/corrupt.digest ]
	[ ! -e u/corrupt.part ]
	# And a success there adds only the image and its memo.
	run claw-fetch --cache u --sha256 "$SHA256" "$URL"
	assert_success
	[ "$(user_files u | grep -v 'UniversalMac_99.1_99A1_Restore.ipsw')" = "$before" ]
	[ -e u/UniversalMac_99.1_99A1_Restore.ipsw.digest ]
}

@test "--prune removes only what claw-fetch made, lists the rest, and refuses a folder where it made nothing" {
	user_folder u
	before=$(user_files u)
	run claw-fetch --prune --cache u
	assert_failure 64
	assert_output "claw-fetch: 'u' holds nothing claw-fetch made (no .digest memo, no .part.state): not a cache to prune"
	[ "$(user_files u)" = "$before" ]
	# The user's own file there that matches the image is used, but not adopted: no memo.
	cp "$IPSW" u/UniversalMac_99.1_99A1_Restore.ipsw
	run claw-fetch --cache u --sha256 "$SHA256" "$URL"
	assert_success
	[ ! -e u/UniversalMac_99.1_99A1_Restore.ipsw.digest ]
	before=$(user_files u)
	# One of claw-fetch's own there now: an image with its memo.
	printf 'url=%s\nversion=99.1\nbuild=99A1\nsha256=%s\n' "$URL" "$SHA256" | claw-fetch --cache u >/dev/null
	[ -e u/restore-99.1-99A1.ipsw.digest ]
	run claw-fetch --prune --cache u
	assert_success
	assert_output --partial "claw-fetch: left alone, not made by claw-fetch: 'u/mine.ipsw'"
	assert_output --partial "claw-fetch: left alone, not made by claw-fetch: 'u/film.mkv.part'"
	assert_output --partial "claw-fetch: left alone, not made by claw-fetch: 'u/UniversalMac_99.1_99A1_Restore.ipsw'"
	assert_output --partial "u/restore-99.1-99A1.ipsw"
	refute_output --partial "left alone, not made by claw-fetch: 'u/restore-99.1-99A1.ipsw"
	[ "$(user_files u)" = "$before" ]
	# The default cache may be pruned with nothing of claw's in it: the same rules, nothing removed.
	mkdir -p "$CACHE"
	cp u/mine.ipsw u/notes.txt "$CACHE"/
	run claw-fetch --prune
	assert_success
	assert_output --partial "left alone, not made by claw-fetch: '$CACHE/mine.ipsw'"
	cmp u/mine.ipsw "$CACHE/mine.ipsw"
}

@test "-o refuses a directory, a symbolic link and a device, before anything is written" {
	mkdir d
	ln -s "$BATS_TEST_TMPDIR/elsewhere.ipsw" link.ipsw
	for target in d d/ link.ipsw /dev/null; do
		run claw-fetch -o "$target" --sha256 "$SHA256" "$URL"
		assert_failure 73
		[ "${#lines[@]}" -eq 1 ]
	done
	assert_output "claw-fetch: -o '/dev/null' is a device or other special file; claw-fetch replaces only a regular file"
	run claw-fetch -o link.ipsw --sha256 "$SHA256" "$URL"
	assert_output "claw-fetch: -o 'link.ipsw' is a symbolic link; claw-fetch replaces only a regular file"
	[ ! -e elsewhere.ipsw ]
	LC_ALL=C run ls -A
	assert_output "$(printf '%s\n' d home link.ipsw)"
}

# ---- HTTP as servers really send it ----

@test "a 206 that runs to the end of the file: each piece keeps its bytes, and the file is whole" {
	run claw-fetch -v -j 4 -o toend.ipsw --sha256 "$SHA256" "$FAULT_URL/toend"
	assert_success
	cmp toend.ipsw "$IPSW"
	refute_output --partial "more bytes than the file holds"
	refute_output --partial "retrying"
	[ ! -e toend.ipsw.part ]
	[ ! -e toend.ipsw.part.state ]
}

@test "a 206 from further on than asked: its bytes are taken there, the gap fetched apart" {
	run claw-fetch -v -j 4 -o later.ipsw --sha256 "$SHA256" "$FAULT_URL/elsewhere/1048576"
	assert_success
	cmp later.ipsw "$IPSW"
	# The piece at 4 MiB was answered from 5 MiB; the megabyte between was asked for again.
	run awk '$1 == "/elsewhere/1048576" && $2 == 4194304 { print $3 }' "$BATS_FILE_TMPDIR/faultd.port.log"
	assert_line 8388607
	assert_line 5242879
}

@test "a 206 from before what was asked (bytes already written): dropped and asked again" {
	run claw-fetch -v -j 4 -o earlier.ipsw --sha256 "$SHA256" "$FAULT_URL/elsewhere/-1048576"
	assert_success
	cmp earlier.ipsw "$IPSW"
	assert_output --partial "a piece that starts elsewhere than asked; retrying"
}

@test "a Content-Range that lies about the file's size is refused (65), and what came is kept to resume" {
	CLAW_FETCH_RETRIES=2 run claw-fetch -j 4 -o lies.ipsw --sha256 "$SHA256" "$FAULT_URL/liesize"
	assert_failure 65
	assert_output --partial "'$FAULT_URL/liesize': the server says the file is 33555432 bytes; expected 33554432"
	[ ! -e lies.ipsw ]
	pair_or_nothing . lies.ipsw
}

@test "a 416 for a range inside the file is asked again; one that says the file shrank is 65" {
	run claw-fetch -v -j 4 -o ranged.ipsw --sha256 "$SHA256" "$FAULT_URL/416/3"
	assert_success
	cmp ranged.ipsw "$IPSW"
	assert_output --partial "HTTP 416, nothing at the range asked for; retrying"
	CLAW_FETCH_RETRIES=2 run claw-fetch -j 4 -o shrunk.ipsw --sha256 "$SHA256" "$FAULT_URL/416size"
	assert_failure 65
	assert_output --partial "the server says the file is 33553432 bytes; expected 33554432"
	[ ! -e shrunk.ipsw ]
	pair_or_nothing . shrunk.ipsw
}

@test "a 416 to a resume of a file whose size nobody said: the .part held it all, or more than all" {
	# No size from HEAD or a record; a .part with every byte; the server has nothing past it.
	cp "$IPSW" whole.ipsw.part
	earlier_part whole.ipsw.part
	run claw-fetch -v -o whole.ipsw --sha256 "$SHA256" "$FAULT_URL/nohead/whole" </dev/null
	assert_success
	assert_line "claw-fetch: resumed what an earlier run left in 'whole.ipsw.part'"
	cmp whole.ipsw "$IPSW"
	run awk '$1 == "/nohead/whole" { print $2 }' "$BATS_FILE_TMPDIR/faultd.port.log"
	assert_output 33554432
	# A .part longer than the file the server says it has: from the first byte again.
	{ cat "$IPSW"; head -c 1000 /dev/zero; } >long.ipsw.part
	earlier_part long.ipsw.part
	run claw-fetch -v -o long.ipsw --sha256 "$SHA256" "$FAULT_URL/nohead/long" </dev/null
	assert_success
	cmp long.ipsw "$IPSW"
}

@test "a redirect to another host is followed by every connection; credentials stay behind" {
	run claw-fetch -j 4 -o moved.ipsw --sha256 "$SHA256" "http://user:secret@127.0.0.1:${FAULT_URL##*:}/redirect/localhost/ok/moved"
	assert_success
	cmp moved.ipsw "$IPSW"
	run grep -c '^/ok/moved ' "$BATS_FILE_TMPDIR/faultd.port.log"
	[ "$output" -ge 4 ]
	# The first hop got the user and password (the user gave them for it); the other host never did.
	run grep '^/ok/moved .* auth$' "$BATS_FILE_TMPDIR/faultd.port.log"
	assert_output ""
	run grep -c '^/redirect/localhost/ok/moved .* auth$' "$BATS_FILE_TMPDIR/faultd.port.log"
	[ "$output" -ge 1 ]
}

@test "a redirect to file://, ftp:// or another scheme is refused (69), and leaves nothing" {
	secret=$BATS_TEST_TMPDIR/secret
	printf 'not for the cache\n' >"$secret"
	for to in "file://$secret" "FILE://$secret" "ftp://127.0.0.1/x.ipsw" "gopher://127.0.0.1/x"; do
		enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$to")
		run claw-fetch -o moved.ipsw "$FAULT_URL/redirectto/$enc"
		assert_failure 69
		assert_output --partial "redirects to"
		assert_output --partial "refused (only http and https, and never from https to http)"
		[ ! -e moved.ipsw ]
		[ ! -e moved.ipsw.part ]
	done
}

@test "a slow drip is a stall: dropped and resumed" {
	CLAW_FETCH_STALL=2 run claw-fetch -v -j 1 -o drip.ipsw --sha256 "$SHA256" "$FAULT_URL/drip/1000000/100"
	assert_success
	cmp drip.ipsw "$IPSW"
	assert_output --partial "retrying"
}

@test "a connection that hangs after its headers is dropped and resumed" {
	CLAW_FETCH_STALL=1 run claw-fetch -v -j 1 -o hang.ipsw --sha256 "$SHA256" "$FAULT_URL/hang"
	assert_success
	cmp hang.ipsw "$IPSW"
	assert_output --partial "retrying"
}

@test "a digest mismatch leaves neither .part nor .part.state; every other failure a resumable pair or nothing" {
	for j in 1 4; do
		run claw-fetch -j "$j" -o bad.ipsw --sha256 "$SHA256" "$FAULT_URL/corrupt"
		assert_failure 65
		[ ! -e bad.ipsw.part ]
		[ ! -e bad.ipsw.part.state ]
		CLAW_FETCH_RETRIES=1 run claw-fetch -j "$j" -o gone.ipsw --sha256 "$SHA256" "$FAULT_URL/status/503"
		assert_failure 75
		pair_or_nothing . gone.ipsw
		# A server whose lengths disagree: with one connection, after the first answer's bytes.
		CLAW_FETCH_RETRIES=1 run claw-fetch -j "$j" -o short.ipsw --sha256 "$SHA256" "$FAULT_URL/shortlen"
		assert_failure 65
		pair_or_nothing . short.ipsw
	done
	[ -e short.ipsw.part ]
}

# ---- what a transfer may reach, and how much it may write ----

@test "only http, https and file:// URLs; FILE:// in any case is a local file, used where it is, never copied" {
	for url in "ftp://127.0.0.1/x.ipsw" "dict://127.0.0.1/x" "gopher://127.0.0.1/x" "x.ipsw" "/tmp/x.ipsw"; do
		run claw-fetch "$url"
		assert_failure 64
		assert_output "claw-fetch: '$url': claw-fetch takes http, https and file:// URLs"
	done
	cp "$IPSW" private.ipsw
	chmod 600 private.ipsw
	for scheme in FILE File file; do
		run claw-fetch --sha256 "$SHA256" "$scheme://$BATS_TEST_TMPDIR/private.ipsw"
		assert_success
		assert_output "$BATS_TEST_TMPDIR/private.ipsw"
	done
	run claw-fetch --sha256 "$SHA256" "file://localhost$BATS_TEST_TMPDIR/private.ipsw"
	assert_success
	assert_output "$BATS_TEST_TMPDIR/private.ipsw"
	run claw-fetch "file://otherhost/private.ipsw"
	assert_failure 64
	[ ! -d "$CACHE" ] || [ -z "$(ls -A "$CACHE")" ]
	[ "$(stat -c %a private.ipsw)" = 600 ]
}

@test "a user and password in the URL reach no file of claw-fetch's, nor any message" {
	url="http://someone:hunter2@127.0.0.1:${FAULT_URL##*:}"
	# Interrupted: the .part's state.
	claw-fetch -v -j 4 --sha256 "$SHA256" "$url/slow/4194304" >/dev/null 2>err &
	pid=$!
	for _ in $(seq 1 200); do
		[ "$(stat -c %b "$CACHE/4194304.part" 2>/dev/null || echo 0)" -gt 4096 ] && break
		sleep 0.05
	done
	kill -INT "$pid"
	wait "$pid" || true
	grep -q '"url":"http://127.0.0.1:[0-9]*/slow/4194304"' "$CACHE/4194304.part.state"
	# Resumed (the state's URL, without the password, still matches), finished: the memo.
	run claw-fetch -v -j 4 --sha256 "$SHA256" "$url/slow/4194304"
	assert_success
	assert_output --partial "resum"
	assert_line "$CACHE/4194304"
	grep -q '"url": "http://127.0.0.1:[0-9]*/slow/4194304"' "$CACHE/4194304.digest"
	# Failures name the URL too.
	port=$(free_port)
	run claw-fetch "http://someone:hunter2@127.0.0.1:$port/x.ipsw"
	assert_failure 75
	assert_output --partial "'http://127.0.0.1:$port/x.ipsw'"
	run claw-fetch -o c.ipsw --sha256 "$SHA256" "$url/corrupt"
	assert_failure 65
	run claw-fetch "http://someone:hunter2@127.0.0.1:$port"
	assert_failure 75
	[ ! -e "$CACHE/someone_hunter2_127.0.0.1_$port" ]
	run grep -rl hunter2 "$BATS_TEST_TMPDIR" --exclude=err
	assert_output ""
	run grep -c hunter2 err
	assert_output 0
}

@test "--max-size: a file larger than the cap is refused before a byte is written; one with no size stops at it" {
	run claw-fetch --max-size 16MB -o big.ipsw --sha256 "$SHA256" "$URL"
	assert_failure 73
	assert_output "claw-fetch: '$URL' is 32MB, more than the 16MB --max-size allows"
	[ ! -e big.ipsw.part ]
	# The size learnt from the GET (no HEAD): refused at its first byte, nothing kept.
	run claw-fetch --max-size 16777216 -o big.ipsw --sha256 "$SHA256" "$FAULT_URL/nohead"
	assert_failure 73
	assert_output "claw-fetch: '$FAULT_URL/nohead' is 32MB, more than the 16MB --max-size allows"
	[ ! -e big.ipsw.part ]
	[ ! -e big.ipsw.part.state ]
	# A body that never ends, with no size: stopped at the cap, nothing kept.
	run timeout 60 claw-fetch --max-size 4mb -o endless.ipsw "$FAULT_URL/endless"
	assert_failure 73
	assert_output --partial "claw-fetch: '$FAULT_URL/endless' sent more than 4MB and never said its size; stopped (--max-size)"
	[ ! -e endless.ipsw.part ]
	[ ! -e endless.ipsw.part.state ]
	# Within the cap, and with the same cap, all goes well.
	run claw-fetch --max-size 32MB -o fits.ipsw --sha256 "$SHA256" "$FAULT_URL/nolength"
	assert_success
	cmp fits.ipsw "$IPSW"
	run claw-fetch --max-size 0 "$URL"
	assert_failure 64
	run claw-fetch --max-size 12XB "$URL"
	assert_failure 64
	assert_line --index 0 "claw-fetch: --max-size takes a size in bytes, or with KB, MB, GB or TB; not '12XB'"
}

@test "https: downloaded and verified; a redirect to https is followed, one down to http is refused (69)" {
	unshare -m --propagation private true 2>/dev/null || skip "cannot make a private mount namespace here"
	[ -f /etc/ssl/certs/ca-certificates.crt ] || skip "no system CA bundle to stand in for"
	https_start || skip "cannot start nginx with TLS here"
	run trusting_test_ca claw-fetch -j 2 -o tls.ipsw --sha256 "$SHA256" "$HTTPS_URL/UniversalMac_99.1_99A1_Restore.ipsw"
	assert_success
	cmp tls.ipsw "$IPSW"
	run trusting_test_ca claw-fetch -j 2 -o up.ipsw --sha256 "$SHA256" "$HTTPS_URL/tohttps"
	assert_success
	cmp up.ipsw "$IPSW"
	# From http up to https is fine too.
	enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$HTTPS_URL/tohttps")
	run trusting_test_ca claw-fetch -j 2 -o upgrade.ipsw --sha256 "$SHA256" "$FAULT_URL/redirectto/$enc"
	assert_success
	cmp upgrade.ipsw "$IPSW"
	run trusting_test_ca claw-fetch -j 2 -o down.ipsw --sha256 "$SHA256" "$HTTPS_URL/tohttp"
	assert_failure 69
	assert_output "claw-fetch: '$HTTPS_URL/tohttp' redirects to '$URL': refused (only http and https, and never from https to http)"
	[ ! -e down.ipsw ]
	[ ! -e down.ipsw.part ]
}

# The engine's sink, as claw-pull decodes a blob while it arrives (tests/unit/sinkfetch.c).
@test "a sink gets every byte once and in order: a drop continued at the byte, an ignored Range started over, a misplaced 206 asked again" {
	for path in ok drops/3/11 dropnorange/1/5 dropelsewhere/1048576; do
		out=out-${path//\//-}
		run "$CLAW_UNIT/sinkfetch" "$FAULT_URL/$path" 33554432 "$out"
		assert_success
		restarts=0
		[ "$path" != dropnorange/1/5 ] || restarts=1
		assert_output "$SHA256 restarts=$restarts part=none"
		cmp "$out" "$IPSW"
	done
	# The 206 from elsewhere was asked for again, not taken: a sink takes bytes in order only.
	run awk '$1 == "/dropelsewhere/1048576" { n++ } END { print n }' "$BATS_FILE_TMPDIR/faultd.port.log"
	assert_output 3
}

@test "a sink that refuses the stream: its message, the digest of all the bytes all the same, nothing left" {
	FAIL_AT=1000 run "$CLAW_UNIT/sinkfetch" "$FAULT_URL/ok" 33554432 refused
	assert_failure 65
	assert_line --index 0 "$SHA256 restarts=0 part=none"
	assert_line --index 1 "sinkfetch: the sink refuses byte 1000"
	# A sink that cannot write (a full disk): the download stops there, nothing more is hashed.
	FAIL_AT=1000 FAIL_CODE=74 run "$CLAW_UNIT/sinkfetch" "$FAULT_URL/ok" 33554432 cannot-write
	assert_failure 74
	assert_line --index 0 "- restarts=0 part=none"
	assert_line --index 1 "sinkfetch: the sink refuses byte 1000"
	# Bytes that are not the file: the digest says so, for the caller to tell.
	run "$CLAW_UNIT/sinkfetch" "$FAULT_URL/corrupt" 33554432 corrupt
	assert_success
	refute_output --partial "$SHA256"
	assert_output --regexp '^[0-9a-f]{64} restarts=0 part=none$'
	# A server that never answers: the transfer's own error, nothing left.
	run "$CLAW_UNIT/sinkfetch" "$FAULT_URL/status/404" 33554432 missing
	assert_failure
	assert_line --index 0 "- restarts=0 part=none"
}


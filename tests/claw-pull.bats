#!/usr/bin/env bats
# claw-push and claw-pull against a real registry on loopback: Debian's docker-registry
# (the CNCF distribution registry), plain, and over TLS (a test CA) with htpasswd auth.

load helpers/common
load helpers/servers

setup_file() {
	registry_start plain
	export PLAIN=$REG PLAIN_DIR=$REG_DIR
	registry_start secure tls auth
	export SECURE=$REG SECURE_DIR=$REG_DIR SECURE_CA=$REG_CA SECURE_USER=$REG_USER SECURE_PASSWORD=$REG_PASSWORD
	registry_start bearer token
	export BEARER=$REG BEARER_DIR=$REG_DIR BEARER_USER=$REG_USER BEARER_PASSWORD=$REG_PASSWORD
	# Chunks of 4 MiB instead of tart's 512, so that a small disk has several.
	export CLAW_PUSH_CHUNK=4194304
	source_bundle "$BATS_FILE_TMPDIR/src.clawbundle" 20
	claw-push --insecure -b "$BATS_FILE_TMPDIR/src.clawbundle" "$PLAIN/claw/mac:15" >"$BATS_FILE_TMPDIR/pushed"
}

teardown_file() {
	registry_stop "$PLAIN_DIR"
	registry_stop "$SECURE_DIR"
	registry_stop "$BEARER_DIR"
}

setup() {
	common_setup
	unset CLAW_REGISTRY_USER CLAW_REGISTRY_PASSWORD CURL_CA_BUNDLE DOCKER_CONFIG
	SRC=$BATS_FILE_TMPDIR/src.clawbundle
	REG_CA=$SECURE_CA REG_USER=$SECURE_USER REG_PASSWORD=$SECURE_PASSWORD
}

# source_bundle PATH MB: a stopped machine as claw-restore leaves it: config.json, aux.img, and a
# sparse disk of MB MiB with random bytes, text, zeros written out, and holes.
source_bundle() {
	make_bundle "$1"
	cat >"$1/config.json" <<'JSON'
{"version":1,"hardwareModel":"YWJjZA==","machineIdentifier":"ZWZnaA==","macAddress":"ee:a7:85:09:92:39","cpuCount":4,"memorySize":8589934592,"display":{"width":1920,"height":1080,"ppi":144},"diskFormat":"raw","diskSize":0,"os":{"version":"15.3","build":"24D60"}}
JSON
	python3 - "$1" "$2" <<'PY'
import os, sys
d, mb = sys.argv[1], int(sys.argv[2])
with open(d + "/disk.img", "wb") as f:
    f.truncate(mb << 20)
    f.seek(0); f.write(os.urandom(3 << 20))
    f.seek(6 << 20); f.write((b"a line of text in the guest's disk\n" * 200000)[:4 << 20])
    f.seek(11 << 20); f.write(bytes(1 << 20))  # zeros written out: a hole on the pulled side
    f.seek((mb - 5) * (1 << 20) + 5000); f.write(os.urandom(10000))
with open(d + "/aux.img", "wb") as f:
    f.write(os.urandom(1 << 20))
PY
	chmod 600 "$1/disk.img" "$1/aux.img"
}

allocated_kb() { du -k "$1" | cut -f1; }

# put_blob REGISTRY REPO FILE: upload FILE as a blob with curl; prints its digest.
put_blob() {
	local digest loc
	digest=sha256:$(sha256sum "$3" | cut -c1-64)
	loc=$(curl -fsS -X POST -D - -o /dev/null "http://$1/v2/$2/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //ip')
	case $loc in http*) ;; *) loc=http://$1$loc ;; esac
	curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$3" "$loc&digest=$digest" >/dev/null
	echo "$digest"
}

# put_manifest REGISTRY REPO TAG FILE [TYPE]
put_manifest() {
	curl -fsS -X PUT -H "Content-Type: ${5:-application/vnd.oci.image.manifest.v1+json}" --data-binary "@$4" \
		"http://$1/v2/$2/manifests/$3" >/dev/null
}

blob_path() { # REGISTRY-DIR DIGEST -> where the registry keeps the blob's bytes
	local hex=${2#sha256:}
	echo "$1/data/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

names_absent() { # BUNDLE: none of a pulled machine's names are there
	local f
	for f in disk.img aux.img config.json image.json; do
		[ ! -e "$1/$f" ] || return 1
	done
}

json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(*(r if isinstance(r, tuple) else (r,)))' "$@"; }

# wait_long CONDITION...: up to 30 s, polling every 50 ms.
wait_long() {
	for _ in $(seq 600); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

@test "push, then pull into another bundle: the same bytes, the holes kept, claw's config, image.json" {
	run cat "$BATS_FILE_TMPDIR/pushed"
	assert_output --regexp "^$PLAIN/claw/mac@sha256:[0-9a-f]{64}$"
	pinned=$output
	run claw-pull --insecure -b dst "$PLAIN/claw/mac:15"
	assert_success
	assert_output "$pinned"
	D=$CLAW_HOME/VMs/dst.clawbundle
	cmp "$SRC/disk.img" "$D/disk.img"
	cmp "$SRC/aux.img" "$D/aux.img"
	# Holes: no larger than the source's allocation, though the source wrote 1 MiB of zeros out.
	[ "$(allocated_kb "$D/disk.img")" -le "$(($(allocated_kb "$SRC/disk.img") - 1024))" ]
	[ "$(stat -c %a "$D/disk.img")" = 600 ]
	[ "$(stat -c %a "$D/aux.img")" = 600 ]
	run json "$D/config.json" 'd["hardwareModel"], d["machineIdentifier"], d["macAddress"], d["cpuCount"], d["memorySize"], d["display"], d["diskSize"]'
	assert_output "YWJjZA== ZWZnaA== ee:a7:85:09:92:39 4 8589934592 {'width': 1920, 'height': 1080, 'ppi': 144} 20971520"
	run json "$D/image.json" 'd["ref"], d["digest"], d["tag"], d["format"], d["diskSize"]'
	assert_output "$PLAIN/claw/mac:15 ${pinned#*@} 15 tart 20971520"
	[ ! -e "$D/pull" ]
}

@test "what claw pushes has tart's layout: media types, annotations, tart's config" {
	digest=$(cut -d@ -f2 "$BATS_FILE_TMPDIR/pushed")
	curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$PLAIN/v2/claw/mac/manifests/$digest" >m.json
	run json m.json '[l["mediaType"].split(".")[-1] for l in d["layers"]], d["config"]["mediaType"], d["annotations"]["org.cirruslabs.tart.uncompressed-disk-size"]'
	assert_output "['v1', 'v2', 'v2', 'v2', 'v2', 'v2', 'v1'] application/vnd.oci.image.config.v1+json 20971520"
	run json m.json '[l["annotations"]["org.cirruslabs.tart.uncompressed-size"] for l in d["layers"][1:6]]'
	assert_output "['4194304', '4194304', '4194304', '4194304', '4194304']"
	# Each disk layer's annotation is the digest of its stretch of the disk.
	want=$(head -c 4194304 "$SRC/disk.img" | sha256sum | cut -c1-64)
	run json m.json 'd["layers"][1]["annotations"]["org.cirruslabs.tart.uncompressed-content-digest"]'
	assert_output "sha256:$want"
	cfg=$(json m.json 'd["layers"][0]["digest"]')
	curl -fsS "http://$PLAIN/v2/claw/mac/blobs/$cfg" >tart.json
	run json tart.json 'd["version"], d["os"], d["arch"], d["ecid"], d["hardwareModel"], d["cpuCount"], d["cpuCountMin"], d["memorySize"], d["memorySizeMin"], d["macAddress"], d["display"], d["diskFormat"]'
	assert_output "1 darwin arm64 ZWZnaA== YWJjZA== 4 2 8589934592 4294967296 ee:a7:85:09:92:39 {'width': 1920, 'height': 1080, 'unit': 'pt'} raw"
	# Every disk layer is an Apple LZ4 stream: bv4 blocks, bv4$ at its end.
	layer=$(json m.json 'd["layers"][1]["digest"]')
	curl -fsS "http://$PLAIN/v2/claw/mac/blobs/$layer" >chunk.lz4
	[ "$(head -c 3 chunk.lz4)" = bv4 ]
	[ "$(tail -c 4 chunk.lz4)" = 'bv4$' ]
}

@test "a second push uploads no blob; several REFs tag one manifest" {
	before=$(registry_blob_puts "$PLAIN_DIR")
	run claw-push -v --insecure -b "$SRC" "$PLAIN/claw/mac:again" "$PLAIN/claw/mac:stable"
	assert_success
	assert_line "claw-push: 0 blobs uploaded, 8 in the registry already"
	[ "$(registry_blob_puts "$PLAIN_DIR")" = "$before" ]
	a=$(curl -fsS -o /dev/null -w '%header{docker-content-digest}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$PLAIN/v2/claw/mac/manifests/again")
	b=$(curl -fsS -o /dev/null -w '%header{docker-content-digest}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$PLAIN/v2/claw/mac/manifests/stable")
	[ "$a" = "$b" ]
	assert_line "$PLAIN/claw/mac@$a"
}

@test "a pull into a bundle that holds the image already does nothing; one that holds another machine is refused" {
	claw-pull --insecure -b dst "$PLAIN/claw/mac:15" >/dev/null
	gets=$(grep -c '"GET /v2/claw/mac/blobs/' "$PLAIN_DIR/log")
	run claw-pull -v --insecure -b dst "$PLAIN/claw/mac:15"
	assert_success
	assert_line --partial "already holds $PLAIN/claw/mac@sha256:"
	[ "$(grep -c '"GET /v2/claw/mac/blobs/' "$PLAIN_DIR/log")" = "$gets" ]
	make_bundle other.clawbundle
	echo '{}' >other.clawbundle/config.json
	run claw-pull --insecure -b other.clawbundle "$PLAIN/claw/mac:15"
	assert_failure 73
	assert_output "claw-pull: 'other.clawbundle' already holds a machine; pull into a new bundle (or claw rm it first)"
	[ ! -e other.clawbundle/disk.img ]
}

@test "a pull killed midway resumes: the chunks already right are not fetched again" {
	source_bundle big.clawbundle 96
	python3 -c 'import os; f=open("big.clawbundle/disk.img","r+b"); f.seek(20<<20); f.write(os.urandom(70<<20))'
	claw-push --insecure -b big.clawbundle "$PLAIN/claw/big:1" >/dev/null
	claw-pull -j 1 --insecure -b half.clawbundle "$PLAIN/claw/big:1" >/dev/null 2>&1 &
	pid=$!
	# Once the first chunks are on disk, kill it as a power cut would.
	wait_long sh -c '[ "$(du -k half.clawbundle/pull/disk.img 2>/dev/null | cut -f1)" -gt 8192 ] 2>/dev/null'
	kill -KILL "$pid"
	wait "$pid" || true
	names_absent half.clawbundle
	[ -d half.clawbundle/pull ]
	# A kill between a chunk's write and its blob's discard leaves a .part whose chunk the
	# rerun finds on disk and never fetches again: it must not keep pull/ alive.
	: >"half.clawbundle/pull/1-$(printf '%064d' 0).part"
	run claw-pull -v --insecure -b half.clawbundle "$PLAIN/claw/big:1"
	assert_success
	assert_line --partial "is already on disk"
	cmp big.clawbundle/disk.img half.clawbundle/disk.img
	[ ! -e half.clawbundle/pull ]
}

@test "a pull stopped by SIGTERM exits 143, keeps its work, and the rerun finishes it" {
	source_bundle big2.clawbundle 64
	python3 -c 'import os; f=open("big2.clawbundle/disk.img","r+b"); f.seek(20<<20); f.write(os.urandom(40<<20))'
	claw-push --insecure -b big2.clawbundle "$PLAIN/claw/big2:1" >/dev/null
	claw-pull -j 1 --insecure -b t.clawbundle "$PLAIN/claw/big2:1" >/dev/null 2>err &
	pid=$!
	wait_long sh -c '[ "$(du -k t.clawbundle/pull/disk.img 2>/dev/null | cut -f1)" -gt 4096 ] 2>/dev/null'
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 143 ]
	run cat err
	assert_output "claw-pull: interrupted; run again to resume"
	names_absent t.clawbundle
	run claw-pull --insecure -b t.clawbundle "$PLAIN/claw/big2:1"
	assert_success
	cmp big2.clawbundle/disk.img t.clawbundle/disk.img
}

@test "a push killed midway: the rerun uploads only what the registry is missing" {
	source_bundle p.clawbundle 64
	python3 -c 'import os; f=open("p.clawbundle/disk.img","r+b"); f.seek(20<<20); f.write(os.urandom(40<<20))'
	before=$(registry_blob_puts "$PLAIN_DIR")
	claw-push -j 1 --insecure -b p.clawbundle "$PLAIN/claw/p:1" >/dev/null 2>&1 &
	pid=$!
	wait_long sh -c "[ \"\$(grep -c '\"PUT /v2/claw/p/blobs/uploads/' '$PLAIN_DIR/log')\" -ge 4 ]"
	kill -KILL "$pid"
	wait "$pid" || true
	run curl -s -o /dev/null -w '%{http_code}' "http://$PLAIN/v2/claw/p/manifests/1"
	assert_output 404
	run claw-push -v --insecure -b p.clawbundle "$PLAIN/claw/p:1"
	assert_success
	assert_line --regexp '^claw-push: [0-9]+ blobs uploaded, ([4-9]|[1-9][0-9]) in the registry already$'
	run claw-pull --insecure -b pp.clawbundle "$PLAIN/claw/p:1"
	assert_success
	cmp p.clawbundle/disk.img pp.clawbundle/disk.img
}

@test "a corrupted blob on the registry: 65, and nothing under the bundle's names, on every rerun" {
	source_bundle c.clawbundle 12
	claw-push --insecure -b c.clawbundle "$PLAIN/claw/c:1" >/dev/null
	m=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$PLAIN/v2/claw/c/manifests/1")
	layer=$(printf '%s' "$m" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][2]["digest"])')
	f=$(blob_path "$PLAIN_DIR" "$layer")
	printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
	run claw-pull --insecure -b c2.clawbundle "$PLAIN/claw/c:1"
	assert_failure 65
	assert_output "claw-pull: the registry lies: blob $layer hashes to sha256:$(sha256sum "$f" | cut -c1-64)"
	names_absent c2.clawbundle
	run claw-pull --insecure -b c2.clawbundle "$PLAIN/claw/c:1"
	assert_failure 65
	names_absent c2.clawbundle
}

@test "a disk layer whose bytes are its digest but do not decode: 65, naming the blob, nothing under the bundle's names" {
	source_bundle d.clawbundle 12
	claw-push --insecure -b d.clawbundle "$PLAIN/claw/d:1" >/dev/null
	curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$PLAIN/v2/claw/d/manifests/1" >m.json
	# An Apple LZ4 block whose LZ4 data points back before its start, pushed as the first chunk.
	printf 'bv41\x00\x00\x01\x00\x04\x00\x00\x00\x00\xff\xff\xffbv4$' >bad.lz4
	bad=$(put_blob "$PLAIN" claw/d bad.lz4)
	python3 - m.json "$bad" "$(wc -c <bad.lz4)" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
disk = [l for l in m["layers"] if l["mediaType"].endswith("disk.v2")][0]
disk["digest"], disk["size"] = sys.argv[2], int(sys.argv[3])
json.dump(m, open(sys.argv[1], "w"))
PY
	put_manifest "$PLAIN" claw/d bad m.json
	run claw-pull --insecure -b d2.clawbundle "$PLAIN/claw/d:bad"
	assert_failure 65
	assert_output --regexp "^claw-pull: blob $bad: not an Apple LZ4 stream at byte 12: a compressed block does not decode$"
	names_absent d2.clawbundle
}

@test "a manifest whose bytes are not its digest: 65" {
	source_bundle l.clawbundle 8
	claw-push --insecure -b l.clawbundle "$PLAIN/claw/l:1" >/dev/null
	digest=$(curl -fsS -o /dev/null -w '%header{docker-content-digest}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$PLAIN/v2/claw/l/manifests/1")
	f=$(blob_path "$PLAIN_DIR" "$digest")
	sed -i 's/"schemaVersion":2/"schemaVersion": 2/' "$f"
	run claw-pull --insecure -b l2 "$PLAIN/claw/l@$digest"
	assert_failure 65
	assert_output --partial "claw-pull: registry '$PLAIN' lies"
	names_absent "$CLAW_HOME/VMs/l2.clawbundle"
}

@test "an index is followed to its darwin/arm64 manifest" {
	digest=$(cut -d@ -f2 "$BATS_FILE_TMPDIR/pushed")
	size=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$PLAIN/v2/claw/mac/manifests/$digest" | wc -c)
	# A linux/amd64 image beside it, listed first.
	printf '{"architecture":"amd64","os":"linux"}' >cfg.json
	printf 'some layer' >layer.bin
	cfg=$(put_blob "$PLAIN" claw/mac cfg.json)
	layer=$(put_blob "$PLAIN" claw/mac layer.bin)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
		"$cfg" "$(wc -c <cfg.json)" "$layer" "$(wc -c <layer.bin)" >linux.json
	put_manifest "$PLAIN" claw/mac linux linux.json
	cat >index.json <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$(sha256sum <linux.json | cut -c1-64)","size":$(wc -c <linux.json),"platform":{"os":"linux","architecture":"amd64"}},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$digest","size":$size,"platform":{"os":"darwin","architecture":"arm64"}}]}
JSON
	put_manifest "$PLAIN" claw/mac multi index.json application/vnd.oci.image.index.v1+json
	run claw-pull --insecure -b fromindex "$PLAIN/claw/mac:multi"
	assert_success
	assert_output "$PLAIN/claw/mac@$digest"
	cmp "$SRC/disk.img" "$CLAW_HOME/VMs/fromindex.clawbundle/disk.img"
}

@test "an image that is not a tart VM: 65, saying why; tart's old disk.v1 is refused by name" {
	printf '{"architecture":"amd64","os":"linux"}' >cfg.json
	printf 'some layer' >layer.bin
	cfg=$(put_blob "$PLAIN" other/img cfg.json)
	layer=$(put_blob "$PLAIN" other/img layer.bin)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
		"$cfg" "$(wc -c <cfg.json)" "$layer" "$(wc -c <layer.bin)" >m.json
	put_manifest "$PLAIN" other/img linux m.json
	run claw-pull --insecure -b x "$PLAIN/other/img:linux"
	assert_failure 65
	assert_output "claw-pull: not a tart VM image: no application/vnd.cirruslabs.tart.config.v1 layer"
	names_absent "$CLAW_HOME/VMs/x.clawbundle"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.cirruslabs.tart.config.v1","digest":"%s","size":%s},{"mediaType":"application/vnd.cirruslabs.tart.disk.v1","digest":"%s","size":%s}]}' \
		"$cfg" "$(wc -c <cfg.json)" "$cfg" "$(wc -c <cfg.json)" "$layer" "$(wc -c <layer.bin)" >v1.json
	put_manifest "$PLAIN" other/img v1 v1.json
	run claw-pull --insecure -b x "$PLAIN/other/img:v1"
	assert_failure 65
	assert_output "claw-pull: the image's disk is in tart's old format (application/vnd.cirruslabs.tart.disk.v1), which claw does not read; push it again with a current tart"
}

@test "no such image: 66; nothing listening: 75" {
	run claw-pull --insecure -b y "$PLAIN/claw/mac:nosuchtag"
	assert_failure 66
	assert_output "claw-pull: '$PLAIN/claw/mac:nosuchtag': no such image (no manifest nosuchtag in $PLAIN/claw/mac)"
	port=$(free_port)
	run claw-pull --insecure -b y "127.0.0.1:$port/claw/mac:1"
	assert_failure 75
	assert_output --partial "claw-pull: cannot reach registry '127.0.0.1:$port'"
}

@test "references that do not parse, and --insecure for a host not on this machine: 64" {
	for ref in nohost 'Host/repo' "$PLAIN/Upper/case" "$PLAIN/repo:bad:tag" "$PLAIN/repo@sha256:abc" "$PLAIN/repo:t@sha256:$(printf x | sha256sum | cut -c1-64)" "$PLAIN/repo:tag;rm" ""; do
		run claw-pull --insecure -b z "$ref"
		assert_failure 64
	done
	# A port is at most 5 digits, and host:port fits what claw keeps of it (found by make fuzz).
	for host in "127.0.0.1:$(printf '%0240d' 1)" "127.0.0.1:000001" "$(printf 'a%.0s' $(seq 250)).a:5000"; do
		run claw-pull --insecure -b z "$host/x"
		assert_failure 64
		assert_line "claw-pull: '$host/x': '$host' is not a registry host[:port]"
	done
	run claw-pull -b z nohost
	assert_output --partial "claw-pull: 'nohost' is not an image reference: expected HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST]"
	run claw-pull --insecure -b z registry.example.com/claw/mac:1
	assert_failure 64
	assert_line "claw-pull: --insecure alone is for a registry on this machine; name the host to speak plain HTTP to another: --insecure=registry.example.com"
	run claw-pull --insecure=other.example.com -b z registry.example.com/claw/mac:1
	assert_failure 64
	run claw-push -b "$SRC" "$PLAIN/claw/mac@sha256:$(printf x | sha256sum | cut -c1-64)"
	assert_failure 64
	assert_line --partial "a push names tags, not a digest"
	run claw-push -b "$SRC" "$PLAIN/a/b:1" "$PLAIN/c/d:1"
	assert_failure 64
	run claw-pull --insecure "$PLAIN/claw/mac:15"
	assert_failure 64
	[ ! -e "$CLAW_HOME/VMs/z.clawbundle" ]
}

@test "push refuses a running machine (75) and a bundle that is not restored (66)" {
	cp -r "$SRC" run.clawbundle
	pretend_running run.clawbundle
	holder=$!
	run claw-push --insecure -b run.clawbundle "$PLAIN/claw/run:1"
	kill "$holder"
	assert_failure 75
	assert_output --partial "is running"
	make_bundle empty.clawbundle
	run claw-push --insecure -b empty.clawbundle "$PLAIN/claw/run:1"
	assert_failure 66
}

@test "TLS is verified: a registry whose CA is not trusted is refused" {
	run claw-pull -b t "$SECURE/claw/mac:15"
	assert_failure 69
	assert_output --partial "claw-pull: cannot reach registry '$SECURE'"
	names_absent "$CLAW_HOME/VMs/t.clawbundle"
}

@test "htpasswd over TLS: 77 without credentials, 77 with wrong ones, pushed and pulled with the environment's" {
	export CURL_CA_BUNDLE=$REG_CA
	run claw-push -b "$SRC" "$SECURE/claw/mac:15"
	assert_failure 77
	assert_output "claw-push: tart's config: registry '$SECURE' needs credentials: set CLAW_REGISTRY_USER and CLAW_REGISTRY_PASSWORD, or docker login"
	CLAW_REGISTRY_USER=$REG_USER CLAW_REGISTRY_PASSWORD=wrong run claw-pull -b t "$SECURE/claw/mac:15"
	assert_failure 77
	assert_output "claw-pull: registry '$SECURE' refused the credentials"
	export CLAW_REGISTRY_USER=$REG_USER CLAW_REGISTRY_PASSWORD=$REG_PASSWORD
	run claw-push -b "$SRC" "$SECURE/claw/mac:15"
	assert_success
	run claw-pull -b t "$SECURE/claw/mac:15"
	assert_success
	cmp "$SRC/disk.img" "$CLAW_HOME/VMs/t.clawbundle/disk.img"
	run grep -rlF "$REG_PASSWORD" "$CLAW_HOME"
	assert_failure
}

@test "credentials from docker's config: its auths entry, and a credential helper run with an argv" {
	export CURL_CA_BUNDLE=$REG_CA
	CLAW_REGISTRY_USER=$REG_USER CLAW_REGISTRY_PASSWORD=$REG_PASSWORD claw-push -b "$SRC" "$SECURE/claw/mac:15" >/dev/null
	mkdir -p "$HOME/.docker"
	auth=$(printf '%s:%s' "$REG_USER" "$REG_PASSWORD" | base64 -w0)
	printf '{"auths":{"https://%s":{"auth":"%s"}}}' "$SECURE" "$auth" >"$HOME/.docker/config.json"
	run claw-pull -b a1 "$SECURE/claw/mac:15"
	assert_success
	# A helper: it records how it was run, and answers on stdout for the host it reads on stdin.
	mkdir -p helper
	cat >helper/docker-credential-clawtest <<SH
#!/bin/sh
printf '%s\n' "\$*" >>"$BATS_TEST_TMPDIR/helper.argv"
read -r host
[ "\$host" = "$SECURE" ] || { echo "credentials not found in native keychain"; exit 1; }
python3 -c 'import json,sys; print(json.dumps({"ServerURL": sys.argv[1], "Username": sys.argv[2], "Secret": sys.argv[3]}))' "\$host" "$REG_USER" "\$(cat "$BATS_TEST_TMPDIR/secret")"
SH
	chmod +x helper/docker-credential-clawtest
	printf '%s' "$REG_PASSWORD" >secret
	printf '{"credHelpers":{"%s":"clawtest"}}' "$SECURE" >"$HOME/.docker/config.json"
	PATH=$BATS_TEST_TMPDIR/helper:$PATH run claw-pull -b a2 "$SECURE/claw/mac:15"
	assert_success
	run cat helper.argv
	assert_output "get"
	printf '{"credsStore":"clawtest"}' >"$HOME/.docker/config.json"
	PATH=$BATS_TEST_TMPDIR/helper:$PATH run claw-pull -b a3 "$SECURE/claw/mac:15"
	assert_success
	printf '{"credsStore":"nosuchhelper"}' >"$HOME/.docker/config.json"
	run claw-pull -b a4 "$SECURE/claw/mac:15"
	assert_failure 78
	assert_output --partial "cannot run the credential helper docker-credential-nosuchhelper"
	printf '{"auths":' >"$HOME/.docker/config.json"
	run claw-pull -b a4 "$SECURE/claw/mac:15"
	assert_failure 78
}

@test "claw create --image: pull in place of resolve, fetch and restore; a rerun pulls nothing" {
	run claw create dev --image "$PLAIN/claw/mac:15" --insecure --to restore
	assert_success
	assert_output "==> pull"
	D=$CLAW_HOME/VMs/dev.clawbundle
	cmp "$SRC/disk.img" "$D/disk.img"
	[ -f "$D/image.json" ]
	[ ! -e "$D/ipsw.json" ]
	[ ! -e "$D/restore.ipsw" ]
	gets=$(grep -c '"GET /v2/claw/mac/blobs/' "$PLAIN_DIR/log")
	run claw create dev --image "$PLAIN/claw/mac:15" --insecure --to restore
	assert_success
	[ "$(grep -c '"GET /v2/claw/mac/blobs/' "$PLAIN_DIR/log")" = "$gets" ]
	run claw create dev2 --image "not a ref" --insecure --to restore
	assert_failure 64
	assert_line "claw: pull failed (exit 64); 'claw create dev2 --image not a ref' resumes there"
	names_absent "$CLAW_HOME/VMs/dev2.clawbundle"
}

@test "Bearer tokens: asked of the realm the 401 names, with the credentials as Basic; anonymous where the realm allows" {
	run claw-push --insecure -b "$SRC" "$BEARER/team/mac:1"
	assert_failure 77
	assert_output --partial "claw-push: tart's config: registry '$BEARER'"
	export CLAW_REGISTRY_USER=$BEARER_USER CLAW_REGISTRY_PASSWORD=$BEARER_PASSWORD
	run claw-push --insecure -b "$SRC" "$BEARER/public/mac:1"
	assert_success
	run claw-pull --insecure -b b1 "$BEARER/public/mac:1"
	assert_success
	cmp "$SRC/disk.img" "$CLAW_HOME/VMs/b1.clawbundle/disk.img"
	# The realm saw the scope the registry asked for, and the credentials, never in the URL.
	# (the registry names the actions in the order its handler lists them: either is its scope)
	run grep -Eci 'GET /token\?service=claw-registry&scope=repository%3Apublic%2Fmac%3A(pull%2Cpush|push%2Cpull) auth$' "$BEARER_DIR/tokend.log"
	assert_success
	run grep -F "$BEARER_PASSWORD" "$BEARER_DIR/tokend.log"
	assert_failure
	unset CLAW_REGISTRY_USER CLAW_REGISTRY_PASSWORD
	run claw-pull --insecure -b b2 "$BEARER/public/mac:1"
	assert_success
	assert_output --partial "$BEARER/public/mac@sha256:"
	run grep -c 'GET /token?.* anonymous$' "$BEARER_DIR/tokend.log"
	assert_success
	CLAW_REGISTRY_USER=$BEARER_USER CLAW_REGISTRY_PASSWORD=wrong run claw-pull --insecure -b b3 "$BEARER/public/mac:1"
	assert_failure 77
	assert_output "claw-pull: registry '$BEARER': the token realm refused the credentials"
}

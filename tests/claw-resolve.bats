#!/usr/bin/env bats
# claw-resolve against the real catalog and ipsw.me samples, served by nginx on loopback.

load helpers/common
load helpers/servers
load helpers/ipsw
load helpers/vm

setup_file() {
	export WWW=$BATS_FILE_TMPDIR/www
	mkdir -p "$WWW"
	cp "$MESU" "$WWW/catalog.xml"
	plistutil -i "$MESU" -o "$WWW/catalog.bplist" -f bin 2>/dev/null || plistutil -i "$MESU" -o "$WWW/catalog.bplist"
	ipswme_device "$WWW"
	printf '<?xml version="1.0"?><plist version="1.0"><dict><key>x</key>\n' >"$WWW/broken.xml"
	printf '{"firmwares": [' >"$WWW/broken.json"
	nginx_start "$WWW"
}

teardown_file() { nginx_stop; }

setup() {
	common_setup
	export CLAW_CATALOG_URL=$NGINX_URL/catalog.xml CLAW_IPSWME_URL=$NGINX_URL/v4
}

@test "latest: the newest VirtualMac2,1 restore, its SHA-1 found by URL elsewhere in the catalog" {
	# The fixture's VirtualMac2,1 entry itself has no FirmwareSHA1: the lookup by URL is what finds it.
	python3 -c 'import plistlib,sys; d=plistlib.load(open(sys.argv[1],"rb")); v=d["MobileDeviceSoftwareVersionsByVersion"]["1"]["MobileDeviceSoftwareVersions"]["VirtualMac2,1"]; assert all("FirmwareSHA1" not in b["Restore"] for b in v.values())' "$MESU"
	run claw-resolve latest
	assert_success
	assert_output "url=$MESU_URL
version=26.6
build=25G72
sha1=$MESU_SHA1
source=catalog"
}

# A catalog where an older VirtualMac2,1 restore (15.2) sits below the real 26.6, its digest only
# on a physical Mac's entry with the same URL, as Apple lists them.
older_catalog() {
	python3 - "$MESU" "$1" <<'PY'
import plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
v = d["MobileDeviceSoftwareVersionsByVersion"]["1"]["MobileDeviceSoftwareVersions"]
url = "https://updates.cdn-apple.com/2024FallFCS/fullrestores/072-44387/UniversalMac_15.2_24C101_Restore.ipsw"
v["VirtualMac2,1"]["24C101"] = {"Restore": {"BuildVersion": "24C101", "ProductVersion": "15.2", "FirmwareURL": url}}
v["Mac14,2"] = {"24C101": {"Restore": {"BuildVersion": "24C101", "ProductVersion": "15.2", "FirmwareURL": url,
                                        "FirmwareSHA1": "AB34C2F1C0B9E1D6F4A8E7C3B2A19F8E7D6C5B4A"}}}
plistlib.dump(d, open(sys.argv[2], "wb"))
PY
}

@test "latest on a Mac: what Virtualization.framework says this host runs, its digest from the catalog by URL" {
	older_catalog older.xml
	export CLAW_FAKE_VM_LATEST_URL=https://updates.cdn-apple.com/2024FallFCS/fullrestores/072-44387/UniversalMac_15.2_24C101_Restore.ipsw
	run "$CLAW_FAKE_BIN/claw-resolve" --catalog-url "file://$BATS_TEST_TMPDIR/older.xml" latest
	assert_success
	assert_output "claw-resolve: the catalog has macOS 26.6 (25G72), newer than this host supports; resolving 15.2 (24C101)
url=$CLAW_FAKE_VM_LATEST_URL
version=15.2
build=24C101
sha1=ab34c2f1c0b9e1d6f4a8e7c3b2a19f8e7d6c5b4a
source=catalog"
	# -q keeps the note to itself, and still answers.
	run "$CLAW_FAKE_BIN/claw-resolve" -q --catalog-url "file://$BATS_TEST_TMPDIR/older.xml" latest
	assert_success
	assert_line "version=15.2"
	refute_output --partial "newer than this host"
}

@test "latest on a Mac that runs the newest: the catalog's newest, and no note" {
	export CLAW_FAKE_VM_LATEST_URL=$MESU_URL
	run "$CLAW_FAKE_BIN/claw-resolve" latest
	assert_success
	assert_output "url=$MESU_URL
version=26.6
build=25G72
sha1=$MESU_SHA1
source=catalog"
}

@test "latest where the hypervisor cannot say: the catalog's newest, with the reason; one it names that the catalog lacks has no digest" {
	older_catalog older.xml
	export CLAW_FAKE_VM_LATEST_FAIL="The network connection was lost."
	run "$CLAW_FAKE_BIN/claw-resolve" --catalog-url "file://$BATS_TEST_TMPDIR/older.xml" latest
	assert_success
	assert_line --index 0 "claw-resolve: Virtualization.framework cannot say which macOS this host runs: The network connection was lost.; taking the catalog's newest"
	assert_line "build=25G72"
	unset CLAW_FAKE_VM_LATEST_FAIL
	export CLAW_FAKE_VM_LATEST_URL=https://mirror.example/UniversalMac_15.1_24B83_Restore.ipsw
	run "$CLAW_FAKE_BIN/claw-resolve" --catalog-url "file://$BATS_TEST_TMPDIR/older.xml" latest
	assert_success
	assert_output "claw-resolve: the catalog does not list '$CLAW_FAKE_VM_LATEST_URL', the newest this host runs; no digest to check it by
claw-resolve: the catalog has macOS 26.6 (25G72), newer than this host supports; resolving 15.1 (24B83)
url=$CLAW_FAKE_VM_LATEST_URL
version=15.1
build=24B83
source=url"
}

# claw-resolve linked with the real common/darwin/vz.c over the model of VZ (tests/darwin-model).
model_resolve() {
	local bin=${CLAW_MODEL_BIN:-$TOP/build/obj/model/tests}/../bin/claw-resolve
	[ -x "$bin" ] || skip "the model is not built (make model)"
	"$bin" "$@"
}

@test "vz.c on the model of Virtualization.framework: fetchLatestSupported's URL, looked up in the catalog; its failure; an Intel Mac" {
	older_catalog older.xml
	url=https://updates.cdn-apple.com/2024FallFCS/fullrestores/072-44387/UniversalMac_15.2_24C101_Restore.ipsw
	CLAW_MODEL_IMAGE_URL=$url run model_resolve --catalog-url "file://$BATS_TEST_TMPDIR/older.xml" latest
	assert_success
	assert_output "claw-resolve: the catalog has macOS 26.6 (25G72), newer than this host supports; resolving 15.2 (24C101)
url=$url
version=15.2
build=24C101
sha1=ab34c2f1c0b9e1d6f4a8e7c3b2a19f8e7d6c5b4a
source=catalog"
	CLAW_MODEL_FETCH_FAIL=1 run model_resolve --catalog-url "file://$BATS_TEST_TMPDIR/older.xml" latest
	assert_success
	assert_line --index 0 "claw-resolve: Virtualization.framework cannot say which macOS this host runs: Failed to fetch the restore image catalog. The restore image catalog failed to load. (VZErrorDomain 10001); taking the catalog's newest"
	assert_line "build=25G72"
	refute_output --partial claw-model:
	CLAW_MODEL_ARCH=x86_64 run model_resolve --catalog-url "file://$BATS_TEST_TMPDIR/older.xml" latest
	assert_success
	assert_line --index 0 "url=$MESU_URL"
	refute_output --partial claw-
}

@test "latest off a Mac (no Virtualization.framework): the catalog's newest, silently" {
	older_catalog older.xml
	run claw-resolve --catalog-url "file://$BATS_TEST_TMPDIR/older.xml" latest
	assert_success
	assert_line --index 0 "url=$MESU_URL"
	refute_output --partial "claw-resolve:"
}

@test "latest from a binary plist catalog" {
	run claw-resolve --catalog-url "$NGINX_URL/catalog.bplist" latest
	assert_success
	assert_line "sha1=$MESU_SHA1"
}

@test "latest picks the highest version, not the first one listed" {
	# Add an older VirtualMac2,1 build ahead of the real one: 26.6 must still win.
	python3 - "$MESU" "$BATS_TEST_TMPDIR/cat.xml" <<'PY'
import plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
v = d["MobileDeviceSoftwareVersionsByVersion"]["1"]["MobileDeviceSoftwareVersions"]["VirtualMac2,1"]
v["24A335"] = {"Restore": {"BuildVersion": "24A335", "ProductVersion": "15.0", "FirmwareURL": "https://x/old.ipsw"}}
plistlib.dump(d, open(sys.argv[2], "wb"))
PY
	run claw-resolve --catalog-url "file://$BATS_TEST_TMPDIR/cat.xml" latest
	assert_line "build=25G72"
}

@test "--json prints the same record as an object" {
	run claw-resolve --json latest
	assert_success
	run python3 -c 'import json,sys; d=json.load(sys.stdin); print(list(d.keys())); print(d["sha1"])' <<<"$output"
	assert_line --index 0 "['url', 'version', 'build', 'sha1', 'source']"
	assert_line --index 1 "$MESU_SHA1"
}

@test "-b writes ipsw.json atomically, creating the bundle" {
	run claw-resolve -b dev latest
	assert_success
	f=$CLAW_HOME/VMs/dev.clawbundle/ipsw.json
	[ -f "$f" ]
	[ "$(stat -c %a "$f")" = 644 ]
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["build"], d["source"])' "$f"
	assert_output "25G72 catalog"
	run ls -A "$CLAW_HOME/VMs/dev.clawbundle"
	assert_output $'.clawbundle\nipsw.json\nlock'
}

@test "a major version: the highest signed build under it" {
	run claw-resolve 15
	assert_success
	assert_line "version=15.2"
	assert_line "build=24C101"
	assert_line "size=15000000000"
	assert_line "source=ipswme"
}

@test "a version prefix matches whole components: 15.1 is not 15.10" {
	run claw-resolve 15.1
	assert_line "version=15.1.1"
	assert_line "build=24B91"
}

@test "the real ipsw.me entry: 26.1 with its sha1 and sha256" {
	run claw-resolve 26.1
	assert_success
	assert_output "url=https://updates.cdn-apple.com/2025FallFCS/fullrestores/089-04148/791B6F00-A30B-4EB0-B2E3-257167F7715B/UniversalMac_26.1_25B78_Restore.ipsw
version=26.1
build=25B78
sha1=479d6bb78f069062ca016d496fd50804b673e815
sha256=e0217b3cd0f2edb9ab3294480bef5af2a0be43e86d84a15fab6bca31d3802ee8
size=18718884780
source=ipswme"
}

@test "a build: exactly that build" {
	run claw-resolve 24B83
	assert_success
	assert_line "version=15.1"
}

@test "an unsigned build is resolved with a warning; an unsigned version is not chosen" {
	run claw-resolve 24D60
	assert_success
	assert_line "version=15.3"
	assert_line "claw-resolve: build 24D60 is no longer signed by Apple; a restore from it may be refused"
	run claw-resolve 15.3
	assert_failure 69
}

@test "nothing matches: exit 69, listing what exists" {
	run claw-resolve 13
	assert_failure 69
	assert_output "claw-resolve: no signed VirtualMac2,1 IPSW matches '13'; signed ones: 26.1 (25B78), 15.2 (24C101), 15.1.1 (24B91), 15.1 (24B83), 14.6 (23G80)"
	run claw-resolve 99Z1
	assert_failure 69
	assert_output --partial "no VirtualMac2,1 IPSW matches '99Z1'"
}

@test "an https URL passes through with what its name says" {
	run claw-resolve "https://mirror.example/ipsw/UniversalMac_15.2_24C101_Restore.ipsw"
	assert_success
	assert_output "url=https://mirror.example/ipsw/UniversalMac_15.2_24C101_Restore.ipsw
version=15.2
build=24C101
source=url"
}

@test "a local .ipsw: its file URL and size; a missing one is 66" {
	mkdir -p "dir with space"
	head -c 1234 /dev/zero >"dir with space/UniversalMac_14.6_23G80_Restore.ipsw"
	run claw-resolve "dir with space/UniversalMac_14.6_23G80_Restore.ipsw"
	assert_success
	assert_output "url=file://$BATS_TEST_TMPDIR/dir%20with%20space/UniversalMac_14.6_23G80_Restore.ipsw
version=14.6
build=23G80
size=1234
source=file"
	run claw-resolve ./nope.ipsw
	assert_failure 66
	assert_output "claw-resolve: cannot open './nope.ipsw': No such file or directory"
}

@test "the record is safe to source in sh, whatever the URL holds" {
	url="https://m.example/a'b\$(touch pwned)\`id\`;x&y.ipsw"
	claw-resolve "$url" >rec
	sh -c '. ./rec; [ "$url" = "$1" ] && [ "$source" = url ]' _ "$url"
	[ ! -e pwned ]
}

@test "a scheme in any case: FILE:// is a local file, HTTPS:// a URL, FtP:// refused" {
	head -c 100 /dev/zero >local.ipsw
	run claw-resolve "FILE://$BATS_TEST_TMPDIR/local.ipsw"
	assert_success
	assert_line "url=file://$BATS_TEST_TMPDIR/local.ipsw"
	assert_line "source=file"
	run claw-resolve "HTTPS://m.example/a.ipsw"
	assert_line "source=url"
	run claw-resolve "FtP://m.example/a.ipsw"
	assert_failure 64
}

@test "SPEC defaults to the config's vm.macos" {
	printf 'vm:\n  macos: "15.1"\n' >claw.yml
	run claw-resolve -c claw.yml
	assert_line "build=24B91"
}

@test "flags override the environment's endpoints" {
	run claw-resolve --ipswme-url "$NGINX_URL/nothing" 15
	assert_failure 69
	assert_output "claw-resolve: '$NGINX_URL/nothing/device/VirtualMac2,1': HTTP 404"
}

@test "an unreachable endpoint is 75, with the URL and curl's reason" {
	port=$(free_port)
	run claw-resolve --catalog-url "http://127.0.0.1:$port/c.xml" latest
	assert_failure 75
	assert_output --regexp "^claw-resolve: cannot reach 'http://127.0.0.1:$port/c.xml': .*(Couldn't connect|Connection refused)"
}

@test "malformed answers are 65 and say what was wrong" {
	run claw-resolve --catalog-url "$NGINX_URL/broken.xml" latest
	assert_failure 65
	assert_output "claw-resolve: the catalog is not a property list"
	run claw-resolve --ipswme-url "$NGINX_URL/brokenjson" 15
	assert_failure 69
	mkdir -p "$BATS_TEST_TMPDIR/v4/device"
	printf '{"firmwares": [' >"$BATS_TEST_TMPDIR/v4/device/VirtualMac2,1"
	run claw-resolve --ipswme-url "file://$BATS_TEST_TMPDIR/v4" 15
	assert_failure 65
	assert_output --regexp "^claw-resolve: ipsw.me answered with invalid JSON \(line 1: .*\)$"
	printf '{"name": "x"}' >"$BATS_TEST_TMPDIR/v4/device/VirtualMac2,1"
	run claw-resolve --ipswme-url "file://$BATS_TEST_TMPDIR/v4" 15
	assert_failure 65
	assert_output "claw-resolve: ipsw.me answered without a firmwares list"
	printf '<?xml version="1.0"?><plist version="1.0"><dict><key>MobileDeviceSoftwareVersionsByVersion</key><dict><key>1</key><dict><key>MobileDeviceSoftwareVersions</key><dict/></dict></dict></dict></plist>' >nomac.xml
	run claw-resolve --catalog-url "file://$BATS_TEST_TMPDIR/nomac.xml" latest
	assert_failure 65
	assert_output "claw-resolve: the catalog has no VirtualMac2,1 restore image"
}

@test "a catalog nested megabytes deep is refused at once (65), one at the nesting limit is read" {
	python3 - "$WWW" <<'PY'
import sys
head = '<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>MobileDeviceSoftwareVersionsByVersion</key><dict><key>1</key><dict><key>MobileDeviceSoftwareVersions</key>'
tail = '</dict></dict></dict></plist>'
for name, n in (("deep.xml", 250000), ("limit.xml", 252)):
    open(sys.argv[1] + "/" + name, "w").write(head + "<dict><key>a</key>" * n + "<string>x</string>" + "</dict>" * n + tail)
# The same depth written as XML also allows: whitespace in the tags, closes hidden in CDATA.
n = 250000
open(sys.argv[1] + "/spaced.xml", "w").write(head + "<array >" * n + "</array\n>" * n + tail)
open(sys.argv[1] + "/cdata.xml", "w").write(head + "<array><string><![CDATA[" + "</array>" * 300 + "]]></string>"
    + "<array>" * n + "</array>" * (n + 1) + tail)
PY
	for f in deep spaced cdata; do
		run timeout 10 claw-resolve --catalog-url "$NGINX_URL/$f.xml" latest
		assert_failure 65
		assert_output "claw-resolve: the catalog nests containers more than 256 deep"
	done
	# 256 deep in all: read, walked, and found to hold no VirtualMac2,1 restore.
	run timeout 10 claw-resolve --catalog-url "$NGINX_URL/limit.xml" latest
	assert_failure
	refute_output --partial "nests containers"
	[ "$status" -lt 128 ]
	rm -f "$WWW/deep.xml" "$WWW/limit.xml" "$WWW/spaced.xml" "$WWW/cdata.xml"
}

@test "an unknown SPEC is a usage error" {
	for s in "fifteen" "15.2.3.4" "" "ftp://x/y.ipsw" "latest;id"; do
		run claw-resolve "$s"
		assert_failure 64
	done
	run claw-resolve "fifteen"
	assert_line --index 0 "claw-resolve: 'fifteen' is not a macOS spec: latest, a version (15, 15.2), a build (24C101), a URL or a .ipsw"
}

@test "a second run gives the same record and the same ipsw.json" {
	claw-resolve -b dev 15 >one
	cp "$CLAW_HOME/VMs/dev.clawbundle/ipsw.json" one.json
	claw-resolve -b dev 15 >two
	cmp one two
	cmp one.json "$CLAW_HOME/VMs/dev.clawbundle/ipsw.json"
}

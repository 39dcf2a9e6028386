# Catalog and ipsw.me documents for resolve/fetch tests, made from the real
# samples in tests/fixtures. Where a test needs a download that exists here,
# it swaps the real URL (and digest) for one of the local server's.
# shellcheck shell=bash disable=SC2034 # the variables are for the suites that load this file

MESU=$FIXTURES/mesu_com_apple_macOSIPSW_26.6_25G72.xml
MESU_URL=https://updates.cdn-apple.com/2026SummerFCS/fullrestores/140-65618/10445B26-DE2C-43EC-9149-0A831602E74B/UniversalMac_26.6_25G72_Restore.ipsw
MESU_SHA1=1bccc2a9710d94f23304bba4d976c94a989beed3

# ipswme_device DIR [EXTRA_JSON_ENTRIES]: DIR/v4/device/VirtualMac2,1, the real 26.1 entry plus
# entries written by the tests (marked "test": true) for the version and build rules.
ipswme_device() {
	local dir=$1/v4/device extra=${2:-}
	mkdir -p "$dir"
	python3 - "$FIXTURES/ipswme_v4_VirtualMac2,1_firmware_entry_26.1_25B78.json" "$dir/VirtualMac2,1" "$extra" <<'PY'
import json, sys
real = json.load(open(sys.argv[1]))
def fw(version, build, signed=True, **kw):
    e = {"identifier": "VirtualMac2,1", "version": version, "buildid": build,
         "sha1sum": "%040x" % abs(hash(build)), "filesize": 15000000000,
         "url": "https://updates.cdn-apple.com/test/UniversalMac_%s_%s_Restore.ipsw" % (version, build),
         "signed": signed, "test": True}
    e.update(kw)
    return e
firmwares = [real, fw("15.2", "24C101"), fw("15.1.1", "24B91"), fw("15.1", "24B83"),
             fw("15.10", "24Z10", signed=False), fw("15.3", "24D60", signed=False), fw("14.6", "23G80")]
if sys.argv[3]:
    firmwares += json.loads(sys.argv[3])
json.dump({"name": "Apple Virtual Machine 1", "identifier": "VirtualMac2,1", "firmwares": firmwares},
          open(sys.argv[2], "w"), indent=2)
PY
}

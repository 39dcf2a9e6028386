# The state shared by the fake hdiutil and diskutil.
#   CLAW_FAKE_DISKS          a folder: attached disks, mounts, the log of every call
#   CLAW_FAKE_VOLUMES        where volumes mount (macOS's /Volumes)
#   CLAW_FAKE_GUEST_DATA     the folder standing in for the guest's Data volume
#   CLAW_FAKE_GUEST_SYSTEM   the folder standing in for its System volume (optional)
#   CLAW_FAKE_MOUNTDISK_SKIPS_DATA=1  mountDisk leaves the Data volume unmounted
#   CLAW_FAKE_DETACH_BUSY=1           a detach without -force fails, "Resource busy"
#   CLAW_FAKE_DETACH_BUSY=2           every detach fails while a volume of the disk is still
#                                     mounted, until diskutil unmountDisk force takes them off
#   CLAW_FAKE_MOUNT_LATE=SECONDS      mountDisk returns at once; the Data volume mounts this much later
#   CLAW_FAKE_SLOW=SECONDS            enableOwnership takes this long
# A volume is a tmpfs named after its device, filled from its folder on mount and
# written back on detach: what a test sees in the folder got there through a detach.
# shellcheck shell=sh
set -eu
: "${CLAW_FAKE_DISKS:?CLAW_FAKE_DISKS names the fake disks folder}" "${CLAW_FAKE_VOLUMES:?}"
STATE=$CLAW_FAKE_DISKS
mkdir -p "$STATE" "$CLAW_FAKE_VOLUMES"
touch "$STATE/attached" "$STATE/mounts"
# One call at a time, as diskarbitrationd serializes the real ones (make -j2 runs two).
exec 9>"$STATE/lock"
flock 9

fake_log() {
	printf '%s\n' "$*" >>"$STATE/log"
}

entity() { # dev hint unmapped mountable kind
	printf '\t\t<dict>\n\t\t\t<key>content-hint</key>\n\t\t\t<string>%s</string>\n' "$2"
	printf '\t\t\t<key>dev-entry</key>\n\t\t\t<string>%s</string>\n' "$1"
	printf '\t\t\t<key>potentially-mountable</key>\n\t\t\t<%s/>\n' "$4"
	printf '\t\t\t<key>unmapped-content-hint</key>\n\t\t\t<string>%s</string>\n' "$3"
	[ -n "${5:-}" ] && printf '\t\t\t<key>volume-kind</key>\n\t\t\t<string>%s</string>\n' "$5"
	printf '\t\t</dict>\n'
}

GPT=GUID_partition_scheme
CONT=EF57347C-0000-11AA-AA11-00306543ECAC
VOL=41504653-0000-11AA-AA11-00306543ECAC

fake_attach() {
	nomount=false plist=false image='' owners=''
	while [ $# -gt 0 ]; do
		case $1 in
		-nomount) nomount=true ;;
		-plist) plist=true ;;
		-owners) owners=${2:-}; shift ;;
		-*) ;;
		*) image=$1 ;;
		esac
		shift
	done
	case $owners in on | off | '') ;; *) echo "hdiutil: attach: -owners takes on or off" >&2; exit 1 ;; esac
	[ -f "$image" ] || { echo "hdiutil: attach failed - No such file or directory" >&2; exit 1; }
	if ! $nomount || ! $plist; then
		echo "fake hdiutil: only attach -nomount -plist is faked" >&2
		exit 1
	fi
	n=$((20 + 4 * $(wc -l <"$STATE/attached")))
	echo "disk$n $image" >>"$STATE/attached"
	cat <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>system-entities</key>
	<array>
PLIST
	entity "/dev/disk$n" $GPT $GPT false
	entity "/dev/disk${n}s1" Apple_APFS_ISC C3B7E6F0-0000-11AA-AA11-00306543ECAC false
	entity "/dev/disk${n}s2" Apple_APFS 7C3457EF-0000-11AA-AA11-00306543ECAC false
	entity "/dev/disk${n}s3" Apple_APFS_Recovery 52637672-7900-11AA-AA11-00306543ECAC false
	for c in 1 2 3; do
		entity "/dev/disk$((n + c))" $CONT $CONT false
		case $c in 1) k=4 ;; 2) k=1 ;; 3) k=5 ;; esac
		for s in $(seq "$k"); do entity "/dev/disk$((n + c))s$s" $VOL $VOL true apfs; done
	done
	printf '\t</array>\n</dict>\n</plist>\n'
}

# The name macOS gives a mount point: NAME, else "NAME 1", "NAME 2"...
mount_point() {
	p="$CLAW_FAKE_VOLUMES/$1" i=1
	while [ -e "$p" ] && [ -n "$(ls -A "$p" 2>/dev/null)" ] || mountpoint -q "$p" 2>/dev/null; do
		p="$CLAW_FAKE_VOLUMES/$1 $i"
		i=$((i + 1))
	done
	printf '%s\n' "$p"
}

mount_from() { # dev name folder
	[ -n "$3" ] && [ -d "$3" ] || return 0
	grep -q "^$1	" "$STATE/mounts" && return 0
	dir=$(mount_point "$2")
	mkdir -p "$dir"
	mount -t tmpfs -o size=256m,mode=0755 "$1" "$dir"
	cp -a "$3/." "$dir/"
	printf '%s\t%s\t%s\n' "$1" "$dir" "$3" >>"$STATE/mounts"
}

# The main container (the third after the disk) holds System (s1) and Data (s5).
main_container() {
	while read -r d _; do
		n=${d#disk}
		[ "$1" = "/dev/disk$((n + 3))" ] && return 0
	done <"$STATE/attached"
	return 1
}

fake_mount_disk() {
	if main_container "$1"; then
		mount_from "${1}s1" "Macintosh HD" "${CLAW_FAKE_GUEST_SYSTEM:-}"
		if [ -n "${CLAW_FAKE_MOUNT_LATE:-}" ]; then
			# diskarbitrationd mounts it later; the lock (fd 9) is held until it has.
			(sleep "$CLAW_FAKE_MOUNT_LATE" && mount_from "${1}s5" Data "$CLAW_FAKE_GUEST_DATA") >/dev/null 2>&1 &
		elif [ -z "${CLAW_FAKE_MOUNTDISK_SKIPS_DATA:-}" ]; then
			mount_from "${1}s5" Data "$CLAW_FAKE_GUEST_DATA"
		fi
	fi
	echo "Volume(s) mounted successfully"
}

# The volumes of a disk taken off: written back to their folders and unmounted.
unmount_volumes() { # pattern of devices (a case pattern)
	keep=$(mktemp)
	while IFS='	' read -r dev dir src; do
		# shellcheck disable=SC2254 # the pattern is meant to match
		case $dev in
		$1)
			find "$src" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
			cp -a "$dir/." "$src/"
			umount "$dir"
			rmdir "$dir" 2>/dev/null || true
			;;
		*) printf '%s\t%s\t%s\n' "$dev" "$dir" "$src" >>"$keep" ;;
		esac
	done <"$STATE/mounts"
	mv "$keep" "$STATE/mounts"
}

fake_unmount_disk() { # force DEV
	[ "${1:-}" = force ] || { echo "fake diskutil: only unmountDisk force is faked" >&2; exit 1; }
	unmount_volumes "${2:?}s*"
	echo "Forced unmount of all volumes on ${2#/dev/} was successful"
}

fake_mount_volume() {
	case $1 in
	*s5) c=${1%s5}; main_container "$c" && mount_from "$1" Data "$CLAW_FAKE_GUEST_DATA" ;;
	*) echo "Volume on $1 failed to mount" >&2; exit 1 ;;
	esac
	echo "Volume Data on ${1#/dev/} mounted"
}

fake_enable_ownership() {
	grep -q "	$1	" "$STATE/mounts" || { echo "Could not find disk: $1" >&2; exit 1; }
	[ -z "${CLAW_FAKE_SLOW:-}" ] || sleep "$CLAW_FAKE_SLOW"
	echo "File system user/group ownership enabled"
}

volume() { # id name role
	printf '\t\t\t\t<dict>\n\t\t\t\t\t<key>DeviceIdentifier</key>\n\t\t\t\t\t<string>%s</string>\n' "$1"
	printf '\t\t\t\t\t<key>Name</key>\n\t\t\t\t\t<string>%s</string>\n' "$2"
	printf '\t\t\t\t\t<key>Roles</key>\n\t\t\t\t\t<array>\n\t\t\t\t\t\t<string>%s</string>\n\t\t\t\t\t</array>\n\t\t\t\t</dict>\n' "$3"
}

container() { # ref store volumes...
	printf '\t\t<dict>\n\t\t\t<key>ContainerReference</key>\n\t\t\t<string>%s</string>\n' "$1"
	printf '\t\t\t<key>DesignatedPhysicalStore</key>\n\t\t\t<string>%s</string>\n' "$2"
	printf '\t\t\t<key>Volumes</key>\n\t\t\t<array>\n'
}

fake_apfs_list() {
	printf '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n\t<key>Containers</key>\n\t<array>\n'
	# The host's own container comes first, with its own Data volume.
	container disk3 disk0s2
	volume disk3s1 "Macintosh HD" System
	volume disk3s5 "Macintosh HD - Data" Data
	printf '\t\t\t</array>\n\t\t</dict>\n'
	while read -r d _; do
		n=${d#disk}
		container "disk$((n + 3))" "disk${n}s2"
		volume "disk$((n + 3))s1" "Macintosh HD" System
		volume "disk$((n + 3))s2" Preboot Preboot
		volume "disk$((n + 3))s3" Recovery Recovery
		volume "disk$((n + 3))s4" Update Update
		volume "disk$((n + 3))s5" Data Data
		printf '\t\t\t</array>\n\t\t</dict>\n'
	done <"$STATE/attached"
	printf '\t</array>\n</dict>\n</plist>\n'
}

fake_detach() {
	force=false disk=
	for a in "$@"; do case $a in -force) force=true ;; *) disk=${a#/dev/} ;; esac; done
	grep -q "^$disk " "$STATE/attached" || { echo "hdiutil: detach failed - No such file or directory" >&2; exit 1; }
	n=${disk#disk}
	if [ "${CLAW_FAKE_DETACH_BUSY:-}" = 1 ] && ! $force ||
		{ [ "${CLAW_FAKE_DETACH_BUSY:-}" = 2 ] && grep -q "^/dev/disk$((n + 3))s" "$STATE/mounts"; }; then
		echo "hdiutil: couldn't unmount \"$disk\" - Resource busy" >&2
		exit 16
	fi
	unmount_volumes "/dev/disk$((n + 1))s*"
	unmount_volumes "/dev/disk$((n + 2))s*"
	unmount_volumes "/dev/disk$((n + 3))s*"
	grep -v "^$disk " "$STATE/attached" >"$STATE/attached.new" || true
	mv "$STATE/attached.new" "$STATE/attached"
	echo "\"$disk\" ejected."
}

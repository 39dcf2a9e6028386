#!/bin/sh
# claw first boot: what only the running guest can do. launchd runs it as root at
# boot (com.claw.firstboot) until it has written PROVISIONING_READY; every line it
# says goes to /var/log/claw-firstboot.log, which claw-ip and claw-provision read.
# It checks that the user, the admin group and the sudo rule are in force, fills the
# home from the User Template, starts sshd and waits for port 22, then says ready,
# removes itself and boots itself out. It never holds a password.
# claw-inject writes the four values below, from claw.yml, quoted as data.
user='admin'
uid='501'
version='15.0'
sudoers='claw-admin'

log=/var/log/claw-firstboot.log
exec >>"$log" 2>&1
say() { printf 'claw first boot: %s\n' "$*"; }
say "started $(date -u +%Y-%m-%dT%H:%M:%SZ)"

# The Setup Assistant layers were written for one version; another may show its screens again.
running=$(sw_vers -productVersion 2>/dev/null)
say "macOS $running ($(sw_vers -buildVersion 2>/dev/null))"
if [ "$running" != "$version" ]; then
	say "warning: claw-inject wrote the Setup Assistant layers for macOS $version, this is $running"
fi

if ! dscl . -read "/Users/$user" UniqueID >/dev/null 2>&1; then
	say "the offline user record did not take: creating $user with dscl (no password; keys only)"
	dscl . -create "/Users/$user"
	dscl . -create "/Users/$user" UserShell /bin/zsh
	dscl . -create "/Users/$user" RealName "$user"
	dscl . -create "/Users/$user" UniqueID "$uid"
	dscl . -create "/Users/$user" PrimaryGroupID 20
	dscl . -create "/Users/$user" NFSHomeDirectory "/Users/$user"
fi
if ! dseditgroup -o checkmember -m "$user" admin >/dev/null 2>&1; then
	say "adding $user to admin"
	dseditgroup -o edit -a "$user" -t user admin
fi

# The home as macOS makes it, from the User Template, under what claw wrote (never over it).
home=/Users/$user
mkdir -p "$home"
for t in "/System/Library/User Template/Non_localized" "/System/Library/User Template/English.lproj"; do
	if [ -d "$t" ]; then
		cp -Rn "$t/." "$home/" || say "warning: could not copy all of $t into $home"
	fi
done
chown -R "$uid:20" "$home"
chmod 750 "$home"
if [ -d "$home/.ssh" ]; then
	chmod 700 "$home/.ssh"
	chmod 600 "$home/.ssh/authorized_keys" 2>/dev/null
fi

# A sudoers file visudo rejects would lock sudo for everyone: drop it instead.
if [ -f "/etc/sudoers.d/$sudoers" ] && ! visudo -c -f "/etc/sudoers.d/$sudoers" >/dev/null; then
	say "warning: visudo rejects /etc/sudoers.d/$sudoers; removed it"
	rm -f "/etc/sudoers.d/$sudoers"
fi
if sudo -l -U "$user" | grep -q 'NOPASSWD: ALL'; then
	say "sudo: $user may run anything without a password"
else
	say "warning: sudo -l -U $user shows no NOPASSWD rule"
fi

if [ -f /Library/Preferences/com.apple.VNCSettings.txt ]; then
	launchctl enable system/com.apple.screensharing
	launchctl bootstrap system /System/Library/LaunchDaemons/com.apple.screensharing.plist 2>/dev/null || true
fi

# Remote Login. launchd owns sshd's socket: bootstrap loads the job (enable only edits
# the override, and lets bootstrap through when the offline one did not take);
# systemsetup -setremotelogin needs Full Disk Access, which a LaunchDaemon lacks.
launchctl enable system/com.openssh.sshd
if launchctl bootstrap system /System/Library/LaunchDaemons/ssh.plist; then
	say "sshd: bootstrapped"
else
	say "sshd: bootstrap refused (already loaded?); kickstarting it"
	launchctl kickstart -k system/com.openssh.sshd
fi
port22() { nc -z -G 2 127.0.0.1 22 >/dev/null 2>&1; }
waited=0
while ! port22 && [ "$waited" -lt 60 ]; do
	sleep 1
	waited=$((waited + 1))
done
if ! port22; then
	# Not ready: launchd runs this again at the next boot.
	say "PROVISIONING_FAILED: sshd is not listening on port 22 after $waited s (launchctl print system/com.openssh.sshd)"
	exit 1
fi
say "sshd listens on port 22"
echo PROVISIONING_READY

# Setup Assistant, if it came up all the same: ended once, and only once the console
# is the user's (killing it earlier, or its helpers, crashed WallpaperAgent for Lima).
waited=0
while [ "$(stat -f %Su /dev/console 2>/dev/null)" != "$user" ] && [ "$waited" -lt 120 ]; do
	sleep 1
	waited=$((waited + 1))
done
if [ "$(stat -f %Su /dev/console 2>/dev/null)" = "$user" ] && pgrep -x 'Setup Assistant' >/dev/null 2>&1; then
	say "Setup Assistant is up in $user's session: ending it"
	pkill -x 'Setup Assistant'
fi

rm -f /Library/LaunchDaemons/com.claw.firstboot.plist "$0"
launchctl bootout system/com.claw.firstboot

/* inject: the guest's files, built from claw.yml and what the guest already holds. */
#include "inject.h"
#include "config.h"
#include "dslocal.h"
#include "kcpassword.h"
#include "log.h"
#include "plistx.h"
#include "spawn.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROOT 0
#define WHEEL 0

int inject_parts(const char *list, int *mask)
{
	static const struct { const char *name; int bit; } parts[] = {
		{ "user", INJECT_USER }, { "ssh", INJECT_SSH }, { "autologin", INJECT_AUTOLOGIN }, { "sudo", INJECT_SUDO },
		{ "setup", INJECT_SETUP }, { "firstboot", INJECT_FIRSTBOOT }, { "vnc", INJECT_VNC },
	};
	*mask = 0;
	char *copy = xstrdup(list), *save = NULL;
	int rc = 0;
	for (char *t = strtok_r(copy, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
		int bit = 0;
		for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
			if (!strcmp(t, parts[i].name))
				bit = parts[i].bit;
		if (!bit)
			rc = fail(EX_USAGE, "unknown part '%s' (parts: user, ssh, vnc, autologin, sudo, setup, firstboot)", t);
		*mask |= bit;
	}
	free(copy);
	return rc;
}

/* A file already in the guest, or nothing. */
static bool read_guest(const struct inject_ctx *c, const char *rel, struct buf *out)
{
	char *full = xasprintf("%s/%s", c->root, rel);
	bool ok = access(full, F_OK) == 0 && file_read(full, 16 << 20, out) == 0;
	free(full);
	return ok;
}

/* A plist already in the guest as a dictionary to merge into, or a new one. */
static plist_t guest_dict(const struct inject_ctx *c, const char *rel)
{
	struct buf old = BUF_ZERO;
	plist_t d = read_guest(c, rel, &old) ? plistx_parse(old.data, old.len, rel) : plist_new_dict();
	buf_free(&old);
	if (d && plist_get_node_type(d) != PLIST_DICT) {
		plist_free(d);
		d = NULL;
		fail(EX_DATAERR, "'%s' in the guest is not a dictionary", rel);
	}
	return d;
}

static const char *need_password(const struct inject_ctx *c, const char *part)
{
	const char *pw = c->cfg->access.password;
	if (!pw)
		fail(EX_CONFIG, "the %s part needs access.password (or CLAW_PASSWORD)", part);
	return pw;
}

int inject_user(struct inject_ctx *c, struct payload *p)
{
	const char *name = c->cfg->access.username, *pw = need_password(c, "user");
	if (!pw)
		return -1;
	char *urel = xasprintf(DSLOCAL_USERS "/%s.plist", name);
	struct buf old = BUF_ZERO, grp = BUF_ZERO;
	bool had = read_guest(c, urel, &old);
	char uuid[37], *rec, *g;
	size_t reclen, glen;
	int rc = dslocal_user(name, pw, had ? old.data : NULL, old.len, &rec, &reclen, uuid);
	bool had_group = rc == 0 && read_guest(c, DSLOCAL_GROUPS "/admin.plist", &grp);
	if (rc == 0)
		rc = dslocal_admin_group(had_group ? grp.data : NULL, grp.len, name, uuid, &g, &glen);
	if (rc == 0) {
		payload_file(p, urel, rec, reclen, ROOT, WHEEL, 0600);
		payload_file(p, DSLOCAL_GROUPS "/admin.plist", g, glen, ROOT, WHEEL, 0600);
		char *home = xasprintf("Users/%s", name);
		payload_dir(p, home, DSLOCAL_UID, DSLOCAL_STAFF_GID, 0750);
		free(home);
		free(rec);
		free(g);
	}
	buf_free(&old);
	buf_free(&grp);
	free(urel);
	return rc;
}

/* A dictionary this run already means to write, else the guest's: two parts may
 * each set a key in one file (disabled.plist), and neither may lose the other's. */
static plist_t pending_dict(struct inject_ctx *c, struct payload *p, const char *rel)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->items[i].path, rel))
			return plistx_parse(p->items[i].data.data, p->items[i].data.len, rel);
	return guest_dict(c, rel);
}

/* launchd's override: label = false enables a daemon; the guest's other keys are kept. */
static int launchd_enable(struct inject_ctx *c, struct payload *p, const char *label)
{
	const char *rel = "private/var/db/com.apple.xpc.launchd/disabled.plist";
	plist_t d = pending_dict(c, p, rel);
	if (!d)
		return -1;
	plist_dict_set_item(d, label, plist_new_bool(0));
	size_t n;
	char *bin = plistx_to_bin(d, &n);
	payload_file(p, rel, bin, n, ROOT, WHEEL, 0644);
	free(bin);
	plist_free(d);
	return 0;
}

/* A host key: the guest's own if it has one (so known_hosts stays true), else a new one from ssh-keygen. */
static int host_key(struct inject_ctx *c, struct payload *p, const char *type)
{
	char *rel = xasprintf("private/etc/ssh/ssh_host_%s_key", type), *relpub = xasprintf("%s.pub", rel);
	struct buf priv = BUF_ZERO, pub = BUF_ZERO;
	int rc = 0;
	if (!read_guest(c, rel, &priv) || !read_guest(c, relpub, &pub)) {
		buf_free(&priv);
		buf_free(&pub);
		char dir[] = "/tmp/claw-hostkey.XXXXXX";
		if (!mkdtemp(dir))
			return free(rel), free(relpub), fail_sys(EX_CANTCREAT, "cannot make a temporary folder");
		char *key = xasprintf("%s/k", dir), *keypub = xasprintf("%s/k.pub", dir);
		const char *argv[] = { "ssh-keygen", "-q", "-t", type, "-N", "", "-C", "", "-f", key, NULL };
		struct spawn_opts o = SPAWN_OPTS_ZERO;
		struct spawn_result r;
		o.capture_out = o.capture_err = true;
		rc = spawn_run(argv, &o, &r);
		if (rc == 0 && r.status != 0)
			rc = fail(EX_SOFTWARE, "ssh-keygen -t %s failed: %s", type, r.err.data ? r.err.data : "");
		spawn_result_free(&r);
		if (rc == 0 && (file_read(key, 1 << 16, &priv) < 0 || file_read(keypub, 1 << 16, &pub) < 0))
			rc = -1;
		unlink(key);
		unlink(keypub);
		rmdir(dir);
		free(key);
		free(keypub);
	}
	if (rc == 0) {
		payload_file(p, rel, priv.data, priv.len, ROOT, WHEEL, 0600);
		payload_file(p, relpub, pub.data, pub.len, ROOT, WHEEL, 0644);
		/* "*": the bundle's known_hosts is for this guest alone, whatever address it gets. */
		char *sp = strchr(pub.data, ' '), *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
		size_t keylen = sp2 ? (size_t)(sp2 - pub.data) : strcspn(pub.data, "\n");
		buf_adds(&c->known_hosts, "* ");
		buf_add(&c->known_hosts, pub.data, keylen);
		buf_adds(&c->known_hosts, "\n");
	}
	buf_free(&priv);
	buf_free(&pub);
	free(rel);
	free(relpub);
	return rc;
}

static const char backup_sshd[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
	"<plist version=\"1.0\">\n<dict>\n"
	"\t<key>Label</key>\n\t<string>com.claw.sshd</string>\n"
	"\t<key>ProgramArguments</key>\n\t<array>\n\t\t<string>/usr/sbin/sshd</string>\n\t\t<string>-D</string>\n\t</array>\n"
	"\t<key>RunAtLoad</key>\n\t<true/>\n"
	"</dict>\n</plist>\n";

/* Until provisioning hardens it (the same file, "no"): keys and passwords both log in.
 * macOS's sshd_config includes sshd_config.d/ first and sshd keeps the first value it
 * reads, so 000- outranks Apple's 100-macos.conf without editing Apple's file. */
static const char sshd_dropin[] =
	"# Written by claw-inject; claw-provision's SSH hardening step replaces it.\n"
	"PubkeyAuthentication yes\n"
	"PasswordAuthentication yes\n"
	"KbdInteractiveAuthentication yes\n";

int inject_ssh(struct inject_ctx *c, struct payload *p)
{
	if (launchd_enable(c, p, "com.openssh.sshd") < 0)
		return -1;
	static const char *const types[] = { "rsa", "ecdsa", "ed25519" };
	for (size_t i = 0; i < 3; i++)
		if (host_key(c, p, types[i]) < 0)
			return -1;
	payload_file(p, "Library/LaunchDaemons/com.claw.sshd.plist", backup_sshd, strlen(backup_sshd), ROOT, WHEEL, 0644);
	payload_file(p, "private/etc/ssh/sshd_config.d/000-claw.conf", sshd_dropin, strlen(sshd_dropin), ROOT, WHEEL, 0644);
	struct buf keys = BUF_ZERO;
	if (c->cfg->access.ssh_pubkey)
		buf_adds(&keys, c->cfg->access.ssh_pubkey);
	if (keys.len && keys.data[keys.len - 1] != '\n')
		buf_adds(&keys, "\n");
	if (c->pubkeys)
		buf_adds(&keys, c->pubkeys);
	char *dir = xasprintf("Users/%s/.ssh", c->cfg->access.username), *ak = xasprintf("%s/authorized_keys", dir);
	payload_dir(p, dir, DSLOCAL_UID, DSLOCAL_STAFF_GID, 0700);
	payload_file(p, ak, keys.data ? keys.data : "", keys.len, DSLOCAL_UID, DSLOCAL_STAFF_GID, 0600);
	buf_free(&keys);
	free(dir);
	free(ak);
	return 0;
}

int inject_autologin(struct inject_ctx *c, struct payload *p)
{
	const char *pw = need_password(c, "autologin");
	if (!pw)
		return -1;
	size_t n;
	unsigned char *kc = kcpassword_encode(pw, &n);
	payload_file(p, "private/etc/kcpassword", kc, n, ROOT, WHEEL, 0600);
	secure_zero(kc, n);
	free(kc);
	const char *rel = "Library/Preferences/com.apple.loginwindow.plist";
	plist_t d = guest_dict(c, rel);
	if (!d)
		return -1;
	plist_dict_set_item(d, "autoLoginUser", plist_new_string(c->cfg->access.username));
	plist_dict_set_item(d, "lastUser", plist_new_string("loggedIn"));
	plist_dict_set_item(d, "autoLoginUserScreenLocked", plist_new_bool(0));
	char *bin = plistx_to_bin(d, &n);
	payload_file(p, rel, bin, n, ROOT, WHEEL, 0644);
	free(bin);
	plist_free(d);
	return 0;
}

int inject_sudo(struct inject_ctx *c, struct payload *p)
{
	const char *name = c->cfg->access.username;
	char *rule = xasprintf("# Written by claw-inject: %s may use sudo without a password.\n%s ALL=(ALL) NOPASSWD: ALL\n",
			       name, name);
	char *rel = xasprintf("private/etc/sudoers.d/claw-%s", name);
	int rc = 0;
	const char *const which[] = { "sh", "-c", "command -v visudo", NULL };
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	struct spawn_result r;
	o.capture_out = true;
	if (spawn_run(which, &o, &r) == 0 && r.status == 0) {
		/* A broken sudoers file locks sudo out for everyone: let visudo read it first. */
		char tmp[] = "/tmp/claw-sudoers.XXXXXX";
		int fd = mkstemp(tmp);
		if (fd < 0 || write_all(fd, rule, strlen(rule)) < 0 || close(fd) < 0)
			rc = fail_sys(EX_CANTCREAT, "cannot write a temporary file");
		const char *argv[] = { "visudo", "-c", "-q", "-f", tmp, NULL };
		struct spawn_result v = SPAWN_RESULT_ZERO;
		struct spawn_opts vo = SPAWN_OPTS_ZERO;
		vo.capture_out = vo.capture_err = true;
		if (rc == 0 && (rc = spawn_run(argv, &vo, &v)) == 0 && v.status != 0)
			rc = fail(EX_SOFTWARE, "visudo refuses the sudoers rule: %s", v.err.data ? v.err.data : "");
		spawn_result_free(&v);
		unlink(tmp);
	}
	spawn_result_free(&r);
	if (rc == 0)
		payload_file(p, rel, rule, strlen(rule), ROOT, WHEEL, 0440);
	free(rule);
	free(rel);
	return rc;
}

/* ---- Setup Assistant: the offline layers, so the first boot lands at a desktop ---- */

const char *const inject_skip_keys[] = {
	"Accessibility", "Appearance", "AppStore", "Biometric", "DisplayTone", "EnableLockdownMode", "FileVault",
	"iCloudDiagnostics", "iCloudStorage", "Intelligence", "Location", "Payment", "Privacy", "ScreenTime", "Siri",
	"TermsOfAddress", "Wallpaper", "Welcome", NULL,
};

static const char *const did_see[] = {
	"DidSeeCloudSetup", "DidSeeSiriSetup", "DidSeePrivacy", "DidSeeAccessibility", "DidSeeAppearanceSetup",
	"DidSeeScreenTime", "DidSeeiCloudLoginForStorageServices", "DidSeeTrueTonePrivacy", "DidSeeTouchIDSetup",
	"DidSeeApplePaySetup", "DidSeeActivationLock", "DidSeeSyncSetup", "DidSeeSyncSetup2", "DidSeeTermsOfAddress",
	"DidSeeIntelligence", "DidSeeLockdownMode", NULL,
};

static const char *const managed_skips[] = {
	"SkipCloudSetup", "SkipSiriSetup", "SkipPrivacySetup", "SkipiCloudStorageSetup", "SkipTrueTone", "SkipAppearance",
	"SkipTouchIDSetup", "SkipScreenTime", "SkipAccessibility", "SkipUnlockWithWatch", "SkipWallpaper", NULL,
};

static void add_plist(struct payload *p, const char *rel, plist_t d, unsigned uid, unsigned gid, unsigned mode)
{
	size_t n;
	char *bin = plistx_to_bin(d, &n);
	payload_file(p, rel, bin, n, uid, gid, mode);
	free(bin);
	plist_free(d);
}

/* The DidSee* keys and the versions they were seen at: what the mini Setup Assistant checks after login. */
static plist_t seen(const struct inject_ctx *c)
{
	plist_t d = plist_new_dict();
	for (int i = 0; did_see[i]; i++)
		plist_dict_set_item(d, did_see[i], plist_new_bool(1));
	plist_dict_set_item(d, "MiniBuddyLaunchedPostMigration", plist_new_bool(1));
	plist_dict_set_item(d, "MiniBuddyLaunchReason", plist_new_uint(0));
	plist_dict_set_item(d, "LastPrivacyBundleVersion", plist_new_string("2"));
	static const char *const by_version[] = { "LastSeenCloudProductVersion", "LastPreLoginTasksPerformedVersion",
						  "LastSeenIntelligenceProductVersion", "LastSeenDiagnosticsProductVersion",
						  "LastSeenSiriProductVersion", NULL };
	static const char *const by_build[] = { "LastPreLoginTasksPerformedBuild", "LastSeenBuddyBuildVersion", NULL };
	/* A version too high is harmless; a missing one brings the screens back. */
	const char *v = c->os_version ? c->os_version : "99.0";
	for (int i = 0; by_version[i]; i++)
		plist_dict_set_item(d, by_version[i], plist_new_string(v));
	for (int i = 0; c->os_build && by_build[i]; i++)
		plist_dict_set_item(d, by_build[i], plist_new_string(c->os_build));
	return d;
}

int inject_setup(struct inject_ctx *c, struct payload *p)
{
	const char *name = c->cfg->access.username;
	/* 1, 2: the markers that say setup has run and registration is done. */
	payload_file(p, "private/var/db/.AppleSetupDone", "", 0, ROOT, WHEEL, 0400);
	payload_file(p, "Library/Receipts/.SetupRegComplete", "", 0, ROOT, WHEEL, 0644);
	/* 3: .skipbuddy in both User Template folders, for every user made later too. */
	payload_file(p, "Library/User Template/English.lproj/.skipbuddy", "", 0, ROOT, WHEEL, 0644);
	payload_file(p, "Library/User Template/Non_localized/.skipbuddy", "", 0, ROOT, WHEEL, 0644);
	/* 4: the user's own SetupAssistant preferences. */
	char *home = xasprintf("Users/%s", name), *lib = xasprintf("Users/%s/Library", name), *prefs = xasprintf("%s/Preferences", lib),
	     *plist = xasprintf("%s/com.apple.SetupAssistant.plist", prefs);
	payload_dir(p, home, DSLOCAL_UID, DSLOCAL_STAFF_GID, 0750);
	payload_dir(p, lib, DSLOCAL_UID, DSLOCAL_STAFF_GID, 0700);
	payload_dir(p, prefs, DSLOCAL_UID, DSLOCAL_STAFF_GID, 0700);
	add_plist(p, plist, seen(c), DSLOCAL_UID, DSLOCAL_STAFF_GID, 0600);
	free(plist);
	free(prefs);
	free(lib);
	free(home);
	/* 5: the managed preferences, as a profile would set them: every pane skipped. */
	plist_t m = plist_new_dict();
	for (int i = 0; managed_skips[i]; i++)
		plist_dict_set_item(m, managed_skips[i], plist_new_bool(1));
	plist_t items = plist_new_array();
	for (int i = 0; inject_skip_keys[i]; i++)
		plist_array_append_item(items, plist_new_string(inject_skip_keys[i]));
	plist_dict_set_item(m, "SkipSetupItems", items);
	add_plist(p, "Library/Preferences/com.apple.SetupAssistant.managed.plist", m, ROOT, WHEEL, 0644);
	/* 6: the system-wide DidSee* plist. */
	add_plist(p, "Library/Preferences/com.apple.SetupAssistant.plist", seen(c), ROOT, WHEEL, 0644);
	return 0;
}

/* ---- VNC: Screen Sharing for VNC clients, with the password claw.yml gives ---- */

int inject_vnc(struct inject_ctx *c, struct payload *p)
{
	const char *pw = c->cfg->access.vnc_password;
	if (!pw)
		return 0;
	char line[34];
	vncsettings_encode(pw, line);
	payload_file(p, "Library/Preferences/com.apple.VNCSettings.txt", line, 33, ROOT, WHEEL, 0600);
	secure_zero(line, sizeof line);
	const char *rel = "Library/Preferences/com.apple.RemoteManagement.plist";
	plist_t rm = guest_dict(c, rel);
	if (!rm)
		return -1;
	/* Legacy VNC: a plain VNC client with the password, no request to the logged-in user. */
	plist_dict_set_item(rm, "VNCLegacyConnectionsEnabled", plist_new_bool(1));
	plist_dict_set_item(rm, "ScreenSharingReqPermEnabled", plist_new_bool(0));
	add_plist(p, rel, rm, ROOT, WHEEL, 0644);
	return launchd_enable(c, p, "com.apple.screensharing");
}

/* ---- first boot: what only the running guest can do, then PROVISIONING_READY ---- */

static const char firstboot_body[] =
	"exec >>/var/log/claw-firstboot.log 2>&1\n"
	"echo \"claw first boot: $(date -u +%Y-%m-%dT%H:%M:%SZ)\"\n"
	"# Setup Assistant can still start on a first boot: end it for 15 s while the offline layers take.\n"
	"( i=0; while [ \"$i\" -lt 15 ]; do pkill -x 'Setup Assistant' 2>/dev/null; i=$((i + 1)); sleep 1; done ) &\n"
	"killer=$!\n"
	"if ! dscl . -read \"/Users/$user\" >/dev/null 2>&1; then\n"
	"\techo \"the offline user record did not take: creating $user with dscl (no password; keys only)\"\n"
	"\tdscl . -create \"/Users/$user\"\n"
	"\tdscl . -create \"/Users/$user\" UserShell /bin/zsh\n"
	"\tdscl . -create \"/Users/$user\" RealName \"$user\"\n"
	"\tdscl . -create \"/Users/$user\" UniqueID 501\n"
	"\tdscl . -create \"/Users/$user\" PrimaryGroupID 20\n"
	"\tdscl . -create \"/Users/$user\" NFSHomeDirectory \"/Users/$user\"\n"
	"\tcreatehomedir -c -u \"$user\"\n"
	"fi\n"
	"dseditgroup -o checkmember -m \"$user\" admin >/dev/null 2>&1 || dseditgroup -o edit -a \"$user\" -t user admin\n"
	"systemsetup -setremotelogin on\n"
	"launchctl enable system/com.openssh.sshd\n"
	"if [ -f /Library/Preferences/com.apple.VNCSettings.txt ]; then\n"
	"\tlaunchctl enable system/com.apple.screensharing\n"
	"\tlaunchctl bootstrap system /System/Library/LaunchDaemons/com.apple.screensharing.plist 2>/dev/null || true\n"
	"fi\n"
	"if [ -d \"/Users/$user/.ssh\" ]; then\n"
	"\tchown -R 501:20 \"/Users/$user/.ssh\"\n"
	"\tchmod 700 \"/Users/$user/.ssh\"\n"
	"\tchmod 600 \"/Users/$user/.ssh/authorized_keys\" 2>/dev/null\n"
	"fi\n"
	"# A sudoers file visudo rejects would lock sudo for everyone: drop it instead.\n"
	"if [ -f \"/etc/sudoers.d/claw-$user\" ] && ! visudo -c -f \"/etc/sudoers.d/claw-$user\" >/dev/null; then\n"
	"\trm -f \"/etc/sudoers.d/claw-$user\"\n"
	"fi\n"
	"wait \"$killer\"\n"
	"# The marker first: provisioning waits for it, and the rest of this script may not get to run.\n"
	"echo PROVISIONING_READY\n"
	"rm -f /Library/LaunchDaemons/com.claw.firstboot.plist \"$0\"\n"
	"launchctl bootout system/com.claw.firstboot\n";

static const char firstboot_daemon[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
	"<plist version=\"1.0\">\n<dict>\n"
	"\t<key>Label</key>\n\t<string>com.claw.firstboot</string>\n"
	"\t<key>ProgramArguments</key>\n\t<array>\n\t\t<string>/bin/sh</string>\n"
	"\t\t<string>/Library/Scripts/claw-firstboot.sh</string>\n\t</array>\n"
	"\t<key>RunAtLoad</key>\n\t<true/>\n"
	"</dict>\n</plist>\n";

int inject_firstboot(struct inject_ctx *c, struct payload *p)
{
	struct buf s = BUF_ZERO;
	char *user = sh_quote(c->cfg->access.username);
	buf_adds(&s, "#!/bin/sh\n# claw first boot, written by claw-inject. Values from claw.yml are quoted as data.\n");
	/* Quoted either way, so the line reads as data to people and to shellcheck alike. */
	buf_addf(&s, user[0] == '\'' ? "user=%s\n" : "user='%s'\n", user);
	buf_adds(&s, firstboot_body);
	payload_file(p, "Library/Scripts/claw-firstboot.sh", s.data, s.len, ROOT, WHEEL, 0700);
	payload_file(p, "Library/LaunchDaemons/com.claw.firstboot.plist", firstboot_daemon, strlen(firstboot_daemon), ROOT,
		     WHEEL, 0644);
	buf_free(&s);
	free(user);
	return 0;
}

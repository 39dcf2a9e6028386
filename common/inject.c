/* inject: the guest's files, built from claw.yml and what the guest already holds. */
#include "inject.h"
#include "config.h"
#include "dslocal.h"
#include "kcpassword.h"
#include "log.h"
#include "plistx.h"
#include "spawn.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOT 0
#define WHEEL 0

/* share/claw/guest/, compiled in. */
extern const char claw_guest_firstboot[];
extern const char claw_guest_firstboot_plist[];

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

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int inject_refuse_host(const char *root)
{
	/* /System/Volumes/Data is macOS's Data volume; / is on every host. */
	static const char *const hosts[] = { "/", "/System/Volumes/Data", NULL };
	static const char *const dslocal[] = { "/private/var/db/dslocal", "/var/db/dslocal", NULL };
	for (int i = 0; hosts[i]; i++)
		if (same_file(root, hosts[i]))
			return fail(EX_USAGE, "--root '%s' is the running system's '%s'; claw-inject writes into a guest's "
					      "Data volume, never into this machine", root, hosts[i]);
	char *ds = xasprintf("%s/private/var/db/dslocal", root);
	int rc = 0;
	for (int i = 0; dslocal[i] && rc == 0; i++)
		if (same_file(ds, dslocal[i]))
			rc = fail(EX_USAGE, "--root '%s' holds the running system's %s; claw-inject writes into a guest's "
					    "Data volume, never into this machine", root, dslocal[i]);
	free(ds);
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

int inject_prepare(struct inject_ctx *c)
{
	char *groups = xasprintf("%s/" DSLOCAL_GROUPS "/admin.plist", c->root);
	int rc = 0;
	/* --root may build a Data volume from nothing; a disk claw attached must already be one. */
	if (c->attached && access(groups, F_OK) < 0)
		rc = fail(EX_DATAERR, "'%s' has no %s: not a macOS Data volume", c->root, DSLOCAL_GROUPS "/admin.plist");
	free(groups);
	char *users = xasprintf("%s/" DSLOCAL_USERS, c->root);
	if (rc == 0)
		rc = dslocal_pick_uid(users, c->cfg->access.username, &c->uid);
	free(users);
	return rc;
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
	int rc = dslocal_user(name, pw, c->uid, had ? old.data : NULL, old.len, &rec, &reclen, uuid);
	bool had_group = rc == 0 && read_guest(c, DSLOCAL_GROUPS "/admin.plist", &grp);
	if (rc == 0)
		rc = dslocal_admin_group(had_group ? grp.data : NULL, grp.len, name, uuid, &g, &glen);
	if (rc == 0) {
		/* The record holds the password's hash: no digest of it goes into inject.json. */
		payload_secret(p, urel, rec, reclen, ROOT, WHEEL, 0600);
		payload_file(p, DSLOCAL_GROUPS "/admin.plist", g, glen, ROOT, WHEEL, 0600);
		char *home = xasprintf("Users/%s", name);
		payload_dir(p, home, c->uid, DSLOCAL_STAFF_GID, 0750);
		free(home);
		secure_zero(rec, reclen);
		free(rec);
		free(g);
	}
	buf_free(&old);
	buf_free(&grp);
	free(urel);
	return rc;
}

int inject_launchd_overrides(const char *old, size_t oldlen, const char *what, const char *label, char **xml,
			     size_t *len)
{
	plist_t d = old ? plistx_parse(old, oldlen, what) : plist_new_dict();
	if (!d)
		return -1;
	if (plist_get_node_type(d) != PLIST_DICT) {
		plist_free(d);
		return fail(EX_DATAERR, "'%s' in the guest is not a dictionary", what);
	}
	plist_dict_set_item(d, label, plist_new_bool(0));
	if (plist_dict_get_item(d, "com.claw.sshd"))
		plist_dict_remove_item(d, "com.claw.sshd");
	*xml = plistx_to_xml(d, len);
	plist_free(d);
	return *xml ? 0 : fail(EX_SOFTWARE, "libplist cannot write %s", what);
}

/* launchd's override for label, merged into what this run already means to write there, else
 * into the guest's: two parts may each enable a daemon in it, and neither may lose the other's. */
static int launchd_enable(struct inject_ctx *c, struct payload *p, const char *label)
{
	const char *rel = "private/var/db/com.apple.xpc.launchd/disabled.plist";
	const struct buf *pending = NULL;
	struct buf guest = BUF_ZERO;
	for (size_t i = 0; i < p->n && !pending; i++)
		if (!strcmp(p->items[i].path, rel))
			pending = &p->items[i].data;
	if (!pending && read_guest(c, rel, &guest))
		pending = &guest;
	char *xml;
	size_t n;
	const char *old = pending ? (pending->data ? pending->data : "") : NULL;
	int rc = inject_launchd_overrides(old, pending ? pending->len : 0, rel, label, &xml, &n);
	buf_free(&guest);
	if (rc < 0)
		return -1;
	payload_file(p, rel, xml, n, ROOT, WHEEL, 0644);
	free(xml);
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
		payload_secret(p, rel, priv.data, priv.len, ROOT, WHEEL, 0600);
		payload_file(p, relpub, pub.data, pub.len, ROOT, WHEEL, 0644);
		/* "*": the bundle's known_hosts is for this guest alone, whatever address it gets. */
		char *sp = strchr(pub.data, ' '), *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
		size_t keylen = sp2 ? (size_t)(sp2 - pub.data) : strcspn(pub.data, "\n");
		buf_adds(&c->known_hosts, "* ");
		buf_add(&c->known_hosts, pub.data, keylen);
		buf_adds(&c->known_hosts, "\n");
	}
	if (priv.data)
		secure_zero(priv.data, priv.len);
	buf_free(&priv);
	buf_free(&pub);
	free(rel);
	free(relpub);
	return rc;
}

/* Keys only unless claw.yml asks for passwords: the bundle's own key is always
 * authorized, so claw never needs one. macOS's sshd_config includes sshd_config.d/
 * first and sshd keeps the first value it reads, so 000- outranks Apple's
 * 100-macos.conf without editing Apple's file. */
static char *sshd_dropin(bool passwords)
{
	const char *v = passwords ? "yes" : "no";
	return xasprintf("# Written by claw-inject (access.ssh_password_login: %s).\n"
			 "PubkeyAuthentication yes\n"
			 "PasswordAuthentication %s\n"
			 "KbdInteractiveAuthentication %s\n",
			 passwords ? "true" : "false", v, v);
}

int inject_ssh(struct inject_ctx *c, struct payload *p)
{
	if (launchd_enable(c, p, "com.openssh.sshd") < 0)
		return -1;
	static const char *const types[] = { "rsa", "ecdsa", "ed25519" };
	for (size_t i = 0; i < 3; i++)
		if (host_key(c, p, types[i]) < 0)
			return -1;
	/* An earlier claw's second root sshd: it ignored Remote Login and the hardening. */
	payload_remove(p, "Library/LaunchDaemons/com.claw.sshd.plist");
	char *dropin = sshd_dropin(c->cfg->access.ssh_password_login);
	payload_file(p, "private/etc/ssh/sshd_config.d/000-claw.conf", dropin, strlen(dropin), ROOT, WHEEL, 0644);
	free(dropin);
	struct buf keys = BUF_ZERO;
	if (c->cfg->access.ssh_pubkey)
		buf_adds(&keys, c->cfg->access.ssh_pubkey);
	if (keys.len && keys.data[keys.len - 1] != '\n')
		buf_adds(&keys, "\n");
	if (c->pubkeys)
		buf_adds(&keys, c->pubkeys);
	char *dir = xasprintf("Users/%s/.ssh", c->cfg->access.username), *ak = xasprintf("%s/authorized_keys", dir);
	payload_dir(p, dir, c->uid, DSLOCAL_STAFF_GID, 0700);
	payload_file(p, ak, keys.data ? keys.data : "", keys.len, c->uid, DSLOCAL_STAFF_GID, 0600);
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
	payload_secret(p, "private/etc/kcpassword", kc, n, ROOT, WHEEL, 0600);
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

char *inject_sudoers_name(const char *user)
{
	char *name = xasprintf("claw-%s", user);
	for (char *q = name; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_')
			*q = '_'; /* '.' above all: sudo skips such a file without a word */
	return name;
}

int inject_sudo(struct inject_ctx *c, struct payload *p)
{
	const char *name = c->cfg->access.username;
	char *rule = xasprintf("# Written by claw-inject: %s may use sudo without a password.\n%s ALL=(ALL) NOPASSWD: ALL\n",
			       name, name);
	char *file = inject_sudoers_name(name);
	char *rel = xasprintf("private/etc/sudoers.d/%s", file), *dotted = xasprintf("private/etc/sudoers.d/claw-%s", name);
	/* An earlier claw wrote the name as it was: sudo never read it, and it goes. */
	if (strcmp(rel, dotted))
		payload_remove(p, dotted);
	free(dotted);
	free(file);
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
	"Accessibility", "Appearance", "AppleID", "AppStore", "Biometric", "Diagnostics", "DisplayTone",
	"EnableLockdownMode", "FileVault", "iCloudDiagnostics", "iCloudStorage", "Intelligence", "Location", "Passcode",
	"Payment", "Privacy", "Restore", "ScreenTime", "Siri", "TermsOfAddress", "TOS", "Wallpaper", "Welcome", NULL,
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

/* "15.2", "26.0.1": what sw_vers -productVersion says. */
static bool version_ok(const char *v)
{
	return v && isdigit((unsigned char)v[0]) && strlen(v) < 16 && strspn(v, "0123456789.") == strlen(v);
}

static bool build_ok(const char *b)
{
	size_t n = b ? strlen(b) : 0;
	while (n && isalnum((unsigned char)b[n - 1]))
		n--;
	return b && *b && n == 0 && strlen(b) < 16;
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
	for (int i = 0; by_version[i]; i++)
		plist_dict_set_item(d, by_version[i], plist_new_string(c->os_version));
	for (int i = 0; build_ok(c->os_build) && by_build[i]; i++)
		plist_dict_set_item(d, by_build[i], plist_new_string(c->os_build));
	return d;
}

/* LastSeen* must be the guest's own version: one too low or missing brings the screens back. */
static int need_version(const struct inject_ctx *c)
{
	if (!version_ok(c->os_version))
		return fail(EX_DATAERR,
			    "the guest's macOS version is %s%s%s; the Setup Assistant part needs it: claw-restore records it "
			    "in config.json (os.version), or claw-resolve -b BUNDLE VERSION writes ipsw.json",
			    c->os_version ? "'" : "unknown", c->os_version ? c->os_version : "", c->os_version ? "', not a version" : "");
	return 0;
}

int inject_setup(struct inject_ctx *c, struct payload *p)
{
	const char *name = c->cfg->access.username;
	if (need_version(c) < 0)
		return -1;
	/* 1, 2: the markers that say setup has run and registration is done. */
	payload_file(p, "private/var/db/.AppleSetupDone", "", 0, ROOT, WHEEL, 0400);
	payload_file(p, "Library/Receipts/.SetupRegComplete", "", 0, ROOT, WHEEL, 0644);
	/* 3: .skipbuddy in both User Template folders, for every user made later too. */
	payload_file(p, "Library/User Template/English.lproj/.skipbuddy", "", 0, ROOT, WHEEL, 0644);
	payload_file(p, "Library/User Template/Non_localized/.skipbuddy", "", 0, ROOT, WHEEL, 0644);
	/* 4: the user's own SetupAssistant preferences. */
	char *home = xasprintf("Users/%s", name), *lib = xasprintf("Users/%s/Library", name), *prefs = xasprintf("%s/Preferences", lib),
	     *plist = xasprintf("%s/com.apple.SetupAssistant.plist", prefs);
	payload_dir(p, home, c->uid, DSLOCAL_STAFF_GID, 0750);
	payload_dir(p, lib, c->uid, DSLOCAL_STAFF_GID, 0700);
	payload_dir(p, prefs, c->uid, DSLOCAL_STAFF_GID, 0700);
	add_plist(p, plist, seen(c), c->uid, DSLOCAL_STAFF_GID, 0600);
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
	payload_secret(p, "Library/Preferences/com.apple.VNCSettings.txt", line, 33, ROOT, WHEEL, 0600);
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

/* name='value' as sh reads it: sh_quote leaves a plain word bare, quoted here all the same. */
static void assign(struct buf *s, const char *name, const char *value)
{
	char *q = sh_quote(value);
	buf_addf(s, q[0] == '\'' ? "%s=%s\n" : "%s='%s'\n", name, q);
	free(q);
}

int inject_firstboot(struct inject_ctx *c, struct payload *p)
{
	/* The template's own values, replaced line for line by this guest's. */
	static const char values[] = "user='admin'\nuid='501'\nversion='15.0'\nsudoers='claw-admin'\n";
	const char *at = strstr(claw_guest_firstboot, values);
	if (!at)
		return fail(EX_SOFTWARE, "the first-boot template has no values block");
	struct buf s = BUF_ZERO;
	char uid[16], *sudoers = inject_sudoers_name(c->cfg->access.username);
	snprintf(uid, sizeof uid, "%u", c->uid);
	buf_add(&s, claw_guest_firstboot, (size_t)(at - claw_guest_firstboot));
	assign(&s, "user", c->cfg->access.username);
	assign(&s, "uid", uid);
	assign(&s, "version", version_ok(c->os_version) ? c->os_version : "unknown");
	assign(&s, "sudoers", sudoers);
	buf_adds(&s, at + strlen(values));
	payload_file(p, "Library/Scripts/claw-firstboot.sh", s.data, s.len, ROOT, WHEEL, 0700);
	payload_file(p, "Library/LaunchDaemons/com.claw.firstboot.plist", claw_guest_firstboot_plist,
		     strlen(claw_guest_firstboot_plist), ROOT, WHEEL, 0644);
	buf_free(&s);
	free(sudoers);
	return 0;
}

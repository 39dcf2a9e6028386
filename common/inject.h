/* inject: what claw writes into a guest's Data volume, part by part — the user
 * (dslocal record, admin group, home), SSH (launchd override, host keys,
 * authorized_keys, a key-only sshd drop-in), VNC (Screen Sharing), auto-login
 * (kcpassword, loginwindow), sudo, the Setup Assistant's offline layers and the
 * first-boot daemon — as payload items with owners and modes, secrets marked.
 * Reads what the guest already has and merges into it, so a rerun writes the
 * same tree. Never prints. */
#ifndef CLAW_INJECT_H
#define CLAW_INJECT_H

#include "payload.h"

struct claw_config;

enum {
	INJECT_USER = 1,
	INJECT_SSH = 2,
	INJECT_AUTOLOGIN = 4,
	INJECT_SUDO = 8,
	INJECT_SETUP = 16,
	INJECT_FIRSTBOOT = 32,
	INJECT_VNC = 64,
	INJECT_ALL = 127,
};

/* "user,ssh,..." into a mask; -1 (EX_USAGE) naming an unknown part. */
int inject_parts(const char *list, int *mask);

struct inject_ctx {
	const struct claw_config *cfg;
	const char *root;       /* the Data volume's root */
	const char *pubkeys;    /* authorized keys beyond the config's (the bundle's own), or NULL */
	struct buf known_hosts; /* the host keys' public halves, for the bundle */
	const char *os_version, *os_build; /* the guest's macOS, when the bundle knows it */
	bool attached;          /* root is a Data volume claw attached, not a --root tree */
	unsigned uid;           /* the user's, from inject_prepare */
};

/* --root DIR must not be the running system: DIR is '/', macOS's /System/Volumes/Data,
 * or holds this machine's own private/var/db/dslocal (the same device and inode):
 * EX_USAGE. Asked before anything is written. */
int inject_refuse_host(const char *root);
/* Before any part: an attached volume must be a macOS Data volume (it has the admin
 * group: EX_DATAERR otherwise); the user's uid is its record's own, else the lowest
 * free from 501 up. */
int inject_prepare(struct inject_ctx *c);
/* The sudoers.d file name for a user: "claw-" and the name, each '.' made '_' (sudo
 * skips a name with a dot, or one that ends in '~'). */
char *inject_sudoers_name(const char *user);

int inject_user(struct inject_ctx *c, struct payload *p);
int inject_ssh(struct inject_ctx *c, struct payload *p);
int inject_autologin(struct inject_ctx *c, struct payload *p);
int inject_sudo(struct inject_ctx *c, struct payload *p);
int inject_setup(struct inject_ctx *c, struct payload *p);
int inject_firstboot(struct inject_ctx *c, struct payload *p);
/* Screen Sharing with the VNC password; nothing when claw.yml has none. */
int inject_vnc(struct inject_ctx *c, struct payload *p);

/* launchd's overrides (disabled.plist) with label enabled (label = false) and the second root
 * sshd an earlier claw enabled taken out; the guest's other keys kept. old: the file's bytes
 * (what names it in errors), or NULL when it has none. *xml: XML, as launchd itself writes it
 * (free it). EX_DATAERR when old is not a dictionary plist. */
int inject_launchd_overrides(const char *old, size_t oldlen, const char *what, const char *label, char **xml,
			     size_t *len);

/* The SkipSetupItems keys claw writes: every one Apple's list marks as available on
 * macOS, a key with no macOS entry of its own taking the list's (10.9). */
extern const char *const inject_skip_keys[];

#endif

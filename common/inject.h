/* inject: what claw writes into a guest's Data volume, part by part — the user
 * (dslocal record, admin group, home), SSH (launchd override, host keys,
 * authorized_keys), VNC (Screen Sharing), auto-login (kcpassword, loginwindow),
 * sudo and the Setup Assistant's offline layers — as payload
 * items with owners and modes. Reads what the guest already has, so a rerun
 * writes the same tree. Never prints. */
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
};

int inject_user(struct inject_ctx *c, struct payload *p);
int inject_ssh(struct inject_ctx *c, struct payload *p);
int inject_autologin(struct inject_ctx *c, struct payload *p);
int inject_sudo(struct inject_ctx *c, struct payload *p);
int inject_setup(struct inject_ctx *c, struct payload *p);
int inject_firstboot(struct inject_ctx *c, struct payload *p);
/* Screen Sharing with the VNC password; nothing when claw.yml has none. */
int inject_vnc(struct inject_ctx *c, struct payload *p);

/* The SkipSetupItems keys claw writes: the ones Apple's list marks as available on macOS. */
extern const char *const inject_skip_keys[];

#endif

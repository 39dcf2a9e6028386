/* config: claw.yml — the schema, its validation, the built-in default, the
 * effective config (defaults filled in) as typed fields and as JSON.
 * Never prints: every problem is recorded with fail() as
 * "FILE:LINE:COL: what is wrong" and EX_CONFIG (EX_NOINPUT for a missing file). */
#ifndef CLAW_CONFIG_H
#define CLAW_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_BUILTIN "(built-in)"
#define CONFIG_MASK "********"
#define CONFIG_VNC_MAX 8 /* VNC's DES key is 8 bytes; longer passwords are cut by clients */

struct config_custom {
	char *name; /* NULL when the entry was a plain command */
	char *run;
};

/* A host folder the guest sees (vm.shares); checked at boot by common/shares.c. */
struct config_share {
	char *name;  /* the folder's base name unless given */
	char *path;  /* ~ expanded; relative to claw.yml's folder */
	bool read_only;
	char *where; /* "FILE:LINE:COL" of the entry, for messages */
};

struct config_list {
	char **items;
	size_t n;
};

struct claw_config {
	char *path; /* the file read, or CONFIG_BUILTIN */
	char *name;
	struct {
		int cpu;           /* clamped to the host */
		int cpu_requested; /* as written */
		uint64_t ram, disk;
		char *macos;
		int width, height, dpi;
		struct config_share *shares;
		size_t nshares;
	} vm;
	struct {
		char *username;
		char *password;     /* after CLAW_PASSWORD / password_file; NULL if none */
		char *ssh_key;      /* path of the public key file, or NULL */
		char *ssh_pubkey;   /* its content */
		char *vnc_password; /* after CLAW_VNC_PASSWORD / vnc_password_file; NULL if none */
		bool ssh_password_login; /* sshd takes passwords too; off: keys only */
	} access;
	struct {
		bool homebrew;
		struct config_list packages, casks, npm_global;
		struct config_custom *custom;
		size_t ncustom;
	} tools;
	json_t *tree; /* effective config; secrets in clear (see config_json) */
};

/* Load path (NULL: the built-in default), fill defaults, apply the environment. */
int config_load(const char *path, struct claw_config **out);
/* Load from memory; name is used in messages. */
int config_load_string(const char *text, size_t len, const char *name, struct claw_config **out);
void config_free(struct claw_config *cfg);
/* Secrets handed over by descriptors (what sudo cannot pass in the environment): each fd's
 * first line; one fd for both holds the password, then the VNC password. An empty line
 * leaves the configuration's own. Read to the end; -1 for no descriptor. */
int config_secrets_from_fds(struct claw_config *cfg, int password_fd, int vnc_fd);

/* The effective config as JSON (a new reference); secrets masked when asked. */
json_t *config_json(const struct claw_config *cfg, bool mask_secrets);
/* The effective config as YAML text, secrets masked. */
int config_yaml(const struct claw_config *cfg, char **out, size_t *len);

/* Look up a dotted key. Returns 0 and a new reference, 1 when the key is known but
 * unset, -1 (EX_USAGE) when the schema has no such key. Secrets come back masked. */
int config_lookup(const struct claw_config *cfg, const char *key, json_t **out);
/* The same, secrets in clear: for digests and the like, never for printing. */
int config_value(const struct claw_config *cfg, const char *key, json_t **out);
/* Does the schema say this dotted key holds a size (written back with its unit)? */
bool config_key_is_size(const char *key);

/* Parse "8GB" and friends (powers of 1024). -1 on a malformed size. */
int config_parse_size(const char *s, uint64_t *out);
/* Would macOS accept this short user name? */
bool config_username_ok(const char *name);
bool config_brew_name_ok(const char *name);
bool config_npm_name_ok(const char *name);

/* The compiled-in share/claw/claw.yml. */
extern const char claw_default_config[];

#endif

/* ssh: talking to a guest (or any Mac) through OpenSSH's ssh(1), spawned with
 * an argv. One master connection (ControlMaster, its socket in the bundle's
 * run/) serves every call; the host key is checked strictly against the
 * bundle's known_hosts when it has one. Remote commands are constants chosen
 * by the caller, never built from configuration values: data travels on
 * stdin or in uploaded files. Never prints. */
#ifndef CLAW_SSH_H
#define CLAW_SSH_H

#include "spawn.h"

#include <stdbool.h>

struct ssh_target {
	char *host;
	int port;             /* 0: ssh's default */
	char *user;           /* NULL: ssh's default */
	char *known_hosts;    /* NULL: ssh's own, with its own policy */
	char *identity;       /* NULL: ssh's own keys and agent */
	char *control;        /* ControlPath, or NULL for no master connection */
	int connect_timeout;  /* seconds */
};

/* Run one remote command (a constant) with stdin from data (or /dev/null). */
int ssh_run(const struct ssh_target *t, const char *remote, const struct spawn_opts *opts, struct spawn_result *res);
/* Write data to remote_path (a constant) through `cat`, mode 0700, never on an argv. */
int ssh_upload(const struct ssh_target *t, const char *remote_path, const char *data, size_t len);
/* Close the master connection, if any. */
void ssh_close(const struct ssh_target *t);
void ssh_target_free(struct ssh_target *t);
/* Did ssh refuse the host's key (unknown, or not the one known_hosts holds)? From its stderr. */
bool ssh_key_refused(const struct spawn_result *r);
/* The first line ssh wrote on stderr, or "ssh failed" when it wrote nothing. Cuts r->err in place. */
const char *ssh_first_line(struct spawn_result *r);

#endif

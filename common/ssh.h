/* ssh: talking to a guest (or any Mac) through OpenSSH's ssh(1), spawned with
 * an argv. Each process has at most one master connection of its own, its
 * socket in a private 0700 directory that no other command shares; it ends
 * when the process does, however it ends (a SIGKILL leaves it idle for at
 * most SSH_PERSIST_S). The host key is checked strictly (the bundle's
 * known_hosts when it has one, the user's otherwise; no KnownHostsCommand, no DNS)
 * and nothing in the user's ssh_config can forward an agent, X11 or ports to the
 * guest, or run a LocalCommand (its ProxyCommand stays: it is how a Mac is reached). Remote commands are constants chosen by the caller, never built
 * from configuration values: data travels on stdin or in uploaded files.
 * Never prints. */
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
	char *control;        /* ControlPath (ssh_master_open), or NULL for no master connection */
	int connect_timeout;  /* seconds */
};

/* How long an idle master outlives a process that could not end it (SIGKILL). Short: a gap
 * longer than this between two calls of one command just costs a new master (ControlMaster
 * auto makes one). */
#define SSH_PERSIST_S 5

/* Give t this process's master connection: a socket in a private directory,
 * made on the first call and removed, with the master, at exit or on SIGINT,
 * SIGTERM or SIGHUP (where the command has not caught them itself). */
int ssh_master_open(struct ssh_target *t);
/* Run one remote command (a constant) with stdin from data (or /dev/null). */
int ssh_run(const struct ssh_target *t, const char *remote, const struct spawn_opts *opts, struct spawn_result *res);
/* Write data to remote_path (a constant) through `cat`, mode 0700, never on an argv; the
 * file is replaced by a rename, never rewritten in place. */
int ssh_upload(const struct ssh_target *t, const char *remote_path, const char *data, size_t len);
/* End the master connection, if any, with the options that opened it. */
void ssh_close(const struct ssh_target *t);
void ssh_target_free(struct ssh_target *t);
/* Did ssh refuse the host's key (unknown, or not the one known_hosts holds)? From its stderr. */
bool ssh_key_refused(const struct spawn_result *r);
/* The first line ssh wrote on stderr, or "ssh failed" when it wrote nothing. Cuts r->err in place. */
const char *ssh_first_line(struct spawn_result *r);

#endif

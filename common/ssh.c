/* ssh: the argv for OpenSSH, with strict host keys and a shared master connection. */
#include "ssh.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 40

struct argv {
	const char *v[MAX_ARGS];
	char *owned[MAX_ARGS];
	int n, nowned;
};

static void add(struct argv *a, const char *s)
{
	if (a->n < MAX_ARGS - 1)
		a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void addf(struct argv *a, const char *fmt, const char *val)
{
	char *s = xasprintf(fmt, val);
	a->owned[a->nowned++] = s;
	add(a, s);
}

/* One "-o Option=value" pair. */
static void add_opt(struct argv *a, const char *fmt, const char *val)
{
	add(a, "-o");
	addf(a, fmt, val);
}

static void free_argv(struct argv *a)
{
	for (int i = 0; i < a->nowned; i++)
		free(a->owned[i]);
}

static void base_args(struct argv *a, const struct ssh_target *t)
{
	char num[16];
	add(a, "ssh");
	add_opt(a, "%s", "BatchMode=yes");
	snprintf(num, sizeof num, "%d", t->connect_timeout > 0 ? t->connect_timeout : 10);
	add_opt(a, "ConnectTimeout=%s", num);
	add_opt(a, "%s", "ServerAliveInterval=15");
	if (t->known_hosts) {
		/* The guest's keys were made at injection: anything else is not our guest. */
		add_opt(a, "%s", "StrictHostKeyChecking=yes");
		add_opt(a, "UserKnownHostsFile=%s", t->known_hosts);
		add_opt(a, "%s", "GlobalKnownHostsFile=/dev/null");
	}
	if (t->identity) {
		add(a, "-i");
		add(a, t->identity);
		add_opt(a, "%s", "IdentitiesOnly=yes");
	}
	if (t->control) {
		add_opt(a, "%s", "ControlMaster=auto");
		add_opt(a, "ControlPath=%s", t->control);
		add_opt(a, "%s", "ControlPersist=60");
	}
	if (t->port) {
		snprintf(num, sizeof num, "%d", t->port);
		add(a, "-p");
		addf(a, "%s", num);
	}
	if (t->user) {
		add(a, "-l");
		add(a, t->user);
	}
	add(a, "--");
	add(a, t->host);
}

int ssh_run(const struct ssh_target *t, const char *remote, const struct spawn_opts *opts, struct spawn_result *res)
{
	struct argv a = { .n = 0 };
	base_args(&a, t);
	add(&a, remote);
	int rc = spawn_run(a.v, opts, res);
	free_argv(&a);
	return rc;
}

int ssh_upload(const struct ssh_target *t, const char *remote_path, const char *data, size_t len)
{
	char *cmd = xasprintf("umask 077 && cat > %s && chmod 700 %s", remote_path, remote_path);
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	struct spawn_result r;
	o.stdin_data = data;
	o.stdin_len = len;
	o.capture_err = true;
	o.timeout_ms = 120000;
	int rc = ssh_run(t, cmd, &o, &r);
	free(cmd);
	if (rc == 0 && r.status != 0)
		rc = fail(r.status == 255 ? EX_UNAVAILABLE : EX_IOERR, "cannot upload %s to %s: %s", remote_path, t->host,
			  ssh_first_line(&r));
	spawn_result_free(&r);
	return rc;
}

bool ssh_key_refused(const struct spawn_result *r)
{
	const char *e = r->err.data;
	return e && (strstr(e, "Host key verification failed") || strstr(e, "IDENTIFICATION HAS CHANGED"));
}

const char *ssh_first_line(struct spawn_result *r)
{
	return spawn_err_line(r, "ssh failed");
}

void ssh_close(const struct ssh_target *t)
{
	if (!t->control)
		return;
	struct argv a = { .n = 0 };
	add(&a, "ssh");
	add_opt(&a, "ControlPath=%s", t->control);
	add(&a, "-O");
	add(&a, "exit");
	add(&a, "--");
	add(&a, t->host);
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	struct spawn_result r;
	o.quiet_err = true;
	o.capture_out = true;
	o.timeout_ms = 5000;
	spawn_run(a.v, &o, &r);
	spawn_result_free(&r);
	free_argv(&a);
}

void ssh_target_free(struct ssh_target *t)
{
	free(t->host);
	free(t->user);
	free(t->known_hosts);
	free(t->identity);
	free(t->control);
}

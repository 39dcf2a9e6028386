/* ssh: the argv for OpenSSH, hardened against the user's ssh_config, and the
 * process's own master connection. */
#include "ssh.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 48

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

static void add_owned(struct argv *a, char *s)
{
	a->owned[a->nowned++] = s;
	add(a, s);
}

static void add_opt(struct argv *a, const char *opt)
{
	add(a, "-o");
	add(a, opt);
}

static void free_argv(struct argv *a)
{
	for (int i = 0; i < a->nowned; i++)
		free(a->owned[i]);
}

/* A path as an -o value: ssh expands %-tokens in it (a literal '%' is "%%") and splits the
 * value into words on whitespace and quotes, so one that holds them goes in double quotes,
 * with '"' and '\\' escaped (OpenSSH's argv_split). */
static char *path_for_ssh(const char *path)
{
	struct buf b = BUF_ZERO;
	buf_adds(&b, "");
	bool quote = strpbrk(path, " \t\"'\\#") != NULL;
	if (quote)
		buf_adds(&b, "\"");
	for (const char *p = path; *p; p++) {
		if (*p == '%')
			buf_adds(&b, "%%");
		else if (quote && (*p == '"' || *p == '\\'))
			buf_adds(&b, *p == '"' ? "\\\"" : "\\\\");
		else
			buf_add(&b, p, 1);
	}
	if (quote)
		buf_adds(&b, "\"");
	return b.data;
}

static void add_path_opt(struct argv *a, const char *name, const char *path)
{
	char *v = path_for_ssh(path);
	add(a, "-o");
	add_owned(a, xasprintf("%s=%s", name, v));
	free(v);
}

/* What no ssh_config may turn on for a command claw runs: the user's agent, X11 and port
 * forwards reach the guest, whose install scripts run as an admin; a LocalCommand runs here;
 * a key the guest offers replaces the pinned one; an unknown key is accepted; a
 * KnownHostsCommand or DNS vouches for a key the pinned file does not hold. (ProxyCommand
 * and Match exec stay the user's: they are how a fleet's Macs are reached.) */
static void add_hardening(struct argv *a)
{
	add(a, "-a");
	add(a, "-x");
	add_opt(a, "ClearAllForwardings=yes");
	add_opt(a, "PermitLocalCommand=no");
	add_opt(a, "StrictHostKeyChecking=yes");
	add_opt(a, "UpdateHostKeys=no");
	add_opt(a, "KnownHostsCommand=none");
	add_opt(a, "VerifyHostKeyDNS=no");
	add_opt(a, "Tunnel=no");
	add_opt(a, "BatchMode=yes");
}

/* The options every ssh claw runs carries, up to (not including) "--" and the host. */
static void base_options(struct argv *a, const struct ssh_target *t)
{
	char num[16];
	add(a, "ssh");
	add_hardening(a);
	add(a, "-o");
	add_owned(a, xasprintf("ConnectTimeout=%d", t->connect_timeout > 0 ? t->connect_timeout : 10));
	add_opt(a, "ServerAliveInterval=15");
	if (t->known_hosts) {
		/* The guest's keys were made at injection: anything else is not our guest. */
		add_path_opt(a, "UserKnownHostsFile", t->known_hosts);
		add_opt(a, "GlobalKnownHostsFile=/dev/null");
	}
	if (t->identity) {
		add_path_opt(a, "IdentityFile", t->identity);
		add_opt(a, "IdentitiesOnly=yes");
	}
	if (t->control) {
		add_opt(a, "ControlMaster=auto");
		add_path_opt(a, "ControlPath", t->control);
		add(a, "-o");
		add_owned(a, xasprintf("ControlPersist=%d", SSH_PERSIST_S));
	}
	if (t->port) {
		snprintf(num, sizeof num, "%d", t->port);
		add(a, "-p");
		add_owned(a, xstrdup(num));
	}
	if (t->user) {
		add(a, "-l");
		add(a, t->user);
	}
}

static void base_args(struct argv *a, const struct ssh_target *t)
{
	base_options(a, t);
	add(a, "--");
	add(a, t->host);
}

/* ---- the master ---------------------------------------------------------------
 * ControlPersist puts the master in a process of its own, which outlives the ssh that
 * made it; its pid, once known, lets a signal handler end it without spawning anything. */

static struct {
	char dir[96], sock[112];
	volatile sig_atomic_t pid;
	volatile sig_atomic_t open;
} master;

/* Async-signal-safe: called from the handlers below as well as at exit. */
static void master_remove(void)
{
	if (!master.open)
		return;
	master.open = 0;
	if (master.pid > 0)
		kill((pid_t)master.pid, SIGTERM);
	unlink(master.sock);
	rmdir(master.dir);
}

static void on_fatal_signal(int sig)
{
	master_remove();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A command that catches a signal itself keeps its handler; one that does not would die
 * with the master still running. */
static void end_master_on(int sig)
{
	struct sigaction old, sa = { 0 };
	if (sigaction(sig, NULL, &old) < 0 || old.sa_handler != SIG_DFL)
		return;
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static const char *short_tmpdir(void)
{
	/* sun_path holds 104 bytes on macOS; ssh adds a suffix of its own while it binds. */
	const char *tmp = getenv("TMPDIR");
	return tmp && *tmp == '/' && strlen(tmp) < 48 ? tmp : "/tmp";
}

int ssh_master_open(struct ssh_target *t)
{
	static bool registered;
	if (!master.open) {
		const char *tmp = short_tmpdir();
		size_t n = strlen(tmp);
		while (n > 1 && tmp[n - 1] == '/')
			n--;
		snprintf(master.dir, sizeof master.dir, "%.*s/claw-ssh.XXXXXX", (int)n, tmp);
		if (!mkdtemp(master.dir))
			return fail_sys(EX_CANTCREAT, "cannot create a directory for the SSH connection in '%.*s'", (int)n, tmp);
		snprintf(master.sock, sizeof master.sock, "%s/m", master.dir);
		master.pid = 0;
		master.open = 1;
		if (!registered) {
			registered = true;
			atexit(master_remove);
			end_master_on(SIGINT);
			end_master_on(SIGTERM);
			end_master_on(SIGHUP);
		}
	}
	free(t->control);
	t->control = xstrdup(master.sock);
	return 0;
}

/* "Master running (pid=1234)" from ssh -O check, once the master exists. */
static void learn_master_pid(const struct ssh_target *t)
{
	if (!master.open || master.pid > 0 || !t->control || strcmp(t->control, master.sock) ||
	    access(master.sock, F_OK) < 0)
		return;
	struct argv a = { .n = 0 };
	base_options(&a, t);
	add(&a, "-O");
	add(&a, "check");
	add(&a, "--");
	add(&a, t->host);
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	struct spawn_result r;
	o.capture_out = true;
	o.capture_err = true;
	o.timeout_ms = 5000;
	if (spawn_run(a.v, &o, &r) == 0 && r.err.data) {
		const char *p = strstr(r.err.data, "(pid=");
		long pid = p ? strtol(p + 5, NULL, 10) : 0;
		if (pid > 1)
			master.pid = (sig_atomic_t)pid;
	}
	spawn_result_free(&r);
	free_argv(&a);
}

int ssh_run(const struct ssh_target *t, const char *remote, const struct spawn_opts *opts, struct spawn_result *res)
{
	struct argv a = { .n = 0 };
	base_args(&a, t);
	add(&a, remote);
	int rc = spawn_run(a.v, opts, res);
	free_argv(&a);
	if (rc == 0 && res->status != 255)
		learn_master_pid(t);
	return rc;
}

int ssh_upload(const struct ssh_target *t, const char *remote_path, const char *data, size_t len)
{
	/* Written beside its name and renamed over it: a run of the old file (another claw on the
	 * same Mac) goes on reading the file it opened, never one half rewritten. */
	char *cmd = xasprintf("umask 077 && t=$(mktemp %s.XXXXXX) && cat > \"$t\" && chmod 700 \"$t\" && mv -f \"$t\" %s",
			      remote_path, remote_path);
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
	if (master.open && !strcmp(t->control, master.sock) && access(master.sock, F_OK) == 0) {
		struct argv a = { .n = 0 };
		base_options(&a, t);
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
	master_remove();
}

void ssh_target_free(struct ssh_target *t)
{
	free(t->host);
	free(t->user);
	free(t->known_hosts);
	free(t->identity);
	free(t->control);
}

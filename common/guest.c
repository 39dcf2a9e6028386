/* guest: the SSH target of the online stages, and the first-boot marker. */
#include "guest.h"
#include "bundle.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "net.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool guest_option(int opt, const char *arg, struct guest_args *a)
{
	uint64_t n;
	switch (opt) {
	case GUEST_OPT_HOST: a->host = arg; return true;
	case GUEST_OPT_USER: a->user = arg; return true;
	case GUEST_OPT_PORT:
		if (parse_u64(arg, &n) < 0 || n < 1 || n > 65535)
			cli_usage_error("--port takes 1 to 65535, not '%s'", arg);
		a->port = (int)n;
		return true;
	}
	return false;
}

/* run/ip's address; NULL with nothing recorded when there is none. */
static int read_ip(const struct bundle *b, char **ip)
{
	char *path = bundle_file(b, BUNDLE_RUN_IP);
	struct buf buf = BUF_ZERO;
	int rc = 0;
	*ip = NULL;
	if (file_read(path, 256, &buf) == 0) {
		buf.data[strcspn(buf.data, "\r\n")] = '\0';
		/* Whatever else is there (an option for ssh, a name) is not an address claw wrote. */
		if (ip_address_ok(buf.data))
			*ip = xstrdup(buf.data);
		else if (*buf.data)
			rc = fail(EX_DATAERR, "'%s' does not hold an IP address; run claw-ip -b %s --wait again", path,
				  bundle_name(b));
	}
	buf_free(&buf);
	free(path);
	return rc;
}

/* The private half of the configured public key, when it sits beside it. */
static char *identity_for(const struct bundle *b, const struct claw_config *cfg)
{
	if (b && bundle_has(b, "ssh/id_ed25519"))
		return bundle_file(b, "ssh/id_ed25519");
	const char *pub = cfg ? cfg->access.ssh_key : NULL;
	size_t n = pub ? strlen(pub) : 0;
	if (n > 4 && !strcmp(pub + n - 4, ".pub")) {
		char *priv = xstrndup(pub, n - 4);
		if (access(priv, R_OK) == 0)
			return priv;
		free(priv);
	}
	return NULL;
}

int guest_target(const struct guest_args *a, const struct bundle *b, const struct claw_config *cfg,
		 struct ssh_target *t)
{
	memset(t, 0, sizeof *t);
	if (a->host)
		t->host = xstrdup(a->host);
	else if (b && read_ip(b, &t->host) < 0)
		return -1;
	if (!t->host)
		return fail(EX_NOINPUT, "no address for '%s': run claw-ip -b %s --wait first, or give --host",
			    b ? bundle_name(b) : "?", b ? bundle_name(b) : "NAME");
	t->port = a->port;
	t->user = a->user ? xstrdup(a->user) : cfg && cfg->access.username ? xstrdup(cfg->access.username) : NULL;
	if (b && bundle_has(b, BUNDLE_KNOWN_HOSTS))
		t->known_hosts = bundle_file(b, BUNDLE_KNOWN_HOSTS);
	t->identity = identity_for(b, cfg);
	t->connect_timeout = 10;
	/* A master of this process's own: never one that another command opened. */
	if (ssh_master_open(t) < 0) {
		ssh_target_free(t);
		return -1;
	}
	return 0;
}

int guest_host_key_refused(const struct ssh_target *t)
{
	if (t->known_hosts)
		return fail(EX_NOPERM, "%s: the host key does not match the bundle's known_hosts; refusing", t->host);
	return fail(EX_NOPERM, "%s: its host key is not in your known_hosts; refusing (ssh %s once, or use a bundle)",
		    t->host, t->host);
}

int guest_shutdown(const struct ssh_target *t)
{
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	struct spawn_result r;
	o.capture_out = true;
	o.capture_err = true;
	o.timeout_ms = 30000;
	if (ssh_run(t, GUEST_SHUTDOWN, &o, &r) < 0)
		return -1;
	int rc = 0;
	/* A guest quick to go down may close the connection before shutdown(8) has returned. */
	bool went_down = r.status == 255 && r.err.data && strstr(r.err.data, "closed by remote host");
	if (r.status != 0 && ssh_key_refused(&r))
		rc = guest_host_key_refused(t);
	else if (r.status == 255 && !went_down)
		rc = fail(EX_TEMPFAIL, "cannot reach %s over SSH: %s", t->host, ssh_first_line(&r));
	else if (r.status != 0 && !went_down)
		rc = fail(EX_SOFTWARE, "%s: '%s' failed (exit %d): %s", t->host, GUEST_SHUTDOWN, r.status, ssh_first_line(&r));
	spawn_result_free(&r);
	return rc;
}

int guest_wait_ready(const struct ssh_target *t, int timeout_s, bool require_log)
{
	/* Exit 0: ready; 3: the log is there without the mark yet; 4: no log at all; 5: first
	 * boot says why it failed (the line on stdout). Only this boot's lines count, from the
	 * last "started": a boot that failed before is tried again at the next. A constant command. */
	const char *probe = "if [ -f " GUEST_FIRSTBOOT_LOG " ]; then "
			    "cur=$(awk '/first boot: started /{b=\"\"} {b=b $0 \"\\n\"} END{printf \"%s\", b}' " GUEST_FIRSTBOOT_LOG "); "
			    "printf '%s\\n' \"$cur\" | grep -q " GUEST_READY_MARK " && exit 0; "
			    "printf '%s\\n' \"$cur\" | grep " GUEST_FAILED_MARK " | tail -n 1 | grep . && exit 5; exit 3; fi; exit 4";
	time_t deadline = time(NULL) + timeout_s;
	int last = -1;
	char said[256] = "";
	for (;;) {
		struct spawn_opts o = SPAWN_OPTS_ZERO;
		struct spawn_result r;
		o.capture_out = true;
		o.capture_err = true;
		o.timeout_ms = 30000;
		if (ssh_run(t, probe, &o, &r) < 0)
			return -1;
		last = r.status;
		if (last == 255 && ssh_key_refused(&r)) {
			spawn_result_free(&r);
			return guest_host_key_refused(t);
		}
		/* What ssh says, once each time it changes, not once a second. */
		if (last == 255 && strncmp(said, ssh_first_line(&r), sizeof said - 1)) {
			snprintf(said, sizeof said, "%s", ssh_first_line(&r));
			info("%s: %s; trying again until %d s have passed", t->host, said, timeout_s);
		}
		if (last == 5) {
			char *why = r.out.data ? strstr(r.out.data, GUEST_FAILED_MARK) : NULL;
			why = why ? why + strlen(GUEST_FAILED_MARK) + strspn(why + strlen(GUEST_FAILED_MARK), ": ") : "";
			why[strcspn(why, "\n")] = '\0';
			fail(EX_UNAVAILABLE, "%s: first boot failed: %s", t->host, why);
			spawn_result_free(&r);
			return -1;
		}
		spawn_result_free(&r);
		if (last == 0 || (last == 4 && !require_log))
			return 0;
		if (time(NULL) >= deadline)
			break;
		sleep(1);
	}
	if (last == 4)
		return fail(EX_TEMPFAIL, "%s has no %s: is it a claw guest? (give --host for other Macs)", t->host, GUEST_FIRSTBOOT_LOG);
	if (last == 3)
		return fail(EX_TEMPFAIL, "%s is not ready: %s has no %s yet", t->host, GUEST_FIRSTBOOT_LOG, GUEST_READY_MARK);
	if (last == 255 && *said)
		return fail(EX_TEMPFAIL, "cannot reach %s over SSH: %s", t->host, said);
	return fail(EX_TEMPFAIL, "cannot reach %s over SSH (ssh exited %d)", t->host, last);
}

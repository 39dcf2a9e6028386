/* guest: which machine the online stages talk to and how — the bundle's
 * run/ip, known_hosts and key, or --host/--port/--user for any Mac reachable
 * by SSH — and the first-boot marker that says a claw guest is ready.
 * Never prints. */
#ifndef CLAW_GUEST_H
#define CLAW_GUEST_H

#include "ssh.h"

struct bundle;
struct claw_config;

#define GUEST_FIRSTBOOT_LOG "/var/log/claw-firstboot.log"
#define GUEST_READY_MARK "PROVISIONING_READY"
#define GUEST_FAILED_MARK "PROVISIONING_FAILED" /* first boot could not make the guest ready */
#define GUEST_SHUTDOWN "sudo shutdown -h now" /* the guest's user may sudo without a password */

struct guest_args {
	const char *host, *user;
	int port;
};

/* --host, --port, --user: the options every online stage takes, for its struct option table. */
enum { GUEST_OPT_HOST = 0x200, GUEST_OPT_PORT, GUEST_OPT_USER };
#define GUEST_OPTIONS                                                                              \
	{ "host", required_argument, NULL, GUEST_OPT_HOST }, { "port", required_argument, NULL, GUEST_OPT_PORT }, \
	{ "user", required_argument, NULL, GUEST_OPT_USER }
/* Take one of them; false if opt is not one of them. A bad port is a usage error. */
bool guest_option(int opt, const char *arg, struct guest_args *a);

/* Fill t from the flags, the bundle (may be NULL with --host) and the config. */
int guest_target(const struct guest_args *a, const struct bundle *b, const struct claw_config *cfg,
		 struct ssh_target *t);
/* Wait (bounded) until the first-boot log says ready. A machine without the log
 * (one claw did not make) is ready when require_log is false. 0 ready, -1 not. */
int guest_wait_ready(const struct ssh_target *t, int timeout_s, bool require_log);

/* Tell the guest to shut down (GUEST_SHUTDOWN). 0 once it took the command; EX_TEMPFAIL when
 * it cannot be reached, EX_NOPERM for a host key that does not match, EX_SOFTWARE when the
 * command failed there. */
int guest_shutdown(const struct ssh_target *t);

/* Record the refusal of a host key that does not match (EX_NOPERM). Always -1. */
int guest_host_key_refused(const struct ssh_target *t);

#endif

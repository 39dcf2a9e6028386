/* claw-ip: find a VM's IP address from its MAC, and wait until SSH answers.
 *
 * The MAC comes from the bundle's config.json (macAddress) or --mac, so machines
 * made by other tools work too. Looks in the DHCP lease file (the newest
 * unexpired lease wins), in `arp -an`, or both; --wait polls (a changed lease
 * file is noticed within 100 ms), and when no lease has appeared after
 * --arp-after seconds (10) it turns to ARP by itself: one broadcast ping on each
 * vmnet bridge's subnet, then `arp -an` matched by MAC. --ssh also waits until
 * TCP port 22 answers, because a lease is not readiness. Prints the IP; with -b
 * writes run/ip.
 * Exit: 0 found; 1 not found (no --wait); 64 usage; 65 bad config.json;
 * 66 no MAC in the bundle; 75 --wait ran out (the message says what was seen). */
#include "bundle.h"
#include "cli.h"
#include "leases.h"
#include "log.h"
#include "net.h"
#include "spawn.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: claw-ip [-qv] (-b BUNDLE | --mac MAC) [--wait[=SECONDS]] [--ssh] [--port PORT]\n"
	"               [--leases FILE] [--resolver dhcp|arp|any] [--arp-after SECONDS] [--json]\n"
	"       claw-ip -h | --version\n";

enum { OPT_MAC = OPT_FIRST_PRIVATE, OPT_WAIT, OPT_SSH, OPT_PORT, OPT_LEASES, OPT_RESOLVER, OPT_ARP_AFTER };

static const struct option options[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "mac", required_argument, NULL, OPT_MAC },
	{ "wait", optional_argument, NULL, OPT_WAIT },
	{ "ssh", no_argument, NULL, OPT_SSH },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "leases", required_argument, NULL, OPT_LEASES },
	{ "resolver", required_argument, NULL, OPT_RESOLVER },
	{ "arp-after", required_argument, NULL, OPT_ARP_AFTER },
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

#define ARP_AFTER_DEFAULT 10 /* seconds of --wait without a lease before ARP is tried too */

struct finder {
	struct mac mac;
	const char *leases;
	bool dhcp, arp;
	bool arp_later; /* the default resolver: ARP joins when no lease has come in time */
	bool pinged;
	struct stat seen;     /* the lease file as last read */
	struct lease_hit hit; /* what it said */
	long long arp_at;
	char arp_ip[64];
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void report_bad_block(int line, const char *why, void *arg)
{
	warn("%s:%d: %s; skipped", (const char *)arg, line, why);
}

/* Re-read the lease file only when it changed: a stat is all a poll costs. */
static void look_dhcp(struct finder *f)
{
	struct stat st;
	if (stat(f->leases, &st) < 0) {
		memset(&f->hit, 0, sizeof f->hit);
		return;
	}
	if (st.st_ino == f->seen.st_ino && st.st_size == f->seen.st_size && st.st_mtime == f->seen.st_mtime &&
	    f->seen.st_nlink)
		return;
	f->seen = st;
	struct buf b = BUF_ZERO;
	if (file_read(f->leases, LEASES_MAX_SIZE, &b) == 0)
		leases_find(b.data, b.len, &f->mac, time(NULL), &f->hit, report_bad_block, (void *)f->leases);
	else
		info("%s", fail_msg());
	buf_free(&b);
}

/* A guest that has not spoken yet is not in the ARP table: one broadcast ping on every
 * vmnet bridge's subnet makes every machine on it answer, and so appear there. */
static void wake_bridges(struct finder *f)
{
	char addrs[8][NET_ADDR_MAX];
	size_t n = net_bridge_broadcasts(addrs, 8);
	f->pinged = true;
	for (size_t i = 0; i < n; i++) {
		info("pinging %s so that the guest shows in the ARP table", addrs[i]);
		net_ping_once(addrs[i]);
	}
}

static void look_arp(struct finder *f)
{
	if (!f->pinged)
		wake_bridges(f);
	if (now_ms() - f->arp_at < 1000)
		return;
	f->arp_at = now_ms();
	const char *argv[] = { "arp", "-an", NULL };
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	o.capture_out = true;
	o.quiet_err = true;
	o.timeout_ms = 5000;
	o.max_out = ARP_MAX_OUTPUT;
	struct spawn_result r;
	f->arp_ip[0] = '\0';
	if (spawn_run(argv, &o, &r) == 0 && r.truncated)
		info("arp printed more than %d MiB; not read", ARP_MAX_OUTPUT >> 20);
	else if (r.status == 0 && r.out.data && !arp_find(r.out.data, &f->mac, f->arp_ip))
		f->arp_ip[0] = '\0';
	spawn_result_free(&r);
}

static const char *look(struct finder *f, const char **source)
{
	if (f->dhcp) {
		look_dhcp(f);
		if (f->hit.found)
			return *source = "dhcp", f->hit.ip;
	}
	if (f->arp) {
		look_arp(f);
		if (f->arp_ip[0])
			return *source = "arp", f->arp_ip;
	}
	return NULL;
}

static struct mac mac_from_bundle(struct bundle *b)
{
	json_t *cfg;
	struct mac m;
	if (bundle_read_json(b, BUNDLE_VMCONFIG, &cfg) < 0)
		die(fail_code(), "%s; no MAC to look for (restore the bundle, or give --mac)", fail_msg());
	const char *s = json_string_value(json_object_get(cfg, "macAddress"));
	if (!s)
		die(EX_NOINPUT, "'%s/%s' has no macAddress; give --mac", bundle_path(b), BUNDLE_VMCONFIG);
	if (!mac_parse(s, &m))
		die(EX_DATAERR, "'%s/%s': macAddress '%s' is not a MAC address", bundle_path(b), BUNDLE_VMCONFIG, s);
	json_decref(cfg);
	return m;
}

static void print_result(const char *ip, const struct finder *f, const char *source, bool ssh, bool json)
{
	if (!json) {
		puts(ip);
		return;
	}
	char mac[18];
	mac_format(&f->mac, mac);
	json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "ip", ip, "mac", mac, "source", source, "ssh", ssh);
	cli_print_json(o);
	json_decref(o);
}

int main(int argc, char **argv)
{
	const char *bundle_arg = NULL, *mac_arg = NULL, *resolver = NULL;
	int wait_s = -1, port = 22, arp_after = ARP_AFTER_DEFAULT, opt;
	bool ssh = false, json = false;
	uint64_t n;
	struct finder f;
	memset(&f, 0, sizeof f);
	f.leases = getenv("CLAW_LEASES") ? getenv("CLAW_LEASES") : LEASES_DEFAULT;
	cli_init(argv[0], usage);
	while ((opt = getopt_long(argc, argv, "b:hqv", options, NULL)) != -1) {
		switch (opt) {
		case 'b': bundle_arg = optarg; break;
		case OPT_MAC: mac_arg = optarg; break;
		case OPT_WAIT:
			if (optarg && (parse_u64(optarg, &n) < 0 || n > 86400))
				cli_usage_error("--wait takes seconds, not '%s'", optarg);
			wait_s = optarg ? (int)n : 300;
			break;
		case OPT_SSH: ssh = true; break;
		case OPT_PORT:
			if (parse_u64(optarg, &n) < 0 || n < 1 || n > 65535)
				cli_usage_error("--port takes 1 to 65535, not '%s'", optarg);
			port = (int)n;
			break;
		case OPT_LEASES: f.leases = optarg; break;
		case OPT_RESOLVER: resolver = optarg; break;
		case OPT_ARP_AFTER:
			if (parse_u64(optarg, &n) < 0 || n > 86400)
				cli_usage_error("--arp-after takes seconds, not '%s'", optarg);
			arp_after = (int)n;
			break;
		case OPT_JSON: json = true; break;
		default: cli_common(opt);
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!bundle_arg == !mac_arg)
		cli_usage_error("give -b BUNDLE or --mac MAC");
	if (resolver && strcmp(resolver, "dhcp") && strcmp(resolver, "arp") && strcmp(resolver, "any"))
		cli_usage_error("--resolver is dhcp, arp or any, not '%s'", resolver);
	f.dhcp = !resolver || strcmp(resolver, "arp") != 0;
	f.arp = resolver && strcmp(resolver, "dhcp") != 0;
	f.arp_later = !resolver && wait_s > 0;

	struct bundle *b = NULL;
	if (bundle_arg && bundle_open(bundle_arg, 0, &b) < 0)
		die_err();
	if (mac_arg && !mac_parse(mac_arg, &f.mac))
		cli_usage_error("'%s' is not a MAC address", mac_arg);
	if (b)
		f.mac = mac_from_bundle(b);

	long long start = now_ms(), deadline = start + (long long)(wait_s > 0 ? wait_s : 0) * 1000;
	const char *ip = NULL, *source = NULL;
	bool answered = false;
	for (;;) {
		if (f.arp_later && !f.hit.found && now_ms() - start >= (long long)arp_after * 1000) {
			char m[18];
			mac_format(&f.mac, m);
			info("no lease for %s after %d s; asking ARP too", m, arp_after);
			f.arp = true, f.arp_later = false;
		}
		ip = look(&f, &source);
		if (ip && (!ssh || (answered = tcp_probe(ip, port, 250))))
			break;
		if (wait_s < 0 || now_ms() >= deadline)
			break;
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	char mac[18];
	mac_format(&f.mac, mac);
	int code = wait_s < 0 ? 1 : EX_TEMPFAIL;
	if (!ip) {
		if (f.hit.expired)
			die(code, "%s has only expired leases in '%s'", mac, f.leases);
		die(code, "no address for %s yet (%s%s%s)", mac, f.dhcp ? f.leases : "", f.dhcp && f.arp ? ", " : "",
		    f.arp ? "arp" : "");
	}
	if (ssh && !answered)
		die(code, "%s has %s (%s) but nothing answers on port %d yet", mac, ip, source, port);
	if (b) {
		char *line = xasprintf("%s\n", ip);
		if (bundle_mkdir(b, BUNDLE_RUN_DIR, 0755) < 0 || bundle_write(b, BUNDLE_RUN_IP, line, strlen(line), 0644) < 0)
			die_err();
		free(line);
	}
	print_result(ip, &f, source, answered, json);
	cli_flush_stdout();
	bundle_close(b);
	return 0;
}

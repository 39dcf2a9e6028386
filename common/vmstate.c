/* vmstate: a bundle's summary for claw ls and friends, from its files alone. */
#include "vmstate.h"
#include "bundle.h"
#include "log.h"
#include "net.h"
#include "run.h"
#include "shares.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A small text file from the bundle (run/state, run/ip), first line only. */
static char *read_line_at(const struct bundle *b, const char *name)
{
	int fd = openat(bundle_dirfd(b), name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char buf[256];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] ? xstrdup(buf) : NULL;
}

static void set_string(json_t *o, const char *key, const char *v)
{
	if (v && *v)
		json_object_set_new(o, key, json_string(v));
}

static void copy_int(json_t *to, const char *key, json_t *from, const char *fromkey)
{
	json_t *v = json_object_get(from, fromkey);
	if (json_is_integer(v))
		json_object_set_new(to, key, json_integer(json_integer_value(v)));
}

static const char *state_of(int restored, int running, const char *written)
{
	if (running)
		return written ? written : "running";
	return restored ? "stopped" : "incomplete";
}

int vmstate_read(const struct bundle *b, json_t **out)
{
	json_t *o = json_object(), *cfg = NULL;
	set_string(o, "name", bundle_name(b));
	set_string(o, "path", bundle_path(b));
	int restored = bundle_has(b, BUNDLE_VMCONFIG);
	if (restored && bundle_read_json(b, BUNDLE_VMCONFIG, &cfg) < 0) {
		json_decref(o);
		return -1;
	}
	pid_t pid;
	int running = run_alive(b, &pid);
	char *state = read_line_at(b, BUNDLE_RUN_STATE);
	set_string(o, "state", state_of(restored, running, state));
	json_t *os = json_object_get(cfg, "os");
	set_string(o, "macos", json_string_value(json_object_get(os, "version")));
	set_string(o, "build", json_string_value(json_object_get(os, "build")));
	copy_int(o, "cpu", cfg, "cpuCount");
	copy_int(o, "ram", cfg, "memorySize");
	copy_int(o, "disk_size", cfg, "diskSize");
	struct stat st;
	if (fstatat(bundle_dirfd(b), BUNDLE_DISK, &st, 0) == 0) {
		/* A sparse disk's real use is its allocated blocks, not its length. */
		json_object_set_new(o, "disk_used", json_integer((json_int_t)st.st_blocks * 512));
		if (!json_object_get(o, "disk_size"))
			json_object_set_new(o, "disk_size", json_integer((json_int_t)st.st_size));
	}
	if (running) {
		char *ip = read_line_at(b, BUNDLE_RUN_IP);
		set_string(o, "ip", ip && ip_address_ok(ip) ? ip : NULL);
		free(ip);
		json_t *shares = shares_running(b, pid);
		if (shares)
			json_object_set_new(o, "shares", shares);
	}
	free(state);
	json_decref(cfg);
	*out = o;
	return 0;
}

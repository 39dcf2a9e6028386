/* darwin-model/host: the simulated Mac — its macOS version and build, its
 * architecture (and Rosetta), CPUs and memory, the entitlement, sysctlbyname as
 * a host check would ask it, and the host-wide count of running macOS VMs that
 * processes share through CLAW_MODEL_HOST_DIR (README.md lists the knobs).
 *
 * Sources: Apple, "About the Rosetta translation environment" (sysctl.proc_translated:
 * 1 translated, 0 native, ENOENT where there is no Rosetta); sysctl(3) (ENOMEM for a
 * short buffer, EPERM to set); VZ-API.md §9 and §10 (two macOS guests per host, code 6). */
#include "model.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct model_host HOST;

long env_long(const char *name, long fallback)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return fallback;
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || *end || n < 0)
		model_violation("model-setup", "%s='%s' is not a number", name, v);
	return n;
}

const char *env_str(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

static bool env_bool(const char *name, bool fallback)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return fallback;
	if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true"))
		return true;
	if (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "false"))
		return false;
	model_violation("model-setup", "%s='%s' is neither 1 nor 0", name, v);
}

static const char *default_build(int major)
{
	switch (major) {
	case 12: return "21G725";
	case 13: return "22H221";
	case 14: return "23H124";
	case 15: return "24F74";
	case 26: return "25A354";
	default: return "0A000";
	}
}

void model_host_init(void);
void model_host_init(void)
{
	const char *v = env_str("CLAW_MODEL_MACOS", "15.5");
	int maj = 0, min = 0, patch = 0;
	int n = sscanf(v, "%d.%d.%d", &maj, &min, &patch);
	if (n < 1 || maj < 11 || maj > 99 || min < 0 || min > 99)
		model_violation("model-setup", "CLAW_MODEL_MACOS='%s' is not a macOS version (14, 15.5, 26.1...)", v);
	HOST.macos = V(maj, min);
	HOST.patch = patch;
	if (patch)
		snprintf(HOST.version, sizeof HOST.version, "%d.%d.%d", maj, min, patch);
	else
		snprintf(HOST.version, sizeof HOST.version, "%d.%d", maj, min);
	snprintf(HOST.build, sizeof HOST.build, "%s", env_str("CLAW_MODEL_BUILD", default_build(maj)));
	const char *arch = env_str("CLAW_MODEL_ARCH", "arm64");
	if (strcmp(arch, "arm64") && strcmp(arch, "x86_64"))
		model_violation("model-setup", "CLAW_MODEL_ARCH='%s' is neither arm64 nor x86_64", arch);
	HOST.arm64 = !strcmp(arch, "arm64");
	const char *cpu = env_str("CLAW_MODEL_CPU", "apple");
	if (strcmp(cpu, "apple") && strcmp(cpu, "intel"))
		model_violation("model-setup", "CLAW_MODEL_CPU='%s' is neither apple nor intel", cpu);
	HOST.apple_silicon = HOST.arm64 || !strcmp(cpu, "apple");
	HOST.ncpu = env_long("CLAW_MODEL_NCPU", 8);
	HOST.memsize = (uint64_t)env_long("CLAW_MODEL_MEMSIZE", 16L << 30);
	HOST.entitled = env_bool("CLAW_MODEL_ENTITLED", true);
	HOST.virtualization = env_bool("CLAW_MODEL_VIRTUALIZATION", true);
	snprintf(HOST.host_dir, sizeof HOST.host_dir, "%s", env_str("CLAW_MODEL_HOST_DIR", ""));
	snprintf(HOST.host_id, sizeof HOST.host_id, "%s", env_str("CLAW_MODEL_HOST_ID", "model-host"));
}

/* ---------------------------------------------------------------- sysctlbyname */

static int sysctl_out(void *oldp, size_t *oldlenp, const void *val, size_t len)
{
	if (!oldlenp) {
		errno = EINVAL;
		return -1;
	}
	if (!oldp) {
		*oldlenp = len;
		return 0;
	}
	if (*oldlenp < len) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(oldp, val, len);
	*oldlenp = len;
	return 0;
}

int sysctlbyname(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
	(void)newlen;
	model_trace("sysctlbyname(\"%s\")", name ? name : "(null)");
	if (!name) {
		errno = EINVAL;
		return -1;
	}
	if (newp) {
		errno = EPERM;
		return -1;
	}
	int i;
	int64_t q;
	const char *s = NULL;
	if (!strcmp(name, "hw.optional.arm64")) {
		if (!HOST.apple_silicon)
			goto missing;
		i = 1;
		return sysctl_out(oldp, oldlenp, &i, sizeof i);
	}
	if (!strcmp(name, "sysctl.proc_translated")) {
		if (!HOST.apple_silicon)
			goto missing;
		i = HOST.arm64 ? 0 : 1;
		return sysctl_out(oldp, oldlenp, &i, sizeof i);
	}
	if (!strcmp(name, "hw.ncpu") || !strcmp(name, "hw.physicalcpu") || !strcmp(name, "hw.logicalcpu") ||
		!strcmp(name, "hw.activecpu")) {
		i = (int)HOST.ncpu;
		return sysctl_out(oldp, oldlenp, &i, sizeof i);
	}
	if (!strcmp(name, "hw.memsize")) {
		q = (int64_t)HOST.memsize;
		return sysctl_out(oldp, oldlenp, &q, sizeof q);
	}
	if (!strcmp(name, "kern.hv_support")) {
		i = HOST.virtualization;
		return sysctl_out(oldp, oldlenp, &i, sizeof i);
	}
	if (!strcmp(name, "kern.osproductversion"))
		s = HOST.version;
	else if (!strcmp(name, "kern.osversion"))
		s = HOST.build;
	else if (!strcmp(name, "hw.model"))
		s = HOST.apple_silicon ? "Mac14,3" : "MacBookPro16,1";
	else if (!strcmp(name, "machdep.cpu.brand_string"))
		s = HOST.apple_silicon ? "Apple M2" : "Intel(R) Core(TM) i7-9750H CPU @ 2.60GHz";
	if (s)
		return sysctl_out(oldp, oldlenp, s, strlen(s) + 1);
missing:
	errno = ENOENT;
	return -1;
}

/* ---------------------------------------------------------------- running VMs, host-wide */

/* VZ-API §9: "host limit of concurrently running macOS VMs (2)", enforced inside the framework,
 * so across processes. With CLAW_MODEL_HOST_DIR each running machine holds an flock on a file
 * there naming its machine identifier; a file whose lock nobody holds is a machine that died
 * with its process. Without it, the count is this process's own. */
struct slot {
	bool used;
	int fd;
	char path[1100];
	char machine_id[256];
};

static struct slot slots[16];
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;

static int count_others(const char *machine_id, bool *same_id)
{
	int n = 0;
	DIR *d = opendir(HOST.host_dir);
	if (!d)
		model_violation("model-setup", "CLAW_MODEL_HOST_DIR='%s': %s", HOST.host_dir, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "vm.", 3))
			continue;
		char p[1100];
		snprintf(p, sizeof p, "%s/%s", HOST.host_dir, e->d_name);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
			unlink(p); /* its process is gone */
			close(fd);
			continue;
		}
		char id[256] = "";
		ssize_t r = read(fd, id, sizeof id - 1);
		id[r > 0 ? r : 0] = 0;
		close(fd);
		n++;
		if (!strcmp(id, machine_id))
			*same_id = true;
	}
	closedir(d);
	return n;
}

int host_slot_take(const char *machine_id, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	pthread_mutex_lock(&slots_mu);
	int lockfd = -1, running = 0, free_i = -1;
	bool same = false;
	for (int i = 0; i < 16; i++) {
		if (slots[i].used) {
			running++;
			same |= !strcmp(slots[i].machine_id, machine_id);
		} else if (free_i < 0)
			free_i = i;
	}
	if (*HOST.host_dir) {
		char lp[1100];
		snprintf(lp, sizeof lp, "%s/.lock", HOST.host_dir);
		lockfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0)
			model_violation("model-setup", "CLAW_MODEL_HOST_DIR='%s': %s", HOST.host_dir, strerror(errno));
		same = false;
		running = count_others(machine_id, &same);
	}
	int result;
	if (same)
		result = -2;
	else if (running >= 2 || free_i < 0)
		result = -1;
	else {
		struct slot *s = &slots[free_i];
		memset(s, 0, sizeof *s);
		s->used = true;
		s->fd = -1;
		snprintf(s->machine_id, sizeof s->machine_id, "%s", machine_id);
		if (*HOST.host_dir) {
			static unsigned long n;
			snprintf(s->path, sizeof s->path, "%s/vm.%ld.%lu", HOST.host_dir, (long)getpid(), ++n);
			s->fd = open(s->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (s->fd < 0 || flock(s->fd, LOCK_EX) < 0 ||
				write(s->fd, machine_id, strlen(machine_id)) != (ssize_t)strlen(machine_id))
				model_violation("model-setup", "cannot write '%s': %s", s->path, strerror(errno));
		}
		result = free_i;
	}
	if (lockfd >= 0)
		close(lockfd);
	pthread_mutex_unlock(&slots_mu);
	return result;
}

void host_slot_give(int i)
{
	if (i < 0 || i >= 16)
		return;
	pthread_mutex_lock(&slots_mu);
	struct slot *s = &slots[i];
	if (s->used && s->fd >= 0) {
		unlink(s->path);
		close(s->fd);
	}
	s->used = false;
	pthread_mutex_unlock(&slots_mu);
}

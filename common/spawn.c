/* spawn: posix_spawnp with pipes, a poll loop, and a deadline. */
#include "spawn.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* claw's secrets reach the stage that needs them and no further: never ssh, visudo, arp. */
static const char *const secret_vars[] = { "CLAW_PASSWORD=", "CLAW_VNC_PASSWORD=", "CLAW_REGISTRY_PASSWORD=" };

static bool is_secret(const char *entry)
{
	for (size_t i = 0; i < sizeof secret_vars / sizeof *secret_vars; i++)
		if (!strncmp(entry, secret_vars[i], strlen(secret_vars[i])))
			return true;
	return false;
}

/* The environment a child gets: ours without the secrets (pointers into environ). */
static char **child_environ(void)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = xcalloc(n + 1, sizeof *env);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!is_secret(environ[i]))
			env[k++] = environ[i];
	return env;
}

int spawn_exit_status(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 128;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int make_pipe(int fds[2])
{
	if (pipe(fds) < 0)
		return -1;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

struct pipes {
	int in[2], out[2], err[2];
};

static int setup_actions(posix_spawn_file_actions_t *fa, const struct spawn_opts *o, struct pipes *p)
{
	posix_spawn_file_actions_init(fa);
	if (o->stdin_data) {
		if (make_pipe(p->in) < 0)
			return -1;
		posix_spawn_file_actions_adddup2(fa, p->in[0], 0);
	} else {
		posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
	}
	if (o->capture_out) {
		if (make_pipe(p->out) < 0)
			return -1;
		posix_spawn_file_actions_adddup2(fa, p->out[1], 1);
	}
	if (o->capture_err) {
		if (make_pipe(p->err) < 0)
			return -1;
		posix_spawn_file_actions_adddup2(fa, p->err[1], 2);
	} else if (o->quiet_err) {
		posix_spawn_file_actions_addopen(fa, 2, "/dev/null", O_WRONLY, 0);
	}
	return 0;
}

static void read_into(int *fd, struct buf *b, const struct spawn_opts *o, bool *truncated)
{
	char chunk[16384];
	ssize_t n = read(*fd, chunk, sizeof chunk);
	if (n > 0 && o && o->on_out)
		o->on_out(chunk, (size_t)n, o->arg);
	else if (n > 0 && o && o->max_out && b->len + (size_t)n > o->max_out)
		*truncated = true; /* drained, not kept: a child that floods us cannot fill memory */
	else if (n > 0)
		buf_add(b, chunk, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		close_fd(fd);
}

/* Feed stdin, drain stdout/stderr, and enforce the deadline until the child's pipes close. */
static void pump(pid_t pid, const struct spawn_opts *o, long long deadline, struct pipes *p, struct spawn_result *r)
{
	size_t written = 0;
	long long killed_at = 0;
	if (p->in[1] >= 0 && o->stdin_len == 0)
		close_fd(&p->in[1]);
	while (p->in[1] >= 0 || p->out[0] >= 0 || p->err[0] >= 0) {
		struct pollfd fds[3] = { { p->in[1], POLLOUT, 0 }, { p->out[0], POLLIN, 0 }, { p->err[0], POLLIN, 0 } };
		int wait = -1;
		if (deadline) {
			long long left = (killed_at ? killed_at + 2000 : deadline) - now_ms();
			wait = left > 0 ? (int)left : 0;
		}
		int n = poll(fds, 3, wait);
		if (n < 0 && errno != EINTR)
			break;
		if (n == 0 && deadline) {
			r->timed_out = true;
			kill(pid, killed_at ? SIGKILL : SIGTERM);
			if (killed_at)
				break;
			killed_at = now_ms();
			continue;
		}
		if (n <= 0)
			continue;
		if (fds[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
			ssize_t w = write(p->in[1], (const char *)o->stdin_data + written, o->stdin_len - written);
			if (w > 0)
				written += (size_t)w;
			if ((w < 0 && errno != EINTR && errno != EAGAIN) || written == o->stdin_len)
				close_fd(&p->in[1]);
		}
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
			read_into(&p->out[0], &r->out, o, &r->truncated);
		if (fds[2].revents & (POLLIN | POLLHUP | POLLERR))
			read_into(&p->err[0], &r->err, NULL, &r->truncated);
	}
}

/* The child may outlive its pipes (it closed them): the deadline still holds. */
static int wait_child(pid_t pid, long long deadline, struct spawn_result *r)
{
	int ws;
	if (r->timed_out)
		deadline = now_ms(); /* already signalled: finish it */
	for (;;) {
		pid_t w = waitpid(pid, &ws, deadline ? WNOHANG : 0);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return fail_sys(EX_OSERR, "cannot wait for a child");
		if (w == 0) {
			if (now_ms() > deadline) {
				r->timed_out = true;
				kill(pid, SIGKILL);
				deadline = 0;
			} else {
				struct timespec ts = { 0, 10 * 1000 * 1000 };
				nanosleep(&ts, NULL);
			}
		}
	}
	r->status = spawn_exit_status(ws);
	return 0;
}

int spawn_run(const char *const argv[], const struct spawn_opts *o, struct spawn_result *r)
{
	struct pipes p = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def;
	*r = (struct spawn_result)SPAWN_RESULT_ZERO;
	long long deadline = o->timeout_ms > 0 ? now_ms() + o->timeout_ms : 0;
	posix_spawnattr_init(&attr);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	int rc = setup_actions(&fa, o, &p);
	pid_t pid = -1;
	char **env = child_environ();
	if (rc == 0)
		rc = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, env);
	else
		rc = errno;
	free(env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close_fd(&p.in[0]);
	close_fd(&p.out[1]);
	close_fd(&p.err[1]);
	if (rc != 0) {
		close_fd(&p.in[1]);
		close_fd(&p.out[0]);
		close_fd(&p.err[0]);
		errno = rc;
		return fail_sys(rc == ENOENT ? EX_UNAVAILABLE : EX_OSERR, "cannot run '%s'", argv[0]);
	}
	/* A child that exits without reading its stdin must not kill us with SIGPIPE. */
	struct sigaction ign = { 0 }, old;
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	pump(pid, o, deadline, &p, r);
	sigaction(SIGPIPE, &old, NULL);
	close_fd(&p.in[1]);
	close_fd(&p.out[0]);
	close_fd(&p.err[0]);
	return wait_child(pid, deadline, r);
}

void spawn_result_free(struct spawn_result *r)
{
	buf_free(&r->out);
	buf_free(&r->err);
}

const char *spawn_err_line(struct spawn_result *r, const char *fallback)
{
	if (!r->err.data)
		return fallback;
	r->err.data[strcspn(r->err.data, "\r\n")] = '\0'; /* ssh ends its lines with CR LF */
	return *r->err.data ? r->err.data : fallback;
}

/* Unit tests for common/: bundle (paths, lock, atomic JSON, stamps), spawn, digest, util. */
#include "bundle.h"
#include "digest.h"
#include "log.h"
#include "spawn.h"
#include "tap.h"
#include "util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[256];

static void test_digest(void)
{
	char hex[DIGEST_HEX_MAX];
	digest_hex(DIGEST_SHA256, "abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256(abc), FIPS 180-2");
	digest_hex(DIGEST_SHA1, "abc", 3, hex);
	is_str(hex, "a9993e364706816aba3e25717850c26c9cd0d89d", "sha1(abc), FIPS 180-2");
	struct digest *d = digest_new(DIGEST_SHA256);
	digest_update(d, "a", 1);
	digest_update(d, "bc", 2);
	digest_final_hex(d, hex);
	digest_free(d);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "streamed in pieces");
	ok(digest_file_hex(DIGEST_SHA256, "/nonexistent/x", hex) < 0 && fail_code() == EX_NOINPUT, "missing file is 66");
}

static void test_paths(void)
{
	setenv("CLAW_HOME", tmp, 1);
	char *p = bundle_resolve("dev");
	char *want = xasprintf("%s/VMs/dev.clawbundle", tmp);
	is_str(p, want, "a name lives under $CLAW_HOME/VMs");
	free(p);
	free(want);
	p = bundle_resolve("./x.clawbundle");
	is_str(p, "./x.clawbundle", "a path stays a path");
	free(p);
	ok(bundle_name_ok("dev-1.test_x"), "names with . _ -");
	ok(!bundle_name_ok("../x") && !bundle_name_ok("a b") && !bundle_name_ok("") && !bundle_name_ok("-x"), "bad names");
	struct bundle *b;
	ok(bundle_open("missing", 0, &b) < 0 && fail_code() == EX_NOINPUT, "opening a missing bundle is 66");
	ok(bundle_open("a;b", 0, &b) < 0 && fail_code() == EX_USAGE, "a hostile name is a usage error");
}

static void test_files(void)
{
	struct bundle *b;
	ok(bundle_open("one", BUNDLE_CREATE, &b) == 0, "create a bundle");
	is_str(bundle_name(b), "one", "its name");
	json_t *j = json_pack("{s:s, s:i}", "a", "x\"y", "b", 2);
	ok(bundle_write_json(b, "t.json", j, 0640) == 0, "write JSON");
	json_decref(j);
	struct stat st;
	char *path = bundle_file(b, "t.json");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "mode as asked, whatever the umask");
	free(path);
	json_t *back;
	ok(bundle_read_json(b, "t.json", &back) == 0 && !strcmp(json_string_value(json_object_get(back, "a")), "x\"y"),
	   "read it back");
	json_decref(back);
	ok(bundle_write(b, "ssh/known_hosts", "k\n", 2, 0644) == 0 && bundle_has(b, "ssh/known_hosts"),
	   "a file in a subdirectory");
	ok(bundle_write(b, "bad.json", "{", 1, 0644) == 0 && bundle_read_json(b, "bad.json", &back) < 0 &&
		   fail_code() == EX_DATAERR,
	   "corrupt JSON is 65");
	ok(bundle_read_json(b, "nope.json", &back) < 0 && fail_code() == EX_NOINPUT, "missing JSON is 66");
	/* No temporaries left behind. */
	int dots = 0;
	struct buf ls = BUF_ZERO;
	const char *argv[] = { "ls", "-A", bundle_path(b), NULL };
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	o.capture_out = true;
	struct spawn_result r;
	if (spawn_run(argv, &o, &r) == 0)
		for (char *s = r.out.data; s && (s = strstr(s, "\n.")); s++)
			dots++;
	spawn_result_free(&r);
	buf_free(&ls);
	is_int(dots, 0, "no temporary files remain");
	char hex[80];
	is_int(bundle_stamp_get(b, "inject", hex, sizeof hex), 1, "no stamp yet");
	ok(bundle_stamp_set(b, "inject", "abc123") == 0, "set a stamp");
	ok(bundle_stamp_get(b, "inject", hex, sizeof hex) == 0 && !strcmp(hex, "abc123"), "read it back");
	ok(bundle_stamp_clear(b, "inject") == 0 && bundle_stamp_get(b, "inject", hex, sizeof hex) == 1, "clear it");
	ok(bundle_stamp_set(b, "../x", "1") < 0, "a stage name cannot escape .stamps");
	bundle_close(b);
}

static void test_lock(void)
{
	struct bundle *b, *c;
	ok(bundle_open("one", 0, &b) == 0 && bundle_lock(b, false) == 0, "take the lock");
	pid_t pid = fork();
	if (pid == 0) {
		/* Another process: the lock is held, so a non-waiting attempt fails with 75.
		 * (A forked child shares the parent's lock until it closes its copy.) */
		bundle_close(b);
		if (bundle_open("one", 0, &c) < 0)
			_exit(1);
		_exit(bundle_lock(c, false) < 0 && fail_code() == EX_TEMPFAIL ? 0 : 2);
	}
	int ws;
	waitpid(pid, &ws, 0);
	ok(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "a second process is refused with 75");
	pid = fork();
	if (pid == 0) {
		bundle_close(b);
		if (bundle_open("one", 0, &c) < 0)
			_exit(1);
		_exit(bundle_lock(c, true) == 0 ? 0 : 2);
	}
	usleep(200000);
	ok(waitpid(pid, &ws, WNOHANG) == 0, "a waiting process waits");
	bundle_close(b);
	waitpid(pid, &ws, 0);
	ok(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "and gets the lock when it is let go");
}

static void test_spawn(void)
{
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	struct spawn_result r;
	o.capture_out = true;
	const char *echo[] = { "printf", "%s|", "$(id)", "a;b", "'q'", NULL };
	ok(spawn_run(echo, &o, &r) == 0 && r.status == 0, "run printf");
	is_str(r.out.data, "$(id)|a;b|'q'|", "arguments are data, never shell");
	spawn_result_free(&r);
	const char *cat[] = { "cat", NULL };
	o.stdin_data = "hello";
	o.stdin_len = 5;
	ok(spawn_run(cat, &o, &r) == 0, "feed stdin");
	is_str(r.out.data, "hello", "stdin reaches the child");
	spawn_result_free(&r);
	o.stdin_data = NULL;
	ok(spawn_run(cat, &o, &r) == 0 && r.out.len == 0, "stdin is /dev/null by default");
	spawn_result_free(&r);
	const char *f[] = { "sh", "-c", "echo err >&2; exit 3", NULL };
	o.capture_err = true;
	ok(spawn_run(f, &o, &r) == 0 && r.status == 3 && !strcmp(r.err.data, "err\n"), "exit code and stderr");
	spawn_result_free(&r);
	const char *k[] = { "sh", "-c", "kill -9 $$", NULL };
	ok(spawn_run(k, &o, &r) == 0 && r.status == 128 + SIGKILL, "killed by a signal is 128+N");
	spawn_result_free(&r);
	const char *slow[] = { "sleep", "10", NULL };
	o.timeout_ms = 200;
	ok(spawn_run(slow, &o, &r) == 0 && r.timed_out && r.status == 128 + SIGTERM, "a timeout stops the child");
	spawn_result_free(&r);
	const char *none[] = { "claw-no-such-program", NULL };
	ok(spawn_run(none, &o, &r) < 0 && fail_code() == EX_UNAVAILABLE, "a missing program is 69");
	const char *big[] = { "head", "-c", "1000000", "/dev/zero", NULL };
	o.timeout_ms = 0;
	ok(spawn_run(big, &o, &r) == 0 && r.out.len == 1000000, "a megabyte of output");
	spawn_result_free(&r);
}

static void test_util(void)
{
	char s[32];
	size_format(8ULL << 30, 1, s);
	is_str(s, "8GB", "exact 8GB");
	size_format(1536ULL << 20, 1, s);
	is_str(s, "1536MB", "exact 1.5GB is 1536MB");
	size_format(1536ULL << 20, 0, s);
	is_str(s, "1.5GB", "human 1.5GB");
	uint64_t v;
	ok(parse_u64("18446744073709551615", &v) == 0 && v == UINT64_MAX, "u64 max");
	ok(parse_u64("18446744073709551616", &v) < 0, "u64 overflow");
	ok(parse_u64("", &v) < 0 && parse_u64("1x", &v) < 0, "not numbers");
	setenv("HOME", "/home/u", 1);
	char *p = path_expand("~/k.pub", "/cfg");
	is_str(p, "/home/u/k.pub", "~ is HOME");
	free(p);
	p = path_expand("k.pub", "/cfg");
	is_str(p, "/cfg/k.pub", "relative to the config");
	free(p);
}

int main(void)
{
	snprintf(tmp, sizeof tmp, "%s/claw-unit.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp))
		return 1;
	test_digest();
	test_paths();
	test_files();
	test_lock();
	test_spawn();
	test_util();
	const char *rm[] = { "rm", "-rf", tmp, NULL };
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	struct spawn_result r;
	spawn_run(rm, &o, &r);
	spawn_result_free(&r);
	return tap_done();
}

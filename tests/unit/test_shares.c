/* Unit tests for common/shares.c and vm.shares in common/config.c: a share's name, its default,
 * --dir's syntax, names taken twice, and the error for each bad entry in claw.yml. */
#include "config.h"
#include "log.h"
#include "shares.h"
#include "tap.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

static const char *problem(const char *name) { return share_name_problem(name, strlen(name)); }

static void test_names(void)
{
	ok(!problem("src"), "a word is a name");
	ok(!problem("My Project (2026)"), "spaces and parentheses");
	ok(!problem("caf\xc3\xa9"), "UTF-8");
	ok(!problem(".hidden"), "a leading dot");
	ok(!problem("a:b"), "a ':' is VZ's to refuse, not documented");
	is_str(problem(""), "is empty", "empty");
	is_str(problem("."), "is reserved (it names a folder itself or its parent)", "'.'");
	is_str(problem(".."), "is reserved (it names a folder itself or its parent)", "'..'");
	is_str(problem("a/b"), "has a '/' in it", "a '/'");
	is_str(problem("/"), "has a '/' in it", "'/' alone");
	is_str(share_name_problem("a\0b", 3), "has a NUL byte in it", "a NUL");
	is_str(problem("\xff\xfe"), "is not UTF-8", "not UTF-8");
	char longest[NAME_MAX + 2];
	memset(longest, 'n', sizeof longest);
	longest[NAME_MAX] = '\0';
	ok(!problem(longest), "NAME_MAX bytes");
	longest[NAME_MAX] = 'n';
	longest[NAME_MAX + 1] = '\0';
	is_str(problem(longest), "is longer than a file name may be (255 bytes)", "NAME_MAX + 1 bytes");
}

static void test_default_names(void)
{
	char *n;
	n = share_default_name("/Users/me/src");
	is_str(n, "src", "the base name");
	free(n);
	n = share_default_name("/Users/me/src//");
	is_str(n, "src", "trailing slashes");
	free(n);
	n = share_default_name("data");
	is_str(n, "data", "a relative path");
	free(n);
	n = share_default_name("/");
	is_str(n, "", "'/' has none");
	free(n);
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof cwd)) {
		const char *base = strrchr(cwd, '/') ? strrchr(cwd, '/') + 1 : cwd;
		n = share_default_name(".");
	is_str(n, base, "'.': the current folder's");
	free(n);
	}
}

/* The list --dir ARG makes, as "NAME=PATH ro|rw", or the error. */
static char out[2048];
static const char *dir(const char *arg)
{
	struct share_list l = SHARE_LIST_ZERO;
	if (shares_add_dir(&l, arg) < 0)
		snprintf(out, sizeof out, "%d %s", fail_code(), fail_msg());
	else
		snprintf(out, sizeof out, "%s=%s %s", l.items[0].name, l.items[0].path, l.items[0].read_only ? "ro" : "rw");
	shares_free(&l);
	return out;
}

static void test_dir(void)
{
	setenv("HOME", "/home/me", 1);
	is_str(dir("/srv/src"), "src=/srv/src rw", "PATH");
	is_str(dir("/srv/src:ro"), "src=/srv/src ro", "PATH:ro");
	is_str(dir("code:/srv/src"), "code=/srv/src rw", "NAME:PATH");
	is_str(dir("code:/srv/src:ro"), "code=/srv/src ro", "NAME:PATH:ro");
	is_str(dir("~/src"), "src=/home/me/src rw", "~ expanded");
	is_str(dir("code:~/src:ro"), "code=/home/me/src ro", "~ expanded after a name");
	is_str(dir("ro:/srv/src"), "ro=/srv/src rw", "a share may be named ro");
	is_str(dir(""), "64 --dir '' names no folder ([NAME:]PATH[:ro])", "no path");
	is_str(dir("src:"), "64 --dir 'src:' names no folder ([NAME:]PATH[:ro])", "a name, no path");
	is_str(dir(":ro"), "64 --dir ':ro' names no folder ([NAME:]PATH[:ro])", "only the suffix");
	is_str(dir("src::ro"), "64 --dir 'src::ro' names no folder ([NAME:]PATH[:ro])", "a name and a suffix, no path");
	is_str(dir("src:/srv/src:rw"), "64 --dir 'src:/srv/src:rw': unknown suffix ':rw' (only :ro, read-only, is known)",
	       "unknown suffix");
	is_str(dir("/srv/src:rx"), "64 --dir '/srv/src:rx': unknown suffix ':rx' (only :ro, read-only, is known)",
	       "unknown suffix after a path");
	is_str(dir("a:b:c:d"),
	       "64 --dir 'a:b:c:d': more ':' than [NAME:]PATH[:ro] has (a folder with ':' in its path goes in claw.yml's vm.shares)",
	       "too many parts");
	is_str(dir(".:/srv/src"), "64 --dir '.:/srv/src': the share's name '.' is reserved (it names a folder itself or its parent)",
	       "'.' as a name");
	is_str(dir("..:/srv/src:ro"), "64 --dir '..:/srv/src:ro': the share's name '..' is reserved (it names a folder itself or its parent)",
	       "'..' as a name");
	is_str(dir(":/srv/src"), "64 --dir ':/srv/src': the share's name '' is empty", "an empty name");
	is_str(dir("/"), "64 --dir '/': the folder has no name of its own to share it under; give it one: --dir NAME:/",
	       "'/' needs a name");
	is_str(dir("root:/"), "root=/ rw", "'/' named");
	char arg[NAME_MAX + 16];
	memset(arg, 'n', NAME_MAX + 1);
	snprintf(arg + NAME_MAX + 1, sizeof arg - NAME_MAX - 1, ":/srv");
	ok(strstr(dir(arg), "is longer than a file name may be (255 bytes)") && !strncmp(out, "64 ", 3),
	   "a name over NAME_MAX: %s", out);
}

static void test_taken(void)
{
	struct share_list l = SHARE_LIST_ZERO, more = SHARE_LIST_ZERO;
	ok(shares_add_dir(&l, "/srv/src") == 0, "one --dir");
	ok(shares_add_dir(&l, "/home/src") < 0 && fail_code() == EX_USAGE, "a second with the same base name is 64");
	is_str(fail_msg(), "--dir '/home/src': the name 'src' is taken (--dir '/srv/src'); give this one another: --dir OTHER:PATH",
	       "and names the first");
	ok(shares_add_dir(&l, "src2:/home/src") == 0, "named otherwise, it is taken");
	is_int(l.n, 2, "two shares");
	ok(shares_add_dir(&more, "/other/src2:ro") == 0 && shares_add_dir(&more, "/x/y") == 0, "two more, apart");
	ok(shares_add_list(&l, &more) < 0 && fail_code() == EX_USAGE, "added to the first two: 'src2' is taken, 64");
	is_int(l.n, 2, "and nothing was added");
	is_int(more.n, 2, "nor taken away");
	shares_free(&more);
	ok(shares_add_dir(&more, "/x/y") == 0 && shares_add_list(&l, &more) == 0, "a new name is added");
	is_int(l.n, 3, "three shares");
	is_int(more.n, 0, "moved");
	shares_free(&l);
	shares_free(&more);
}

static const char *load_error(const char *yaml)
{
	struct claw_config *c = NULL;
	if (config_load_string(yaml, strlen(yaml), "t.yml", &c) == 0) {
		config_free(c);
		return "(loaded)";
	}
	return fail_msg();
}

static void test_config(void)
{
	struct claw_config *c = NULL;
	const char *y = "vm:\n  shares:\n    - /srv/src\n    - path: ~/data\n      name: d\n      read_only: true\n";
	ok(config_load_string(y, strlen(y), "t.yml", &c) == 0, "vm.shares loads: %s", c ? "" : fail_msg());
	if (c) {
		is_int(c->vm.nshares, 2, "two shares");
		is_str(c->vm.shares[0].name, "src", "the base name by default");
		is_str(c->vm.shares[0].path, "/srv/src", "the path");
		ok(!c->vm.shares[0].read_only, "writable by default");
		is_str(c->vm.shares[0].where, "t.yml:3:7", "where it was given");
		is_str(c->vm.shares[1].name, "d", "a name given");
		is_str(c->vm.shares[1].path, "/home/me/data", "~ expanded");
		ok(c->vm.shares[1].read_only, "read_only");
		is_str(c->vm.shares[1].where, "t.yml:4:7", "where the second was given");
		struct share_list l = SHARE_LIST_ZERO;
		shares_add_config(&l, c);
		ok(shares_add_dir(&l, "d:/elsewhere") < 0 && fail_code() == EX_USAGE, "a --dir taking claw.yml's name is 64");
		is_str(fail_msg(), "--dir 'd:/elsewhere': the name 'd' is taken (t.yml:4:7); give this one another: --dir OTHER:PATH",
		       "naming where claw.yml has it");
		shares_free(&l);
		config_free(c);
	}
	ok(config_load(NULL, &c) == 0 && c->vm.nshares == 0, "none by default");
	config_free(c);
	is_str(load_error("vm:\n  shares:\n    - path: /a/src\n    - /b/src\n"),
	       "t.yml:4:7: 'vm.shares': the name 'src' is taken (line 3); give one of them another 'name'", "a name twice");
	is_str(load_error("vm:\n  shares:\n    - {path: /a, name: x}\n    - {path: /b, name: x}\n"),
	       "t.yml:4:24: 'vm.shares': the name 'x' is taken (line 3); give one of them another 'name'", "a name given twice");
	is_str(load_error("vm:\n  shares:\n    - {path: /a, name: \".\"}\n"),
	       "t.yml:3:24: 'vm.shares': the name '.' is reserved (it names a folder itself or its parent)", "'.'");
	is_str(load_error("vm:\n  shares:\n    - {path: /a, name: a/b}\n"), "t.yml:3:24: 'vm.shares': the name 'a/b' has a '/' in it",
	       "a '/' in a name");
	is_str(load_error("vm:\n  shares:\n    - /\n"),
	       "t.yml:3:7: 'vm.shares': '/' has no name of its own to share it under; give it a 'name'", "'/' unnamed");
	is_str(load_error("vm:\n  shares:\n    - name: x\n"), "t.yml:3:7: a 'vm.shares' entry needs 'path', the folder to share",
	       "no path");
	is_str(load_error("vm:\n  shares:\n    - {pth: /a}\n"), "t.yml:3:8: unknown key 'pth' in 'vm.shares' (did you mean 'path'?)",
	       "unknown key");
	is_str(load_error("vm:\n  shares:\n    - {path: /a, read_only: sure}\n"),
	       "t.yml:3:29: 'vm.shares.read_only' must be true or false, not 'sure'", "read_only not a bool");
	is_str(load_error("vm:\n  shares:\n    - [a]\n"),
	       "t.yml:3:7: 'vm.shares' entries must be a folder or a mapping with path, name, read_only, not a list", "a list");
	is_str(load_error("vm:\n  shares: /a\n"), "t.yml:2:11: 'vm.shares' must be a list, not a scalar", "not a list");
	is_str(load_error("vm:\n  shares:\n    - \"\"\n"), "t.yml:3:7: 'vm.shares' must not be empty", "an empty path");
	char y2[600];
	snprintf(y2, sizeof y2, "vm:\n  shares:\n    - {path: /a, name: %0256d}\n", 0);
	is_str(load_error(y2), "t.yml:3:24: 'vm.shares': the name '"
			       "0000000000000000000000000000000000000000000000000000000000000000"
			       "0000000000000000000000000000000000000000000000000000000000000000"
			       "0000000000000000000000000000000000000000000000000000000000000000"
			       "0000000000000000000000000000000000000000000000000000000000000000"
			       "' is longer than a file name may be (255 bytes)",
	       "a name too long");
}

int main(void)
{
	test_names();
	test_default_names();
	test_dir();
	test_taken();
	test_config();
	return tap_done();
}

/* Unit tests for common/verify.c and the verify script: the guest's sections read back (whole,
 * cut short, with chatter, with hostile bytes), every kind of tool judged, and the script's
 * quoting of names no config would let through. */
#include "config.h"
#include "log.h"
#include "script.h"
#include "spawn.h"
#include "tap.h"
#include "util.h"
#include "verify.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char fixtures[512], tmp[256];

static struct claw_config *config(const char *yaml)
{
	struct claw_config *c = NULL;
	if (config_load_string(yaml, strlen(yaml), "t.yml", &c) < 0)
		printf("# config: %s\n", fail_msg());
	return c;
}

/* A section as the guest frames it. */
static void section(struct buf *b, const char *kind, int n, int status, const char *data)
{
	buf_addf(b, "@claw %s %d %d %zu\n%s", kind, n, status, strlen(data), data);
}

static json_t *judge(const struct claw_config *c, const struct buf *b)
{
	json_t *tools = NULL;
	if (verify_judge(c, b->data ? b->data : "", b->len, &tools) < 0)
		printf("# judge: %s\n", fail_msg());
	return tools;
}

static char *dump(json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT) : xstrdup("(null)");
}

static void is_json(json_t *j, const char *want, const char *what)
{
	char *got = dump(j);
	is_str(got, want, "%s", what);
	free(got);
}

static void test_npm_package(void)
{
	char *p;
	is_str(p = verify_npm_package("@anthropic-ai/claude-code"), "@anthropic-ai/claude-code", "a scoped name stays whole");
	free(p);
	is_str(p = verify_npm_package("@scope/x@1.2.3"), "@scope/x", "a scoped name loses its version");
	free(p);
	is_str(p = verify_npm_package("openclaw@latest"), "openclaw", "a tag goes");
	free(p);
	is_str(p = verify_npm_package("pnpm"), "pnpm", "a plain name");
	free(p);
}

/* The real npm 11 answer (tests/fixtures), with the package.json files of its packages. */
static void test_npm_real_shape(void)
{
	char path[700];
	snprintf(path, sizeof path, "%s/npm_ls_g_json_depth0_npm11.19.1.json", fixtures);
	struct buf ls = BUF_ZERO, b = BUF_ZERO;
	ok(file_read(path, 1 << 20, &ls) == 0, "the npm fixture reads");
	struct claw_config *c = config("tools:\n  homebrew: false\n  npm_global: [\"@s/x@^1\", y, broken, absent]\n");
	section(&b, VERIFY_PATH, 0, 0, "/opt/homebrew/bin/x\n/usr/bin/y\n");
	section(&b, VERIFY_NPM_LS, 0, 0, ls.data ? ls.data : "");
	section(&b, VERIFY_NPM_PKG, 0, 0, "{\"name\": \"@s/x\", \"version\": \"1.0.0\", \"bin\": \"cli.js\"}");
	section(&b, VERIFY_NPM_PKG, 1, 0, "{\"name\": \"y\", \"version\": \"2.0.0\"}");
	section(&b, VERIFY_NPM_PKG, 2, 1, "");
	section(&b, VERIFY_NPM_PKG, 3, 1, "");
	json_t *t = judge(c, &b);
	is_json(json_array_get(t, 0),
		"{\"name\":\"@s/x@^1\",\"version\":\"1.0.0\",\"installed\":true,\"kind\":\"npm\",\"commands\":{\"x\":\"/opt/homebrew/bin/x\"},"
		"\"missing\":[],\"package\":\"@s/x\",\"ok\":true}",
		"a string bin is one command, named for the package without its scope");
	is_json(json_array_get(t, 1),
		"{\"name\":\"y\",\"version\":\"2.0.0\",\"installed\":true,\"kind\":\"npm\",\"commands\":{},\"missing\":[],\"ok\":true}",
		"a library: installed, no commands, and that is fine");
	is_json(json_array_get(t, 2),
		"{\"name\":\"broken\",\"version\":null,\"installed\":false,\"kind\":\"npm\",\"commands\":{},\"missing\":[],\"ok\":false}",
		"a folder npm lists with no version is no package");
	ok(!json_is_true(json_object_get(json_array_get(t, 3), "installed")), "a package npm does not list is not installed");
	json_decref(t);
	config_free(c);
	buf_free(&b);
	buf_free(&ls);
}

static void test_brew(void)
{
	struct claw_config *c = config("tools:\n  homebrew: true\n  packages: [python3, openjdk, nothere, hashicorp/tap/terraform]\n"
				       "  casks: [visual-studio-code, fonts-only, gone]\n");
	struct buf b = BUF_ZERO;
	section(&b, VERIFY_PATH, 0, 0,
		"/opt/homebrew/bin/brew\n/opt/homebrew/bin/python3\n/opt/homebrew/bin/code\n/usr/bin/python3\n"
		"/opt/homebrew/bin/terraform\n");
	section(&b, VERIFY_APPS, 0, 0, "/Applications/Visual Studio Code.app\n/Applications/Safari.app\n");
	section(&b, VERIFY_BREW, 0, 0, "Homebrew 4.4.9\n");
	section(&b, VERIFY_FORMULAE, 0, 0, "openjdk 23.0.1\npython@3.13 3.13.0 3.13.1\npython@3.12 3.12.8\nterraform 1.10.3\n");
	section(&b, VERIFY_KEGS, 0, 1, ""); /* nothere is not there: brew lists no keg at all */
	section(&b, VERIFY_KEG, 0, 0,
		"/opt/homebrew/Cellar/python@3.13/3.13.1/bin/python3\n"
		"/opt/homebrew/Cellar/python@3.13/3.13.1/bin/pip3\n"
		"/opt/homebrew/Cellar/python@3.13/3.13.1/libexec/bin/python\n"
		"/opt/homebrew/Cellar/python@3.13/3.13.1/INSTALL_RECEIPT.json\n");
	section(&b, VERIFY_KEG, 1, 0, "/opt/homebrew/Cellar/openjdk/23.0.1/bin/java\n");
	section(&b, VERIFY_KEG, 2, 1, "");
	section(&b, VERIFY_KEG, 3, 0, "/opt/homebrew/Cellar/terraform/1.10.3/bin/terraform\n");
	section(&b, VERIFY_CASKS, 0, 0, "fonts-only 3.1\nvisual-studio-code 1.96.2\n");
	section(&b, VERIFY_BREW_INFO, 0, 0,
		"{\"formulae\": [{\"name\": \"openjdk\", \"keg_only\": true}, {\"name\": \"python@3.12\", \"aliases\": [\"python@3\"]},"
		" {\"name\": \"python@3.13\", \"aliases\": [\"python3\", \"python\"], \"keg_only\": false}],"
		" \"casks\": [{\"token\": \"visual-studio-code\", \"artifacts\": [{\"app\": [\"Visual Studio Code.app\"]},"
		" {\"binary\": [\"$APPDIR/Visual Studio Code.app/Contents/Resources/app/bin/code\"]}, {\"zap\": [{\"trash\": \"~/x\"}]}]},"
		" {\"token\": \"fonts-only\", \"artifacts\": [{\"font\": [\"x.ttf\"]}]}]}");
	json_t *t = judge(c, &b);
	is_json(json_array_get(t, 0),
		"{\"name\":\"brew\",\"version\":\"4.4.9\",\"installed\":true,\"kind\":\"brew\",\"commands\":{\"brew\":\"/opt/homebrew/bin/brew\"},"
		"\"missing\":[],\"ok\":true}",
		"brew itself, by brew --version and on PATH");
	is_json(json_array_get(t, 1),
		"{\"name\":\"python3\",\"version\":\"3.13.1\",\"installed\":true,\"kind\":\"brew\",\"commands\":{\"python3\":\"/opt/homebrew/bin/python3\"},"
		"\"missing\":[\"pip3\"],\"ok\":false}",
		"an alias by the formula brew info says it stands for; only bin/ counts; the first on PATH wins; an unlinked one is missing");
	is_json(json_object_get(json_array_get(t, 2), "commands"), "{\"java\":\"/opt/homebrew/Cellar/openjdk/23.0.1/bin/java\"}",
		"a keg-only formula's commands are found in its keg");
	ok(json_is_true(json_object_get(json_array_get(t, 2), "ok")), "and the keg-only formula is ok");
	ok(!json_is_true(json_object_get(json_array_get(t, 3), "installed")), "a formula brew does not list is not installed");
	is_json(json_object_get(json_array_get(t, 4), "commands"), "{\"terraform\":\"/opt/homebrew/bin/terraform\"}",
		"a tap's formula by its own name");
	is_json(json_object_get(json_array_get(t, 5), "commands"),
		"{\"Visual Studio Code.app\":\"/Applications/Visual Studio Code.app\",\"code\":\"/opt/homebrew/bin/code\"}",
		"a cask's .app among the applications, its binary on PATH");
	is_json(json_array_get(t, 6),
		"{\"name\":\"fonts-only\",\"version\":\"3.1\",\"installed\":true,\"kind\":\"cask\",\"commands\":{},\"missing\":[],\"ok\":true}",
		"a cask with no .app and no binary is installed with no commands");
	ok(!json_is_true(json_object_get(json_array_get(t, 7), "installed")), "a cask brew does not list is not installed");
	json_decref(t);
	buf_free(&b);

	/* Every formula there: one listing holds every keg, told apart by rack. */
	section(&b, VERIFY_FORMULAE, 0, 0, "python@3.13 3.13.1\nopenjdk 23.0.1\n");
	section(&b, VERIFY_KEGS, 0, 0,
		"/opt/homebrew/Cellar/python@3.13/3.13.1/bin/python3\n/opt/homebrew/Cellar/openjdk/23.0.1/bin/java\n");
	section(&b, VERIFY_PATH, 0, 0, "/opt/homebrew/bin/python3\n/opt/homebrew/bin/java\n");
	section(&b, VERIFY_BREW_INFO, 0, 0, "{\"formulae\": [{\"name\": \"python@3.13\", \"aliases\": [\"python3\"]}]}");
	t = judge(c, &b);
	is_json(json_object_get(json_array_get(t, 1), "commands"), "{\"python3\":\"/opt/homebrew/bin/python3\"}",
		"from the one listing, a formula's own keg only");
	is_json(json_object_get(json_array_get(t, 2), "commands"), "{\"java\":\"/opt/homebrew/bin/java\"}", "and the other's");
	json_decref(t);
	buf_free(&b);
	config_free(c);
}

static void test_hostile_report(void)
{
	struct claw_config *c = config("tools:\n  homebrew: false\n  npm_global: [evil]\n");
	struct buf b = BUF_ZERO;
	buf_adds(&b, "Last login: yesterday\n@claw not a header\n"); /* a login shell's chatter */
	/* A section whose data looks like a header: the length, not the text, says where it ends. */
	section(&b, VERIFY_PATH, 0, 0, "/bin/ok\n@claw npm-ls 0 0 2\n{}\n");
	section(&b, VERIFY_NPM_LS, 0, 0, "{\"dependencies\": {\"evil\": {\"version\": \"6.6\\u0007\\n6\"}}}");
	section(&b, VERIFY_NPM_PKG, 0, 0,
		"{\"name\": \"evil\", \"bin\": {\"ok\": \"a\", \"../../ok\": \"b\", \"..\": \"c\", \"a\\nb\": \"d\", \"\\u00e9\": \"e\", \"n\": 3}}");
	json_t *t = judge(c, &b);
	is_json(json_array_get(t, 0),
		"{\"name\":\"evil\",\"version\":\"6.6??6\",\"installed\":true,\"kind\":\"npm\",\"commands\":{\"ok\":\"/bin/ok\"},"
		"\"missing\":[\"a?b\",\"é\"],\"ok\":false}",
		"names from the guest are data: control bytes masked, '..' refused, a path cut to its name, a non-string bin dropped");
	json_decref(t);
	buf_free(&b);

	section(&b, VERIFY_PATH, 0, 0, "/bin/ok\n");
	buf_adds(&b, "@claw npm-ls 0 0 100\n{\"dependen");
	json_t *none = NULL;
	ok(verify_judge(c, b.data, b.len, &none) < 0 && fail_code() == EX_DATAERR, "an answer cut inside a section is 65");
	is_str(fail_msg(), "the guest's answer ends inside its 'npm-ls' section (10 of 100 bytes)", "saying where");
	buf_free(&b);

	buf_adds(&b, "@claw path 0 0 3\n\xff\xfe\n");
	section(&b, VERIFY_NPM_LS, 0, 0, "not json");
	t = judge(c, &b);
	ok(t && !json_is_true(json_object_get(json_array_get(t, 0), "installed")), "npm's answer not JSON: not installed");
	json_decref(t);
	buf_free(&b);

	t = judge(c, &b);
	ok(t && json_array_size(t) == 1, "an empty answer: every tool judged, none there");
	json_decref(t);
	config_free(c);
}

/* Names no config lets through, put in by hand: the script hands them to brew and npm as data. */
static void test_script_quoting(void)
{
	struct claw_config *c = config("tools:\n  homebrew: false\n  packages: [a]\n  npm_global: [b]\n");
	const char *hostile = "x'; touch pwned; echo '$(touch pwned)`touch pwned`";
	free(c->tools.packages.items[0]);
	c->tools.packages.items[0] = xstrdup(hostile);
	free(c->tools.npm_global.items[0]);
	c->tools.npm_global.items[0] = xstrdup("@s/y;touch pwned@1");
	char *script = script_verify(c);
	char *bin = xasprintf("%s/bin", tmp), *brew = xasprintf("%s/brew", bin), *npm = xasprintf("%s/npm", bin);
	mkdir_p(bin, 0755);
	const char stub[] = "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\" >>\"$CLAW_ARGS\"; done; echo >>\"$CLAW_ARGS\"\n";
	FILE *f;
	if ((f = fopen(brew, "w")))
		fputs(stub, f), fclose(f);
	if ((f = fopen(npm, "w")))
		fputs(stub, f), fclose(f);
	chmod(brew, 0755);
	chmod(npm, 0755);
	char *args = xasprintf("%s/args", tmp), *path = xasprintf("%s:/usr/bin:/bin", bin);
	setenv("CLAW_ARGS", args, 1);
	setenv("PATH", path, 1);
	if (chdir(tmp) < 0)
		printf("# chdir failed\n");
	const char *argv[] = { "bash", "-s", NULL };
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	struct spawn_result r;
	o.stdin_data = script;
	o.stdin_len = strlen(script);
	o.capture_out = true;
	o.quiet_err = true;
	ok(spawn_run(argv, &o, &r) == 0 && r.status == 0, "the script runs");
	struct buf got = BUF_ZERO;
	file_read(args, 1 << 16, &got);
	char *want = xasprintf("[list][--formula][--versions]\n[list][--formula][--][%s]\n[info][--json=v2][--installed]\n"
			       "[root][-g]\n[ls][-g][--json][--depth=0]\n",
			       hostile);
	is_str(got.data, want, "every name reaches brew and npm as one argument, verbatim");
	ok(access("pwned", F_OK) != 0, "and nothing in a name ran");
	free(want);
	buf_free(&got);
	spawn_result_free(&r);
	free(args);
	free(path);
	free(brew);
	free(npm);
	free(bin);
	free(script);
	config_free(c);
}

int main(void)
{
	const char *f = getenv("CLAW_FIXTURES");
	snprintf(fixtures, sizeof fixtures, "%s", f ? f : "tests/fixtures");
	snprintf(tmp, sizeof tmp, "%s/claw-unit.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp))
		return 1;
	test_npm_package();
	test_npm_real_shape();
	test_brew();
	test_hostile_report();
	test_script_quoting();
	const char *rm[] = { "rm", "-rf", tmp, NULL };
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	struct spawn_result r;
	spawn_run(rm, &o, &r);
	spawn_result_free(&r);
	return tap_done();
}

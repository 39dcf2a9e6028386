/* Unit tests for common/config.c: sizes, names, and the error for each bad config. */
#include "config.h"
#include "log.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>

static uint64_t size_of(const char *s)
{
	uint64_t v = 0;
	return config_parse_size(s, &v) == 0 ? v : UINT64_MAX;
}

static void test_sizes(void)
{
	is_int(size_of("8GB"), 8ULL << 30, "8GB is 8 GiB");
	is_int(size_of("8gb"), 8ULL << 30, "units are case-insensitive");
	is_int(size_of("512 MB"), 512ULL << 20, "a space before the unit");
	is_int(size_of("1.5GB"), 3ULL << 29, "a fraction");
	is_int(size_of("2TB"), 2ULL << 40, "TB");
	is_int(size_of("4KiB"), 4096, "KiB spelled out");
	is_int(size_of("100B"), 100, "bytes");
	ok(size_of("8XB") == UINT64_MAX, "8XB is refused");
	ok(size_of("8") == UINT64_MAX, "a bare number has no unit");
	ok(size_of("GB") == UINT64_MAX, "a unit alone");
	ok(size_of("-1GB") == UINT64_MAX, "negative");
	ok(size_of("0.5B") == UINT64_MAX, "half a byte");
	ok(size_of("99999999999999999999GB") == UINT64_MAX, "overflow");
	ok(size_of("17179869184TB") == UINT64_MAX, "overflow in the shift");
}

static void test_names(void)
{
	ok(config_username_ok("admin"), "admin is a user name");
	ok(config_username_ok("dev.user-1_x"), "dots, dashes, underscores");
	ok(!config_username_ok("root"), "root is taken");
	ok(!config_username_ok("1abc"), "a digit first");
	ok(!config_username_ok("a b"), "a space");
	ok(!config_username_ok("a;b"), "a semicolon");
	ok(!config_username_ok("$(id)"), "a command substitution");
	ok(!config_username_ok("abcdefghijklmnopqrstuvwxyz123456"), "32 characters");
	ok(!config_username_ok("jos\xc3\xa9"), "non-ASCII");
	ok(!config_username_ok(""), "empty");
	ok(config_brew_name_ok("git"), "git");
	ok(config_brew_name_ok("python@3.12"), "python@3.12");
	ok(config_brew_name_ok("homebrew/cask/firefox"), "a full tap path");
	ok(config_brew_name_ok("gtk+3"), "a plus");
	ok(!config_brew_name_ok("git;rm -rf /"), "a command");
	ok(!config_brew_name_ok("a//b"), "an empty tap part");
	ok(!config_brew_name_ok("-rf"), "an option");
	ok(!config_brew_name_ok("a/b/c/d"), "four parts");
	ok(config_npm_name_ok("typescript"), "typescript");
	ok(config_npm_name_ok("@anthropic-ai/claude-code"), "a scoped package");
	ok(config_npm_name_ok("pnpm@9.1.0"), "a version");
	ok(!config_npm_name_ok("Uppercase"), "uppercase");
	ok(!config_npm_name_ok("$(id)"), "a command substitution");
	ok(!config_npm_name_ok("@/x"), "an empty scope");
	ok(!config_npm_name_ok(".hidden"), "a leading dot");
	ok(!config_npm_name_ok("x@1;id"), "a command in the version");
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

static void test_errors(void)
{
	is_str(load_error("vm:\n  rma: 8GB\n"), "t.yml:2:3: unknown key 'rma' in 'vm' (did you mean 'ram'?)", "unknown key");
	is_str(load_error("vm:\n  cpu: four\n"), "t.yml:2:8: 'vm.cpu' must be a positive integer, not 'four'", "wrong type");
	is_str(load_error("vm:\n  ram: 8XB\n"), "t.yml:2:8: 'vm.ram' must be a size like 8GB (units KB, MB, GB, TB), not '8XB'",
	       "bad size");
	is_str(load_error("vm:\n  disk: 0GB\n"), "t.yml:2:9: 'vm.disk' must be greater than zero, not '0GB'", "zero size");
	is_str(load_error("vm:\n  cpu: -2\n"), "t.yml:2:8: 'vm.cpu' must be greater than zero, not '-2'", "negative");
	is_str(load_error("vm:\n  cpu: 2\n  cpu: 3\n"), "t.yml:3:3: duplicate key 'cpu' in 'vm' (first at line 2)", "duplicate");
	is_str(load_error(""), "t.yml: empty file; expected a mapping with vm, access, tools", "empty");
	is_str(load_error("vm: [\n"), "t.yml:2:1: YAML syntax: did not find expected node content while parsing a flow node",
	       "syntax");
	is_str(load_error("vm: 3\n"), "t.yml:1:5: 'vm' must be a mapping, not a scalar", "scalar for a mapping");
	is_str(load_error("tools:\n  homebrew: maybe\n"), "t.yml:2:13: 'tools.homebrew' must be true or false, not 'maybe'",
	       "bool");
	is_str(load_error("tools:\n  homebrew: \"true\"\n"), "t.yml:2:13: 'tools.homebrew' must be true or false, not 'true'",
	       "a quoted true is a string");
	is_str(load_error("access:\n  vnc_password: 123456789\n"),
	       "t.yml:2:17: 'access.vnc_password' is 9 characters; VNC allows at most 8", "vnc too long");
	is_str(load_error("access:\n  username: \"a b\"\n"),
	       "t.yml:2:13: 'access.username' 'a b' is not a name macOS accepts (a letter, then letters, digits, '_', '.', "
	       "'-'; at most 31; not a system account)",
	       "username");
	is_str(load_error("tools:\n  packages: [git, \"x;id\"]\n"), "t.yml:2:19: 'tools.packages': 'x;id' is not a valid Homebrew name",
	       "package name");
	is_str(load_error("- a\n"), "t.yml:1:1: expected a mapping with vm, access, tools, not a list", "a list at the top");
	is_str(load_error("zzz: 1\n"), "t.yml:1:1: unknown key 'zzz' (expected one of: name, vm, access, tools)",
	       "unknown key, nothing near");
	is_str(load_error("vm: {}\n---\nvm: {}\n"), "t.yml:3:1: a second YAML document; claw.yml holds one", "two documents");
	is_str(load_error("tools:\n  custom:\n    - name: x\n"), "t.yml:3:7: a 'tools.custom' entry needs 'run', the command to run",
	       "custom without run");
	is_str(load_error("vm:\n  macos: \"a\\0b\"\n"), "t.yml:2:10: 'vm.macos' contains a NUL byte", "NUL byte");
}

static void test_defaults(void)
{
	struct claw_config *c = NULL;
	ok(config_load(NULL, &c) == 0, "the built-in default loads");
	if (!c)
		return;
	is_str(c->name, "claw", "default name");
	is_int(c->vm.ram, 8ULL << 30, "default ram");
	is_str(c->vm.macos, "latest", "default macos");
	is_str(c->access.username, "admin", "default user");
	ok(c->tools.homebrew, "homebrew on by default");
	config_free(c);
	const char *y = "vm:\n  cpu: 1000\n  display: {width: 800}\ntools:\n  packages: [git]\n";
	ok(config_load_string(y, strlen(y), "t.yml", &c) == 0, "a partial config loads");
	if (!c)
		return;
	is_int(c->vm.width, 800, "display.width from the file");
	is_int(c->vm.height, 1080, "display.height from the default");
	is_int(c->vm.cpu_requested, 1000, "cpu as asked");
	ok(c->vm.cpu >= 1 && c->vm.cpu < 1000, "cpu clamped to the host");
	is_int(c->tools.packages.n, 1, "one package");
	is_str(c->tools.packages.items[0], "git", "git");
	config_free(c);
}

int main(void)
{
	test_sizes();
	test_names();
	test_errors();
	test_defaults();
	return tap_done();
}

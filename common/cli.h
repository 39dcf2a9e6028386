/* cli: what every claw command shares on its command line — -h, --version, -q,
 * -v, the usage message, and which claw.yml a stage reads (-c, else the
 * bundle's copy, else the built-in default). Commands own their own options. */
#ifndef CLAW_CLI_H
#define CLAW_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>

struct bundle;
struct claw_config;

#ifndef CLAW_VERSION
#define CLAW_VERSION "0.0.0"
#endif

/* Long options without a short letter take values from here up. */
enum { OPT_VERSION = 0x100, OPT_JSON, OPT_FIRST_PRIVATE };

#define CLI_COMMON_OPTIONS                                                                         \
	{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, OPT_VERSION },         \
	{ "quiet", no_argument, NULL, 'q' }, { "verbose", no_argument, NULL, 'v' }

/* Set the program name from argv[0] and remember the usage text. */
void cli_init(const char *argv0, const char *usage);
/* Handle h, q, v, --version and getopt's '?' / ':'. Returns true if it did. */
bool cli_common(int opt);
/* Usage error: "prog: why", then the usage text, exit 64. */
_Noreturn void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A JSON value on stdout, indented, one newline after it. */
void cli_print_json(json_t *v);

/* Data went to stdout: make sure it got there (a full disk, a closed pipe), or die with 74. */
void cli_flush_stdout(void);

/* -c FILE if given; else the bundle's claw.yml if there is one; else the built-in. */
int cli_load_config(const char *path, const struct bundle *b, struct claw_config **out);

#endif

/* cli: the options and the usage message every claw command shares. */
#include "cli.h"
#include "bundle.h"
#include "config.h"
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *usage_text = "";

void cli_init(const char *argv0, const char *usage)
{
	log_init(argv0);
	usage_text = usage;
}

bool cli_common(int opt)
{
	switch (opt) {
	case 'h':
		fputs(usage_text, stdout);
		exit(0);
	case OPT_VERSION:
		printf("%s %s\n", log_prog(), CLAW_VERSION);
		exit(0);
	case 'q':
		log_set_level(LOG_QUIET);
		return true;
	case 'v':
		log_set_level(LOG_VERBOSE);
		return true;
	case '?':
	case ':':
		/* getopt already said which option was wrong. */
		fputs(usage_text, stderr);
		exit(EX_USAGE);
	}
	return false;
}

void cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", log_prog());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

void cli_print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
	if (!s)
		die(EX_SOFTWARE, "cannot encode JSON");
	puts(s);
	free(s);
}

void cli_flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EX_IOERR, "cannot write to standard output");
}

int cli_load_config(const char *path, const struct bundle *b, struct claw_config **out)
{
	if (path)
		return config_load(path, out);
	if (b && bundle_has(b, BUNDLE_CONFIG)) {
		char *p = bundle_file(b, BUNDLE_CONFIG);
		int rc = config_load(p, out);
		free(p);
		return rc;
	}
	return config_load(NULL, out);
}

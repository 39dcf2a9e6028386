/* log: program name, verbosity, the recorded error, and the one message shape. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *prog = "claw";
static enum log_level level = LOG_NORMAL;
/* Per thread: claw-fetch's helper threads record their own failures. */
static _Thread_local int last_code = EX_SOFTWARE;
static _Thread_local char last_msg[1024] = "unknown error";

void log_init(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
	if (argv0 && *argv0)
		prog = slash ? slash + 1 : argv0;
}

const char *log_prog(void) { return prog; }
void log_set_level(enum log_level l) { level = l; }
enum log_level log_level(void) { return level; }
int fail_code(void) { return last_code; }
const char *fail_msg(void) { return last_msg; }

int fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof last_msg, fmt, ap);
	va_end(ap);
	last_code = code;
	return -1;
}

int fail_sys(int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(last_msg, sizeof last_msg, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof last_msg)
		snprintf(last_msg + n, sizeof last_msg - (size_t)n, ": %s", strerror(saved));
	last_code = code;
	errno = saved;
	return -1;
}

static void vprint(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
	exit(code);
}

void die_err(void)
{
	fprintf(stderr, "%s: %s\n", prog, last_msg);
	exit(last_code);
}

void warn(const char *fmt, ...)
{
	if (level < LOG_NORMAL)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	if (level < LOG_VERBOSE)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
}

/* log: the program's name, its verbosity, and the one shape of every message.
 * common/ code never prints: it records an error with fail() and returns -1;
 * only cmd/ calls die()/die_err(), which print "prog: message" and exit. */
#ifndef CLAW_LOG_H
#define CLAW_LOG_H

#include <stdarg.h>
#include <sysexits.h>

#define CLAW_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum log_level { LOG_QUIET = 0, LOG_NORMAL = 1, LOG_VERBOSE = 2 };

void log_init(const char *argv0);
const char *log_prog(void);
void log_set_level(enum log_level level);
enum log_level log_level(void);

/* Record an error for the caller: exit code and message. Always returns -1. */
int fail(int code, const char *fmt, ...) CLAW_PRINTF(2, 3);
/* Same, with ": strerror(errno)" appended (errno read before anything else). */
int fail_sys(int code, const char *fmt, ...) CLAW_PRINTF(2, 3);
int fail_code(void);
const char *fail_msg(void);

/* Print "prog: message" (always) and exit. */
_Noreturn void die(int code, const char *fmt, ...) CLAW_PRINTF(2, 3);
/* Print the recorded error and exit with its code. */
_Noreturn void die_err(void);
/* Print "prog: message" unless -q. */
void warn(const char *fmt, ...) CLAW_PRINTF(1, 2);
/* Print "prog: message" only with -v. */
void info(const char *fmt, ...) CLAW_PRINTF(1, 2);

#endif

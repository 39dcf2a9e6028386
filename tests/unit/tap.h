/* tap: the smallest TAP producer — plan at the end, one line a check. */
#ifndef CLAW_TAP_H
#define CLAW_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                                              \
	do {                                                                                       \
		int c_ = (cond);                                                                   \
		printf("%s %d - ", c_ ? "ok" : "not ok", ++tap_n);                                 \
		printf(__VA_ARGS__);                                                               \
		putchar('\n');                                                                     \
		if (!c_) {                                                                         \
			tap_failed++;                                                              \
			printf("#   at %s:%d\n", __FILE__, __LINE__);                                  \
		}                                                                                  \
		fflush(stdout);                                                                    \
	} while (0)

#define is_str(got, want, ...)                                                                     \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		ok(g_ && w_ && !strcmp(g_, w_), __VA_ARGS__);                                      \
		if (!(g_ && w_ && !strcmp(g_, w_)))                                                \
			printf("#   got:  '%s'\n#   want: '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

#define is_int(got, want, ...)                                                                     \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		ok(g_ == w_, __VA_ARGS__);                                                         \
		if (g_ != w_)                                                                      \
			printf("#   got:  %lld\n#   want: %lld\n", g_, w_);                           \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif

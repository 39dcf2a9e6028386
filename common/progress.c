/* progress: a redrawn status line on stderr when it is a terminal. */
#include "progress.h"
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int drawn;  /* lines drawn last time, to move back over */
static int detail; /* detail lines drawn this time */

bool progress_enabled(void)
{
	return log_level() >= LOG_NORMAL && isatty(2);
}

static void go_back(void)
{
	for (int i = 1; i < drawn; i++)
		fputs("\033[1A", stderr);
	fputs("\r", stderr);
}

static void clock_format(long s, char out[32])
{
	if (s >= 3600)
		snprintf(out, 32, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, 32, "%ld:%02ld", s / 60, s % 60);
}

void progress_line(const char *label, int64_t done, int64_t total, double rate)
{
	if (!progress_enabled())
		return;
	go_back();
	char d[32], t[32], r[32];
	size_format((uint64_t)(done > 0 ? done : 0), 0, d);
	size_format((uint64_t)(rate > 0 ? rate : 0), 0, r);
	if (total > 0) {
		size_format((uint64_t)total, 0, t);
		char eta[32] = "--:--";
		if (rate > 1)
			clock_format((long)((double)(total - done) / rate), eta);
		fprintf(stderr, "\033[2K%s %3d%% %s/%s %s/s ETA %s", label, (int)(done * 100 / total), d, t, r, eta);
	} else {
		fprintf(stderr, "\033[2K%s %s %s/s", label, d, r);
	}
	drawn = 1;
	detail = 0;
}

void progress_fraction(const char *label, double fraction, double elapsed_s)
{
	if (!progress_enabled())
		return;
	go_back();
	char el[32], eta[32] = "--:--";
	clock_format((long)elapsed_s, el);
	if (fraction > 0.01)
		clock_format((long)(elapsed_s * (1 - fraction) / fraction), eta);
	fprintf(stderr, "\033[2K%s %3d%% %s ETA %s", label, (int)(fraction * 100), el, eta);
	drawn = 1;
	detail = 0;
}

void progress_detail(const char *fmt, ...)
{
	if (!progress_enabled() || log_level() < LOG_VERBOSE)
		return;
	va_list ap;
	fputs("\n\033[2K  ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	drawn = 1 + ++detail;
}

void progress_end(void)
{
	if (!progress_enabled() || !drawn)
		return;
	fputc('\n', stderr);
	drawn = 0;
}

/* progress: one line on a terminal, redrawn in place — done/total, rate, ETA —
 * and per-part detail lines when verbose. Only when stderr is a terminal and
 * not -q; silent otherwise, so logs and pipes stay clean. */
#ifndef CLAW_PROGRESS_H
#define CLAW_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

/* Should progress be drawn at all? */
bool progress_enabled(void);
/* Draw "label  42% 7.9GB/18.7GB 112MB/s ETA 1:36" (total < 0: no percent, no ETA). */
void progress_line(const char *label, int64_t done, int64_t total, double rate);
/* Draw "label  42% 3:12 ETA 4:25" for work measured as a fraction (0..1). */
void progress_fraction(const char *label, double fraction, double elapsed_s);
/* A detail line under the main one (verbose only); call after progress_line. */
void progress_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* End the line so the next message starts clean. */
void progress_end(void);

#endif

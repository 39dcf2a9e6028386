/* disk: a VM's boot disk file — made RAW (a sparse file) or ASIF (by diskutil,
 * macOS 26+), which format a host gets by default, and waiting for the
 * hypervisor to let go of it. Never prints; fail() on errors. */
#ifndef CLAW_DISK_H
#define CLAW_DISK_H

#include <stdbool.h>
#include <stdint.h>

/* "asif" on macOS 26 and later, "raw" elsewhere. */
const char *disk_default_format(const char *host_version);
bool disk_format_ok(const char *host_version, const char *format);
/* A new disk image of size bytes (rounded up to 512) at path, replacing none. */
int disk_create(const char *path, const char *format, uint64_t size);
/* Poll an exclusive non-blocking lock every 100 ms until it is granted or timeout_ms
 * passed (EX_TEMPFAIL then). Returns how long it waited, in ms. */
int disk_wait_released(const char *path, int timeout_ms);

#endif

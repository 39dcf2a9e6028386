/* vmstate: what a bundle says about its machine, read without taking its lock —
 * restored or not, running (claw-boot holds run/pid) or not, the state claw-boot
 * last wrote, its IP, its hardware, and how much disk it really uses.
 * Never prints; a bundle it cannot read is reported through fail(). */
#ifndef CLAW_VMSTATE_H
#define CLAW_VMSTATE_H

#include <jansson.h>

struct bundle;

/* A JSON object: name, path, state, macos, build, cpu, ram, disk_size, disk_used, ip, and
 * while it runs, shares (the folders its claw-boot shares: [{name, path, read_only, mount}]).
 * Unknown values are left out, never empty. */
int vmstate_read(const struct bundle *b, json_t **out);

#endif

/* vmconfig: config.json, the record of a finished restore — the machine's
 * platform identity (base64 of VZ's data), its MAC address, and its hardware.
 * Key names follow tart's where tart has one. Never prints; fail() on errors:
 * EX_NOINPUT when missing, EX_DATAERR when it is not what claw wrote. */
#ifndef CLAW_VMCONFIG_H
#define CLAW_VMCONFIG_H

#include "vm.h"

#include <jansson.h>
#include <stdint.h>

struct bundle;

#define VMCONFIG_VERSION 1

struct vmconfig {
	struct vm_identity id;
	char mac[18]; /* two hex digits a byte */
	unsigned cpu;
	uint64_t ram;
	unsigned width, height, ppi;
	char disk_format[8]; /* raw | asif */
	uint64_t disk_size;
	char os_version[32], os_build[32];
};

int vmconfig_read(const struct bundle *b, struct vmconfig *out);
/* The same from a JSON object in config.json's shape; where names it in messages. */
int vmconfig_parse(json_t *o, const char *where, struct vmconfig *out);
/* Atomically: a reader sees no config.json or a whole one. */
int vmconfig_write(struct bundle *b, const struct vmconfig *c);
/* A random unicast, locally administered MAC (what VZ's randomLocallyAdministeredAddress gives). */
void vmconfig_random_mac(char out[18]);
/* "ee:a7:85:9:92:39" and friends -> "ee:a7:85:09:92:39"; -1 if it is not a MAC. */
int vmconfig_mac_normal(const char *in, char out[18]);

#endif

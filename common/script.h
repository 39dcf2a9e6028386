/* script: the shell scripts the online stages run in the guest — provision.sh
 * (one subshell per step, markers, a failure count) and the verify script (the
 * package managers' answers, framed) — generated from claw.yml with every value quoted as data.
 * Never prints. */
#ifndef CLAW_SCRIPT_H
#define CLAW_SCRIPT_H

#include <jansson.h>

struct claw_config;

#define SCRIPT_SKIP 200 /* a step's "nothing to do here" (not macOS) */

/* provision.sh, and its steps as [{n, title}]. */
char *script_provision(const struct claw_config *cfg, json_t **steps);
/* The verify script: asks each package manager what it installed and lists what is on PATH,
 * every answer a section verify.h reads back. */
char *script_verify(const struct claw_config *cfg);

#endif

/* script: the shell scripts the online stages run in the guest — provision.sh
 * (one subshell per step, markers, a failure count) and the verify script (one
 * line per tool) — generated from claw.yml with every value quoted as data.
 * Never prints. */
#ifndef CLAW_SCRIPT_H
#define CLAW_SCRIPT_H

#include <jansson.h>

struct claw_config;

#define SCRIPT_SKIP 200 /* a step's "nothing to do here" (not macOS) */

/* provision.sh, and its steps as [{n, title}]. */
char *script_provision(const struct claw_config *cfg, json_t **steps);
/* The verify script: prints "name<TAB>kind<TAB>0|1<TAB>version" per tool.
 * table: tools.tsv text (kind, name, how to check), may be NULL. */
char *script_verify(const struct claw_config *cfg, const char *table);

#endif

/* ocicreds: who we are to a registry. CLAW_REGISTRY_USER and CLAW_REGISTRY_PASSWORD
 * first; else docker's config ($DOCKER_CONFIG/config.json or ~/.docker/config.json): the
 * `auths` entry for the host (base64 of user:password), else its credential helper
 * (`credHelpers` for the host, else `credsStore`), run as docker runs one —
 * docker-credential-NAME get, the host on its stdin, {"Username","Secret"} on its stdout —
 * through spawn (an argv, never a shell). Secrets stay in memory and are wiped when freed.
 * Never prints. */
#ifndef CLAW_OCICREDS_H
#define CLAW_OCICREDS_H

struct oci_creds {
	char *user, *secret;
	const char *source; /* "environment", "docker config", "credential helper" */
};

/* 0 and *out when there are credentials for host, 1 when there are none; -1 when the
 * docker config cannot be read (EX_CONFIG) or a helper fails other than by "not found". */
int ocicreds_find(const char *host, struct oci_creds *out);
void ocicreds_free(struct oci_creds *c);

#endif

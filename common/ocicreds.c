/* ocicreds: the environment, docker's config file, docker's credential helpers. */
#include "ocicreds.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_MAX (1 << 20)

static void set(struct oci_creds *out, const char *user, size_t ulen, const char *secret, size_t slen,
		const char *source)
{
	out->user = xstrndup(user, ulen);
	out->secret = xstrndup(secret, slen);
	out->source = source;
}

void ocicreds_free(struct oci_creds *c)
{
	if (c->secret)
		secure_zero(c->secret, strlen(c->secret));
	free(c->user);
	free(c->secret);
	c->user = c->secret = NULL;
}

static char *docker_config_path(void)
{
	const char *dir = getenv("DOCKER_CONFIG");
	if (dir && *dir)
		return xasprintf("%s/config.json", dir);
	return path_expand("~/.docker/config.json", NULL);
}

/* "https://host/v1/" and "host" name the same registry, as docker takes them. */
static bool same_host(const char *key, const char *host)
{
	if (!strncmp(key, "https://", 8))
		key += 8;
	else if (!strncmp(key, "http://", 7))
		key += 7;
	size_t n = strcspn(key, "/");
	return n == strlen(host) && !strncmp(key, host, n);
}

/* auths[host].auth: base64 of "user:password" (the first colon splits them). */
static int from_auths(json_t *cfg, const char *host, struct oci_creds *out)
{
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(cfg, "auths"), key, v) {
		const char *b64 = json_string_value(json_object_get(v, "auth"));
		if (!same_host(key, host) || !b64 || !*b64)
			continue;
		size_t n = strlen(b64);
		unsigned char *plain = xmalloc(n / 4 * 3 + 4);
		int got = n % 4 ? -1 : EVP_DecodeBlock(plain, (const unsigned char *)b64, (int)n);
		if (got >= 0) {
			got -= (b64[n - 1] == '=') + (n > 1 && b64[n - 2] == '=');
			plain[got] = '\0';
		}
		char *colon = got > 0 ? memchr(plain, ':', (size_t)got) : NULL;
		if (colon)
			set(out, (char *)plain, (size_t)(colon - (char *)plain), colon + 1,
			    (size_t)got - (size_t)(colon + 1 - (char *)plain), "docker config");
		secure_zero(plain, n / 4 * 3 + 4);
		free(plain);
		if (!colon)
			return fail(EX_CONFIG, "docker config: the auth for '%s' is not base64 of user:password", key);
		return 0;
	}
	return 1;
}

/* credHelpers[host], else credsStore: the NAME of docker-credential-NAME. */
static const char *helper_name(json_t *cfg, const char *host)
{
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(cfg, "credHelpers"), key, v)
		if (same_host(key, host) && json_string_value(v))
			return json_string_value(v);
	return json_string_value(json_object_get(cfg, "credsStore"));
}

static bool helper_name_ok(const char *name)
{
	if (!*name || strlen(name) > 64)
		return false;
	for (const char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') && !strchr("-_.", *p))
			return false;
	return true;
}

static int from_helper(const char *name, const char *host, struct oci_creds *out)
{
	if (!helper_name_ok(name))
		return fail(EX_CONFIG, "docker config: '%s' is not a credential helper's name", name);
	char *prog = xasprintf("docker-credential-%s", name);
	char *in = xasprintf("%s\n", host);
	const char *argv[] = { prog, "get", NULL };
	struct spawn_opts o = SPAWN_OPTS_ZERO;
	o.stdin_data = in;
	o.stdin_len = strlen(in);
	o.capture_out = o.capture_err = true;
	o.timeout_ms = 60000;
	struct spawn_result r = SPAWN_RESULT_ZERO;
	int rc;
	if (spawn_run(argv, &o, &r) < 0) {
		rc = fail(EX_CONFIG, "cannot run the credential helper %s: %s", prog, fail_msg());
	} else if (r.status != 0) {
		/* docker's helpers say so on stdout when they hold nothing for the host */
		bool none = r.out.data && strstr(r.out.data, "credentials not found");
		rc = none ? 1 : fail(EX_NOPERM, "the credential helper %s failed: %s", prog, spawn_err_line(&r, "no reason given"));
	} else {
		json_t *j = json_loadb(r.out.data ? r.out.data : "", r.out.len, 0, NULL);
		const char *user = json_string_value(json_object_get(j, "Username"));
		const char *secret = json_string_value(json_object_get(j, "Secret"));
		/* "<token>" is an identity token for docker's OAuth flow, which a registry's
		 * Basic and Bearer endpoints do not take. */
		if (!user || !secret || !strcmp(user, "<token>"))
			rc = 1;
		else
			set(out, user, strlen(user), secret, strlen(secret), "credential helper"), rc = 0;
		if (j && secret)
			secure_zero((char *)secret, strlen(secret));
		json_decref(j);
	}
	if (r.out.data)
		secure_zero(r.out.data, r.out.len);
	spawn_result_free(&r);
	free(in);
	free(prog);
	return rc;
}

int ocicreds_find(const char *host, struct oci_creds *out)
{
	memset(out, 0, sizeof *out);
	const char *u = getenv("CLAW_REGISTRY_USER"), *p = getenv("CLAW_REGISTRY_PASSWORD");
	if (u && *u && p) {
		set(out, u, strlen(u), p, strlen(p), "environment");
		return 0;
	}
	char *path = docker_config_path();
	struct buf text = BUF_ZERO;
	if (file_read(path, CONFIG_MAX, &text) < 0) {
		int missing = fail_code() == EX_NOINPUT;
		free(path);
		return missing ? 1 : fail(EX_CONFIG, "%s", fail_msg());
	}
	json_error_t err;
	json_t *cfg = json_loadb(text.data, text.len, 0, &err);
	secure_zero(text.data, text.len);
	buf_free(&text);
	int rc;
	if (!json_is_object(cfg)) {
		rc = fail(EX_CONFIG, "'%s' line %d: %s", path, err.line, cfg ? "not a JSON object" : err.text);
	} else {
		rc = from_auths(cfg, host, out);
		const char *helper = rc == 1 ? helper_name(cfg, host) : NULL;
		if (helper)
			rc = from_helper(helper, host, out);
	}
	json_decref(cfg);
	free(path);
	return rc;
}

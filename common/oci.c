/* oci: references, requests with auth and retries, manifests, blobs. */
#include "oci.h"
#include "digest.h"
#include "http.h"
#include "log.h"
#include "ocicreds.h"

#include <ctype.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_MAX ((size_t)4 << 20)
#define TOKEN_MAX ((size_t)1 << 20)
#define ERROR_BODY_MAX ((size_t)64 << 10)
#define TRIES 5

static const char manifest_types[] =
	"application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
	"application/vnd.docker.distribution.manifest.v2+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json";

/* ---- references ---- */

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* host: labels of letters, digits and inner dashes, joined by dots; then :port. */
static bool host_ok(const char *h, size_t n)
{
	const char *colon = memchr(h, ':', n);
	size_t name = colon ? (size_t)(colon - h) : n;
	if (name == 0 || name > 253 || n >= sizeof ((struct oci_ref *)0)->host)
		return false;
	for (size_t i = 0; i < name; i++) {
		bool edge = i == 0 || i + 1 == name || h[i - 1] == '.' || h[i + 1] == '.';
		if (!(alnum(h[i]) || (h[i] == '-' && !edge) || (h[i] == '.' && !edge)))
			return false;
	}
	if (!colon)
		return true;
	size_t digits = n - name - 1;
	if (digits > 5) /* 00000000001 is no port a registry is named with, and it must fit host[] */
		return false;
	unsigned long port = 0;
	for (size_t i = name + 1; i < n; i++) {
		if (!isdigit((unsigned char)h[i]))
			return false;
		port = port * 10 + (unsigned long)(h[i] - '0');
		if (port > 65535)
			return false;
	}
	return digits > 0 && port > 0;
}

/* The distribution spec's name: [a-z0-9]+ joined by . _ __ or dashes, components split by /. */
static bool repo_ok(const char *r, size_t n)
{
	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (lower_alnum(r[i]))
			continue;
		bool inner = i > 0 && i + 1 < n && lower_alnum(r[i - 1]);
		if (r[i] == '/' && inner && lower_alnum(r[i + 1]))
			continue;
		if (r[i] == '.' && inner && lower_alnum(r[i + 1]))
			continue;
		if (r[i] == '_' && inner && (lower_alnum(r[i + 1]) || (r[i + 1] == '_' && i + 2 < n && lower_alnum(r[i + 2])))) {
			i += r[i + 1] == '_';
			continue;
		}
		if (r[i] == '-' && i > 0 && r[i - 1] != '/') {
			size_t j = i;
			while (j < n && r[j] == '-')
				j++;
			if (j < n && lower_alnum(r[j]) && lower_alnum(r[i - 1])) {
				i = j - 1;
				continue;
			}
		}
		return false;
	}
	return true;
}

static bool tag_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128 || !(alnum(t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(alnum(t[i]) || strchr("._-", t[i])))
			return false;
	return true;
}

bool oci_digest_ok(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) || strlen(d) != 71)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int oci_ref_parse(const char *s, struct oci_ref *out)
{
	memset(out, 0, sizeof *out);
	const char *slash = strchr(s, '/');
	if (!slash)
		return fail(EX_USAGE, "'%s' is not an image reference: expected HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST]", s);
	if (!host_ok(s, (size_t)(slash - s)))
		return fail(EX_USAGE, "'%s': '%.*s' is not a registry host[:port]", s, (int)(slash - s), s);
	memcpy(out->host, s, (size_t)(slash - s));
	const char *repo = slash + 1, *at = strchr(repo, '@');
	const char *last = strrchr(repo, '/'), *colon = strchr(last ? last : repo, ':');
	size_t rlen = at ? (size_t)(at - repo) : colon ? (size_t)(colon - repo) : strlen(repo);
	if (at && colon && colon < at)
		return fail(EX_USAGE, "'%s': give a tag or a digest, not both", s);
	if (!repo_ok(repo, rlen))
		return fail(EX_USAGE, "'%s': '%.*s' is not a repository name (lowercase letters, digits, . _ - and /)", s,
			    (int)rlen, repo);
	memcpy(out->repo, repo, rlen);
	if (at) {
		if (!oci_digest_ok(at + 1))
			return fail(EX_USAGE, "'%s': a digest is sha256: and 64 lowercase hex digits", s);
		strcpy(out->digest, at + 1);
	} else if (colon) {
		if (!tag_ok(colon + 1))
			return fail(EX_USAGE, "'%s': '%s' is not a tag (letters, digits, . _ -, at most 128)", s, colon + 1);
		strcpy(out->tag, colon + 1);
	} else {
		strcpy(out->tag, "latest");
	}
	return 0;
}

char *oci_ref_string(const struct oci_ref *r)
{
	return *r->digest ? xasprintf("%s/%s@%s", r->host, r->repo, r->digest)
			  : xasprintf("%s/%s:%s", r->host, r->repo, r->tag);
}

bool oci_host_loopback(const char *host)
{
	size_t n = strcspn(host, ":");
	if (host[0] == '[')
		return !strncmp(host, "[::1]", 5);
	if ((n == 9 && !strncmp(host, "localhost", 9)) || (n > 10 && !strncmp(host + n - 10, ".localhost", 10)))
		return true;
	unsigned a, b, c, d;
	char tail;
	char ip[64];
	if (n >= sizeof ip)
		return false;
	memcpy(ip, host, n);
	ip[n] = '\0';
	return sscanf(ip, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 && c < 256 && d < 256;
}

int oci_insecure_check(const char *arg, const char *host)
{
	if (!*arg && !oci_host_loopback(host))
		return fail(EX_USAGE, "--insecure alone is for a registry on this machine; name the host to speak plain "
				      "HTTP to another: --insecure=%s", host);
	if (*arg && strcmp(arg, host))
		return fail(EX_USAGE, "--insecure=%s does not name the registry '%s'", arg, host);
	return 0;
}

/* ---- the client ---- */

struct oci {
	struct oci_ref ref;
	char *origin; /* scheme://host */
	char *base;   /* origin/v2/repo */
	bool plain;
	pthread_mutex_t mu;
	/* Under mu: the Authorization header to send, and for a token, when it expires and
	 * the challenge to ask the realm again with. */
	char *authz;
	bool bearer;
	long long expires_ms;
	char *realm, *service, *scope;
	bool creds_looked;
	int creds_rc;
	struct oci_creds creds;
	/* Header lists handed to other handles, freed (and wiped) at close. */
	struct curl_slist **lists;
	size_t nlists;
};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct oci *oci_open(const struct oci_ref *ref, bool plain_http)
{
	http_init();
	struct oci *c = xcalloc(1, sizeof *c);
	c->ref = *ref;
	c->plain = plain_http;
	c->origin = xasprintf("%s://%s", plain_http ? "http" : "https", ref->host);
	c->base = xasprintf("%s/v2/%s", c->origin, ref->repo);
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

static void wipe_free(char *s)
{
	if (s)
		secure_zero(s, strlen(s));
	free(s);
}

static void wipe_list(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		secure_zero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

void oci_close(struct oci *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nlists; i++)
		wipe_list(c->lists[i]);
	free(c->lists);
	wipe_free(c->authz);
	free(c->realm);
	free(c->service);
	free(c->scope);
	ocicreds_free(&c->creds);
	pthread_mutex_destroy(&c->mu);
	free(c->origin);
	free(c->base);
	free(c);
}

char *oci_blob_url(const struct oci *c, const char *digest)
{
	return xasprintf("%s/blobs/%s", c->base, digest);
}

/* ---- one request ---- */

struct resp {
	long status;
	struct buf body;
	size_t max;
	bool too_big;
	char *location, *digest, *ctype, *www;
};

static void resp_free(struct resp *r)
{
	buf_free(&r->body);
	free(r->location);
	free(r->digest);
	free(r->ctype);
	free(r->www);
	memset(r, 0, sizeof *r);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	if (r->body.len + size * n > r->max) {
		r->too_big = true;
		return 0;
	}
	buf_add(&r->body, p, size * n);
	return size * n;
}

/* A header's value, trimmed, when line is "name: value". */
static char *header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
		return NULL;
	const char *v = line + n + 1, *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

static void keep(char **slot, char *v)
{
	if (v) {
		free(*slot);
		*slot = v;
	}
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = size * n;
	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		/* A redirect's headers come first; the last response is the one that counts. */
		free(r->location), free(r->digest), free(r->ctype), free(r->www);
		r->location = r->digest = r->ctype = r->www = NULL;
		return len;
	}
	keep(&r->location, header_value(p, len, "location"));
	keep(&r->digest, header_value(p, len, "docker-content-digest"));
	keep(&r->ctype, header_value(p, len, "content-type"));
	char *www = header_value(p, len, "www-authenticate");
	/* Several challenges: the first one we can answer. */
	if (www && (!r->www || (strncasecmp(r->www, "bearer ", 7) && !strncasecmp(www, "bearer ", 7))))
		keep(&r->www, www);
	else
		free(www);
	return len;
}

struct req {
	const char *method;
	const char *url;
	const char *accept, *content_type;
	const void *body;
	size_t len;
	size_t max;
	bool no_auth;   /* the token request itself */
	bool follow;    /* follow redirects (GETs of blobs may be sent to storage elsewhere) */
	const char *authz; /* with no_auth: this Authorization header instead */
};

struct upload {
	const char *p;
	size_t left;
};

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t k = size * n < u->left ? size * n : u->left;
	memcpy(buf, u->p, k);
	u->p += k;
	u->left -= k;
	return k;
}

static const char *ca_bundle(void)
{
	const char *ca = getenv("CURL_CA_BUNDLE");
	return ca && *ca ? ca : NULL;
}

/* The protocols a handle may speak: https only, unless the caller allowed http. */
static void set_transport(CURL *h, bool plain)
{
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, plain ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, plain ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_bundle())
		curl_easy_setopt(h, CURLOPT_CAINFO, ca_bundle());
}

static char *current_authz(struct oci *c);

static CURLcode perform(struct oci *c, const struct req *q, struct resp *r, char errbuf[CURL_ERROR_SIZE])
{
	CURL *h = curl_easy_init();
	if (!h)
		die(EX_SOFTWARE, "cannot create a libcurl handle");
	errbuf[0] = '\0';
	r->max = q->max;
	curl_easy_setopt(h, CURLOPT_URL, q->url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "claw/" CLAW_VERSION);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, q->follow ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	set_transport(h, c->plain);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	struct curl_slist *hdrs = NULL;
	char *authz = q->no_auth ? (q->authz ? xstrdup(q->authz) : NULL) : current_authz(c);
	if (authz)
		hdrs = curl_slist_append(hdrs, authz);
	char line[512];
	if (q->accept) {
		snprintf(line, sizeof line, "Accept: %s", q->accept);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (q->content_type) {
		snprintf(line, sizeof line, "Content-Type: %s", q->content_type);
		hdrs = curl_slist_append(hdrs, line);
	}
	struct upload up = { q->body, q->len };
	if (!strcmp(q->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(q->method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, &up);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->len);
		hdrs = curl_slist_append(hdrs, "Expect:");
	} else if (!strcmp(q->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body ? q->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(h);
	wipe_list(hdrs);
	wipe_free(authz);
	return rc;
}

/* The registry's own words, from an error body {"errors":[{"code","message"}]}. */
static const char *registry_says(const struct resp *r, char *out, size_t size)
{
	json_t *j = r->body.len ? json_loadb(r->body.data, r->body.len, 0, NULL) : NULL;
	json_t *e = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (code || msg)
		snprintf(out, size, ": %s%s%s", code ? code : "", code && msg ? " " : "", msg ? msg : "");
	else
		out[0] = '\0';
	json_decref(j);
	return out;
}

static int status_fail(const struct oci *c, const struct req *q, const struct resp *r)
{
	char says[300];
	registry_says(r, says, sizeof says);
	int code = r->status >= 500 || r->status == 429 || r->status == 408 ? EX_TEMPFAIL
		   : r->status == 401 || r->status == 403                   ? EX_NOPERM
									    : EX_UNAVAILABLE;
	return fail(code, "registry '%s': HTTP %ld for %s %s%s", c->ref.host, r->status, q->method, q->url, says);
}

static int authenticate(struct oci *c, const char *challenge);

/* A request with the client's auth; a 401 answered once by authenticating; network trouble
 * and 5xx retried with backoff. 0 with *r for any status below 400 (and 404, which the
 * caller reads); else -1 and fail(). */
static int request(struct oci *c, const struct req *q, struct resp *r)
{
	char errbuf[CURL_ERROR_SIZE];
	bool authed = false;
	int delay = 250;
	for (int attempt = 1;; attempt++) {
		memset(r, 0, sizeof *r);
		CURLcode rc = perform(c, q, r, errbuf);
		if (rc == CURLE_WRITE_ERROR && r->too_big) {
			resp_free(r);
			return fail(EX_DATAERR, "registry '%s': %s %s is larger than %zu bytes", c->ref.host, q->method, q->url, q->max);
		}
		if (rc == CURLE_OK && r->status == 401 && !q->no_auth && !authed) {
			authed = true;
			char *www = r->www ? xstrdup(r->www) : NULL;
			resp_free(r);
			int arc = authenticate(c, www);
			free(www);
			if (arc < 0)
				return -1;
			attempt--;
			continue;
		}
		bool transient = http_transient(rc, rc == CURLE_OK ? r->status : 0);
		if (transient && attempt < TRIES) {
			resp_free(r);
			usleep((useconds_t)delay * 1000);
			delay *= 2;
			continue;
		}
		if (rc != CURLE_OK) {
			resp_free(r);
			return fail(transient ? EX_TEMPFAIL : EX_UNAVAILABLE, "cannot reach registry '%s': %s", c->ref.host,
				    *errbuf ? errbuf : curl_easy_strerror(rc));
		}
		if (r->status == 401) {
			int f = fail(EX_NOPERM, "registry '%s' refused %s", c->ref.host,
				     c->creds_rc == 0 ? "the credentials" : "access without credentials (set CLAW_REGISTRY_USER and "
									 "CLAW_REGISTRY_PASSWORD, or docker login)");
			resp_free(r);
			return f;
		}
		if (r->status >= 400 && r->status != 404) {
			int f = status_fail(c, q, r);
			resp_free(r);
			return f;
		}
		return 0;
	}
}

/* ---- auth ---- */

/* Parse `Scheme k=v, k="v"`: the scheme, and the value of each key asked for. */
static bool parse_challenge(const char *h, char scheme[16], const char *const keys[], char *vals[])
{
	size_t n = strcspn(h, " ");
	if (n == 0 || n >= 16 || !h[n])
		return false;
	memcpy(scheme, h, n);
	scheme[n] = '\0';
	const char *p = h + n;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *k = p;
		while (*p && *p != '=' && *p != ',')
			p++;
		if (*p != '=')
			return *p == '\0' && p == k;
		size_t klen = (size_t)(p - k);
		p++;
		struct buf v = BUF_ZERO;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				buf_add(&v, p, 1);
			}
			if (*p != '"') {
				buf_free(&v);
				return false;
			}
			p++;
		} else {
			const char *s = p;
			while (*p && *p != ',' && *p != ' ')
				p++;
			buf_add(&v, s, (size_t)(p - s));
		}
		if (!v.data)
			buf_add(&v, "", 0);
		bool used = false;
		for (size_t i = 0; keys[i]; i++)
			if (strlen(keys[i]) == klen && !strncasecmp(k, keys[i], klen) && !vals[i])
				vals[i] = v.data, used = true;
		if (!used)
			buf_free(&v);
	}
	return true;
}

static void look_up_creds(struct oci *c)
{
	if (c->creds_looked)
		return;
	c->creds_looked = true;
	c->creds_rc = ocicreds_find(c->ref.host, &c->creds);
}

static char *basic_header(const struct oci_creds *cr)
{
	char *plain = xasprintf("%s:%s", cr->user, cr->secret);
	size_t n = strlen(plain);
	char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)plain, (int)n);
	char *h = xasprintf("Authorization: Basic %s", b64);
	wipe_free(plain);
	wipe_free(b64);
	return h;
}

/* Ask the realm for a token for the challenge's service and scope. Under mu. */
static int fetch_token(struct oci *c)
{
	CURLU *u = curl_url();
	char *url = NULL;
	if (curl_url_set(u, CURLUPART_URL, c->realm, 0) != CURLUE_OK ||
	    (c->service && curl_url_set(u, CURLUPART_QUERY, c->service, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK) ||
	    (c->scope && curl_url_set(u, CURLUPART_QUERY, c->scope, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK) ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		return fail(EX_PROTOCOL, "registry '%s': the token realm '%s' is not a URL", c->ref.host, c->realm);
	}
	curl_url_cleanup(u);
	if (strncmp(url, "https://", 8) && !(c->plain && !strncmp(url, "http://", 7))) {
		int f = fail(EX_PROTOCOL, "registry '%s': the token realm '%s' is not https", c->ref.host, url);
		curl_free(url);
		return f;
	}
	look_up_creds(c);
	if (c->creds_rc < 0) {
		curl_free(url);
		return -1;
	}
	/* The realm gets the credentials as Basic, the token endpoint's way; a plain GET outside
	 * request(), which would answer a 401 here by asking for a token again. */
	char *basic = c->creds_rc == 0 ? basic_header(&c->creds) : NULL;
	struct req q = { "GET", url, "application/json", NULL, NULL, 0, TOKEN_MAX, true, true, basic };
	char errbuf[CURL_ERROR_SIZE];
	struct resp r;
	memset(&r, 0, sizeof r);
	CURLcode rc = perform(c, &q, &r, errbuf);
	wipe_free(basic);
	int ret = 0;
	if (rc != CURLE_OK)
		ret = fail(http_transient(rc, 0) ? EX_TEMPFAIL : EX_UNAVAILABLE, "cannot reach the token realm '%s': %s", url,
			   *errbuf ? errbuf : curl_easy_strerror(rc));
	else if (r.status == 401 || r.status == 403)
		ret = fail(EX_NOPERM, "registry '%s': the token realm refused %s", c->ref.host,
			   c->creds_rc == 0 ? "the credentials" : "to answer without credentials (set CLAW_REGISTRY_USER "
								  "and CLAW_REGISTRY_PASSWORD, or docker login)");
	else if (r.status >= 400)
		ret = fail(r.status >= 500 ? EX_TEMPFAIL : EX_UNAVAILABLE, "the token realm '%s': HTTP %ld", url, r.status);
	curl_free(url);
	if (ret < 0) {
		resp_free(&r);
		return -1;
	}
	json_t *j = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
	if (r.body.data)
		secure_zero(r.body.data, r.body.len);
	resp_free(&r);
	const char *tok = json_string_value(json_object_get(j, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(j, "access_token"));
	json_int_t ttl = json_integer_value(json_object_get(j, "expires_in"));
	if (!tok || !*tok) {
		json_decref(j);
		return fail(EX_PROTOCOL, "registry '%s': the token realm's answer holds no token", c->ref.host);
	}
	wipe_free(c->authz);
	c->authz = xasprintf("Authorization: Bearer %s", tok);
	secure_zero((char *)tok, strlen(tok));
	json_decref(j);
	/* The spec's default is 60 s; ask again a little before the end. */
	c->bearer = true;
	c->expires_ms = now_ms() + ((ttl > 0 ? ttl : 60) - 10) * 1000;
	return 0;
}

static int authenticate(struct oci *c, const char *challenge)
{
	static const char *const keys[] = { "realm", "service", "scope", NULL };
	char *vals[3] = { NULL, NULL, NULL };
	char scheme[16];
	if (!challenge || !parse_challenge(challenge, scheme, keys, vals)) {
		for (int i = 0; i < 3; i++)
			free(vals[i]);
		return fail(EX_PROTOCOL, "registry '%s' asks for credentials without a challenge claw can read", c->ref.host);
	}
	pthread_mutex_lock(&c->mu);
	int rc;
	if (!strcasecmp(scheme, "basic")) {
		look_up_creds(c);
		if (c->creds_rc == 0) {
			wipe_free(c->authz);
			c->authz = basic_header(&c->creds);
			c->bearer = false;
			rc = 0;
		} else {
			rc = c->creds_rc < 0 ? -1
					     : fail(EX_NOPERM, "registry '%s' needs credentials: set CLAW_REGISTRY_USER and "
							       "CLAW_REGISTRY_PASSWORD, or docker login", c->ref.host);
		}
	} else if (!strcasecmp(scheme, "bearer") && vals[0]) {
		free(c->realm), free(c->service), free(c->scope);
		c->realm = vals[0];
		c->service = vals[1] ? xasprintf("service=%s", vals[1]) : NULL;
		c->scope = vals[2] ? xasprintf("scope=%s", vals[2]) : NULL;
		free(vals[1]), free(vals[2]);
		vals[0] = vals[1] = vals[2] = NULL;
		rc = fetch_token(c);
	} else {
		rc = fail(EX_PROTOCOL, "registry '%s' asks for '%s' authentication, which claw does not speak", c->ref.host,
			  scheme);
	}
	pthread_mutex_unlock(&c->mu);
	for (int i = 0; i < 3; i++)
		free(vals[i]);
	return rc;
}

/* The header to send now (a new string, or NULL): a token past its time is asked again. */
static char *current_authz(struct oci *c)
{
	pthread_mutex_lock(&c->mu);
	if (c->bearer && now_ms() >= c->expires_ms && fetch_token(c) < 0) {
		wipe_free(c->authz);
		c->authz = NULL;
		c->bearer = false;
	}
	char *h = c->authz ? xstrdup(c->authz) : NULL;
	pthread_mutex_unlock(&c->mu);
	return h;
}

void oci_prepare_handle(void *curl, void *client)
{
	struct oci *c = client;
	CURL *h = curl;
	set_transport(h, c->plain);
	char *authz = current_authz(c);
	if (!authz)
		return;
	struct curl_slist *l = curl_slist_append(NULL, authz);
	wipe_free(authz);
	pthread_mutex_lock(&c->mu);
	c->lists = xrealloc(c->lists, (c->nlists + 1) * sizeof *c->lists);
	c->lists[c->nlists++] = l;
	pthread_mutex_unlock(&c->mu);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
}

/* ---- manifests ---- */

static bool is_index(const char *type)
{
	return type && (!strcmp(type, "application/vnd.oci.image.index.v1+json") ||
			!strcmp(type, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

/* The darwin/arm64 entry of an index. */
static const char *pick_platform(json_t *index)
{
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(index, "manifests"), i, m) {
		json_t *p = json_object_get(m, "platform");
		const char *os = json_string_value(json_object_get(p, "os"));
		const char *arch = json_string_value(json_object_get(p, "architecture"));
		if (os && arch && !strcmp(os, "darwin") && !strcmp(arch, "arm64"))
			return json_string_value(json_object_get(m, "digest"));
	}
	return NULL;
}

static int get_manifest(struct oci *c, const char *reference, int depth, json_t **out, char digest[OCI_DIGEST_MAX])
{
	char *url = xasprintf("%s/manifests/%s", c->base, reference);
	struct req q = { "GET", url, manifest_types, NULL, NULL, 0, MANIFEST_MAX, false, true };
	struct resp r;
	int rc = request(c, &q, &r);
	free(url);
	if (rc < 0)
		return -1;
	char *ref = oci_ref_string(&c->ref);
	if (r.status == 404) {
		resp_free(&r);
		rc = fail(EX_NOINPUT, "'%s': no such image (no manifest %s in %s/%s)", ref, reference, c->ref.host, c->ref.repo);
		free(ref);
		return rc;
	}
	char hex[DIGEST_HEX_MAX];
	digest_hex(DIGEST_SHA256, r.body.data ? r.body.data : "", r.body.len, hex);
	snprintf(digest, OCI_DIGEST_MAX, "sha256:%s", hex);
	json_error_t err;
	json_t *m = NULL;
	if (oci_digest_ok(reference) && strcmp(reference, digest))
		rc = fail(EX_DATAERR, "registry '%s' lies: the manifest %s it sent hashes to %s", c->ref.host, reference, digest);
	else if (r.digest && strcmp(r.digest, digest))
		rc = fail(EX_DATAERR, "registry '%s' lies: it says the manifest of '%s' is %s, its bytes hash to %s",
			  c->ref.host, ref, r.digest, digest);
	else if (!(m = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, &err)) || !json_is_object(m))
		rc = fail(EX_DATAERR, "'%s': the manifest is not a JSON object (%s)", ref, m ? "another value" : err.text);
	free(ref);
	if (rc < 0) {
		json_decref(m);
		resp_free(&r);
		return -1;
	}
	const char *type = json_string_value(json_object_get(m, "mediaType"));
	if (!type)
		type = r.ctype;
	if (is_index(type)) {
		const char *pick = pick_platform(m);
		if (!pick || !oci_digest_ok(pick) || depth > 0)
			rc = fail(EX_DATAERR, "'%s/%s': the index holds no darwin/arm64 image", c->ref.host, c->ref.repo);
		else
			rc = get_manifest(c, pick, depth + 1, out, digest);
		json_decref(m);
		resp_free(&r);
		return rc;
	}
	resp_free(&r);
	*out = m;
	return 0;
}

int oci_manifest_get(struct oci *c, const char *reference, json_t **out, char digest[OCI_DIGEST_MAX])
{
	*out = NULL;
	return get_manifest(c, reference, 0, out, digest);
}

int oci_manifest_put(struct oci *c, const char *tag, const char *text, size_t len)
{
	char *url = xasprintf("%s/manifests/%s", c->base, tag);
	struct req q = { "PUT", url, NULL, "application/vnd.oci.image.manifest.v1+json", text, len, ERROR_BODY_MAX, false, false };
	struct resp r;
	int rc = request(c, &q, &r);
	if (rc == 0 && r.status != 201 && r.status != 200)
		rc = status_fail(c, &q, &r);
	resp_free(&r);
	free(url);
	return rc;
}

/* ---- blobs ---- */

int oci_blob_exists(struct oci *c, const char *digest, bool *yes)
{
	char *url = oci_blob_url(c, digest);
	struct req q = { "HEAD", url, NULL, NULL, NULL, 0, ERROR_BODY_MAX, false, false };
	struct resp r;
	int rc = request(c, &q, &r);
	free(url);
	if (rc < 0)
		return -1;
	*yes = r.status == 200;
	/* A redirect to the storage that holds it says as much. */
	if (r.status == 307 || r.status == 302)
		*yes = true;
	resp_free(&r);
	return 0;
}

int oci_blob_get(struct oci *c, const char *digest, size_t max, struct buf *out)
{
	char *url = oci_blob_url(c, digest);
	struct req q = { "GET", url, NULL, NULL, NULL, 0, max, false, true };
	struct resp r;
	int rc = request(c, &q, &r);
	free(url);
	if (rc < 0)
		return -1;
	if (r.status == 404) {
		resp_free(&r);
		return fail(EX_DATAERR, "registry '%s' has no blob %s in %s", c->ref.host, digest, c->ref.repo);
	}
	char hex[DIGEST_HEX_MAX];
	digest_hex(DIGEST_SHA256, r.body.data ? r.body.data : "", r.body.len, hex);
	if (strcmp(hex, digest + 7)) {
		resp_free(&r);
		return fail(EX_DATAERR, "registry '%s' lies: the blob %s it sent hashes to sha256:%s", c->ref.host, digest, hex);
	}
	*out = r.body;
	r.body = (struct buf)BUF_ZERO;
	if (!out->data)
		buf_add(out, "", 0);
	resp_free(&r);
	return 0;
}

/* The upload's Location (absolute or not) with digest=... added to its query. */
static char *put_url(const struct oci *c, const char *location, const char *digest)
{
	CURLU *u = curl_url();
	char *q = xasprintf("digest=%s", digest), *url = NULL, *out = NULL;
	char *base = xasprintf("%s/", c->origin);
	if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK)
		out = xstrdup(url);
	curl_free(url);
	curl_url_cleanup(u);
	free(q);
	free(base);
	return out;
}

int oci_blob_put(struct oci *c, const char *digest, const void *data, size_t len)
{
	char *url = xasprintf("%s/blobs/uploads/", c->base);
	struct req q = { "POST", url, NULL, NULL, NULL, 0, ERROR_BODY_MAX, false, false };
	struct resp r;
	int rc = request(c, &q, &r);
	if (rc == 0 && (r.status != 202 || !r.location)) {
		rc = r.status == 202 ? fail(EX_PROTOCOL, "registry '%s' started an upload without saying where", c->ref.host)
				     : status_fail(c, &q, &r);
		resp_free(&r);
	}
	free(url);
	if (rc < 0)
		return -1;
	char *put = put_url(c, r.location, digest);
	resp_free(&r);
	if (!put)
		return fail(EX_PROTOCOL, "registry '%s' gave an upload location that is not a URL", c->ref.host);
	struct req p = { "PUT", put, NULL, "application/octet-stream", data, len, ERROR_BODY_MAX, false, false };
	rc = request(c, &p, &r);
	char says[300];
	if (rc == 0 && r.status != 201)
		rc = r.status == 400 ? fail(EX_DATAERR, "registry '%s' refused blob %s: it does not match its digest%s",
					    c->ref.host, digest, registry_says(&r, says, sizeof says))
				     : status_fail(c, &p, &r);
	resp_free(&r);
	free(put);
	return rc;
}

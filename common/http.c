/* http: claw's defaults for libcurl, small GETs and HEADs, failure mapping, and the
 * few header values and URL parts claw reads. */
#include "http.h"
#include "cli.h"
#include "log.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void http_init(void)
{
	static int done;
	if (!done && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die(EX_SOFTWARE, "cannot initialise libcurl");
	done = 1;
}

/* The schemes a transfer may use, and where its redirects may lead: never from https down
 * to http, never to anything but the web (a redirect to file:// would read the host's files). */
static void limit_protocols(CURL *h, const char *url, unsigned flags)
{
	bool secure = !strncasecmp(url, "https://", 8);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the _STR options; the bitmasks are deprecated there */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, flags & HTTP_ALLOW_FILE ? "http,https,file" : "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, secure ? "https" : "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS,
			 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS | (flags & HTTP_ALLOW_FILE ? CURLPROTO_FILE : 0)));
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(secure ? CURLPROTO_HTTPS : CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

CURL *http_handle(const char *url, unsigned flags, char errbuf[CURL_ERROR_SIZE])
{
	http_init();
	CURL *h = curl_easy_init();
	if (!h)
		die(EX_SOFTWARE, "cannot create a libcurl handle");
	errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "claw/" CLAW_VERSION);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	limit_protocols(h, url, flags);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 0L);
	return h;
}

bool http_transient(CURLcode rc, long status)
{
	if (rc == CURLE_OK)
		return status >= 500 || status == 429 || status == 408;
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/* Where curl was going when it gave up: the URL a redirect led to, or NULL if none did. */
static char *redirected_to(CURL *h, const char *url)
{
	char *eff = NULL;
	long n = 0;
	curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
	curl_easy_getinfo(h, CURLINFO_REDIRECT_COUNT, &n);
	return eff && (n > 0 || strcmp(eff, url)) ? http_redact(eff) : NULL;
}

int http_fail(CURL *h, CURLcode rc, const char *url, const char *errbuf)
{
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	char *shown = http_redact(url);
	int ret;
	const char *why = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
	char *to = rc == CURLE_UNSUPPORTED_PROTOCOL ? redirected_to(h, url) : NULL;
	if (rc == CURLE_OK && status >= 400)
		ret = fail(status >= 500 || status == 429 ? EX_TEMPFAIL : EX_UNAVAILABLE, "'%s': HTTP %ld", shown, status);
	else if (rc == CURLE_FILE_COULDNT_READ_FILE)
		ret = fail(EX_NOINPUT, "cannot read '%s'", shown);
	else if (to)
		ret = fail(EX_UNAVAILABLE, "'%s' redirects to '%s': refused (only http and https, and never from https to http)",
			   shown, to);
	else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT)
		ret = fail(EX_USAGE, "'%s': %s", shown, why);
	else
		ret = fail(http_transient(rc, status) ? EX_TEMPFAIL : EX_UNAVAILABLE, "cannot reach '%s': %s", shown, why);
	free(to);
	free(shown);
	return ret;
}

struct capped {
	struct buf *b;
	size_t max;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct capped *c = arg;
	if (c->b->len + size * n > c->max)
		return 0; /* larger than any catalog: refuse rather than eat memory */
	buf_add(c->b, p, size * n);
	return size * n;
}

int http_get(const char *url, size_t max, struct buf *out)
{
	char errbuf[CURL_ERROR_SIZE];
	CURL *h = http_handle(url, HTTP_ALLOW_FILE, errbuf);
	struct capped c = { out, max };
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	int ret = 0;
	if (rc == CURLE_WRITE_ERROR) {
		char *shown = http_redact(url);
		ret = fail(EX_DATAERR, "'%s' is larger than %zu bytes", shown, max);
		free(shown);
	}
	else if (rc != CURLE_OK || status >= 400)
		ret = http_fail(h, rc, url, errbuf);
	curl_easy_cleanup(h);
	if (ret == 0 && !out->data)
		buf_add(out, "", 0);
	return ret;
}

static size_t header_line(char *p, size_t size, size_t n, void *arg)
{
	struct http_head *hd = arg;
	size_t len = size * n;
	if (http_header_is_status(p, len)) {
		hd->ranges = false;
		hd->size = -1;
	}
	int ranges = http_header_accept_ranges(p, len);
	if (ranges)
		hd->ranges = ranges > 0;
	return len;
}

int http_head(const char *url, struct http_head *out)
{
	char errbuf[CURL_ERROR_SIZE];
	CURL *h = http_handle(url, 0, errbuf);
	out->size = -1;
	out->ranges = false;
	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_line);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	int ret = 0;
	if (rc != CURLE_OK || out->status >= 400) {
		ret = http_fail(h, rc, url, errbuf);
	} else {
		curl_off_t len = -1;
		curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
		out->size = len;
	}
	curl_easy_cleanup(h);
	return ret;
}

char *http_redact(const char *url)
{
	CURLU *u = curl_url();
	char *out = NULL;
	if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK && curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) == CURLUE_OK) {
		char *s = NULL;
		if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
			out = xstrdup(s);
		curl_free(s);
	}
	curl_url_cleanup(u);
	/* Not a URL curl can take apart: shown as it is only if nothing in it could be a password. */
	return out ? out : xstrdup(strchr(url, '@') ? "(a URL with an '@' curl cannot parse)" : url);
}

char *http_url_file_name(const char *url)
{
	CURLU *u = curl_url();
	char *path = NULL, *name = NULL;
	if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) == CURLUE_OK) {
		const char *slash = strrchr(path, '/');
		if (slash && slash[1])
			name = xstrdup(slash + 1);
	}
	curl_free(path);
	curl_url_cleanup(u);
	return name;
}

/* A decimal offset: digits only, no sign, no overflow. */
static const char *parse_offset(const char *s, int64_t *out)
{
	if (!isdigit((unsigned char)*s))
		return NULL;
	int64_t v = 0;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (INT64_MAX - 9) / 10)
			return NULL;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return s;
}

int http_content_range(const char *value, struct http_range *out)
{
	const char *s = value;
	*out = (struct http_range){ -1, -1, -1 };
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, "bytes", 5) || (s[5] != ' ' && s[5] != '\t'))
		return -1;
	for (s += 5; *s == ' ' || *s == '\t'; s++)
		;
	int64_t first = -1, last = -1;
	if (*s == '*')
		s++;
	else if (!(s = parse_offset(s, &first)) || *s++ != '-' || !(s = parse_offset(s, &last)))
		return -1;
	if (*s++ != '/')
		return -1;
	if (*s == '*')
		s++;
	else if (!(s = parse_offset(s, &out->total)))
		return -1;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s || (first < 0 && out->total < 0))
		return -1; /* trailing junk, or both parts a star: it says nothing */
	if (first >= 0 && (last < first || (out->total >= 0 && last >= out->total)))
		return -1; /* a range that cannot be, in a file of the size it gives */
	out->first = first;
	out->last = last;
	return 0;
}

bool http_header_is_status(const char *line, size_t len)
{
	return len >= 5 && !strncmp(line, "HTTP/", 5);
}

/* The value of a "name:" header line, whole (free it); NULL for a line of another name. */
static char *header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (len <= n || strncasecmp(line, name, n))
		return NULL;
	return xstrndup(line + n, len - n);
}

int http_header_content_range(const char *line, size_t len, struct http_range *out)
{
	char *v = header_value(line, len, "content-range:");
	if (!v)
		return 0;
	int rc = http_content_range(v, out) == 0 ? 1 : -1;
	free(v);
	return rc;
}

int http_header_accept_ranges(const char *line, size_t len)
{
	char *v = header_value(line, len, "accept-ranges:");
	if (!v)
		return 0;
	const char *s = v;
	while (*s == ' ')
		s++;
	int rc = !strncasecmp(s, "bytes", 5) ? 1 : -1;
	free(v);
	return rc;
}

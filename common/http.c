/* http: claw's defaults for libcurl, small GETs and HEADs, and failure mapping. */
#include "http.h"
#include "cli.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

void http_init(void)
{
	static int done;
	if (!done && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die(EX_SOFTWARE, "cannot initialise libcurl");
	done = 1;
}

CURL *http_handle(const char *url, char errbuf[CURL_ERROR_SIZE])
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
	/* file:// serves air-gapped mirrors and tests; a redirect may never lead to one. */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
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

int http_fail(CURL *h, CURLcode rc, const char *url, const char *errbuf)
{
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && status >= 400)
		return fail(status >= 500 || status == 429 ? EX_TEMPFAIL : EX_UNAVAILABLE, "'%s': HTTP %ld", url, status);
	if (rc == CURLE_FILE_COULDNT_READ_FILE)
		return fail(EX_NOINPUT, "cannot read '%s'", url);
	const char *why = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT)
		return fail(EX_USAGE, "'%s': %s", url, why);
	return fail(http_transient(rc, status) ? EX_TEMPFAIL : EX_UNAVAILABLE, "cannot reach '%s': %s", url, why);
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
	CURL *h = http_handle(url, errbuf);
	struct capped c = { out, max };
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	int ret = 0;
	if (rc == CURLE_WRITE_ERROR)
		ret = fail(EX_DATAERR, "'%s' is larger than %zu bytes", url, max);
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
	/* A redirect's headers come first: each new status line starts over. */
	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		hd->ranges = false;
		hd->size = -1;
	}
	if (len > 14 && !strncasecmp(p, "accept-ranges:", 14)) {
		const char *v = p + 14;
		while (*v == ' ')
			v++;
		hd->ranges = !strncasecmp(v, "bytes", 5);
	}
	return len;
}

int http_head(const char *url, struct http_head *out)
{
	char errbuf[CURL_ERROR_SIZE];
	CURL *h = http_handle(url, errbuf);
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
		if (!strncmp(url, "file:", 5))
			out->ranges = true;
	}
	curl_easy_cleanup(h);
	return ret;
}

/* http: small requests over libcurl — GET a document into memory, HEAD a file
 * for its size — with one mapping of failures to exit codes: a network failure
 * or an HTTP 5xx is EX_TEMPFAIL (retry may help), an HTTP 4xx EX_UNAVAILABLE,
 * a missing file:// EX_NOINPUT; the message holds the URL and curl's reason.
 * Downloads of IPSWs are transfer.c's. Never prints. */
#ifndef CLAW_HTTP_H
#define CLAW_HTTP_H

#include "util.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

struct http_head {
	int64_t size;       /* -1 when the server does not say */
	bool ranges;        /* Accept-Ranges: bytes */
	long status;
};

void http_init(void);
/* A handle with claw's defaults: user agent, redirects, protocols, timeouts. */
CURL *http_handle(const char *url, char errbuf[CURL_ERROR_SIZE]);
/* Record why a transfer failed (curl's code, or the HTTP status). */
int http_fail(CURL *h, CURLcode rc, const char *url, const char *errbuf);
int http_get(const char *url, size_t max, struct buf *out);
int http_head(const char *url, struct http_head *out);
/* True for failures worth retrying: network trouble and HTTP 5xx/429. */
bool http_transient(CURLcode rc, long status);

#endif

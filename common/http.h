/* http: small requests over libcurl — GET a document into memory, HEAD a file
 * for its size — with one mapping of failures to exit codes: a network failure
 * or an HTTP 5xx is EX_TEMPFAIL (retry may help), an HTTP 4xx EX_UNAVAILABLE,
 * a missing file:// EX_NOINPUT; the message holds the URL (never its user and
 * password) and curl's reason. Handles speak http and https only (a GET of a
 * document may read file:// too), and never follow a redirect from https to
 * http. Parses the Content-Range header. Downloads of IPSWs are transfer.c's.
 * Never prints. */
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

/* A Content-Range value: bytes FIRST-LAST/TOTAL; -1 for a part given as '*'. */
struct http_range {
	int64_t first, last, total;
};

#define HTTP_ALLOW_FILE 1u /* http_handle: file:// too (documents from a local mirror) */

void http_init(void);
/* A handle with claw's defaults: user agent, redirects, protocols, timeouts. */
CURL *http_handle(const char *url, unsigned flags, char errbuf[CURL_ERROR_SIZE]);
/* Record why a transfer failed (curl's code, or the HTTP status). */
int http_fail(CURL *h, CURLcode rc, const char *url, const char *errbuf);
int http_get(const char *url, size_t max, struct buf *out);
int http_head(const char *url, struct http_head *out);
/* True for failures worth retrying: network trouble and HTTP 5xx/429. */
bool http_transient(CURLcode rc, long status);
/* The URL without its user, password and login options: what may be shown or recorded. */
char *http_redact(const char *url);
/* The last part of the URL's path, decoded; NULL when it has none. */
char *http_url_file_name(const char *url);
/* 0 and *out for "bytes A-B/T", with a star for T (size unknown) or for A-B (a 416 says
 * only the size); -1 for anything else, with out->total still set when the value gives
 * one (a range that cannot be, in a file of a size the server still says). */
int http_content_range(const char *value, struct http_range *out);

/* Response header lines, as curl hands them over: one at a time, len bytes with the line's
 * end, not NUL-terminated. A status line ("HTTP/...") starts a new answer's headers (a
 * redirect's come first). */
bool http_header_is_status(const char *line, size_t len);
/* A Content-Range line: 1 and *out when its value reads (http_content_range), -1 when it does
 * not (out->total still set when the value gives one); 0, *out untouched, for another line. */
int http_header_content_range(const char *line, size_t len, struct http_range *out);
/* An Accept-Ranges line: 1 when it says bytes, -1 when it says anything else; 0 for another line. */
int http_header_accept_ranges(const char *line, size_t len);

#endif

/* fuzz target: the response headers claw-fetch reads, each line as curl hands it over (the
 * status line, Content-Range, Accept-Ranges), and a Content-Range value alone. Its checks: a
 * range that reads is one that can be and reads back the same when written out; a header
 * line says what its whole value says. */
#include "fuzz.h"
#include "http.h"

#include <inttypes.h>

static void value_alone(const char *value)
{
	struct http_range r;
	if (http_content_range(value, &r) < 0)
		return;
	FUZZ_CHECK(r.first >= -1 && r.total >= -1 && (r.first >= 0 || r.total >= 0));
	FUZZ_CHECK(r.first < 0 ? r.last == -1 : r.first <= r.last && (r.total < 0 || r.last < r.total));
	char again[128], a[24] = "*", t[24] = "*";
	if (r.first >= 0)
		snprintf(a, sizeof a, "%" PRId64 "-%" PRId64, r.first, r.last);
	if (r.total >= 0)
		snprintf(t, sizeof t, "%" PRId64, r.total);
	snprintf(again, sizeof again, "bytes %s/%s", a, t);
	struct http_range r2;
	FUZZ_CHECK(http_content_range(again, &r2) == 0 && !memcmp(&r, &r2, sizeof r));
}

/* One line: what the header functions say must be what the value says as a whole. */
static void line(const char *p, size_t len)
{
	/* Each function gets the line in a buffer of its own length, as curl's may be. */
	char *copy = malloc(len ? len : 1);
	FUZZ_CHECK(copy);
	memcpy(copy, p, len);
	http_header_is_status(copy, len);
	struct http_range r = { 7, 7, 7 };
	int cr = http_header_content_range(copy, len, &r);
	if (cr) {
		char *value = fuzz_cstr((const uint8_t *)p + 14, len - 14);
		struct http_range whole;
		int rc = http_content_range(value, &whole);
		FUZZ_CHECK(cr == (rc == 0 ? 1 : -1));
		FUZZ_CHECK(r.total == whole.total && (rc < 0 || (r.first == whole.first && r.last == whole.last)));
		free(value);
	} else {
		FUZZ_CHECK(r.first == 7 && r.last == 7 && r.total == 7);
	}
	http_header_accept_ranges(copy, len);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	value_alone(s);
	free(s);
	/* The input as a response's header block: lines ending in '\n', as curl splits them. */
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		line(p, len);
		p += len;
	}
	return 0;
}

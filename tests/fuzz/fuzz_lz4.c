/* fuzz target: a disk layer from a registry, Apple's LZ4 stream (common/applelz4.h). Its
 * checks: fed whole or in two pieces split where the first byte says, the stream reads the
 * same (the same answer, the same bytes out); what reads, encoded again, reads back as
 * itself. */
#include "fuzz.h"
#include "applelz4.h"

struct sink {
	char *data;
	size_t len;
};

static int collect(const char *data, size_t len, void *arg)
{
	struct sink *s = arg;
	s->data = realloc(s->data, s->len + len + 1);
	if (!s->data)
		abort();
	memcpy(s->data + s->len, data, len);
	s->len += len;
	return 0;
}

static int decode(const uint8_t *data, size_t size, size_t split, struct sink *out)
{
	struct alz4_dec *d = alz4_dec_new(1 << 20, collect, out);
	int rc = alz4_dec_feed(d, data, split) == 0 && alz4_dec_feed(d, data + split, size - split) == 0 &&
			 alz4_dec_finish(d) == 0 ? 0 : -1;
	if (rc == 0)
		FUZZ_CHECK(alz4_dec_total(d) == out->len);
	alz4_dec_free(d);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t split = data[0] % size;
	data++, size--;
	struct sink whole = { 0 }, pieces = { 0 };
	int a = decode(data, size, size, &whole), b = decode(data, size, split < size ? split : size, &pieces);
	FUZZ_CHECK(a == b);
	if (a == 0) {
		FUZZ_CHECK(whole.len == pieces.len && (whole.len == 0 || !memcmp(whole.data, pieces.data, whole.len)));
		char *enc = malloc(alz4_bound(whole.len));
		size_t n = alz4_encode(whole.data, whole.len, enc);
		struct sink again = { 0 };
		FUZZ_CHECK(decode((const uint8_t *)enc, n, n / 2, &again) == 0);
		FUZZ_CHECK(again.len == whole.len && (whole.len == 0 || !memcmp(again.data, whole.data, whole.len)));
		free(again.data);
		free(enc);
	}
	free(whole.data);
	free(pieces.data);
	return 0;
}

/* fuzz target: the resolve record claw-fetch reads on its standard input (key=value lines or
 * JSON). Its check: a record that reads, written as key=value lines (what claw-resolve
 * prints), reads back the same. */
#include "fuzz.h"
#include "record.h"

static json_t *parse(const char *text, size_t len)
{
	json_t *j = NULL;
	return record_parse(text, len, "fuzz", &j) == 0 ? j : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *rec = parse((const char *)data, size);
	if (!rec)
		return 0;
	char *kv = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&kv, &len);
	FUZZ_CHECK(f && record_write_kv(rec, f) == 0);
	fclose(f);
	json_t *again = parse(kv, len);
	FUZZ_CHECK(again);
	for (int i = 0; record_keys[i]; i++)
		FUZZ_CHECK(json_equal(json_object_get(rec, record_keys[i]), json_object_get(again, record_keys[i])) ||
			   (!json_object_get(rec, record_keys[i]) && !json_object_get(again, record_keys[i])));
	json_decref(again);
	json_decref(rec);
	free(kv);
	return 0;
}

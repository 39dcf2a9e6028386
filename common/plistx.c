/* plistx: thin, version-proof helpers over libplist. */
#include "plistx.h"
#include "log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

plist_t plistx_parse(const char *data, size_t len, const char *what)
{
	plist_t p = NULL;
	if (len > UINT32_MAX) {
		fail(EX_DATAERR, "%s is too large for a property list", what);
		return NULL;
	}
	if (len >= 8 && memcmp(data, "bplist00", 8) == 0)
		plist_from_bin(data, (uint32_t)len, &p);
	else if (len > 0)
		plist_from_xml(data, (uint32_t)len, &p);
	if (!p)
		fail(EX_DATAERR, "%s is not a property list", what);
	return p;
}

char *plistx_to_xml(plist_t p, size_t *len)
{
	char *out = NULL;
	uint32_t n = 0;
	plist_to_xml(p, &out, &n);
	*len = n;
	return out;
}

char *plistx_to_bin(plist_t p, size_t *len)
{
	char *out = NULL;
	uint32_t n = 0;
	plist_to_bin(p, &out, &n);
	*len = n;
	return out;
}

const char *plistx_dict_string(plist_t dict, const char *key)
{
	if (!dict || plist_get_node_type(dict) != PLIST_DICT)
		return NULL;
	plist_t v = plist_dict_get_item(dict, key);
	if (!v || plist_get_node_type(v) != PLIST_STRING)
		return NULL;
	return plist_get_string_ptr(v, NULL);
}

plist_t plistx_dict_dict(plist_t dict, const char *key)
{
	if (!dict || plist_get_node_type(dict) != PLIST_DICT)
		return NULL;
	plist_t v = plist_dict_get_item(dict, key);
	return v && plist_get_node_type(v) == PLIST_DICT ? v : NULL;
}

void plistx_dict_foreach(plist_t dict, void (*fn)(const char *key, plist_t val, void *arg), void *arg)
{
	if (!dict || plist_get_node_type(dict) != PLIST_DICT)
		return;
	plist_dict_iter it = NULL;
	plist_dict_new_iter(dict, &it);
	for (;;) {
		char *key = NULL;
		plist_t val = NULL;
		plist_dict_next_item(dict, it, &key, &val);
		if (!val) {
			free(key);
			break;
		}
		fn(key, val, arg);
		free(key);
	}
	free(it);
}

/* plistx: thin, version-proof helpers over libplist, and the bounds a binary
 * plist is held to before libplist sees it. */
#include "plistx.h"
#include "log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

/* ---- binary plists, checked from their offset table (Apple's CFBinaryPList.c layout):
 * "bplist00", objects, an offset table, and a 32-byte trailer: 6 unused bytes, the
 * size of an offset and of a reference, the object count, the top object and where
 * the table starts (big-endian 64-bit each). An array (0xA), set (0xC) or dict (0xD)
 * holds its count in the marker's low nibble, or 0xF and an int object after it,
 * then its references (a dict's keys, then its values). ---- */

struct bin {
	const unsigned char *d;
	size_t len;
	unsigned off_size, ref_size;
	uint64_t nobj, top, table;
};

static uint64_t be(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int bin_trailer(struct bin *b, const char *what)
{
	if (b->len < 8 + 1 + 32)
		return fail(EX_DATAERR, "%s is a binary plist too short to hold a trailer", what);
	const unsigned char *t = b->d + b->len - 32;
	b->off_size = t[6];
	b->ref_size = t[7];
	b->nobj = be(t + 8, 8);
	b->top = be(t + 16, 8);
	b->table = be(t + 24, 8);
	if (b->off_size < 1 || b->off_size > 8 || b->ref_size < 1 || b->ref_size > 8)
		return fail(EX_DATAERR, "%s is a binary plist with a malformed trailer", what);
	if (b->nobj > PLISTX_MAX_OBJECTS)
		return fail(EX_DATAERR, "%s is a binary plist of %llu objects; claw reads at most %u", what,
			    (unsigned long long)b->nobj, PLISTX_MAX_OBJECTS);
	if (b->nobj == 0 || b->top >= b->nobj || b->table < 9 || b->table > b->len - 32 ||
	    b->nobj * b->off_size > b->len - 32 - b->table)
		return fail(EX_DATAERR, "%s is a binary plist whose offset table does not fit the file", what);
	return 0;
}

/* Where object i starts; 0 when its offset points outside the objects. */
static size_t bin_object(const struct bin *b, uint64_t i)
{
	uint64_t off = be(b->d + b->table + i * b->off_size, b->off_size);
	return off >= 8 && off < b->table ? (size_t)off : 0;
}

/* 1 and its references (where they start, how many) when object i is a container,
 * 0 when it is not, -1 when it is malformed. */
static int bin_container(const struct bin *b, uint64_t i, size_t *refs, uint64_t *n)
{
	size_t pos = bin_object(b, i);
	if (!pos)
		return -1;
	unsigned type = b->d[pos] >> 4;
	uint64_t count = b->d[pos] & 0xf;
	if (type != 0xa && type != 0xc && type != 0xd)
		return 0;
	pos++;
	if (count == 0xf) {
		if (pos >= b->table || b->d[pos] >> 4 != 0x1 || (b->d[pos] & 0xf) > 3)
			return -1;
		unsigned ib = 1u << (b->d[pos] & 0xf);
		if (ib > b->table - pos - 1)
			return -1;
		count = be(b->d + pos + 1, ib);
		pos += 1 + ib;
	}
	if (type == 0xd) {
		if (count > UINT64_MAX / 2)
			return -1;
		count *= 2;
	}
	if (count > (b->table - pos) / b->ref_size)
		return -1;
	*refs = pos;
	*n = count;
	return 1;
}

struct frame {
	uint64_t obj, n, next, sum;
	size_t refs;
};

/* The nodes each object expands to, walked depth first without recursion, each
 * object's count kept so a shared one is walked once. */
static int bin_count(const struct bin *b, const char *what)
{
	unsigned char *state = calloc(b->nobj, 1); /* 0 unseen, 1 on the walk, 2 counted */
	uint64_t *nodes = calloc(b->nobj, sizeof *nodes);
	struct frame *stack = calloc(PLISTX_MAX_DEPTH + 1, sizeof *stack);
	if (!state || !nodes || !stack) {
		free(state), free(nodes), free(stack);
		return fail(EX_OSERR, "out of memory checking %s", what);
	}
	int rc = 0;
	size_t depth = 0;
	uint64_t obj = b->top;
	for (;;) {
		/* obj is unseen: count a leaf at once, or start walking a container. */
		size_t refs = 0;
		uint64_t n = 0;
		int c = bin_container(b, obj, &refs, &n);
		if (c < 0) {
			rc = fail(EX_DATAERR, "%s is a malformed binary plist (object %llu)", what, (unsigned long long)obj);
			break;
		}
		uint64_t leaf = 0;
		if (c == 0) {
			state[obj] = 2;
			nodes[obj] = leaf = 1;
		} else if (depth == PLISTX_MAX_DEPTH) {
			rc = fail(EX_DATAERR, "%s is a binary plist nested more than %u deep; claw reads no deeper", what,
				  PLISTX_MAX_DEPTH);
			break;
		} else {
			state[obj] = 1;
			stack[depth++] = (struct frame){ obj, n, 0, 1, refs };
		}
		/* Climb: finish frames whose references are all counted, add leaves and counted objects. */
		obj = UINT64_MAX;
		while (rc == 0 && depth > 0 && obj == UINT64_MAX) {
			struct frame *f = &stack[depth - 1];
			f->sum += leaf;
			leaf = 0;
			if (f->sum > PLISTX_MAX_NODES) {
				rc = fail(EX_DATAERR, "%s is a binary plist that expands to more than %u nodes; refusing it", what,
					  PLISTX_MAX_NODES);
				break;
			}
			if (f->next == f->n) {
				state[f->obj] = 2;
				nodes[f->obj] = leaf = f->sum;
				depth--;
				continue;
			}
			uint64_t child = be(b->d + f->refs + f->next++ * b->ref_size, b->ref_size);
			if (child >= b->nobj)
				rc = fail(EX_DATAERR, "%s is a binary plist with a reference past its objects", what);
			else if (state[child] == 1)
				rc = fail(EX_DATAERR, "%s is a binary plist that contains itself", what);
			else if (state[child] == 2)
				leaf = nodes[child];
			else
				obj = child;
		}
		if (rc < 0 || depth == 0)
			break;
	}
	free(state);
	free(nodes);
	free(stack);
	return rc;
}

/* Where string object i's bytes are and how many there are; 1 for an ASCII string (0x5),
 * 2 for UTF-16 (0x6), 0 for another object or one that does not fit. */
static unsigned bin_string(const struct bin *b, uint64_t i, size_t *at, uint64_t *bytes)
{
	size_t pos = bin_object(b, i);
	if (!pos)
		return 0;
	unsigned type = b->d[pos] >> 4, unit = type == 0x6 ? 2 : 1;
	uint64_t count = b->d[pos] & 0xf;
	if (type != 0x5 && type != 0x6)
		return 0;
	pos++;
	if (count == 0xf) {
		if (pos >= b->table || b->d[pos] >> 4 != 0x1 || (b->d[pos] & 0xf) > 3)
			return 0;
		unsigned ib = 1u << (b->d[pos] & 0xf);
		if (ib > b->table - pos - 1)
			return 0;
		count = be(b->d + pos + 1, ib);
		pos += 1 + ib;
	}
	if (count > (b->table - pos) / unit)
		return 0;
	*at = pos;
	*bytes = count * unit;
	return unit;
}

/* A dictionary key with a NUL in it makes libplist abort the process (plist_get_key_val
 * asserts its length is its strlen): each key object is looked at once. */
static int bin_keys(const struct bin *b, const char *what)
{
	unsigned char *checked = calloc(b->nobj, 1);
	if (!checked)
		return fail(EX_OSERR, "out of memory checking %s", what);
	int rc = 0;
	for (uint64_t i = 0; i < b->nobj && rc == 0; i++) {
		size_t pos = bin_object(b, i), refs = 0;
		uint64_t n = 0;
		if (!pos || b->d[pos] >> 4 != 0xd || bin_container(b, i, &refs, &n) != 1)
			continue;
		for (uint64_t k = 0; k < n / 2 && rc == 0; k++) {
			uint64_t key = be(b->d + refs + k * b->ref_size, b->ref_size);
			size_t at = 0;
			uint64_t len = 0;
			unsigned unit = key < b->nobj && !checked[key] ? bin_string(b, key, &at, &len) : 0;
			if (key < b->nobj)
				checked[key] = 1;
			for (uint64_t j = 0; unit && j < len && rc == 0; j += unit)
				if (!b->d[at + j] && (unit == 1 || !b->d[at + j + 1]))
					rc = fail(EX_DATAERR, "%s is a binary plist with a NUL in a key", what);
		}
	}
	free(checked);
	return rc;
}

int plistx_bin_bounded(const char *data, size_t len, const char *what)
{
	if (len < 8 || memcmp(data, "bplist00", 8) != 0)
		return 0;
	struct bin b = { (const unsigned char *)data, len, 0, 0, 0, 0, 0 };
	if (bin_trailer(&b, what) < 0 || bin_count(&b, what) < 0)
		return -1;
	return bin_keys(&b, what);
}

static bool starts(const char *p, const char *stop, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(stop - p) >= n && !memcmp(p, lit, n);
}

/* Past the first occurrence of end at or after p, or NULL. */
static const char *after(const char *p, const char *stop, const char *end)
{
	size_t n = strlen(end);
	for (; p + n <= stop; p++)
		if (!memcmp(p, end, n))
			return p + n;
	return NULL;
}

/* A tag's name as XML reads it: letters up to whitespace, '/' or '>'. */
static bool tag_is(const char *name, const char *stop, const char *want)
{
	size_t n = strlen(want);
	return name + n <= stop && !memcmp(name, want, n) &&
	       (name + n == stop || strchr(" \t\r\n/>", name[n]) != NULL);
}

/* libplist 2.2 parses and frees XML recursively: a few MB of nested dicts overflow the stack.
 * Counts how deep <dict> and <array> nest before libplist sees them, reading tags as XML
 * does: whitespace inside a tag, self-closing tags, and no tags in comments, CDATA,
 * processing instructions or declarations. */
int plistx_xml_bounded(const char *data, size_t len, const char *what)
{
	int depth = 0;
	const char *p = data, *stop = data + len;
	while ((p = memchr(p, '<', (size_t)(stop - p))) != NULL) {
		const char *skip = starts(p, stop, "<!--")	    ? after(p + 4, stop, "-->")
				   : starts(p, stop, "<![CDATA[")	    ? after(p + 9, stop, "]]>")
				   : starts(p, stop, "<?") || starts(p, stop, "<!") ? after(p + 2, stop, ">")
										      : p;
		if (skip != p) {
			if (!skip)
				break; /* unterminated: libplist refuses it */
			p = skip;
			continue;
		}
		const char *close = memchr(p, '>', (size_t)(stop - p));
		if (!close)
			break;
		bool ending = p + 1 < stop && p[1] == '/', empty = close > p && close[-1] == '/';
		const char *name = p + 1 + ending;
		if (tag_is(name, close, "dict") || tag_is(name, close, "array")) {
			if (ending)
				depth--;
			else if (!empty && ++depth > PLISTX_MAX_DEPTH)
				return fail(EX_DATAERR, "%s nests containers more than %d deep", what, PLISTX_MAX_DEPTH);
		}
		p = close + 1;
	}
	return 0;
}

/* ---- the tree libplist built, held to what claw and macOS read alike: every string UTF-8
 * text with no NUL in it, every dictionary's keys each once. libplist takes any bytes, and
 * writes a string that is not UTF-8 back as garbage (a guest's record would lose it), and a
 * NUL cuts a string short for C (libplist's own plist_get_string_val aborts on one). ---- */

static bool text_ok(const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;
	while (p < end) {
		unsigned c = *p++, more, cp, min;
		if (c == 0)
			return false;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			more = 1, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			more = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			more = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if ((size_t)(end - p) < more)
			return false;
		for (unsigned i = 0; i < more; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		p += more;
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false; /* overlong, past Unicode, or half a UTF-16 pair */
	}
	return true;
}

static int check_tree(plist_t node, const char *what);

static int key_order(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A key as an error message may show it: on one line. */
static const char *shown_key(const char *key)
{
	for (const char *p = key; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "(a key with a control character)";
	return key;
}

/* A dictionary with a key twice is refused too: libplist keeps both, its look-ups find the
 * first and macOS the last, so a merge would set one and leave the other for macOS to read. */
static int check_dict(plist_t dict, const char *what)
{
	int rc = 0;
	uint32_t size = plist_dict_get_size(dict), n = 0;
	char **keys = calloc(size ? size : 1, sizeof *keys);
	if (!keys)
		return fail(EX_OSERR, "out of memory checking %s", what);
	plist_dict_iter it = NULL;
	plist_dict_new_iter(dict, &it);
	for (;;) {
		char *key = NULL;
		plist_t val = NULL;
		plist_dict_next_item(dict, it, &key, &val);
		if (!val || n == size) {
			free(key);
			break;
		}
		keys[n++] = key;
		if (!key || !text_ok((const unsigned char *)key, strlen(key)))
			rc = fail(EX_DATAERR, "%s holds a key that is not UTF-8 text", what);
		if (rc < 0 || (rc = check_tree(val, what)) < 0)
			break;
	}
	free(it);
	if (rc == 0)
		qsort(keys, n, sizeof *keys, key_order);
	for (uint32_t i = 1; rc == 0 && i < n; i++)
		if (!strcmp(keys[i - 1], keys[i]))
			rc = fail(EX_DATAERR, "%s has the key '%.64s' twice in one dictionary", what, shown_key(keys[i]));
	for (uint32_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	return rc;
}

/* libplist's walks are recursive too: the bounds checked before it parsed keep this one shallow. */
static int check_tree(plist_t node, const char *what)
{
	switch (plist_get_node_type(node)) {
	case PLIST_STRING: {
		uint64_t n = 0;
		const char *s = plist_get_string_ptr(node, &n);
		if (!s || !text_ok((const unsigned char *)s, n))
			return fail(EX_DATAERR, "%s holds a string that is not UTF-8 text", what);
		return 0;
	}
	case PLIST_ARRAY:
		for (uint32_t i = 0, n = plist_array_get_size(node); i < n; i++)
			if (check_tree(plist_array_get_item(node, i), what) < 0)
				return -1;
		return 0;
	case PLIST_DICT:
		return check_dict(node, what);
	default:
		return 0;
	}
}

plist_t plistx_parse(const char *data, size_t len, const char *what)
{
	plist_t p = NULL;
	if (len > UINT32_MAX) {
		fail(EX_DATAERR, "%s is too large for a property list", what);
		return NULL;
	}
	if (len >= 8 && memcmp(data, "bplist00", 8) == 0) {
		if (plistx_bin_bounded(data, len, what) < 0)
			return NULL;
		plist_from_bin(data, (uint32_t)len, &p);
	}
	else if (len > 0) {
		if (plistx_xml_bounded(data, len, what) < 0)
			return NULL;
		plist_from_xml(data, (uint32_t)len, &p);
	}
	if (!p)
		fail(EX_DATAERR, "%s is not a property list", what);
	else if (check_tree(p, what) < 0) {
		plist_free(p);
		p = NULL;
	}
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

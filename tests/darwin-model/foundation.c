/* darwin-model/foundation: NSObject and the Foundation classes the selector
 * list names (NSString, NSURL, NSArray, NSDictionary, NSData, NSError, NSProgress,
 * NSFileHandle, NSProcessInfo, NSRunLoop, NSDate, NSAutoreleasePool) plus the
 * NSNumber the model hands out, with their ownership rules, the exceptions they
 * raise, and key-value observing of the properties VZ documents as observable.
 *
 * Sources: Apple's Foundation reference for each class (nil arguments and
 * out-of-range indexes raise NSInvalidArgumentException / NSRangeException;
 * NSError's localizedDescription falls back to NSLocalizedFailure and
 * NSLocalizedFailureReason; -[NSData bytes] is NULL when empty); NSKeyValueObserving.h;
 * VZ-API.md §1 (memory rules), §8 (progress, KVO), §10 (Foundation from C). */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- payloads */

struct ns_string {
	struct objc_object o;
	char *s;
	size_t len;
};

struct ns_number {
	struct objc_object o;
	long long v;
};

struct ns_url {
	struct objc_object o;
	char *abs;  /* absoluteString */
	char *path; /* decoded path */
	bool file;
};

struct ns_array {
	struct objc_object o;
	id *items;
	size_t n;
};

struct ns_dict {
	struct objc_object o;
	id *keys, *vals;
	size_t n, cap;
};

struct ns_data {
	struct objc_object o;
	unsigned char *b;
	size_t len;
};

struct ns_error {
	struct objc_object o;
	id domain;
	long code;
	id info;
};

struct ns_progress {
	struct objc_object o;
	pthread_mutex_t mu;
	int64_t total, done;
	bool finished, cancelled, started;
	dispatch_block_t on_cancel;
};

struct ns_handle {
	struct objc_object o;
	int fd;
	bool close_on_dealloc, closed;
};

struct ns_date {
	struct objc_object o;
	uint64_t when; /* monotonic ns; 0 = distantFuture */
};

struct ns_pool {
	struct objc_object o;
	void *token;
};

struct kvo {
	char *key;
	id observer;
	unsigned long options;
	void *context;
	struct kvo *next;
};

static pthread_mutex_t KM = PTHREAD_MUTEX_INITIALIZER; /* KVO lists */

#define STR(o) ((struct ns_string *)(o))

static void check_string(id s, const char *what)
{
	model_check_object(s, what);
	if (s && !model_is_kind(s, "NSString"))
		model_violation("invalid-argument", "%s: expected an NSString, got a %s", what, model_class_name(s));
}

/* ---------------------------------------------------------------- NSObject */

static id o_alloc(id cls, SEL c)
{
	(void)c;
	return model_alloc((Class)cls);
}

static id o_init(id self, SEL c)
{
	(void)c;
	if (self->isa->flags & (C_NOINIT | C_ABSTRACT))
		model_violation("unavailable", "-[%s init] is unavailable (NS_UNAVAILABLE in the header; VZ-API §6: "
			"\"use the listed initialiser\")", self->isa->name);
	model_mark_init(self);
	return self;
}

static id o_new(id cls, SEL c)
{
	(void)c;
	id o = model_alloc((Class)cls);
	SEL init = sel_registerName("init");
	IMP imp = claw_model_lookup(o, init, NULL);
	return ((id(*)(id, SEL))imp)(o, init);
}

static id o_class_of(id self, SEL c)
{
	(void)c;
	return (self->flags & O_CLASS) ? self : (id)self->isa;
}

static id o_retain(id self, SEL c)
{
	(void)c;
	return model_retain(self);
}

static void o_release(id self, SEL c)
{
	(void)c;
	model_release(self);
}

static id o_autorelease(id self, SEL c)
{
	(void)c;
	return model_autorelease(self);
}

static unsigned long o_retain_count(id self, SEL c)
{
	(void)c;
	return (self->flags & O_IMMORTAL) ? ULONG_MAX : (unsigned long)self->rc;
}

static bool o_is_kind(id self, SEL c, Class cls)
{
	(void)c;
	if (!cls)
		return false;
	for (Class k = (self->flags & O_CLASS) ? (Class)self : self->isa; k; k = k->super)
		if (k == cls)
			return true;
	return false;
}

static bool o_responds(id self, SEL c, SEL s)
{
	(void)c;
	return s && model_find(self, s, NULL) != NULL;
}

static id o_copy_common(id self, const char *internal, const char *what)
{
	SEL s = sel_registerName(internal);
	IMP imp = model_find(self, s, NULL);
	if (!imp)
		model_violation("unrecognized-selector", "-[%s %s]: unrecognized selector sent to instance %p (-%s "
			"needs NSCopying%s)", model_class_name(self), internal, (void *)self, what,
			strcmp(what, "copy") ? " / NSMutableCopying" : "");
	return ((id(*)(id, SEL, void *))imp)(self, s, NULL);
}

static id o_copy(id self, SEL c)
{
	(void)c;
	return o_copy_common(self, "copyWithZone:", "copy");
}

id model_copy(id obj) { return o_copy_common(obj, "copyWithZone:", "copy"); }

static id o_mutable_copy(id self, SEL c)
{
	(void)c;
	return o_copy_common(self, "mutableCopyWithZone:", "mutableCopy");
}

static id o_description(id self, SEL c)
{
	(void)c;
	char buf[160];
	snprintf(buf, sizeof buf, "<%s: %p>", model_class_name(self), (void *)self);
	return ns_string(buf);
}

static bool o_is_equal(id self, SEL c, id other)
{
	(void)c;
	return self == other;
}

static unsigned long o_hash(id self, SEL c)
{
	(void)c;
	return (unsigned long)(uintptr_t)self;
}

bool kvo_observable(id obj, const char *key)
{
	static const char *const progress[] = { "fractionCompleted", "completedUnitCount", "totalUnitCount",
		"finished", "cancelled", NULL };
	static const char *const vm[] = { "state", "canStart", "canStop", "canPause", "canResume", "canRequestStop",
		NULL };
	const char *const *keys = model_is_kind(obj, "NSProgress") ? progress
		: model_is_kind(obj, "VZVirtualMachine")              ? vm
								      : NULL;
	for (size_t i = 0; keys && keys[i]; i++)
		if (!strcmp(keys[i], key))
			return true;
	return false;
}

static void kvo_notify_one(id obj, const char *key, id observer, unsigned long options, void *context, id value)
{
	if (!model_alive(observer))
		model_violation("kvo-observer-freed", "a change of '%s' of %s %p was sent to an observer that was "
			"freed while registered (VZ-API §8: removeObserver:forKeyPath: before freeing it)", key,
			model_class_name(obj), (void *)obj);
	void *pool = model_pool_push(false);
	id change = ns_dict_empty();
	ns_dict_set(change, ns_string("kind"), ns_number(1)); /* NSKeyValueChangeSetting */
	if ((options & 1) && value)
		ns_dict_set(change, ns_string("new"), value);
	id keystr = ns_string(key);
	model_pool_seal();
	SEL s = sel_registerName("observeValueForKeyPath:ofObject:change:context:");
	IMP imp = claw_model_lookup(observer, s, (const char *const[]){ "v", "@", "@", "@", "^v", NULL });
	((void (*)(id, SEL, id, id, id, void *))imp)(observer, s, keystr, obj, change, context);
	model_pool_pop(pool);
}

void kvo_changed(id obj, const char *key, id value)
{
	struct kvo snapshot[16];
	size_t n = 0;
	pthread_mutex_lock(&KM);
	for (struct kvo *k = obj->kvo; k && n < 16; k = k->next)
		if (!strcmp(k->key, key))
			snapshot[n++] = *k;
	pthread_mutex_unlock(&KM);
	for (size_t i = 0; i < n; i++)
		kvo_notify_one(obj, key, snapshot[i].observer, snapshot[i].options, snapshot[i].context, value);
}

static id kvo_current(id obj, const char *key);

static void o_add_observer(id self, SEL c, id observer, id keypath, unsigned long options, void *context)
{
	(void)c;
	model_check_object(observer, "addObserver:forKeyPath:options:context:");
	check_string(keypath, "addObserver:forKeyPath:options:context:");
	if (!observer || !keypath)
		model_violation("invalid-argument", "-[%s addObserver:forKeyPath:options:context:] with a nil %s",
			model_class_name(self), observer ? "key path" : "observer");
	const char *key = ns_utf8(keypath);
	/* NSUnknownKeyException: "this class is not key value coding-compliant for the key". */
	if (!kvo_observable(self, key))
		model_violation("kvo-key", "%s is not key value coding-compliant for the key '%s' (the model "
			"observes NSProgress's progress keys and VZVirtualMachine's state and can… keys)",
			model_class_name(self), key);
	struct kvo *k = calloc(1, sizeof *k);
	k->key = strdup(key);
	k->observer = observer;
	k->options = options;
	k->context = context;
	pthread_mutex_lock(&KM);
	k->next = self->kvo;
	self->kvo = k;
	pthread_mutex_unlock(&KM);
	if (options & 4) /* NSKeyValueObservingOptionInitial */
		kvo_notify_one(self, key, observer, options, context, kvo_current(self, key));
}

static void o_remove_observer(id self, SEL c, id observer, id keypath)
{
	(void)c;
	check_string(keypath, "removeObserver:forKeyPath:");
	const char *key = ns_utf8(keypath);
	pthread_mutex_lock(&KM);
	for (struct kvo **p = &self->kvo; *p; p = &(*p)->next)
		if ((*p)->observer == observer && !strcmp((*p)->key, key)) {
			struct kvo *k = *p;
			*p = k->next;
			pthread_mutex_unlock(&KM);
			free(k->key);
			free(k);
			return;
		}
	pthread_mutex_unlock(&KM);
	/* NSRangeException: "Cannot remove an observer ... because it is not registered as an observer." */
	model_violation("kvo-remove", "cannot remove observer %p for the key path '%s' from %s %p: it is not "
		"registered as an observer", (void *)observer, key, model_class_name(self), (void *)self);
}

static void o_observe(id self, SEL c, id keypath, id obj, id change, void *context)
{
	(void)c, (void)obj, (void)change, (void)context;
	/* NSObject's own implementation raises NSInternalInconsistencyException. */
	model_violation("kvo-unhandled", "%s %p: an -observeValueForKeyPath:ofObject:change:context: message was "
		"received but not handled (key path '%s')", model_class_name(self), (void *)self, ns_utf8(keypath));
}

static void nsobject_dealloc(id self)
{
	pthread_mutex_lock(&KM);
	struct kvo *k = self->kvo;
	self->kvo = NULL;
	pthread_mutex_unlock(&KM);
	while (k) {
		struct kvo *next = k->next;
		free(k->key);
		free(k);
		k = next;
	}
}

/* ---------------------------------------------------------------- NSString */

static bool valid_utf8(const unsigned char *s)
{
	while (*s) {
		unsigned char c = *s;
		int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
		if (n < 0 || (n == 1 && c < 0xc2) || (n == 3 && c > 0xf4))
			return false;
		s++;
		for (int i = 0; i < n; i++, s++)
			if ((*s & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static void string_fill(id o, const char *s)
{
	STR(o)->s = strdup(s);
	STR(o)->len = strlen(s);
	model_mark_init(o);
}

id ns_string_owned(const char *utf8)
{
	id o = model_alloc(model_class_named("NSString"));
	string_fill(o, utf8 ? utf8 : "");
	return o;
}

id ns_string(const char *utf8) { return model_autorelease(ns_string_owned(utf8)); }

const char *ns_utf8(id s)
{
	if (!s)
		return "";
	return STR(s)->s ? STR(s)->s : "";
}

static id s_with_utf8(id cls, SEL c, const char *s)
{
	(void)c;
	if (!s)
		model_violation("invalid-argument", "+[%s stringWithUTF8String:]: NULL cString", model_class_name(cls));
	if (!valid_utf8((const unsigned char *)s))
		return nil;
	return ns_string(s);
}

static id s_init_utf8(id self, SEL c, const char *s)
{
	(void)c;
	if (!s)
		model_violation("invalid-argument", "-[NSString initWithUTF8String:]: NULL cString");
	if (!valid_utf8((const unsigned char *)s)) {
		model_release(self);
		return nil;
	}
	string_fill(self, s);
	return self;
}

static const char *s_utf8(id self, SEL c)
{
	(void)c;
	return ns_utf8(self);
}

static unsigned long s_length(id self, SEL c)
{
	(void)c;
	unsigned long n = 0; /* UTF-16 code units */
	for (const unsigned char *p = (const unsigned char *)ns_utf8(self); *p; p++) {
		if ((*p & 0xc0) != 0x80)
			n++;
		if ((*p & 0xf8) == 0xf0)
			n++;
	}
	return n;
}

static bool s_equal_string(id self, SEL c, id other)
{
	(void)c;
	check_string(other, "-[NSString isEqualToString:]");
	return other && !strcmp(ns_utf8(self), ns_utf8(other));
}

static bool s_is_equal(id self, SEL c, id other)
{
	(void)c;
	return other == self || (other && model_alive(other) && model_is_kind(other, "NSString") &&
		!strcmp(ns_utf8(self), ns_utf8(other)));
}

static unsigned long s_hash(id self, SEL c)
{
	(void)c;
	unsigned long h = 5381;
	for (const char *p = ns_utf8(self); *p; p++)
		h = h * 33 + (unsigned char)*p;
	return h;
}

static id s_description(id self, SEL c)
{
	(void)c;
	return self;
}

static id immutable_copy(id self, SEL c, void *zone)
{
	(void)c, (void)zone;
	return model_retain(self);
}

static void string_dealloc(id self)
{
	if (STR(self)->s) {
		/* The UTF8String a client kept past the string's life reads this, not its text. */
		memset(STR(self)->s, '#', STR(self)->len);
		free(STR(self)->s);
	}
	STR(self)->s = NULL;
}

/* ---------------------------------------------------------------- NSNumber */

id ns_number(long long v)
{
	struct ns_number *n = (struct ns_number *)model_new("NSNumber");
	n->v = v;
	return model_autorelease((id)n);
}

static id n_description(id self, SEL c)
{
	(void)c;
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", ((struct ns_number *)self)->v);
	return ns_string(buf);
}

static bool n_is_equal(id self, SEL c, id other)
{
	(void)c;
	return other && model_alive(other) && model_is_kind(other, "NSNumber") &&
		((struct ns_number *)self)->v == ((struct ns_number *)other)->v;
}

/* ---------------------------------------------------------------- NSURL */

#define URL(o) ((struct ns_url *)(o))

static char *percent_encode_path(const char *p)
{
	size_t n = strlen(p);
	char *out = malloc(n * 3 + 1), *o = out;
	for (; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			strchr("-._~/!$&'()*+,;=:@", ch))
			*o++ = (char)ch;
		else
			o += sprintf(o, "%%%02X", ch);
	}
	*o = 0;
	return out;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static char *percent_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n + 1 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = 0;
	return out;
}

/* Collapse "//", "/./" and trailing "/" the way -[NSURL path] reports a file URL's path. */
static char *clean_path(const char *p)
{
	char *out = malloc(strlen(p) + 2), *o = out;
	for (const char *s = p; *s; s++) {
		if (*s == '/' && o > out && o[-1] == '/')
			continue;
		if (*s == '.' && o > out && o[-1] == '/' && (s[1] == '/' || !s[1])) {
			if (s[1])
				s++;
			continue;
		}
		*o++ = *s;
	}
	*o = 0;
	size_t n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = 0;
	return out;
}

static id url_make(const char *abs, const char *path, bool file)
{
	struct ns_url *u = (struct ns_url *)model_new("NSURL");
	u->abs = strdup(abs);
	u->path = path ? strdup(path) : NULL;
	u->file = file;
	return model_autorelease((id)u);
}

static id file_url(const char *given, int isdir)
{
	char *abs;
	if (given[0] == '/')
		abs = strdup(given);
	else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			snprintf(cwd, sizeof cwd, "/");
		abs = malloc(strlen(cwd) + strlen(given) + 2);
		sprintf(abs, "%s/%s", cwd, given);
	}
	char *path = clean_path(abs);
	free(abs);
	struct stat st;
	bool dir = isdir < 0 ? (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) : isdir;
	char *enc = percent_encode_path(path);
	char *s = malloc(strlen(enc) + 10);
	sprintf(s, "file://%s%s", enc, dir && strcmp(path, "/") ? "/" : "");
	id u = url_make(s, path, true);
	free(enc);
	free(s);
	free(path);
	return u;
}

id ns_url_file(const char *path) { return file_url(path, -1); }

const char *ns_url_path(id url) { return url && URL(url)->file ? URL(url)->path : NULL; }
const char *ns_url_abs(id url) { return url ? URL(url)->abs : ""; }
bool ns_url_is_file(id url) { return url && model_is_kind(url, "NSURL") && URL(url)->file; }

static id u_file_path(id cls, SEL c, id path)
{
	(void)cls, (void)c;
	check_string(path, "+[NSURL fileURLWithPath:]");
	if (!path || !*ns_utf8(path))
		model_violation("invalid-argument", "+[NSURL fileURLWithPath:]: %s string parameter", path ? "empty" : "nil");
	return file_url(ns_utf8(path), -1);
}

static id u_file_path_dir(id cls, SEL c, id path, bool dir)
{
	(void)cls, (void)c;
	check_string(path, "+[NSURL fileURLWithPath:isDirectory:]");
	if (!path || !*ns_utf8(path))
		model_violation("invalid-argument", "+[NSURL fileURLWithPath:isDirectory:]: %s string parameter",
			path ? "empty" : "nil");
	return file_url(ns_utf8(path), dir);
}

static id u_with_string(id cls, SEL c, id string)
{
	(void)cls, (void)c;
	check_string(string, "+[NSURL URLWithString:]");
	if (!string)
		return nil;
	const char *s = ns_utf8(string);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"<>\\^`{|}", *p))
			return nil; /* RFC 3986 refuses it; URLWithString: answers nil */
	const char *colon = strchr(s, ':'), *slash = strchr(s, '/');
	bool scheme = colon && (!slash || colon < slash) && colon > s;
	const char *rest = scheme ? colon + 1 : s;
	bool file = scheme && !strncmp(s, "file:", 5);
	if (!strncmp(rest, "//", 2)) {
		rest += 2;
		rest += strcspn(rest, "/?#");
	}
	size_t plen = strcspn(rest, "?#");
	char *path = percent_decode(rest, plen);
	char *clean = *path ? clean_path(path) : strdup("");
	id u = url_make(s, clean, file);
	free(path);
	free(clean);
	return u;
}

static id u_path(id self, SEL c)
{
	(void)c;
	return URL(self)->path ? ns_string(URL(self)->path) : nil;
}

static id u_absolute(id self, SEL c)
{
	(void)c;
	return ns_string(URL(self)->abs);
}

static bool u_is_file(id self, SEL c)
{
	(void)c;
	return URL(self)->file;
}

static id u_append(id self, SEL c, id comp)
{
	(void)c;
	check_string(comp, "-[NSURL URLByAppendingPathComponent:]");
	if (!comp)
		model_violation("invalid-argument", "-[NSURL URLByAppendingPathComponent:]: component parameter is nil");
	const char *base = URL(self)->path ? URL(self)->path : "";
	char *p = malloc(strlen(base) + strlen(ns_utf8(comp)) + 2);
	sprintf(p, "%s/%s", strcmp(base, "/") ? base : "", ns_utf8(comp));
	id u;
	if (URL(self)->file)
		u = file_url(p, -1);
	else {
		char *abs = malloc(strlen(URL(self)->abs) + strlen(ns_utf8(comp)) + 2);
		size_t n = strlen(URL(self)->abs);
		sprintf(abs, "%s%s%s", URL(self)->abs, n && URL(self)->abs[n - 1] == '/' ? "" : "/", ns_utf8(comp));
		u = url_make(abs, p, false);
		free(abs);
	}
	free(p);
	return u;
}

static bool u_is_equal(id self, SEL c, id other)
{
	(void)c;
	return other && model_alive(other) && model_is_kind(other, "NSURL") && !strcmp(URL(self)->abs, URL(other)->abs);
}

static id u_description(id self, SEL c)
{
	(void)c;
	return ns_string(URL(self)->abs);
}

static void url_dealloc(id self)
{
	free(URL(self)->abs);
	free(URL(self)->path);
}

/* ---------------------------------------------------------------- NSArray */

#define ARR(o) ((struct ns_array *)(o))

static id array_of_class(Class cls, const id *objects, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		if (!objects[i])
			model_violation("invalid-argument", "%s: attempt to insert nil object from objects[%zu]", what, i);
		model_check_object(objects[i], what);
	}
	struct ns_array *a = (struct ns_array *)model_alloc(cls);
	model_mark_init((id)a);
	a->items = calloc(n ? n : 1, sizeof(id));
	a->n = n;
	for (size_t i = 0; i < n; i++)
		a->items[i] = model_hold(objects[i]);
	return (id)a;
}

id ns_array(const id *objects, size_t n)
{
	return model_autorelease(array_of_class(model_class_named("NSArray"), objects, n, "+[NSArray arrayWithObjects:count:]"));
}

size_t ns_array_count(id a) { return a ? ARR(a)->n : 0; }
id ns_array_at(id a, size_t i) { return a && i < ARR(a)->n ? ARR(a)->items[i] : nil; }

static id a_array(id cls, SEL c)
{
	(void)c;
	return model_autorelease(array_of_class((Class)cls, NULL, 0, "+[NSArray array]"));
}

static id a_with_objects(id cls, SEL c, const id *objects, unsigned long n)
{
	(void)c;
	if (!objects && n)
		model_violation("invalid-argument", "+[NSArray arrayWithObjects:count:]: NULL objects with count %lu", n);
	return model_autorelease(array_of_class((Class)cls, objects, n, "+[NSArray arrayWithObjects:count:]"));
}

static id a_with_object(id cls, SEL c, id obj)
{
	(void)c;
	return model_autorelease(array_of_class((Class)cls, &obj, 1, "+[NSArray arrayWithObject:]"));
}

static unsigned long a_count(id self, SEL c)
{
	(void)c;
	return ARR(self)->n;
}

static id a_at(id self, SEL c, unsigned long i)
{
	(void)c;
	if (i >= ARR(self)->n && !ARR(self)->n)
		model_violation("range", "-[NSArray objectAtIndex:]: index %lu beyond bounds for empty array", i);
	if (i >= ARR(self)->n)
		model_violation("range", "-[NSArray objectAtIndex:]: index %lu beyond bounds [0 .. %zu]", i, ARR(self)->n - 1);
	return ARR(self)->items[i];
}

static id a_first(id self, SEL c)
{
	(void)c;
	return ARR(self)->n ? ARR(self)->items[0] : nil;
}

static id a_mutable_copy(id self, SEL c, void *zone)
{
	(void)c, (void)zone;
	return array_of_class(model_class_named("NSMutableArray"), ARR(self)->items, ARR(self)->n, "-mutableCopy");
}

static id a_copy(id self, SEL c, void *zone)
{
	(void)c, (void)zone;
	if (self->isa == model_class_named("NSArray"))
		return model_retain(self);
	return array_of_class(model_class_named("NSArray"), ARR(self)->items, ARR(self)->n, "-copy");
}

static void array_dealloc(id self)
{
	for (size_t i = 0; i < ARR(self)->n; i++)
		model_drop(ARR(self)->items[i]);
	free(ARR(self)->items);
	ARR(self)->items = NULL;
	ARR(self)->n = 0;
}

/* ---------------------------------------------------------------- NSDictionary */

#define DICT(o) ((struct ns_dict *)(o))

static bool key_equal(id a, id b)
{
	if (a == b)
		return true;
	if (model_is_kind(a, "NSString") && model_is_kind(b, "NSString"))
		return !strcmp(ns_utf8(a), ns_utf8(b));
	return false;
}

static void dict_put(id d, id key, id value, const char *what)
{
	if (!key || !value)
		model_violation("invalid-argument", "%s: attempt to insert nil %s", what, key ? "object" : "key");
	model_check_object(key, what);
	model_check_object(value, what);
	struct ns_dict *x = DICT(d);
	for (size_t i = 0; i < x->n; i++)
		if (key_equal(x->keys[i], key)) {
			model_set(&x->vals[i], value);
			return;
		}
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 4;
		x->keys = realloc(x->keys, x->cap * sizeof(id));
		x->vals = realloc(x->vals, x->cap * sizeof(id));
	}
	id k = o_copy(key, NULL); /* keys are copied */
	model_hold(k);
	model_release(k);
	x->keys[x->n] = k;
	x->vals[x->n] = model_hold(value);
	x->n++;
}

id ns_dict_empty(void)
{
	id d = model_new("NSMutableDictionary");
	return model_autorelease(d);
}

void ns_dict_set(id d, id key, id value) { dict_put(d, key, value, "-[NSMutableDictionary setObject:forKey:]"); }

static id dict_get(id d, const char *key)
{
	for (size_t i = 0; d && i < DICT(d)->n; i++)
		if (model_is_kind(DICT(d)->keys[i], "NSString") && !strcmp(ns_utf8(DICT(d)->keys[i]), key))
			return DICT(d)->vals[i];
	return nil;
}

static id d_dictionary(id cls, SEL c)
{
	(void)c;
	id d = model_alloc((Class)cls);
	model_mark_init(d);
	return model_autorelease(d);
}

static id d_with_objects(id cls, SEL c, const id *objects, const id *keys, unsigned long n)
{
	(void)c;
	id d = model_alloc((Class)cls);
	model_mark_init(d);
	for (unsigned long i = 0; i < n; i++)
		dict_put(d, keys ? keys[i] : nil, objects ? objects[i] : nil, "+[NSDictionary dictionaryWithObjects:forKeys:count:]");
	return model_autorelease(d);
}

static void d_set(id self, SEL c, id value, id key)
{
	(void)c;
	dict_put(self, key, value, "-[NSMutableDictionary setObject:forKey:]");
}

static id d_copy(id self, SEL c, void *zone)
{
	(void)c, (void)zone;
	if (self->isa == model_class_named("NSDictionary"))
		return model_retain(self);
	id d = model_new("NSDictionary");
	for (size_t i = 0; i < DICT(self)->n; i++)
		dict_put(d, DICT(self)->keys[i], DICT(self)->vals[i], "-copy");
	return d;
}

static id d_mutable_copy(id self, SEL c, void *zone)
{
	(void)c, (void)zone;
	id d = model_new("NSMutableDictionary");
	for (size_t i = 0; i < DICT(self)->n; i++)
		dict_put(d, DICT(self)->keys[i], DICT(self)->vals[i], "-mutableCopy");
	return d;
}

/* NSDictionary.h: objectForKey: "The value associated with aKey, or nil if no value is associated
 * with aKey" (+0). How a client reads an NSError's userInfo, NSUnderlyingErrorKey among them. */
static id d_object_for_key(id self, SEL c, id key)
{
	(void)c;
	if (!key)
		model_violation("invalid-argument", "-[NSDictionary objectForKey:] with a nil key");
	model_check_object(key, "-[NSDictionary objectForKey:]");
	for (size_t i = 0; i < DICT(self)->n; i++)
		if (key_equal(DICT(self)->keys[i], key))
			return DICT(self)->vals[i];
	return nil;
}

static unsigned long d_count(id self, SEL c)
{
	(void)c;
	return DICT(self)->n;
}

static void dict_dealloc(id self)
{
	for (size_t i = 0; i < DICT(self)->n; i++) {
		model_drop(DICT(self)->keys[i]);
		model_drop(DICT(self)->vals[i]);
	}
	free(DICT(self)->keys);
	free(DICT(self)->vals);
	DICT(self)->n = 0;
}

/* ---------------------------------------------------------------- NSData */

#define DATA(o) ((struct ns_data *)(o))

static void data_fill(id o, const void *bytes, size_t len)
{
	DATA(o)->b = malloc(len ? len : 1);
	if (len)
		memcpy(DATA(o)->b, bytes, len);
	DATA(o)->len = len;
	model_mark_init(o);
}

id ns_data(const void *bytes, size_t len)
{
	id o = model_alloc(model_class_named("NSData"));
	data_fill(o, bytes, len);
	return model_autorelease(o);
}

const void *ns_data_bytes(id d, size_t *len)
{
	*len = d ? DATA(d)->len : 0;
	return d ? DATA(d)->b : NULL;
}

static id da_with_bytes(id cls, SEL c, const void *b, unsigned long len)
{
	(void)cls, (void)c;
	if (!b && len)
		model_violation("invalid-argument", "+[NSData dataWithBytes:length:]: NULL bytes with length %lu", len);
	return ns_data(b, len);
}

static id da_init_bytes(id self, SEL c, const void *b, unsigned long len)
{
	(void)c;
	if (!b && len)
		model_violation("invalid-argument", "-[NSData initWithBytes:length:]: NULL bytes with length %lu", len);
	data_fill(self, b, len);
	return self;
}

static id da_with_url(id cls, SEL c, id url)
{
	(void)cls, (void)c;
	model_check_object(url, "+[NSData dataWithContentsOfURL:]");
	if (!url)
		model_violation("invalid-argument", "+[NSData dataWithContentsOfURL:]: nil URL");
	const char *p = ns_url_path(url);
	if (!p)
		return nil;
	FILE *f = fopen(p, "rb");
	if (!f)
		return nil;
	size_t cap = 4096, n = 0;
	unsigned char *buf = malloc(cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	bool bad = ferror(f);
	fclose(f);
	id d = bad ? nil : ns_data(buf, n);
	free(buf);
	return d;
}

static const void *da_bytes(id self, SEL c)
{
	(void)c;
	return DATA(self)->len ? DATA(self)->b : NULL;
}

static unsigned long da_length(id self, SEL c)
{
	(void)c;
	return DATA(self)->len;
}

static bool da_write(id self, SEL c, id url, bool atomically)
{
	(void)c;
	model_check_object(url, "-[NSData writeToURL:atomically:]");
	const char *p = ns_url_path(url);
	if (!p)
		return false;
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s.claw-model-%ld", p, (long)getpid());
	const char *target = atomically ? tmp : p;
	FILE *f = fopen(target, "wb");
	if (!f)
		return false;
	bool ok = fwrite(DATA(self)->b, 1, DATA(self)->len, f) == DATA(self)->len;
	ok = fclose(f) == 0 && ok;
	if (atomically) {
		if (ok)
			ok = rename(tmp, p) == 0;
		else
			unlink(tmp);
	}
	return ok;
}

/* Options: 1 (64-character lines) or 2 (76), with 16 (CR) and/or 32 (LF); a line length alone
 * ends lines with CR LF. Through OpenSSL's encoder, as the house rules ask. */
static id da_base64(id self, SEL c, unsigned long opts)
{
	(void)c;
	size_t len = DATA(self)->len;
	unsigned char *enc = malloc(4 * ((len + 2) / 3) + 1);
	int n = EVP_EncodeBlock(enc, DATA(self)->b, (int)len);
	size_t line = (opts & 1) ? 64 : (opts & 2) ? 76 : 0;
	if (!line) {
		id s = ns_string((char *)enc);
		free(enc);
		return s;
	}
	const char *eol = (opts & 16) && !(opts & 32) ? "\r" : (opts & 32) && !(opts & 16) ? "\n" : "\r\n";
	char *out = malloc((size_t)n + ((size_t)n / line + 1) * 2 + 1), *o = out;
	for (int i = 0; i < n; i++) {
		if (i && i % (int)line == 0)
			o += sprintf(o, "%s", eol);
		*o++ = (char)enc[i];
	}
	*o = 0;
	id s = ns_string(out);
	free(out);
	free(enc);
	return s;
}

static bool b64_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
}

static id da_init_base64(id self, SEL c, id string, unsigned long opts)
{
	(void)c;
	check_string(string, "-[NSData initWithBase64EncodedString:options:]");
	if (!string)
		model_violation("invalid-argument", "-[NSData initWithBase64EncodedString:options:]: nil string argument");
	const char *s = ns_utf8(string);
	char *clean = malloc(strlen(s) + 1);
	size_t n = 0;
	for (const char *p = s; *p; p++) {
		if (b64_char(*p) || *p == '=')
			clean[n++] = *p;
		else if (!(opts & 1)) { /* NSDataBase64DecodingIgnoreUnknownCharacters */
			free(clean);
			model_release(self);
			return nil;
		}
	}
	clean[n] = 0;
	size_t pad = 0;
	while (pad < n && pad < 2 && clean[n - 1 - pad] == '=')
		pad++;
	bool ok = n % 4 == 0 && !memchr(clean, '=', n - pad);
	unsigned char *out = malloc(n / 4 * 3 + 1);
	int len = ok && n ? EVP_DecodeBlock(out, (unsigned char *)clean, (int)n) : 0;
	if (len < 0)
		ok = false;
	free(clean);
	if (!ok) {
		free(out);
		model_release(self);
		return nil;
	}
	data_fill(self, out, (size_t)len - pad);
	free(out);
	return self;
}

static bool da_is_equal(id self, SEL c, id other)
{
	(void)c;
	return other && model_alive(other) && model_is_kind(other, "NSData") && DATA(other)->len == DATA(self)->len &&
		!memcmp(DATA(self)->b, DATA(other)->b, DATA(self)->len);
}

static void data_dealloc(id self)
{
	free(DATA(self)->b);
	DATA(self)->b = NULL;
}

/* ---------------------------------------------------------------- NSError */

#define ERR(o) ((struct ns_error *)(o))

id ns_error(const char *domain, long code, const char *failure, const char *reason, id underlying)
{
	struct ns_error *e = (struct ns_error *)model_new("NSError");
	e->domain = model_hold(ns_string(domain));
	e->code = code;
	id info = ns_dict_empty();
	if (failure)
		ns_dict_set(info, ns_string("NSLocalizedFailure"), ns_string(failure));
	if (reason)
		ns_dict_set(info, ns_string("NSLocalizedFailureReason"), ns_string(reason));
	if (underlying)
		ns_dict_set(info, ns_string("NSUnderlyingError"), underlying);
	e->info = model_hold(info);
	return model_autorelease((id)e);
}

id ns_error_described(const char *domain, long code, const char *description)
{
	id e = ns_error(domain, code, NULL, NULL, nil);
	ns_dict_set(ERR(e)->info, ns_string("NSLocalizedDescription"), ns_string(description));
	return e;
}

id ns_error_posix(int err) { return ns_error_described("NSPOSIXErrorDomain", err, strerror(err)); }

id ns_error_info(id e) { return ERR(e)->info; }
long ns_error_code(id e) { return ERR(e)->code; }

const char *ns_error_string(id e, const char *key)
{
	id v = dict_get(ERR(e)->info, key);
	return v ? ns_utf8(v) : NULL;
}

long ns_error_underlying_code(id e)
{
	id u = dict_get(ERR(e)->info, "NSUnderlyingError");
	return u ? ERR(u)->code : 0;
}


static id e_domain(id self, SEL c)
{
	(void)c;
	return ERR(self)->domain;
}

static long e_code(id self, SEL c)
{
	(void)c;
	return ERR(self)->code;
}

static id e_user_info(id self, SEL c)
{
	(void)c;
	return ERR(self)->info;
}

static id e_reason(id self, SEL c)
{
	(void)c;
	return dict_get(ERR(self)->info, "NSLocalizedFailureReason");
}

/* NSError.h: with no NSLocalizedDescriptionKey the description is built from NSLocalizedFailure
 * and NSLocalizedFailureReason — VZ's own errors read "Invalid virtual machine configuration. The
 * storage device attachment is invalid." (crc-org/vfkit PR #373, cirruslabs/packer-plugin-tart #116). */
static id e_description(id self, SEL c)
{
	(void)c;
	id d = dict_get(ERR(self)->info, "NSLocalizedDescription");
	if (d)
		return d;
	id f = dict_get(ERR(self)->info, "NSLocalizedFailure");
	id r = dict_get(ERR(self)->info, "NSLocalizedFailureReason");
	char buf[1200];
	if (f && r)
		snprintf(buf, sizeof buf, "%s %s", ns_utf8(f), ns_utf8(r));
	else if (r)
		snprintf(buf, sizeof buf, "The operation couldn’t be completed. %s", ns_utf8(r));
	else if (f)
		snprintf(buf, sizeof buf, "%s", ns_utf8(f));
	else
		snprintf(buf, sizeof buf, "The operation couldn’t be completed. (%s error %ld.)", ns_utf8(ERR(self)->domain),
			ERR(self)->code);
	return ns_string(buf);
}

static id e_debug_description(id self, SEL c)
{
	char buf[1400];
	snprintf(buf, sizeof buf, "Error Domain=%s Code=%ld \"%s\"", ns_utf8(ERR(self)->domain), ERR(self)->code,
		ns_utf8(e_description(self, c)));
	return ns_string(buf);
}

static void error_dealloc(id self)
{
	model_drop(ERR(self)->domain);
	model_drop(ERR(self)->info);
}

/* ---------------------------------------------------------------- NSProgress */

#define PROG(o) ((struct ns_progress *)(o))

id ns_progress_new(int64_t total)
{
	id p = model_new("NSProgress");
	pthread_mutex_init(&PROG(p)->mu, NULL);
	PROG(p)->total = total;
	return p;
}

void ns_progress_started(id p)
{
	pthread_mutex_lock(&PROG(p)->mu);
	PROG(p)->started = true;
	pthread_mutex_unlock(&PROG(p)->mu);
}

void ns_progress_set(id p, int64_t done)
{
	pthread_mutex_lock(&PROG(p)->mu);
	PROG(p)->done = done;
	double f = PROG(p)->total > 0 ? (double)done / (double)PROG(p)->total : 0;
	pthread_mutex_unlock(&PROG(p)->mu);
	void *pool = model_pool_push(false);
	kvo_changed(p, "completedUnitCount", ns_number(done));
	kvo_changed(p, "fractionCompleted", ns_number((long long)(f * 100)));
	model_pool_pop(pool);
}

void ns_progress_finish(id p)
{
	pthread_mutex_lock(&PROG(p)->mu);
	PROG(p)->finished = true;
	if (!PROG(p)->cancelled)
		PROG(p)->done = PROG(p)->total;
	pthread_mutex_unlock(&PROG(p)->mu);
	void *pool = model_pool_push(false);
	kvo_changed(p, "finished", ns_number(1));
	model_pool_pop(pool);
}

bool ns_progress_cancelled(id p)
{
	pthread_mutex_lock(&PROG(p)->mu);
	bool c = PROG(p)->cancelled;
	pthread_mutex_unlock(&PROG(p)->mu);
	return c;
}

void ns_progress_on_cancel(id p, dispatch_block_t blk)
{
	pthread_mutex_lock(&PROG(p)->mu);
	if (PROG(p)->on_cancel)
		Block_release(PROG(p)->on_cancel);
	PROG(p)->on_cancel = blk ? Block_copy(blk) : NULL;
	pthread_mutex_unlock(&PROG(p)->mu);
}

static double p_fraction(id self, SEL c)
{
	(void)c;
	pthread_mutex_lock(&PROG(self)->mu);
	double f = PROG(self)->total > 0 ? (double)PROG(self)->done / (double)PROG(self)->total : 0;
	pthread_mutex_unlock(&PROG(self)->mu);
	return f;
}

static int64_t p_completed(id self, SEL c)
{
	(void)c;
	pthread_mutex_lock(&PROG(self)->mu);
	int64_t v = PROG(self)->done;
	pthread_mutex_unlock(&PROG(self)->mu);
	return v;
}

static int64_t p_total(id self, SEL c)
{
	(void)c;
	return PROG(self)->total;
}

static bool p_finished(id self, SEL c)
{
	(void)c;
	pthread_mutex_lock(&PROG(self)->mu);
	bool v = PROG(self)->finished;
	pthread_mutex_unlock(&PROG(self)->mu);
	return v;
}

static bool p_cancelled(id self, SEL c)
{
	(void)c;
	return ns_progress_cancelled(self);
}

/* VZ-API §8: "cancelling it before install starts raises; cancel during install aborts (error code 9)". */
static void p_cancel(id self, SEL c)
{
	(void)c;
	pthread_mutex_lock(&PROG(self)->mu);
	if (PROG(self)->on_cancel && !PROG(self)->started) {
		pthread_mutex_unlock(&PROG(self)->mu);
		model_violation("installer-cancel", "-[NSProgress cancel] on a VZMacOSInstaller's progress before "
			"installWithCompletionHandler: raises (VZ-API §8)");
	}
	bool first = !PROG(self)->cancelled && !PROG(self)->finished;
	PROG(self)->cancelled = true;
	dispatch_block_t blk = first ? PROG(self)->on_cancel : NULL;
	pthread_mutex_unlock(&PROG(self)->mu);
	if (blk)
		blk();
}

static id p_init(id self, SEL c)
{
	(void)c;
	pthread_mutex_init(&PROG(self)->mu, NULL);
	model_mark_init(self);
	return self;
}

static void progress_dealloc(id self)
{
	if (PROG(self)->on_cancel)
		Block_release(PROG(self)->on_cancel);
	PROG(self)->on_cancel = NULL;
}

static id kvo_current(id obj, const char *key)
{
	if (model_is_kind(obj, "NSProgress")) {
		if (!strcmp(key, "fractionCompleted"))
			return ns_number((long long)(p_fraction(obj, NULL) * 100));
		if (!strcmp(key, "completedUnitCount"))
			return ns_number(p_completed(obj, NULL));
		if (!strcmp(key, "totalUnitCount"))
			return ns_number(p_total(obj, NULL));
		if (!strcmp(key, "finished"))
			return ns_number(p_finished(obj, NULL));
		return ns_number(p_cancelled(obj, NULL));
	}
	if (!strcmp(key, "state"))
		return ns_number(vm_state(obj));
	return ns_number(0);
}

/* ---------------------------------------------------------------- NSFileHandle */

#define FH(o) ((struct ns_handle *)(o))

static id handle_for(int fd, bool close_on_dealloc)
{
	id h = model_new("NSFileHandle");
	FH(h)->fd = fd;
	FH(h)->close_on_dealloc = close_on_dealloc;
	return h;
}

id ns_file_handle_for_fd(int fd) { return handle_for(fd, false); }
int ns_file_handle_fd(id h) { return h && !FH(h)->closed ? FH(h)->fd : -1; }

static id fh_open(const char *what, id path, int flags)
{
	check_string(path, what);
	if (!path)
		model_violation("invalid-argument", "%s: nil path", what);
	int fd = open(ns_utf8(path), flags | O_CLOEXEC);
	if (fd < 0)
		return nil;
	return model_autorelease(handle_for(fd, true));
}

static id fh_writing(id cls, SEL c, id path)
{
	(void)cls, (void)c;
	return fh_open("+[NSFileHandle fileHandleForWritingAtPath:]", path, O_WRONLY);
}

static id fh_reading(id cls, SEL c, id path)
{
	(void)cls, (void)c;
	return fh_open("+[NSFileHandle fileHandleForReadingAtPath:]", path, O_RDONLY);
}

static id fh_updating(id cls, SEL c, id path)
{
	(void)cls, (void)c;
	return fh_open("+[NSFileHandle fileHandleForUpdatingAtPath:]", path, O_RDWR);
}

static id fh_null(id cls, SEL c)
{
	(void)cls, (void)c;
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	return model_autorelease(handle_for(fd, true));
}

static id standard[3];

static id fh_std(int fd)
{
	if (!standard[fd]) {
		standard[fd] = handle_for(fd, false);
		model_immortal(standard[fd]);
	}
	return standard[fd];
}

static id fh_stdin(id cls, SEL c)
{
	(void)cls, (void)c;
	return fh_std(0);
}

static id fh_stdout(id cls, SEL c)
{
	(void)cls, (void)c;
	return fh_std(1);
}

static id fh_stderr(id cls, SEL c)
{
	(void)cls, (void)c;
	return fh_std(2);
}

static id fh_init_fd(id self, SEL c, int fd)
{
	(void)c;
	FH(self)->fd = fd;
	model_mark_init(self);
	return self;
}

static id fh_init_fd_close(id self, SEL c, int fd, bool close_on_dealloc)
{
	(void)c;
	FH(self)->fd = fd;
	FH(self)->close_on_dealloc = close_on_dealloc;
	model_mark_init(self);
	return self;
}

static int fh_fd(id self, SEL c)
{
	(void)c;
	return FH(self)->closed ? -1 : FH(self)->fd;
}

static void fh_close(id self, SEL c)
{
	(void)c;
	if (!FH(self)->closed)
		close(FH(self)->fd);
	FH(self)->closed = true;
}

static void handle_dealloc(id self)
{
	if (FH(self)->close_on_dealloc && !FH(self)->closed)
		close(FH(self)->fd);
	FH(self)->closed = true;
}

/* ---------------------------------------------------------------- NSProcessInfo */

static id process_info;

static id pi_process_info(id cls, SEL c)
{
	(void)cls, (void)c;
	if (!process_info) {
		process_info = model_new("NSProcessInfo");
		model_immortal(process_info);
	}
	return process_info;
}

static struct ns_os_version host_version(void)
{
	return (struct ns_os_version){ HOST.macos / 100, HOST.macos % 100, HOST.patch };
}

static struct ns_os_version pi_os_version(id self, SEL c)
{
	(void)self, (void)c;
	return host_version();
}

static bool pi_at_least(id self, SEL c, struct ns_os_version v)
{
	(void)self, (void)c;
	struct ns_os_version h = host_version();
	if (h.major != v.major)
		return h.major > v.major;
	if (h.minor != v.minor)
		return h.minor > v.minor;
	return h.patch >= v.patch;
}

/* ---------------------------------------------------------------- NSRunLoop, NSDate */

static id main_loop, other_loop;

static id rl_main(id cls, SEL c)
{
	(void)cls, (void)c;
	if (!main_loop) {
		main_loop = model_new("NSRunLoop");
		model_immortal(main_loop);
	}
	return main_loop;
}

static id rl_current(id cls, SEL c)
{
	if (model_on_main_thread())
		return rl_main(cls, c);
	if (!other_loop) {
		other_loop = model_new("NSRunLoop");
		model_immortal(other_loop);
	}
	return other_loop;
}

/* The main run loop services the main queue; another thread's run loop has no sources in the
 * model, and "If no input sources or timers are attached to the run loop, this method exits
 * immediately" (NSRunLoop). */
static void rl_run(id self, SEL c)
{
	(void)c;
	if (self == main_loop && model_on_main_thread())
		model_run_main(0);
}

static void rl_run_until(id self, SEL c, id date)
{
	(void)c;
	model_check_object(date, "-[NSRunLoop runUntilDate:]");
	if (!date || !model_is_kind(date, "NSDate"))
		model_violation("invalid-argument", "-[NSRunLoop runUntilDate:] needs an NSDate");
	if (self == main_loop && model_on_main_thread())
		model_run_main(((struct ns_date *)date)->when);
}

static id date_at(uint64_t when)
{
	id d = model_new("NSDate");
	((struct ns_date *)d)->when = when;
	return model_autorelease(d);
}

static id dt_since_now(id cls, SEL c, double seconds)
{
	(void)cls, (void)c;
	double ns = seconds * 1e9;
	uint64_t now = model_now_ns();
	return date_at(ns <= -(double)now ? 1 : now + (uint64_t)(int64_t)ns);
}

static id dt_distant_future(id cls, SEL c)
{
	(void)cls, (void)c;
	return date_at(0);
}

/* ---------------------------------------------------------------- NSAutoreleasePool */

static id ap_alloc(id cls, SEL c)
{
	(void)c;
	return model_alloc((Class)cls);
}

static id ap_init(id self, SEL c)
{
	(void)c;
	((struct ns_pool *)self)->token = model_pool_push(false);
	model_mark_init(self);
	/* The pool object itself is the client's; draining it releases it. */
	return self;
}

static id ap_new(id cls, SEL c)
{
	return ap_init(ap_alloc(cls, c), c);
}

static void ap_drain(id self, SEL c)
{
	(void)c;
	model_pool_pop(((struct ns_pool *)self)->token);
	model_release(self);
}

/* ---------------------------------------------------------------- the classes */

void foundation_classes(void)
{
	static const struct mdef object_i[] = {
		MD("init", "@@:", o_init, V(10, 0)),
		MD("release", "v@:", o_release, V(10, 0)),
		MD("retain", "@@:", o_retain, V(10, 0)),
		MD("autorelease", "@@:", o_autorelease, V(10, 0)),
		MD("copy", "@@:", o_copy, V(10, 0)),
		MD("mutableCopy", "@@:", o_mutable_copy, V(10, 0)),
		MD("retainCount", "Q@:", o_retain_count, V(10, 0)),
		MD("class", "#@:", o_class_of, V(10, 0)),
		MD("isKindOfClass:", "B@:#", o_is_kind, V(10, 0)),
		MD("respondsToSelector:", "B@::", o_responds, V(10, 0)),
		MD("description", "@@:", o_description, V(10, 0)),
		MD("isEqual:", "B@:@", o_is_equal, V(10, 0)),
		MD("hash", "Q@:", o_hash, V(10, 0)),
		MD("addObserver:forKeyPath:options:context:", "v@:@@Q^v", o_add_observer, V(10, 0)),
		MD("removeObserver:forKeyPath:", "v@:@@", o_remove_observer, V(10, 0)),
		MD("observeValueForKeyPath:ofObject:change:context:", "v@:@@@^v", o_observe, V(10, 0)),
		MDEF_END,
	};
	static const struct mdef object_c[] = {
		MD("alloc", "@@:", o_alloc, V(10, 0)),
		MD("new", "@@:", o_new, V(10, 0)),
		MD("class", "#@:", o_class_of, V(10, 0)),
		MDEF_END,
	};
	model_class("NSObject", NULL, sizeof(struct objc_object), 0, 0, nsobject_dealloc, object_i, object_c);

	static const struct mdef pool_i[] = {
		MD("init", "@@:", ap_init, V(10, 0)),
		MD("drain", "v@:", ap_drain, V(10, 0)),
		MDF("release", "v@:", ap_drain, V(10, 0), M_OVERRIDE),
		MDEF_END,
	};
	static const struct mdef pool_c[] = {
		MD("new", "@@:", ap_new, V(10, 0)),
		MD("alloc", "@@:", ap_alloc, V(10, 0)),
		MDEF_END,
	};
	model_class("NSAutoreleasePool", "NSObject", sizeof(struct ns_pool), 0, 0, NULL, pool_i, pool_c);

	static const struct mdef string_i[] = {
		MD("UTF8String", "r*@:", s_utf8, V(10, 0)),
		MD("length", "Q@:", s_length, V(10, 0)),
		MD("isEqualToString:", "B@:@", s_equal_string, V(10, 0)),
		MD("initWithUTF8String:", "@@:r*", s_init_utf8, V(10, 0)),
		MDF("isEqual:", "B@:@", s_is_equal, V(10, 0), M_OVERRIDE),
		MDF("hash", "Q@:", s_hash, V(10, 0), M_OVERRIDE),
		MDF("description", "@@:", s_description, V(10, 0), M_OVERRIDE),
		MDF("copyWithZone:", "@@:^v", immutable_copy, 0, M_INTERNAL),
		MDEF_END,
	};
	static const struct mdef string_c[] = {
		MD("stringWithUTF8String:", "@@:r*", s_with_utf8, V(10, 0)),
		MDEF_END,
	};
	model_class("NSString", "NSObject", sizeof(struct ns_string), 0, 0, string_dealloc, string_i, string_c);

	static const struct mdef number_i[] = {
		MDF("description", "@@:", n_description, 0, M_OVERRIDE),
		MDF("isEqual:", "B@:@", n_is_equal, 0, M_OVERRIDE),
		MDF("copyWithZone:", "@@:^v", immutable_copy, 0, M_INTERNAL),
		MDEF_END,
	};
	model_class("NSNumber", "NSObject", sizeof(struct ns_number), 0, C_NOINIT, NULL, number_i, NULL);

	static const struct mdef url_i[] = {
		MD("path", "@@:", u_path, V(10, 0)),
		MD("absoluteString", "@@:", u_absolute, V(10, 0)),
		MD("isFileURL", "B@:", u_is_file, V(10, 0)),
		MD("URLByAppendingPathComponent:", "@@:@", u_append, V(10, 0)),
		MDF("isEqual:", "B@:@", u_is_equal, 0, M_OVERRIDE),
		MDF("description", "@@:", u_description, 0, M_OVERRIDE),
		MDF("copyWithZone:", "@@:^v", immutable_copy, 0, M_INTERNAL),
		MDEF_END,
	};
	static const struct mdef url_c[] = {
		MD("fileURLWithPath:", "@@:@", u_file_path, V(10, 0)),
		MD("fileURLWithPath:isDirectory:", "@@:@B", u_file_path_dir, V(10, 0)),
		MD("URLWithString:", "@@:@", u_with_string, V(10, 0)),
		MDEF_END,
	};
	model_class("NSURL", "NSObject", sizeof(struct ns_url), 0, C_NOINIT, url_dealloc, url_i, url_c);

	static const struct mdef array_i[] = {
		MD("count", "Q@:", a_count, V(10, 0)),
		MD("objectAtIndex:", "@@:Q", a_at, V(10, 0)),
		MD("firstObject", "@@:", a_first, V(10, 0)),
		MDF("copyWithZone:", "@@:^v", a_copy, 0, M_INTERNAL),
		MDF("mutableCopyWithZone:", "@@:^v", a_mutable_copy, 0, M_INTERNAL),
		MDEF_END,
	};
	static const struct mdef array_c[] = {
		MD("array", "@@:", a_array, V(10, 0)),
		MD("arrayWithObjects:count:", "@@:r^@Q", a_with_objects, V(10, 0)),
		MD("arrayWithObject:", "@@:@", a_with_object, V(10, 0)),
		MDEF_END,
	};
	model_class("NSArray", "NSObject", sizeof(struct ns_array), 0, 0, array_dealloc, array_i, array_c);
	model_class("NSMutableArray", "NSArray", 0, 0, 0, NULL, NULL, NULL);

	static const struct mdef dict_i[] = {
		MDF("copyWithZone:", "@@:^v", d_copy, 0, M_INTERNAL),
		MDF("mutableCopyWithZone:", "@@:^v", d_mutable_copy, 0, M_INTERNAL),
		MDF("count", "Q@:", d_count, 0, M_INTERNAL),
		MD("objectForKey:", "@@:@", d_object_for_key, V(10, 0)),
		MDEF_END,
	};
	static const struct mdef dict_c[] = {
		MD("dictionary", "@@:", d_dictionary, V(10, 0)),
		MD("dictionaryWithObjects:forKeys:count:", "@@:r^@r^@Q", d_with_objects, V(10, 0)),
		MDEF_END,
	};
	model_class("NSDictionary", "NSObject", sizeof(struct ns_dict), 0, 0, dict_dealloc, dict_i, dict_c);
	static const struct mdef mdict_i[] = {
		MD("setObject:forKey:", "v@:@@", d_set, V(10, 0)),
		MDEF_END,
	};
	model_class("NSMutableDictionary", "NSDictionary", 0, 0, 0, NULL, mdict_i, NULL);

	static const struct mdef data_i[] = {
		MD("initWithBytes:length:", "@@:r^vQ", da_init_bytes, V(10, 0)),
		MD("bytes", "r^v@:", da_bytes, V(10, 0)),
		MD("length", "Q@:", da_length, V(10, 0)),
		MD("writeToURL:atomically:", "B@:@B", da_write, V(10, 0)),
		MD("base64EncodedStringWithOptions:", "@@:Q", da_base64, V(10, 9)),
		MD("initWithBase64EncodedString:options:", "@@:@Q", da_init_base64, V(10, 9)),
		MDF("isEqual:", "B@:@", da_is_equal, 0, M_OVERRIDE),
		MDF("copyWithZone:", "@@:^v", immutable_copy, 0, M_INTERNAL),
		MDEF_END,
	};
	static const struct mdef data_c[] = {
		MD("dataWithBytes:length:", "@@:r^vQ", da_with_bytes, V(10, 0)),
		MD("dataWithContentsOfURL:", "@@:@", da_with_url, V(10, 0)),
		MDEF_END,
	};
	model_class("NSData", "NSObject", sizeof(struct ns_data), 0, 0, data_dealloc, data_i, data_c);

	static const struct mdef error_i[] = {
		MD("domain", "@@:", e_domain, V(10, 0)),
		MD("code", "q@:", e_code, V(10, 0)),
		MD("localizedDescription", "@@:", e_description, V(10, 0)),
		MD("localizedFailureReason", "@@:", e_reason, V(10, 0)),
		MD("userInfo", "@@:", e_user_info, V(10, 0)),
		MDF("description", "@@:", e_debug_description, 0, M_OVERRIDE),
		MDF("copyWithZone:", "@@:^v", immutable_copy, 0, M_INTERNAL),
		MDEF_END,
	};
	model_class("NSError", "NSObject", sizeof(struct ns_error), 0, C_NOINIT, error_dealloc, error_i, NULL);

	static const struct mdef progress_i[] = {
		MD("fractionCompleted", "d@:", p_fraction, V(10, 9)),
		MD("completedUnitCount", "q@:", p_completed, V(10, 9)),
		MD("totalUnitCount", "q@:", p_total, V(10, 9)),
		MD("isFinished", "B@:", p_finished, V(10, 9)),
		MD("isCancelled", "B@:", p_cancelled, V(10, 9)),
		MD("cancel", "v@:", p_cancel, V(10, 9)),
		MDF("init", "@@:", p_init, 0, M_OVERRIDE),
		MDEF_END,
	};
	model_class("NSProgress", "NSObject", sizeof(struct ns_progress), 0, 0, progress_dealloc, progress_i, NULL);

	static const struct mdef handle_i[] = {
		MD("initWithFileDescriptor:", "@@:i", fh_init_fd, V(10, 0)),
		MD("initWithFileDescriptor:closeOnDealloc:", "@@:iB", fh_init_fd_close, V(10, 0)),
		MD("fileDescriptor", "i@:", fh_fd, V(10, 0)),
		MD("closeFile", "v@:", fh_close, V(10, 0)),
		MDEF_END,
	};
	static const struct mdef handle_c[] = {
		MD("fileHandleForWritingAtPath:", "@@:@", fh_writing, V(10, 0)),
		MD("fileHandleForReadingAtPath:", "@@:@", fh_reading, V(10, 0)),
		MD("fileHandleForUpdatingAtPath:", "@@:@", fh_updating, V(10, 0)),
		MD("fileHandleWithNullDevice", "@@:", fh_null, V(10, 0)),
		MD("fileHandleWithStandardInput", "@@:", fh_stdin, V(10, 0)),
		MD("fileHandleWithStandardOutput", "@@:", fh_stdout, V(10, 0)),
		MD("fileHandleWithStandardError", "@@:", fh_stderr, V(10, 0)),
		MDEF_END,
	};
	model_class("NSFileHandle", "NSObject", sizeof(struct ns_handle), 0, C_NOINIT, handle_dealloc, handle_i, handle_c);

	static const struct mdef pi_i[] = {
		MD("operatingSystemVersion", "{NSOperatingSystemVersion=qqq}@:", pi_os_version, V(10, 10)),
		MD("isOperatingSystemAtLeastVersion:", "B@:{NSOperatingSystemVersion=qqq}", pi_at_least, V(10, 10)),
		MDEF_END,
	};
	static const struct mdef pi_c[] = {
		MD("processInfo", "@@:", pi_process_info, V(10, 0)),
		MDEF_END,
	};
	model_class("NSProcessInfo", "NSObject", 0, 0, C_NOINIT, NULL, pi_i, pi_c);

	static const struct mdef rl_i[] = {
		MD("run", "v@:", rl_run, V(10, 0)),
		MD("runUntilDate:", "v@:@", rl_run_until, V(10, 0)),
		MDEF_END,
	};
	static const struct mdef rl_c[] = {
		MD("mainRunLoop", "@@:", rl_main, V(10, 0)),
		MD("currentRunLoop", "@@:", rl_current, V(10, 0)),
		MDEF_END,
	};
	model_class("NSRunLoop", "NSObject", 0, 0, C_NOINIT, NULL, rl_i, rl_c);

	static const struct mdef date_c[] = {
		MD("dateWithTimeIntervalSinceNow:", "@@:d", dt_since_now, V(10, 0)),
		MD("distantFuture", "@@:", dt_distant_future, V(10, 0)),
		MDEF_END,
	};
	model_class("NSDate", "NSObject", sizeof(struct ns_date), 0, C_NOINIT, NULL, NULL, date_c);
}

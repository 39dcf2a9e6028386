/* darwin-model/runtime: the Objective-C runtime of the model — selectors,
 * classes and their methods, message lookup (claw_model_lookup, what objc.h's
 * SENDn call under -DCLAW_DARWIN_MODEL), retain/release with zombies, autorelease
 * pools, the rules every message obeys, and the report at exit of what the
 * client made and never released.
 *
 * Sources: Apple, "The Objective-C Programming Language" (messages to nil,
 * unrecognized selectors raise NSInvalidArgumentException), the Advanced Memory
 * Management Programming Guide (ownership), VZ-API.md §1 (calling convention,
 * memory rules, autorelease pools from C) and §2 (threading). */
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static pthread_mutex_t M = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
#define LOCK() pthread_mutex_lock(&M)
#define UNLOCK() pthread_mutex_unlock(&M)

/* ---------------------------------------------------------------- violations */

static const char *report_path(void) { return getenv("CLAW_MODEL_REPORT"); }

static void report_line(const char *line)
{
	fprintf(stderr, "%s\n", line);
	const char *p = report_path();
	if (p && *p) {
		FILE *f = fopen(p, "a");
		if (f) {
			fprintf(f, "%s\n", line);
			fclose(f);
		}
	}
}

/* An uncaught NSException ends the real process with abort(); so does a violation here, after
 * one line that names the rule. No core file: the tests provoke these on purpose. */
void model_violation(const char *rule, const char *fmt, ...)
{
	char msg[1024], line[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(line, sizeof line, "claw-model: rule %s: %s", rule, msg);
	report_line(line);
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	signal(SIGABRT, SIG_DFL);
	abort();
}

void model_note(const char *fmt, ...)
{
	char msg[1024], line[1100];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(line, sizeof line, "claw-model: %s", msg);
	report_line(line);
}

static int tracing = -1;

void model_trace(const char *fmt, ...)
{
	if (tracing < 0)
		tracing = getenv("CLAW_MODEL_TRACE") && *getenv("CLAW_MODEL_TRACE") == '1';
	if (!tracing)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("claw-model: trace: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---------------------------------------------------------------- selectors */

struct objc_selector {
	const char *name;
	int nargs;
	struct objc_selector *next;
};

#define SEL_BUCKETS 1024
static struct objc_selector *selectors[SEL_BUCKETS];

static unsigned hash_str(const char *s)
{
	unsigned h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

SEL sel_registerName(const char *name)
{
	if (!name)
		model_violation("invalid-argument", "sel_registerName(NULL)");
	unsigned b = hash_str(name) % SEL_BUCKETS;
	LOCK();
	struct objc_selector *s;
	for (s = selectors[b]; s; s = s->next)
		if (!strcmp(s->name, name))
			break;
	if (!s) {
		s = calloc(1, sizeof *s);
		s->name = strdup(name);
		for (const char *c = name; *c; c++)
			s->nargs += *c == ':';
		s->next = selectors[b];
		selectors[b] = s;
	}
	UNLOCK();
	return s;
}

SEL model_sel(const char *name) { return sel_registerName(name); }
const char *model_sel_name(SEL sel) { return sel ? sel->name : "(null)"; }
const char *sel_getName(SEL sel);
const char *sel_getName(SEL sel) { return model_sel_name(sel); }

/* ---------------------------------------------------------------- the object registry */

/* Every object the model ever made, freed ones too (they stay as zombies), so that any pointer
 * a client sends to can be told apart: a live object, a freed one, or no object at all. */
static id *reg;
static size_t reg_cap, reg_n;
static id *all;      /* in order of creation, for the report */
static size_t all_n, all_cap;
static unsigned long serials;

static size_t reg_slot(id o)
{
	uintptr_t h = (uintptr_t)o;
	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 7) & (reg_cap - 1);
}

static void reg_put(id o);

static void reg_grow(void)
{
	id *old = reg;
	size_t oldcap = reg_cap;
	reg_cap = reg_cap ? reg_cap * 2 : 4096;
	reg = calloc(reg_cap, sizeof *reg);
	reg_n = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			reg_put(old[i]);
	free(old);
}

static void reg_put(id o)
{
	if ((reg_n + 1) * 2 > reg_cap)
		reg_grow();
	size_t i = reg_slot(o);
	while (reg[i])
		i = (i + 1) & (reg_cap - 1);
	reg[i] = o;
	reg_n++;
}

static bool reg_has(id o)
{
	if (!reg_cap)
		return false;
	size_t i = reg_slot(o);
	while (reg[i]) {
		if (reg[i] == o)
			return true;
		i = (i + 1) & (reg_cap - 1);
	}
	return false;
}

static void registry_add(id o)
{
	reg_put(o);
	if (all_n == all_cap) {
		all_cap = all_cap ? all_cap * 2 : 4096;
		all = realloc(all, all_cap * sizeof *all);
	}
	all[all_n++] = o;
	o->serial = ++serials;
}

bool model_alive(id o)
{
	if (!o)
		return false;
	LOCK();
	bool ok = reg_has(o) && !(o->flags & O_ZOMBIE);
	UNLOCK();
	return ok;
}

/* ---------------------------------------------------------------- classes */

static Class classes[512];
static size_t nclasses;
static Class proto_class;

static Class class_by_name(const char *name)
{
	for (size_t i = 0; i < nclasses; i++)
		if (!strcmp(classes[i]->name, name))
			return classes[i];
	return NULL;
}

Class model_class_named(const char *name)
{
	LOCK();
	Class c = class_by_name(name);
	UNLOCK();
	return c;
}

static bool class_available(Class c)
{
	if (!(c->flags & C_REGISTERED))
		return false;
	if (c->min > HOST.macos)
		return false;
	if ((c->flags & C_ARM64) && !HOST.arm64)
		return false;
	return true;
}

static void add_method(Class c, bool meta, const char *sel, const char *types, IMP imp, int min,
	unsigned flags)
{
	struct method **list = meta ? &c->cm : &c->im;
	size_t *n = meta ? &c->ncm : &c->nim, *cap = meta ? &c->capcm : &c->capim;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*list = realloc(*list, *cap * sizeof **list);
	}
	(*list)[(*n)++] = (struct method){ sel_registerName(sel), imp, strdup(types), min, flags };
}

static Class new_class(const char *name, Class super, size_t size)
{
	Class c = calloc(1, sizeof *c);
	c->obj.isa = c;
	c->obj.magic = OBJ_MAGIC;
	c->obj.flags = O_CLASS | O_IMMORTAL | O_INIT;
	c->obj.rc = 1;
	c->name = strdup(name);
	c->super = super;
	c->size = size;
	LOCK();
	registry_add((id)c);
	classes[nclasses++] = c;
	UNLOCK();
	return c;
}

Class model_class(const char *name, const char *super, size_t size, int min, unsigned flags,
	void (*dealloc)(id), const struct mdef *instance, const struct mdef *klass)
{
	Class sup = super ? class_by_name(super) : NULL;
	if (super && !sup) {
		fprintf(stderr, "claw-model: internal: %s's superclass %s is not defined yet\n", name, super);
		abort();
	}
	if (sup && size < sup->size)
		size = sup->size;
	Class c = new_class(name, sup, size ? size : sizeof(struct objc_object));
	c->min = min;
	c->flags = flags | C_REGISTERED;
	c->dealloc = dealloc;
	if (sup && !c->bound_queue)
		c->bound_queue = sup->bound_queue;
	for (const struct mdef *d = instance; d && d->sel; d++)
		add_method(c, false, d->sel, d->types, d->imp, d->min, d->flags);
	for (const struct mdef *d = klass; d && d->sel; d++)
		add_method(c, true, d->sel, d->types, d->imp, d->min, d->flags);
	return c;
}

static bool method_available(const struct method *m)
{
	if (m->min > HOST.macos)
		return false;
	if ((m->flags & M_ARM64) && !HOST.arm64)
		return false;
	return true;
}

static struct method *find_in(Class c, bool meta, SEL sel)
{
	for (; c; c = c->super) {
		struct method *list = meta ? c->cm : c->im;
		size_t n = meta ? c->ncm : c->nim;
		for (size_t i = n; i-- > 0;)
			if (list[i].sel == sel && method_available(&list[i]))
				return &list[i];
	}
	return NULL;
}

static struct method *find_method(id receiver, SEL sel)
{
	if (receiver->flags & O_CLASS) {
		Class c = (Class)receiver;
		struct method *m = find_in(c, true, sel);
		if (m)
			return m;
		/* A root class's instance methods are class methods too (+retain, +respondsToSelector:...). */
		Class root = c;
		while (root->super)
			root = root->super;
		return find_in(root, false, sel);
	}
	return find_in(receiver->isa, false, sel);
}

IMP model_find(id receiver, SEL sel, struct method **m)
{
	LOCK();
	struct method *found = receiver ? find_method(receiver, sel) : NULL;
	UNLOCK();
	if (m)
		*m = found;
	return found ? found->imp : NULL;
}

bool model_is_kind(id obj, const char *name)
{
	if (!obj)
		return false;
	for (Class c = obj->isa; c; c = c->super)
		if (!strcmp(c->name, name))
			return true;
	return false;
}

const char *model_class_name(id obj)
{
	if (!obj)
		return "nil";
	if (obj->flags & O_CLASS)
		return ((Class)obj)->name;
	return obj->isa->name;
}

/* ---------------------------------------------------------------- the public runtime API */

Class objc_getClass(const char *name)
{
	if (!name)
		return NULL;
	LOCK();
	Class c = class_by_name(name);
	if (c && !class_available(c))
		c = NULL;
	UNLOCK();
	model_trace("objc_getClass(\"%s\") = %s", name, c ? "a class" : "Nil");
	return c;
}

Class objc_allocateClassPair(Class superclass, const char *name, size_t extra)
{
	if (!superclass || !name)
		return NULL;
	LOCK();
	Class c = class_by_name(name);
	if (c) {
		UNLOCK();
		return NULL; /* the name is taken */
	}
	c = new_class(name, superclass, superclass->size + extra);
	c->flags = C_CLIENT;
	c->bound_queue = NULL;
	UNLOCK();
	return c;
}

void objc_registerClassPair(Class cls)
{
	if (!cls)
		return;
	LOCK();
	cls->flags |= C_REGISTERED;
	UNLOCK();
}

bool class_addMethod(Class cls, SEL name, IMP imp, const char *types)
{
	if (!cls || !name || !imp)
		return false;
	LOCK();
	for (size_t i = 0; i < cls->nim; i++)
		if (cls->im[i].sel == name) {
			UNLOCK();
			return false;
		}
	add_method(cls, false, name->name, types ? types : "", imp, 0, M_INTERNAL);
	UNLOCK();
	return true;
}

bool class_addProtocol(Class cls, Protocol *protocol)
{
	if (!cls || !protocol)
		return false;
	LOCK();
	for (size_t i = 0; i < cls->nprotocols; i++)
		if (cls->protocols[i] == (id)protocol) {
			UNLOCK();
			return false;
		}
	bool ok = cls->nprotocols < sizeof cls->protocols / sizeof cls->protocols[0];
	if (ok)
		cls->protocols[cls->nprotocols++] = (id)protocol;
	UNLOCK();
	return ok;
}

bool class_respondsToSelector(Class cls, SEL sel)
{
	if (!cls || !sel)
		return false;
	LOCK();
	bool ok = find_in(cls, false, sel) != NULL;
	UNLOCK();
	return ok;
}

/* ---------------------------------------------------------------- protocols */

struct protocol {
	struct objc_object obj;
	const char *name;
	struct mdef methods[8];
};

static struct protocol *protocols[8];
static size_t nprotocols;

void model_protocol(const char *name, const struct mdef *methods)
{
	if (!proto_class)
		proto_class = model_class("Protocol", "NSObject", sizeof(struct protocol), 0, 0, NULL, NULL, NULL);
	struct protocol *p = (struct protocol *)model_alloc(proto_class);
	p->obj.flags |= O_IMMORTAL | O_PROTOCOL | O_INIT;
	p->name = name;
	for (size_t i = 0; methods[i].sel && i < 7; i++)
		p->methods[i] = methods[i];
	protocols[nprotocols++] = p;
}

const char *model_protocol_types(const char *protocol, const char *sel)
{
	for (size_t i = 0; i < nprotocols; i++)
		if (!strcmp(protocols[i]->name, protocol))
			for (const struct mdef *m = protocols[i]->methods; m->sel; m++)
				if (!strcmp(m->sel, sel))
					return m->types;
	return NULL;
}

Protocol *objc_getProtocol(const char *name)
{
	for (size_t i = 0; name && i < nprotocols; i++)
		if (!strcmp(protocols[i]->name, name))
			return (Protocol *)protocols[i];
	return NULL;
}

/* ---------------------------------------------------------------- allocation and ownership */

static __thread Class cur_class;
static __thread SEL cur_sel;
static __thread bool cur_meta;

id model_alloc(Class cls)
{
	id o = calloc(1, cls->size);
	if (!o) {
		fprintf(stderr, "claw-model: out of memory\n");
		abort();
	}
	o->isa = cls;
	o->magic = OBJ_MAGIC;
	o->rc = 1;
	o->origin_class = cur_class;
	o->origin_sel = cur_sel;
	o->origin_meta = cur_meta;
	LOCK();
	registry_add(o);
	UNLOCK();
	return o;
}

id model_new(const char *class_name)
{
	Class c = model_class_named(class_name);
	if (!c) {
		fprintf(stderr, "claw-model: internal: no class %s\n", class_name);
		abort();
	}
	id o = model_alloc(c);
	o->flags |= O_INIT;
	return o;
}

void model_mark_init(id o) { o->flags |= O_INIT; }

void model_immortal(id o)
{
	if (o)
		o->flags |= O_IMMORTAL;
}

void model_check_object(id o, const char *what)
{
	if (!o)
		return;
	LOCK();
	bool known = reg_has(o);
	bool zombie = known && (o->flags & O_ZOMBIE);
	UNLOCK();
	if (!known)
		model_violation("not-an-object", "%s: %p is not an object", what, (void *)o);
	if (zombie)
		model_violation("freed-object", "%s: the %s at %p was already freed", what, o->isa->name, (void *)o);
}

static void dealloc_object(id o)
{
	for (Class c = o->isa; c; c = c->super)
		if (c->dealloc)
			c->dealloc(o);
	o->flags |= O_ZOMBIE;
	model_trace("freed %s %p", o->isa->name, (void *)o);
}

id model_retain(id o)
{
	if (!o)
		return o;
	LOCK();
	if (!(o->flags & O_IMMORTAL))
		o->rc++;
	UNLOCK();
	return o;
}

void model_release(id o)
{
	if (!o)
		return;
	LOCK();
	if (o->flags & O_ZOMBIE) {
		UNLOCK();
		model_violation("freed-object", "-[%s release] sent to a freed object %p (released once too often)",
			o->isa->name, (void *)o);
	}
	if (o->flags & O_IMMORTAL) {
		UNLOCK();
		return;
	}
	if (--o->rc == 0)
		dealloc_object(o);
	UNLOCK();
}

id model_hold(id o)
{
	if (!o)
		return o;
	LOCK();
	if (!(o->flags & O_IMMORTAL)) {
		o->rc++;
		o->internal++;
	}
	UNLOCK();
	return o;
}

void model_drop(id o)
{
	if (!o)
		return;
	LOCK();
	if (!(o->flags & O_IMMORTAL))
		o->internal--;
	model_release(o);
	UNLOCK();
}

void model_set(id *slot, id value)
{
	model_hold(value);
	id old = *slot;
	*slot = value;
	model_drop(old);
}

/* ---------------------------------------------------------------- autorelease pools */

struct mark {
	size_t at;
	bool closed;
};

struct pool_stack {
	id *items;
	size_t n, cap;
	struct mark *marks;
	size_t nmarks, capm;
	unsigned long tid;
};

static __thread struct pool_stack *pools;
static unsigned long pool_threads;

static pthread_key_t pools_key;
static pthread_once_t pools_once = PTHREAD_ONCE_INIT;

/* A thread that ends drains what its pools still hold, as the real runtime does. */
static void pools_end(void *arg)
{
	struct pool_stack *p = arg;
	while (p->n > 0) {
		id o = p->items[--p->n];
		LOCK();
		o->pending--;
		UNLOCK();
		model_release(o);
	}
	free(p->items);
	free(p->marks);
	free(p);
	pools = NULL;
}

static void pools_key_make(void) { pthread_key_create(&pools_key, pools_end); }

static struct pool_stack *my_pools(void)
{
	if (!pools) {
		pthread_once(&pools_once, pools_key_make);
		pools = calloc(1, sizeof *pools);
		LOCK();
		pools->tid = ++pool_threads;
		UNLOCK();
		pthread_setspecific(pools_key, pools);
	}
	return pools;
}

void *model_pool_push(bool closed)
{
	struct pool_stack *p = my_pools();
	if (p->nmarks == p->capm) {
		p->capm = p->capm ? p->capm * 2 : 16;
		p->marks = realloc(p->marks, p->capm * sizeof *p->marks);
	}
	p->marks[p->nmarks++] = (struct mark){ p->n, closed };
	return (void *)(uintptr_t)((p->tid << 20) | p->nmarks);
}

void model_pool_seal(void)
{
	struct pool_stack *p = my_pools();
	if (p->nmarks)
		p->marks[p->nmarks - 1].closed = true;
}

void model_pool_pop(void *token)
{
	struct pool_stack *p = my_pools();
	uintptr_t t = (uintptr_t)token;
	size_t level = t & 0xfffff;
	if ((t >> 20) != p->tid)
		model_violation("autorelease-pool", "objc_autoreleasePoolPop with a pool pushed on another thread "
			"(or not a pool at all)");
	if (level == 0 || level > p->nmarks)
		model_violation("autorelease-pool", "objc_autoreleasePoolPop of a pool that was already popped");
	size_t from = p->marks[level - 1].at;
	p->nmarks = level - 1;
	/* Release what the pool holds, newest first; a dealloc may autorelease into an outer pool. */
	while (p->n > from) {
		id o = p->items[--p->n];
		LOCK();
		o->pending--;
		UNLOCK();
		model_release(o);
	}
}

void *objc_autoreleasePoolPush(void) { return model_pool_push(false); }
void objc_autoreleasePoolPop(void *pool) { model_pool_pop(pool); }

/* VZ-API §1: "Wrap main's setup code and every block / delegate callback body in push/pop." The
 * real runtime only logs an object "autoreleased with no pool in place - just leaking"; the model
 * stops there, and also when the only pool is the one the framework pushed around a callback. */
id model_autorelease(id o)
{
	if (!o || (o->flags & O_IMMORTAL))
		return o;
	struct pool_stack *p = my_pools();
	if (p->nmarks == 0)
		model_violation("autorelease-pool", "%s %p autoreleased with no pool in place (VZ-API §1: push a pool "
			"in main and in every block and callback)", o->isa->name, (void *)o);
	if (p->marks[p->nmarks - 1].closed)
		model_violation("autorelease-pool", "%s %p autoreleased in a completion handler or delegate callback "
			"without a pool of its own (VZ-API §1: wrap every block and callback body in "
			"objc_autoreleasePoolPush/Pop)", o->isa->name, (void *)o);
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->items = realloc(p->items, p->cap * sizeof *p->items);
	}
	p->items[p->n++] = o;
	LOCK();
	o->pending++;
	UNLOCK();
	return o;
}

/* ---------------------------------------------------------------- message lookup */

/* A message to nil does nothing and returns zero (Apple, "Sending Messages to nil"): the integer
 * and floating-point return registers are cleared, as objc_msgSend's nil path does on arm64. A
 * struct returned in memory is left as it was (arm64 does not zero those either); on x86-64 the
 * callee hands back the hidden result pointer, which arrives in rdi when there is one and is the
 * nil receiver (0) when there is not. */
void claw_model_nil_imp(void);
#if defined(__x86_64__)
__asm__(".text\n.globl claw_model_nil_imp\n.type claw_model_nil_imp,@function\n"
	"claw_model_nil_imp:\n\tmovq %rdi, %rax\n\txorl %edx, %edx\n\tpxor %xmm0, %xmm0\n"
	"\tpxor %xmm1, %xmm1\n\tret\n.size claw_model_nil_imp, .-claw_model_nil_imp\n");
#elif defined(__aarch64__)
__asm__(".text\n.globl claw_model_nil_imp\n.type claw_model_nil_imp,%function\n"
	"claw_model_nil_imp:\n\tmov x0, #0\n\tmov x1, #0\n\tmovi d0, #0\n\tmovi d1, #0\n"
	"\tmovi d2, #0\n\tmovi d3, #0\n\tret\n.size claw_model_nil_imp, .-claw_model_nil_imp\n");
#else
#error "the model's message-to-nil stub knows x86-64 and arm64"
#endif

/* One ObjC type encoding, reduced to what decides the calling convention and the meaning:
 * q/Q (64-bit integers) alike, i/I alike, # is an object, const and other qualifiers dropped. */
static const char *norm_type(const char *t, char *out, size_t outlen)
{
	while (*t && strchr("rnNoORVA", *t))
		t++;
	const char *tok = "?";
	char buf[64];
	switch (*t) {
	case 'q': case 'Q': case 'l': case 'L': tok = "q"; t++; break;
	case 'i': case 'I': tok = "i"; t++; break;
	case 's': case 'S': tok = "s"; t++; break;
	case 'c': tok = "c"; t++; break;
	case 'C': tok = "C"; t++; break;
	case 'B': tok = "B"; t++; break;
	case 'f': tok = "f"; t++; break;
	case 'd': tok = "d"; t++; break;
	case 'v': tok = "v"; t++; break;
	case ':': tok = ":"; t++; break;
	case '*': tok = "*"; t++; break;
	case '#': tok = "@"; t++; break;
	case '@':
		t++;
		if (*t == '?') {
			tok = "@?";
			t++;
		} else {
			tok = "@";
			if (*t == '"') {
				t = strchr(t + 1, '"');
				t = t ? t + 1 : "";
			}
		}
		break;
	case '^': {
		t++;
		while (*t && strchr("rnNoORVA", *t))
			t++;
		tok = *t == '@' ? "^@" : "^v";
		char skip[64];
		t = norm_type(t, skip, sizeof skip);
		break;
	}
	case '{': {
		const char *end = t + 1;
		size_t n = 0;
		while (*end && *end != '=' && *end != '}' && n < sizeof buf - 3)
			buf[n++] = *end++;
		buf[n] = 0;
		int depth = 0;
		for (; *t; t++) {
			if (*t == '{')
				depth++;
			else if (*t == '}' && --depth == 0) {
				t++;
				break;
			}
		}
		snprintf(out, outlen, "{%s}", buf);
		while (isdigit((unsigned char)*t))
			t++;
		return t;
	}
	default:
		if (*t)
			t++;
		break;
	}
	while (isdigit((unsigned char)*t))
		t++;
	snprintf(out, outlen, "%s", tok);
	return t;
}

/* The method's types as the prototype a C caller must use: return, then the arguments. */
static size_t method_prototype(const char *types, char list[][64], size_t max)
{
	size_t n = 0;
	const char *t = types;
	while (*t && n < max) {
		t = norm_type(t, list[n], sizeof list[n]);
		n++;
	}
	/* list[0] is the return type, list[1] self, list[2] _cmd. */
	if (n < 3)
		return 0;
	for (size_t i = 1; i + 2 < n; i++)
		memcpy(list[i], list[i + 2], sizeof list[i]);
	return n - 2;
}

bool model_types_match(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	char la[12][64], lb[12][64];
	size_t na = method_prototype(a, la, 12), nb = method_prototype(b, lb, 12);
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(la[i], lb[i]))
			return false;
	return true;
}

static const char *c_type(const char *enc)
{
	static const char *const names[][2] = { { "v", "void" }, { "B", "bool" }, { "c", "char" },
		{ "C", "unsigned char" }, { "s", "short" }, { "i", "int" }, { "q", "long" }, { "f", "float" },
		{ "d", "double" }, { "@", "id" }, { ":", "SEL" }, { "*", "const char *" }, { "^v", "void *" },
		{ "^@", "id *" }, { "@?", "a block" }, { "{NSOperatingSystemVersion}", "struct ns_os_version" } };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(enc, names[i][0]))
			return names[i][1];
	return enc[0] == '?' ? "a type the model does not know" : enc;
}

static void format_prototype(char *out, size_t len, char list[][64], size_t n)
{
	size_t used = (size_t)snprintf(out, len, "%s (*)(id, SEL", c_type(list[0]));
	for (size_t i = 1; i < n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, ", %s", c_type(list[i]));
	if (used < len)
		snprintf(out + used, len - used, ")");
}

static void check_prototype(id receiver, const struct method *m, const char *const *proto)
{
	if (!proto || !m->types || !*m->types)
		return;
	char want[12][64], got[12][64];
	size_t nwant = method_prototype(m->types, want, 12);
	size_t ngot = 0;
	while (proto[ngot] && ngot < 12) {
		snprintf(got[ngot], sizeof got[ngot], "%s", proto[ngot]);
		ngot++;
	}
	bool same = nwant == ngot;
	for (size_t i = 0; same && i < ngot; i++)
		same = !strcmp(want[i], got[i]);
	if (same)
		return;
	char w[400], g[400];
	format_prototype(w, sizeof w, want, nwant);
	format_prototype(g, sizeof g, got, ngot);
	model_violation("prototype", "%c[%s %s] is %s but was sent through %s (VZ-API §1: cast objc_msgSend to the "
		"exact prototype; long stands for any 64-bit integer)", (receiver->flags & O_CLASS) ? '+' : '-',
		model_class_name(receiver), m->sel->name, w, g);
}

/* NSObject's memory and identity messages are thread-safe and need no init (NSObject.h). */
static bool is_basic(SEL s)
{
	static const char *const basic[] = { "retain", "release", "autorelease", "retainCount", "class",
		"isKindOfClass:", "respondsToSelector:", "hash", "isEqual:", "description", "dealloc",
		"addObserver:forKeyPath:options:context:", "removeObserver:forKeyPath:", NULL };
	for (size_t i = 0; basic[i]; i++)
		if (!strcmp(s->name, basic[i]))
			return true;
	return false;
}

static bool is_init(SEL s) { return !strncmp(s->name, "init", 4) && !islower((unsigned char)s->name[4]); }

IMP claw_model_lookup(id receiver, SEL sel, const char *const *proto)
{
	if (!receiver) {
		model_trace("[nil %s]", model_sel_name(sel));
		return (IMP)claw_model_nil_imp;
	}
	LOCK();
	bool known = reg_has(receiver);
	UNLOCK();
	if (!known)
		model_violation("not-an-object", "[%p %s]: the receiver is not an object", (void *)receiver,
			model_sel_name(sel));
	bool meta = receiver->flags & O_CLASS;
	const char *cname = model_class_name(receiver);
	char kind = meta ? '+' : '-';
	if (receiver->flags & O_ZOMBIE)
		model_violation("freed-object", "%c[%s %s] sent to a freed object %p", kind, cname, sel->name,
			(void *)receiver);
	struct method *m;
	model_find(receiver, sel, &m);
	if (!m)
		model_violation("unrecognized-selector", "%c[%s %s]: unrecognized selector sent to %s %p (macOS %s %s)",
			kind, cname, sel->name, meta ? "class" : "instance", (void *)receiver, HOST.version,
			HOST.arm64 ? "arm64" : "x86_64");
	check_prototype(receiver, m, proto);
	if (!meta) {
		bool initialised = receiver->flags & O_INIT;
		if (!initialised && !is_basic(sel) && !is_init(sel))
			model_violation("uninitialized-object", "-[%s %s] sent to an object that no init… method has "
				"initialised (alloc, then the class's initializer)", cname, sel->name);
		if (initialised && is_init(sel) && !(receiver->isa->flags & C_CLIENT))
			model_violation("init-twice", "-[%s %s] sent to an object that is already initialised", cname,
				sel->name);
		Class c = receiver->isa;
		if (c->bound_queue && !is_basic(sel) && !(m->flags & M_ANYQ)) {
			dispatch_queue_t q = c->bound_queue(receiver);
			/* VZ-API §2: every property read and method call of a VZVirtualMachine, and of a
			 * VZMacOSInstaller built on it, runs on the machine's queue (initWithConfiguration:queue:). */
			if (q && model_current_queue() != q)
				model_violation("queue-affinity", "-[%s %s] called off the machine's queue '%s' (on %s) "
					"(VZ-API §2)", cname, sel->name, model_queue_label(q),
					model_current_queue() ? model_queue_label(model_current_queue()) : "a thread of no queue");
		}
	}
	model_trace("%c[%s %s] on %s", kind, cname, sel->name,
		model_current_queue() ? model_queue_label(model_current_queue()) : "no queue");
	cur_class = meta ? (Class)receiver : receiver->isa;
	cur_sel = sel;
	cur_meta = meta;
	return m->imp;
}

/* ---------------------------------------------------------------- the report at exit */

static int leak_lines;

static void leak_line(const char *line)
{
	char buf[600];
	snprintf(buf, sizeof buf, "claw-model: leak: %s", line);
	report_line(buf);
	leak_lines++;
}

static void rule_line(const char *line)
{
	char buf[1200];
	snprintf(buf, sizeof buf, "claw-model: %s", line);
	report_line(buf);
	leak_lines++;
}

static void object_leaks(void)
{
	for (size_t i = 0; i < all_n; i++) {
		id o = all[i];
		if (o->flags & (O_ZOMBIE | O_IMMORTAL | O_CLASS))
			continue;
		long mine = o->rc - o->internal - o->pending;
		if (mine <= 0)
			continue;
		char line[400];
		snprintf(line, sizeof line, "%s %p: %ld reference%s never released (made by %c[%s %s])", o->isa->name,
			(void *)o, mine, mine == 1 ? "" : "s", o->origin_meta ? '+' : '-',
			o->origin_class ? o->origin_class->name : "?", o->origin_sel ? o->origin_sel->name : "?");
		leak_line(line);
	}
}

static void at_exit(void)
{
	const char *mode = getenv("CLAW_MODEL_LEAKS");
	if (mode && !strcmp(mode, "off"))
		return;
	model_dispatch_quiesce(1000);
	LOCK();
	object_leaks();
	model_dispatch_leaks(leak_line);
	model_lock_leaks(rule_line);
	UNLOCK();
	if (leak_lines && !(mode && !strcmp(mode, "report"))) {
		fflush(NULL);
		_exit((int)env_long("CLAW_MODEL_LEAK_STATUS", 99));
	}
}

/* ---------------------------------------------------------------- the selector list, for the tests */

static void format_version(char *out, size_t len, int v)
{
	snprintf(out, len, "%d.%d", v / 100, v % 100);
}

static int count_colons(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == ':';
	return n;
}

/* Every method the model declares (not its overrides and internals), in vz-selectors.txt's form. */
void claw_model_dump_selectors(FILE *out);
void claw_model_dump_selectors(FILE *out)
{
	for (size_t i = 0; i < nclasses; i++) {
		Class c = classes[i];
		if (c->flags & C_CLIENT)
			continue;
		for (int meta = 0; meta < 2; meta++) {
			struct method *list = meta ? c->cm : c->im;
			size_t n = meta ? c->ncm : c->nim;
			for (size_t j = 0; j < n; j++) {
				if (list[j].flags & (M_OVERRIDE | M_INTERNAL))
					continue;
				char v[16];
				format_version(v, sizeof v, list[j].min);
				fprintf(out, "%s\t%c\t%s\t%d\t%s\n", c->name, meta ? '+' : '-', list[j].sel->name,
					count_colons(list[j].sel->name), v);
			}
		}
	}
	for (size_t i = 0; i < nprotocols; i++)
		for (const struct mdef *m = protocols[i]->methods; m->sel; m++) {
			char v[16];
			format_version(v, sizeof v, m->min);
			fprintf(out, "%s\t-\t%s\t%d\t%s\n", protocols[i]->name, m->sel, count_colons(m->sel), v);
		}
}

/* ---------------------------------------------------------------- start-up */

void model_host_init(void);
void model_dispatch_init(void);

__attribute__((constructor)) static void model_init(void)
{
	model_host_init();
	model_dispatch_init();
	foundation_classes();
	vz_config_classes();
	vz_vm_classes();
	vz_image_classes();
	atexit(at_exit);
}

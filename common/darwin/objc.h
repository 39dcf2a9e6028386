/* darwin/objc: the Objective-C runtime, dispatch and Blocks as plain C sees
 * them, and the one way claw sends a message.
 *
 * On macOS the system headers declare the runtime. Elsewhere (the compile
 * check `make check` runs on Linux) the few declarations claw uses are given
 * here with the same types, so the code is type-checked without an SDK.
 *
 * Every message goes through SENDn(RET, RECEIVER, "selector", T1, a1, ...):
 * objc_msgSend cast to the exact prototype of that call (VZ-API.md §1), with n
 * the number of arguments after the selector. tests/helpers/darwin-check.sh
 * reads these and checks every selector, and n, against vz-selectors.txt.
 * Built with -DCLAW_DARWIN_MODEL (Linux, clang -fblocks), the sends run against
 * tests/darwin-model, a model of the runtime, GCD, Foundation and VZ. */
#ifndef CLAW_DARWIN_OBJC_H
#define CLAW_DARWIN_OBJC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __APPLE__
#include <Block.h>
#include <dispatch/dispatch.h>
#include <objc/message.h>
#include <objc/runtime.h>
#include <sys/sysctl.h>
#else
typedef struct objc_object *id;
typedef struct objc_selector *SEL;
typedef struct objc_class *Class;
typedef struct objc_object Protocol;
typedef void (*IMP)(void);
#define nil ((id)0)
Class objc_getClass(const char *name);
SEL sel_registerName(const char *name);
void objc_msgSend(void);
Class objc_allocateClassPair(Class superclass, const char *name, size_t extra);
void objc_registerClassPair(Class cls);
bool class_addMethod(Class cls, SEL name, IMP imp, const char *types);
bool class_addProtocol(Class cls, Protocol *protocol);
bool class_respondsToSelector(Class cls, SEL sel);
Protocol *objc_getProtocol(const char *name);

typedef struct dispatch_queue_s *dispatch_queue_t;
typedef struct dispatch_queue_attr_s *dispatch_queue_attr_t;
typedef struct dispatch_semaphore_s *dispatch_semaphore_t;
typedef uint64_t dispatch_time_t;
typedef void (^dispatch_block_t)(void);
#define DISPATCH_QUEUE_SERIAL ((dispatch_queue_attr_t)0)
#define DISPATCH_TIME_NOW (0ull)
#define DISPATCH_TIME_FOREVER (~0ull)
#define NSEC_PER_MSEC 1000000ull
dispatch_queue_t dispatch_queue_create(const char *label, dispatch_queue_attr_t attr);
void dispatch_async(dispatch_queue_t queue, dispatch_block_t block);
void dispatch_sync(dispatch_queue_t queue, dispatch_block_t block);
dispatch_semaphore_t dispatch_semaphore_create(long value);
long dispatch_semaphore_wait(dispatch_semaphore_t dsema, dispatch_time_t timeout);
long dispatch_semaphore_signal(dispatch_semaphore_t dsema);
dispatch_time_t dispatch_time(dispatch_time_t when, int64_t delta);
void dispatch_release(void *object);

int sysctlbyname(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
#endif

/* Exported by libobjc, declared in no public header (VZ-API.md §1). */
void *objc_autoreleasePoolPush(void);
void objc_autoreleasePoolPop(void *pool);

/* A class by name; Nil when this macOS does not have it. */
#define CLASS(name) ((id)objc_getClass(name))

#ifdef CLAW_SELECTOR_CHECK /* darwin-check.sh preprocesses with this to read every send */
#define SEND0(R, o, s) claw_send_0(s, o)
#define SEND1(R, o, s, T1, a1) claw_send_1(s, o, a1)
#define SEND2(R, o, s, T1, a1, T2, a2) claw_send_2(s, o, a1, a2)
#define SEND3(R, o, s, T1, a1, T2, a2, T3, a3) claw_send_3(s, o, a1, a2, a3)
#define SEND4(R, o, s, T1, a1, T2, a2, T3, a3, T4, a4) claw_send_4(s, o, a1, a2, a3, a4)
#elif defined(CLAW_DARWIN_MODEL)
/* tests/darwin-model (its README): the model's runtime looks the method up, as the GNU runtime's
 * objc_msg_lookup does, and the call goes through the same typed prototype as on macOS. The
 * lookup is handed the prototype's types (return first) and aborts, naming the rule, on an
 * unrecognized selector or a prototype that does not match the method's declared types. The
 * receiver and selector are evaluated once; __COUNTER__ keeps nested sends' temporaries apart. */
IMP claw_model_lookup(id receiver, SEL sel, const char *const *prototype);
#define CLAW_MODEL_T(T) _Generic((__typeof__(T) *)0, \
	void *: "v", bool *: "B", char *: "c", signed char *: "c", unsigned char *: "C", short *: "s", \
	unsigned short *: "s", int *: "i", unsigned int *: "i", long *: "q", unsigned long *: "q", \
	long long *: "q", unsigned long long *: "q", float *: "f", double *: "d", id *: "@", \
	Class *: "@", dispatch_queue_t *: "@", SEL *: ":", char **: "*", const char **: "*", \
	void **: "^v", const void **: "^v", id **: "^@", const id **: "^@", \
	struct ns_os_version *: "{NSOperatingSystemVersion}", vz_error_block *: "@?", \
	vz_image_block *: "@?", dispatch_block_t *: "@?", default: "?")
#define CLAW_MODEL_P(...) ((const char *const[]){__VA_ARGS__, (const char *)0})
#define CLAW_MODEL_CAT_(a, b) a##b
#define CLAW_MODEL_CAT(a, b) CLAW_MODEL_CAT_(a, b)
#define CLAW_MODEL_O(n) CLAW_MODEL_CAT(claw_model_o_, n)
#define CLAW_MODEL_S(n) CLAW_MODEL_CAT(claw_model_s_, n)
#define CLAW_MODEL_SEND(n, R, o, s, FT, P, CALL) \
	({ \
		id CLAW_MODEL_O(n) = (id)(o); \
		SEL CLAW_MODEL_S(n) = sel_registerName(s); \
		((R(*) FT)claw_model_lookup(CLAW_MODEL_O(n), CLAW_MODEL_S(n), P)) CALL; \
	})
#define CLAW_MODEL_SEND0(n, R, o, s) \
	CLAW_MODEL_SEND(n, R, o, s, (id, SEL), CLAW_MODEL_P(CLAW_MODEL_T(R)), (CLAW_MODEL_O(n), CLAW_MODEL_S(n)))
#define CLAW_MODEL_SEND1(n, R, o, s, T1, a1) \
	CLAW_MODEL_SEND(n, R, o, s, (id, SEL, T1), CLAW_MODEL_P(CLAW_MODEL_T(R), CLAW_MODEL_T(T1)), \
		(CLAW_MODEL_O(n), CLAW_MODEL_S(n), (a1)))
#define CLAW_MODEL_SEND2(n, R, o, s, T1, a1, T2, a2) \
	CLAW_MODEL_SEND(n, R, o, s, (id, SEL, T1, T2), \
		CLAW_MODEL_P(CLAW_MODEL_T(R), CLAW_MODEL_T(T1), CLAW_MODEL_T(T2)), \
		(CLAW_MODEL_O(n), CLAW_MODEL_S(n), (a1), (a2)))
#define CLAW_MODEL_SEND3(n, R, o, s, T1, a1, T2, a2, T3, a3) \
	CLAW_MODEL_SEND(n, R, o, s, (id, SEL, T1, T2, T3), \
		CLAW_MODEL_P(CLAW_MODEL_T(R), CLAW_MODEL_T(T1), CLAW_MODEL_T(T2), CLAW_MODEL_T(T3)), \
		(CLAW_MODEL_O(n), CLAW_MODEL_S(n), (a1), (a2), (a3)))
#define CLAW_MODEL_SEND4(n, R, o, s, T1, a1, T2, a2, T3, a3, T4, a4) \
	CLAW_MODEL_SEND(n, R, o, s, (id, SEL, T1, T2, T3, T4), \
		CLAW_MODEL_P(CLAW_MODEL_T(R), CLAW_MODEL_T(T1), CLAW_MODEL_T(T2), CLAW_MODEL_T(T3), CLAW_MODEL_T(T4)), \
		(CLAW_MODEL_O(n), CLAW_MODEL_S(n), (a1), (a2), (a3), (a4)))
#define SEND0(R, o, s) CLAW_MODEL_SEND0(__COUNTER__, R, o, s)
#define SEND1(R, o, s, T1, a1) CLAW_MODEL_SEND1(__COUNTER__, R, o, s, T1, a1)
#define SEND2(R, o, s, T1, a1, T2, a2) CLAW_MODEL_SEND2(__COUNTER__, R, o, s, T1, a1, T2, a2)
#define SEND3(R, o, s, T1, a1, T2, a2, T3, a3) CLAW_MODEL_SEND3(__COUNTER__, R, o, s, T1, a1, T2, a2, T3, a3)
#define SEND4(R, o, s, T1, a1, T2, a2, T3, a3, T4, a4) \
	CLAW_MODEL_SEND4(__COUNTER__, R, o, s, T1, a1, T2, a2, T3, a3, T4, a4)
#else
#define SEND0(R, o, s) ((R(*)(id, SEL))objc_msgSend)((id)(o), sel_registerName(s))
#define SEND1(R, o, s, T1, a1) ((R(*)(id, SEL, T1))objc_msgSend)((id)(o), sel_registerName(s), (a1))
#define SEND2(R, o, s, T1, a1, T2, a2) \
	((R(*)(id, SEL, T1, T2))objc_msgSend)((id)(o), sel_registerName(s), (a1), (a2))
#define SEND3(R, o, s, T1, a1, T2, a2, T3, a3) \
	((R(*)(id, SEL, T1, T2, T3))objc_msgSend)((id)(o), sel_registerName(s), (a1), (a2), (a3))
#define SEND4(R, o, s, T1, a1, T2, a2, T3, a3, T4, a4) \
	((R(*)(id, SEL, T1, T2, T3, T4))objc_msgSend)((id)(o), sel_registerName(s), (a1), (a2), (a3), (a4))
#endif

/* Block types VZ's completion handlers take (typedefs: a comma in a macro argument splits it). */
typedef void (^vz_error_block)(id error);
typedef void (^vz_image_block)(id image, id error);

/* NSOperatingSystemVersion, returned by value. */
struct ns_os_version {
	long major, minor, patch;
};

#endif

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
 * reads these and checks every selector, and n, against vz-selectors.txt. */
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

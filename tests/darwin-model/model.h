/* darwin-model/model: the model's insides, shared by its files — objects and
 * classes, the rules and how a violation ends the process, the simulated host,
 * queues, timers and the helpers every class uses.
 *
 * The client sees none of this: it includes common/darwin/objc.h (built with
 * -DCLAW_DARWIN_MODEL) and talks to the model only through it. README.md in
 * this directory is the contract; the sources of each rule are named where the
 * rule is enforced. */
#ifndef CLAW_MODEL_H
#define CLAW_MODEL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "darwin/objc.h"
#include <Block.h>

/* ---- versions: major*100 + minor, as the selector list's MIN column (12.3 -> 1203) ---- */
#define V(maj, min) ((maj) * 100 + (min))

/* ---- objects ---- */
#define OBJ_MAGIC 0xc1a30b1eu

enum obj_flags {
	O_INIT = 1,      /* an init… has run */
	O_IMMORTAL = 2,  /* classes, singletons, constants: never freed, never leaked */
	O_ZOMBIE = 4,    /* freed: any message to it is a violation */
	O_CLASS = 8,     /* a class object */
	O_PROTOCOL = 16,
};

struct objc_object {
	Class isa;
	uint32_t magic;
	uint32_t flags;
	long rc;          /* retain count */
	long internal;    /* how many of those references other model objects hold */
	long pending;     /* how many sit in autorelease pools */
	unsigned long serial;
	Class origin_class; /* the message that made it, for the leak report */
	SEL origin_sel;
	bool origin_meta;
	struct kvo *kvo;
};

enum method_flags {
	M_ARM64 = 1,     /* declared only under #if defined(__arm64__) */
	M_ANYQ = 2,      /* a queue-bound object's method callable from any thread */
	M_OVERRIDE = 4,  /* redefines an inherited method: not a declaration of its own */
	M_INTERNAL = 8,  /* exists in the model only (not in vz-selectors.txt) */
};

struct method {
	SEL sel;
	IMP imp;
	const char *types; /* ObjC type encoding: return, self, _cmd, arguments */
	int min;
	unsigned flags;
};

enum class_flags {
	C_ARM64 = 1,     /* exported for arm64 only (Virtualization.tbd) */
	C_CLIENT = 2,    /* made by objc_allocateClassPair */
	C_REGISTERED = 4,
	C_NOINIT = 8,    /* init/new unavailable in the header */
	C_ABSTRACT = 16, /* never instantiated by clients */
};

struct objc_class {
	struct objc_object obj;
	const char *name;
	Class super;
	size_t size;
	void (*dealloc)(id self); /* frees what this class's part holds */
	dispatch_queue_t (*bound_queue)(id self); /* non-NULL: every method must run on this queue */
	struct method *im, *cm;
	size_t nim, ncm, capim, capcm;
	id protocols[8];
	size_t nprotocols;
	int min;
	unsigned flags;
};

struct mdef {
	const char *sel;
	const char *types;
	IMP imp;
	int min;
	unsigned flags;
};

#define MDEF_END { NULL, NULL, NULL, 0, 0 }
#define MD(sel, types, fn, min) { sel, types, (IMP)(fn), min, 0 }
#define MDF(sel, types, fn, min, flags) { sel, types, (IMP)(fn), min, flags }

Class model_class(const char *name, const char *super, size_t size, int min, unsigned flags,
	void (*dealloc)(id), const struct mdef *instance, const struct mdef *klass);
Class model_class_named(const char *name); /* whatever the host, NULL when not defined */
bool model_is_kind(id obj, const char *class_name);
const char *model_class_name(id obj);
id model_alloc(Class cls);        /* +1, not initialised */
id model_new(const char *class_name); /* +1 and initialised: the model's own objects */
void model_mark_init(id obj);
id model_retain(id obj);
void model_release(id obj);
id model_autorelease(id obj);
id model_hold(id obj);   /* a reference one model object keeps to another */
void model_drop(id obj); /* gives it back */
void model_set(id *slot, id value); /* hold value, drop the old one */
void model_immortal(id obj);
bool model_alive(id obj); /* a live model object (not freed, not a stray pointer) */
void model_check_object(id obj, const char *what); /* alive, or a violation */
IMP model_find(id receiver, SEL sel, struct method **m);
SEL model_sel(const char *name);
const char *model_sel_name(SEL sel);
void model_protocol(const char *name, const struct mdef *methods);
const char *model_protocol_types(const char *protocol, const char *sel);
bool model_types_match(const char *a, const char *b); /* two ObjC type encodings, as a C caller sees them */

/* ---- autorelease pools (per thread) ---- */
void *model_pool_push(bool closed);
void model_pool_seal(void); /* the top pool is the framework's, around a callback: the client's
			     * own autoreleases there are a violation (VZ-API §1) */
void model_pool_pop(void *token);

/* ---- violations and reports ---- */
_Noreturn void model_violation(const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void model_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void model_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the simulated host (host.c) ---- */
struct model_host {
	int macos;              /* V(15, 5) */
	int patch;
	char version[32];       /* "15.5" or "14.6.1" */
	char build[32];
	bool arm64;             /* the process's architecture */
	bool apple_silicon;     /* the machine's */
	long ncpu;
	uint64_t memsize;
	bool entitled, virtualization;
	char host_dir[1024];    /* shared between processes; "" = this process only */
	char host_id[64];
};
extern struct model_host HOST;
long env_long(const char *name, long fallback);
const char *env_str(const char *name, const char *fallback);
/* Cross-process slots for running macOS VMs (VZ-API §9 code 6, the limit of two). */
int host_slot_take(const char *machine_id, char *why, size_t whylen); /* fd >= 0, -1 full, -2 id in use */
void host_slot_give(int fd);

/* ---- dispatch extras (dispatch.c) ---- */
dispatch_queue_t model_current_queue(void);
dispatch_queue_t model_main_queue(void);
bool model_on_main_thread(void);
const char *model_queue_label(dispatch_queue_t q);
bool model_queue_is_serial(dispatch_queue_t q);
void model_queue_retain(dispatch_queue_t q, bool internal);
void model_queue_release(dispatch_queue_t q, bool internal);
/* Run blk on q after ms milliseconds (the block is copied). */
void model_after(dispatch_queue_t q, long ms, dispatch_block_t blk);
/* Run blk on a thread of its own after ms: "an arbitrary thread". */
void model_elsewhere(long ms, dispatch_block_t blk);
/* Service the main queue until deadline_ns (0 = forever). */
void model_run_main(uint64_t deadline_ns);
uint64_t model_now_ns(void);
void model_sleep_ms(long ms);
void model_dispatch_leaks(void (*report)(const char *line));
void model_dispatch_quiesce(long ms);

/* ---- Foundation helpers (foundation.c) ---- */
id ns_string(const char *utf8);       /* autoreleased */
id ns_string_owned(const char *utf8); /* +1 */
const char *ns_utf8(id string);       /* "" for nil */
id ns_number(long long v);            /* autoreleased */
id ns_array(const id *objects, size_t n); /* autoreleased */
size_t ns_array_count(id array);
id ns_array_at(id array, size_t i);
id ns_data(const void *bytes, size_t len); /* autoreleased */
const void *ns_data_bytes(id data, size_t *len);
id ns_dict_empty(void); /* autoreleased, mutable */
void ns_dict_set(id dict, id key, id value);
id ns_url_file(const char *path);    /* autoreleased */
const char *ns_url_path(id url);     /* the file path, NULL when not a file URL */
const char *ns_url_abs(id url);      /* absoluteString */
id ns_error_info(id error);          /* its userInfo, mutable */
long ns_error_code(id error);
const char *ns_error_string(id error, const char *key); /* a userInfo string, or NULL */
long ns_error_underlying_code(id error); /* NSUnderlyingError's code, or 0 */
id model_copy(id obj);               /* -copy: +1 */
bool ns_url_is_file(id url);
id ns_file_handle_for_fd(int fd);    /* +1, closeOnDealloc NO */
int ns_file_handle_fd(id handle);
id ns_progress_new(int64_t total);   /* +1 */
void ns_progress_set(id progress, int64_t completed);
void ns_progress_finish(id progress);
bool ns_progress_cancelled(id progress);
void ns_progress_on_cancel(id progress, dispatch_block_t blk); /* blk copied */
void ns_progress_started(id progress); /* cancelling it before this raises (VZ-API §8) */
/* NSError: domain, code, NSLocalizedFailure, NSLocalizedFailureReason, NSUnderlyingError. */
id ns_error(const char *domain, long code, const char *failure, const char *reason, id underlying);
id ns_error_posix(int err);
id ns_error_described(const char *domain, long code, const char *description);
/* *out = error, made only when the caller asked for it (out not NULL). */
#define ns_set_error(out, error) \
	do { \
		id *ns_set_error_out = (out); \
		if (ns_set_error_out) \
			*ns_set_error_out = (error); \
	} while (0)
/* KVO: tell observers of key on obj that it changed (value is the new value, an object). */
void kvo_changed(id obj, const char *key, id value);
bool kvo_observable(id obj, const char *key);

/* ---- VZ errors ---- */
#define VZ_DOMAIN "VZErrorDomain"
enum {
	VZ_INTERNAL = 1,
	VZ_INVALID_CONFIG = 2,
	VZ_INVALID_STATE = 3,
	VZ_INVALID_TRANSITION = 4,
	VZ_INVALID_DISK = 5,
	VZ_LIMIT = 6,
	VZ_NETWORK = 7,
	VZ_CANCELLED = 9,
	VZ_SAVE = 11,
	VZ_RESTORE = 12,
	VZ_CATALOG_LOAD = 10001,
	VZ_IMAGE_LOAD = 10004,
	VZ_INVALID_IMAGE = 10005,
	VZ_REQUIRES_UPDATE = 10006,
	VZ_INSTALL_FAILED = 10007,
	VZ_PROVISION_FULLNAME = 40001,
	VZ_PROVISION_USERNAME = 40002,
	VZ_PROVISION_PASSWORD = 40003,
};

/* ---- VZ internals shared between files ---- */
struct cfg_snap; /* what a VZVirtualMachine copies from its configuration (vz_config.c) */
struct cfg_snap *cfg_snapshot(id config);
void cfg_snap_free(struct cfg_snap *s);
const char *cfg_check(id config); /* NULL when valid, else VZ's reason */
const char *cfg_unsavable(id config); /* NULL when save/restore can work, else the reason */
bool cfg_save_validated(struct cfg_snap *s);
bool cfg_has_mac_platform(struct cfg_snap *s);
const char *snap_canon(struct cfg_snap *s);
const char *snap_guest_mounts(struct cfg_snap *s); /* "MOUNT\tPATH\tro|rw\n" each, or "" */
const char *snap_aux(struct cfg_snap *s);
const char *snap_disk(struct cfg_snap *s, size_t i, bool *ro); /* NULL past the last */
const char *snap_machine_id(struct cfg_snap *s);
uint64_t snap_memory(struct cfg_snap *s);
unsigned long snap_unsavable(struct cfg_snap *s, const char **reason);
id snap_console_handle(struct cfg_snap *s); /* an NSFileHandle the guest writes to, or nil */
const char *snap_console_file(struct cfg_snap *s, bool *append);
size_t snap_count(struct cfg_snap *s, int which);
enum { SNAP_NET, SNAP_BALLOON, SNAP_SOCKET, SNAP_SHARE, SNAP_CONSOLE, SNAP_GRAPHICS, SNAP_USB };

/* VZMacHardwareModel / VZMacMachineIdentifier data representations (vz_config.c). */
char *hw_model_data(int min_os, int platform); /* malloc'd */
bool hw_model_parse(const void *bytes, size_t len, int *min_os, int *platform);
id hw_model_new(const void *bytes, size_t len); /* +1 VZMacHardwareModel, or nil */

/* vz_vm.c, for the installer */
dispatch_queue_t vm_queue(id vm);
long vm_state(id vm);
void vm_set_state(id vm, long state);
struct cfg_snap *vm_snap(id vm);
bool vm_locks_take(id vm, id *error); /* flock aux and disks (VZ-API: "Failed to lock auxiliary storage.") */
void vm_locks_keep_for(id vm, long ms); /* release them after ms */
bool vm_slot_take(id vm, id *error);
void vm_slot_give(id vm);
void vm_installing(id vm, bool on);
enum {
	VM_STOPPED = 0,
	VM_RUNNING,
	VM_PAUSED,
	VM_ERROR,
	VM_STARTING,
	VM_PAUSING,
	VM_RESUMING,
	VM_STOPPING,
	VM_SAVING,
	VM_RESTORING
};

/* Each file's classes (called once, in order, from the runtime's constructor). */
void foundation_classes(void);
void vz_config_classes(void);
void vz_vm_classes(void);
void vz_image_classes(void);

/* Disk locks held after the process would have let them go (checked at exit). */
void model_lock_leaks(void (*report)(const char *line));

#endif

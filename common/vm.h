/* vm: the seam between claw-restore/claw-boot and a hypervisor — everything
 * they need from one, as blocking C calls and a queue of events (and claw-resolve,
 * which asks it which macOS this host can run).
 *
 * Three implementations, chosen at link time, never at run time:
 *   common/darwin/vz.c   Virtualization.framework (macOS 14+ on Apple Silicon)
 *   common/vm_none.c     every other host: each call fails with EX_UNAVAILABLE
 *   tests/fakes/vm_fake.c a scriptable fake for the tests (CLAW_FAKE_VM_*)
 * One machine per process. Errors go through fail(); the message is the
 * hypervisor's own where it gave one. */
#ifndef CLAW_VM_H
#define CLAW_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_NEEDS "needs macOS 14 or later on Apple Silicon (Virtualization.framework)"
#define VM_ROSETTA "this is an x86_64 build running under Rosetta, where Virtualization.framework runs no macOS guest; use an arm64 build (make builds one on a Mac)"
#define VM_LIMIT_MESSAGE "the host already runs 2 macOS VMs (Apple's limit); stop one first (claw stop NAME)"
#define VM_BLOB_MAX 4096 /* VZ's data representations are a few hundred bytes */

/* What a restore image says about itself and this host. */
struct vm_image {
	char version[32];   /* "15.2" or "15.2.1" */
	char build[32];
	bool supported;     /* some hardware model in it runs on this host */
	unsigned min_cpu;   /* valid when supported */
	uint64_t min_ram;
	unsigned char hw_model[VM_BLOB_MAX];
	size_t hw_model_len;
};

/* A machine's platform identity as VZ serialises it. */
struct vm_identity {
	unsigned char hw_model[VM_BLOB_MAX];
	size_t hw_model_len;
	unsigned char machine_id[VM_BLOB_MAX];
	size_t machine_id_len;
};

/* A host folder the guest sees: a macOS 13+ guest mounts it at
 * "/Volumes/My Shared Files/NAME" by itself (common/shares.h checks one before it gets here). */
struct vm_share {
	char *name;
	char *path; /* absolute */
	bool read_only;
};

/* Everything a machine is built from. */
struct vm_spec {
	const struct vm_identity *id;
	const char *aux;     /* auxiliary storage file */
	const char *disk;    /* the boot disk (RAW or ASIF) */
	const char *console; /* the serial console's output file, or NULL */
	const char *mac;     /* "ee:a7:85:09:92:39" */
	const char *os_version; /* the guest's macOS (config.json's os.version): from 14 on, a
				 * machine gets only devices whose state can be saved */
	unsigned cpu;        /* both as vm_fit left them */
	uint64_t ram;
	unsigned width, height, ppi;
	const struct vm_share *shares; /* one VirtioFS device with the macOS automount tag, or none */
	size_t nshares;
};

enum vm_event_kind {
	VM_EV_NONE = 0,        /* the wait timed out */
	VM_EV_INSTALLED,       /* the installer finished; ok says how */
	VM_EV_GUEST_STOPPED,   /* the guest shut itself down */
	VM_EV_STOPPED_ERROR,   /* the machine stopped because of an error */
};

struct vm_event {
	enum vm_event_kind kind;
	bool ok;
	char message[512]; /* the hypervisor's words when !ok */
};

struct vm;

/* This host's version, "14.6.1", for messages. */
const char *vm_host_version(void);
/* 0 when this host can run macOS guests; else fail(EX_UNAVAILABLE, VM_NEEDS). */
int vm_host_check(void);

/* The URL of the newest restore image this host can run, as Virtualization.framework's
 * VZMacOSRestoreImage.fetchLatestSupported names it (reading Apple's catalog, with a deadline);
 * EX_UNAVAILABLE where there is no such framework, EX_TEMPFAIL when it could not say. */
int vm_latest_supported(char *url, size_t size);
/* Read a local .ipsw's version, build and its requirements on this host. */
int vm_image_load(const char *ipsw, struct vm_image *out);
/* A new identity for the image's hardware model, creating the auxiliary storage at aux. */
int vm_identity_create(const struct vm_image *img, const char *aux, struct vm_identity *out);
/* A new machine identifier, the hardware model kept (clones). */
int vm_identity_renew(struct vm_identity *id);
/* Round and clamp a machine's cpu count and memory to what the hypervisor takes on this
 * host (memory in whole MiB; both within its minimum and maximum). */
void vm_fit(unsigned *cpu, uint64_t *ram);

/* Build and validate a machine (EX_CONFIG with the validation error). */
int vm_create(const struct vm_spec *spec, struct vm **out);
void vm_destroy(struct vm *vm);

/* Install from an IPSW: returns at once; VM_EV_INSTALLED says when it ends. */
int vm_install_begin(struct vm *vm, const char *ipsw);
double vm_install_progress(struct vm *vm); /* 0..1 */
void vm_install_cancel(struct vm *vm);

/* Start and wait until it runs (EX_UNAVAILABLE with VM_LIMIT_MESSAGE at the host's limit). */
int vm_start(struct vm *vm, bool recovery);
/* Ask the guest to shut down; VM_EV_GUEST_STOPPED follows if it does. */
int vm_request_stop(struct vm *vm);
/* Power off now, and wait until it is off; one whose guest has just shut down is off. */
int vm_force_stop(struct vm *vm);
int vm_pause(struct vm *vm);
/* 0 when vm_save can save this machine; else EX_UNAVAILABLE with the hypervisor's reason, so
 * that a suspend says so before it pauses anything. */
int vm_can_save(struct vm *vm);
int vm_resume(struct vm *vm);
/* Save a paused machine's state into a file (macOS 14+; EX_UNAVAILABLE, with the hypervisor's
 * reason, for a machine it cannot save). */
int vm_save(struct vm *vm, const char *path);
/* Restore a machine that has not run yet from a file; it ends paused. EX_DATAERR when the
 * file can never be restored into this machine (another host's, another configuration's, or
 * damaged: VZErrorRestore); any other error says nothing against the file. */
int vm_restore(struct vm *vm, const char *path);

/* The next event, waiting up to timeout_ms (VM_EV_NONE when none came). */
void vm_wait(struct vm *vm, int timeout_ms, struct vm_event *ev);

#endif

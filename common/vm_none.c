/* vm_none: the hypervisor seam on hosts without Virtualization.framework.
 * Every call says so plainly (EX_UNAVAILABLE); nothing is pretended. */
#include "vm.h"
#include "log.h"

#include <string.h>
#include <sys/utsname.h>

static int unavailable(void)
{
	return fail(EX_UNAVAILABLE, VM_NEEDS);
}

const char *vm_host_version(void)
{
	static struct utsname u;
	return uname(&u) == 0 ? u.release : "unknown";
}

int vm_host_check(void) { return unavailable(); }
int vm_latest_supported(char *url, size_t size) { (void)url, (void)size; return unavailable(); }
int vm_image_load(const char *ipsw, struct vm_image *out) { (void)ipsw, (void)out; return unavailable(); }
int vm_identity_create(const struct vm_image *img, const char *aux, struct vm_identity *out)
{
	(void)img, (void)aux, (void)out;
	return unavailable();
}
int vm_identity_renew(struct vm_identity *id) { (void)id; return unavailable(); }
void vm_fit(unsigned *cpu, uint64_t *ram) { (void)cpu, (void)ram; }
int vm_create(const struct vm_spec *spec, struct vm **out) { (void)spec, *out = NULL; return unavailable(); }
void vm_destroy(struct vm *vm) { (void)vm; }
int vm_install_begin(struct vm *vm, const char *ipsw) { (void)vm, (void)ipsw; return unavailable(); }
double vm_install_progress(struct vm *vm) { (void)vm; return 0; }
void vm_install_cancel(struct vm *vm) { (void)vm; }
int vm_start(struct vm *vm, bool recovery) { (void)vm, (void)recovery; return unavailable(); }
int vm_request_stop(struct vm *vm) { (void)vm; return unavailable(); }
int vm_force_stop(struct vm *vm) { (void)vm; return unavailable(); }
int vm_pause(struct vm *vm) { (void)vm; return unavailable(); }
int vm_resume(struct vm *vm) { (void)vm; return unavailable(); }
int vm_can_save(struct vm *vm) { (void)vm; return unavailable(); }
int vm_save(struct vm *vm, const char *path) { (void)vm, (void)path; return unavailable(); }
int vm_restore(struct vm *vm, const char *path) { (void)vm, (void)path; return unavailable(); }
void vm_wait(struct vm *vm, int timeout_ms, struct vm_event *ev)
{
	(void)vm, (void)timeout_ms;
	memset(ev, 0, sizeof *ev);
}

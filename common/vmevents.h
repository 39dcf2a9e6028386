/* vmevents: the small queue a hypervisor implementation posts its events into
 * (from whatever thread its callbacks run on) and vm_wait() takes them from. */
#ifndef CLAW_VMEVENTS_H
#define CLAW_VMEVENTS_H

#include "vm.h"

#include <pthread.h>

#define VM_EVENTS_MAX 16

struct vm_events {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vm_event q[VM_EVENTS_MAX];
	int head, n;
};

void vm_events_init(struct vm_events *e);
void vm_events_destroy(struct vm_events *e);
/* Safe from any thread; message may be NULL. When full, the oldest is dropped. */
void vm_events_post(struct vm_events *e, enum vm_event_kind kind, bool ok, const char *message);
void vm_events_wait(struct vm_events *e, int timeout_ms, struct vm_event *ev);

#endif

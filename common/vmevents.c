/* vmevents: a bounded FIFO under a mutex, with a timed wait. */
#include "vmevents.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void vm_events_init(struct vm_events *e)
{
	memset(e, 0, sizeof *e);
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
}

void vm_events_destroy(struct vm_events *e)
{
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
}

void vm_events_post(struct vm_events *e, enum vm_event_kind kind, bool ok, const char *message)
{
	pthread_mutex_lock(&e->mu);
	if (e->n == VM_EVENTS_MAX) {
		e->head = (e->head + 1) % VM_EVENTS_MAX;
		e->n--;
	}
	struct vm_event *ev = &e->q[(e->head + e->n) % VM_EVENTS_MAX];
	ev->kind = kind;
	ev->ok = ok;
	snprintf(ev->message, sizeof ev->message, "%s", message ? message : "");
	e->n++;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

/* CLOCK_REALTIME because macOS has no pthread_condattr_setclock. */
static struct timespec deadline_after(int ms)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

void vm_events_wait(struct vm_events *e, int timeout_ms, struct vm_event *ev)
{
	struct timespec until = deadline_after(timeout_ms);
	memset(ev, 0, sizeof *ev);
	pthread_mutex_lock(&e->mu);
	while (e->n == 0) {
		int r = pthread_cond_timedwait(&e->cv, &e->mu, &until);
		if (r == ETIMEDOUT)
			break;
	}
	if (e->n > 0) {
		*ev = e->q[e->head];
		e->head = (e->head + 1) % VM_EVENTS_MAX;
		e->n--;
	}
	pthread_mutex_unlock(&e->mu);
}

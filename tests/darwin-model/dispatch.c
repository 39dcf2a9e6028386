/* darwin-model/dispatch: the part of GCD claw uses — serial queues (a thread
 * each), the main queue (serviced by dispatch_main or NSRunLoop on the main
 * thread), dispatch_sync/async, semaphores, dispatch_time, dispatch_release —
 * and what the rest of the model needs from it: which queue a thread is running,
 * timers that deliver on a queue, work on "an arbitrary thread", and the
 * client's unreleased queues and semaphores for the report at exit.
 *
 * Sources: dispatch/queue.h ("dispatch_sync ... on the current queue ... will
 * result in deadlock"), dispatch/semaphore.h, libdispatch semaphore.c
 * (_dispatch_semaphore_dispose: "Semaphore object deallocated while in use"),
 * dispatch/object.h (objects are retained while blocks are pending), VZ-API.md §2. */
#include "model.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { D_QUEUE = 0x51, D_SEMAPHORE = 0x53 };

struct dobj {
	int kind;
	long rc, internal;
	bool dead;
	unsigned long serial;
	struct dobj *next;
};

struct job {
	dispatch_block_t blk;
	bool sync, done;
	struct job *next;
};

struct dispatch_queue_s {
	struct dobj d;
	char label[64];
	bool serial, main, started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	pthread_t thread;
};

struct dispatch_semaphore_s {
	struct dobj d;
	long value, orig;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static pthread_mutex_t all_mu = PTHREAD_MUTEX_INITIALIZER;
static struct dobj *all_objects;
static unsigned long dserials;
static __thread dispatch_queue_t current;
static pthread_t main_thread;
static struct dispatch_queue_s main_q;

static void cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

uint64_t model_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct timespec abs_ts(uint64_t ns)
{
	return (struct timespec){ (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
}

void model_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void track(struct dobj *d, int kind)
{
	d->kind = kind;
	d->rc = 1;
	pthread_mutex_lock(&all_mu);
	d->serial = ++dserials;
	d->next = all_objects;
	all_objects = d;
	pthread_mutex_unlock(&all_mu);
}

static bool known(const void *p)
{
	pthread_mutex_lock(&all_mu);
	struct dobj *d = all_objects;
	while (d && d != p)
		d = d->next;
	pthread_mutex_unlock(&all_mu);
	return d != NULL || p == &main_q;
}

void model_dispatch_init(void);
void model_dispatch_init(void)
{
	main_thread = pthread_self();
	main_q.d.kind = D_QUEUE;
	main_q.d.rc = 1;
	main_q.serial = main_q.main = true;
	snprintf(main_q.label, sizeof main_q.label, "com.apple.main-thread");
	pthread_mutex_init(&main_q.mu, NULL);
	cond_init_monotonic(&main_q.cv);
}

dispatch_queue_t model_main_queue(void) { return &main_q; }
bool model_on_main_thread(void) { return pthread_equal(pthread_self(), main_thread); }

/* The main thread always belongs to the main queue (dispatch_assert_queue(main) holds there). */
dispatch_queue_t model_current_queue(void)
{
	if (current)
		return current;
	return model_on_main_thread() ? &main_q : NULL;
}

const char *model_queue_label(dispatch_queue_t q) { return q ? q->label : "(none)"; }
bool model_queue_is_serial(dispatch_queue_t q) { return q && q->serial; }

static void check_queue(dispatch_queue_t q, const char *what)
{
	if (!q)
		model_violation("invalid-argument", "%s with a NULL queue", what);
	if (!known(q) || q->d.kind != D_QUEUE)
		model_violation("invalid-argument", "%s: %p is not a dispatch queue", what, (void *)q);
	if (q->d.dead)
		model_violation("freed-object", "%s: the queue '%s' was already released", what, q->label);
}

/* ---------------------------------------------------------------- queues */

/* Blocks running now on the model's threads (queues, "another thread"), and whether this
 * thread runs one: the exit's leak report waits for those in flight (run_block). */
static atomic_int blocks_running;
static _Thread_local bool in_block;

static void run_block(dispatch_block_t blk)
{
	atomic_fetch_add(&blocks_running, 1);
	in_block = true;
	blk();
	in_block = false;
	atomic_fetch_sub(&blocks_running, 1);
}

/* A completion handler that has woken its waiter may still be letting go of what it held when
 * the process exits (as it may on a Mac, where nothing is reported): what a block still
 * running holds is not a leak, as what sits in a pool never popped is not. Wait, up to ms,
 * for the blocks in flight, but for the one this thread may be running. */
void model_dispatch_quiesce(long ms)
{
	uint64_t until = model_now_ns() + (uint64_t)ms * 1000000ull;
	while (atomic_load(&blocks_running) > (in_block ? 1 : 0) && model_now_ns() < until)
		model_sleep_ms(1);
}

static void *worker(void *arg)
{
	dispatch_queue_t q = arg;
	current = q;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->head && q->d.rc > 0)
			pthread_cond_wait(&q->cv, &q->mu);
		if (!q->head)
			break; /* released, and nothing left to run */
		struct job *j = q->head;
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->mu);
		run_block(j->blk);
		pthread_mutex_lock(&q->mu);
		if (j->sync) {
			j->done = true;
			pthread_cond_broadcast(&q->cv);
		} else {
			Block_release(j->blk);
			free(j);
		}
	}
	q->d.dead = true;
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

dispatch_queue_t dispatch_queue_create(const char *label, dispatch_queue_attr_t attr)
{
	dispatch_queue_t q = calloc(1, sizeof *q);
	snprintf(q->label, sizeof q->label, "%s", label ? label : "");
	q->serial = attr == DISPATCH_QUEUE_SERIAL;
	pthread_mutex_init(&q->mu, NULL);
	cond_init_monotonic(&q->cv);
	track(&q->d, D_QUEUE);
	model_trace("dispatch_queue_create(\"%s\")", q->label);
	return q;
}

static void enqueue(dispatch_queue_t q, struct job *j)
{
	pthread_mutex_lock(&q->mu);
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	if (!q->main && !q->started) {
		q->started = true;
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&q->thread, &a, worker, q)) {
			fprintf(stderr, "claw-model: cannot start a thread for queue '%s'\n", q->label);
			abort();
		}
		pthread_attr_destroy(&a);
	}
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void dispatch_async(dispatch_queue_t q, dispatch_block_t blk)
{
	check_queue(q, "dispatch_async");
	if (!blk)
		model_violation("invalid-argument", "dispatch_async with a NULL block");
	struct job *j = calloc(1, sizeof *j);
	j->blk = Block_copy(blk);
	enqueue(q, j);
}

/* dispatch/queue.h: "Calls to dispatch_sync() targeting the current queue will result in
 * deadlock." VZ-API §2: "Never dispatch_sync onto q from code already running on q ... this
 * includes completion handlers." The real process hangs; the model names it. */
void dispatch_sync(dispatch_queue_t q, dispatch_block_t blk)
{
	check_queue(q, "dispatch_sync");
	if (!blk)
		model_violation("invalid-argument", "dispatch_sync with a NULL block");
	if (model_current_queue() == q)
		model_violation("dispatch-sync-deadlock", "dispatch_sync onto queue '%s' from a block running on it "
			"deadlocks (dispatch/queue.h; VZ-API §2)", q->label);
	struct job j = { blk, true, false, NULL };
	enqueue(q, &j);
	pthread_mutex_lock(&q->mu);
	while (!j.done)
		pthread_cond_wait(&q->cv, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

void model_run_main(uint64_t deadline)
{
	if (!model_on_main_thread())
		model_violation("main-thread", "the main queue is serviced only on the main thread");
	dispatch_queue_t q = &main_q;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->head) {
			if (!deadline)
				pthread_cond_wait(&q->cv, &q->mu);
			else {
				struct timespec ts = abs_ts(deadline);
				if (pthread_cond_timedwait(&q->cv, &q->mu, &ts) == ETIMEDOUT && !q->head) {
					pthread_mutex_unlock(&q->mu);
					return;
				}
			}
		}
		struct job *j = q->head;
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->mu);
		run_block(j->blk);
		pthread_mutex_lock(&q->mu);
		if (j->sync) {
			j->done = true;
			pthread_cond_broadcast(&q->cv);
		} else {
			Block_release(j->blk);
			free(j);
		}
		if (deadline && model_now_ns() >= deadline)
			break;
	}
	pthread_mutex_unlock(&q->mu);
}

/* Not in objc.h's list (claw does not use it); a test client may. */
_Noreturn void dispatch_main(void);
void dispatch_main(void)
{
	model_run_main(0);
	abort();
}

void model_queue_retain(dispatch_queue_t q, bool internal)
{
	if (!q || q->main)
		return;
	pthread_mutex_lock(&q->mu);
	q->d.rc++;
	if (internal)
		q->d.internal++;
	pthread_mutex_unlock(&q->mu);
}

void model_queue_release(dispatch_queue_t q, bool internal)
{
	if (!q || q->main)
		return;
	pthread_mutex_lock(&q->mu);
	if (q->d.rc <= 0 || q->d.dead) {
		pthread_mutex_unlock(&q->mu);
		model_violation("freed-object", "dispatch_release of queue '%s', already released", q->label);
	}
	if (internal)
		q->d.internal--;
	if (--q->d.rc == 0) {
		if (!q->started)
			q->d.dead = true;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
}

/* ---------------------------------------------------------------- semaphores and time */

dispatch_semaphore_t dispatch_semaphore_create(long value)
{
	if (value < 0)
		return NULL;
	dispatch_semaphore_t s = calloc(1, sizeof *s);
	s->value = s->orig = value;
	pthread_mutex_init(&s->mu, NULL);
	cond_init_monotonic(&s->cv);
	track(&s->d, D_SEMAPHORE);
	return s;
}

static void check_semaphore(dispatch_semaphore_t s, const char *what)
{
	if (!s || !known(s) || s->d.kind != D_SEMAPHORE)
		model_violation("invalid-argument", "%s: %p is not a dispatch semaphore", what, (void *)s);
	if (s->d.dead)
		model_violation("freed-object", "%s on a semaphore that was already released", what);
}

long dispatch_semaphore_wait(dispatch_semaphore_t s, dispatch_time_t timeout)
{
	check_semaphore(s, "dispatch_semaphore_wait");
	pthread_mutex_lock(&s->mu);
	long rc = 0;
	while (s->value <= 0) {
		if (timeout == DISPATCH_TIME_FOREVER)
			pthread_cond_wait(&s->cv, &s->mu);
		else {
			struct timespec ts = abs_ts(timeout);
			if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT && s->value <= 0) {
				rc = 49; /* KERN_OPERATION_TIMED_OUT */
				break;
			}
		}
	}
	if (!rc)
		s->value--;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

long dispatch_semaphore_signal(dispatch_semaphore_t s)
{
	check_semaphore(s, "dispatch_semaphore_signal");
	pthread_mutex_lock(&s->mu);
	s->value++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

dispatch_time_t dispatch_time(dispatch_time_t when, int64_t delta)
{
	if (when == DISPATCH_TIME_FOREVER)
		return DISPATCH_TIME_FOREVER;
	uint64_t base = when == DISPATCH_TIME_NOW ? model_now_ns() : when;
	if (delta < 0 && (uint64_t)-delta > base)
		return 1;
	uint64_t t = base + (uint64_t)delta;
	return t == DISPATCH_TIME_FOREVER ? t - 1 : t;
}

void dispatch_release(void *object)
{
	if (!object || !known(object))
		model_violation("invalid-argument", "dispatch_release(%p): not a dispatch object", object);
	struct dobj *d = object;
	if (d->kind == D_QUEUE) {
		model_queue_release(object, false);
		return;
	}
	dispatch_semaphore_t s = object;
	pthread_mutex_lock(&s->mu);
	if (d->dead || d->rc <= 0) {
		pthread_mutex_unlock(&s->mu);
		model_violation("freed-object", "dispatch_release of a semaphore already released");
	}
	if (--d->rc == 0) {
		d->dead = true;
		if (s->value < s->orig) {
			pthread_mutex_unlock(&s->mu);
			model_violation("semaphore-in-use", "dispatch_release of a semaphore whose value (%ld) is below "
				"the one it was created with (%ld): libdispatch crashes with \"Semaphore object deallocated "
				"while in use\"", s->value, s->orig);
		}
	}
	pthread_mutex_unlock(&s->mu);
}

void model_dispatch_leaks(void (*report)(const char *line))
{
	pthread_mutex_lock(&all_mu);
	for (struct dobj *d = all_objects; d; d = d->next) {
		long mine = d->rc - d->internal;
		if (d->dead || mine <= 0)
			continue;
		char line[200];
		if (d->kind == D_QUEUE)
			snprintf(line, sizeof line, "dispatch queue '%s': created and never released (dispatch_release)",
				((dispatch_queue_t)(void *)d)->label);
		else
			snprintf(line, sizeof line, "dispatch semaphore %p: created and never released (dispatch_release)",
				(void *)d);
		report(line);
	}
	pthread_mutex_unlock(&all_mu);
}

/* ---------------------------------------------------------------- timers */

struct timer {
	uint64_t due;
	dispatch_queue_t q;
	dispatch_block_t blk;
	struct timer *next;
};

static pthread_mutex_t timer_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cv;
static struct timer *timers;
static bool timer_started;

static void *timer_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&timer_mu);
	for (;;) {
		while (!timers)
			pthread_cond_wait(&timer_cv, &timer_mu);
		uint64_t now = model_now_ns();
		if (timers->due > now) {
			struct timespec ts = abs_ts(timers->due);
			pthread_cond_timedwait(&timer_cv, &timer_mu, &ts);
			continue;
		}
		struct timer *t = timers;
		timers = t->next;
		pthread_mutex_unlock(&timer_mu);
		dispatch_async(t->q, t->blk);
		Block_release(t->blk);
		model_queue_release(t->q, true);
		free(t);
		pthread_mutex_lock(&timer_mu);
	}
	return NULL;
}

void model_after(dispatch_queue_t q, long ms, dispatch_block_t blk)
{
	struct timer *t = calloc(1, sizeof *t);
	t->due = model_now_ns() + (uint64_t)ms * 1000000ull;
	t->q = q;
	t->blk = Block_copy(blk);
	model_queue_retain(q, true);
	pthread_mutex_lock(&timer_mu);
	if (!timer_started) {
		timer_started = true;
		cond_init_monotonic(&timer_cv);
		pthread_t th;
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		pthread_create(&th, &a, timer_thread, NULL);
		pthread_attr_destroy(&a);
	}
	struct timer **p = &timers;
	while (*p && (*p)->due <= t->due)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
	pthread_cond_broadcast(&timer_cv);
	pthread_mutex_unlock(&timer_mu);
}

struct elsewhere {
	long ms;
	dispatch_block_t blk;
};

static void *elsewhere_thread(void *arg)
{
	struct elsewhere *e = arg;
	if (e->ms > 0)
		model_sleep_ms(e->ms);
	run_block(e->blk);
	Block_release(e->blk);
	free(e);
	return NULL;
}

void model_elsewhere(long ms, dispatch_block_t blk)
{
	struct elsewhere *e = calloc(1, sizeof *e);
	e->ms = ms;
	e->blk = Block_copy(blk);
	pthread_t th;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &a, elsewhere_thread, e)) {
		fprintf(stderr, "claw-model: cannot start a thread\n");
		abort();
	}
	pthread_attr_destroy(&a);
}

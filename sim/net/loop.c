#include "net/loop.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/xalloc.h"

#define MAX_EVENTS 256

struct loop {
	int epfd;
	bool stopping;
	bool no_pwait2; /* epoll_pwait2 is not available */
	struct loop_timer **heap;
	size_t n_timers;
	size_t cap_timers;
	struct loop_hook *hooks;
	/* The batch being dispatched: an io removed during it (and perhaps
	 * freed by its owner) must not get the events still pending in it. */
	struct epoll_event *batch;
	int batch_next, batch_n;
};

struct loop *loop_new(void)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd == -1)
		return NULL;
	struct loop *l = xcalloc(1, sizeof *l);
	l->epfd = epfd;
	return l;
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	close(l->epfd);
	free(l->heap);
	free(l);
}

static int io_ctl(struct loop *l, int op, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};
	return epoll_ctl(l->epfd, op, io->fd, &ev);
}

int loop_io_add(struct loop *l, struct loop_io *io, uint32_t events)
{
	return io_ctl(l, EPOLL_CTL_ADD, io, events);
}

int loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	return io_ctl(l, EPOLL_CTL_MOD, io, events);
}

void loop_io_del(struct loop *l, struct loop_io *io)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	for (int i = l->batch_next; i < l->batch_n; i++)
		if (l->batch[i].data.ptr == io)
			l->batch[i].data.ptr = NULL;
}

/* --- timer heap: a binary min-heap of deadlines ------------------------ */

static void heap_place(struct loop *l, size_t i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->slot = i + 1;
}

static void heap_up(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (l->heap[parent]->deadline <= t->deadline)
			break;
		heap_place(l, i, l->heap[parent]);
		i = parent;
	}
	heap_place(l, i, t);
}

static void heap_down(struct loop *l, size_t i)
{
	struct loop_timer *t = l->heap[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= l->n_timers)
			break;
		if (child + 1 < l->n_timers
		    && l->heap[child + 1]->deadline < l->heap[child]->deadline)
			child++;
		if (t->deadline <= l->heap[child]->deadline)
			break;
		heap_place(l, i, l->heap[child]);
		i = child;
	}
	heap_place(l, i, t);
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	if (t->slot == 0)
		return;
	size_t i = t->slot - 1;
	t->slot = 0;
	struct loop_timer *last = l->heap[--l->n_timers];
	if (i == l->n_timers)
		return;
	heap_place(l, i, last);
	heap_down(l, i);
	heap_up(l, last->slot - 1);
}

void loop_timer_at(struct loop *l, struct loop_timer *t, uint64_t deadline)
{
	loop_timer_cancel(l, t);
	if (l->n_timers == l->cap_timers) {
		l->cap_timers = l->cap_timers ? l->cap_timers * 2 : 64;
		l->heap = xrealloc(l->heap, l->cap_timers * sizeof *l->heap);
	}
	t->deadline = deadline;
	heap_place(l, l->n_timers++, t);
	heap_up(l, l->n_timers - 1);
}

size_t loop_timer_count(const struct loop *l)
{
	return l->n_timers;
}

void loop_add_hook(struct loop *l, struct loop_hook *h)
{
	h->next = l->hooks;
	l->hooks = h;
}

void loop_remove_hook(struct loop *l, struct loop_hook *h)
{
	for (struct loop_hook **p = &l->hooks; *p; p = &(*p)->next) {
		if (*p == h) {
			*p = h->next;
			return;
		}
	}
}

/* Fire every timer whose deadline has passed. A callback may arm or cancel
 * timers, including itself, so the heap is re-read each round. */
static int fire_timers(struct loop *l)
{
	int fired = 0;
	uint64_t now = clock_mono_ns();
	while (l->n_timers > 0 && l->heap[0]->deadline <= now) {
		struct loop_timer *t = l->heap[0];
		loop_timer_cancel(l, t);
		t->on_fire(t);
		fired++;
	}
	return fired;
}

/* Until the first timer, at most max_wait ns; NULL: wait for ever. */
static struct timespec *wait_timeout(struct loop *l, struct timespec *ts, uint64_t max_wait)
{
	if (l->n_timers == 0 && max_wait == UINT64_MAX)
		return NULL;
	uint64_t wait = max_wait;
	if (l->n_timers > 0) {
		uint64_t now = clock_mono_ns();
		uint64_t due = l->heap[0]->deadline;
		if (due <= now)
			wait = 0;
		else if (due - now < wait)
			wait = due - now;
	}
	ts->tv_sec = (time_t)(wait / 1000000000ULL);
	ts->tv_nsec = (long)(wait % 1000000000ULL);
	return ts;
}

/* epoll_pwait2 (Linux 5.11) waits to the nanosecond. Where it is missing
 * — older kernels, and valgrind, which does not know the call — fall back
 * to epoll_wait, rounding the wait up to whole milliseconds so a timer is
 * never run early. */
static int wait_events(struct loop *l, struct epoll_event *events, int max,
		       const struct timespec *ts)
{
	if (!l->no_pwait2) {
		int n = epoll_pwait2(l->epfd, events, max, ts, NULL);
		if (n != -1 || errno != ENOSYS)
			return n;
		l->no_pwait2 = true;
	}
	int ms = -1;
	if (ts != NULL) {
		uint64_t ns = (uint64_t)ts->tv_sec * 1000000000ULL + (uint64_t)ts->tv_nsec;
		uint64_t up = (ns + 999999) / 1000000;
		ms = up > INT32_MAX ? INT32_MAX : (int)up;
	}
	return epoll_wait(l->epfd, events, max, ms);
}

int loop_run_once(struct loop *l, uint64_t max_wait_ns)
{
	struct epoll_event events[MAX_EVENTS];
	for (struct loop_hook *h = l->hooks; h; h = h->next)
		h->before_wait(h);
	struct timespec ts;
	int n = wait_events(l, events, MAX_EVENTS, wait_timeout(l, &ts, max_wait_ns));
	if (n == -1 && errno != EINTR)
		return -1;
	l->batch = events;
	l->batch_n = n > 0 ? n : 0;
	for (l->batch_next = 0; l->batch_next < l->batch_n;) {
		struct epoll_event *ev = &events[l->batch_next++];
		struct loop_io *io = ev->data.ptr;
		if (io != NULL) /* NULL: removed by an earlier handler */
			io->on_event(io, ev->events);
	}
	l->batch = NULL;
	l->batch_n = l->batch_next = 0;
	return (n > 0 ? n : 0) + fire_timers(l);
}

int loop_run(struct loop *l)
{
	l->stopping = false;
	while (!l->stopping)
		if (loop_run_once(l, UINT64_MAX) == -1)
			return -1;
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stopping = true;
}

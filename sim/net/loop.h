/* loop: one epoll event loop with a timer heap on the monotonic clock.
 *
 * One thread owns a loop, every socket registered in it and every timer:
 * nothing here locks. Timers are embedded in their owners (no allocation
 * per timer) and fire on absolute deadlines so periodic work (drips) does
 * not drift. epoll_pwait2 waits with nanosecond precision. */
#ifndef UPSIM_NET_LOOP_H
#define UPSIM_NET_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"

struct loop;

/* A file descriptor watched by the loop; embed it in its owner. */
struct loop_io {
	int fd;
	void (*on_event)(struct loop_io *io, uint32_t events);
};

/* A one-shot timer; embed it in its owner, zero it before first use. */
struct loop_timer {
	uint64_t deadline; /* CLOCK_MONOTONIC, ns */
	size_t slot;	   /* 1 + heap index; 0 when not armed */
	void (*on_fire)(struct loop_timer *t);
};

/* Called before every wait, so glue code can arm timers for libraries that
 * keep their own (MHD_get_timeout). */
struct loop_hook {
	void (*before_wait)(struct loop_hook *h);
	struct loop_hook *next;
};

/* New loop, or NULL with errno set. */
struct loop *loop_new(void);
/* Free a loop; every io must have been removed and timers cancelled. */
void loop_free(struct loop *l);

/* Watch io->fd for events (EPOLLIN, ...). Returns 0 or -1 with errno. */
int loop_io_add(struct loop *l, struct loop_io *io, uint32_t events);
int loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events);
/* Stop watching io->fd (call before closing it). Events of io that the
 * current dispatch round has not delivered yet are dropped, so its owner
 * may free it at once. */
void loop_io_del(struct loop *l, struct loop_io *io);

/* Arm t to fire at deadline (ns, clock_mono_ns's clock); re-arming moves it. */
void loop_timer_at(struct loop *l, struct loop_timer *t, uint64_t deadline);
/* Disarm t; harmless when not armed. */
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
static inline bool loop_timer_armed(const struct loop_timer *t)
{
	return t->slot != 0;
}
/* Number of armed timers. */
size_t loop_timer_count(const struct loop *l);

/* Add a hook run before every wait. The hook must outlive the loop run. */
void loop_add_hook(struct loop *l, struct loop_hook *h);

/* Remove a hook added with loop_add_hook; harmless when absent. */
void loop_remove_hook(struct loop *l, struct loop_hook *h);

/* Dispatch events and timers until loop_stop. Returns 0, or -1 when
 * waiting failed (errno set). */
int loop_run(struct loop *l);
/* Make loop_run return after the current dispatch round. */
void loop_stop(struct loop *l);

/* One round of loop_run for a caller that drives the loop itself (the
 * request fuzz target, which must see when the server has gone quiet):
 * the hooks, one wait of at most max_wait_ns (0 polls; UINT64_MAX waits
 * for the first event or timer), then the events and the due timers.
 * Returns how many events and timers were dispatched, or -1 when waiting
 * failed (errno set). Ignores loop_stop. */
int loop_run_once(struct loop *l, uint64_t max_wait_ns);

#endif

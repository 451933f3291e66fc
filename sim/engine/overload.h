/* overload: the state of an overload model — workers busy and a FIFO of
 * waiting requests. Pure bookkeeping: the caller holds requests and runs
 * their timers; this only says who is served, who waits and who is
 * turned away, so the queue logic is unit-tested without sockets.
 *
 * A request arrives: with a free worker it is served at once; else with
 * room in the queue it waits (latency then grows with load by itself);
 * else it is rejected (the scenario's when_full answers). When a worker
 * finishes, the oldest waiter takes it. */
#ifndef UPSIM_ENGINE_OVERLOAD_H
#define UPSIM_ENGINE_OVERLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Embedded in whatever waits (an exchange). */
struct overload_waiter {
	struct overload_waiter *prev, *next;
	bool queued;
};

struct overload {
	unsigned workers, queue;			      /* capacity */
	unsigned busy;					      /* workers serving now */
	size_t waiting;					      /* requests in the queue now */
	struct overload_waiter *head, *tail;		      /* oldest first */
	uint64_t served_at_once, served_after_wait, rejected; /* since reset */
	unsigned peak_busy;
	size_t peak_waiting;
};

enum overload_admit {
	OVERLOAD_SERVE = 1, /* a worker is the request's now */
	OVERLOAD_WAIT,	    /* queued: overload_done will hand it a worker */
	OVERLOAD_FULL,	    /* no worker, no room: answer when_full */
};

void overload_init(struct overload *o, unsigned workers, unsigned queue);

/* A request arrives (w is queued when OVERLOAD_WAIT). */
enum overload_admit overload_arrive(struct overload *o, struct overload_waiter *w);

/* A worker finished. Returns the waiter that now holds it (taken off the
 * queue), or NULL when none waited (the worker is free). */
struct overload_waiter *overload_done(struct overload *o);

/* A queued waiter gives up (its client left). */
void overload_leave(struct overload *o, struct overload_waiter *w);

/* Zero the counters (not the workers busy or the queue). */
void overload_reset_counters(struct overload *o);

/* What a request gives back when its exchange ends. */
enum overload_exit {
	OVERLOAD_EXIT_NONE = 0, /* it held nothing (no model, served, rejected) */
	OVERLOAD_EXIT_LEAVE,	/* queued: give up the place (overload_leave) */
	OVERLOAD_EXIT_DONE,	/* the worker is free now (overload_done) */
	OVERLOAD_EXIT_HOLD,	/* the client left before its service time was
					   over: the worker stays busy until service_end_ns,
					   as on a real server whose clients time out */
};

/* The plan for a request that ends at now_ns while queued or serving (a
 * worker held until service_end_ns). can_hold: a worker may outlive its
 * exchange (false while stopping: every worker is freed at once). */
enum overload_exit overload_exit_plan(bool queued, bool serving, bool can_hold, uint64_t now_ns,
				      uint64_t service_end_ns);

#endif

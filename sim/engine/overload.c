#include "engine/overload.h"

void overload_init(struct overload *o, unsigned workers, unsigned queue)
{
	*o = (struct overload){.workers = workers, .queue = queue};
}

static void push(struct overload *o, struct overload_waiter *w)
{
	w->prev = o->tail;
	w->next = NULL;
	if (o->tail)
		o->tail->next = w;
	else
		o->head = w;
	o->tail = w;
	w->queued = true;
	if (++o->waiting > o->peak_waiting)
		o->peak_waiting = o->waiting;
}

static void unlink_waiter(struct overload *o, struct overload_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		o->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		o->tail = w->prev;
	w->prev = w->next = NULL;
	w->queued = false;
	o->waiting--;
}

enum overload_admit overload_arrive(struct overload *o, struct overload_waiter *w)
{
	if (o->busy < o->workers) {
		if (++o->busy > o->peak_busy)
			o->peak_busy = o->busy;
		o->served_at_once++;
		return OVERLOAD_SERVE;
	}
	if (o->waiting < o->queue) {
		push(o, w);
		return OVERLOAD_WAIT;
	}
	o->rejected++;
	return OVERLOAD_FULL;
}

struct overload_waiter *overload_done(struct overload *o)
{
	struct overload_waiter *w = o->head;
	if (w == NULL) {
		if (o->busy > 0)
			o->busy--;
		return NULL;
	}
	unlink_waiter(o, w); /* the worker passes straight to it */
	o->served_after_wait++;
	return w;
}

void overload_leave(struct overload *o, struct overload_waiter *w)
{
	if (w->queued)
		unlink_waiter(o, w);
}

void overload_reset_counters(struct overload *o)
{
	o->served_at_once = o->served_after_wait = o->rejected = 0;
	o->peak_busy = o->busy;
	o->peak_waiting = o->waiting;
}

enum overload_exit overload_exit_plan(bool queued, bool serving, bool can_hold, uint64_t now_ns,
				      uint64_t service_end_ns)
{
	if (queued)
		return OVERLOAD_EXIT_LEAVE;
	if (!serving)
		return OVERLOAD_EXIT_NONE;
	if (!can_hold || now_ns >= service_end_ns)
		return OVERLOAD_EXIT_DONE;
	return OVERLOAD_EXIT_HOLD;
}

#include "net/admission.h"

#include <stdlib.h>

#include "base/clock.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "engine/behave.h"
#include "net/exchange.h"

/* The exchange holds a worker from now for its service time. Nothing is
 * suspended for one that is being dropped (its end passes the worker on). */
static void begin_service(struct exchange *ex)
{
	if (ex->load == LOAD_WAITING) {
		ex->waited = true;
		ex->waited_ns = clock_mono_ns() - ex->arrived_ns;
	}
	ex->load = LOAD_SERVING;
	ex->service_end_ns = clock_mono_ns() + ex->service_ns;
	if (!ex->drop && !ex->conn->env->stopping)
		conn_serve(ex->conn, ex->service_ns);
}

/* The worker is free: the oldest waiter takes it. */
static void end_service(struct exchange *ex)
{
	ex->load = LOAD_SERVED;
	struct overload_waiter *w = overload_done(ex->overload);
	if (w != NULL)
		begin_service(container_of(w, struct exchange, waiter));
}

/* No worker and no room: the scenario's when_full answers instead. */
static void reject(struct exchange *ex)
{
	const struct scenario *sc = ex->behave->scenario;
	ex->load = LOAD_REJECTED;
	scenario_resolve_with(scenario_defaults(sc, ex->phase), &ex->overload_model->when_full,
			      &ex->action);
	ex->delay_ns = behave_draw_us(&ex->behave->overload_rng, &ex->action.delay) * 1000;
}

/* May the exchange go on now? Under an overload model it first needs a
 * worker (at once, or after waiting in the queue) and keeps it for its
 * service time; the handler is called again when that is over. */
bool admission_admit(struct conn *c, struct exchange *ex)
{
	struct overload *o = ex->overload;
	switch (ex->load) {
	case LOAD_NONE:
		if (o->workers == 0)
			return true;
		ex->arrived_ns = clock_mono_ns();
		switch (overload_arrive(o, &ex->waiter)) {
		case OVERLOAD_SERVE: begin_service(ex); return false;
		case OVERLOAD_WAIT:
			ex->load = LOAD_WAITING;
			conn_queue(c);
			return false;
		case OVERLOAD_FULL: reject(ex); return true;
		}
		return true;
	case LOAD_SERVING:
		end_service(ex); /* resumed: the service time is over */
		return true;
	case LOAD_WAITING: return false;
	case LOAD_SERVED:
	case LOAD_REJECTED: break;
	}
	return true;
}

struct worker_hold {
	struct loop_timer timer;
	struct behave *behave; /* one reference: keeps overload alive */
	struct overload *overload;
	struct worker_holds *list;
	struct worker_hold *prev, *next;
};

static void unlink_hold(struct worker_hold *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		h->list->head = h->next;
	if (h->next)
		h->next->prev = h->prev;
	behave_unref(h->behave);
	free(h);
}

static void on_hold_done(struct loop_timer *t)
{
	struct worker_hold *h = container_of(t, struct worker_hold, timer);
	struct overload_waiter *w = overload_done(h->overload);
	if (w != NULL)
		begin_service(container_of(w, struct exchange, waiter));
	unlink_hold(h);
}

/* The client left while its request held a worker: the worker goes on
 * until the service time is over, so load keeps building as on a real
 * server whose clients time out. */
static void hold_worker(struct exchange *ex, struct worker_holds *list)
{
	struct worker_hold *h = xcalloc(1, sizeof *h);
	h->behave = behave_ref(ex->behave);
	h->overload = ex->overload;
	h->list = list;
	h->next = list->head;
	if (list->head)
		list->head->prev = h;
	list->head = h;
	h->timer.on_fire = on_hold_done;
	loop_timer_at(list->loop, &h->timer, ex->service_end_ns);
	ex->load = LOAD_SERVED;
}

void admission_holds_clear(struct worker_holds *list)
{
	while (list->head != NULL) {
		loop_timer_cancel(list->loop, &list->head->timer);
		unlink_hold(list->head);
	}
}

/* An exchange that ends early leaves its queue place; its worker is
 * freed now, or when its service time is over. */
void admission_leave(struct exchange *ex, struct worker_holds *holds, bool stopping)
{
	bool serving = ex->load == LOAD_SERVING;
	switch (overload_exit_plan(ex->load == LOAD_WAITING, serving, !stopping && holds != NULL,
				   serving ? clock_mono_ns() : 0, ex->service_end_ns)) {
	case OVERLOAD_EXIT_LEAVE: overload_leave(ex->overload, &ex->waiter); break;
	case OVERLOAD_EXIT_DONE: end_service(ex); break;
	case OVERLOAD_EXIT_HOLD: hold_worker(ex, holds); break;
	case OVERLOAD_EXIT_NONE: break;
	}
}

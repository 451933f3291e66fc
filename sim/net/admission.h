/* admission: the overload model applied to exchanges — a worker for each
 * request (at once, after waiting in the queue, or when_full instead),
 * held for its service time and then passed to the oldest waiter. A
 * worker whose client left stays busy until its service time is over. */
#ifndef UPSIM_NET_ADMISSION_H
#define UPSIM_NET_ADMISSION_H

#include <stdbool.h>

#include "net/conn.h"
#include "net/loop.h"

struct worker_hold;

/* Overload workers still busy after their client left; the server
 * clears them when it stops. */
struct worker_holds {
	struct loop *loop;
	struct worker_hold *head;
};

/* May ex go on now? false: it waits (queued, or serving its time) and
 * the handler is called again when it may. */
bool admission_admit(struct conn *c, struct exchange *ex);

/* ex ends: leave its queue place, or free its worker now or (when its
 * client left early) at the end of its service time. */
void admission_leave(struct exchange *ex, struct worker_holds *holds, bool stopping);

/* Cancel every hold (at shutdown). */
void admission_holds_clear(struct worker_holds *list);

#endif

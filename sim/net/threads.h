/* workers: the extra threads of --threads N, each running a loop of its
 * own. Thread 0 is the caller's (the control thread); workers 1..N-1 are
 * started here. Each loop gets an inbox so the control thread can steer it.
 *
 * Loops are created first and run only from workers_start, so the caller
 * can set up every worker's sockets and servers before any thread runs;
 * after workers_stop (which joins) it tears them down the same way. */
#ifndef UPSIM_NET_THREADS_H
#define UPSIM_NET_THREADS_H

#include <stddef.h>

#include "net/inbox.h"
#include "net/loop.h"

/* More threads than this is a typo, not a machine. */
#define WORKERS_MAX 64

struct workers;

/* n - 1 loops with their inboxes (n >= 1; n == 1 makes none). Returns
 * NULL with errno set. */
struct workers *workers_new(size_t n);
/* Start a thread per loop. Returns 0, or -1 with errno set (the threads
 * already started are stopped). */
int workers_start(struct workers *w);
/* Stop every loop and join its thread. Harmless when not started. */
void workers_stop(struct workers *w);
/* Free the loops and inboxes (after workers_stop). NULL accepted. */
void workers_free(struct workers *w);

/* Worker i's loop and inbox, 1 <= i < n. */
struct loop *workers_loop(const struct workers *w, size_t i);
struct inbox *workers_inbox(const struct workers *w, size_t i);

#endif

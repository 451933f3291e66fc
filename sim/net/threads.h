/* threads: the extra threads of --threads N, each running a loop of its
 * own. Thread 0 is the caller's (the control thread); threads 1..N-1 are
 * started here. Each loop gets an inbox so the control thread can steer it.
 *
 * Loops are created first and run only from threads_start, so the caller
 * can set up every thread's sockets and servers before any thread runs;
 * after threads_stop (which joins) it tears them down the same way. */
#ifndef UPSIM_NET_THREADS_H
#define UPSIM_NET_THREADS_H

#include <stddef.h>

#include "net/inbox.h"
#include "net/loop.h"

/* More threads than this is a typo, not a machine. */
#define THREADS_MAX 64

struct threads;

/* n - 1 loops with their inboxes (n >= 1; n == 1 makes none). Returns
 * NULL with errno set. */
struct threads *threads_new(size_t n);
/* Start a thread per loop. Returns 0, or -1 with errno set (the threads
 * already started are stopped). */
int threads_start(struct threads *w);
/* Stop every loop and join its thread. Harmless when not started. */
void threads_stop(struct threads *w);
/* Free the loops and inboxes (after threads_stop). NULL accepted. */
void threads_free(struct threads *w);

/* Thread i's loop and inbox, 1 <= i < n. */
struct loop *threads_loop(const struct threads *w, size_t i);
struct inbox *threads_inbox(const struct threads *w, size_t i);

#endif

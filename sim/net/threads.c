#include "net/threads.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"

struct worker {
	struct loop *loop;
	struct inbox *inbox;
	pthread_t thread;
	bool running;
};

struct threads {
	size_t n;	  /* threads, counting the caller's */
	struct worker *w; /* n entries; w[0] unused */
};

struct threads *threads_new(size_t n)
{
	struct threads *ws = xcalloc(1, sizeof *ws);
	ws->n = n;
	ws->w = xcalloc(n, sizeof *ws->w);
	for (size_t i = 1; i < n; i++) {
		ws->w[i].loop = loop_new();
		if (ws->w[i].loop == NULL || (ws->w[i].inbox = inbox_new(ws->w[i].loop)) == NULL) {
			int e = errno;
			threads_free(ws);
			errno = e;
			return NULL;
		}
	}
	return ws;
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	if (loop_run(w->loop) != 0)
		log_error("worker loop: %s", strerror(errno));
	return NULL;
}

int threads_start(struct threads *ws)
{
	for (size_t i = 1; i < ws->n; i++) {
		int rc = pthread_create(&ws->w[i].thread, NULL, run_worker, &ws->w[i]);
		if (rc != 0) {
			threads_stop(ws);
			errno = rc;
			return -1;
		}
		ws->w[i].running = true;
	}
	return 0;
}

static void stop_loop(void *loop)
{
	loop_stop(loop);
}

void threads_stop(struct threads *ws)
{
	if (ws == NULL)
		return;
	for (size_t i = 1; i < ws->n; i++) {
		struct worker *w = &ws->w[i];
		if (!w->running)
			continue;
		inbox_call(w->inbox, stop_loop, w->loop);
		pthread_join(w->thread, NULL);
		w->running = false;
	}
}

void threads_free(struct threads *ws)
{
	if (ws == NULL)
		return;
	for (size_t i = 1; i < ws->n; i++) {
		inbox_free(ws->w[i].inbox);
		loop_free(ws->w[i].loop);
	}
	free(ws->w);
	free(ws);
}

struct loop *threads_loop(const struct threads *ws, size_t i)
{
	return ws->w[i].loop;
}

struct inbox *threads_inbox(const struct threads *ws, size_t i)
{
	return ws->w[i].inbox;
}

#include "net/curl_loop.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"

/* Idle upstream connections kept for reuse (CURLMOPT_MAXCONNECTS). */
#define CURL_LOOP_MAX_IDLE 1024

/* One running transfer; its easy handle's CURLOPT_PRIVATE. */
struct xfer {
	CURL *easy;
	curl_loop_done_fn done;
	void *arg;
	struct xfer *prev, *next;
};

/* One socket libcurl asked us to watch; its multi_assign pointer. */
struct watch {
	struct loop_io io;
	struct curl_loop *cl;
};

struct curl_loop {
	struct loop *loop;
	const struct curl_lib *lib;
	CURLM *multi;
	struct loop_timer timer;
	struct xfer *xfers;
	unsigned running;
};

static void unlink_xfer(struct curl_loop *cl, struct xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		cl->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	cl->running--;
}

static void finished(struct curl_loop *cl)
{
	int left;
	CURLMsg *msg;
	while ((msg = cl->lib->multi_info_read(cl->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		struct xfer *x = NULL;
		cl->lib->easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		cl->lib->multi_remove_handle(cl->multi, easy); /* msg is gone now */
		if (x == NULL)
			continue;
		unlink_xfer(cl, x);
		curl_loop_done_fn done = x->done;
		void *arg = x->arg;
		free(x);
		done(arg, easy, result);
	}
}

static void act(struct curl_loop *cl, curl_socket_t fd, int mask)
{
	int running;
	cl->lib->multi_socket_action(cl->multi, fd, mask, &running);
	finished(cl);
}

static void on_socket_event(struct loop_io *io, uint32_t events)
{
	struct watch *w = container_of(io, struct watch, io);
	int mask = (events & EPOLLIN ? CURL_CSELECT_IN : 0)
		   | (events & EPOLLOUT ? CURL_CSELECT_OUT : 0)
		   | (events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
	act(w->cl, io->fd, mask); /* may free w */
}

static void on_timer(struct loop_timer *t)
{
	struct curl_loop *cl = container_of(t, struct curl_loop, timer);
	act(cl, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what, or stop watching it. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct curl_loop *cl = userp;
	struct watch *w = socketp;
	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (w != NULL) {
			loop_io_del(cl->loop, &w->io);
			cl->lib->multi_assign(cl->multi, s, NULL);
			free(w);
		}
		return 0;
	}
	uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0)
			  | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (w == NULL) {
		w = xcalloc(1, sizeof *w);
		w->cl = cl;
		w->io.fd = s;
		w->io.on_event = on_socket_event;
		cl->lib->multi_assign(cl->multi, s, w);
		if (loop_io_add(cl->loop, &w->io, events) != 0)
			log_warn("curl: cannot watch socket %d", s);
		return 0;
	}
	if (loop_io_mod(cl->loop, &w->io, events) != 0)
		log_warn("curl: cannot watch socket %d", s);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: call back in timeout_ms (-1: never). libcurl
 * must not be called from here: the loop fires the timer instead. */
static int on_timeout(CURLM *multi, long timeout_ms, void *userp)
{
	struct curl_loop *cl = userp;
	(void)multi;
	if (timeout_ms < 0)
		loop_timer_cancel(cl->loop, &cl->timer);
	else
		loop_timer_at(cl->loop, &cl->timer,
			      clock_mono_ns() + (uint64_t)timeout_ms * 1000000ULL);
	return 0;
}

struct curl_loop *curl_loop_new(struct loop *loop, const struct curl_lib *lib)
{
	struct curl_loop *cl = xcalloc(1, sizeof *cl);
	cl->loop = loop;
	cl->lib = lib;
	cl->timer.on_fire = on_timer;
	cl->multi = lib->multi_init();
	if (cl->multi == NULL) {
		log_error("curl: curl_multi_init failed");
		free(cl);
		return NULL;
	}
	lib->multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	lib->multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	lib->multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_timeout);
	lib->multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	/* The connection cache holds 4 per added transfer by default, so a
	 * burst that ends shrinks it and the next burst reconnects: under
	 * wrk at 100 connections a twentieth of upsim's time went to
	 * connect(). Keep as many idle upstream connections as a gateway
	 * may have requests in flight. */
	lib->multi_setopt(cl->multi, CURLMOPT_MAXCONNECTS, (long)CURL_LOOP_MAX_IDLE);
	return cl;
}

void curl_loop_free(struct curl_loop *cl)
{
	if (cl == NULL)
		return;
	while (cl->xfers != NULL) {
		struct xfer *x = cl->xfers;
		cl->xfers = x->next;
		cl->lib->multi_remove_handle(cl->multi, x->easy); /* sockets removed */
		cl->lib->easy_cleanup(x->easy);
		free(x);
	}
	cl->lib->multi_cleanup(cl->multi);
	loop_timer_cancel(cl->loop, &cl->timer);
	free(cl);
}

int curl_loop_add(struct curl_loop *cl, CURL *easy, curl_loop_done_fn done, void *arg)
{
	struct xfer *x = xcalloc(1, sizeof *x);
	*x = (struct xfer){.easy = easy, .done = done, .arg = arg, .next = cl->xfers};
	cl->lib->easy_setopt(easy, CURLOPT_PRIVATE, x);
	if (cl->lib->multi_add_handle(cl->multi, easy) != CURLM_OK) {
		free(x);
		return -1;
	}
	if (cl->xfers)
		cl->xfers->prev = x;
	cl->xfers = x;
	cl->running++;
	return 0;
}

void curl_loop_cancel(struct curl_loop *cl, CURL *easy)
{
	struct xfer *x = NULL;
	cl->lib->easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	cl->lib->multi_remove_handle(cl->multi, easy);
	cl->lib->easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	if (x != NULL) {
		unlink_xfer(cl, x);
		free(x);
	}
}

unsigned curl_loop_running(const struct curl_loop *cl)
{
	return cl->running;
}

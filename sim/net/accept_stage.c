#include "net/accept_stage.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "engine/accept_policy.h"
#include "scenario/model.h"

/* A socket closed at accept: FIN sent, its input drained until the peer
 * closes too, for at most this long. */
#define DRAIN_LIMIT_NS 10000000000ULL

enum held_kind {
	HELD_HANG,  /* never read; let go at the cap */
	HELD_DRAIN, /* FIN sent; read and discard until EOF */
	HELD_QUEUE, /* over the limit; served when a slot frees */
};

struct held {
	struct accept_stage *stage;
	enum held_kind kind;
	int fd;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct loop_io io;
	struct loop_timer timer;
	struct held *prev, *next;
};

struct accept_stage {
	struct loop *loop;
	struct server *server;
	struct listener *listener;
	uint64_t hang_cap_ns;
	struct held *held; /* newest first; the queue is served oldest first */
	struct held *oldest;
	unsigned hanging; /* HELD_HANG records: they count as connections */
	struct loop_hook hook;
	unsigned n_held;	/* held, queued or draining now */
	unsigned cap;		/* --max-connections: open and held together */
	uint64_t cap_logged_ns; /* when reaching it was last logged */
};

static void link_held(struct accept_stage *g, struct held *h)
{
	h->next = g->held;
	if (g->held)
		g->held->prev = h;
	else
		g->oldest = h;
	g->held = h;
	g->n_held++;
	if (h->kind == HELD_HANG)
		g->hanging++;
}

static void unlink_held(struct accept_stage *g, struct held *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		g->held = h->next;
	if (h->next)
		h->next->prev = h->prev;
	else
		g->oldest = h->prev;
	g->n_held--;
	if (h->kind == HELD_HANG)
		g->hanging--;
}

/* Forget h and return its socket, still open. */
static int take_fd(struct held *h)
{
	struct accept_stage *g = h->stage;
	int fd = h->fd;
	loop_timer_cancel(g->loop, &h->timer);
	loop_io_del(g->loop, &h->io);
	unlink_held(g, h);
	free(h);
	return fd;
}

static void release(struct held *h)
{
	close(take_fd(h));
}

static void drain(struct held *h)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(h->fd, buf, sizeof buf);
		if (n > 0)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		release(h); /* EOF or error: the peer is done */
		return;
	}
}

static void on_held_event(struct loop_io *io, uint32_t events)
{
	struct held *h = container_of(io, struct held, io);
	if (h->kind == HELD_DRAIN && (events & EPOLLIN)) {
		drain(h);
		return;
	}
	/* A held or queued peer went away: free its slot now. */
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		release(h);
}

/* The cap: a hung connection ends with a FIN, not with close(2) on unread
 * input (a RST), so it is shut and drained like an accept-stage close. */
static void on_held_timer(struct loop_timer *t)
{
	struct held *h = container_of(t, struct held, timer);
	struct accept_stage *g = h->stage;
	if (h->kind == HELD_DRAIN) {
		release(h);
		return;
	}
	if (h->kind == HELD_HANG)
		g->hanging--;
	h->kind = HELD_DRAIN;
	shutdown(h->fd, SHUT_WR);
	loop_io_mod(g->loop, &h->io, EPOLLRDHUP | EPOLLIN);
	loop_timer_at(g->loop, &h->timer, clock_mono_ns() + DRAIN_LIMIT_NS);
	drain(h);
}

static void hold(struct accept_stage *g, int fd, const struct sockaddr *sa, socklen_t len,
		 enum held_kind kind)
{
	struct held *h = xcalloc(1, sizeof *h);
	h->stage = g;
	h->kind = kind;
	h->fd = fd;
	memcpy(&h->addr, sa, len);
	h->addr_len = len;
	h->io.fd = fd;
	h->io.on_event = on_held_event;
	h->timer.on_fire = on_held_timer;
	/* Watch only for the peer leaving, so nothing is ever read — except
	 * when draining after our FIN. */
	uint32_t events = EPOLLRDHUP | (kind == HELD_DRAIN ? EPOLLIN : 0);
	if (loop_io_add(g->loop, &h->io, events) == -1) {
		log_warn("cannot watch held connection: %s", strerror(errno));
		close(fd);
		free(h);
		return;
	}
	link_held(g, h);
	/* Hung and queued sockets alike are let go at the hang cap. */
	loop_timer_at(g->loop, &h->timer,
		      clock_mono_ns() + (kind == HELD_DRAIN ? DRAIN_LIMIT_NS : g->hang_cap_ns));
}

/* The journal line of verdict v, in accept_policy's words. */
static void journal(struct accept_stage *g, enum accept_verdict v, enum outcome o)
{
	server_journal_connection(g->server, accept_policy_action_name(v), accept_policy_reason(v),
				  o);
}

/* A RST and nothing else: an abortive close. */
static void reset_now(struct accept_stage *g, int fd, enum accept_verdict v)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
	journal(g, v, OUTCOME_RST);
}

/* A FIN without reading: close(2) with unread input would send a RST
 * instead, so shut the write side and drain until the peer closes. */
static void close_now(struct accept_stage *g, int fd, const struct sockaddr *sa, socklen_t len,
		      enum accept_verdict v)
{
	shutdown(fd, SHUT_WR);
	hold(g, fd, sa, len, HELD_DRAIN);
	journal(g, v, OUTCOME_FIN);
}

static const struct conn_policy *policy(const struct accept_stage *g)
{
	return server_connection_policy(g->server);
}

static struct accept_counts counts(const struct accept_stage *g)
{
	return (struct accept_counts){
		.open = (unsigned)server_counters(g->server)->open,
		.hanging = g->hanging,
		.held = g->n_held,
		.cap = g->cap,
	};
}

/* The decision is engine/accept_policy's; this acts on it. Past
 * --max-connections the log says so at most once a second. */
void accept_stage_take(void *arg, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct accept_stage *g = arg;
	struct accept_counts n = counts(g);
	enum accept_verdict v = accept_policy_decide(policy(g), &n);
	switch (v) {
	case ACCEPT_VERDICT_CAPACITY: {
		uint64_t now = clock_mono_ns();
		if (accept_policy_cap_log_due(now, g->cap_logged_ns)) {
			log_warn("--max-connections %u reached: resetting new connections", g->cap);
			g->cap_logged_ns = now;
		}
		reset_now(g, fd, v);
		return;
	}
	case ACCEPT_VERDICT_RESET:
	case ACCEPT_VERDICT_OVER_RESET: reset_now(g, fd, v); return;
	case ACCEPT_VERDICT_CLOSE:
	case ACCEPT_VERDICT_OVER_CLOSE: close_now(g, fd, sa, len, v); return;
	case ACCEPT_VERDICT_HANG:
		hold(g, fd, sa, len, HELD_HANG);
		journal(g, v, OUTCOME_HUNG);
		return;
	case ACCEPT_VERDICT_OVER_QUEUE:
		hold(g, fd, sa, len, HELD_QUEUE);
		journal(g, v, OUTCOME_QUEUED);
		return;
	case ACCEPT_VERDICT_SERVE: break;
	}
	server_add_connection(g->server, fd, sa, len);
}

/* Serve queued connections, oldest first, while slots are free. */
static void serve_queue(struct accept_stage *g, const struct conn_policy *p)
{
	struct held *h = g->oldest;
	while (h != NULL) {
		struct accept_counts n = counts(g);
		if (!accept_policy_slot_free(p, &n))
			break;
		struct held *newer = h->prev;
		if (h->kind == HELD_QUEUE) {
			struct sockaddr_storage addr = h->addr;
			socklen_t len = h->addr_len;
			int fd = take_fd(h);
			server_add_connection(g->server, fd, (struct sockaddr *)&addr, len);
		}
		h = newer;
	}
}

/* Before each wait: apply the current policy (a reload may change it). */
static void before_wait(struct loop_hook *hook)
{
	struct accept_stage *g = container_of(hook, struct accept_stage, hook);
	const struct conn_policy *p = policy(g);
	if (g->listener != NULL) {
		listener_set_backlog(g->listener, accept_policy_backlog(p, SOMAXCONN));
		listener_set_accepting(g->listener, accept_policy_accepting(p));
	}
	if (g->n_held > 0)
		serve_queue(g, p);
}

struct accept_stage *accept_stage_new(struct loop *loop, struct server *server,
				      uint64_t hang_cap_ns, unsigned cap)
{
	struct accept_stage *g = xcalloc(1, sizeof *g);
	g->loop = loop;
	g->server = server;
	g->hang_cap_ns = hang_cap_ns;
	g->cap = cap;
	g->hook.before_wait = before_wait;
	loop_add_hook(loop, &g->hook);
	return g;
}

void accept_stage_attach(struct accept_stage *g, struct listener *li)
{
	g->listener = li;
}

void accept_stage_free(struct accept_stage *g)
{
	if (g == NULL)
		return;
	while (g->held != NULL)
		release(g->held);
	loop_remove_hook(g->loop, &g->hook);
	free(g);
}

unsigned accept_stage_held(const struct accept_stage *g)
{
	return g->n_held;
}

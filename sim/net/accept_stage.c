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
#include "engine/tls_hello.h"
#include "scenario/model.h"

/* A socket closed at accept: FIN sent, its input drained until the peer
 * closes too, for at most this long. */
#define DRAIN_LIMIT_NS 10000000000ULL

enum held_kind {
	HELD_HANG,  /* never read; let go at the cap */
	HELD_DRAIN, /* FIN sent; read and discard until EOF */
	HELD_QUEUE, /* over the limit; served when a slot frees */
	HELD_HELLO, /* a TLS fault: reading the ClientHello to answer it */
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
	/* HELD_HELLO: the fault, and the client's first record so far */
	enum tls_fault fault;
	unsigned char alert;
	unsigned char head[TLS_HELLO_HEADER];
	size_t got, need;
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

static void read_hello(struct held *h);

static void on_held_event(struct loop_io *io, uint32_t events)
{
	struct held *h = container_of(io, struct held, io);
	if (h->kind == HELD_DRAIN && (events & EPOLLIN)) {
		drain(h);
		return;
	}
	if (h->kind == HELD_HELLO && (events & EPOLLIN)) {
		read_hello(h);
		return;
	}
	/* A held or queued peer went away: free its slot now. */
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		release(h);
}

/* FIN now, then read and discard until the peer closes too: close(2)
 * with unread input would send a RST instead. */
static void shut_and_drain(struct held *h)
{
	struct accept_stage *g = h->stage;
	if (h->kind == HELD_HANG)
		g->hanging--;
	h->kind = HELD_DRAIN;
	shutdown(h->fd, SHUT_WR);
	loop_io_mod(g->loop, &h->io, EPOLLRDHUP | EPOLLIN);
	loop_timer_at(g->loop, &h->timer, clock_mono_ns() + DRAIN_LIMIT_NS);
	drain(h);
}

/* The cap: a hung connection ends with a FIN, not with close(2) on unread
 * input (a RST), so it is shut and drained like an accept-stage close. */
static void on_held_timer(struct loop_timer *t)
{
	struct held *h = container_of(t, struct held, timer);
	if (h->kind == HELD_DRAIN) {
		release(h);
		return;
	}
	shut_and_drain(h);
}

/* A RST and nothing else: an abortive close. */
static void abort_fd(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
}

/* The client's first record is in: answer as the fault says. The answer
 * is a handful of bytes on a fresh socket, so one send takes it all. */
static void answer_hello(struct held *h)
{
	struct accept_stage *g = h->stage;
	unsigned char alert[TLS_HELLO_ALERT_LEN];
	switch (h->fault) {
	case TLS_FAULT_HANDSHAKE_HANG:
		h->kind = HELD_HANG; /* now counted as a held connection */
		g->hanging++;
		loop_io_mod(g->loop, &h->io, EPOLLRDHUP);
		return;
	case TLS_FAULT_HANDSHAKE_RESET: abort_fd(take_fd(h)); return;
	case TLS_FAULT_ALERT:
	case TLS_FAULT_ALPN_MISMATCH:
		send(h->fd, alert, tls_hello_alert(h->alert, alert), MSG_NOSIGNAL);
		break;
	case TLS_FAULT_PLAINTEXT:
		send(h->fd, tls_hello_plaintext, strlen(tls_hello_plaintext), MSG_NOSIGNAL);
		break;
	case TLS_FAULT_NONE: break;
	}
	shut_and_drain(h);
}

/* Read the client's first TLS record, keeping its header; answer once it
 * is whole. */
static void read_hello(struct held *h)
{
	unsigned char buf[4096];
	for (;;) {
		size_t want = h->need ? h->need - h->got : sizeof buf;
		ssize_t n = read(h->fd, buf, want < sizeof buf ? want : sizeof buf);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			release(h); /* the client left before its hello was in */
			return;
		}
		for (ssize_t i = 0; i < n && h->got + (size_t)i < TLS_HELLO_HEADER; i++)
			h->head[h->got + (size_t)i] = buf[i];
		h->got += (size_t)n;
		if (h->need == 0)
			h->need = tls_hello_record_len(h->head, h->got < TLS_HELLO_HEADER
									? h->got
									: TLS_HELLO_HEADER);
		if (h->need != 0 && h->got >= h->need) {
			answer_hello(h);
			return;
		}
	}
}

static struct held *hold(struct accept_stage *g, int fd, const struct sockaddr *sa, socklen_t len,
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
	 * when draining after our FIN, or reading a ClientHello. */
	uint32_t events = EPOLLRDHUP | (kind == HELD_DRAIN || kind == HELD_HELLO ? EPOLLIN : 0);
	if (loop_io_add(g->loop, &h->io, events) == -1) {
		log_warn("cannot watch held connection: %s", strerror(errno));
		close(fd);
		free(h);
		return NULL;
	}
	link_held(g, h);
	/* Hung and queued sockets alike are let go at the hang cap. */
	loop_timer_at(g->loop, &h->timer,
		      clock_mono_ns() + (kind == HELD_DRAIN ? DRAIN_LIMIT_NS : g->hang_cap_ns));
	return h;
}

/* The journal line of verdict v, in accept_policy's words. */
static void journal(struct accept_stage *g, enum accept_verdict v, enum outcome o)
{
	server_journal_connection(g->server, accept_policy_action_name(v), accept_policy_reason(v),
				  o);
}

static void reset_now(struct accept_stage *g, int fd, enum accept_verdict v)
{
	abort_fd(fd);
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

/* A TLS handshake fault: read the ClientHello here, never in MHD. */
static void take_hello(struct accept_stage *g, int fd, const struct sockaddr *sa, socklen_t len,
		       const struct tls_policy *tls)
{
	struct held *h = hold(g, fd, sa, len, HELD_HELLO);
	if (h == NULL)
		return;
	h->fault = tls->fault;
	h->alert = tls->alert;
	server_journal_connection(g->server, tls_hello_fault_name(tls->fault), "tls",
				  tls_hello_outcome(tls->fault));
	read_hello(h); /* the hello may be in already */
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
	const struct tls_policy *tls = &policy(g)->tls;
	if (tls->fault != TLS_FAULT_NONE && server_speaks_tls(g->server)) {
		take_hello(g, fd, sa, len, tls);
		return;
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

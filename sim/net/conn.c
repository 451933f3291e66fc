#include "net/conn.h"

#include <errno.h>
#include <linux/sockios.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "net/exchange.h"
#include "net/tls_session.h"

/* How often a pending RST checks that the send queue has drained, and
 * how long it waits at most (a peer that stopped reading never drains). */
#define FLUSH_POLL_NS 1000000ULL
#define FLUSH_LIMIT_NS 5000000000ULL

static void on_timer(struct loop_timer *t);
static void on_gone(struct loop_timer *t);

/* The first word on how an exchange ended is the true one. */
static void settle(struct conn *c, enum outcome o)
{
	if (c->ex != NULL && c->ex->outcome == OUTCOME_NONE)
		c->ex->outcome = o;
}
static void on_socket(struct loop_io *io, uint32_t events);

struct conn *conn_new(const struct conn_env *env, struct MHD_Connection *mhd, int fd)
{
	struct conn *c = xcalloc(1, sizeof *c);
	c->env = env;
	c->mhd = mhd;
	c->fd = fd;
	c->io.fd = fd;
	c->io.on_event = on_socket;
	c->timer.on_fire = on_timer;
	c->gone.on_fire = on_gone;
	return c;
}

/* Watch the socket while MHD does not: for the peer leaving, and for room
 * to write when out is set. The first call adds it to the loop, edge-
 * triggered, and it stays there until the connection closes: a delay on
 * a kept-alive connection then costs no epoll_ctl of upsim's own. Edges
 * that come while MHD has the connection only mark peer_gone. */
static void watch(struct conn *c, bool out)
{
	uint32_t events = EPOLLRDHUP | EPOLLET | (out ? EPOLLOUT : 0);
	if (!c->watching) {
		if (loop_io_add(c->env->loop, &c->io, events) == 0) {
			c->watching = true;
			c->watch_out = out;
		} else {
			log_warn("cannot watch connection fd %d: %s", c->fd, strerror(errno));
		}
	} else if (out != c->watch_out) {
		loop_io_mod(c->env->loop, &c->io, events);
		c->watch_out = out;
	}
}

void conn_free(struct conn *c)
{
	loop_timer_cancel(c->env->loop, &c->timer);
	loop_timer_cancel(c->env->loop, &c->gone);
	if (c->watching)
		loop_io_del(c->env->loop, &c->io);
	free(c->target);
	free(c);
}

static void suspend(struct conn *c, enum conn_wait why)
{
	if (!c->suspended) {
		MHD_suspend_connection(c->mhd);
		c->suspended = true;
	}
	c->wait = why;
	watch(c, c->watch_out); /* a raw write waiting for room keeps EPOLLOUT */
	/* The edge came while MHD had the connection: act on it as soon as
	 * the caller has finished, as a fresh watch would have. */
	if (c->peer_gone)
		loop_timer_at(c->env->loop, &c->gone, clock_mono_ns());
}

static void resume(struct conn *c)
{
	loop_timer_cancel(c->env->loop, &c->timer);
	loop_timer_cancel(c->env->loop, &c->gone);
	if (c->watch_out)
		watch(c, false);
	c->wait = WAIT_NONE;
	if (c->suspended) {
		c->suspended = false;
		MHD_resume_connection(c->mhd);
		c->env->wake_mhd(c->env->wake_arg);
	}
}

void conn_drop(struct conn *c)
{
	if (c->ex)
		c->ex->drop = true;
	resume(c);
}

/* Our side of the connection is done: over TLS, close_notify first
 * (unless the policy wants bare closes), then the FIN. */
static void close_write(struct conn *c)
{
	if (c->tls != NULL && !c->tls_bare_close)
		tls_session_bye(c->tls);
	shutdown(c->fd, SHUT_WR);
}

void conn_response_closes(struct conn *c)
{
	/* MHD's close would send close_notify: a FIN first leaves it no way. */
	if (c->tls != NULL && c->tls_bare_close)
		shutdown(c->fd, SHUT_WR);
}

void conn_shed(struct conn *c, bool force)
{
	if (c->suspended) {
		settle(c, OUTCOME_HUNG);
		conn_drop(c);
	} else if (c->ex != NULL || force) {
		shutdown(c->fd, SHUT_RDWR); /* MHD reads the end and closes */
	} else if (c->wait != WAIT_IDLE_RESET && c->wait != WAIT_FLUSH_RESET) {
		loop_timer_cancel(c->env->loop, &c->timer);
		c->wait = WAIT_NONE;
		c->on_next = 0;
		close_write(c);
	}
}

void conn_reset_socket(int fd)
{
	/* Disconnecting a TCP socket makes Linux send a RST and nothing else;
	 * MHD's own close would put a FIN first. */
	struct sockaddr sa = {.sa_family = AF_UNSPEC};
	connect(fd, &sa, sizeof sa);
}

/* Fire c's timer ns from now. */
static void arm_in(struct conn *c, uint64_t ns)
{
	loop_timer_at(c->env->loop, &c->timer, clock_mono_ns() + ns);
}

void conn_tls_cork(struct conn *c)
{
	tls_session_cork(c->tls);
	c->tls_corked = true;
}

/* On a TLS connection libmicrohttpd 0.9.75 sets TCP_CORK with its first
 * response and never clears it (it pushes each response with
 * TCP_NODELAY, after its last send): bytes upsim writes later would wait
 * for a full segment or the kernel's 200 ms. Clearing it sticks, as MHD
 * believes the socket corked and does not set it again. */
static void tcp_uncork(struct conn *c)
{
	int off = 0;
	setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
}

/* Send what the cork holds; once all has gone, a wait for it ends. */
static void tls_flush(struct conn *c)
{
	if (!c->tcp_uncorked) {
		tcp_uncork(c); /* MHD has corked it by now, for this response */
		c->tcp_uncorked = true;
	}
	int done = tls_session_uncork(c->tls);
	if (done == 0) {
		log_debug("tls: fd %d: a corked response waits for room", c->fd);
		watch(c, true); /* on_socket calls again once writable */
		return;
	}
	c->tls_corked = false; /* sent, or the session is dead: MHD finds out */
	if (c->wait == WAIT_TLS_FLUSH)
		resume(c);
	else if (c->watch_out && c->wait != WAIT_WRITE)
		watch(c, false);
}

void conn_tls_uncork(struct conn *c)
{
	if (c->tls_corked)
		tls_flush(c);
}

bool conn_tls_unflushed(const struct conn *c)
{
	return c->tls_corked;
}

void conn_wait_tls_flush(struct conn *c)
{
	suspend(c, WAIT_TLS_FLUSH);
	arm_in(c, c->env->hang_cap_ns);
}

void conn_delay(struct conn *c, uint64_t delay_ns)
{
	suspend(c, WAIT_DELAY);
	arm_in(c, delay_ns);
}

void conn_queue(struct conn *c)
{
	suspend(c, WAIT_QUEUED);
	arm_in(c, c->env->hang_cap_ns);
}

void conn_serve(struct conn *c, uint64_t service_ns)
{
	suspend(c, WAIT_SERVICE);
	arm_in(c, service_ns);
}

void conn_wait_upstream(struct conn *c)
{
	suspend(c, WAIT_UPSTREAM);
}

void conn_upstream_done(struct conn *c)
{
	if (c->wait == WAIT_UPSTREAM)
		resume(c);
}

void conn_wait_stream(struct conn *c)
{
	suspend(c, WAIT_STREAM);
}

void conn_stream_more(struct conn *c)
{
	if (c->wait == WAIT_STREAM)
		resume(c);
}

void conn_wait_upload(struct conn *c)
{
	suspend(c, WAIT_UPLOAD);
}

void conn_upload_room(struct conn *c)
{
	if (c->wait == WAIT_UPLOAD)
		resume(c);
}

void conn_pause_read(struct conn *c, uint64_t deadline_ns)
{
	suspend(c, WAIT_READ);
	loop_timer_at(c->env->loop, &c->timer, deadline_ns);
}

/* Bytes queued in the kernel must reach the peer before a RST, which
 * would discard them: poll the send queue until it is empty. */
static void flush_then_reset(struct conn *c, enum conn_wait why)
{
	int queued = 0;
	uint64_t now = clock_mono_ns();
	c->wait = why;
	if (ioctl(c->fd, SIOCOUTQ, &queued) == 0 && queued > 0 && now < c->flush_deadline) {
		loop_timer_at(c->env->loop, &c->timer, now + FLUSH_POLL_NS);
		return;
	}
	conn_reset_socket(c->fd);
	if (why == WAIT_FLUSH_RESET)
		conn_drop(c);
	else
		c->wait = WAIT_NONE; /* MHD sees the dead socket and closes it */
}

/* Begin waiting for the send queue to drain, then RST. */
static void reset_after_flush(struct conn *c, enum conn_wait why)
{
	c->flush_deadline = clock_mono_ns() + FLUSH_LIMIT_NS;
	flush_then_reset(c, why);
}

static void hold(struct conn *c)
{
	settle(c, OUTCOME_HUNG);
	suspend(c, WAIT_HELD);
	arm_in(c, c->env->hang_cap_ns);
}

/* Nothing of ours is still in the kernel's send queue. */
static bool send_queue_empty(const struct conn *c)
{
	int queued = 0;
	return ioctl(c->fd, SIOCOUTQ, &queued) != 0 || queued == 0;
}

static void end_exchange(struct conn *c, enum ending how)
{
	switch (how) {
	case END_RESET:
		settle(c, OUTCOME_RST);
		if (send_queue_empty(c)) { /* the common case: RST at once */
			conn_reset_socket(c->fd);
			conn_drop(c);
			return;
		}
		suspend(c, WAIT_FLUSH_RESET);
		reset_after_flush(c, WAIT_FLUSH_RESET);
		return;
	case END_HANG: hold(c); return;
	case END_CLOSE: break;
	}
	settle(c, OUTCOME_FIN);
	if (c->tls != NULL)
		close_write(c); /* close_notify as asked, not as MHD would */
	conn_drop(c);		/* MHD closes: shutdown(SHUT_WR), a FIN */
}

void conn_end(struct conn *c, enum ending how)
{
	end_exchange(c, how);
}

void conn_hang(struct conn *c, uint64_t for_ns, enum ending then)
{
	if (for_ns == 0 || for_ns >= c->env->hang_cap_ns) {
		hold(c);
		return;
	}
	suspend(c, WAIT_HANG);
	c->ending = then;
	arm_in(c, for_ns);
}

/* Raw bytes go through the TLS session when there is one: a fault's
 * offsets count plaintext bytes of the HTTP message. */
static ssize_t send_raw(struct conn *c, const char *buf, size_t n)
{
	if (c->tls != NULL)
		return tls_session_send(c->tls, buf, n, &c->tls_retry);
	return send(c->fd, buf, n, MSG_NOSIGNAL);
}

/* Write what the pacer allows now; come back on a timer or EPOLLOUT,
 * suspended from MHD meanwhile. A write that goes out at once (an unpaced
 * fault) never suspends. */
static void write_some(struct conn *c)
{
	struct exchange *ex = c->ex;
	for (;;) {
		uint64_t now = clock_mono_ns(), wake;
		size_t n = pace_next(&ex->pacer, now, &wake);
		if (n == 0 && wake == 0) {
			if (c->watch_out)
				watch(c, false);
			end_exchange(c, c->ending);
			return;
		}
		if (n == 0) {
			suspend(c, WAIT_WRITE);
			loop_timer_at(c->env->loop, &c->timer, wake);
			return;
		}
		ssize_t sent = send_raw(c, ex->render.buf + ex->pacer.pos, n);
		if (sent > 0) {
			pace_wrote(&ex->pacer, (size_t)sent, now);
			continue;
		}
		if (sent == -1 && (errno == EAGAIN || errno == EINTR)) {
			suspend(c, WAIT_WRITE);
			watch(c, true);
			return;
		}
		settle(c, OUTCOME_CLIENT_CLOSED);
		conn_drop(c); /* the peer is gone: nothing left to pace */
		return;
	}
}

bool conn_write_raw(struct conn *c, const struct pace *pace, enum ending then)
{
	c->ending = then;
	if (c->tls != NULL && !c->tcp_uncorked)
		tcp_uncork(c); /* each drip must leave when written */
	pace_init(&c->ex->pacer, pace, &c->ex->render, clock_mono_ns());
	write_some(c);
	return !c->ex->drop;
}

void conn_idle_close(struct conn *c, uint64_t idle_ns)
{
	c->wait = WAIT_IDLE_CLOSE;
	arm_in(c, idle_ns);
}

void conn_after_response(struct conn *c, const struct after *after, uint64_t idle_timeout_ns)
{
	switch (after->kind) {
	case AFTER_KEEP:
		if (idle_timeout_ns > 0)
			conn_idle_close(c, idle_timeout_ns);
		break;
	case AFTER_RESET: reset_after_flush(c, WAIT_IDLE_RESET); break;
	case AFTER_CLOSE_AFTER: conn_idle_close(c, after->delay_us * 1000); break;
	case AFTER_NEXT_CLOSE:
	case AFTER_NEXT_RESET:
		c->on_next = after->kind;
		if (idle_timeout_ns > 0)
			conn_idle_close(c, idle_timeout_ns);
		break;
	default: break;
	}
}

void conn_request_started(struct conn *c)
{
	/* An idle close is off once the client speaks; a pending reset is
	 * not (the handler resets the socket). */
	if (c->wait == WAIT_IDLE_CLOSE) {
		loop_timer_cancel(c->env->loop, &c->timer);
		c->wait = WAIT_NONE;
	}
}

static void on_timer(struct loop_timer *t)
{
	struct conn *c = container_of(t, struct conn, timer);
	switch (c->wait) {
	case WAIT_DELAY:
		c->ex->delayed = true;
		resume(c);
		break;
	case WAIT_READ:
	case WAIT_SERVICE: resume(c); break;
	case WAIT_QUEUED:
		settle(c, OUTCOME_HUNG); /* queued past the hang cap */
		conn_drop(c);
		break;
	case WAIT_HANG: end_exchange(c, c->ending); break;
	case WAIT_HELD:
	case WAIT_TLS_FLUSH: conn_drop(c); break;
	case WAIT_WRITE: write_some(c); break;
	case WAIT_FLUSH_RESET:
	case WAIT_IDLE_RESET: flush_then_reset(c, c->wait); break;
	case WAIT_IDLE_CLOSE:
		/* FIN while keep-alive is still advertised; MHD reads the EOF
		 * and closes its side. */
		c->wait = WAIT_NONE;
		close_write(c);
		shutdown(c->fd, SHUT_RD);
		break;
	case WAIT_UPSTREAM: /* libcurl's timeouts end it, not a timer */
	case WAIT_STREAM:
	case WAIT_UPLOAD:
	case WAIT_NONE: break;
	}
}

/* The client left while we held its request: let MHD free it instead of
 * keeping the descriptor until a timer fires. */
static void peer_left(struct conn *c)
{
	settle(c, OUTCOME_CLIENT_CLOSED);
	conn_drop(c);
}

static void on_gone(struct loop_timer *t)
{
	struct conn *c = container_of(t, struct conn, gone);
	if (c->suspended)
		peer_left(c);
}

static void on_socket(struct loop_io *io, uint32_t events)
{
	struct conn *c = container_of(io, struct conn, io);
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		c->peer_gone = true;
		if (c->suspended)
			peer_left(c);
		return;
	}
	if ((events & EPOLLOUT) && c->wait == WAIT_WRITE)
		write_some(c);
	else if ((events & EPOLLOUT) && c->tls_corked)
		tls_flush(c);
}

#include "net/dns_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "engine/dns_decide.h"
#include "net/dns_wire.h"
#include "net/listener.h"

/* Datagrams read per wake-up, so a flood cannot starve the loop. */
#define UDP_BATCH 64
/* TCP connections held at once; more are closed on accept. */
#define TCP_MAX 256
/* A TCP connection with nothing to do is closed after this long. */
#define TCP_IDLE_NS (120ULL * 1000000000ULL)
/* Answers waiting for their delay, at most. */
#define PENDING_MAX 4096
/* A TCP message: two bytes of length, then up to 65535 bytes. */
#define TCP_MSG_MAX (2 + 65535)

struct dns_tcp;

/* An answer waiting for its delay. */
struct dns_pending {
	struct loop_timer timer;
	struct dns_server *server;
	struct dns_tcp *conn; /* NULL: over UDP, to peer */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	uint8_t *bytes;
	size_t len;
	struct dns_pending *prev, *next;
};

struct dns_tcp {
	struct loop_io io;
	struct dns_server *server;
	struct loop_timer idle;
	uint8_t in[TCP_MSG_MAX];
	size_t in_len;
	uint8_t *out;
	size_t out_len;
	bool want_out; /* EPOLLOUT is watched */
	bool failed;   /* a write failed: close when safe */
	struct dns_tcp *prev, *next;
};

struct dns_server {
	struct loop *loop;
	struct dns_server_config cfg;
	struct loop_io udp;
	struct listener *tcp;
	struct dns_tcp *conns;
	size_t n_conns;
	struct dns_pending *pending;
	size_t n_pending;
	struct scenario *held; /* the scenario state belongs to (a ref) */
	uint64_t held_generation;
	struct dns_state state;
	char address[ADDR_STRLEN];
};

/* The state of the scenario served now, started over when it did. */
static struct dns_state *state_for(struct dns_server *s, const struct dns_now *now)
{
	if (s->held != now->scenario || s->held_generation != now->generation) {
		dns_state_clear(&s->state);
		scenario_unref(s->held);
		s->held = scenario_ref(now->scenario);
		s->held_generation = now->generation;
		dns_state_init(&s->state, now->scenario);
	}
	return &s->state;
}

/* "127.0.0.1 127.0.0.2" or "10 5 8080 orders.test": the records' data. */
static char *answer_text(const struct dns_decision *d)
{
	if (d->n_addrs == 0 && d->n_srv == 0)
		return NULL;
	size_t cap = 1 + d->n_addrs * 48, len = 0;
	for (size_t i = 0; i < d->n_srv; i++)
		cap += strlen(d->srv[i].target) + 24;
	char *text = xmalloc(cap);
	text[0] = '\0';
	for (size_t i = 0; i < d->n_addrs; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s%s", len ? " " : "",
					dns_decision_addr(d, i)->text);
	/* SRV data as one token per record: priority/weight/port/target. */
	for (size_t i = 0; i < d->n_srv; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s%u/%u/%u/%s", len ? " " : "",
					d->srv[i].priority, d->srv[i].weight, d->srv[i].port,
					d->srv[i].target);
	return text;
}

static void record_query(struct dns_server *s, const struct scenario *sc, const char *phase,
			 const struct dns_wire_query *q, const struct dns_decision *d, bool tcp,
			 bool tc_sent)
{
	struct record r = {
		.kind = RECORD_DNS,
		.action = -1,
		.scenario = xstrdup(sc->name),
		.phase = phase ? xstrdup(phase) : NULL,
		.upstream = s->cfg.upstream ? xstrdup(s->cfg.upstream) : NULL,
		.dns_transport = tcp ? "tcp" : "udp",
	};
	if (q->name != NULL) {
		r.dns_name = xstrdup(q->name);
		r.dns_type = dns_wire_type_name(q->type);
	}
	if (d == NULL) { /* a malformed or unsupported message */
		r.dns_rcode = dns_rcode_name(q->rcode);
	} else {
		r.dns_listed = d->name != NULL;
		r.dns_rcode = d->silent ? NULL : dns_rcode_name(d->rcode);
		r.fault = d->fault != DNS_FAULT_NONE ? dns_fault_name(d->fault) : NULL;
		r.action = d->choice;
		r.duration_us = d->delay_us;
		r.dns_tc = tc_sent;
		if (!tc_sent && !d->silent) {
			r.dns_answer = answer_text(d);
			r.dns_ttl = d->ttl;
		}
	}
	journal_add(s->cfg.journal, &r, FAULT_NONE);
}

/* Read one message and decide: the answer in *out (NULL: send nothing),
 * its delay in *delay_ns. Every query is journalled. */
static void answer(struct dns_server *s, const uint8_t *buf, size_t len, bool tcp, uint8_t **out,
		   size_t *out_len, uint64_t *delay_ns)
{
	*out = NULL;
	*delay_ns = 0;
	struct dns_wire_query q;
	enum dns_wire_verdict v = dns_wire_parse(buf, len, &q);
	if (v == DNS_WIRE_DROP) {
		log_debug("dns: dropped a %zu-byte message that is no query", len);
		dns_wire_query_clear(&q);
		return;
	}
	struct dns_now now = {0};
	s->cfg.source(s->cfg.arg, &now);
	struct scenario *sc = now.scenario;
	const char *phase_name = now.phase_name;
	if (v == DNS_WIRE_ERROR) {
		if (dns_wire_error(&q, out, out_len) != 0)
			*out = NULL;
		record_query(s, sc, phase_name, &q, NULL, tcp, false);
		dns_wire_query_clear(&q);
		return;
	}
	struct dns_question question = {
		.name = q.name,
		.type = q.type,
		.tcp = tcp,
		.phase = now.phase,
		.elapsed_us = (clock_mono_ns() - now.phase_since_ns) / 1000,
	};
	struct dns_decision d;
	dns_decide(sc, state_for(s, &now), &question, &d);
	bool tc = d.tc;
	if (!d.silent) {
		if (dns_wire_reply(&q, &d, tcp ? 65535 : q.udp_max, out, out_len) != 0) {
			log_warn("dns: cannot build the answer for %s", q.name);
			*out = NULL;
		} else if (*out_len >= 3 && ((*out)[2] & 0x02)) {
			tc = true; /* too big for the datagram */
		}
	}
	*delay_ns = d.delay_us * 1000;
	record_query(s, sc, phase_name, &q, &d, tcp, tc);
	dns_wire_query_clear(&q);
}

/* --- UDP ----------------------------------------------------------- */

static void send_udp(struct dns_server *s, const struct sockaddr *peer, socklen_t peer_len,
		     const uint8_t *bytes, size_t len)
{
	if (sendto(s->udp.fd, bytes, len, MSG_DONTWAIT, peer, peer_len) == -1)
		log_debug("dns: sendto: %s", strerror(errno));
}

static void tcp_send(struct dns_tcp *c, const uint8_t *bytes, size_t len);
static void tcp_close(struct dns_tcp *c);

static void pending_free(struct dns_server *s, struct dns_pending *p)
{
	loop_timer_cancel(s->loop, &p->timer);
	if (p->prev)
		p->prev->next = p->next;
	else
		s->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	s->n_pending--;
	free(p->bytes);
	free(p);
}

static void on_pending(struct loop_timer *t)
{
	struct dns_pending *p = (struct dns_pending *)t;
	struct dns_server *s = p->server;
	struct dns_tcp *c = p->conn;
	if (c != NULL)
		tcp_send(c, p->bytes, p->len);
	else
		send_udp(s, (struct sockaddr *)&p->peer, p->peer_len, p->bytes, p->len);
	pending_free(s, p);
	if (c != NULL && c->failed)
		tcp_close(c);
}

/* Send bytes (owned from now on) after delay_ns: over c, or to peer. */
static void deliver(struct dns_server *s, struct dns_tcp *c, const struct sockaddr *peer,
		    socklen_t peer_len, uint8_t *bytes, size_t len, uint64_t delay_ns)
{
	if (delay_ns == 0) {
		if (c != NULL)
			tcp_send(c, bytes, len);
		else
			send_udp(s, peer, peer_len, bytes, len);
		free(bytes);
		return;
	}
	if (s->n_pending >= PENDING_MAX) {
		log_warn("dns: %d delayed answers already wait: one dropped", PENDING_MAX);
		free(bytes);
		return;
	}
	struct dns_pending *p = xcalloc(1, sizeof *p);
	p->server = s;
	p->conn = c;
	if (peer != NULL) {
		memcpy(&p->peer, peer, peer_len);
		p->peer_len = peer_len;
	}
	p->bytes = bytes;
	p->len = len;
	p->timer.on_fire = on_pending;
	p->next = s->pending;
	if (s->pending)
		s->pending->prev = p;
	s->pending = p;
	s->n_pending++;
	loop_timer_at(s->loop, &p->timer, clock_mono_ns() + delay_ns);
}

static void on_udp(struct loop_io *io, uint32_t events)
{
	struct dns_server *s = container_of(io, struct dns_server, udp);
	(void)events;
	uint8_t buf[65536];
	for (int i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof peer;
		ssize_t n = recvfrom(io->fd, buf, sizeof buf, MSG_DONTWAIT,
				     (struct sockaddr *)&peer, &peer_len);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_debug("dns: recvfrom: %s", strerror(errno));
			return;
		}
		uint8_t *out;
		size_t out_len;
		uint64_t delay_ns;
		answer(s, buf, (size_t)n, false, &out, &out_len, &delay_ns);
		if (out != NULL)
			deliver(s, NULL, (struct sockaddr *)&peer, peer_len, out, out_len,
				delay_ns);
	}
}

/* --- TCP ----------------------------------------------------------- */

static void tcp_close(struct dns_tcp *c)
{
	struct dns_server *s = c->server;
	/* Answers still waiting for this connection have nowhere to go. */
	for (struct dns_pending *p = s->pending, *next; p; p = next) {
		next = p->next;
		if (p->conn == c)
			pending_free(s, p);
	}
	loop_timer_cancel(s->loop, &c->idle);
	loop_io_del(s->loop, &c->io);
	close(c->io.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	free(c->out);
	free(c);
}

static void tcp_touch(struct dns_tcp *c)
{
	loop_timer_at(c->server->loop, &c->idle, clock_mono_ns() + TCP_IDLE_NS);
}

static void on_idle(struct loop_timer *t)
{
	tcp_close(container_of(t, struct dns_tcp, idle));
}

/* Write what is queued; watch for room when the socket is full. Returns
 * -1 when the connection failed (the caller closes it when safe). */
static int tcp_flush(struct dns_tcp *c)
{
	while (c->out_len > 0) {
		ssize_t n = send(c->io.fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN) {
			c->failed = true;
			return -1;
		}
		if (n == -1)
			break;
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	bool want = c->out_len > 0;
	if (want != c->want_out) {
		loop_io_mod(c->server->loop, &c->io, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0));
		c->want_out = want;
	}
	return 0;
}

/* Queue one message with its two-byte length and send what fits. */
static void tcp_send(struct dns_tcp *c, const uint8_t *bytes, size_t len)
{
	c->out = xrealloc(c->out, c->out_len + 2 + len);
	c->out[c->out_len] = (uint8_t)(len >> 8);
	c->out[c->out_len + 1] = (uint8_t)len;
	memcpy(c->out + c->out_len + 2, bytes, len);
	c->out_len += 2 + len;
	tcp_touch(c);
	tcp_flush(c);
}

/* Answer every whole message read so far. */
static void tcp_messages(struct dns_tcp *c)
{
	size_t at = 0;
	while (c->in_len - at >= 2 && !c->failed) {
		size_t len = (size_t)c->in[at] << 8 | c->in[at + 1];
		if (c->in_len - at < 2 + len)
			break;
		uint8_t *out;
		size_t out_len;
		uint64_t delay_ns;
		answer(c->server, c->in + at + 2, len, true, &out, &out_len, &delay_ns);
		at += 2 + len;
		if (out != NULL)
			deliver(c->server, c, NULL, 0, out, out_len, delay_ns);
	}
	memmove(c->in, c->in + at, c->in_len - at);
	c->in_len -= at;
}

static void on_tcp(struct loop_io *io, uint32_t events)
{
	struct dns_tcp *c = (struct dns_tcp *)io;
	if ((events & EPOLLOUT) && tcp_flush(c) != 0) {
		tcp_close(c);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	ssize_t n = recv(io->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* the client left (a timeout answer ends here too) */
		tcp_close(c);
		return;
	}
	c->in_len += (size_t)n;
	tcp_touch(c);
	tcp_messages(c);
	if (c->failed)
		tcp_close(c);
}

static void on_accept(void *arg, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct dns_server *s = arg;
	(void)sa;
	(void)len;
	if (s->n_conns >= TCP_MAX) {
		log_warn("dns: %d TCP connections already open: one closed", TCP_MAX);
		close(fd);
		return;
	}
	struct dns_tcp *c = xcalloc(1, sizeof *c);
	c->server = s;
	c->io.fd = fd;
	c->io.on_event = on_tcp;
	c->idle.on_fire = on_idle;
	if (loop_io_add(s->loop, &c->io, EPOLLIN | EPOLLRDHUP) == -1) {
		log_warn("dns: cannot watch a TCP connection: %s", strerror(errno));
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	tcp_touch(c);
}

/* --- the server ---------------------------------------------------- */

static int bind_udp(const struct sockaddr *addr, socklen_t len, char *errbuf, size_t errlen)
{
	int fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(errbuf, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, addr, len) == -1) {
		snprintf(errbuf, errlen, "UDP: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* UDP, then TCP on the port UDP got. With port 0 the TCP port may be
 * taken already: try another few free ports. */
static int bind_both(struct dns_server *s, const struct sockaddr *addr, socklen_t len, char *errbuf,
		     size_t errlen)
{
	struct sockaddr_storage at;
	memcpy(&at, addr, len);
	bool any_port = addr->sa_family == AF_INET6
				? ((const struct sockaddr_in6 *)addr)->sin6_port == 0
				: ((const struct sockaddr_in *)addr)->sin_port == 0;
	for (int tries = 0; tries < (any_port ? 8 : 1); tries++) {
		s->udp.fd = bind_udp((struct sockaddr *)&at, len, errbuf, errlen);
		if (s->udp.fd == -1)
			return -1;
		socklen_t bound_len = sizeof at;
		getsockname(s->udp.fd, (struct sockaddr *)&at, &bound_len);
		char why[200];
		s->tcp = listener_open(s->loop, (struct sockaddr *)&at, len, SOMAXCONN, false,
				       on_accept, s, why, sizeof why);
		if (s->tcp != NULL) {
			addr_format((struct sockaddr *)&at, s->address);
			return 0;
		}
		snprintf(errbuf, errlen, "TCP: %s", why);
		close(s->udp.fd);
		s->udp.fd = -1;
		memcpy(&at, addr, len);
	}
	return -1;
}

struct dns_server *dns_server_open(struct loop *loop, const struct sockaddr *addr, socklen_t len,
				   const struct dns_server_config *cfg, char *errbuf, size_t errlen)
{
	struct dns_server *s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->cfg = *cfg;
	s->udp.fd = -1;
	s->udp.on_event = on_udp;
	if (bind_both(s, addr, len, errbuf, errlen) != 0) {
		free(s);
		return NULL;
	}
	if (loop_io_add(loop, &s->udp, EPOLLIN) == -1) {
		snprintf(errbuf, errlen, "epoll: %s", strerror(errno));
		listener_close(s->tcp);
		close(s->udp.fd);
		free(s);
		return NULL;
	}
	return s;
}

void dns_server_close(struct dns_server *s)
{
	if (s == NULL)
		return;
	while (s->conns)
		tcp_close(s->conns);
	while (s->pending)
		pending_free(s, s->pending);
	listener_close(s->tcp);
	loop_io_del(s->loop, &s->udp);
	close(s->udp.fd);
	dns_state_clear(&s->state);
	scenario_unref(s->held);
	free(s);
}

const char *dns_server_address(const struct dns_server *s)
{
	return s->address;
}

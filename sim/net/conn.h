/* conn: one client connection as upsim tracks it beside libmicrohttpd.
 *
 * MHD parses and answers; this module does what MHD cannot: hold a request
 * suspended on a timer (delay, hang), write raw bytes paced by the event
 * loop, and end the connection exactly — FIN, RST (after the queued bytes
 * are on the wire) or a hang — also between requests (close_after, reset
 * after a response). While MHD has a connection suspended it does not watch
 * it, so this module watches the socket for the client going away. */
#ifndef UPSIM_NET_CONN_H
#define UPSIM_NET_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "net/loop.h"
#include "scenario/model.h"

struct MHD_Connection;
struct exchange;
struct pace;

/* What every connection needs of its server. */
struct conn_env {
	struct loop *loop;
	uint64_t hang_cap_ns; /* no hang lasts longer than this */
	/* MHD must run soon: in external-select mode a resumed connection
	 * is only picked up by the next MHD_run, and nothing else wakes it. */
	void (*wake_mhd)(void *arg);
	void *wake_arg;
	bool stopping; /* upsim is shutting down */
};

/* Why a connection waits on its timer. */
enum conn_wait {
	WAIT_NONE = 0,
	WAIT_DELAY,	  /* suspended: delay before answering */
	WAIT_READ,	  /* suspended: reading the body slowly */
	WAIT_HANG,	  /* suspended: a hang fault with an end */
	WAIT_HELD,	  /* suspended: hanging until the cap */
	WAIT_WRITE,	  /* suspended: raw bytes being written */
	WAIT_FLUSH_RESET, /* suspended: RST once the send queue drains */
	WAIT_IDLE_CLOSE,  /* idle in MHD: FIN at the deadline */
	WAIT_IDLE_RESET,  /* idle in MHD: RST once the send queue drains */
	WAIT_QUEUED,	  /* suspended: waiting for an overload worker */
	WAIT_SERVICE,	  /* suspended: holding a worker */
	WAIT_UPSTREAM,	  /* suspended: the real service is answering */
	WAIT_STREAM,	  /* suspended: a streamed body waits for bytes */
	WAIT_UPLOAD,	  /* suspended: a streamed upload waits for room */
	WAIT_TLS_FLUSH,	  /* suspended: a corked response waits for room */
};

struct conn {
	const struct conn_env *env;
	struct MHD_Connection *mhd;
	int fd;
	uint64_t id;	   /* the journal's connection id */
	unsigned requests; /* requests begun on this connection */
	bool suspended;
	bool watching;	/* io is in the loop: from the first suspend
				   to the close, edge-triggered */
	bool watch_out; /* ... with EPOLLOUT (a raw write waits) */
	bool peer_gone; /* the watch saw the peer close or reset */
	enum conn_wait wait;
	struct loop_io io;
	struct loop_timer timer;
	struct loop_timer gone;	 /* a suspend found the peer already gone */
	struct exchange *ex;	 /* the request in progress, or NULL */
	enum after_kind on_next; /* AFTER_NEXT_* pending, else 0 */
	enum ending ending;	 /* after the raw write */
	uint64_t flush_deadline;
	struct conn *prev, *next; /* the server's list */
	char *target;		  /* the current request-target as received
				   (path and query, not unescaped); owned */
	void *tls;		  /* its TLS session (MHD's); NULL: plain */
	bool tls_bare_close;	  /* upsim's closes send no close_notify */
	bool tls_retry;		  /* a raw record waits to be resent */
	bool tls_corked;	  /* GnuTLS holds a response (conn_tls_cork) */
	bool tcp_uncorked;	  /* TCP_CORK cleared after MHD set it */
	bool http11;		  /* the current request is HTTP/1.1 */
};

/* A new connection record for MHD's mhd on fd. */
struct conn *conn_new(const struct conn_env *env, struct MHD_Connection *mhd, int fd);
/* MHD closed the connection: stop every timer and watch, free c. */
void conn_free(struct conn *c);

/* Suspend the request in progress for delay_ns, then let MHD call the
 * handler again (with c->ex->delayed set). */
void conn_delay(struct conn *c, uint64_t delay_ns);
/* Read no more of the request body until deadline_ns (read.rate). */
void conn_pause_read(struct conn *c, uint64_t deadline_ns);
/* Hang the request: nothing is sent for for_ns (0: the cap), then the
 * exchange ends as then says. */
void conn_hang(struct conn *c, uint64_t for_ns, enum ending then);
/* Write c->ex->render raw, paced by pace, then end as then says. Returns
 * false when it has already ended the exchange with a FIN or a RST (the
 * handler then answers MHD_NO so MHD closes the connection at once). */
bool conn_write_raw(struct conn *c, const struct pace *pace, enum ending then);
/* End the exchange now as how says: a FIN, or a RST once the bytes
 * already sent have left the kernel's queue (suspended meanwhile), or a
 * hang. c->ex->drop is set once it has ended. */
void conn_end(struct conn *c, enum ending how);
/* Wait, suspended, for an overload worker (until the hang cap at most). */
void conn_queue(struct conn *c);
/* Hold the request suspended for its service time, then let MHD call the
 * handler again. */
void conn_serve(struct conn *c, uint64_t service_ns);
/* Hold the request suspended while the real service answers (forward);
 * conn_upstream_done lets MHD call the handler again. The client leaving
 * meanwhile drops the exchange as for any suspend. */
void conn_wait_upstream(struct conn *c);
void conn_upstream_done(struct conn *c);
/* A streamed answer has no byte to send now (called from MHD's content
 * reader, which then returns 0): suspend until conn_stream_more. */
void conn_wait_stream(struct conn *c);
void conn_stream_more(struct conn *c);
/* A streamed upload's window is full (called from the access handler,
 * with request body left unread): suspend until conn_upload_room. */
void conn_wait_upload(struct conn *c);
void conn_upload_room(struct conn *c);
/* Abort the connection with a RST now (no flush). */
void conn_reset_socket(int fd);
/* The response of an exchange went out through MHD: carry out after;
 * a kept connection closes after idle_timeout_ns without a request (0:
 * never). */
void conn_after_response(struct conn *c, const struct after *after, uint64_t idle_timeout_ns);
/* FIN if no request begins within idle_ns (keep-alive still advertised). */
void conn_idle_close(struct conn *c, uint64_t idle_ns);
/* A new request arrived: cancel idle timers. */
void conn_request_started(struct conn *c);
/* Over TLS, hold the response MHD is about to send and send it as one
 * record once it is complete (conn_tls_uncork): libmicrohttpd 0.9.75
 * sends a head and a body as two records, each its own write and TCP
 * segment. Only for a small response after which the connection stays
 * open: should the socket lack room at the uncork, the rest goes when it
 * is writable, which a close would not wait for. */
void conn_tls_cork(struct conn *c);
/* The exchange is complete: send what the cork held (no-op if none). */
void conn_tls_uncork(struct conn *c);
/* Does a corked response still wait for room? The next exchange must not
 * write before it has gone: conn_wait_tls_flush suspends it until then
 * (the hang cap at most). */
bool conn_tls_unflushed(const struct conn *c);
void conn_wait_tls_flush(struct conn *c);
/* A response MHD sent with "Connection: close" is complete: MHD closes
 * next, with close_notify unless the connection must close bare. */
void conn_response_closes(struct conn *c);
/* End a suspended exchange now (shutdown): MHD closes it with a FIN. */
void conn_drop(struct conn *c);
/* The connection must go (upsim check empties the gateway's pool before a
 * probe). Idle, it gets a FIN on its write side only, so that MHD sees the
 * gateway close its end: the gateway has then dropped it. Still in an
 * exchange (a hang the probe outlived), the exchange ends now. force:
 * close an idle one outright too (a gateway that never closes idle
 * connections it pools). A pending after: reset is left to happen. */
void conn_shed(struct conn *c, bool force);

#endif

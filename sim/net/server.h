/* server: the libmicrohttpd daemon that parses requests and answers them.
 *
 * MHD runs without a listening socket of its own (the listener hands it
 * connections) and in epoll mode inside upsim's loop: its epoll fd is one
 * of the loop's fds and MHD_get_timeout arms one loop timer. */
#ifndef UPSIM_NET_SERVER_H
#define UPSIM_NET_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "engine/attempts.h"
#include "engine/journal.h"
#include "net/loop.h"
#include "scenario/model.h"

struct exchange_capture;
struct server;
struct tls_server;

struct server_counters {
	uint64_t connections; /* accepted and handed to MHD */
	uint64_t open;	      /* connections open now */
};

/* libmicrohttpd's memory pool per connection: it holds the request head,
 * then the response headers, and libmicrohttpd zeroes all of it for every
 * request, so a smaller pool is a faster server (docs/benchmarks.md).
 * 16 KiB takes the request heads gateways send by default. */
#define SERVER_CONNECTION_MEMORY_DEFAULT ((size_t)16 * 1024)

struct server_config {
	unsigned max_connections;		/* open at once */
	uint64_t hang_cap_ns;			/* no hang outlasts this */
	struct journal *journal;		/* every exchange is recorded here */
	struct attempts *attempts;		/* request ids seen; NULL: not counted */
	const char *request_id_header;		/* NULL: ids not read */
	const char *upstream;			/* a fleet member's name for the journal; NULL */
	unsigned thread;			/* --threads: which thread's loop (0: the first) */
	size_t connection_memory;		/* MHD's pool per connection; 0: the default */
	const struct exchange_capture *capture; /* the real answers; NULL: none */
	const struct tls_server *tls;		/* serve HTTPS with it; NULL: plain */
};

/* Start an MHD daemon in loop serving sc (a reference is taken). Returns
 * NULL with the reason in errbuf. */
struct server *server_new(struct loop *loop, struct scenario *sc, const struct server_config *cfg,
			  char *errbuf, size_t errlen);
/* Close every connection and stop the daemon. NULL accepted. */
void server_free(struct server *s);

/* The server speaks TLS (config's tls was set). */
bool server_speaks_tls(const struct server *s);

/* Hand an accepted socket to MHD; matches listener_accept_fn (arg is the
 * server). The server owns fd afterwards. */
void server_add_connection(void *server, int fd, const struct sockaddr *sa, socklen_t len);

/* Serve sc from now on (a reference is taken); exchanges already under way
 * finish under the scenario they started with. */
void server_set_scenario(struct server *s, struct scenario *sc);
/* The scenario served now (borrowed). */
struct scenario *server_scenario(const struct server *s);
/* Its connection policy in the current phase. */
const struct conn_policy *server_connection_policy(const struct server *s);

const struct server_counters *server_counters(const struct server *s);
/* Connections whose request is held suspended now (delays, hangs, drips). */
unsigned server_suspended(const struct server *s);
/* conn_shed every open connection; server_counters(s)->open then falls
 * to 0 as the peers close theirs. */
void server_shed(struct server *s, bool force);

/* The decision state of the current scenario (per-rule counts; reset it
 * with behave_reset). */
struct behave *server_behave(const struct server *s);

/* Phase index (called name) of the timeline is current from now on:
 * rules limited to phases follow it, and the journal names it. */
void server_set_phase(struct server *s, const char *name, size_t index);
const char *server_phase(const struct server *s);

/* Journal a connection the accept stage ended or held (accept: "reset",
 * "close", "hang", "queue"; reason: "accept" or "over_limit"; a TLS
 * handshake fault's name with reason "tls"). The server itself journals
 * a TLS connection that closed before its first request ("no_request",
 * "tls"). */
void server_journal_connection(struct server *s, const char *accept, const char *reason,
			       enum outcome how);

#endif

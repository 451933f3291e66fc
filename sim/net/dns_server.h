/* dns_server: the scenario's scripted DNS server, UDP and TCP on one
 * port, in the control thread's loop.
 *
 * Every query is read with net/dns_wire, answered as engine/dns_decide
 * says for the scenario served now and its current phase, journalled as a
 * "dns" record, and sent at once or after its delay (a loop timer, never
 * a sleep). A "timeout" answer is never sent; over TCP the connection
 * stays open, unanswered, until the client leaves or it idles out. */
#ifndef UPSIM_NET_DNS_SERVER_H
#define UPSIM_NET_DNS_SERVER_H

#include <stddef.h>
#include <sys/socket.h>

#include "engine/journal.h"
#include "net/loop.h"
#include "scenario/model.h"

/* What the answers follow: the scenario served now and where its timeline
 * is. Borrowed: valid for the call. */
struct dns_now {
	struct scenario *scenario;
	size_t phase;		 /* the current phase's index */
	const char *phase_name;	 /* its name; NULL: none */
	uint64_t phase_since_ns; /* clock_mono_ns() when it began: flaps count
				      from there */
	uint64_t generation;	 /* changes when the scenario starts over
				      (reload, swap): draws and turns restart */
};
typedef void (*dns_server_source_fn)(void *arg, struct dns_now *out);

struct dns_server_config {
	struct journal *journal; /* where each query is recorded */
	const char *upstream;	 /* a fleet member's name; NULL: none */
	dns_server_source_fn source;
	void *arg;
};

/* Bind addr over UDP and TCP (port 0: a free port, the same for both)
 * and answer in loop. cfg is copied; its pointers must outlive the
 * server. Returns the server, or NULL with the reason in errbuf. */
struct dns_server *dns_server_open(struct loop *loop, const struct sockaddr *addr, socklen_t len,
				   const struct dns_server_config *cfg, char *errbuf,
				   size_t errlen);
/* Close the sockets, drop answers not yet sent and free. NULL accepted. */
void dns_server_close(struct dns_server *s);
/* The bound address as "HOST:PORT" (the real port when 0 was asked). */
const char *dns_server_address(const struct dns_server *s);

#endif

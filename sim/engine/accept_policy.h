/* accept_policy: what becomes of an accepted connection — the decision of
 * the accept stage, without the socket. Pure.
 *
 * net/accept_stage.c holds the sockets and acts on the verdict; this
 * file only reads the scenario's connection policy and the counts the
 * stage keeps, so every branch is unit-tested without a process. */
#ifndef UPSIM_ENGINE_ACCEPT_POLICY_H
#define UPSIM_ENGINE_ACCEPT_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario/model.h"

/* What the accept stage does with a new connection, in the order the
 * rules are tried: the --max-connections cap, the accept fault, then the
 * scenario's max_connections. */
enum accept_verdict {
	ACCEPT_VERDICT_SERVE = 1,  /* hand it to the HTTP server */
	ACCEPT_VERDICT_CAPACITY,   /* --max-connections reached: RST */
	ACCEPT_VERDICT_RESET,	   /* accept fault reset: RST */
	ACCEPT_VERDICT_CLOSE,	   /* accept fault close: FIN, nothing read */
	ACCEPT_VERDICT_HANG,	   /* accept fault hang: held unread */
	ACCEPT_VERDICT_OVER_RESET, /* over max_connections: RST */
	ACCEPT_VERDICT_OVER_CLOSE, /* over max_connections: FIN */
	ACCEPT_VERDICT_OVER_QUEUE, /* over max_connections: held until a slot frees */
};

/* What the accept stage counts when a connection arrives. */
struct accept_counts {
	unsigned open;	  /* connections the HTTP server has open */
	unsigned hanging; /* held by an accept hang: they count as
				   connections against max_connections */
	unsigned held;	  /* held, queued or draining (hanging included) */
	unsigned cap;	  /* --max-connections: open and held together */
};

/* The verdict for one new connection under policy p (not NULL) and
 * counts n (not NULL). */
enum accept_verdict accept_policy_decide(const struct conn_policy *p,
					 const struct accept_counts *n);

/* May a queued connection be served now (a max_connections slot is free)? */
bool accept_policy_slot_free(const struct conn_policy *p, const struct accept_counts *n);

/* The listen() backlog for p: its own, or system_default when it has none. */
int accept_policy_backlog(const struct conn_policy *p, int system_default);

/* Does the listener accept under p (false: "accept": "pause")? */
bool accept_policy_accepting(const struct conn_policy *p);

/* Is the "--max-connections reached" warning due at now_ns, last logged at
 * last_ns (0: never)? At most once a second. */
bool accept_policy_cap_log_due(uint64_t now_ns, uint64_t last_ns);

/* The journal's words for a verdict that ends or holds the connection:
 * accept is "reset", "close", "hang" or "queue"; reason is "accept",
 * "over_limit" or "max_connections". NULL for ACCEPT_VERDICT_SERVE. */
const char *accept_policy_action_name(enum accept_verdict v);
const char *accept_policy_reason(enum accept_verdict v);

#endif

/* dns_decide: what the scripted DNS server answers to one question. Pure.
 *
 * The scenario says, per name, which records or which fault; this module
 * turns a question (name, type, transport, when) into the answer: rcode,
 * records in order, TTL, TC bit, delay, or no answer at all. What changes
 * from one query to the next (rotation, the seeded draws of "choose")
 * lives in a struct dns_state, one per loaded scenario, so the same seed
 * and the same queries give the same answers. Packets are net/dns_wire's. */
#ifndef UPSIM_ENGINE_DNS_DECIDE_H
#define UPSIM_ENGINE_DNS_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "scenario/dns.h"
#include "scenario/model.h"

/* The record types answered (RFC 1035, 3596, 2782). */
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_SRV 33

/* The rcodes answered (RFC 1035). */
enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

/* The rcode's name ("NOERROR"), "RCODE7" style for others (static). */
const char *dns_rcode_name(int rcode);

/* Per-scenario runtime state: for each name (dns_name.index) its turn of
 * rotation per type and its random stream. */
struct dns_state {
	const struct scenario *scenario; /* borrowed: whose state this is */
	size_t n;
	uint64_t *turn_a, *turn_aaaa; /* answers given so far */
	struct rng *rng;
};

/* State for sc (borrowed; it must outlive the state): every turn at 0,
 * every stream seeded from sc->seed and the name's index. */
void dns_state_init(struct dns_state *st, const struct scenario *sc);
/* Free what init allocated; zeroes st. */
void dns_state_clear(struct dns_state *st);

struct dns_question {
	const char *name;    /* lower case, no final dot */
	uint16_t type;	     /* DNS_TYPE_A, ... (any other: no records) */
	bool tcp;	     /* asked over TCP */
	size_t phase;	     /* the timeline's current phase */
	uint64_t elapsed_us; /* since the current phase began (flap) */
};

struct dns_decision {
	const struct dns_name *name; /* NULL: not a name of the scenario */
	int choice;		     /* index in the name's choose; -1: none */
	enum dns_fault fault;	     /* the answer's fault (DNS_FAULT_NONE: none) */
	bool silent;		     /* send nothing (timeout) */
	int rcode;
	bool tc;	   /* truncated: TC bit, no records */
	uint64_t delay_us; /* send this late */
	uint32_t ttl;
	/* Address records in answer order: addrs[(first + i) % n_addrs]. */
	const struct dns_addr *addrs; /* borrowed from the scenario */
	size_t n_addrs;
	size_t first;
	const struct dns_srv *srv; /* borrowed */
	size_t n_srv;
};

/* Decide the answer to q under sc (whose state st is) and advance st.
 * A name not in the scenario (nor the current phase's "dns") is REFUSED:
 * upsim is authoritative for its names only. */
void dns_decide(const struct scenario *sc, struct dns_state *st, const struct dns_question *q,
		struct dns_decision *out);

/* The address i (0-based, in answer order) of a decision. */
static inline const struct dns_addr *dns_decision_addr(const struct dns_decision *d, size_t i)
{
	return &d->addrs[(d->first + i) % d->n_addrs];
}

#endif

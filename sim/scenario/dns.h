/* dns: the scenario's scripted DNS server — its model.
 *
 *   "dns": {"listen": "127.0.0.1:5353",
 *           "names": {"orders.test": {"a": ["127.0.0.1"], "ttl": 5},
 *                     "gone.test":   {"fault": "nxdomain"}}}
 *
 * Loaded by scenario/load_dns.c into these owned structs; immutable once
 * loaded, like the rest of the scenario. What to answer for a query is
 * decided by engine/dns_decide, the packets are net/dns_wire's. */
#ifndef UPSIM_SCENARIO_DNS_H
#define UPSIM_SCENARIO_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario/jcheck.h"

/* Limits that keep a mistaken file small and every answer in one UDP
 * datagram of 512 bytes or a TCP message. */
#define DNS_MAX_NAMES 1000
#define DNS_MAX_ADDRS 32	/* per a, aaaa, srv or flap set */
#define DNS_MAX_FLAP 32		/* address sets of a flap */
#define DNS_MAX_TTL 2147483647u /* RFC 2181: 31 bits */
#define DNS_NAME_MAX 253	/* text form, without the final dot */

/* What a name's answer does instead of (or before) its records. */
enum dns_fault {
	DNS_FAULT_NONE = 0,  /* NOERROR with the records */
	DNS_FAULT_NXDOMAIN,  /* rcode 3, no records */
	DNS_FAULT_SERVFAIL,  /* rcode 2 */
	DNS_FAULT_REFUSED,   /* rcode 5 */
	DNS_FAULT_TIMEOUT,   /* no answer at all */
	DNS_FAULT_EMPTY,     /* NOERROR, no records (NODATA) */
	DNS_FAULT_TRUNCATED, /* UDP: TC bit, no records; TCP: the records */
};
#define DNS_FAULT_COUNT (DNS_FAULT_TRUNCATED + 1)

/* The fault's name as written ("nxdomain"); "none" for DNS_FAULT_NONE. */
const char *dns_fault_name(enum dns_fault f);

/* One address, in the form the wire needs and the form people read. */
struct dns_addr {
	bool v6;
	unsigned char bytes[16]; /* 4 used for IPv4 */
	char text[46];		 /* INET6_ADDRSTRLEN */
};

struct dns_srv {
	uint16_t priority, weight, port;
	char *target; /* a DNS name, lower case, no final dot */
};

/* One way of answering a name: the name's own, or an entry of its choose. */
struct dns_answer {
	unsigned weight; /* choose only; 1 elsewhere */
	enum dns_fault fault;
	uint64_t delay_us;  /* the answer (or fault) goes out this late */
	uint32_t ttl;	    /* of every record */
	struct dns_addr *a; /* A records (the v4 ones) */
	size_t n_a;
	struct dns_addr *aaaa;
	size_t n_aaaa;
	struct dns_srv *srv;
	size_t n_srv;
	bool rotate;		/* each A/AAAA answer starts one further on */
	struct dns_addr **flap; /* A address sets taking turns every every_us */
	size_t *n_flap_addrs;
	size_t n_flap;
	uint64_t every_us;
};

struct dns_name {
	size_t index;		    /* place among every name of the scenario (the
				   top level's, then each phase's): its state */
	char *name;		    /* lower case, no final dot */
	struct dns_answer *answers; /* 1, or the choose entries */
	size_t n_answers;
	bool choose; /* weighted draw among answers */
	uint64_t total_weight;
};

/* The top level's "dns", or a phase's (names only: no listen). */
struct dns_config {
	char *listen; /* "127.0.0.1:5353"; NULL in a phase */
	struct dns_name *names;
	size_t n_names;
};

/* The "dns" member of obj, if any: a new config in *out (NULL when
 * absent). in_phase: a phase's, which may not carry listen. Errors go to
 * jc by JSON path. next_index numbers names across the scenario. */
void dns_load(struct jcheck *jc, json_t *obj, bool in_phase, size_t *next_index,
	      struct dns_config **out);

/* Free a config. NULL accepted. */
void dns_config_free(struct dns_config *c);

/* The name called name (lower case, no final dot) in c, or NULL. c may be
 * NULL. */
const struct dns_name *dns_config_find(const struct dns_config *c, const char *name);

/* Is s a DNS name upsim can serve: dot-separated labels of 1..63 letters,
 * digits, '-' (not first or last) or '_', at most 253 characters, an
 * optional final dot? */
bool dns_name_valid(const char *s);

#endif

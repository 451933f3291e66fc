/* dns_wire: DNS messages to and from bytes, through ldns (no parser of
 * our own). Pure: no socket, no loop, so the fuzz driver
 * (tests/fuzz/fuzz_dns.c) drives exactly the server's query path.
 *
 * A datagram or TCP message is read once with dns_wire_parse; the answer
 * engine/dns_decide chose is written with dns_wire_reply; a message that
 * is not a well-formed standard query gets dns_wire_error (FORMERR,
 * NOTIMP) or nothing at all. */
#ifndef UPSIM_NET_DNS_WIRE_H
#define UPSIM_NET_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/dns_decide.h"

/* The classic UDP limit without EDNS (RFC 1035 4.2.1). */
#define DNS_WIRE_UDP_MIN 512
/* What upsim advertises and accepts with EDNS (the DNS flag day's 1232). */
#define DNS_WIRE_UDP_MAX 1232

enum dns_wire_verdict {
	DNS_WIRE_QUERY = 0, /* a standard query of one question: q filled */
	DNS_WIRE_ERROR,	    /* answer dns_wire_error (q->id, q->rcode set) */
	DNS_WIRE_DROP,	    /* too short, or itself a response: ignore */
};

struct dns_wire_query {
	uint16_t id;
	int rcode; /* DNS_WIRE_ERROR: FORMERR or NOTIMP */
	int opcode;
	bool rd;	/* recursion desired, echoed */
	char *name;	/* lower case, no final dot (new; "." is "") */
	uint8_t *owner; /* the name as asked, in wire form, for the
				   answer's owner (case kept: 0x20) (new) */
	size_t owner_len;
	uint16_t type, klass;
	bool edns;
	size_t udp_max; /* the largest UDP answer the client takes */
};

/* Read len bytes of buf as a query into q (zeroed first). */
enum dns_wire_verdict dns_wire_parse(const uint8_t *buf, size_t len, struct dns_wire_query *q);
/* Free what q owns; zeroes it. */
void dns_wire_query_clear(struct dns_wire_query *q);

/* The answer d to q as a message in *out (new, free()), its length in
 * *len. max: the largest message allowed (q->udp_max over UDP, 65535 over
 * TCP): a bigger one goes out with the TC bit and no records. Returns 0,
 * or -1 when ldns cannot build it. */
int dns_wire_reply(const struct dns_wire_query *q, const struct dns_decision *d, size_t max,
		   uint8_t **out, size_t *len);
/* A header-only answer with q->rcode (FORMERR, NOTIMP) to q->id. */
int dns_wire_error(const struct dns_wire_query *q, uint8_t **out, size_t *len);

/* The type's mnemonic ("A", "SRV", "TYPE65"): a new string. */
char *dns_wire_type_name(uint16_t type);

#endif

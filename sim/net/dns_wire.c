#include "net/dns_wire.h"

#include <ctype.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

#define HEADER_LEN 12

/* The owner name as text, and in lower case without the final dot. */
static void read_name(const ldns_rdf *owner, struct dns_wire_query *q)
{
	char *text = ldns_rdf2str(owner);
	q->name = xstrdup(text ? text : ".");
	free(text);
	q->owner_len = ldns_rdf_size(owner);
	q->owner = (uint8_t *)xmemdup(ldns_rdf_data(owner), q->owner_len);
	size_t n = strlen(q->name);
	if (n > 0 && q->name[n - 1] == '.')
		q->name[n - 1] = '\0';
	for (char *p = q->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

enum dns_wire_verdict dns_wire_parse(const uint8_t *buf, size_t len, struct dns_wire_query *q)
{
	memset(q, 0, sizeof *q);
	/* Answering a response could make two servers talk for ever. */
	if (len < HEADER_LEN || LDNS_QR_WIRE(buf))
		return DNS_WIRE_DROP;
	q->id = LDNS_ID_WIRE(buf);
	q->opcode = LDNS_OPCODE_WIRE(buf);
	q->rd = LDNS_RD_WIRE(buf);
	q->udp_max = DNS_WIRE_UDP_MIN;
	if (q->opcode != LDNS_PACKET_QUERY) {
		q->rcode = DNS_RCODE_NOTIMP;
		return DNS_WIRE_ERROR;
	}
	q->rcode = DNS_RCODE_FORMERR;
	ldns_pkt *pkt = NULL;
	if (ldns_wire2pkt(&pkt, buf, len) != LDNS_STATUS_OK || pkt == NULL)
		return DNS_WIRE_ERROR;
	enum dns_wire_verdict v = DNS_WIRE_ERROR;
	ldns_rr_list *question = ldns_pkt_question(pkt);
	if (ldns_pkt_qdcount(pkt) != 1 || question == NULL || ldns_rr_list_rr_count(question) != 1
	    || ldns_pkt_ancount(pkt) != 0)
		goto done;
	ldns_rr *rr = ldns_rr_list_rr(question, 0);
	if (ldns_rr_owner(rr) == NULL)
		goto done;
	read_name(ldns_rr_owner(rr), q);
	q->type = (uint16_t)ldns_rr_get_type(rr);
	q->klass = (uint16_t)ldns_rr_get_class(rr);
	if (ldns_pkt_edns(pkt)) {
		q->edns = true;
		size_t want = ldns_pkt_edns_udp_size(pkt);
		q->udp_max = want < DNS_WIRE_UDP_MIN   ? DNS_WIRE_UDP_MIN
			     : want > DNS_WIRE_UDP_MAX ? DNS_WIRE_UDP_MAX
						       : want;
	}
	q->rcode = DNS_RCODE_NOERROR;
	v = DNS_WIRE_QUERY;
done:
	ldns_pkt_free(pkt);
	return v;
}

void dns_wire_query_clear(struct dns_wire_query *q)
{
	free(q->name);
	free(q->owner);
	memset(q, 0, sizeof *q);
}

static ldns_pkt *header(const struct dns_wire_query *q, int rcode)
{
	ldns_pkt *p = ldns_pkt_new();
	if (p == NULL)
		return NULL;
	ldns_pkt_set_id(p, q->id);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_opcode(p, (ldns_pkt_opcode)q->opcode);
	ldns_pkt_set_rd(p, q->rd);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	if (q->edns)
		ldns_pkt_set_edns_udp_size(p, DNS_WIRE_UDP_MAX);
	return p;
}

static ldns_rr *record(const ldns_rdf *owner, uint16_t type, uint32_t ttl, bool question)
{
	ldns_rr *rr = ldns_rr_new();
	if (rr == NULL)
		return NULL;
	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	ldns_rr_set_type(rr, (ldns_rr_type)type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	ldns_rr_set_question(rr, question);
	return rr;
}

/* The answer section of d, under owner. */
static void add_answers(ldns_pkt *p, const ldns_rdf *owner, const struct dns_wire_query *q,
			const struct dns_decision *d)
{
	for (size_t i = 0; i < d->n_addrs; i++) {
		const struct dns_addr *a = dns_decision_addr(d, i);
		ldns_rr *rr = record(owner, q->type, d->ttl, false);
		ldns_rr_push_rdf(rr,
				 ldns_rdf_new_frm_data(a->v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A,
						       a->v6 ? 16 : 4, a->bytes));
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	for (size_t i = 0; i < d->n_srv; i++) {
		const struct dns_srv *s = &d->srv[i];
		ldns_rr *rr = record(owner, q->type, d->ttl, false);
		ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, s->priority));
		ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, s->weight));
		ldns_rr_push_rdf(rr, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, s->port));
		ldns_rr_push_rdf(rr, ldns_dname_new_frm_str(s->target));
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
}

/* p with q's question (owner as asked) and, unless tc, d's records. */
static ldns_pkt *build(const struct dns_wire_query *q, const struct dns_decision *d, bool tc)
{
	ldns_rdf *owner = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, q->owner_len, q->owner);
	ldns_pkt *p = header(q, d->rcode);
	if (owner == NULL || p == NULL) {
		ldns_rdf_deep_free(owner);
		ldns_pkt_free(p);
		return NULL;
	}
	ldns_pkt_set_aa(p, d->name != NULL);
	ldns_pkt_set_tc(p, tc);
	ldns_rr *question = record(owner, q->type, 0, true);
	ldns_rr_set_class(question, (ldns_rr_class)q->klass);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, question);
	if (!tc)
		add_answers(p, owner, q, d);
	ldns_rdf_deep_free(owner);
	return p;
}

static int to_wire(ldns_pkt *p, uint8_t **out, size_t *len)
{
	if (p == NULL)
		return -1;
	uint8_t *wire = NULL;
	size_t n = 0;
	ldns_status st = ldns_pkt2wire(&wire, p, &n);
	ldns_pkt_free(p);
	if (st != LDNS_STATUS_OK) {
		free(wire);
		return -1;
	}
	*out = wire;
	*len = n;
	return 0;
}

int dns_wire_reply(const struct dns_wire_query *q, const struct dns_decision *d, size_t max,
		   uint8_t **out, size_t *len)
{
	if (to_wire(build(q, d, d->tc), out, len) != 0)
		return -1;
	if (*len <= max || d->tc)
		return 0;
	free(*out);
	return to_wire(build(q, d, true), out, len);
}

int dns_wire_error(const struct dns_wire_query *q, uint8_t **out, size_t *len)
{
	return to_wire(header(q, q->rcode), out, len);
}

char *dns_wire_type_name(uint16_t type)
{
	char *s = ldns_rr_type2str((ldns_rr_type)type);
	char *copy = xstrdup(s ? s : "TYPE?");
	free(s);
	return copy;
}

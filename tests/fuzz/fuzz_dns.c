/* fuzz_dns: the DNS server's query path, bytes in to bytes out, exactly
 * as net/dns_server runs it but without a socket: dns_wire_parse, then
 * dns_decide under a scenario with every kind of name, then the reply
 * over UDP and over TCP (or the FORMERR/NOTIMP reply).
 *
 * Beyond "no crash": what upsim sends must itself be a DNS message ldns
 * reads back, a response (QR) to the query's id with the question's type,
 * no bigger than the client's UDP limit; an error reply is a bare header.
 * A violation aborts, so libFuzzer reports it like a crash. */
#include <ldns/ldns.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dns_decide.h"
#include "net/dns_wire.h"
#include "scenario/model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char scenario_json[] =
	"{\"upsim\": 1, \"seed\": 1, \"dns\": {\"listen\": \"127.0.0.1:0\", \"names\": {"
	" \"orders.test\": {\"a\": [\"127.0.0.1\", \"127.0.0.2\"], \"aaaa\": [\"::1\"],"
	"                  \"rotate\": true, \"ttl\": 5},"
	" \"_http._tcp.orders.test\": {\"srv\": [{\"port\": 80, \"target\": \"orders.test\"}]},"
	" \"gone.test\": {\"fault\": \"nxdomain\"}, \"sf.test\": {\"fault\": \"servfail\"},"
	" \"hole.test\": {\"fault\": \"timeout\"}, \"empty.test\": {\"fault\": \"empty\"},"
	" \"tc.test\": {\"fault\": \"truncated\", \"a\": [\"127.0.0.9\"]},"
	" \"many.test\": {\"aaaa\": "
	"[\"::1\",\"::2\",\"::3\",\"::4\",\"::5\",\"::6\",\"::7\",\"::8\","
	"   "
	"\"::9\",\"::10\",\"::11\",\"::12\",\"::13\",\"::14\",\"::15\",\"::16\",\"::17\",\"::18\","
	"   \"::19\",\"::20\",\"::21\",\"::22\",\"::23\",\"::24\",\"::25\",\"::26\",\"::27\"]},"
	" \"pick.test\": {\"choose\": [{\"fault\": \"refused\"}, {\"a\": [\"10.0.0.1\"]}]}}},"
	" \"phases\": [{\"name\": \"up\"}, {\"name\": \"down\", \"dns\": {\"names\": {"
	"   \"orders.test\": {\"flap\": [[\"10.0.0.1\"], [\"10.0.0.2\"]], \"every\": \"1s\"}}}}]}";

static struct scenario *sc;
static struct dns_state st;

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_dns: %s\n", what);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct upsim_err err = {0};
	sc = scenario_load_buffer("<fuzz>", scenario_json, sizeof scenario_json - 1, &err);
	if (sc == NULL)
		fail(err.count ? err.msgs[0] : "scenario");
	dns_state_init(&st, sc);
	return 0;
}

/* The reply must read back as a response to q. */
static void check_reply(const struct dns_wire_query *q, const uint8_t *out, size_t len, size_t max,
			bool header_only)
{
	if (len > max)
		fail("reply bigger than the client's limit");
	ldns_pkt *p = NULL;
	if (ldns_wire2pkt(&p, out, len) != LDNS_STATUS_OK)
		fail("reply does not parse back");
	if (!ldns_pkt_qr(p) || ldns_pkt_id(p) != q->id)
		fail("reply is not a response to the query's id");
	if (header_only && (len != 12 || (int)ldns_pkt_get_rcode(p) != q->rcode))
		fail("error reply is not a bare header with the rcode");
	if (!header_only) {
		ldns_rr_list *qs = ldns_pkt_question(p);
		if (ldns_rr_list_rr_count(qs) != 1
		    || ldns_rr_get_type(ldns_rr_list_rr(qs, 0)) != q->type)
			fail("reply does not repeat the question");
	}
	ldns_pkt_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_wire_query q;
	enum dns_wire_verdict v = dns_wire_parse(data, size, &q);
	uint8_t *out = NULL;
	size_t len = 0;
	if (v == DNS_WIRE_ERROR) {
		if (dns_wire_error(&q, &out, &len) != 0)
			fail("no error reply");
		check_reply(&q, out, len, DNS_WIRE_UDP_MIN, true);
		free(out);
	} else if (v == DNS_WIRE_QUERY) {
		if (q.udp_max < DNS_WIRE_UDP_MIN || q.udp_max > DNS_WIRE_UDP_MAX)
			fail("UDP limit out of range");
		for (int tcp = 0; tcp < 2; tcp++) {
			struct dns_question question = {
				.name = q.name,
				.type = q.type,
				.tcp = tcp,
				.phase = q.id % 3,
				.elapsed_us = (uint64_t)q.id * 100000,
			};
			struct dns_decision d;
			dns_decide(sc, &st, &question, &d);
			if (d.silent)
				continue;
			size_t max = tcp ? 65535 : q.udp_max;
			if (dns_wire_reply(&q, &d, max, &out, &len) != 0)
				fail("no reply for a query");
			check_reply(&q, out, len, max, false);
			free(out);
		}
	} else if (v != DNS_WIRE_DROP) {
		fail("unknown verdict");
	}
	dns_wire_query_clear(&q);
	return 0;
}

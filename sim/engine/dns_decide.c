#include "engine/dns_decide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* Streams of names sit far above the rules' (behave uses the rule index),
 * so adding a DNS name never shifts a rule's draws. */
#define DNS_STREAM_BASE (1ULL << 40)

const char *dns_rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	};
	if (rcode >= 0 && rcode <= DNS_RCODE_REFUSED)
		return names[rcode];
	return "RCODE";
}

void dns_state_init(struct dns_state *st, const struct scenario *sc)
{
	memset(st, 0, sizeof *st);
	st->scenario = sc;
	st->n = sc->n_dns_names;
	size_t n = st->n ? st->n : 1;
	st->turn_a = xcalloc(n, sizeof *st->turn_a);
	st->turn_aaaa = xcalloc(n, sizeof *st->turn_aaaa);
	st->rng = xcalloc(n, sizeof *st->rng);
	for (size_t i = 0; i < st->n; i++)
		rng_seed(&st->rng[i], sc->seed, DNS_STREAM_BASE + i);
}

void dns_state_clear(struct dns_state *st)
{
	free(st->turn_a);
	free(st->turn_aaaa);
	free(st->rng);
	memset(st, 0, sizeof *st);
}

static const struct dns_name *find(const struct scenario *sc, const struct dns_question *q)
{
	const struct dns_name *nm = NULL;
	if (q->phase < sc->n_phases)
		nm = dns_config_find(sc->phases[q->phase].dns, q->name);
	return nm ? nm : dns_config_find(sc->dns, q->name);
}

static int choose(const struct dns_name *nm, struct dns_state *st)
{
	if (!nm->choose)
		return 0;
	uint64_t draw = rng_below(&st->rng[nm->index], nm->total_weight);
	for (size_t i = 0; i < nm->n_answers; i++) {
		if (draw < nm->answers[i].weight)
			return (int)i;
		draw -= nm->answers[i].weight;
	}
	return (int)nm->n_answers - 1; /* not reached: the weights add up */
}

/* The records of a NOERROR answer with records, by type. */
static void records(const struct dns_answer *a, struct dns_state *st, size_t index,
		    const struct dns_question *q, struct dns_decision *out)
{
	uint64_t *turn = NULL;
	switch (q->type) {
	case DNS_TYPE_A:
		if (a->n_flap > 0) {
			size_t set = (size_t)(q->elapsed_us / a->every_us % a->n_flap);
			out->addrs = a->flap[set];
			out->n_addrs = a->n_flap_addrs[set];
		} else {
			out->addrs = a->a;
			out->n_addrs = a->n_a;
		}
		turn = &st->turn_a[index];
		break;
	case DNS_TYPE_AAAA:
		out->addrs = a->aaaa;
		out->n_addrs = a->n_aaaa;
		turn = &st->turn_aaaa[index];
		break;
	case DNS_TYPE_SRV:
		out->srv = a->srv;
		out->n_srv = a->n_srv;
		break;
	default: break;
	}
	if (a->rotate && turn != NULL && out->n_addrs > 0)
		out->first = (size_t)((*turn)++ % out->n_addrs);
}

void dns_decide(const struct scenario *sc, struct dns_state *st, const struct dns_question *q,
		struct dns_decision *out)
{
	memset(out, 0, sizeof *out);
	out->choice = -1;
	out->rcode = DNS_RCODE_REFUSED;
	const struct dns_name *nm = find(sc, q);
	if (nm == NULL || nm->n_answers == 0 || nm->index >= st->n)
		return;
	out->name = nm;
	int pick = choose(nm, st);
	if (nm->choose)
		out->choice = pick;
	const struct dns_answer *a = &nm->answers[pick];
	out->fault = a->fault;
	out->delay_us = a->delay_us;
	out->ttl = a->ttl;
	out->rcode = DNS_RCODE_NOERROR;
	switch (a->fault) {
	case DNS_FAULT_NXDOMAIN: out->rcode = DNS_RCODE_NXDOMAIN; return;
	case DNS_FAULT_SERVFAIL: out->rcode = DNS_RCODE_SERVFAIL; return;
	case DNS_FAULT_REFUSED: out->rcode = DNS_RCODE_REFUSED; return;
	case DNS_FAULT_TIMEOUT: out->silent = true; return;
	case DNS_FAULT_EMPTY: return;
	case DNS_FAULT_TRUNCATED:
		if (!q->tcp) {
			out->tc = true;
			return;
		}
		break;
	case DNS_FAULT_NONE: break;
	}
	records(a, st, nm->index, q, out);
}

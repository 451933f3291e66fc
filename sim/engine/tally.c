#include "engine/tally.h"

#include <string.h>

const double tally_buckets[TALLY_BUCKETS] = {
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

static void count_duration(struct tally *t, uint64_t us)
{
	double s = (double)us / 1e6;
	size_t i = 0;
	while (i < TALLY_BUCKETS && s > tally_buckets[i])
		i++;
	t->duration_buckets[i]++;
	t->duration_sum_s += s;
}

/* The accept stage's own decisions, by their first letter. A TLS record
 * (reason "tls": "handshake_hang", "handshake_reset", "alert", ...,
 * "no_request") is not one of them: "handshake_reset" is no hang. */
static void count_accept(struct tally *t, const char *accept, const char *reason)
{
	if (accept == NULL || (reason != NULL && strcmp(reason, "tls") == 0))
		return;
	switch (accept[0]) {
	case 'r': t->accept_reset++; break;
	case 'c': t->accept_close++; break;
	case 'h': t->accept_hang++; break;
	case 'q': t->accept_queue++; break;
	default: break;
	}
}

void tally_add(struct tally *t, const struct record *r, enum fault_kind fault_kind)
{
	switch (r->kind) {
	case RECORD_REQUEST:
		t->requests++;
		if ((unsigned)fault_kind < FAULT_COUNT)
			t->by_fault[fault_kind]++;
		if ((unsigned)r->outcome < OUTCOME_COUNT)
			t->by_outcome[r->outcome]++;
		if (r->status >= 100 && r->status <= 999)
			t->by_status[r->status / 100]++;
		count_duration(t, r->duration_us);
		break;
	case RECORD_CONNECTION: count_accept(t, r->accept, r->reason); break;
	case RECORD_PHASE: t->phase_changes++; break;
	case RECORD_SCENARIO:
	case RECORD_DRILL:
	case RECORD_DNS: break;
	}
}

/* tally: totals over journal records since the last reset — what the
 * stats endpoint and the Prometheus metrics report. Counting the records
 * themselves keeps the totals and the journal in exact agreement. */
#ifndef UPSIM_ENGINE_TALLY_H
#define UPSIM_ENGINE_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "engine/record.h"
#include "scenario/model.h"

/* Upper bounds (seconds) of the request duration histogram buckets; a
 * last, implicit bucket is +Inf. */
extern const double tally_buckets[];
#define TALLY_BUCKETS 14

struct tally {
	uint64_t requests;		    /* request records */
	uint64_t by_fault[FAULT_COUNT];	    /* request records per fault (0: none) */
	uint64_t by_outcome[OUTCOME_COUNT]; /* request records per outcome */
	uint64_t by_status[10];		    /* request records per status class */
	uint64_t accept_reset, accept_close, accept_hang, accept_queue;
	uint64_t duration_buckets[TALLY_BUCKETS + 1]; /* not cumulative */
	double duration_sum_s;
	uint64_t phase_changes;
};

/* Count r (any kind). fault_kind is the request's fault (FAULT_NONE for
 * none), which the record only names. */
void tally_add(struct tally *t, const struct record *r, enum fault_kind fault_kind);

#endif

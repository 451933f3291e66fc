/* behave: the runtime state behind a scenario's decisions.
 *
 * The scenario is immutable; what changes as requests arrive (each rule's
 * position in its sequence, each rule's random stream) lives here, one
 * struct behave per loaded scenario. Each rule draws from its own stream,
 * seeded from the scenario seed and the rule's index, so traffic to one
 * rule never shifts the choices of another. */
#ifndef UPSIM_ENGINE_BEHAVE_H
#define UPSIM_ENGINE_BEHAVE_H

#include <stdint.h>

#include "base/rng.h"
#include "engine/overload.h"
#include "scenario/model.h"

struct behave_rule {
	struct rng rng;
	uint64_t count;	  /* requests this rule has taken */
	uint64_t *picked; /* per action: times drawn (rules only) */
};

struct behave {
	unsigned refs;			 /* exchanges in flight hold one each */
	unsigned thread;		 /* --threads: whose streams (0: the first) */
	struct scenario *scenario;	 /* one reference held */
	struct behave_rule *rules;	 /* one per rule (sc->all_rules order),
					   then one for the defaults */
	struct overload overload;	 /* the top level's overload model */
	struct overload *phase_overload; /* per phase, for phases with their own */
	struct rng overload_rng;	 /* service times */
};

/* New state for sc with one reference, taking a reference to sc. With
 * --threads N each thread decides on its own: thread t's streams are
 * seeded apart from every other thread's, and thread 0's are those of a
 * single-threaded upsim. */
struct behave *behave_new(struct scenario *sc, unsigned thread);
/* Take one more reference to b; returns b. */
struct behave *behave_ref(struct behave *b);
/* Drop a reference; the last frees b and drops its scenario. NULL ok. */
void behave_unref(struct behave *b);
/* Put every sequence back at its start, reseed every stream and zero the
 * counters (requests in flight keep their workers and queue places). */
void behave_reset(struct behave *b);

/* The action the next request matched by rule r gets (borrowed from the
 * scenario). Advances the rule's sequence or stream. */
const struct action *behave_pick(struct behave *b, const struct rule *r);

/* A state of sc that is all zeros, capacities too, for behave_add. */
struct behave *behave_new_sum(struct scenario *sc);
/* Add b's counters (requests per rule, actions picked) and overload
 * figures (capacity included: with --threads each thread has the model's
 * workers and queue) to sum's; both are states of the same scenario. */
void behave_add(struct behave *sum, const struct behave *b);
/* The overload state in force in phase (its own model, or the top
 * level's). */
struct overload *behave_overload(struct behave *b, size_t phase);

/* A request matched no rule: count it for the defaults. */
void behave_took_defaults(struct behave *b);

/* The random stream of rule r, or of the defaults when r is NULL. Delays
 * and garbage are drawn from it after the action is picked. */
struct rng *behave_stream(struct behave *b, const struct rule *r);

/* Draw a duration from d (microseconds), capped at 24 hours. */
uint64_t behave_draw_us(struct rng *r, const struct dist *d);

#endif

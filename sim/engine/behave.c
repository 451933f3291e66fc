#include "engine/behave.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"

#include "base/xalloc.h"

struct behave *behave_new(struct scenario *sc, unsigned thread)
{
	struct behave *b = xcalloc(1, sizeof *b);
	b->refs = 1;
	b->thread = thread;
	b->scenario = scenario_ref(sc);
	b->rules = xcalloc(sc->n_all_rules + 1, sizeof *b->rules);
	for (size_t i = 0; i < sc->n_all_rules; i++)
		b->rules[i].picked = xcalloc(sc->all_rules[i]->n_actions,
					     sizeof *b->rules[i].picked);
	overload_init(&b->overload, sc->overload.workers, sc->overload.queue);
	b->phase_overload = xcalloc(sc->n_phases ? sc->n_phases : 1, sizeof *b->phase_overload);
	for (size_t p = 0; p < sc->n_phases; p++) {
		const struct overload_model *m = &sc->phases[p].overload;
		overload_init(&b->phase_overload[p], m->workers, m->queue);
	}
	behave_reset(b);
	return b;
}

struct behave *behave_ref(struct behave *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

void behave_unref(struct behave *b)
{
	if (b == NULL || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < b->scenario->n_all_rules; i++)
		free(b->rules[i].picked);
	scenario_unref(b->scenario);
	free(b->rules);
	free(b->phase_overload);
	free(b);
}

/* Stream i of this thread: threads above 0 take streams no single
 * thread uses. */
static uint64_t stream(const struct behave *b, size_t i)
{
	return (uint64_t)i | (uint64_t)b->thread << 32;
}

void behave_reset(struct behave *b)
{
	const struct scenario *sc = b->scenario;
	for (size_t i = 0; i <= sc->n_all_rules; i++) {
		rng_seed(&b->rules[i].rng, sc->seed, stream(b, i));
		b->rules[i].count = 0;
		if (i < sc->n_all_rules)
			memset(b->rules[i].picked, 0,
			       sc->all_rules[i]->n_actions * sizeof *b->rules[i].picked);
	}
	rng_seed(&b->overload_rng, sc->seed, stream(b, sc->n_all_rules + 1));
	overload_reset_counters(&b->overload);
	for (size_t p = 0; p < sc->n_phases; p++)
		overload_reset_counters(&b->phase_overload[p]);
}

struct behave *behave_new_sum(struct scenario *sc)
{
	struct behave *b = behave_new(sc, 0);
	overload_init(&b->overload, 0, 0);
	for (size_t p = 0; p < sc->n_phases; p++)
		overload_init(&b->phase_overload[p], 0, 0);
	return b;
}

static void overload_add(struct overload *sum, const struct overload *o)
{
	sum->workers += o->workers;
	sum->queue += o->queue;
	sum->busy += o->busy;
	sum->waiting += o->waiting;
	sum->served_at_once += o->served_at_once;
	sum->served_after_wait += o->served_after_wait;
	sum->rejected += o->rejected;
	sum->peak_busy += o->peak_busy;
	sum->peak_waiting += o->peak_waiting;
}

void behave_add(struct behave *sum, const struct behave *b)
{
	const struct scenario *sc = b->scenario;
	for (size_t i = 0; i < sc->n_all_rules; i++) {
		sum->rules[i].count += b->rules[i].count;
		for (size_t k = 0; k < sc->all_rules[i]->n_actions; k++)
			sum->rules[i].picked[k] += b->rules[i].picked[k];
	}
	sum->rules[sc->n_all_rules].count += b->rules[sc->n_all_rules].count; /* defaults */
	overload_add(&sum->overload, &b->overload);
	for (size_t p = 0; p < sc->n_phases; p++)
		overload_add(&sum->phase_overload[p], &b->phase_overload[p]);
}

struct overload *behave_overload(struct behave *b, size_t phase)
{
	const struct scenario *sc = b->scenario;
	if (phase < sc->n_phases && sc->phases[phase].has_overload)
		return &b->phase_overload[phase];
	return &b->overload;
}

void behave_took_defaults(struct behave *b)
{
	b->rules[b->scenario->n_all_rules].count++;
}

static size_t pick_weighted(struct behave_rule *st, const struct rule *r)
{
	uint64_t x = rng_below(&st->rng, r->total_weight);
	for (size_t i = 0; i < r->n_actions; i++) {
		if (x < r->actions[i].weight)
			return i;
		x -= r->actions[i].weight;
	}
	return r->n_actions - 1; /* unreachable: weights sum to total */
}

/* The nth request (from 0) gets the nth action; past the end a cycling
 * sequence starts over and a plain one repeats its last action. */
static size_t pick_sequence(uint64_t nth, const struct rule *r)
{
	if (nth < r->n_actions)
		return (size_t)nth;
	return r->cycle ? (size_t)(nth % r->n_actions) : r->n_actions - 1;
}

static size_t pick_index(struct behave_rule *st, const struct rule *r, uint64_t nth)
{
	switch (r->behaviour) {
	case BEHAVE_CHOOSE: return pick_weighted(st, r);
	case BEHAVE_SEQUENCE: return pick_sequence(nth, r);
	case BEHAVE_RESPOND: break;
	}
	return 0;
}

const struct action *behave_pick(struct behave *b, const struct rule *r)
{
	struct behave_rule *st = &b->rules[r->index];
	size_t i = pick_index(st, r, st->count++);
	st->picked[i]++;
	return &r->actions[i];
}

struct rng *behave_stream(struct behave *b, const struct rule *r)
{
	return &b->rules[r ? r->index : b->scenario->n_all_rules].rng;
}

uint64_t behave_draw_us(struct rng *r, const struct dist *d)
{
	double us;
	switch (d->kind) {
	case DIST_UNIFORM: return d->a_us + rng_below(r, d->b_us - d->a_us + 1);
	case DIST_LOGNORMAL: {
		/* Box-Muller: one standard normal from two uniforms. */
		double u1 = 1.0 - rng_unit(r), u2 = rng_unit(r);
		double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
		us = (double)d->a_us * exp(d->sigma * z);
		return us >= (double)UNITS_MAX_DURATION_US ? UNITS_MAX_DURATION_US : (uint64_t)us;
	}
	case DIST_FIXED: break;
	}
	return d->a_us;
}

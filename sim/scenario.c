/* scenario: lifetime and resolution of the immutable model. Loading and
 * validation live in scenario_load.c. */
#include "scenario.h"

#include <stdlib.h>

static void free_headers(struct header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

static void free_action(struct action *a)
{
	free_headers(a->headers, a->n_headers);
	free(a->body);
	free(a->fault.bytes);
}

static void free_expect(struct expect *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n_gateways; i++) {
		free(e->gateways[i].gateway);
		free(e->gateways[i].log);
	}
	free(e->gateways);
	free(e->path);
	free(e);
}

static void free_rule(struct rule *r)
{
	free(r->name);
	free(r->in_phase);
	for (size_t i = 0; i < r->match.n_methods; i++)
		free(r->match.methods[i]);
	free(r->match.methods);
	free(r->match.path);
	free_headers(r->match.headers, r->match.n_headers);
	free_headers(r->match.query, r->match.n_query);
	for (size_t i = 0; i < r->n_actions; i++)
		free_action(&r->actions[i]);
	free(r->actions);
	free_expect(r->expect);
}

static void scenario_free(struct scenario *sc)
{
	for (size_t i = 0; i < sc->n_rules; i++)
		free_rule(&sc->rules[i]);
	free(sc->rules);
	for (size_t i = 0; i < sc->n_phases; i++)
		free(sc->phases[i].name);
	free(sc->phases);
	free_expect(sc->expect);
	free_action(&sc->defaults);
	free_action(&sc->overload.when_full);
	free(sc->file);
	free(sc->name);
	free(sc->description);
	free(sc);
}

struct scenario *scenario_ref(struct scenario *sc)
{
	if (sc != NULL)
		__atomic_add_fetch(&sc->refs, 1, __ATOMIC_RELAXED);
	return sc;
}

void scenario_unref(struct scenario *sc)
{
	if (sc != NULL && __atomic_sub_fetch(&sc->refs, 1, __ATOMIC_ACQ_REL) == 0)
		scenario_free(sc);
}

bool scenario_status_has_no_body(int status)
{
	return status < 200 || status == 204 || status == 304;
}

void scenario_resolve(const struct scenario *sc, const struct action *a,
		      struct action *out)
{
	const struct action *d = &sc->defaults;
	*out = *a;
	if (!(a->set & ACTION_STATUS))
		out->status = d->status;
	if (!(a->set & ACTION_HEADERS)) {
		out->headers = d->headers;
		out->n_headers = d->n_headers;
	}
	if (!(a->set & ACTION_BODY)) {
		out->body = d->body;
		out->body_len = d->body_len;
		out->body_generated = d->body_generated;
	}
	if (!(a->set & ACTION_CHUNKED))
		out->chunked = d->chunked;
	if (!(a->set & ACTION_DELAY))
		out->delay = d->delay;
	if (!(a->set & ACTION_FAULT))
		out->fault = d->fault;
	if (!(a->set & ACTION_PACE))
		out->pace = d->pace;
	if (!(a->set & ACTION_AFTER))
		out->after = d->after;
	if (!(a->set & ACTION_READ))
		out->read_rate = d->read_rate;
	/* A 204, 304 or 1xx carries no body: an inherited one is dropped (one
	 * written in the action itself is refused by the loader). */
	if (!(a->set & ACTION_BODY) && scenario_status_has_no_body(out->status)) {
		out->body = NULL;
		out->body_len = 0;
		out->body_generated = false;
	}
	out->set = d->set | a->set;
}

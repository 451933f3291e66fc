/* scenario: lifetime and resolution of the immutable model. Loading and
 * validation live in scenario_load.c. */
#include "scenario/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/dns.h"
#include "scenario/expect.h"

void scenario_headers_free(struct header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

static void free_action(struct action *a)
{
	scenario_headers_free(a->headers, a->n_headers);
	free(a->body);
	free(a->fault.bytes);
	free(a->forward_url);
	for (size_t i = 0; i < a->n_remove_headers; i++)
		free(a->remove_headers[i]);
	free(a->remove_headers);
}

void scenario_action_clear(struct action *a)
{
	free_action(a);
	memset(a, 0, sizeof *a);
}

static void free_rule(struct rule *r)
{
	free(r->name);
	free(r->in_phase);
	for (size_t i = 0; i < r->match.n_methods; i++)
		free(r->match.methods[i]);
	free(r->match.methods);
	free(r->match.path);
	scenario_headers_free(r->match.headers, r->match.n_headers);
	scenario_headers_free(r->match.query, r->match.n_query);
	for (size_t i = 0; i < r->n_actions; i++)
		free_action(&r->actions[i]);
	free(r->actions);
	expect_free(r->expect);
}

static void free_phase(struct phase *ph)
{
	free(ph->name);
	for (size_t i = 0; i < ph->n_rules; i++)
		free_rule(&ph->rules[i]);
	free(ph->rules);
	free_action(&ph->own_defaults);
	free_action(&ph->overload.when_full);
	dns_config_free(ph->dns);
	expect_free(ph->expect);
}

static void scenario_free(struct scenario *sc)
{
	for (size_t i = 0; i < sc->n_rules; i++)
		free_rule(&sc->rules[i]);
	free(sc->rules);
	for (size_t i = 0; i < sc->n_phases; i++)
		free_phase(&sc->phases[i]);
	free(sc->phases);
	free(sc->all_rules);
	expect_free(sc->expect);
	free_action(&sc->defaults);
	free_action(&sc->overload.when_full);
	free(sc->file);
	free(sc->name);
	free(sc->description);
	free(sc->upstream);
	free(sc->forwarding.ca_file);
	dns_config_free(sc->dns);
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

static const struct phase *phase_at(const struct scenario *sc, size_t phase)
{
	return phase < sc->n_phases ? &sc->phases[phase] : NULL;
}

const struct rule *scenario_rules(const struct scenario *sc, size_t phase, size_t *n)
{
	const struct phase *ph = phase_at(sc, phase);
	if (ph && ph->has_rules) {
		*n = ph->n_rules;
		return ph->rules;
	}
	*n = sc->n_rules;
	return sc->rules;
}

const struct action *scenario_defaults(const struct scenario *sc, size_t phase)
{
	const struct phase *ph = phase_at(sc, phase);
	return ph && ph->has_defaults ? &ph->defaults : &sc->defaults;
}

const struct conn_policy *scenario_connection(const struct scenario *sc, size_t phase)
{
	const struct phase *ph = phase_at(sc, phase);
	return ph && ph->has_connection ? &ph->connection : &sc->connection;
}

bool scenario_uses_tls(const struct scenario *sc, char *where, size_t len)
{
	if (sc->connection.tls.set) {
		snprintf(where, len, "connection.tls");
		return true;
	}
	for (size_t i = 0; i < sc->n_phases; i++) {
		const struct phase *ph = &sc->phases[i];
		if (ph->has_connection && ph->connection.tls.set) {
			snprintf(where, len, "phases[%zu].connection.tls", i);
			return true;
		}
	}
	return false;
}

const struct overload_model *scenario_overload(const struct scenario *sc, size_t phase)
{
	const struct phase *ph = phase_at(sc, phase);
	return ph && ph->has_overload ? &ph->overload : &sc->overload;
}

bool scenario_action_raw(const struct action *a)
{
	const struct pace *p = &a->pace;
	return a->fault.kind != FAULT_NONE || p->drip_bytes || p->rate || p->header_delay_us
	       || p->stall_at;
}

void scenario_resolve(const struct scenario *sc, const struct action *a, struct action *out)
{
	scenario_resolve_with(&sc->defaults, a, out);
}

void scenario_resolve_with(const struct action *d, const struct action *a, struct action *out)
{
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
	if (!(a->set & ACTION_REMOVE_HEADERS)) {
		out->remove_headers = d->remove_headers;
		out->n_remove_headers = d->n_remove_headers;
	}
	if (!(a->set & ACTION_FORWARD)) {
		out->forward = d->forward;
		out->forward_url = d->forward_url;
	}
	if (!(a->set & ACTION_UPSTREAM_ERROR)) {
		out->on_error = d->on_error;
		out->on_error_status = d->on_error_status;
	}
	/* A 204, 304 or 1xx carries no body: an inherited one is dropped (one
	 * written in the action itself is refused by the loader). */
	if (!(a->set & ACTION_BODY) && scenario_status_has_no_body(out->status)) {
		out->body = NULL;
		out->body_len = 0;
		out->body_generated = false;
	}
	out->set = d->set | a->set;
}

bool scenario_find_phase(const struct scenario *sc, const char *name, size_t *index)
{
	for (size_t i = 0; i < sc->n_phases; i++) {
		if (strcmp(sc->phases[i].name, name) == 0) {
			*index = i;
			return true;
		}
	}
	return false;
}

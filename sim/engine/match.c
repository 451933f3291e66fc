#include "engine/match.h"

#include <string.h>

bool match_glob(const char *pattern, const char *s)
{
	/* Iterative wildcard matching with one backtrack point: linear in
	 * practice and never recursive, so a hostile path cannot blow the
	 * stack or go exponential. */
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*pattern == '*') {
			star = pattern++;
			resume = s;
		} else if (*pattern == *s) {
			pattern++;
			s++;
		} else if (star) {
			pattern = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

static bool method_matches(const struct match *m, const char *method)
{
	if (m->methods == NULL)
		return true;
	for (size_t i = 0; i < m->n_methods; i++)
		if (strcmp(m->methods[i], method) == 0)
			return true;
	return false;
}

static bool pairs_match(const struct header *pairs, size_t n,
			const char *(*lookup)(void *, const char *), void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = lookup ? lookup(ctx, pairs[i].name) : NULL;
		if (got == NULL || strcmp(got, pairs[i].value) != 0)
			return false;
	}
	return true;
}

static bool position_matches(const struct match *m, unsigned nth)
{
	if (m->connection_request && m->connection_request != nth)
		return false;
	switch (m->reused) {
	case REUSE_ONLY: return nth > 1;
	case REUSE_FIRST: return nth <= 1;
	case REUSE_ANY: break;
	}
	return true;
}

bool match_request(const struct match *m, const struct match_request *req)
{
	return method_matches(m, req->method) && position_matches(m, req->conn_request)
	       && (m->path == NULL || match_glob(m->path, req->path))
	       && pairs_match(m->headers, m->n_headers, req->header, req->ctx)
	       && pairs_match(m->query, m->n_query, req->query, req->ctx);
}

const struct rule *match_first(const struct scenario *sc, const struct match_request *req)
{
	size_t n;
	const struct rule *rules = scenario_rules(sc, req->phase, &n);
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &rules[i];
		bool in_force = r->in_phase == NULL
				|| (req->phase < sc->n_phases && r->in_phase[req->phase]);
		if (in_force && match_request(&r->match, req))
			return r;
	}
	return NULL;
}

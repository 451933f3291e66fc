#include "scenario/expect.h"

#include <stdlib.h>
#include <string.h>

static void free_request(struct probe_request *r)
{
	free(r->method);
	free(r->path);
	scenario_headers_free(r->headers, r->n_headers);
	free(r->body);
}

size_t expect_sites(const struct scenario *sc)
{
	return 1 + sc->n_rules + sc->n_phases;
}

struct expect_site expect_site_at(const struct scenario *sc, size_t i)
{
	if (i == 0)
		return (struct expect_site){sc->expect, -1, -1};
	if (i - 1 < sc->n_rules)
		return (struct expect_site){sc->rules[i - 1].expect, (int)(i - 1), -1};
	size_t ph = i - 1 - sc->n_rules;
	return (struct expect_site){sc->phases[ph].expect, -1, (int)ph};
}

const struct gateway_expect *expect_for(const struct expect *e, const char *name)
{
	for (size_t i = 0; e != NULL && i < e->n_gateways; i++)
		if (strcmp(e->gateways[i].gateway, name) == 0)
			return &e->gateways[i];
	return NULL;
}

void expect_free(struct expect *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n_gateways; i++) {
		struct gateway_expect *g = &e->gateways[i];
		free(g->gateway);
		free(g->log);
		scenario_headers_free(g->headers, g->n_headers);
	}
	free(e->gateways);
	free_request(&e->probe);
	for (size_t i = 0; i < e->n_steps; i++)
		free_request(&e->steps[i]);
	free(e->steps);
	free(e);
}

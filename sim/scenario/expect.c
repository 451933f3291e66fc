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

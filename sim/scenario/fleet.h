/* fleet: the upstreams of a fleet, as the command line and fleet files
 * name them (control/upstream.h has the running fleet).
 *
 * Several upstreams in one process — each on its own port with its
 * own scenario, timeline and counters, sharing one event loop, one journal
 * (records name their upstream) and one admin API. How a team tests its
 * gateway's load balancing: three backends, one of them bad.
 *
 *   upsim run --upstream a=127.0.0.1:0=healthy.json --upstream b=...
 *   upsim run --fleet fleet.json
 *
 * A fleet file: {"upsim": 1, "upstreams": [{"name": "a", "listen":
 * "127.0.0.1:0", "scenario": "healthy.json"}, ...]}; scenario paths are
 * relative to it. */
#ifndef UPSIM_SCENARIO_FLEET_H
#define UPSIM_SCENARIO_FLEET_H

#include <stddef.h>

#include "base/err.h"

#define FLEET_MAX 64

struct upstream_spec {
	char *name;	/* NULL: the single, unnamed upstream */
	char *listen;	/* ADDR:PORT */
	char *scenario; /* path */
};

/* Parse "NAME=ADDR:PORT=FILE" into out (new strings). 0, or -1 with the
 * reason in *why. */
int fleet_parse_spec(const char *arg, struct upstream_spec *out, const char **why);

/* Append the upstreams of the fleet file at path to specs (*n of them,
 * at most FLEET_MAX). 0, or -1 with every problem in err. */
int fleet_load_file(const char *path, struct upstream_spec *specs, size_t *n,
		    struct upsim_err *err);

void upstream_spec_clear(struct upstream_spec *s);

#endif

/* phase_load: the timeline — top-level "phases" and "loop".
 *
 *   "phases": [{"name": "up", "duration": "30s"},
 *              {"name": "down", "duration": "10s", "listen": false,
 *               "defaults": ACTION, "rules": [...], "connection": {...},
 *               "overload": {...}, "dns": {...}, "expect": {...}}],
 *   "loop": true
 *
 * A phase without a duration lasts until the admin API switches phases
 * (or for ever); a looping timeline needs a duration on every phase. */
#include <stdio.h>
#include <string.h>

#include "base/xalloc.h"
#include "scenario/dns.h"
#include "scenario/load.h"

static const char *const phase_keys[] = {
	"name",	    "duration", "listen", "defaults", "connection",
	"overload", "rules",	"dns",	  "expect",   NULL,
};

#define MAX_PHASES 1000

/* What a phase overrides while it is current. */
static void load_overrides(struct jcheck *jc, json_t *obj, struct scenario *sc, struct phase *ph)
{
	dns_load(jc, obj, true, &sc->n_dns_names, &ph->dns);
	if (ph->dns != NULL && sc->dns == NULL)
		jcheck_fail_key(jc, "dns",
				"the scenario has no top-level \"dns\": "
				"nothing listens for these names");
	json_t *d = json_object_get(obj, "defaults");
	if (d != NULL) {
		size_t mark = jcheck_push_key(jc, "defaults");
		load_action(jc, d, false, &ph->own_defaults);
		scenario_resolve_with(&sc->defaults, &ph->own_defaults, &ph->defaults);
		load_check_forward(jc, sc, &ph->defaults);
		jcheck_pop(jc, mark);
		ph->has_defaults = true;
	}
	if (json_object_get(obj, "rules") != NULL) {
		load_rule_list(jc, sc, obj, ph->name, &ph->rules, &ph->n_rules);
		ph->has_rules = true;
	}
	if (json_object_get(obj, "connection") != NULL) {
		load_connection(jc, obj, &ph->connection);
		ph->has_connection = true;
	}
	if (json_object_get(obj, "overload") != NULL) {
		load_overload(jc, obj, sc, &ph->overload);
		ph->has_overload = true;
	}
}

static void load_phase(struct jcheck *jc, json_t *obj, struct scenario *sc, size_t index,
		       struct phase *ph)
{
	ph->listen = true;
	if (!json_is_object(obj)) {
		jcheck_fail(jc, "a phase is an object, got %s", jcheck_type_name(obj));
		return;
	}
	jcheck_keys(jc, obj, phase_keys);
	if (jcheck_string(jc, obj, "name", &ph->name, NULL) != 1)
		ph->name = xasprintf("phases[%zu]", index);
	if (jcheck_duration(jc, obj, "duration", &ph->duration_us) == 1 && ph->duration_us == 0)
		jcheck_fail_key(jc, "duration", "must be more than 0");
	jcheck_bool(jc, obj, "listen", &ph->listen);
	load_overrides(jc, obj, sc, ph);
	/* The probe of a phase: GET / unless it says otherwise, sent while
	 * the phase is current (upsim check switches to it). */
	ph->expect = load_expect(jc, obj, "/");
}

void load_phases(struct jcheck *jc, json_t *root, struct scenario *sc)
{
	jcheck_bool(jc, root, "loop", &sc->loop);
	json_t *list = jcheck_array(jc, root, "phases");
	if (list == NULL) {
		if (sc->loop)
			jcheck_fail_key(jc, "loop", "needs \"phases\"");
		return;
	}
	size_t n = json_array_size(list);
	if (n == 0 || n > MAX_PHASES) {
		jcheck_fail_key(jc, "phases", "expected 1..%d phases", MAX_PHASES);
		return;
	}
	sc->phases = xcalloc(n, sizeof *sc->phases);
	sc->n_phases = n;
	size_t mark = jcheck_push_key(jc, "phases");
	for (size_t i = 0; i < n; i++) {
		size_t im = jcheck_push_index(jc, i);
		json_t *obj = json_array_get(list, i);
		load_phase(jc, obj, sc, i, &sc->phases[i]);
		if (json_is_object(obj) && json_object_get(obj, "duration") == NULL && sc->loop)
			jcheck_fail(jc, "missing \"duration\" (a looping timeline needs one "
					"on every phase)");
		jcheck_pop(jc, im);
	}
	jcheck_pop(jc, mark);
}

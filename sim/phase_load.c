/* phase_load: the timeline — top-level "phases" and "loop".
 *
 *   "phases": [{"name": "up", "duration": "30s"},
 *              {"name": "down", "duration": "10s", "listen": false}],
 *   "loop": true
 *
 * Every phase but the last needs a duration (the last without one lasts
 * for ever); a looping timeline needs them all. */
#include <stdio.h>
#include <string.h>

#include "load.h"
#include "xalloc.h"

/* Designed keys a phase will take, refused clearly until then. */
static const char *const later_keys[] = {
	"defaults", "connection", "overload", "rules", NULL,
};
static const char *const phase_keys[] = {
	"name", "duration", "listen", "defaults", "connection", "overload", "rules", NULL,
};

#define MAX_PHASES 1000

static void load_phase(struct jcheck *jc, json_t *obj, size_t index, struct phase *ph)
{
	ph->listen = true;
	if (!json_is_object(obj)) {
		jcheck_fail(jc, "a phase is an object, got %s", jcheck_type_name(obj));
		return;
	}
	jcheck_keys(jc, obj, phase_keys);
	for (int i = 0; later_keys[i]; i++)
		if (json_object_get(obj, later_keys[i]) != NULL)
			jcheck_fail_key(jc, later_keys[i], "per-phase %s is not supported by "
					"this build yet (phases play name, duration and listen)",
					later_keys[i]);
	if (jcheck_string(jc, obj, "name", &ph->name, NULL) != 1)
		ph->name = xasprintf("phases[%zu]", index);
	if (jcheck_duration(jc, obj, "duration", &ph->duration_us) == 1 &&
	    ph->duration_us == 0)
		jcheck_fail_key(jc, "duration", "must be more than 0");
	jcheck_bool(jc, obj, "listen", &ph->listen);
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
		load_phase(jc, obj, i, &sc->phases[i]);
		bool last = i + 1 == n;
		if (json_is_object(obj) && json_object_get(obj, "duration") == NULL &&
		    (!last || sc->loop))
			jcheck_fail(jc, "missing \"duration\" (%s)",
				    last ? "a looping timeline needs one on every phase"
					 : "only the last phase may last for ever");
		jcheck_pop(jc, im);
	}
	jcheck_pop(jc, mark);
}

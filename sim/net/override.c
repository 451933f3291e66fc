#include "net/override.h"

#include <string.h>

#include "base/err.h"
#include "base/units.h"
#include "base/xalloc.h"

#define OVERRIDE_FAULT "X-Upsim-Fault"
#define OVERRIDE_DELAY "X-Upsim-Delay"

/* A bad override header gets 400 saying what is wrong with it, whatever
 * the scenario says: the test that sent it has a bug. */
static void refuse_override(struct exchange *ex, const struct upsim_err *err)
{
	struct action *a = &ex->own;
	scenario_action_clear(a);
	a->set = ACTION_STATUS | ACTION_HEADERS | ACTION_BODY | ACTION_CHUNKED | ACTION_DELAY
		 | ACTION_FAULT | ACTION_PACE | ACTION_AFTER | ACTION_READ;
	a->status = 400;
	a->fault.then = END_CLOSE;
	a->after.kind = AFTER_KEEP;
	a->headers = xcalloc(1, sizeof *a->headers);
	a->headers[0] = (struct header){xstrdup("Content-Type"), xstrdup("text/plain")};
	a->n_headers = 1;
	size_t len = 0;
	for (size_t i = 0; i < err->count; i++)
		len += strlen(err->msgs[i]) + 1;
	a->body = xcalloc(1, len + 1);
	for (size_t i = 0; i < err->count; i++) {
		strcat(a->body, err->msgs[i]);
		strcat(a->body, "\n");
	}
	a->body_len = len;
	ex->action = *a;
}

/* X-Upsim-Fault (a fault name or a JSON action) replaces the action the
 * rules picked; X-Upsim-Delay sets its delay. */
void override_apply(struct exchange *ex, struct MHD_Connection *mhd, const struct action *defaults)
{
	const char *fault = MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, OVERRIDE_FAULT);
	const char *delay = MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, OVERRIDE_DELAY);
	struct upsim_err err = {0};
	if (fault != NULL && scenario_parse_action(OVERRIDE_FAULT, fault, &ex->own, &err) == 0) {
		scenario_resolve_with(defaults, &ex->own, &ex->action);
		ex->overridden = true;
		if (scenario_action_raw(&ex->action) && ex->action.body_len > SCENARIO_MAX_RAW_BODY)
			err_addf(&err, "%s: a faulty or paced body may be at most %u MiB",
				 OVERRIDE_FAULT, SCENARIO_MAX_RAW_BODY >> 20);
	}
	uint64_t us;
	const char *why = NULL;
	if (delay != NULL && err.count == 0) {
		if (units_parse_duration(delay, &us, &why) == 0) {
			ex->action.delay = (struct dist){.kind = DIST_FIXED, .a_us = us};
			ex->overridden = true;
		} else {
			err_addf(&err, "%s: %s", OVERRIDE_DELAY, why);
		}
	}
	if (err.count > 0)
		refuse_override(ex, &err);
	err_clear(&err);
}

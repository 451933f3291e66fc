/* fault: the catalogue of faults — names, parameters, explanations.
 *
 * One table drives the loader (which parameters a fault takes), `upsim
 * faults` (a line and an example each) and the docs, so the three never
 * disagree. */
#ifndef UPSIM_SCENARIO_FAULT_H
#define UPSIM_SCENARIO_FAULT_H

#include <stddef.h>

#include "scenario/model.h"

#define FAULT_MAX_PARAMS 6

struct fault_info {
	enum fault_kind kind;
	const char *name;
	const char *stage;      /* "request" or "respond" */
	const char *params[FAULT_MAX_PARAMS + 1]; /* keys it takes, NULL-ended */
	const char *summary;    /* what goes on the wire, one line */
	const char *example;    /* a JSON action using it */
};

/* Every fault of the catalogue ("none" excluded), in documentation order. */
extern const struct fault_info fault_table[];
extern const size_t fault_table_size;

/* The rest of the catalogue: behaviours set by fields other than "fault"
 * (the timeline, the accept stage, timing, the connection), for `upsim
 * faults`. */
struct catalogue_entry {
	const char *name, *stage, *summary, *example;
};
extern const struct catalogue_entry catalogue_more[];
extern const size_t catalogue_more_size;

/* The fault called name, or NULL. */
const struct fault_info *fault_by_name(const char *name);
/* The entry of kind (kind != FAULT_NONE). */
const struct fault_info *fault_by_kind(enum fault_kind kind);
/* Does fault f take parameter key? */
int fault_takes(const struct fault_info *f, const char *key);

/* Every parameter key any fault takes, NULL-ended (for unknown-key checks). */
extern const char *const fault_param_keys[];

#endif

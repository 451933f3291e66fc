/* fault: the catalogue of faults — names, parameters, properties,
 * explanations.
 *
 * One table drives the loader (which parameters a fault takes, which are
 * required, the values of its kind), the engine and the net layer (what a
 * fault does: its act and flags), `upsim faults` and the docs. A new fault
 * is a row here and its bytes in engine/render.c: sim/README.md has the
 * checklist, and tests/unit/check_fault.c fails while a row lacks its
 * wire test or its docs. */
#ifndef UPSIM_SCENARIO_FAULT_H
#define UPSIM_SCENARIO_FAULT_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario/model.h"

#define FAULT_MAX_PARAMS 6

/* Where in the exchange a fault acts. */
enum fault_stage {
	FAULT_STAGE_REQUEST = 1, /* instead of any response byte */
	FAULT_STAGE_RESPOND,	 /* in the bytes of the response */
};

/* What carrying a fault out takes: the net layer's one switch reads it. */
enum fault_act {
	FAULT_ACT_FIN = 1, /* end with a FIN, no byte sent */
	FAULT_ACT_RST,	   /* end with a RST, no byte sent */
	FAULT_ACT_HANG,	   /* send nothing for a while, then `then` */
	FAULT_ACT_WRITE,   /* render the bytes, write them raw, then `then` */
};

/* Properties of a fault, as flags of its row. */
enum {
	/* Acts as soon as the request's headers are in, before its body. */
	FAULT_ON_HEADERS = 1u << 0,
	/* Its bytes are not an HTTP response: no status line is sent. */
	FAULT_NOT_HTTP = 1u << 1,
	/* Draws its bytes from the rule's seeded stream. */
	FAULT_SEEDED = 1u << 2,
	/* Sends the action's response with a defect in its header block. */
	FAULT_TOUCHES_HEADERS = 1u << 3,
};

/* One parameter of a fault. */
struct fault_param {
	const char *key;
	const char *missing; /* NULL: optional; else required, and what to
				   say when it is missing */
	bool one_of;	     /* exactly one of the fault's one_of
				   parameters must be given */
};

struct fault_info {
	enum fault_kind kind;
	const char *name;
	enum fault_stage stage;
	enum fault_act act;
	unsigned flags;					 /* FAULT_ON_HEADERS, ... */
	struct fault_param params[FAULT_MAX_PARAMS + 1]; /* key NULL ends */
	const char *const *kinds;			 /* the values of its "kind", NULL-ended
				     (stored 1-based); NULL: takes none */
	const char *summary;				 /* what goes on the wire, one line */
	const char *example;				 /* a JSON action using it */
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
/* The entry of kind; NULL for FAULT_NONE. */
const struct fault_info *fault_by_kind(enum fault_kind kind);
/* Does fault f take parameter key? */
bool fault_takes(const struct fault_info *f, const char *key);
/* "request" or "respond". */
const char *fault_stage_name(enum fault_stage stage);
/* Does kind (FAULT_NONE: false) have every flag of flags? */
bool fault_has(enum fault_kind kind, unsigned flags);
/* What carrying kind out takes (kind != FAULT_NONE). */
enum fault_act fault_act(enum fault_kind kind);

/* Every parameter key any fault takes, NULL-ended (for unknown-key
 * checks), gathered from the table. */
const char *const *fault_param_keys(void);

#endif

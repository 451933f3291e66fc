/* pace: when each byte of a raw response may go out. Pure logic.
 *
 * A pacer walks the response from byte 0 and answers one question at a
 * time: write n bytes now, or wait until a deadline. Pauses (header_delay,
 * stall) happen once, at their byte offset; drips and rate run on absolute
 * deadlines from the start so they never drift. */
#ifndef UPSIM_ENGINE_PACE_H
#define UPSIM_ENGINE_PACE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/render.h"
#include "scenario/model.h"

#define PACE_MAX_PAUSES 2

struct pacer {
	size_t pos;	    /* bytes already written */
	size_t len;	    /* bytes to write in all */
	uint64_t next_ns;   /* earliest time of the next write */
	uint64_t chunk;	    /* bytes per step, 0: all at once */
	uint64_t step_left; /* bytes left in the current step */
	uint64_t step_ns;   /* time between steps */
	size_t pause_at[PACE_MAX_PAUSES];
	uint64_t pause_ns[PACE_MAX_PAUSES];
	int n_pauses;
};

/* Set p up for rendered response r paced by pace, starting at now_ns. */
void pace_init(struct pacer *p, const struct pace *pace, const struct render *r, uint64_t now_ns);

/* What to do at now_ns: returns the number of bytes to write now (> 0), or
 * 0 with *wake_ns set when the next write must wait, or 0 with *wake_ns 0
 * when everything is written. */
size_t pace_next(struct pacer *p, uint64_t now_ns, uint64_t *wake_ns);

/* Record that n bytes were written at now_ns (n may be less than offered:
 * a partial write). */
void pace_wrote(struct pacer *p, size_t n, uint64_t now_ns);

#endif

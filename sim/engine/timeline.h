/* timeline: which phase of a scenario is current at a given time. Pure.
 *
 * Phases follow each other by their durations from a starting phase (the
 * first, or the one the admin API jumped to); a looping timeline starts
 * over after its last phase. A phase without a duration stays current
 * until switched; without a loop, so does the last phase. */
#ifndef UPSIM_ENGINE_TIMELINE_H
#define UPSIM_ENGINE_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "scenario/model.h"

#define TIMELINE_NEVER UINT64_MAX

/* The index of the phase current elapsed_us after phase `from` began,
 * and in *until_us how long it stays current (TIMELINE_NEVER: until
 * switched). A scenario without phases has one endless phase, index 0. */
size_t timeline_at(const struct scenario *sc, size_t from, uint64_t elapsed_us, uint64_t *until_us);

/* Does phase index of sc accept connections? */
bool timeline_listens(const struct scenario *sc, size_t index);

/* The phase's name for logs ("default" without phases). */
const char *timeline_name(const struct scenario *sc, size_t index);

#endif

/* timeline: which phase of a scenario is current at a given time. Pure.
 *
 * Phases follow each other by their durations from the start; a looping
 * timeline starts over after its last phase. Without a loop, the last
 * phase stays current once reached (without a duration it lasts for ever;
 * with one, it simply never gives way). */
#ifndef UPSIM_TIMELINE_H
#define UPSIM_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

#define TIMELINE_NEVER UINT64_MAX

/* The index of the phase current elapsed_us after the start, and in
 * *until_us how long it stays current (TIMELINE_NEVER: for ever). A
 * scenario without phases has one endless phase, index 0. */
size_t timeline_at(const struct scenario *sc, uint64_t elapsed_us, uint64_t *until_us);

/* Does phase index of sc accept connections? */
bool timeline_listens(const struct scenario *sc, size_t index);

/* The phase's name for logs ("default" without phases). */
const char *timeline_name(const struct scenario *sc, size_t index);

/* The index of the phase called name, in *index; false when none is. */
bool timeline_find(const struct scenario *sc, const char *name, size_t *index);

/* How long after the timeline's start phase index begins. */
uint64_t timeline_offset(const struct scenario *sc, size_t index);

#endif

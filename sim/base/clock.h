/* clock: the two clocks upsim reads.
 *
 * Timers, delays and durations use the monotonic clock, which never jumps;
 * the wall clock is only for what a person or another machine reads
 * (journal times, --start-at). Plain reads, no caching: a clock_gettime
 * through the vDSO costs tens of nanoseconds. */
#ifndef UPSIM_BASE_CLOCK_H
#define UPSIM_BASE_CLOCK_H

#include <stdint.h>

/* The monotonic clock in nanoseconds. */
uint64_t clock_mono_ns(void);
/* The wall clock in microseconds since the Unix epoch (for records and
 * --start-at, never for timers). */
int64_t clock_wall_us(void);

#endif

/* instant: a wall-clock instant from the command line (--start-at):
 * RFC 3339 ("2026-11-25T15:00:00Z", "2026-11-25T16:00:00.250+01:00") or
 * Unix time in seconds ("1795618800", "1795618800.25"). Pure. */
#ifndef UPSIM_BASE_INSTANT_H
#define UPSIM_BASE_INSTANT_H

#include <stdint.h>

/* Parse s into microseconds since the Unix epoch. 0, or -1 with a reason
 * in *why. */
int instant_parse(const char *s, int64_t *unix_us, const char **why);

#endif

/* units: durations and sizes as scenario files write them.
 *
 * Durations: a non-negative decimal number with a unit, "500us", "150ms",
 * "1.5s", "2m", "1h". Sizes: a non-negative integer with an optional unit,
 * "512", "64B", "10KB" (1000), "64KiB" (1024), "MB", "MiB", "GB", "GiB".
 * Integers in JSON (milliseconds, bytes) are handled by the loader. */
#ifndef UPSIM_BASE_UNITS_H
#define UPSIM_BASE_UNITS_H

#include <stdint.h>

/* The largest duration accepted anywhere: 24 hours, in microseconds. */
#define UNITS_MAX_DURATION_US (24ULL * 3600 * 1000000)

/* Parse s into microseconds. Returns 0, or -1 with a static reason in *why
 * (why may be NULL). Rejects values above UNITS_MAX_DURATION_US. */
int units_parse_duration(const char *s, uint64_t *out_us, const char **why);

/* Parse s into bytes. Returns 0, or -1 with a static reason in *why. Rejects
 * values that do not fit in 64 bits. */
int units_parse_size(const char *s, uint64_t *out, const char **why);

/* An HTTP length (Content-Length): decimal digits only, at most 18 of
 * them so it fits any counter. The value, or -1 for anything else. */
int64_t units_parse_http_length(const char *s);

/* Format a duration in microseconds compactly ("150ms", "2s", "1500us")
 * into buf of size n. Returns buf. */
char *units_format_duration(uint64_t us, char *buf, unsigned n);

#endif

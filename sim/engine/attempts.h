/* attempts: how many times each request id has been seen, so a gateway's
 * retries show in the journal as attempt 1, 2, 3 of one request.
 *
 * Bounded: past the capacity the oldest ids are forgotten (a retry comes
 * within seconds; the window is the last `capacity` distinct ids). */
#ifndef UPSIM_ENGINE_ATTEMPTS_H
#define UPSIM_ENGINE_ATTEMPTS_H

#include <stddef.h>

struct attempts;

struct attempts *attempts_new(size_t capacity);
void attempts_free(struct attempts *a);
/* Count one more request with id; returns its attempt number (from 1). */
unsigned attempts_count(struct attempts *a, const char *id);
/* Forget every id. */
void attempts_clear(struct attempts *a);

#endif

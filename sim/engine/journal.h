/* journal: every record upsim makes, with a stable id — kept in a ring
 * for the admin API, appended as JSON lines to --journal FILE, written as
 * access-log lines to --access-log, and totalled in a tally.
 *
 * Ids start at 1 and are never reused, not even after journal_clear, so a
 * reader polling with `since` never sees a record twice or misses one
 * without being told (records that fell out of the ring are counted).
 *
 * Every function may be called from any thread (--threads N). */
#ifndef UPSIM_ENGINE_JOURNAL_H
#define UPSIM_ENGINE_JOURNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/record.h"
#include "engine/tally.h"

#define JOURNAL_DEFAULT_CAPACITY 65536

struct journal;

struct journal *journal_new(size_t capacity);
/* Flush and close the sinks, free every record. NULL accepted. */
void journal_free(struct journal *j);

/* Append every record to path as a JSON line (line-buffered). Returns 0,
 * or -1 with errno set. */
int journal_open_file(struct journal *j, const char *path);
/* Write a line per request record to path ("-": stderr), JSON or text. */
int journal_open_access_log(struct journal *j, const char *path, bool json);

/* Stamp r with the next id and (unless set) the time, count it, write it
 * to the sinks and keep it; the journal owns r's strings from now on.
 * Returns the id. */
uint64_t journal_add(struct journal *j, struct record *r, enum fault_kind fault_kind);

/* The next connection id (from 1). */
uint64_t journal_next_conn(struct journal *j);

/* Forget the kept records and zero the tally; ids go on. */
void journal_clear(struct journal *j);

/* {"records": [...], "next": ID, "missed": N}: up to limit records with
 * an id above since, oldest first; next is the id to pass as since to
 * continue; missed counts records above since no longer kept. */
json_t *journal_query(const struct journal *j, uint64_t since, size_t limit);

/* The totals now (a copy: other threads go on adding). */
struct tally journal_tally(const struct journal *j);
/* The id of the newest record (0: none yet). */
uint64_t journal_last_id(const struct journal *j);

#endif

/* journal_read: what a running upsim (started with --admin) journalled,
 * read through its admin API — for tests that count upstream attempts. */
#ifndef UPSIM_TEST_JOURNAL_READ_H
#define UPSIM_TEST_JOURNAL_READ_H

#include <jansson.h>

#include "proc.h"

/* Wait up to timeout_ms until p holds no connection (its exchanges are
 * then all journalled). 0 when idle, -1 on timeout or no admin API. */
int upsim_wait_idle(const struct upsim_proc *p, int timeout_ms);

/* The records p's journal holds (GET /v1/journal): a new JSON array, or
 * NULL when there is no admin API or it does not answer. */
json_t *upsim_journal_records(const struct upsim_proc *p);

#endif

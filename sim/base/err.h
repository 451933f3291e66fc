/* err: a list of error messages owned by the caller.
 *
 * Scenario validation reports every problem at once, so errors accumulate
 * here instead of stopping at the first. Each message is one line without
 * a trailing newline, already prefixed with its location by the caller. */
#ifndef UPSIM_BASE_ERR_H
#define UPSIM_BASE_ERR_H

#include <stddef.h>

struct upsim_err {
	char **msgs;
	size_t count;
	size_t cap;
};

/* Append a formatted message. err may be NULL (the message is dropped). */
void err_addf(struct upsim_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Number of messages held (0 when err is NULL). */
size_t err_count(const struct upsim_err *err);
/* Free the messages and reset err to empty. NULL is accepted. */
void err_clear(struct upsim_err *err);

#endif

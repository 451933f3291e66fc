/* window: bytes on their way from one side to the other, first in, first
 * out — forward mode holds a streamed body in one each way.
 *
 * It grows as bytes come (16 KiB, then doubling), so a small body costs a
 * small block; how much it may hold is its user's decision (window_len). */
#ifndef UPSIM_BASE_WINDOW_H
#define UPSIM_BASE_WINDOW_H

#include <stddef.h>

struct window {
	char *buf;
	size_t off, len, cap; /* the bytes held are buf[off .. off+len) */
};

/* Append n bytes (all of them). */
void window_put(struct window *w, const char *data, size_t n);
/* Move up to max of the oldest bytes to out; how many. */
size_t window_take(struct window *w, char *out, size_t max);
/* Free its block; w is empty again. */
void window_free(struct window *w);

#endif

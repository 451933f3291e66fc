#include "base/window.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

#define WINDOW_FIRST_BLOCK (16u * 1024u)

void window_put(struct window *w, const char *data, size_t n)
{
	if (n == 0)
		return;
	if (w->off + w->len + n > w->cap) {
		if (w->len > 0)
			memmove(w->buf, w->buf + w->off, w->len);
		w->off = 0;
		if (w->len + n > w->cap) {
			size_t cap = w->cap ? w->cap : WINDOW_FIRST_BLOCK;
			while (cap < w->len + n)
				cap *= 2;
			w->buf = xrealloc(w->buf, cap);
			w->cap = cap;
		}
	}
	memcpy(w->buf + w->off + w->len, data, n);
	w->len += n;
}

size_t window_take(struct window *w, char *out, size_t max)
{
	size_t n = w->len < max ? w->len : max;
	if (n == 0)
		return 0;
	memcpy(out, w->buf + w->off, n);
	w->off += n;
	w->len -= n;
	if (w->len == 0)
		w->off = 0;
	return n;
}

void window_free(struct window *w)
{
	free(w->buf);
	*w = (struct window){0};
}

/* xalloc: allocation that never returns NULL.
 *
 * Out of memory is not a condition upsim can recover from in a useful way
 * (a half-built scenario or response is worse than a clear exit), so every
 * allocation goes through these helpers, which abort with a message. */
#ifndef UPSIM_BASE_XALLOC_H
#define UPSIM_BASE_XALLOC_H

#include <stddef.h>

/* Return new memory of n bytes (n == 0 is treated as 1). Never NULL. */
void *xmalloc(size_t n);
/* Return n*size zeroed bytes; aborts on overflow. Never NULL. */
void *xcalloc(size_t n, size_t size);
/* Resize p (may be NULL) to n bytes. Never NULL. */
void *xrealloc(void *p, size_t n);
/* Return a new copy of the NUL-terminated s (s must not be NULL). */
char *xstrdup(const char *s);
/* Return a new NUL-terminated copy of the first n bytes of s. */
char *xmemdup(const void *s, size_t n);
/* Return a new string formatted like printf. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Free *pp and set it to NULL (haproxy's ha_free). */
#define xfree(pp)             \
	do {                  \
		free(*(pp));  \
		*(pp) = NULL; \
	} while (0)

#endif

#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/xalloc.h"

void err_addf(struct upsim_err *err, const char *fmt, ...)
{
	if (err == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *msg = xmalloc(n > 0 ? (size_t)n + 1 : 1);
	va_start(ap, fmt);
	vsnprintf(msg, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
	va_end(ap);
	if (err->count == err->cap) {
		err->cap = err->cap ? err->cap * 2 : 8;
		err->msgs = xrealloc(err->msgs, err->cap * sizeof *err->msgs);
	}
	err->msgs[err->count++] = msg;
}

size_t err_count(const struct upsim_err *err)
{
	return err ? err->count : 0;
}

void err_clear(struct upsim_err *err)
{
	if (err == NULL)
		return;
	for (size_t i = 0; i < err->count; i++)
		free(err->msgs[i]);
	free(err->msgs);
	err->msgs = NULL;
	err->count = err->cap = 0;
}

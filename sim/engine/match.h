/* match: which rule a request falls under. Pure logic, no sockets. */
#ifndef UPSIM_ENGINE_MATCH_H
#define UPSIM_ENGINE_MATCH_H

#include <stdbool.h>

#include "scenario/model.h"

/* What matching needs to know of a request. The lookups return the first
 * value of a header (name compared without case) or query argument, or
 * NULL when absent; ctx is passed back to them. */
struct match_request {
	const char *method;
	const char *path; /* without the query string */
	const char *(*header)(void *ctx, const char *name);
	const char *(*query)(void *ctx, const char *name);
	void *ctx;
	unsigned conn_request; /* 1 for the first request on its connection */
	size_t phase;	       /* index of the current phase */
};

/* Does pattern match s? '*' matches any run of characters, '/' included;
 * every other character matches itself. */
bool match_glob(const char *pattern, const char *s);

/* Does the request satisfy every condition of m? */
bool match_request(const struct match *m, const struct match_request *req);

/* The first rule of sc in force in the request's phase that the request
 * matches, or NULL (the defaults apply). */
const struct rule *match_first(const struct scenario *sc, const struct match_request *req);

#endif

/* admin: the control API, a second libmicrohttpd daemon on its own port,
 * driven by the same loop (so every handler runs on the loop's thread and
 * touches the running state without locks).
 *
 * JSON endpoints under /v1/ plus /metrics and /healthz; a bearer token,
 * when set, is required on every request and compared in constant time.
 * Bodies are limited (413), malformed input gets 400, unknown paths 404,
 * wrong methods 405 with an Allow header. docs/admin-api.md has them all. */
#ifndef UPSIM_CONTROL_ADMIN_H
#define UPSIM_CONTROL_ADMIN_H

#include <stdbool.h>
#include <sys/socket.h>

#include "control/upstream.h"

/* Request bodies above this are refused with 413. */
#define ADMIN_MAX_BODY (4u << 20)

struct admin;

/* Listen on addr and serve the API of fleet's upstreams (?upstream=NAME
 * picks one; the first by default); token NULL or "" for none. Returns
 * NULL with the reason in errbuf. */
struct admin *admin_start(struct loop *loop, const struct sockaddr *addr, socklen_t addrlen,
			  const char *token, struct fleet *fleet, char *errbuf, size_t errlen);
void admin_free(struct admin *a);
/* "ADDR:PORT" bound (port resolved when 0 was asked). */
const char *admin_address(const struct admin *a);

/* Is a equal to b? Time depends on b's length only, never on where the
 * first difference is. */
bool admin_token_equal(const char *a, const char *b);

#endif

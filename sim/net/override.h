/* override: with a scenario's allow_override, request headers pick the
 * action — X-Upsim-Fault (a fault name or a JSON action) replaces what
 * the rules chose, X-Upsim-Delay sets its delay. A header that cannot be
 * read answers 400 with the reason. */
#ifndef UPSIM_NET_OVERRIDE_H
#define UPSIM_NET_OVERRIDE_H

#include <microhttpd.h>

#include "net/exchange.h"

/* Apply the request's override headers to ex->action (resolving against
 * defaults); the action they give is kept in ex->own. */
void override_apply(struct exchange *ex, struct MHD_Connection *mhd, const struct action *defaults);

#endif

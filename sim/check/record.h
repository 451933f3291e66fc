/* record: `upsim check --record` — what the gateway did, written into the
 * scenario files as expect[GATEWAY], so the next run flags any change.
 *
 * The file is read again as JSON, each probed block's entry for the
 * gateway is set (status, and attempts or retried; other keys such as
 * "log" are kept), and the file is replaced atomically. Key order and
 * every other value are kept; the layout becomes jansson's two-space
 * indentation. */
#ifndef UPSIM_CHECK_RECORD_H
#define UPSIM_CHECK_RECORD_H

#include "base/err.h"
#include "check/runner.h"

/* Record every probe of list that ran. 0, or -1 with the reasons in err. */
int record_write(const struct check_config *cfg, const struct check_probe *list, size_t n,
		 struct upsim_err *err);

#endif

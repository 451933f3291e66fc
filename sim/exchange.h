/* exchange: what happens to one request — the decision (rule, action,
 * drawn delay) and carrying it out: MHD response, fault, raw write. */
#ifndef UPSIM_EXCHANGE_H
#define UPSIM_EXCHANGE_H

#include <microhttpd.h>

#include "conn.h"

struct exchange_stats {
	uint64_t requests;      /* exchanges begun */
	uint64_t answered;      /* responses queued through MHD */
	uint64_t faults;        /* exchanges that drew a fault */
};

/* Called for every access-handler call of MHD for connection c (its
 * arguments passed through). b is the current scenario's state; *req_cls
 * holds the exchange between calls. */
enum MHD_Result exchange_handle(struct conn *c, struct behave *b,
				struct exchange_stats *stats,
				struct MHD_Connection *mhd, const char *url,
				const char *method, size_t *upload_data_size,
				void **req_cls);

/* MHD completed the request (toe: how): apply after, free the exchange. */
void exchange_completed(struct conn *c, struct exchange *ex,
			enum MHD_RequestTerminationCode toe);

#endif

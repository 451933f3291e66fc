/* exchange: what happens to one request — the decision (rule, action,
 * drawn delay) and carrying it out: MHD response, fault, raw write. */
#ifndef UPSIM_NET_EXCHANGE_H
#define UPSIM_NET_EXCHANGE_H

#include <microhttpd.h>

#include "net/admission.h"
#include "engine/attempts.h"
#include "net/conn.h"
#include "engine/journal.h"

/* Where every exchange is recorded. */
struct exchange_env {
	struct journal *journal;
	struct attempts *attempts;
	const char *request_id_header;  /* NULL: ids are not counted */
	const char *phase;              /* the current phase's name */
	size_t phase_index;             /* and its index in the timeline */
	struct worker_holds *holds;
	const char *upstream;           /* a fleet member's name, or NULL */
};

/* Called for every access-handler call of MHD for connection c (its
 * arguments passed through). b is the current scenario's state; *req_cls
 * holds the exchange between calls. */
enum MHD_Result exchange_handle(struct conn *c, struct behave *b,
				const struct exchange_env *env,
				struct MHD_Connection *mhd, const char *url,
				const char *method, size_t *upload_data_size,
				void **req_cls);

/* MHD completed the request (toe: how): journal it, apply after, free
 * the exchange. c is NULL when the connection is already gone. */
void exchange_completed(struct conn *c, struct exchange *ex,
			const struct exchange_env *env,
			enum MHD_RequestTerminationCode toe);

/* Journal a request that got no exchange: the previous response left a
 * close or reset for it (why says which). */
void exchange_refused(struct conn *c, const struct exchange_env *env,
		      struct scenario *sc, const char *url, const char *method,
		      enum outcome how, const char *why);

#endif

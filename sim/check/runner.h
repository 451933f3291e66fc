/* runner: `upsim check` on the loop — every probe of every scenario sent
 * through the gateway, one try at a time, each under a condition set on
 * purpose.
 *
 * For each probe the upstream starts the probe's scenario afresh (its
 * sequences, draws and timeline). Before each try upsim ends every
 * connection it holds (idle ones with a FIN, so the gateway drops them
 * from its pool) and waits until the gateway has closed them, or a
 * settle time has passed; then the probe's steps go out, then the try.
 * After the answer, the connections are ended again, so every attempt
 * the gateway made is in the journal when it is counted (by request id);
 * the gateway's error log, if named, is read for the line of the try. */
#ifndef UPSIM_CHECK_RUNNER_H
#define UPSIM_CHECK_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check/verdict.h"
#include "control/upstream.h"
#include "net/curl_loop.h"
#include "scenario/expect.h"

struct check_config {
	const char *gateway;	   /* the name in expect blocks */
	const char *through;	   /* the gateway's base URL */
	const char *gateway_log;   /* its error log file, or NULL */
	uint64_t cap_ms;	   /* the longest a try waits for its answer */
	uint64_t settle_ms;	   /* the longest it waits for the gateway to drop
				   the connections upsim ended */
	uint64_t log_wait_ms;	   /* the longest it waits for an expected log line */
	uint64_t start_delay_ms;   /* serve this long before the first probe (a
				    gateway's health checks see the upstream up) */
	uint64_t gateway_wait_ms;  /* > 0: the gateway may start after upsim
				      (it trusts the CA upsim wrote at start):
				      look for it this long before the start
				      delay; 0: it was reachable already */
	uint64_t dns_settle_ms;	   /* a scenario with "dns": wait this long after
				      it began (and its phase was switched to)
				      before the first try, so the gateway's
				      cached answers have expired */
	bool observe;		   /* also probe blocks that do not name the gateway
				   (--observe, --record): report, not judge */
	bool with_backup;	   /* the gateway has the backup upstream */
	const char *backup_listen; /* where it is served (--backup) */
	const char *id_prefix;	   /* request ids are PREFIX-N-T */
};

/* One probe of one scenario file. */
struct check_probe {
	const char *file;
	struct scenario *scenario;	   /* a reference */
	const struct expect *expect;	   /* in scenario */
	int rule;			   /* its rule's index, or -1 */
	int phase;			   /* its phase's index (the probe runs
					      while it is current), or -1 */
	const struct gateway_expect *want; /* NULL: recording a new one */
	const char *skipped;		   /* why it was not sent, or NULL */
	struct try_result *tries;	   /* expect->repeat of them */
	size_t n_tries;
	struct verdict verdict; /* set when want and sent */
};

/* The probes of sc (file) for cfg->gateway, appended to *list (*n);
 * returns how many blocks name the gateway (or, observing, how many
 * blocks there are). */
size_t check_collect(const struct check_config *cfg, const char *file, struct scenario *sc,
		     struct check_probe **list, size_t *n);
/* Shuffle list in place, seeded (a test of order independence). */
void check_shuffle(struct check_probe *list, size_t n, uint64_t seed);
void check_probes_free(struct check_probe *list, size_t n);

struct check_runner;

/* Run list on loop against fleet (the scenario's upstream first, then the
 * backup, if any); calls loop_stop when every probe has been judged. */
struct check_runner *check_runner_start(const struct check_config *cfg, struct loop *loop,
					struct fleet *fleet, struct curl_loop *curl,
					const struct curl_lib *lib, struct check_probe *list,
					size_t n);
/* Has every probe been judged (false: the loop stopped early)? */
bool check_runner_done(const struct check_runner *r);
/* Why the gateway could not be reached within cfg->gateway_wait_ms
 * (libcurl's words, borrowed), or NULL when it was. */
const char *check_runner_unreachable(const struct check_runner *r);
void check_runner_free(struct check_runner *r);

#endif

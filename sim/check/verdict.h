/* verdict: does what a gateway did with a probe's tries meet its
 * expectation? Pure: no sockets, no clock; the runner hands it what it
 * observed.
 *
 * With repeat and at_least/at_most, the status is a count over the tries
 * ("502 in at least 1 of 20") and every other check applies to the tries
 * that gave that status; without, every try must give the status (or one
 * of a status list) and pass every check. */
#ifndef UPSIM_CHECK_VERDICT_H
#define UPSIM_CHECK_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "check/probe.h"
#include "scenario/expect.h"

/* One try as observed. */
struct try_result {
	struct probe_answer answer; /* owned (verdict_try_clear) */
	long attempts;		    /* the gateway's requests upsim journalled; -1: unknown */
	char *log;		    /* the gateway's error log line of the try, or NULL */
	bool log_found;		    /* the expectation's log (substring or regex) was seen */
	long dns_queries;	    /* queries upsim's DNS answered since the probe's
				       scenario began, up to the try's end; -1: the
				       scenario has no "dns" */
};

struct verdict {
	bool pass;
	char *want; /* what was expected, one line */
	char *got;  /* what came, one line */
	char *why;  /* the first thing that did not hold; NULL: pass */
};

/* Judge tries[0..n) against g. out's strings are new. */
void verdict_judge(const struct gateway_expect *g, const struct try_result *tries, size_t n,
		   struct verdict *out);
void verdict_clear(struct verdict *v);
/* What came, one line (a new string): as verdict_judge's got. */
char *verdict_describe(const struct try_result *tries, size_t n);

/* Does text (a log excerpt) say what g->log asks (substring or regex)?
 * true when g has no log expectation. */
bool verdict_log_says(const struct gateway_expect *g, const char *text);

/* Copy a (a new answer: headers and error duplicated) into out. */
void verdict_copy_answer(const struct probe_answer *a, struct probe_answer *out);
void verdict_try_clear(struct try_result *t);

#endif

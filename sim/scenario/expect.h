/* expect: the probes of a scenario and what each gateway answers to them
 * (format v1, "expect" at the top level or on a rule).
 *
 * The server ignores all of it; `upsim check` sends the probes through a
 * gateway and compares. A probe is a request with a precondition: before
 * each try, upsim closes its idle connections and waits until the gateway
 * has dropped them, so no try rides a connection an earlier one left in
 * the gateway's pool; steps then set up what the try needs (a request that
 * leaves a pooled connection behind, say), and the try is sent. */
#ifndef UPSIM_SCENARIO_EXPECT_H
#define UPSIM_SCENARIO_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario/model.h"

/* One request of a probe: the probe itself or a step before it. */
struct probe_request {
	char *method; /* "GET" unless given */
	char *path;
	struct header *headers; /* sent as given, in order */
	size_t n_headers;
	char *body; /* NULL: no body */
	uint64_t body_len;
	bool body_generated; /* body_size: body_len bytes of the pattern */
	uint64_t pause_us;   /* a step: wait this long after its answer */
};

/* A bound on a count or a time; unset bounds are 0 and UINT64_MAX. */
struct expect_range {
	bool set;
	uint64_t min, max;
};

/* What one gateway is expected to do with the probe. */
struct gateway_expect {
	char *gateway; /* "nginx", "edge-nginx", "alb-staging": a token */
	int status;    /* the status the client gets; 0: no valid response */
	int also[3];   /* a status list's others (the race accepted,
				   not measured: prefer repeat with at_least) */
	size_t n_also;
	unsigned at_least;	      /* tries that must give status; 0: every try */
	int at_most;		      /* tries that may give status; -1: no bound */
	char *log;		      /* the gateway's error log must say this, or NULL */
	bool log_regex;		      /* log is a POSIX extended regular expression */
	int retried;		      /* 1: upstream tried again, 0: not, -1: unspecified */
	struct expect_range attempts; /* upstream attempts per try */
	struct expect_range time_us;  /* the client's time to the end, per try */
	int complete;		      /* 1: complete by its framing, 0: cut, -1: either */
	int64_t body_bytes;	      /* body bytes the client got; -1: any */
	struct header *headers;	      /* response headers; a NULL value: absent */
	size_t n_headers;
};

struct expect {
	struct probe_request probe;
	struct probe_request *steps; /* sent before each try, in order */
	size_t n_steps;
	unsigned repeat;     /* tries (1 unless given) */
	bool with_backup;    /* the gateway also has a healthy backup upstream */
	uint64_t warm_up_us; /* > 0: send the probe once, wait this long, then
				   the try (a cache goes stale) */
	struct gateway_expect *gateways;
	size_t n_gateways;
};

/* Where an expect block sits: at the top level (rule and phase -1), on
 * rules[rule], or on phases[phase]. expect is NULL where none sits. */
struct expect_site {
	const struct expect *expect;
	int rule;
	int phase;
};

/* The places an expect block may sit in sc, in file order: the top
 * level, each rule, each phase. */
size_t expect_sites(const struct scenario *sc);
/* The i-th of them, i < expect_sites(sc). */
struct expect_site expect_site_at(const struct scenario *sc, size_t i);

/* The expectation for gateway name in e (NULL e accepted), or NULL. */
const struct gateway_expect *expect_for(const struct expect *e, const char *name);

/* Free e and what it owns. NULL accepted. */
void expect_free(struct expect *e);

#endif

/* upstream: one running upstream as the admin API, signals and timers steer
 * it — the scenario served, the timeline, drill expiry, resets — and what
 * it reports (status and stats as JSON).
 *
 * One per upstream (a fleet has several), owned by run.c, living on the control thread
 * (the first loop's). It steers the upstream's shards: its own directly,
 * the other threads' through their inboxes, waiting for each, so when an
 * operation returns every thread has applied it. */
#ifndef UPSIM_CONTROL_UPSTREAM_H
#define UPSIM_CONTROL_UPSTREAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"
#include "engine/attempts.h"
#include "engine/behave.h"
#include "engine/journal.h"
#include "net/loop.h"
#include "net/shard.h"
#include "net/threads.h"

struct upstream {
	const char *name;		  /* a fleet member's name; NULL: not a fleet */
	struct loop *loop;		  /* the control thread's (shard 0's) */
	struct shard shards[THREADS_MAX]; /* one per thread (--threads) */
	size_t n_shards;
	struct journal *journal;
	struct attempts *attempts;
	const char *scenario_file; /* SIGHUP reloads it */
	const char *forward_to;	   /* --forward-to: every scenario loaded for
				      this upstream forwards there; NULL: none */
	const char *admin_address; /* NULL: no admin API */
	const char *dns_address;   /* the scenario's DNS server; NULL: none */
	bool tls;		   /* the listener speaks TLS */
	uint64_t started_ns;	   /* clock_mono_ns() at start */
	/* the timeline */
	struct loop_timer phase_timer; /* the next phase change */
	int64_t timeline_start;	       /* clock_mono_ns() the timeline is counted from
					   (earlier than the loop's clock, or later,
					   with --start-at) */
	size_t timeline_from;	       /* the phase it is counted from */
	bool aligned;		       /* --start-at: timelines start there */
	int64_t start_at_us;	       /* wall clock, Unix µs */
	size_t phase;		       /* index of the current phase */
	bool phase_known;	       /* phase has been entered */
	uint64_t phase_since_ns;       /* clock_mono_ns() when it was entered */
	uint64_t generation;	       /* bumped when the scenario starts over */
	/* drill safety */
	uint64_t drill_ttl_ns;	 /* 0: no expiry */
	uint64_t drill_deadline; /* clock_mono_ns() clock */
	struct loop_timer drill_timer;
	bool drill_expired;
};

/* Begin playing the served scenario's timeline and, with a TTL, the
 * drill clock. The fields up to scenario_file must be set, and aligned
 * and start_at_us for --start-at. */
void upstream_start(struct upstream *ctl, uint64_t drill_ttl_ns);
/* Cancel the timers. */
void upstream_stop(struct upstream *ctl);

/* Whether a listener that speaks TLS (tls) or plain HTTP can serve sc: a
 * scenario with "connection.tls" needs TLS. Returns 0, or -1 with the
 * reason (naming sc's file) in why. */
int upstream_can_serve(bool tls, const struct scenario *sc, char *why, size_t len);
/* Serve sc from now on (a reference is taken) and start its timeline
 * over; how (a sentence: 'reloaded scenario "x" from FILE') is logged
 * and journalled. */
void upstream_swap(struct upstream *ctl, struct scenario *sc, const char *how);
/* SIGHUP: reload the scenario file; a bad file keeps the old scenario
 * and every error is logged. */
void upstream_reload(struct upstream *ctl);
/* Jump to the phase called name: the timeline goes on from its start.
 * Returns false when the scenario has no such phase. */
bool upstream_jump_phase(struct upstream *ctl, const char *name);
/* The same by index: phase < the scenario's number of phases. */
void upstream_jump_to(struct upstream *ctl, size_t phase);
/* Zero the counters, forget the journal's records and the request ids,
 * start every sequence and random stream over. */
void upstream_reset(struct upstream *ctl);
/* Push the drill's expiry ttl_ns from now (0: by --drill-ttl). Returns
 * false when there is no drill TTL or it has already expired. */
bool upstream_renew(struct upstream *ctl, uint64_t ttl_ns);

/* The scenario served (borrowed), the current phase's name and the
 * listening address: the same on every shard. */
struct scenario *upstream_scenario(const struct upstream *ctl);
const char *upstream_phase_name(const struct upstream *ctl);
const char *upstream_address(const struct upstream *ctl);

/* Every shard's figures, added up. */
struct upstream_sample {
	uint64_t accepted;  /* connections handed to the HTTP servers */
	uint64_t open;	    /* open in them now */
	uint64_t suspended; /* requests held (delays, hangs, drips) */
	uint64_t held;	    /* connections held by the accept stage */
	uint64_t accepted_by_thread[THREADS_MAX];
	struct behave *behave; /* rule counts and overload, summed */
};
void upstream_sample(struct upstream *ctl, struct upstream_sample *out);
void upstream_sample_clear(struct upstream_sample *s);

/* End every connection the upstream holds (net/conn.h conn_shed) and
 * those waiting in its listen queue (a paused accept), on every thread:
 * `upsim check` empties the gateway's pool before a probe. */
void upstream_shed(struct upstream *ctl, bool force);
/* Connections open or held at the accept stage now, over every thread. */
uint64_t upstream_connections(struct upstream *ctl);

/* One upstream in a fleet's list: name, listen, scenario, phase. */
json_t *upstream_brief_json(const struct upstream *ctl);

/* GET /v1/status and GET /v1/stats bodies (new references). Counters of
 * the journal (requests, faults, outcomes) are the whole process's; rules
 * and connections are this upstream's. */
json_t *upstream_status_json(struct upstream *ctl);
json_t *upstream_stats_json(struct upstream *ctl);

/* A fleet: the running upstreams of one process (one, unnamed, unless
 * --upstream or --fleet named several); scenario/fleet.h reads them. */
struct fleet {
	struct upstream *members;
	size_t n;
};

/* The member called name; the first when name is NULL; NULL if none. */
struct upstream *fleet_find(const struct fleet *f, const char *name);

#endif

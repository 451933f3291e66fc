/* control: the running upsim as the admin API, signals and timers steer
 * it — the scenario served, the timeline, drill expiry, resets — and what
 * it reports (status and stats as JSON).
 *
 * One control per upstream, owned by run.c, living on the control thread
 * (the first loop's). It steers the upstream's shards: its own directly,
 * the other threads' through their inboxes, waiting for each, so when an
 * operation returns every thread has applied it. */
#ifndef UPSIM_CONTROL_UPSTREAM_H
#define UPSIM_CONTROL_UPSTREAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/attempts.h"
#include "engine/behave.h"
#include "engine/journal.h"
#include "net/loop.h"
#include "net/shard.h"
#include "net/threads.h"

struct control {
	const char *name;               /* a fleet member's name; NULL: not a fleet */
	struct loop *loop;              /* the control thread's (shard 0's) */
	struct shard shards[WORKERS_MAX]; /* one per thread (--threads) */
	size_t n_shards;
	struct journal *journal;
	struct attempts *attempts;
	const char *scenario_file;      /* SIGHUP reloads it */
	const char *admin_address;      /* NULL: no admin API */
	uint64_t started_ns;            /* loop_now() at start */
	/* the timeline */
	struct loop_timer phase_timer;  /* the next phase change */
	int64_t timeline_start;         /* loop_now() the timeline is counted from
					   (earlier than the loop's clock, or later,
					   with --start-at) */
	size_t timeline_from;           /* the phase it is counted from */
	bool aligned;                   /* --start-at: timelines start there */
	int64_t start_at_us;            /* wall clock, Unix µs */
	size_t phase;                   /* index of the current phase */
	bool phase_known;               /* phase has been entered */
	/* drill safety */
	uint64_t drill_ttl_ns;          /* 0: no expiry */
	uint64_t drill_deadline;        /* loop_now() clock */
	struct loop_timer drill_timer;
	bool drill_expired;
};

/* Begin playing the served scenario's timeline and, with a TTL, the
 * drill clock. The fields up to scenario_file must be set, and aligned
 * and start_at_us for --start-at. */
void control_start(struct control *ctl, uint64_t drill_ttl_ns);
/* Cancel the timers. */
void control_stop(struct control *ctl);

/* Serve sc from now on (a reference is taken) and start its timeline
 * over; how (a sentence: 'reloaded scenario "x" from FILE') is logged
 * and journalled. */
void control_swap(struct control *ctl, struct scenario *sc, const char *how);
/* SIGHUP: reload the scenario file; a bad file keeps the old scenario
 * and every error is logged. */
void control_reload(struct control *ctl);
/* Jump to the phase called name: the timeline goes on from its start.
 * Returns false when the scenario has no such phase. */
bool control_jump_phase(struct control *ctl, const char *name);
/* Zero the counters, forget the journal's records and the request ids,
 * start every sequence and random stream over. */
void control_reset(struct control *ctl);
/* Push the drill's expiry ttl_ns from now (0: by --drill-ttl). Returns
 * false when there is no drill TTL or it has already expired. */
bool control_renew(struct control *ctl, uint64_t ttl_ns);

/* The scenario served (borrowed), the current phase's name and the
 * listening address: the same on every shard. */
struct scenario *control_scenario(const struct control *ctl);
const char *control_phase_name(const struct control *ctl);
const char *control_address(const struct control *ctl);

/* Every shard's figures, added up. */
struct control_sample {
	uint64_t accepted;              /* connections handed to the HTTP servers */
	uint64_t open;                  /* open in them now */
	uint64_t suspended;             /* requests held (delays, hangs, drips) */
	uint64_t held;                  /* connections held by the accept stage */
	uint64_t accepted_by_thread[WORKERS_MAX];
	struct behave *behave;          /* rule counts and overload, summed */
};
void control_sample(struct control *ctl, struct control_sample *out);
void control_sample_clear(struct control_sample *s);

/* One upstream in a fleet's list: name, listen, scenario, phase. */
json_t *control_brief_json(const struct control *ctl);

/* GET /v1/status and GET /v1/stats bodies (new references). Counters of
 * the journal (requests, faults, outcomes) are the whole process's; rules
 * and connections are this upstream's. */
json_t *control_status_json(struct control *ctl);
json_t *control_stats_json(struct control *ctl);

#endif

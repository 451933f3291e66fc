#include "control/upstream.h"

#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "engine/behave.h"
#include "engine/timeline.h"
#include "scenario/fault.h"

/* What a drill reverts to when its TTL runs out: every request answered
 * 200, every phase listening. */
static const char healthy_scenario[] =
	"{\"upsim\": 1, \"name\": \"healthy (drill expired)\","
	" \"description\": \"Served after --drill-ttl ran out without a renewal.\","
	" \"defaults\": {\"status\": 200, \"body\": \"ok\\n\"}}";

struct scenario *upstream_scenario(const struct upstream *ctl)
{
	return server_scenario(ctl->shards[0].server);
}

const char *upstream_phase_name(const struct upstream *ctl)
{
	return server_phase(ctl->shards[0].server);
}

const char *upstream_address(const struct upstream *ctl)
{
	return listener_address(ctl->shards[0].listener);
}

/* fn on every shard, each on its own thread, one after the other. */
static void each_shard(struct upstream *ctl, shard_fn fn, void *arg)
{
	for (size_t i = 0; i < ctl->n_shards; i++)
		shard_call(&ctl->shards[i], fn, arg);
}

static void journal_event(struct upstream *ctl, enum record_kind kind, char *message)
{
	struct record r = {
		.kind = kind,
		.scenario = xstrdup(upstream_scenario(ctl)->name),
		.upstream = ctl->name ? xstrdup(ctl->name) : NULL,
		.phase = xstrdup(upstream_phase_name(ctl)),
		.action = -1,
		.message = message,
	};
	journal_add(ctl->journal, &r, FAULT_NONE);
}

struct phase_change {
	const char *name;
	size_t index;
	bool listens;
};

static void enter_phase(struct shard *sh, void *arg)
{
	const struct phase_change *pc = arg;
	listener_set_listening(sh->listener, pc->listens);
	server_set_phase(sh->server, pc->name, pc->index);
}

/* Enter the phase that is current now, and arm the timer for the next
 * change. */
static void play_timeline(struct upstream *ctl)
{
	struct scenario *sc = upstream_scenario(ctl);
	uint64_t now = clock_mono_ns(), until;
	/* Before a --start-at instant, the first phase waits for it. */
	int64_t elapsed_ns = (int64_t)now - ctl->timeline_start;
	uint64_t ahead_us = elapsed_ns < 0 ? (uint64_t)-elapsed_ns / 1000 : 0;
	size_t i = timeline_at(sc, ctl->timeline_from,
			       elapsed_ns < 0 ? 0 : (uint64_t)elapsed_ns / 1000, &until);
	if (until != TIMELINE_NEVER)
		until += ahead_us;
	if (!ctl->phase_known || i != ctl->phase) {
		ctl->phase = i;
		ctl->phase_known = true;
		ctl->phase_since_ns = now;
		bool listens = timeline_listens(sc, i);
		struct phase_change pc = {timeline_name(sc, i), i, listens};
		each_shard(ctl, enter_phase, &pc);
		if (sc->n_phases > 0) {
			journal_event(ctl, RECORD_PHASE, NULL);
			/* Logged once in effect: harnesses may wait for this line. */
			log_info("phase \"%s\" (%zu of %zu)%s", timeline_name(sc, i), i + 1,
				 sc->n_phases, listens ? "" : ": not listening");
		}
	}
	if (until == TIMELINE_NEVER)
		loop_timer_cancel(ctl->loop, &ctl->phase_timer);
	else
		loop_timer_at(ctl->loop, &ctl->phase_timer, now + until * 1000);
}

static void on_phase_timer(struct loop_timer *t)
{
	play_timeline(container_of(t, struct upstream, phase_timer));
}

/* The timeline starts now from the first phase of the scenario served,
 * or, with --start-at, as if it had started at that instant. */
static void start_timeline(struct upstream *ctl)
{
	ctl->timeline_start = (int64_t)clock_mono_ns();
	if (ctl->aligned)
		ctl->timeline_start -= (clock_wall_us() - ctl->start_at_us) * 1000;
	ctl->timeline_from = 0;
	ctl->phase_known = false;
	play_timeline(ctl);
}

static void serve_scenario(struct shard *sh, void *sc)
{
	server_set_scenario(sh->server, sc);
}

int upstream_can_serve(bool tls, const struct scenario *sc, char *why, size_t len)
{
	char where[64];
	if (tls || !scenario_uses_tls(sc, where, sizeof where))
		return 0;
	snprintf(why, len,
		 "%s: %s: this listener speaks plain HTTP: start upsim with --tls auto or "
		 "--tls-cert and --tls-key",
		 sc->file ? sc->file : sc->name, where);
	return -1;
}

void upstream_swap(struct upstream *ctl, struct scenario *sc, const char *how)
{
	each_shard(ctl, serve_scenario, sc);
	ctl->generation++;
	log_info("%s", how);
	journal_event(ctl, RECORD_SCENARIO, xstrdup(how));
	start_timeline(ctl);
}

void upstream_reload(struct upstream *ctl)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file_to(ctl->scenario_file, ctl->forward_to, &err);
	char why[512];
	if (sc != NULL && upstream_can_serve(ctl->tls, sc, why, sizeof why) != 0) {
		err_addf(&err, "%s", why);
		scenario_unref(sc);
		sc = NULL;
	}
	if (sc == NULL) {
		for (size_t i = 0; i < err.count; i++)
			log_error("reload refused: %s", err.msgs[i]);
		log_error("reload refused: keeping scenario \"%s\"", upstream_scenario(ctl)->name);
	} else {
		char *how = xasprintf("reloaded scenario \"%s\" from %s", sc->name, sc->file);
		upstream_swap(ctl, sc, how);
		free(how);
		scenario_unref(sc);
	}
	err_clear(&err);
}

bool upstream_jump_phase(struct upstream *ctl, const char *name)
{
	struct scenario *sc = upstream_scenario(ctl);
	size_t i;
	if (!scenario_find_phase(sc, name, &i))
		return false;
	upstream_jump_to(ctl, i);
	return true;
}

void upstream_jump_to(struct upstream *ctl, size_t phase)
{
	ctl->timeline_start = (int64_t)clock_mono_ns();
	ctl->timeline_from = phase;
	ctl->phase_known = false; /* journal the jump even to the same phase */
	log_info("jumping to phase \"%s\"", upstream_scenario(ctl)->phases[phase].name);
	play_timeline(ctl);
}

static void reset_behave(struct shard *sh, void *arg)
{
	(void)arg;
	behave_reset(server_behave(sh->server));
}

static void shed_shard(struct shard *sh, void *arg)
{
	server_shed(sh->server, *(const bool *)arg);
	listener_flush(sh->listener);
}

void upstream_shed(struct upstream *ctl, bool force)
{
	each_shard(ctl, shed_shard, &force);
}

static void count_shard(struct shard *sh, void *arg)
{
	*(uint64_t *)arg += server_counters(sh->server)->open + accept_stage_held(sh->accept);
}

uint64_t upstream_connections(struct upstream *ctl)
{
	uint64_t n = 0;
	each_shard(ctl, count_shard, &n);
	return n;
}

void upstream_reset(struct upstream *ctl)
{
	journal_clear(ctl->journal);
	if (ctl->attempts != NULL)
		attempts_clear(ctl->attempts);
	each_shard(ctl, reset_behave, NULL);
	log_info("counters, journal and sequences reset");
}

static void on_drill_timer(struct loop_timer *t)
{
	struct upstream *ctl = container_of(t, struct upstream, drill_timer);
	struct upsim_err err = {0};
	ctl->drill_expired = true;
	/* A forwarding drill must not start answering staging traffic with
	 * canned 200s: it reverts to the real service, untouched. */
	struct scenario *sc = scenario_pass_through(upstream_scenario(ctl));
	if (sc != NULL) {
		upstream_swap(ctl, sc,
			      "drill TTL ran out: passing every request through "
			      "to the real service untouched");
		journal_event(ctl, RECORD_DRILL, xstrdup("drill TTL expired"));
		scenario_unref(sc);
		return;
	}
	sc = scenario_load_buffer("<drill expiry>", healthy_scenario, sizeof healthy_scenario - 1,
				  &err);
	if (sc == NULL) { /* a bug in the text above: say so, keep serving */
		log_error("drill expiry: %s", err.count ? err.msgs[0] : "cannot load");
		err_clear(&err);
		return;
	}
	upstream_swap(ctl, sc, "drill TTL ran out: serving scenario \"healthy (drill expired)\"");
	journal_event(ctl, RECORD_DRILL, xstrdup("drill TTL expired"));
	scenario_unref(sc);
	err_clear(&err);
}

bool upstream_renew(struct upstream *ctl, uint64_t ttl_ns)
{
	if (ctl->drill_ttl_ns == 0 || ctl->drill_expired)
		return false;
	ctl->drill_deadline = clock_mono_ns() + (ttl_ns ? ttl_ns : ctl->drill_ttl_ns);
	loop_timer_at(ctl->loop, &ctl->drill_timer, ctl->drill_deadline);
	return true;
}

void upstream_start(struct upstream *ctl, uint64_t drill_ttl_ns)
{
	ctl->started_ns = clock_mono_ns();
	ctl->phase_timer.on_fire = on_phase_timer;
	ctl->drill_timer.on_fire = on_drill_timer;
	ctl->drill_ttl_ns = drill_ttl_ns;
	start_timeline(ctl);
	if (drill_ttl_ns > 0)
		upstream_renew(ctl, 0);
}

void upstream_stop(struct upstream *ctl)
{
	if (ctl->loop == NULL)
		return;
	loop_timer_cancel(ctl->loop, &ctl->phase_timer);
	loop_timer_cancel(ctl->loop, &ctl->drill_timer);
}

static json_t *drill_json(const struct upstream *ctl)
{
	if (ctl->drill_ttl_ns == 0)
		return json_null();
	uint64_t now = clock_mono_ns();
	double left = ctl->drill_expired || now >= ctl->drill_deadline
			      ? 0
			      : (double)(ctl->drill_deadline - now) / 1e9;
	return json_pack("{s:f, s:f, s:b}", "ttl_s", (double)ctl->drill_ttl_ns / 1e9, "remaining_s",
			 left, "expired", ctl->drill_expired);
}

static json_t *overload_json(struct behave *b, size_t phase)
{
	const struct overload *o = behave_overload(b, phase);
	if (o->workers == 0)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "workers",
			 (json_int_t)o->workers, "queue", (json_int_t)o->queue, "busy",
			 (json_int_t)o->busy, "waiting", (json_int_t)o->waiting, "served_at_once",
			 (json_int_t)o->served_at_once, "served_after_wait",
			 (json_int_t)o->served_after_wait, "rejected", (json_int_t)o->rejected,
			 "peak_busy", (json_int_t)o->peak_busy, "peak_waiting",
			 (json_int_t)o->peak_waiting);
}

/* Runs on the shard's thread: the control thread waits meanwhile, so
 * adding to its sample needs no lock. */
static void add_shard(struct shard *sh, void *arg)
{
	struct upstream_sample *s = arg;
	uint64_t accepted = server_counters(sh->server)->connections;
	s->accepted += accepted;
	s->open += server_counters(sh->server)->open;
	s->suspended += server_suspended(sh->server);
	s->held += accept_stage_held(sh->accept);
	s->accepted_by_thread[sh->index] = accepted;
	behave_add(s->behave, server_behave(sh->server));
}

void upstream_sample(struct upstream *ctl, struct upstream_sample *out)
{
	*out = (struct upstream_sample){.behave = behave_new_sum(upstream_scenario(ctl))};
	each_shard(ctl, add_shard, out);
}

void upstream_sample_clear(struct upstream_sample *s)
{
	behave_unref(s->behave);
	s->behave = NULL;
}

static json_t *by_thread_json(const struct upstream *ctl, const struct upstream_sample *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < ctl->n_shards; i++)
		json_array_append_new(a, json_integer((json_int_t)s->accepted_by_thread[i]));
	return a;
}

json_t *upstream_brief_json(const struct upstream *ctl)
{
	const struct scenario *sc = upstream_scenario(ctl);
	return json_pack("{s:s?, s:s, s:s, s:s, s:b}", "name", ctl->name, "listen",
			 upstream_address(ctl), "scenario", sc->name, "phase",
			 upstream_phase_name(ctl), "listening", timeline_listens(sc, ctl->phase));
}

json_t *upstream_status_json(struct upstream *ctl)
{
	const struct scenario *sc = upstream_scenario(ctl);
	struct upstream_sample sv;
	upstream_sample(ctl, &sv);
	json_t *o = json_pack("{s:s, s:s, s:s?, s:s, s:I, s:I, s:b, s:f, s:s, s:s?, s:I, s:s, s:I,"
			      " s:{s:I, s:I, s:I, s:I, s:o}, s:o, s:I, s:I, s:o}",
			      "scenario", sc->name, "file", sc->file, "description",
			      sc->description, "phase", upstream_phase_name(ctl), "phase_index",
			      (json_int_t)ctl->phase, "phases", (json_int_t)sc->n_phases,
			      "listening", timeline_listens(sc, ctl->phase), "uptime_s",
			      (double)(clock_mono_ns() - ctl->started_ns) / 1e9, "listen",
			      upstream_address(ctl), "admin", ctl->admin_address, "pid",
			      (json_int_t)getpid(), "version", UPSIM_VERSION, "threads",
			      (json_int_t)ctl->n_shards, "connections", "accepted",
			      (json_int_t)sv.accepted, "open", (json_int_t)sv.open, "suspended",
			      (json_int_t)sv.suspended, "held_at_accept", (json_int_t)sv.held,
			      "accepted_by_thread", by_thread_json(ctl, &sv), "overload",
			      overload_json(sv.behave, ctl->phase), "requests",
			      (json_int_t)journal_tally(ctl->journal).requests, "journal_last_id",
			      (json_int_t)journal_last_id(ctl->journal), "drill", drill_json(ctl));
	if (ctl->name != NULL)
		json_object_set_new(o, "upstream", json_string(ctl->name));
	upstream_sample_clear(&sv);
	return o;
}

static json_t *counts_json(const uint64_t *counts, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)counts[i]));
	return a;
}

static json_t *rules_json(const struct behave *b)
{
	const struct scenario *sc = b->scenario;
	json_t *rules = json_array();
	for (size_t i = 0; i < sc->n_all_rules; i++) {
		const struct rule *r = sc->all_rules[i];
		json_array_append_new(rules,
				      json_pack("{s:s, s:I, s:o}", "name", r->name, "requests",
						(json_int_t)b->rules[i].count, "actions",
						counts_json(b->rules[i].picked, r->n_actions)));
	}
	return rules;
}

static json_t *faults_json(const struct tally *t)
{
	json_t *o = json_object();
	for (size_t k = 1; k < FAULT_COUNT; k++) {
		if (t->by_fault[k] > 0)
			json_object_set_new(o, fault_by_kind((enum fault_kind)k)->name,
					    json_integer((json_int_t)t->by_fault[k]));
	}
	return o;
}

static json_t *outcomes_json(const struct tally *t)
{
	json_t *o = json_object();
	for (size_t k = 1; k < OUTCOME_COUNT; k++)
		json_object_set_new(o, outcome_name((enum outcome)k),
				    json_integer((json_int_t)t->by_outcome[k]));
	return o;
}

static json_t *status_classes_json(const struct tally *t)
{
	json_t *o = json_object();
	for (int c = 1; c <= 9; c++) {
		if (t->by_status[c] > 0) {
			char key[] = "0xx";
			key[0] = (char)('0' + c); /* c is 1..9 */
			json_object_set_new(o, key, json_integer((json_int_t)t->by_status[c]));
		}
	}
	return o;
}

json_t *upstream_stats_json(struct upstream *ctl)
{
	const struct tally tally = journal_tally(ctl->journal), *t = &tally;
	struct upstream_sample sample;
	upstream_sample(ctl, &sample);
	const struct behave *b = sample.behave;
	json_t *o =
		json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I}, s:o, s:{s:I}}",
			  "scenario", b->scenario->name, "requests", (json_int_t)t->requests,
			  "faults_total", (json_int_t)(t->requests - t->by_fault[FAULT_NONE]),
			  "faults", faults_json(t), "outcomes", outcomes_json(t), "status_classes",
			  status_classes_json(t), "accept", "reset", (json_int_t)t->accept_reset,
			  "close", (json_int_t)t->accept_close, "hang", (json_int_t)t->accept_hang,
			  "queue", (json_int_t)t->accept_queue, "rules", rules_json(b), "defaults",
			  "requests", (json_int_t)b->rules[b->scenario->n_all_rules].count);
	if (ctl->name != NULL)
		json_object_set_new(o, "upstream", json_string(ctl->name));
	upstream_sample_clear(&sample);
	return o;
}

struct upstream *fleet_find(const struct fleet *f, const char *name)
{
	if (f->n == 0)
		return NULL;
	if (name == NULL)
		return &f->members[0];
	for (size_t i = 0; i < f->n; i++)
		if (f->members[i].name && strcmp(f->members[i].name, name) == 0)
			return &f->members[i];
	return NULL;
}

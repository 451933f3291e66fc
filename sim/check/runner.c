#include "check/runner.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/rng.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "engine/journal.h"

/* How often the runner looks whether the gateway has closed what upsim
 * ended, and how much longer it waits after closing them outright. */
#define SHED_POLL_NS 5000000ULL
#define FORCED_WAIT_NS 1000000000ULL
/* How often a gateway that starts after upsim is looked for. */
#define REACH_POLL_NS 20000000ULL
/* How often an awaited log line is looked for. */
#define LOG_POLL_NS 20000000ULL
/* The longest log line kept. */
#define LOG_LINE_MAX 1000

struct check_runner {
	const struct check_config *cfg;
	struct loop *loop;
	struct fleet *fleet;
	struct upstream *ctl; /* the scenario's: the fleet's first */
	struct probe_target target;
	struct check_probe *list;
	size_t n;
	size_t at;   /* the probe under way */
	size_t try;  /* its try under way */
	size_t step; /* the step under way */
	struct loop_timer timer;
	void (*after_shed)(struct check_runner *r);
	uint64_t deadline_ns;
	bool forced;
	uint64_t journal_mark;			/* the last record before the try */
	uint64_t dns_mark;			/* the last record before the probe began */
	long log_mark;				/* the error log's size before the try */
	char id[96];				/* the try's request id */
	char unreachable[CURL_ERROR_SIZE + 64]; /* set: the gateway never came */
};

static void begin_probe(struct check_runner *r);
static void begin_try(struct check_runner *r);
static void send_steps(struct check_runner *r);

static struct check_probe *current(struct check_runner *r)
{
	return &r->list[r->at];
}

/* --- collecting ---------------------------------------------------------- */

static void add_probe(const struct check_config *cfg, const char *file, struct scenario *sc,
		      struct expect_site site, struct check_probe **list, size_t *n, size_t *named)
{
	const struct expect *e = site.expect;
	if (e == NULL)
		return;
	const struct gateway_expect *want = expect_for(e, cfg->gateway);
	if (want == NULL && !cfg->observe)
		return;
	(*named)++;
	*list = xrealloc(*list, (*n + 1) * sizeof **list);
	struct check_probe *p = &(*list)[(*n)++];
	*p = (struct check_probe){
		.file = file,
		.scenario = scenario_ref(sc),
		.expect = e,
		.rule = site.rule,
		.phase = site.phase,
		.want = want,
	};
	/* A backup changes what the gateway does: each probe runs in the
	 * setting it was written for. */
	if (e->with_backup && !cfg->with_backup)
		p->skipped = "needs the gateway's backup upstream (--backup)";
	else if (!e->with_backup && cfg->with_backup)
		p->skipped = "written for a gateway without a backup upstream";
}

size_t check_collect(const struct check_config *cfg, const char *file, struct scenario *sc,
		     struct check_probe **list, size_t *n)
{
	size_t named = 0;
	for (size_t i = 0; i < expect_sites(sc); i++)
		add_probe(cfg, file, sc, expect_site_at(sc, i), list, n, &named);
	return named;
}

void check_shuffle(struct check_probe *list, size_t n, uint64_t seed)
{
	struct rng rng;
	rng_seed(&rng, seed, 0x73687566666c65ULL);
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rng_below(&rng, i);
		struct check_probe t = list[i - 1];
		list[i - 1] = list[j];
		list[j] = t;
	}
}

void check_probes_free(struct check_probe *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t t = 0; t < list[i].n_tries; t++)
			verdict_try_clear(&list[i].tries[t]);
		free(list[i].tries);
		verdict_clear(&list[i].verdict);
		scenario_unref(list[i].scenario);
	}
	free(list);
}

/* --- ending the gateway's connections ----------------------------------- */

static void shed_all(struct check_runner *r, bool force)
{
	for (size_t i = 0; i < r->fleet->n; i++)
		upstream_shed(&r->fleet->members[i], force);
}

static uint64_t connections(struct check_runner *r)
{
	uint64_t n = 0;
	for (size_t i = 0; i < r->fleet->n; i++)
		n += upstream_connections(&r->fleet->members[i]);
	return n;
}

static void poll_shed(struct check_runner *r)
{
	uint64_t now = clock_mono_ns();
	if (connections(r) == 0) {
		r->after_shed(r);
		return;
	}
	if (now >= r->deadline_ns && !r->forced) {
		/* The gateway keeps what upsim half-closed (Apache checks a
		 * pooled connection only when it reuses it): close outright. */
		shed_all(r, true);
		r->forced = true;
		r->deadline_ns = now + FORCED_WAIT_NS;
	} else if (now >= r->deadline_ns) {
		log_warn("check: %llu connection(s) still open; going on",
			 (unsigned long long)connections(r));
		r->after_shed(r);
		return;
	}
	loop_timer_at(r->loop, &r->timer, now + SHED_POLL_NS);
}

static void on_timer(struct loop_timer *t)
{
	struct check_runner *r = container_of(t, struct check_runner, timer);
	poll_shed(r);
}

/* End every connection upsim holds; then(r) once the gateway has closed
 * them (or the settle time has passed and they were closed outright). */
static void shed_then(struct check_runner *r, void (*then)(struct check_runner *r))
{
	shed_all(r, false);
	r->forced = false;
	r->deadline_ns = clock_mono_ns() + r->cfg->settle_ms * 1000000ULL;
	r->after_shed = then;
	r->timer.on_fire = on_timer;
	poll_shed(r);
}

/* --- what the try caused: attempts and the log --------------------------- */

static bool is_kind(json_t *rec, const char *kind)
{
	const char *k = json_string_value(json_object_get(rec, "kind"));
	return k != NULL && strcmp(k, kind) == 0;
}

/* Requests with the try's id, and accept-stage connections, journalled
 * since the try began: the gateway's attempts. */
static long count_attempts(struct check_runner *r)
{
	json_t *q = journal_query(r->ctl->journal, r->journal_mark, 100000);
	long n = 0;
	size_t i;
	json_t *rec;
	json_array_foreach(json_object_get(q, "records"), i, rec)
	{
		const char *id = json_string_value(json_object_get(rec, "request_id"));
		if (is_kind(rec, "request") && id && strcmp(id, r->id) == 0)
			n++;
		else if (is_kind(rec, "connection"))
			n++;
	}
	if (json_integer_value(json_object_get(q, "missed")) > 0)
		n = -1;
	json_decref(q);
	return n;
}

static bool probe_has_dns(struct check_runner *r)
{
	return r->ctl->dns_address != NULL && current(r)->scenario->dns != NULL;
}

/* DNS queries answered since the probe's scenario began: 0 says the
 * gateway answered from a cache filled before, so the try did not meet
 * the phase's DNS. -1 for a scenario without DNS. */
static long count_dns_queries(struct check_runner *r)
{
	if (!probe_has_dns(r))
		return -1;
	json_t *q = journal_query(r->ctl->journal, r->dns_mark, 100000);
	long n = 0;
	size_t i;
	json_t *rec;
	json_array_foreach(json_object_get(q, "records"), i, rec) n += is_kind(rec, "dns");
	json_decref(q);
	return n;
}

static long file_size(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* The error log's bytes since the try began (a new string). */
static char *read_log(struct check_runner *r)
{
	FILE *f = r->cfg->gateway_log ? fopen(r->cfg->gateway_log, "rb") : NULL;
	if (f == NULL)
		return xstrdup("");
	long size = file_size(r->cfg->gateway_log);
	long from = size >= r->log_mark ? r->log_mark : 0; /* rotated: all of it */
	char *text = xcalloc((size_t)(size - from) + 1, 1);
	if (fseek(f, from, SEEK_SET) == 0)
		text[fread(text, 1, (size_t)(size - from), f)] = '\0';
	fclose(f);
	return text;
}

/* Does the line carry an error or warning level, as gateways write it:
 * nginx "[error]", Apache "[proxy_http:error]", Caddy's JSON
 * "level":"error", syslog-style "<3>"? A word "error" inside a debug line
 * is not a level. */
static bool error_level(const char *line, size_t len)
{
	static const char *const marks[] = {
		"[error]",
		"[crit]",
		"[alert]",
		"[emerg]",
		"[warn]",
		":error]",
		":crit]",
		":alert]",
		":emerg]",
		":warn]",
		"\"level\":\"error\"",
		"\"level\":\"warn\"",
		"\"level\":\"fatal\"",
		"[ALERT]",
		"[WARNING]",
		"[NOTICE]",
		"FetchError", /* varnishlog's record of a failed backend fetch */
		NULL,
	};
	for (size_t i = 0; marks[i]; i++) {
		size_t w = strlen(marks[i]);
		for (size_t k = 0; k + w <= len; k++)
			if (strncasecmp(line + k, marks[i], w) == 0)
				return true;
	}
	return false;
}

/* The line of text that names the problem: the one the expectation asks
 * for, else the first error-level line, else (failed: a gateway whose
 * errors carry no level) the first line; NULL when none. A good answer's
 * debug chatter ("selected upstream") names no problem. */
static char *pick_line(const struct gateway_expect *want, const char *text, bool failed,
		       bool *found)
{
	const char *first = NULL, *error = NULL, *match = NULL;
	size_t first_len = 0, error_len = 0, match_len = 0;
	for (const char *p = text; *p != '\0';) {
		size_t len = strcspn(p, "\n");
		char *line = xmemdup(p, len);
		if (len > 0 && first == NULL)
			first = p, first_len = len;
		if (len > 0 && error == NULL && error_level(p, len))
			error = p, error_len = len;
		if (len > 0 && match == NULL && want && want->log && verdict_log_says(want, line))
			match = p, match_len = len;
		free(line);
		p += len + (p[len] == '\n');
	}
	*found = match != NULL;
	if (!failed)
		first = NULL;
	const char *pick = match ? match : error ? error : first;
	size_t len = match ? match_len : error ? error_len : first_len;
	if (pick == NULL)
		return NULL;
	return xmemdup(pick, len < LOG_LINE_MAX ? len : LOG_LINE_MAX);
}

/* --- one try ------------------------------------------------------------- */

static void finish_try(struct check_runner *r)
{
	struct check_probe *p = current(r);
	if (++r->try < p->n_tries) {
		begin_try(r);
		return;
	}
	if (p->want != NULL)
		verdict_judge(p->want, p->tries, p->n_tries, &p->verdict);
	else
		p->verdict.got = verdict_describe(p->tries, p->n_tries);
	r->at++;
	begin_probe(r);
}

static void look_at_log(struct check_runner *r)
{
	struct check_probe *p = current(r);
	struct try_result *t = &p->tries[r->try];
	char *text = read_log(r);
	bool failed = t->answer.status == 0 || t->answer.status >= 500;
	free(t->log);
	t->log = pick_line(p->want, text, failed, &t->log_found);
	free(text);
	/* Wait for the line asked for; for an error answer, for a line at all
	 * (some gateways write theirs only as the session ends). */
	bool waiting = r->cfg->gateway_log != NULL
		       && ((p->want && p->want->log && !t->log_found)
			   || (failed && t->log == NULL));
	if (waiting && clock_mono_ns() < r->deadline_ns) {
		loop_timer_at(r->loop, &r->timer, clock_mono_ns() + LOG_POLL_NS);
		return;
	}
	finish_try(r);
}

static void on_log_timer(struct loop_timer *t)
{
	look_at_log(container_of(t, struct check_runner, timer));
}

/* The gateway has closed its connections: every attempt is journalled. */
static void after_try(struct check_runner *r)
{
	struct try_result *t = &current(r)->tries[r->try];
	t->attempts = count_attempts(r);
	t->dns_queries = count_dns_queries(r);
	r->deadline_ns = clock_mono_ns() + r->cfg->log_wait_ms * 1000000ULL;
	r->timer.on_fire = on_log_timer;
	look_at_log(r);
}

static void on_answer(void *arg, const struct probe_answer *a)
{
	struct check_runner *r = arg;
	verdict_copy_answer(a, &current(r)->tries[r->try].answer);
	shed_then(r, after_try);
}

static void send_try(struct check_runner *r)
{
	struct check_probe *p = current(r);
	snprintf(r->id, sizeof r->id, "%s-%zu-%zu", r->cfg->id_prefix, r->at + 1, r->try + 1);
	r->journal_mark = journal_last_id(r->ctl->journal);
	r->log_mark = file_size(r->cfg->gateway_log);
	if (probe_send(&r->target, &p->expect->probe, r->id, on_answer, r) != 0) {
		struct probe_answer failed = {.error = (char *)"the probe could not be sent"};
		on_answer(r, &failed);
	}
}

static void on_warm_timer(struct loop_timer *t)
{
	send_try(container_of(t, struct check_runner, timer));
}

/* warm_up: the probe once (a cache fills), a pause (it goes stale), the try. */
static void on_warm_answer(void *arg, const struct probe_answer *a)
{
	struct check_runner *r = arg;
	(void)a;
	r->timer.on_fire = on_warm_timer;
	loop_timer_at(r->loop, &r->timer,
		      clock_mono_ns() + current(r)->expect->warm_up_us * 1000ULL);
}

static void on_pause_timer(struct loop_timer *t)
{
	struct check_runner *r = container_of(t, struct check_runner, timer);
	r->step++;
	send_steps(r);
}

/* A step is answered: the next one, after its pause (a keep-alive race
 * times the try against the upstream's idle close). */
static void on_step_answer(void *arg, const struct probe_answer *a)
{
	struct check_runner *r = arg;
	(void)a;
	r->timer.on_fire = on_pause_timer;
	loop_timer_at(r->loop, &r->timer,
		      clock_mono_ns() + current(r)->expect->steps[r->step].pause_us * 1000ULL);
}

static void send_steps(struct check_runner *r)
{
	const struct expect *e = current(r)->expect;
	char id[112];
	if (r->step < e->n_steps) {
		snprintf(id, sizeof id, "%s-%zu-%zu-step%zu", r->cfg->id_prefix, r->at + 1,
			 r->try + 1, r->step + 1);
		if (probe_send(&r->target, &e->steps[r->step], id, on_step_answer, r) != 0)
			on_step_answer(r, NULL);
	} else if (e->warm_up_us > 0) {
		snprintf(id, sizeof id, "%s-%zu-%zu-warm", r->cfg->id_prefix, r->at + 1,
			 r->try + 1);
		if (probe_send(&r->target, &e->probe, id, on_warm_answer, r) != 0)
			on_warm_answer(r, NULL);
	} else {
		send_try(r);
	}
}

static void after_first_shed(struct check_runner *r)
{
	r->step = 0;
	send_steps(r);
}

static void begin_try(struct check_runner *r)
{
	shed_then(r, after_first_shed);
}

static void on_dns_settled(struct loop_timer *t)
{
	begin_try(container_of(t, struct check_runner, timer));
}

static void begin_probe(struct check_runner *r)
{
	while (r->at < r->n && current(r)->skipped != NULL)
		r->at++;
	if (r->at == r->n) {
		loop_stop(r->loop);
		return;
	}
	struct check_probe *p = current(r);
	/* Fresh sequences, draws and timeline: no probe inherits another's. */
	char *how = xasprintf("check: probe %s of %s", p->expect->probe.path, p->file);
	upstream_swap(r->ctl, p->scenario, how);
	free(how);
	if (p->phase >= 0)
		upstream_jump_to(r->ctl, (size_t)p->phase);
	r->dns_mark = journal_last_id(r->ctl->journal);
	p->n_tries = p->expect->repeat;
	p->tries = xcalloc(p->n_tries, sizeof *p->tries);
	r->try = 0;
	if (!probe_has_dns(r)) {
		begin_try(r);
		return;
	}
	/* The gateway may hold an answer an earlier probe's phase gave: wait
	 * until its cache has let go, so the try meets this phase's DNS. */
	r->timer.on_fire = on_dns_settled;
	loop_timer_at(r->loop, &r->timer, clock_mono_ns() + r->cfg->dns_settle_ms * 1000000ULL);
}

static void on_start_timer(struct loop_timer *t)
{
	begin_probe(container_of(t, struct check_runner, timer));
}

/* --gateway-wait: the gateway starts after upsim, which serves meanwhile
 * (the gateway may need the CA upsim wrote, or its health checks may
 * look). A GET / through it every 20 ms until one is answered, with any
 * status: a port that accepts is not yet a gateway that serves (Apache's
 * child may still be starting), and a line it logs on the way up must
 * not land in the first try's log. The answer comes before the first
 * try begins, so the try's journal and log start after it. */
static void on_reach_timer(struct loop_timer *t);

static void on_reach_answer(void *arg, const struct probe_answer *a)
{
	struct check_runner *r = arg;
	uint64_t now = clock_mono_ns();
	if (a->status > 0 || a->body_bytes > 0) {
		r->timer.on_fire = on_start_timer;
		loop_timer_at(r->loop, &r->timer, now + r->cfg->start_delay_ms * 1000000ULL);
		return;
	}
	if (now >= r->deadline_ns) {
		snprintf(r->unreachable, sizeof r->unreachable, "%s (waited %llu ms)",
			 a->error ? a->error : "no answer",
			 (unsigned long long)r->cfg->gateway_wait_ms);
		loop_stop(r->loop);
		return;
	}
	r->timer.on_fire = on_reach_timer;
	loop_timer_at(r->loop, &r->timer, now + REACH_POLL_NS);
}

static void on_reach_timer(struct loop_timer *t)
{
	struct check_runner *r = container_of(t, struct check_runner, timer);
	static const struct probe_request ready = {.method = (char *)"GET", .path = (char *)"/"};
	char id[112];
	snprintf(id, sizeof id, "%s-ready", r->cfg->id_prefix);
	if (probe_send(&r->target, &ready, id, on_reach_answer, r) != 0) {
		struct probe_answer none = {.error = (char *)"the request could not be sent"};
		on_reach_answer(r, &none);
	}
}

struct check_runner *check_runner_start(const struct check_config *cfg, struct loop *loop,
					struct fleet *fleet, struct curl_loop *curl,
					const struct curl_lib *lib, struct check_probe *list,
					size_t n)
{
	struct check_runner *r = xcalloc(1, sizeof *r);
	*r = (struct check_runner){
		.cfg = cfg,
		.loop = loop,
		.fleet = fleet,
		.ctl = &fleet->members[0],
		.list = list,
		.n = n,
		.target = {.curl = curl,
			   .lib = lib,
			   .through = cfg->through,
			   .cap_ms = cfg->cap_ms,
			   .id_header = "X-Request-Id"},
	};
	uint64_t now = clock_mono_ns();
	if (cfg->gateway_wait_ms > 0) {
		r->deadline_ns = now + cfg->gateway_wait_ms * 1000000ULL;
		r->timer.on_fire = on_reach_timer;
		loop_timer_at(loop, &r->timer, now);
		return r;
	}
	r->timer.on_fire = on_start_timer;
	loop_timer_at(loop, &r->timer, now + cfg->start_delay_ms * 1000000ULL);
	return r;
}

const char *check_runner_unreachable(const struct check_runner *r)
{
	return r->unreachable[0] ? r->unreachable : NULL;
}

bool check_runner_done(const struct check_runner *r)
{
	return r->at == r->n;
}

void check_runner_free(struct check_runner *r)
{
	if (r == NULL)
		return;
	loop_timer_cancel(r->loop, &r->timer);
	free(r);
}

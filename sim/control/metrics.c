#include "control/metrics.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "engine/behave.h"
#include "engine/timeline.h"
#include "scenario/fault.h"

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
	family(f, name, "gauge", help);
	fprintf(f, "%s %.17g\n", name, v);
}

static void counter(FILE *f, const char *name, const char *help, unsigned long long v)
{
	family(f, name, "counter", help);
	fprintf(f, "%s %llu\n", name, v);
}

/* Label values are names from the scenario: escape \, " and newlines. */
static void label_value(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void faults(FILE *f, const struct tally *t)
{
	family(f, "upsim_faults_total", "counter", "Requests that drew a fault, by fault.");
	for (size_t k = 1; k < FAULT_COUNT; k++)
		fprintf(f, "upsim_faults_total{fault=\"%s\"} %llu\n",
			fault_by_kind((enum fault_kind)k)->name,
			(unsigned long long)t->by_fault[k]);
}

static void outcomes(FILE *f, const struct tally *t)
{
	family(f, "upsim_outcomes_total", "counter", "Requests by how they ended.");
	for (size_t k = 1; k < OUTCOME_COUNT; k++)
		fprintf(f, "upsim_outcomes_total{outcome=\"%s\"} %llu\n",
			outcome_name((enum outcome)k), (unsigned long long)t->by_outcome[k]);
}

static void accepts(FILE *f, const struct tally *t)
{
	family(f, "upsim_accept_faults_total", "counter",
	       "Connections the accept stage reset, closed, hung or queued.");
	fprintf(f,
		"upsim_accept_faults_total{action=\"reset\"} %llu\n"
		"upsim_accept_faults_total{action=\"close\"} %llu\n"
		"upsim_accept_faults_total{action=\"hang\"} %llu\n"
		"upsim_accept_faults_total{action=\"queue\"} %llu\n",
		(unsigned long long)t->accept_reset, (unsigned long long)t->accept_close,
		(unsigned long long)t->accept_hang, (unsigned long long)t->accept_queue);
}

/* "{" then upstream="NAME" and a comma when m is a fleet member; the
 * caller writes its own labels and the closing brace. */
static void open_labels(FILE *f, const struct upstream *m, bool more)
{
	fputc('{', f);
	if (m->name != NULL) {
		fputs("upstream=", f);
		label_value(f, m->name);
		if (more)
			fputc(',', f);
	}
}

/* name{upstream="NAME"} value, or name value outside a fleet. */
static void member_value(FILE *f, const char *name, const struct upstream *m, double v)
{
	fputs(name, f);
	if (m->name != NULL) {
		open_labels(f, m, false);
		fputc('}', f);
	}
	fprintf(f, " %.17g\n", v);
}

static void rules(FILE *f, const struct fleet *fl, const struct upstream_sample *samples)
{
	family(f, "upsim_rule_requests_total", "counter",
	       "Requests taken by each rule of the current scenario.");
	for (size_t k = 0; k < fl->n; k++) {
		const struct upstream *m = &fl->members[k];
		const struct behave *b = samples[k].behave;
		const struct scenario *sc = b->scenario;
		for (size_t i = 0; i <= sc->n_all_rules; i++) {
			fputs("upsim_rule_requests_total", f);
			open_labels(f, m, true);
			fputs("rule=", f);
			label_value(f, i < sc->n_all_rules ? sc->all_rules[i]->name : "defaults");
			fprintf(f, "} %llu\n", (unsigned long long)b->rules[i].count);
		}
	}
}

static void histogram(FILE *f, const struct tally *t)
{
	family(f, "upsim_request_duration_seconds", "histogram",
	       "From a request's headers to the end of its exchange.");
	unsigned long long cumulative = 0;
	for (size_t i = 0; i < TALLY_BUCKETS; i++) {
		cumulative += t->duration_buckets[i];
		fprintf(f, "upsim_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
			tally_buckets[i], cumulative);
	}
	cumulative += t->duration_buckets[TALLY_BUCKETS];
	fprintf(f,
		"upsim_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
		"upsim_request_duration_seconds_sum %.9g\n"
		"upsim_request_duration_seconds_count %llu\n",
		cumulative, t->duration_sum_s, cumulative);
}

static void overloads(FILE *f, const struct fleet *fl, const struct upstream_sample *samples)
{
	static const struct {
		const char *name, *type, *help;
	} fams[] = {
		{"upsim_overload_workers", "gauge", "Workers of the overload model."},
		{"upsim_overload_busy", "gauge", "Overload workers serving a request now."},
		{"upsim_overload_waiting", "gauge", "Requests queued for a worker now."},
		{"upsim_overload_waited_total", "counter", "Requests that queued for a worker."},
		{"upsim_overload_rejected_total", "counter",
		 "Requests turned away with when_full (no worker, no queue room)."},
	};
	for (size_t k = 0; k < ARRAY_SIZE(fams); k++) {
		bool any = false;
		for (size_t i = 0; i < fl->n; i++) {
			const struct upstream *m = &fl->members[i];
			const struct overload *o = behave_overload(samples[i].behave, m->phase);
			if (o->workers == 0)
				continue;
			if (!any)
				family(f, fams[k].name, fams[k].type, fams[k].help);
			any = true;
			double v[] = {o->workers, o->busy, (double)o->waiting,
				      (double)o->served_after_wait, (double)o->rejected};
			member_value(f, fams[k].name, m, v[k]);
		}
	}
}

static void phases(FILE *f, const struct fleet *fl)
{
	family(f, "upsim_phase", "gauge",
	       "1 for the phase being played (index from 0 in the timeline).");
	for (size_t i = 0; i < fl->n; i++) {
		const struct upstream *m = &fl->members[i];
		fputs("upsim_phase", f);
		open_labels(f, m, true);
		fputs("phase=", f);
		label_value(f, upstream_phase_name(m));
		fprintf(f, ",index=\"%zu\"} 1\n", m->phase);
	}
}

/* A gauge or counter with one series per upstream. */
static void per_member(FILE *f, const struct fleet *fl, const struct upstream_sample *samples,
		       const char *name, const char *type, const char *help,
		       double (*value)(const struct upstream_sample *s))
{
	family(f, name, type, help);
	for (size_t i = 0; i < fl->n; i++)
		member_value(f, name, &fl->members[i], value(&samples[i]));
}

static double accepted(const struct upstream_sample *s)
{
	return (double)s->accepted;
}

static double open_now(const struct upstream_sample *s)
{
	return (double)s->open;
}

static double suspended(const struct upstream_sample *s)
{
	return (double)s->suspended;
}

static double held(const struct upstream_sample *s)
{
	return (double)s->held;
}

char *metrics_text(const struct fleet *fl)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL)
		return NULL;
	const struct upstream *first = &fl->members[0];
	const struct tally tally = journal_tally(first->journal), *t = &tally;
	struct upstream_sample *samples = xcalloc(fl->n, sizeof *samples);
	for (size_t i = 0; i < fl->n; i++)
		upstream_sample(&fl->members[i], &samples[i]);
	counter(f, "upsim_requests_total", "Requests begun (journal request records).",
		(unsigned long long)t->requests);
	faults(f, t);
	outcomes(f, t);
	accepts(f, t);
	rules(f, fl, samples);
	histogram(f, t);
	per_member(f, fl, samples, "upsim_connections_total", "counter",
		   "Connections handed to the HTTP server.", accepted);
	per_member(f, fl, samples, "upsim_connections_open", "gauge",
		   "Connections open in the HTTP server now.", open_now);
	per_member(f, fl, samples, "upsim_connections_suspended", "gauge",
		   "Connections whose request is held (delay, hang, drip) now.", suspended);
	per_member(f, fl, samples, "upsim_connections_held_at_accept", "gauge",
		   "Connections held unread or queued by the accept stage now.", held);
	overloads(f, fl, samples);
	phases(f, fl);
	gauge(f, "upsim_uptime_seconds", "Seconds since upsim started.",
	      (double)(clock_mono_ns() - first->started_ns) / 1e9);
	fclose(f);
	for (size_t i = 0; i < fl->n; i++)
		upstream_sample_clear(&samples[i]);
	free(samples);
	return text;
}

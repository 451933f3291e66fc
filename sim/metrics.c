#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>

#include "behave.h"
#include "fault.h"
#include "timeline.h"

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
	fprintf(f, "upsim_accept_faults_total{action=\"reset\"} %llu\n"
		"upsim_accept_faults_total{action=\"close\"} %llu\n"
		"upsim_accept_faults_total{action=\"hang\"} %llu\n"
		"upsim_accept_faults_total{action=\"queue\"} %llu\n",
		(unsigned long long)t->accept_reset, (unsigned long long)t->accept_close,
		(unsigned long long)t->accept_hang, (unsigned long long)t->accept_queue);
}

static void rules(FILE *f, const struct behave *b)
{
	const struct scenario *sc = b->scenario;
	family(f, "upsim_rule_requests_total", "counter",
	       "Requests taken by each rule of the current scenario.");
	for (size_t i = 0; i <= sc->n_all_rules; i++) {
		fputs("upsim_rule_requests_total{rule=", f);
		label_value(f, i < sc->n_all_rules ? sc->all_rules[i]->name : "defaults");
		fprintf(f, "} %llu\n", (unsigned long long)b->rules[i].count);
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
	fprintf(f, "upsim_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
		"upsim_request_duration_seconds_sum %.9g\n"
		"upsim_request_duration_seconds_count %llu\n",
		cumulative, t->duration_sum_s, cumulative);
}

static void overload(FILE *f, struct behave *b, size_t phase)
{
	const struct overload *o = behave_overload(b, phase);
	if (o->workers == 0)
		return;
	gauge(f, "upsim_overload_workers", "Workers of the overload model.", o->workers);
	gauge(f, "upsim_overload_busy", "Overload workers serving a request now.", o->busy);
	gauge(f, "upsim_overload_waiting", "Requests queued for a worker now.",
	      (double)o->waiting);
	counter(f, "upsim_overload_waited_total", "Requests that queued for a worker.",
		(unsigned long long)o->served_after_wait);
	counter(f, "upsim_overload_rejected_total",
		"Requests turned away with when_full (no worker, no queue room).",
		(unsigned long long)o->rejected);
}

static void phase(FILE *f, const struct control *ctl)
{
	family(f, "upsim_phase", "gauge",
	       "1 for the phase being played (index from 0 in the timeline).");
	fputs("upsim_phase{phase=", f);
	label_value(f, server_phase(ctl->server));
	fprintf(f, ",index=\"%zu\"} 1\n", ctl->phase);
}

char *metrics_text(const struct control *ctl)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f == NULL)
		return NULL;
	const struct tally *t = journal_tally(ctl->journal);
	const struct server_counters *sv = server_counters(ctl->server);
	counter(f, "upsim_requests_total", "Requests begun (journal request records).",
		(unsigned long long)t->requests);
	faults(f, t);
	outcomes(f, t);
	accepts(f, t);
	rules(f, server_behave(ctl->server));
	histogram(f, t);
	counter(f, "upsim_connections_total", "Connections handed to the HTTP server.",
		(unsigned long long)sv->connections);
	gauge(f, "upsim_connections_open", "Connections open in the HTTP server now.",
	      (double)sv->open);
	gauge(f, "upsim_connections_suspended",
	      "Connections whose request is held (delay, hang, drip) now.",
	      (double)server_suspended(ctl->server));
	gauge(f, "upsim_connections_held_at_accept",
	      "Connections held unread or queued by the accept stage now.",
	      (double)gate_held(ctl->gate));
	overload(f, server_behave(ctl->server), ctl->phase);
	phase(f, ctl);
	gauge(f, "upsim_uptime_seconds", "Seconds since upsim started.",
	      (double)(loop_now() - ctl->started_ns) / 1e9);
	fclose(f);
	return text;
}

#include "check/verdict.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* A growing line of text. */
struct line {
	char buf[512];
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void add(struct line *l, const char *fmt, ...)
{
	if (l->len >= sizeof l->buf)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, sizeof l->buf - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n;
}

static bool counted(const struct gateway_expect *g)
{
	return g->at_least > 0 || g->at_most >= 0;
}

static bool status_listed(const struct gateway_expect *g, int status)
{
	if (status == g->status)
		return true;
	for (size_t i = 0; i < g->n_also; i++)
		if (status == g->also[i])
			return true;
	return false;
}

/* Is try t one the per-try checks apply to? */
static bool considered(const struct gateway_expect *g, const struct try_result *t)
{
	return !counted(g) || t->answer.status == g->status;
}

static void describe_range_ms(struct line *l, const struct expect_range *r)
{
	if (r->min > 0 && r->max != UINT64_MAX)
		add(l, "%.0f..%.0f ms", r->min / 1e3, r->max / 1e3);
	else if (r->min > 0)
		add(l, "at least %.0f ms", r->min / 1e3);
	else
		add(l, "at most %.0f ms", r->max / 1e3);
}

static void describe_want(const struct gateway_expect *g, size_t tries, struct line *l)
{
	add(l, "%d", g->status);
	for (size_t i = 0; i < g->n_also; i++)
		add(l, i + 1 == g->n_also ? " or %d" : ", %d", g->also[i]);
	if (g->at_least > 0 && g->at_most >= 0)
		add(l, " in %u..%d of %zu tries", g->at_least, g->at_most, tries);
	else if (g->at_least > 0)
		add(l, " in at least %u of %zu tries", g->at_least, tries);
	else if (g->at_most >= 0)
		add(l, " in at most %d of %zu tries", g->at_most, tries);
	if (g->retried != -1)
		add(l, g->retried ? ", retried" : ", not retried");
	if (g->attempts.set && g->attempts.min == g->attempts.max)
		add(l, ", %llu attempt%s", (unsigned long long)g->attempts.min,
		    g->attempts.min == 1 ? "" : "s");
	else if (g->attempts.set)
		add(l, ", %llu..%llu attempts", (unsigned long long)g->attempts.min,
		    (unsigned long long)g->attempts.max);
	if (g->time_us.set) {
		add(l, ", time ");
		describe_range_ms(l, &g->time_us);
	}
	if (g->complete != -1)
		add(l, g->complete ? ", complete" : ", cut");
	if (g->body_bytes >= 0)
		add(l, ", %lld body bytes", (long long)g->body_bytes);
	for (size_t i = 0; i < g->n_headers; i++)
		add(l, g->headers[i].value ? ", %s: %s" : ", no %s", g->headers[i].name,
		    g->headers[i].value ? g->headers[i].value : "");
	if (g->log)
		add(l, ", log %s \"%s\"", g->log_regex ? "matching" : "saying", g->log);
}

/* "502 x19, 200 x1" in order of first appearance. */
static void describe_statuses(const struct try_result *tries, size_t n, struct line *l)
{
	for (size_t i = 0; i < n; i++) {
		int st = tries[i].answer.status;
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= tries[j].answer.status == st;
		if (seen)
			continue;
		size_t k = 0;
		for (size_t j = i; j < n; j++)
			k += tries[j].answer.status == st;
		add(l, "%s%d", i ? ", " : "", st);
		if (n > 1)
			add(l, " in %zu of %zu", k, n);
	}
}

static void describe_got(const struct try_result *tries, size_t n, struct line *l)
{
	describe_statuses(tries, n, l);
	long amin = -1, amax = -1;
	uint64_t tmin = UINT64_MAX, tmax = 0;
	size_t cut = 0, capped = 0;
	for (size_t i = 0; i < n; i++) {
		const struct try_result *t = &tries[i];
		if (amin == -1 || t->attempts < amin)
			amin = t->attempts;
		if (t->attempts > amax)
			amax = t->attempts;
		if (t->answer.time_us < tmin)
			tmin = t->answer.time_us;
		if (t->answer.time_us > tmax)
			tmax = t->answer.time_us;
		cut += !t->answer.complete;
		capped += t->answer.capped;
	}
	if (amin < 0)
		add(l, ", attempts unknown");
	else if (amin == amax)
		add(l, ", %ld attempt%s", amin, amin == 1 ? "" : "s");
	else
		add(l, ", %ld..%ld attempts", amin, amax);
	if ((tmin + 500) / 1000 == (tmax + 500) / 1000) /* the same when rounded */
		add(l, ", %.0f ms", tmin / 1e3);
	else
		add(l, ", %.0f..%.0f ms", tmin / 1e3, tmax / 1e3);
	if (capped > 0)
		add(l, ", %s within the probe's cap", n > 1 ? "some not answered" : "no answer");
	else if (cut > 0)
		add(l, n > 1 ? ", %zu cut" : ", cut", cut);
	long dns = n > 0 ? tries[n - 1].dns_queries : -1;
	if (dns >= 0)
		add(l, ", %ld DNS quer%s", dns, dns == 1 ? "y" : "ies");
}

/* A probe of a scenario with DNS measures the phase's answers only when
 * the gateway asked for them: none since the probe began says it answered
 * from a cache an earlier probe filled. */
static bool dns_unasked(const struct try_result *tries, size_t n, struct line *why)
{
	for (size_t i = 0; i < n; i++)
		if (tries[i].dns_queries == 0) {
			add(why, "not measured: the gateway asked upsim's DNS nothing since the "
				 "probe began, so it answered from a cache filled before (a longer "
				 "--dns-settle, or a shorter hold in its resolver)");
			return true;
		}
	return false;
}

/* The first per-try check try t (number i from 1) fails, or false. */
static bool try_fails(const struct gateway_expect *g, const struct try_result *t, size_t i,
		      size_t n, struct line *why)
{
	const struct probe_answer *a = &t->answer;
	const char *which = n > 1 ? "try " : "";
	char num[24] = "";
	if (n > 1)
		snprintf(num, sizeof num, "%zu: ", i);
	if ((g->retried != -1 || g->attempts.set) && t->attempts < 0) {
		add(why, "%s%supsim's journal could not be read for its attempts", which, num);
		return true;
	}
	if (g->retried != -1 && (t->attempts > 1) != (g->retried == 1)) {
		add(why, "%s%supsim saw %ld attempt%s, expected %s", which, num, t->attempts,
		    t->attempts == 1 ? "" : "s", g->retried ? "a retry" : "no retry");
		return true;
	}
	if (g->attempts.set
	    && ((uint64_t)t->attempts < g->attempts.min
		|| (uint64_t)t->attempts > g->attempts.max)) {
		add(why, "%s%supsim saw %ld attempt%s, expected ", which, num, t->attempts,
		    t->attempts == 1 ? "" : "s");
		if (g->attempts.min == g->attempts.max)
			add(why, "%llu", (unsigned long long)g->attempts.min);
		else
			add(why, "%llu..%llu", (unsigned long long)g->attempts.min,
			    (unsigned long long)g->attempts.max);
		return true;
	}
	if (g->time_us.set && (a->time_us < g->time_us.min || a->time_us > g->time_us.max)) {
		add(why, "%s%sthe answer took %.0f ms%s, expected ", which, num, a->time_us / 1e3,
		    a->capped ? " (the probe's cap: no answer)" : "");
		describe_range_ms(why, &g->time_us);
		return true;
	}
	if (g->complete != -1 && a->complete != (g->complete == 1)) {
		add(why, "%s%sthe response was %s%s%s%s, expected it %s", which, num,
		    a->complete ? "complete" : "cut", a->error ? " (" : "",
		    a->error ? a->error : "", a->error ? ")" : "",
		    g->complete ? "complete" : "cut");
		return true;
	}
	if (g->body_bytes >= 0 && a->body_bytes != (uint64_t)g->body_bytes) {
		add(why, "%s%s%llu body bytes, expected %lld", which, num,
		    (unsigned long long)a->body_bytes, (long long)g->body_bytes);
		return true;
	}
	for (size_t h = 0; h < g->n_headers; h++) {
		const char *want = g->headers[h].value;
		const char *got = probe_answer_header(a, g->headers[h].name);
		if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0)) {
			add(why, "%s%sheader %s is %s%s%s, expected %s%s%s", which, num,
			    g->headers[h].name, got ? "\"" : "absent", got ? got : "",
			    got ? "\"" : "", want ? "\"" : "it absent", want ? want : "",
			    want ? "\"" : "");
			return true;
		}
	}
	if (g->log != NULL && !t->log_found) {
		add(why, "%s%sthe gateway's error log has no line %s \"%s\"", which, num,
		    g->log_regex ? "matching" : "saying", g->log);
		if (t->log)
			add(why, "; it says: %.200s", t->log);
		return true;
	}
	return false;
}

static bool status_fails(const struct gateway_expect *g, const struct try_result *tries, size_t n,
			 struct line *why)
{
	size_t k = 0, listed = 0;
	for (size_t i = 0; i < n; i++) {
		k += tries[i].answer.status == g->status;
		listed += status_listed(g, tries[i].answer.status);
	}
	bool fails = counted(g) ? k < g->at_least || (g->at_most >= 0 && k > (size_t)g->at_most)
				: listed < n;
	if (!fails)
		return false;
	add(why, "status ");
	describe_statuses(tries, n, why);
	add(why, ", expected ");
	struct line want = {0};
	describe_want(g, n, &want);
	add(why, "%.*s", (int)strcspn(want.buf, ","), want.buf);
	return true;
}

void verdict_judge(const struct gateway_expect *g, const struct try_result *tries, size_t n,
		   struct verdict *out)
{
	struct line want = {0}, got = {0}, why = {0};
	describe_want(g, n, &want);
	describe_got(tries, n, &got);
	bool fails = dns_unasked(tries, n, &why) || status_fails(g, tries, n, &why);
	for (size_t i = 0; !fails && i < n; i++)
		if (considered(g, &tries[i]))
			fails = try_fails(g, &tries[i], i + 1, n, &why);
	*out = (struct verdict){
		.pass = !fails,
		.want = xstrdup(want.buf),
		.got = xstrdup(got.buf),
		.why = fails ? xstrdup(why.buf) : NULL,
	};
}

char *verdict_describe(const struct try_result *tries, size_t n)
{
	struct line got = {0};
	describe_got(tries, n, &got);
	return xstrdup(got.buf);
}

void verdict_clear(struct verdict *v)
{
	free(v->want);
	free(v->got);
	free(v->why);
	memset(v, 0, sizeof *v);
}

bool verdict_log_says(const struct gateway_expect *g, const char *text)
{
	if (g->log == NULL)
		return true;
	if (text == NULL)
		return false;
	if (!g->log_regex)
		return strstr(text, g->log) != NULL;
	regex_t re;
	if (regcomp(&re, g->log, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
		return false; /* the loader compiled it already */
	bool match = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return match;
}

void verdict_copy_answer(const struct probe_answer *a, struct probe_answer *out)
{
	*out = *a;
	out->error = a->error ? xstrdup(a->error) : NULL;
	out->headers = xcalloc(a->n_headers + 1, sizeof *out->headers);
	for (size_t i = 0; i < a->n_headers; i++)
		out->headers[i] = (struct header){xstrdup(a->headers[i].name),
						  xstrdup(a->headers[i].value)};
}

void verdict_try_clear(struct try_result *t)
{
	scenario_headers_free(t->answer.headers, t->answer.n_headers);
	free(t->answer.error);
	free(t->log);
	memset(t, 0, sizeof *t);
}

/* load_expect: probes and what real gateways answer (format v1).
 *
 *   "expect": {"request": "/path", "method": "POST", "body_size": 1024,
 *              "steps": [{"request": "/warm"}], "repeat": 20,
 *              "nginx": {"status": 502, "at_least": 1, "log": "reset by peer",
 *                        "attempts": 1, "time": {"max": "2s"}},
 *              "haproxy": {"status": 502}}
 *
 * At the top level the probe defaults to "/", on a rule to the rule's
 * literal match.path. The server ignores all of it; `upsim check` reads
 * it (scenario/expect.h). */
#include <regex.h>
#include <string.h>

#include "base/xalloc.h"
#include "scenario/expect.h"
#include "scenario/load.h"

/* The keys of an expect block that are not gateway names. */
static const char *const probe_keys[] = {
	"request", "method", "headers",	    "body",    "body_size",
	"steps",   "repeat", "with_backup", "warm_up", NULL,
};
static const char *const step_keys[] = {
	"request", "method", "headers", "body", "body_size", "pause", NULL,
};
static const char *const gateway_keys[] = {
	"status", "at_least", "at_most",    "log",     "retried", "attempts",
	"time",	  "complete", "body_bytes", "headers", NULL,
};

#define MAX_REPEAT 1000
#define MAX_STEPS 16

static bool is_probe_key(const char *key)
{
	for (size_t i = 0; probe_keys[i]; i++)
		if (strcmp(key, probe_keys[i]) == 0)
			return true;
	return false;
}

/* 0: the client gets no valid response at all (the gateway closed or reset
 * the connection, or passed non-HTTP bytes through). Gateways pass unknown
 * codes through, so any three digits are a status. */
static int load_status(struct jcheck *jc, json_t *v)
{
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
	if (n == 0 || (n >= 100 && n <= 999))
		return (int)n;
	jcheck_fail(jc, "expected 0 (no valid response) or 100..999");
	return -1;
}

/* A list: every status this gateway was seen to answer, when its answer
 * depends on timing. Kept for files that have it; repeat with at_least
 * measures the race instead of accepting it. */
static void load_statuses(struct jcheck *jc, json_t *list, struct gateway_expect *g)
{
	size_t n = json_array_size(list);
	size_t max = 1 + sizeof g->also / sizeof g->also[0];
	if (n < 2 || n > max) {
		jcheck_fail_key(jc, "status", "a list holds 2..%zu statuses", max);
		return;
	}
	size_t mark = jcheck_push_key(jc, "status");
	for (size_t i = 0; i < n; i++) {
		size_t im = jcheck_push_index(jc, i);
		int st = load_status(jc, json_array_get(list, i));
		if (i == 0)
			g->status = st;
		else
			g->also[g->n_also++] = st;
		jcheck_pop(jc, im);
	}
	jcheck_pop(jc, mark);
}

/* "log": a substring, or {"regex": "..."} (POSIX extended). */
static void load_log(struct jcheck *jc, json_t *obj, struct gateway_expect *g)
{
	json_t *v = json_object_get(obj, "log");
	if (v == NULL || json_is_string(v)) {
		jcheck_string(jc, obj, "log", &g->log, NULL);
		return;
	}
	static const char *const keys[] = {"regex", NULL};
	size_t mark = jcheck_push_key(jc, "log");
	if (!json_is_object(v))
		jcheck_fail(jc, "expected a substring or {\"regex\": \"...\"}, got %s",
			    jcheck_type_name(v));
	else if (jcheck_keys(jc, v, keys) == 0 && jcheck_string(jc, v, "regex", &g->log, NULL) == 0)
		jcheck_fail(jc, "missing \"regex\"");
	g->log_regex = g->log != NULL;
	regex_t re;
	int rc = g->log ? regcomp(&re, g->log, REG_EXTENDED | REG_NOSUB) : -1;
	if (rc == 0) {
		regfree(&re);
	} else if (g->log != NULL) {
		char why[128];
		regerror(rc, &re, why, sizeof why);
		jcheck_fail_key(jc, "regex", "not a POSIX extended regular expression: %s", why);
	}
	jcheck_pop(jc, mark);
}

/* "attempts": an exact count, or {"min": a, "max": b}. */
static void load_count_range(struct jcheck *jc, json_t *obj, const char *key,
			     struct expect_range *r)
{
	json_t *v = json_object_get(obj, key);
	long long n;
	if (v == NULL)
		return;
	r->set = true;
	r->min = 0;
	r->max = UINT64_MAX;
	if (json_is_integer(v)) {
		if (jcheck_int(jc, obj, key, 0, 1000, &n) == 1)
			r->min = r->max = (uint64_t)n;
		return;
	}
	static const char *const keys[] = {"min", "max", NULL};
	size_t mark = jcheck_push_key(jc, key);
	if (!json_is_object(v)) {
		jcheck_fail(jc, "expected a count or {\"min\": n, \"max\": n}, got %s",
			    jcheck_type_name(v));
	} else {
		jcheck_keys(jc, v, keys);
		if (jcheck_int(jc, v, "min", 0, 1000, &n) == 1)
			r->min = (uint64_t)n;
		if (jcheck_int(jc, v, "max", 0, 1000, &n) == 1)
			r->max = (uint64_t)n;
		if (r->min > r->max)
			jcheck_fail(jc, "min is above max");
	}
	jcheck_pop(jc, mark);
}

/* "time": {"min": duration, "max": duration}. */
static void load_time_range(struct jcheck *jc, json_t *obj, struct expect_range *r)
{
	json_t *v = jcheck_object(jc, obj, "time");
	if (v == NULL)
		return;
	static const char *const keys[] = {"min", "max", NULL};
	size_t mark = jcheck_push_key(jc, "time");
	jcheck_keys(jc, v, keys);
	r->set = true;
	r->max = UINT64_MAX;
	jcheck_duration(jc, v, "min", &r->min);
	jcheck_duration(jc, v, "max", &r->max);
	if (json_object_size(v) == 0)
		jcheck_fail(jc, "give \"min\", \"max\" or both");
	else if (r->min > r->max)
		jcheck_fail(jc, "min is above max");
	jcheck_pop(jc, mark);
}

/* "headers": {"Name": "value" | null}: the response as the client got it. */
static void load_response_headers(struct jcheck *jc, json_t *obj, struct gateway_expect *g)
{
	json_t *v = jcheck_object(jc, obj, "headers");
	if (v == NULL)
		return;
	size_t mark = jcheck_push_key(jc, "headers");
	const char *name;
	json_t *value;
	g->headers = xcalloc(json_object_size(v) + 1, sizeof *g->headers);
	json_object_foreach(v, name, value)
	{
		size_t km = jcheck_push_key(jc, name);
		if (!load_is_token(name))
			jcheck_fail(jc, "header name \"%s\" is not a valid token", name);
		else if (!json_is_string(value) && !json_is_null(value))
			jcheck_fail(jc,
				    "expected the value as a string, or null for "
				    "\"absent\", got %s",
				    jcheck_type_name(value));
		else
			g->headers[g->n_headers++] = (struct header){
				xstrdup(name),
				json_is_string(value) ? xstrdup(json_string_value(value)) : NULL,
			};
		jcheck_pop(jc, km);
	}
	jcheck_pop(jc, mark);
}

static void load_tries(struct jcheck *jc, json_t *obj, unsigned repeat, struct gateway_expect *g)
{
	long long n;
	if (jcheck_int(jc, obj, "at_least", 1, MAX_REPEAT, &n) == 1)
		g->at_least = (unsigned)n;
	if (jcheck_int(jc, obj, "at_most", 0, MAX_REPEAT, &n) == 1)
		g->at_most = (int)n;
	bool counted = g->at_least > 0 || g->at_most >= 0;
	if (repeat == 0)
		return;
	if (counted && repeat < 2)
		jcheck_fail(jc, "at_least and at_most count tries: give \"repeat\" too");
	else if (g->at_least > repeat)
		jcheck_fail_key(jc, "at_least", "more than the %u tries of \"repeat\"", repeat);
	if (counted && g->n_also)
		jcheck_fail_key(jc, "status",
				"a list accepts a race; with at_least or "
				"at_most give one status and count it");
	if (g->at_least > 0 && g->at_most >= 0 && g->at_least > (unsigned)g->at_most)
		jcheck_fail(jc, "at_least is above at_most");
}

static void load_gateway(struct jcheck *jc, json_t *obj, const char *name, unsigned repeat,
			 struct gateway_expect *g)
{
	g->gateway = xstrdup(name);
	g->retried = -1;
	g->at_most = -1;
	g->complete = -1;
	g->body_bytes = -1;
	if (!load_is_token(name))
		jcheck_fail(jc, "a gateway name is a token such as \"nginx\"");
	if (!json_is_object(obj)) {
		jcheck_fail(jc, "expected an object such as {\"status\": 502}, got %s",
			    jcheck_type_name(obj));
		return;
	}
	jcheck_keys(jc, obj, gateway_keys);
	json_t *st = json_object_get(obj, "status");
	if (st == NULL) {
		jcheck_fail(jc, "missing \"status\": what the client gets through the gateway");
	} else if (json_is_array(st)) {
		load_statuses(jc, st, g);
	} else {
		size_t mark = jcheck_push_key(jc, "status");
		g->status = load_status(jc, st);
		jcheck_pop(jc, mark);
	}
	load_tries(jc, obj, repeat, g);
	load_log(jc, obj, g);
	bool yes;
	if (jcheck_bool(jc, obj, "retried", &yes) == 1)
		g->retried = yes;
	load_count_range(jc, obj, "attempts", &g->attempts);
	if (g->attempts.set && g->retried != -1)
		jcheck_fail_key(jc, "retried", "give attempts or retried, not both");
	load_time_range(jc, obj, &g->time_us);
	if (jcheck_bool(jc, obj, "complete", &yes) == 1)
		g->complete = yes;
	long long n;
	if (jcheck_int(jc, obj, "body_bytes", 0, SCENARIO_MAX_BODY_SIZE, &n) == 1)
		g->body_bytes = n;
	load_response_headers(jc, obj, g);
}

/* The request fields of a probe or a step: request, method, headers,
 * body or body_size. */
static void load_request(struct jcheck *jc, json_t *obj, const char *default_path,
			 struct probe_request *r)
{
	if (jcheck_string(jc, obj, "request", &r->path, NULL) == 1 && r->path[0] != '/')
		jcheck_fail_key(jc, "request", "expected a path starting with \"/\"");
	if (r->path == NULL && default_path != NULL)
		r->path = xstrdup(default_path);
	if (jcheck_string(jc, obj, "method", &r->method, NULL) == 1 && !load_is_token(r->method))
		jcheck_fail_key(jc, "method", "expected a method such as \"POST\"");
	if (r->method == NULL)
		r->method = xstrdup("GET");
	json_t *headers = json_object_get(obj, "headers");
	if (headers != NULL) {
		size_t mark = jcheck_push_key(jc, "headers");
		load_headers(jc, headers, false, &r->headers, &r->n_headers);
		jcheck_pop(jc, mark);
	}
	size_t len = 0;
	int has_body = jcheck_string(jc, obj, "body", &r->body, &len);
	r->body_len = len;
	uint64_t size = 0;
	if (jcheck_size(jc, obj, "body_size", SCENARIO_MAX_BODY_SIZE, &size) == 1) {
		if (has_body == 1)
			jcheck_fail(jc, "give either body or body_size, not both");
		r->body_generated = true;
		r->body_len = size;
	}
}

static void load_steps(struct jcheck *jc, json_t *obj, struct expect *e)
{
	json_t *list = jcheck_array(jc, obj, "steps");
	if (list == NULL)
		return;
	size_t n = json_array_size(list);
	if (n == 0 || n > MAX_STEPS) {
		jcheck_fail_key(jc, "steps", "expected 1..%d requests", MAX_STEPS);
		return;
	}
	size_t mark = jcheck_push_key(jc, "steps");
	e->steps = xcalloc(n, sizeof *e->steps);
	for (size_t i = 0; i < n; i++) {
		json_t *step = json_array_get(list, i);
		size_t im = jcheck_push_index(jc, i);
		if (!json_is_object(step)) {
			jcheck_fail(jc,
				    "expected a request such as {\"request\": \"/warm\"}, got %s",
				    jcheck_type_name(step));
		} else {
			jcheck_keys(jc, step, step_keys);
			struct probe_request *r = &e->steps[e->n_steps++];
			load_request(jc, step, e->probe.path, r);
			if (jcheck_duration(jc, step, "pause", &r->pause_us) == 1
			    && r->pause_us > 60000000)
				jcheck_fail_key(jc, "pause", "expected at most 60s");
		}
		jcheck_pop(jc, im);
	}
	jcheck_pop(jc, mark);
}

static void load_probe(struct jcheck *jc, json_t *obj, const char *default_path, struct expect *e)
{
	load_request(jc, obj, default_path, &e->probe);
	if (e->probe.path == NULL)
		jcheck_fail(jc, "missing \"request\": the rule's path is a pattern, "
				"so name the path to probe");
	load_steps(jc, obj, e);
	long long n = 1;
	if (jcheck_int(jc, obj, "repeat", 1, MAX_REPEAT, &n) == -1)
		n = 0; /* reported: its counts are not judged again */
	e->repeat = (unsigned)n;
	jcheck_bool(jc, obj, "with_backup", &e->with_backup);
	if (jcheck_duration(jc, obj, "warm_up", &e->warm_up_us) == 1
	    && (e->warm_up_us == 0 || e->warm_up_us > 60000000))
		jcheck_fail_key(jc, "warm_up", "expected a pause of 1ms..60s");
}

struct expect *load_expect(struct jcheck *jc, json_t *parent, const char *default_path)
{
	json_t *obj = jcheck_object(jc, parent, "expect");
	if (obj == NULL)
		return NULL;
	struct expect *e = xcalloc(1, sizeof *e);
	size_t mark = jcheck_push_key(jc, "expect");
	load_probe(jc, obj, default_path, e);
	e->gateways = xcalloc(json_object_size(obj), sizeof *e->gateways);
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		if (is_probe_key(key))
			continue;
		const char *near = json_is_object(v) ? NULL : jcheck_nearest(key, probe_keys);
		if (near != NULL) {
			jcheck_fail_key(jc, key, "unknown key (did you mean \"%s\"?)", near);
			continue;
		}
		size_t km = jcheck_push_key(jc, key);
		load_gateway(jc, v, key, e->repeat, &e->gateways[e->n_gateways++]);
		jcheck_pop(jc, km);
	}
	jcheck_pop(jc, mark); /* no gateway yet: upsim check --record fills it */
	return e;
}

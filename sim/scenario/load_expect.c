/* expect_load: what real gateways are expected to answer (format v1).
 *
 *   "expect": {"request": "/path", "with_backup": false, "warm_up": "2500ms",
 *              "nginx": {"status": 502, "log": "reset by peer", "retried": false},
 *              "haproxy": {"status": 502}}
 *
 * At the top level the probe defaults to "/", on a rule to the rule's
 * literal match.path. The server ignores all of it; the gateway
 * conformance tests (tests/gateways) read it. */
#include <string.h>

#include "base/xalloc.h"
#include "scenario/load.h"

static const char *const gateway_keys[] = {"status", "log", "retried", NULL};

/* 0: the client gets no valid response at all (the gateway closed or reset
 * the connection, or passed non-HTTP bytes through). */
static int load_status(struct jcheck *jc, json_t *v)
{
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
	if (n == 0 || (n >= 100 && n <= 599))
		return (int)n;
	jcheck_fail(jc, "expected 0 (no valid response) or 100..599");
	return -1;
}

/* A list: every status this gateway was seen to answer for the probe, when
 * its answer depends on timing (how upsim's bytes and FIN fall into its
 * reads). */
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

static void load_gateway(struct jcheck *jc, json_t *obj, const char *name,
			 struct gateway_expect *g)
{
	g->gateway = xstrdup(name);
	g->retried = -1;
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
	jcheck_string(jc, obj, "log", &g->log, NULL);
	bool retried;
	if (jcheck_bool(jc, obj, "retried", &retried) == 1)
		g->retried = retried;
}

struct expect *load_expect(struct jcheck *jc, json_t *parent, const char *default_path)
{
	json_t *obj = jcheck_object(jc, parent, "expect");
	if (obj == NULL)
		return NULL;
	struct expect *e = xcalloc(1, sizeof *e);
	size_t mark = jcheck_push_key(jc, "expect");
	if (jcheck_string(jc, obj, "request", &e->path, NULL) == 1 && e->path[0] != '/')
		jcheck_fail_key(jc, "request", "expected a path starting with \"/\"");
	if (e->path == NULL && default_path != NULL)
		e->path = xstrdup(default_path);
	if (e->path == NULL)
		jcheck_fail(jc, "missing \"request\": the rule's path is a pattern, "
			    "so name the path to probe");
	jcheck_bool(jc, obj, "with_backup", &e->with_backup);
	if (jcheck_duration(jc, obj, "warm_up", &e->warm_up_us) == 1 &&
	    (e->warm_up_us == 0 || e->warm_up_us > 60000000))
		jcheck_fail_key(jc, "warm_up", "expected a pause of 1ms..60s");
	e->gateways = xcalloc(json_object_size(obj), sizeof *e->gateways);
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (strcmp(key, "request") == 0 || strcmp(key, "with_backup") == 0 ||
		    strcmp(key, "warm_up") == 0)
			continue;
		size_t km = jcheck_push_key(jc, key);
		load_gateway(jc, v, key, &e->gateways[e->n_gateways++]);
		jcheck_pop(jc, km);
	}
	if (e->n_gateways == 0)
		jcheck_fail(jc, "names no gateway");
	jcheck_pop(jc, mark);
	return e;
}

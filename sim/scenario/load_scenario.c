/* scenario_load: compile a scenario file (format v1) into the model.
 *
 * Every check reports through jcheck and the walk continues, so one run of
 * `upsim validate` shows every problem of a file. The jansson tree is
 * dropped before returning: nothing in the model borrows from it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "scenario/dns.h"
#include "scenario/jcheck.h"
#include "scenario/load.h"
#include "scenario/model.h"

static const char *const top_keys[] = {
	"upsim",    "name",	"description", "seed", "defaults", "connection",
	"overload", "rules",	"phases",      "loop", "expect",   "allow_override",
	"$schema",  "upstream", "forwarding",  "dns",  NULL,
};
static const char *const rule_keys[] = {
	"name", "match", "respond", "choose", "sequence", "cycle", "expect", "phases", NULL,
};
static const char *const match_keys[] = {
	"method", "path", "headers", "query", "connection_request", "reused", NULL,
};
/* Contradictions only visible once defaults are applied. */
static void check_resolved(struct jcheck *jc, const struct scenario *sc, const struct action *a)
{
	struct action r;
	scenario_resolve(sc, a, &r);
	if (scenario_status_has_no_body(r.status) && r.body_len > 0)
		jcheck_fail(jc, "status %d has no body, but this action gives one", r.status);
	if (scenario_action_raw(&r) && r.body_len > SCENARIO_MAX_RAW_BODY)
		jcheck_fail(jc,
			    "a faulty or paced response is built in memory: its body may "
			    "be at most %u MiB (this one is %llu bytes)",
			    SCENARIO_MAX_RAW_BODY >> 20, (unsigned long long)r.body_len);
	load_check_forward(jc, sc, &r);
}

static void load_methods(struct jcheck *jc, json_t *v, struct match *m)
{
	if (json_is_string(v)) {
		v = json_pack("[O]", v);
	} else if (json_is_array(v) && json_array_size(v) > 0) {
		json_incref(v);
	} else {
		jcheck_fail(jc, "expected a method name or a non-empty list of them");
		return;
	}
	size_t i;
	json_t *name;
	m->methods = xcalloc(json_array_size(v), sizeof *m->methods);
	json_array_foreach(v, i, name)
	{
		if (json_is_string(name) && load_is_token(json_string_value(name))) {
			m->methods[m->n_methods++] = xstrdup(json_string_value(name));
			continue;
		}
		size_t mark = jcheck_push_index(jc, i);
		jcheck_fail(jc, "expected a method name such as \"GET\"");
		jcheck_pop(jc, mark);
	}
	json_decref(v);
}

/* connection_request and reused: where the request sits on its
 * connection, for keep-alive races. */
static void load_connection_position(struct jcheck *jc, json_t *obj, struct match *m)
{
	long long nth;
	if (jcheck_int(jc, obj, "connection_request", 1, 1000000, &nth) == 1)
		m->connection_request = (unsigned)nth;
	bool reused;
	if (jcheck_bool(jc, obj, "reused", &reused) == 1)
		m->reused = reused ? REUSE_ONLY : REUSE_FIRST;
	if (m->connection_request && m->reused != REUSE_ANY
	    && (m->connection_request > 1) != (m->reused == REUSE_ONLY))
		jcheck_fail(jc, "connection_request %u and reused: %s never match together",
			    m->connection_request, m->reused == REUSE_ONLY ? "true" : "false");
}

static void load_match(struct jcheck *jc, json_t *obj, struct match *m)
{
	jcheck_keys(jc, obj, match_keys);
	load_connection_position(jc, obj, m);
	json_t *method = json_object_get(obj, "method");
	if (method != NULL) {
		size_t mark = jcheck_push_key(jc, "method");
		load_methods(jc, method, m);
		jcheck_pop(jc, mark);
	}
	if (jcheck_string(jc, obj, "path", &m->path, NULL) == 1 && m->path[0] != '/'
	    && m->path[0] != '*')
		jcheck_fail_key(jc, "path", "a path pattern starts with '/' or '*'");
	json_t *v;
	if ((v = jcheck_object(jc, obj, "headers")) != NULL) {
		size_t mark = jcheck_push_key(jc, "headers");
		load_headers(jc, v, false, &m->headers, &m->n_headers);
		jcheck_pop(jc, mark);
	}
	if ((v = jcheck_object(jc, obj, "query")) != NULL) {
		size_t mark = jcheck_push_key(jc, "query");
		const char *name;
		json_t *value;
		json_object_foreach(v, name, value)
		{
			size_t km = jcheck_push_key(jc, name);
			if (json_is_string(value))
				load_add_header(&m->query, &m->n_query, name,
						json_string_value(value));
			else
				jcheck_fail(jc, "expected a string, got %s",
					    jcheck_type_name(value));
			jcheck_pop(jc, km);
		}
		jcheck_pop(jc, mark);
	}
}

/* Load the actions of a choose or sequence list at key. */
static void load_action_list(struct jcheck *jc, const struct scenario *sc, json_t *list,
			     const char *key, struct rule *r)
{
	size_t mark = jcheck_push_key(jc, key);
	size_t n = json_array_size(list);
	if (n == 0 || n > SCENARIO_MAX_ACTIONS) {
		jcheck_fail(jc, "expected 1..%d actions", SCENARIO_MAX_ACTIONS);
		jcheck_pop(jc, mark);
		return;
	}
	r->actions = xcalloc(n, sizeof *r->actions);
	r->n_actions = n;
	for (size_t i = 0; i < n; i++) {
		size_t im = jcheck_push_index(jc, i);
		load_action(jc, json_array_get(list, i), r->behaviour == BEHAVE_CHOOSE,
			    &r->actions[i]);
		check_resolved(jc, sc, &r->actions[i]);
		r->total_weight += r->actions[i].weight;
		jcheck_pop(jc, im);
	}
	if (r->behaviour == BEHAVE_CHOOSE && r->total_weight == 0)
		jcheck_fail(jc, "the weights add up to 0: nothing can be chosen");
	jcheck_pop(jc, mark);
}

static void load_behaviour(struct jcheck *jc, const struct scenario *sc, json_t *obj,
			   struct rule *r)
{
	static const char *const kinds[] = {"respond", "choose", "sequence"};
	int found = 0;
	for (int i = 0; i < 3; i++)
		if (json_object_get(obj, kinds[i]) != NULL)
			found++;
	if (found != 1) {
		jcheck_fail(jc, "a rule needs exactly one of respond, choose or sequence");
		return;
	}
	json_t *v;
	if ((v = json_object_get(obj, "respond")) != NULL) {
		r->behaviour = BEHAVE_RESPOND;
		r->actions = xcalloc(1, sizeof *r->actions);
		r->n_actions = 1;
		size_t mark = jcheck_push_key(jc, "respond");
		load_action(jc, v, false, &r->actions[0]);
		check_resolved(jc, sc, &r->actions[0]);
		jcheck_pop(jc, mark);
		r->total_weight = 1;
	} else if ((v = jcheck_array(jc, obj, "choose")) != NULL) {
		r->behaviour = BEHAVE_CHOOSE;
		load_action_list(jc, sc, v, "choose", r);
	} else if ((v = jcheck_array(jc, obj, "sequence")) != NULL) {
		r->behaviour = BEHAVE_SEQUENCE;
		load_action_list(jc, sc, v, "sequence", r);
	}
	if (jcheck_bool(jc, obj, "cycle", &r->cycle) == 1 && r->behaviour != BEHAVE_SEQUENCE)
		jcheck_fail_key(jc, "cycle", "cycle only applies to a sequence");
}

/* "phases": ["degraded", "outage"]: the rule applies only in those. */
static void load_rule_phases(struct jcheck *jc, const struct scenario *sc, json_t *obj,
			     struct rule *r)
{
	json_t *list = jcheck_array(jc, obj, "phases");
	if (list == NULL)
		return;
	size_t mark = jcheck_push_key(jc, "phases");
	if (sc->n_phases == 0 || json_array_size(list) == 0)
		jcheck_fail(jc, sc->n_phases ? "expected one or more phase names"
					     : "the scenario has no \"phases\" timeline");
	r->in_phase = xcalloc(sc->n_phases ? sc->n_phases : 1, sizeof *r->in_phase);
	size_t i;
	json_t *name;
	json_array_foreach(list, i, name)
	{
		size_t found, im = jcheck_push_index(jc, i);
		if (!json_is_string(name))
			jcheck_fail(jc, "expected a phase name, got %s", jcheck_type_name(name));
		else if (!scenario_find_phase(sc, json_string_value(name), &found))
			jcheck_fail(jc, "no phase is called \"%s\"", json_string_value(name));
		else
			r->in_phase[found] = true;
		jcheck_pop(jc, im);
	}
	jcheck_pop(jc, mark);
}

static char *default_rule_name(const char *prefix, size_t index)
{
	return prefix ? xasprintf("%s.rules[%zu]", prefix, index) : xasprintf("rules[%zu]", index);
}

/* A phase's own rules are in force only in it and are not probed. */
static void refuse_in_phase(struct jcheck *jc, json_t *obj)
{
	static const char *const keys[] = {"phases", "expect", NULL};
	for (int i = 0; keys[i]; i++)
		if (json_object_get(obj, keys[i]) != NULL)
			jcheck_fail_key(jc, keys[i],
					"not allowed in a phase's own rules "
					"(only in the top-level rules)");
}

/* prefix: NULL for a top-level rule, the phase's name for a phase's. */
static void load_rule(struct jcheck *jc, const struct scenario *sc, json_t *obj, const char *prefix,
		      size_t index, struct rule *r)
{
	r->index = index;
	if (!json_is_object(obj)) {
		jcheck_fail(jc, "expected a rule object, got %s", jcheck_type_name(obj));
		r->name = default_rule_name(prefix, index);
		return;
	}
	jcheck_keys(jc, obj, rule_keys);
	if (jcheck_string(jc, obj, "name", &r->name, NULL) != 1)
		r->name = default_rule_name(prefix, index);
	json_t *match = jcheck_object(jc, obj, "match");
	if (match != NULL) {
		size_t mark = jcheck_push_key(jc, "match");
		load_match(jc, match, &r->match);
		jcheck_pop(jc, mark);
	}
	load_behaviour(jc, sc, obj, r);
	if (prefix != NULL) {
		refuse_in_phase(jc, obj);
		return;
	}
	load_rule_phases(jc, sc, obj, r);
	const char *path = r->match.path;
	r->expect = load_expect(jc, obj, path && !strchr(path, '*') ? path : NULL);
}

void load_rule_list(struct jcheck *jc, const struct scenario *sc, json_t *obj, const char *prefix,
		    struct rule **out, size_t *n_out)
{
	json_t *rules = jcheck_array(jc, obj, "rules");
	if (rules == NULL)
		return;
	size_t n = json_array_size(rules);
	if (n > SCENARIO_MAX_RULES) {
		jcheck_fail_key(jc, "rules", "more than %d rules", SCENARIO_MAX_RULES);
		return;
	}
	*out = xcalloc(n ? n : 1, sizeof **out);
	*n_out = n;
	size_t mark = jcheck_push_key(jc, "rules");
	for (size_t i = 0; i < n; i++) {
		size_t im = jcheck_push_index(jc, i);
		load_rule(jc, sc, json_array_get(rules, i), prefix, i, &(*out)[i]);
		jcheck_pop(jc, im);
	}
	jcheck_pop(jc, mark);
}

/* Every rule gets its place in all_rules, the order behave's per-rule
 * state follows: the top level's, then each phase's. */
static void index_rules(struct scenario *sc)
{
	size_t n = sc->n_rules;
	for (size_t p = 0; p < sc->n_phases; p++)
		n += sc->phases[p].n_rules;
	sc->all_rules = xcalloc(n ? n : 1, sizeof *sc->all_rules);
	for (size_t i = 0; i < sc->n_rules; i++)
		sc->all_rules[sc->n_all_rules++] = &sc->rules[i];
	for (size_t p = 0; p < sc->n_phases; p++)
		for (size_t i = 0; i < sc->phases[p].n_rules; i++)
			sc->all_rules[sc->n_all_rules++] = &sc->phases[p].rules[i];
	for (size_t i = 0; i < sc->n_all_rules; i++)
		((struct rule *)sc->all_rules[i])->index = i;
}

/* Defaults fall back to the built-in response: 200, no extra header, an
 * empty body, Content-Length framing. */
static void load_defaults(struct jcheck *jc, json_t *root, struct scenario *sc)
{
	json_t *d = json_object_get(root, "defaults");
	if (d != NULL) {
		size_t mark = jcheck_push_key(jc, "defaults");
		load_action(jc, d, false, &sc->defaults);
		jcheck_pop(jc, mark);
	} else {
		sc->defaults.weight = 1;
		sc->defaults.fault.then = END_CLOSE;
		sc->defaults.after.kind = AFTER_KEEP;
	}
	if (!(sc->defaults.set & ACTION_STATUS))
		sc->defaults.status = 200;
	if (d != NULL) {
		size_t mark = jcheck_push_key(jc, "defaults");
		check_resolved(jc, sc, &sc->defaults);
		jcheck_pop(jc, mark);
	}
}

static void load_header_fields(struct jcheck *jc, json_t *root, struct scenario *sc)
{
	json_t *version = json_object_get(root, "upsim");
	if (version == NULL)
		jcheck_fail(jc, "missing \"upsim\": the format version (write \"upsim\": %d)",
			    SCENARIO_FORMAT);
	else if (!json_is_integer(version) || json_integer_value(version) != SCENARIO_FORMAT)
		jcheck_fail_key(jc, "upsim", "unsupported format version (this build reads %d)",
				SCENARIO_FORMAT);
	if (jcheck_string(jc, root, "name", &sc->name, NULL) != 1)
		sc->name = xstrdup("unnamed");
	jcheck_string(jc, root, "description", &sc->description, NULL);
	jcheck_schema_ref(jc, root);
	jcheck_bool(jc, root, "allow_override", &sc->allow_override);
	long long seed = 0;
	if (jcheck_int(jc, root, "seed", 0, INT64_MAX, &seed) == 1)
		sc->seed = (uint64_t)seed;
}

/* --forward-to: url replaces the file's "upstream", before the defaults
 * and rules are checked against it (so "forward": true needs no
 * "upstream" in the file then). */
static void override_upstream(struct upsim_err *err, struct scenario *sc, const char *url)
{
	const char *why = scenario_upstream_url_problem(url);
	if (why != NULL) {
		/* no JSON path: the option is not in the file */
		err_addf(err, "%s: --forward-to %s: %s", sc->file, url, why);
		return;
	}
	free(sc->upstream);
	sc->upstream = xstrdup(url);
	size_t n = strlen(sc->upstream);
	if (n > 0 && sc->upstream[n - 1] == '/')
		sc->upstream[n - 1] = '\0'; /* the request's path brings its own */
}

/* Where a scenario comes from: the scenario file's folder (".": the
 * working directory), or NULL for a scenario from memory (see
 * load_forwarding and load_action); and --forward-to's URL, or NULL. */
struct origin {
	const char *dir;
	const char *forward_to;
};

static struct scenario *compile(const char *label, const struct origin *from, json_t *root,
				struct upsim_err *err)
{
	struct jcheck jc;
	jcheck_init(&jc, label, err);
	jc.dir = from->dir;
	if (!json_is_object(root)) {
		jcheck_fail(&jc, "a scenario is a JSON object, got %s", jcheck_type_name(root));
		return NULL;
	}
	struct scenario *sc = xcalloc(1, sizeof *sc);
	sc->refs = 1;
	sc->file = xstrdup(label);
	size_t before = err_count(err);
	jcheck_keys(&jc, root, top_keys);
	load_header_fields(&jc, root, sc);
	load_forwarding(&jc, root, from->dir, sc);
	if (from->forward_to != NULL)
		override_upstream(err, sc, from->forward_to);
	load_defaults(&jc, root, sc);
	load_connection(&jc, root, &sc->connection);
	load_overload(&jc, root, sc, &sc->overload);
	dns_load(&jc, root, false, &sc->n_dns_names, &sc->dns);
	load_phases(&jc, root, sc);
	sc->expect = load_expect(&jc, root, "/");
	load_rule_list(&jc, sc, root, NULL, &sc->rules, &sc->n_rules);
	if (err_count(err) != before) {
		scenario_unref(sc);
		return NULL;
	}
	index_rules(sc);
	return sc;
}

static struct scenario *load_buffer(const char *label, const struct origin *from, const char *buf,
				    size_t len, struct upsim_err *err)
{
	if (len > SCENARIO_MAX_FILE_BYTES) {
		err_addf(err, "%s: file is larger than %u bytes", label, SCENARIO_MAX_FILE_BYTES);
		return NULL;
	}
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (root == NULL) {
		err_addf(err, "%s:%d:%d: invalid JSON: %s", label, jerr.line, jerr.column,
			 jerr.text);
		return NULL;
	}
	struct upsim_err local = {0};
	struct scenario *sc = compile(label, from, root, err ? err : &local);
	err_clear(&local);
	json_decref(root);
	return sc;
}

struct scenario *scenario_load_buffer(const char *label, const char *buf, size_t len,
				      struct upsim_err *err)
{
	return scenario_load_buffer_to(label, buf, len, NULL, err);
}

struct scenario *scenario_load_buffer_to(const char *label, const char *buf, size_t len,
					 const char *forward_to, struct upsim_err *err)
{
	struct origin from = {.forward_to = forward_to};
	return load_buffer(label, &from, buf, len, err);
}

int scenario_parse_action(const char *label, const char *text, struct action *out,
			  struct upsim_err *err)
{
	json_error_t jerr;
	json_t *obj = text[0] == '{' ? json_loads(text, JSON_REJECT_DUPLICATES, &jerr)
				     : json_pack("{s:s}", "fault", text);
	memset(out, 0, sizeof *out);
	if (obj == NULL) {
		err_addf(err, "%s: %s", label,
			 text[0] == '{' ? jerr.text : "expected a fault name or a JSON action");
		return -1;
	}
	struct jcheck jc;
	jcheck_init(&jc, label, err);
	size_t before = err_count(err);
	load_action(&jc, obj, false, out);
	json_decref(obj);
	if (err_count(err) != before) {
		scenario_action_clear(out);
		return -1;
	}
	return 0;
}

char *load_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t limit = max + 1, cap = limit < 4096 ? limit : 4096, n = 0;
	char *buf = xmalloc(cap);
	while (n < limit) {
		if (n == cap) {
			cap = cap < limit / 2 ? cap * 2 : limit;
			buf = xrealloc(buf, cap);
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	bool failed = ferror(f);
	fclose(f);
	if (failed) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	*len = n;
	return buf;
}

struct scenario *scenario_load_file(const char *path, struct upsim_err *err)
{
	return scenario_load_file_to(path, NULL, err);
}

struct scenario *scenario_load_file_to(const char *path, const char *forward_to,
				       struct upsim_err *err)
{
	size_t len;
	char *buf = load_read_file(path, SCENARIO_MAX_FILE_BYTES, &len);
	if (buf == NULL) {
		err_addf(err, "%s: %s", path, errno == EIO ? "read error" : strerror(errno));
		return NULL;
	}
	/* body_file and ca_file paths are relative to the file's own folder. */
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL   ? xstrdup(".")
		    : slash == path ? xstrdup("/")
				    : xmemdup(path, (size_t)(slash - path));
	struct origin from = {.dir = dir, .forward_to = forward_to};
	struct scenario *sc = load_buffer(path, &from, buf, len, err);
	free(dir);
	free(buf);
	return sc;
}

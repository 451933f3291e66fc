/* action_load: one action of a scenario — response, timing, fault, after.
 *
 * Fields absent from an action come from the defaults when it is resolved,
 * so each group (fault and its parameters, the pacing fields, after) is
 * recorded as set or not as a whole. Contradictions inside one action are
 * errors: a parameter its fault does not take, pacing on a fault that sends
 * nothing, after on a fault that ends the connection itself. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "scenario/fault.h"
#include "scenario/load.h"

static const char *const response_keys[] = {
	"status",    "headers",	       "body",	       "body_size",
	"chunked",   "weight",	       "delay",	       "fault",
	"drip",	     "rate",	       "header_delay", "stall",
	"after",     "read",	       "forward",      "on_upstream_error",
	"body_file", "remove_headers", NULL,
};

/* Headers upsim computes itself: writing them by hand would contradict the
 * body it sends. The framing faults produce the broken variants on purpose. */
static const char *const computed_headers[] = {
	"Content-Length",
	"Transfer-Encoding",
	NULL,
};

/* RFC 9110 token characters: what a header name or method may contain. */
bool load_is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!(strchr("!#$%&'*+-.^_`|~", *s) || (*s >= '0' && *s <= '9')
		      || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

/* A header value that MHD can send as it is: no CR, LF or NUL. Values with
 * those are the malformed faults' job. */
static bool is_field_value(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return false;
	return true;
}

void load_add_header(struct header **list, size_t *n, const char *name, const char *value)
{
	*list = xrealloc(*list, (*n + 1) * sizeof **list);
	(*list)[*n].name = xstrdup(name);
	(*list)[*n].value = xstrdup(value);
	(*n)++;
}

/* Check one header pair at the current path and append it when valid. */
static void load_header_pair(struct jcheck *jc, const char *name, json_t *value, bool response,
			     struct header **list, size_t *n)
{
	if (!load_is_token(name)) {
		jcheck_fail(jc, "header name \"%s\" is not a valid token", name);
		return;
	}
	if (!json_is_string(value)) {
		jcheck_fail(jc, "header value must be a string, got %s", jcheck_type_name(value));
		return;
	}
	if (!is_field_value(json_string_value(value), json_string_length(value))) {
		jcheck_fail(jc, "header value may not contain CR, LF or NUL "
				"(use the \"malformed\" or \"raw\" fault for that)");
		return;
	}
	for (size_t i = 0; response && computed_headers[i]; i++) {
		if (strcasecmp(name, computed_headers[i]) == 0) {
			jcheck_fail(jc,
				    "%s is computed by upsim from body, body_size "
				    "and chunked (use the length_mismatch, "
				    "duplicate_length or cl_and_te fault to break it)",
				    computed_headers[i]);
			return;
		}
	}
	load_add_header(list, n, name, json_string_value(value));
}

/* Headers as an object {"Name": "value"} or, so duplicates and any casing
 * survive, a list of ["Name", "value"] pairs. */
void load_headers(struct jcheck *jc, json_t *v, bool response, struct header **list, size_t *n)
{
	if (json_object_size(v) > SCENARIO_MAX_HEADERS
	    || json_array_size(v) > SCENARIO_MAX_HEADERS) {
		jcheck_fail(jc, "more than %d headers", SCENARIO_MAX_HEADERS);
		return;
	}
	if (json_is_object(v)) {
		const char *name;
		json_t *value;
		json_object_foreach(v, name, value)
		{
			size_t mark = jcheck_push_key(jc, name);
			load_header_pair(jc, name, value, response, list, n);
			jcheck_pop(jc, mark);
		}
		return;
	}
	if (!json_is_array(v) || !response) {
		jcheck_fail(jc,
			    response ? "expected an object or a list of [name, value] pairs, got %s"
				     : "expected an object, got %s",
			    jcheck_type_name(v));
		return;
	}
	size_t i;
	json_t *pair;
	json_array_foreach(v, i, pair)
	{
		size_t mark = jcheck_push_index(jc, i);
		if (json_array_size(pair) != 2 || !json_is_string(json_array_get(pair, 0)))
			jcheck_fail(jc, "expected a [name, value] pair of strings");
		else
			load_header_pair(jc, json_string_value(json_array_get(pair, 0)),
					 json_array_get(pair, 1), response, list, n);
		jcheck_pop(jc, mark);
	}
}

/* body_file: the body is the bytes of a file beside the scenario, read
 * now (the loaded scenario holds no file open). Only a scenario read from
 * a file has a folder: in a request header's action or an admin upload
 * the key is refused, so neither can make upsim read a file. */
static int load_body_file(struct jcheck *jc, json_t *obj, struct action *a)
{
	char *rel = NULL;
	size_t len = 0;
	int got = jcheck_string(jc, obj, "body_file", &rel, &len);
	if (got != 1)
		return got;
	int rc = -1;
	char *path = NULL;
	size_t mark = jcheck_push_key(jc, "body_file");
	if (jc->dir == NULL) {
		jcheck_fail(jc, "body_file is read from a scenario file's folder: not allowed "
				"here");
		goto out;
	}
	if (rel[0] == '\0' || rel[0] == '/' || strlen(rel) != len) {
		jcheck_fail(jc,
			    "expected a path relative to the scenario file's folder, got "
			    "\"%s\"",
			    rel);
		goto out;
	}
	path = xasprintf("%s/%s", jc->dir, rel);
	size_t n = 0;
	char *buf = load_read_file(path, SCENARIO_MAX_BODY_FILE, &n);
	if (buf == NULL) {
		jcheck_fail(jc, "cannot read \"%s\": %s", rel,
			    errno == EIO ? "read error" : strerror(errno));
		goto out;
	}
	if (n > SCENARIO_MAX_BODY_FILE) {
		jcheck_fail(jc, "\"%s\" is larger than %u bytes", rel, SCENARIO_MAX_BODY_FILE);
		free(buf);
		goto out;
	}
	a->body = buf;
	a->body_len = n;
	rc = 1;
out:
	jcheck_pop(jc, mark);
	free(path);
	free(rel);
	return rc;
}

static void load_body(struct jcheck *jc, json_t *obj, struct action *a)
{
	int has_body = jcheck_string(jc, obj, "body", &a->body, &a->body_len);
	uint64_t size = 0;
	int has_size = jcheck_size(jc, obj, "body_size", SCENARIO_MAX_BODY_SIZE, &size);
	bool has_file = json_object_get(obj, "body_file") != NULL;
	if (has_body == 1 && has_size == 1) {
		jcheck_fail(jc, "give either body or body_size, not both");
		return;
	}
	if (has_file && (has_body != 0 || has_size != 0)) {
		jcheck_fail_key(jc, "body_file", "give one of body, body_size and body_file");
		return;
	}
	if (has_size == 1) {
		a->body_generated = true;
		a->body_len = size;
	}
	if (has_file && load_body_file(jc, obj, a) == 1)
		a->set |= ACTION_BODY;
	if (has_body == 1 || has_size == 1)
		a->set |= ACTION_BODY;
}

/* --- timing ------------------------------------------------------------ */

int load_dist(struct jcheck *jc, json_t *obj, const char *key, struct dist *d)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_object(v)) {
		if (jcheck_duration(jc, obj, key, &d->a_us) == 1)
			d->kind = DIST_FIXED;
		return 1;
	}
	size_t mark = jcheck_push_key(jc, key);
	static const char *const keys[] = {"uniform", "lognormal", NULL};
	jcheck_keys(jc, v, keys);
	json_t *u = json_object_get(v, "uniform"), *ln = json_object_get(v, "lognormal");
	if ((u != NULL) == (ln != NULL)) {
		jcheck_fail(jc, "expected a duration, {\"uniform\": [a, b]} or "
				"{\"lognormal\": {\"median\": m, \"sigma\": s}}");
	} else if (u != NULL) {
		d->kind = DIST_UNIFORM;
		json_t *pair = json_pack("{s:O?,s:O?}", "a", json_array_get(u, 0), "b",
					 json_array_get(u, 1));
		size_t um = jcheck_push_key(jc, "uniform");
		if (!json_is_array(u) || json_array_size(u) != 2
		    || jcheck_duration(jc, pair, "a", &d->a_us) != 1
		    || jcheck_duration(jc, pair, "b", &d->b_us) != 1 || d->a_us > d->b_us)
			jcheck_fail(jc, "expected [low, high]: two durations, low <= high");
		jcheck_pop(jc, um);
		json_decref(pair);
	} else {
		d->kind = DIST_LOGNORMAL;
		size_t lm = jcheck_push_key(jc, "lognormal");
		static const char *const lkeys[] = {"median", "sigma", NULL};
		json_t *sigma = json_object_get(ln, "sigma");
		if (!json_is_object(ln) || jcheck_keys(jc, ln, lkeys) != 0
		    || jcheck_duration(jc, ln, "median", &d->a_us) != 1 || !json_is_number(sigma)
		    || json_number_value(sigma) < 0 || json_number_value(sigma) > 5)
			jcheck_fail(jc, "expected {\"median\": duration, \"sigma\": 0..5}");
		else
			d->sigma = json_number_value(sigma);
		jcheck_pop(jc, lm);
	}
	jcheck_pop(jc, mark);
	return 1;
}

static void load_delay(struct jcheck *jc, json_t *obj, struct action *a)
{
	if (load_dist(jc, obj, "delay", &a->delay) == 1)
		a->set |= ACTION_DELAY;
}

static int load_part(struct jcheck *jc, json_t *obj, const char *key, enum part *out)
{
	static const char *const names[] = {"status", "headers", "body", NULL};
	int n = 0;
	int got = jcheck_enum(jc, obj, key, names, "expected \"status\", \"headers\" or \"body\"",
			      &n);
	if (got == 1)
		*out = (enum part)(PART_STATUS + n - 1);
	return got;
}

static void load_stall(struct jcheck *jc, json_t *obj, struct pace *p)
{
	json_t *v = jcheck_object(jc, obj, "stall");
	if (v == NULL)
		return;
	size_t mark = jcheck_push_key(jc, "stall");
	static const char *const keys[] = {"at", "offset", "for", NULL};
	jcheck_keys(jc, v, keys);
	if (load_part(jc, v, "at", &p->stall_at) == 0)
		jcheck_fail(jc, "missing \"at\": status, headers or body");
	jcheck_size(jc, v, "offset", SCENARIO_MAX_BODY_SIZE, &p->stall_offset);
	if (jcheck_duration(jc, v, "for", &p->stall_for_us) == 0)
		jcheck_fail(jc, "missing \"for\": how long the response pauses");
	jcheck_pop(jc, mark);
}

static void load_drip(struct jcheck *jc, json_t *obj, struct pace *p)
{
	json_t *v = jcheck_object(jc, obj, "drip");
	if (v == NULL)
		return;
	size_t mark = jcheck_push_key(jc, "drip");
	static const char *const keys[] = {"bytes", "every", NULL};
	jcheck_keys(jc, v, keys);
	if (jcheck_size(jc, v, "bytes", SCENARIO_MAX_BODY_SIZE, &p->drip_bytes) == 0
	    || p->drip_bytes == 0)
		jcheck_fail(jc, "\"bytes\": how many bytes each drip sends (at least 1)");
	if (jcheck_duration(jc, v, "every", &p->drip_every_us) == 0)
		jcheck_fail(jc, "missing \"every\": the time between drips");
	jcheck_pop(jc, mark);
}

static void load_pace(struct jcheck *jc, json_t *obj, struct action *a)
{
	struct pace *p = &a->pace;
	load_drip(jc, obj, p);
	long long rate;
	if (jcheck_int(jc, obj, "rate", 1, 1LL << 40, &rate) == 1)
		p->rate = (uint64_t)rate;
	jcheck_duration(jc, obj, "header_delay", &p->header_delay_us);
	load_stall(jc, obj, p);
	static const char *const keys[] = {"drip", "rate", "header_delay", "stall", NULL};
	for (int i = 0; keys[i]; i++)
		if (json_object_get(obj, keys[i]) != NULL)
			a->set |= ACTION_PACE;
}

/* "after": "keep" | "close" | "reset" | {"close_after": d} |
 * {"on_next_request": "close" | "reset"}. */
static void load_after(struct jcheck *jc, json_t *obj, struct action *a)
{
	json_t *v = json_object_get(obj, "after");
	if (v == NULL)
		return;
	a->set |= ACTION_AFTER;
	static const char *const names[] = {"keep", "close", "reset", NULL};
	for (int i = 0; json_is_string(v) && names[i]; i++) {
		if (strcmp(json_string_value(v), names[i]) == 0) {
			a->after.kind = (enum after_kind)(AFTER_KEEP + i);
			return;
		}
	}
	json_t *next = json_object_get(v, "on_next_request");
	if (json_is_object(v) && json_object_size(v) == 1
	    && json_object_get(v, "close_after") != NULL) {
		size_t mark = jcheck_push_key(jc, "after");
		if (jcheck_duration(jc, v, "close_after", &a->after.delay_us) == 1)
			a->after.kind = AFTER_CLOSE_AFTER;
		jcheck_pop(jc, mark);
		return;
	}
	if (json_is_object(v) && json_object_size(v) == 1 && json_is_string(next)) {
		const char *how = json_string_value(next);
		if (strcmp(how, "close") == 0 || strcmp(how, "reset") == 0) {
			a->after.kind = how[0] == 'c' ? AFTER_NEXT_CLOSE : AFTER_NEXT_RESET;
			return;
		}
	}
	char hint[96];
	jcheck_fail_key(
		jc, "after",
		"expected \"keep\", \"close\", \"reset\", "
		"{\"close_after\": duration} or {\"on_next_request\": \"close\" | \"reset\"}%s",
		jcheck_did_you_mean(v, names, hint, sizeof hint));
}

static void load_read(struct jcheck *jc, json_t *obj, struct action *a)
{
	json_t *v = jcheck_object(jc, obj, "read");
	if (v == NULL)
		return;
	a->set |= ACTION_READ;
	size_t mark = jcheck_push_key(jc, "read");
	static const char *const keys[] = {"rate", NULL};
	jcheck_keys(jc, v, keys);
	long long rate;
	if (jcheck_int(jc, v, "rate", 1, 1LL << 40, &rate) == 1)
		a->read_rate = (uint64_t)rate;
	else
		jcheck_fail(jc, "expected {\"rate\": bytes per second}");
	jcheck_pop(jc, mark);
}

/* --- faults ------------------------------------------------------------ */

static const char *const then_names[] = {"close", "reset", "hang", NULL};

/* raw's "base64": the bytes it decodes to. */
static int load_base64(struct jcheck *jc, json_t *obj, struct fault *f)
{
	char *b64 = NULL;
	int got = jcheck_string(jc, obj, "base64", &b64, NULL);
	if (got == 1) {
		gnutls_datum_t in = {(unsigned char *)b64, (unsigned)strlen(b64)}, out;
		if (gnutls_base64_decode2(&in, &out) != 0) {
			jcheck_fail_key(jc, "base64", "not valid base64");
			got = -1;
		} else {
			free(f->bytes); /* "bytes" too: an error already */
			f->bytes = xmemdup(out.data, out.size);
			f->bytes_len = out.size;
			gnutls_free(out.data);
		}
	}
	free(b64);
	return got;
}

/* Parameter key of fault info at obj into f: 1 given, 0 absent, -1 given
 * but invalid (reported). Each key has one meaning in every fault that
 * takes it; the table in scenario/fault.c says which faults do. */
static int load_fault_param(struct jcheck *jc, json_t *obj, const struct fault_info *info,
			    const char *key, struct fault *f)
{
	int n = 0, got;
	if (strcmp(key, "then") == 0) {
		got = jcheck_enum(jc, obj, key, then_names, NULL, &n);
		if (got == 1)
			f->then = (enum ending)n;
		return got;
	}
	if (strcmp(key, "for") == 0)
		return jcheck_duration(jc, obj, key, &f->for_us);
	if (strcmp(key, "at") == 0)
		return load_part(jc, obj, key, &f->at);
	if (strcmp(key, "kind") == 0) {
		got = jcheck_enum(jc, obj, key, info->kinds, NULL, &n);
		if (got == 1)
			f->variant = n;
		return got;
	}
	if (strcmp(key, "size") == 0)
		return jcheck_size(jc, obj, key, LOAD_MAX_FAULT_SIZE, &f->size);
	if (strcmp(key, "offset") == 0)
		return jcheck_size(jc, obj, key, SCENARIO_MAX_BODY_SIZE, &f->offset);
	if (strcmp(key, "declared") == 0)
		return jcheck_size(jc, obj, key, SCENARIO_MAX_BODY_SIZE, &f->declared);
	if (strcmp(key, "sent") == 0)
		return jcheck_size(jc, obj, key, SCENARIO_MAX_BODY_SIZE, &f->sent);
	if (strcmp(key, "text") == 0 || strcmp(key, "bytes") == 0)
		return jcheck_string(jc, obj, key, &f->bytes, &f->bytes_len);
	if (strcmp(key, "base64") == 0)
		return load_base64(jc, obj, f);
	jcheck_fail_key(jc, key, "upsim cannot read this parameter (a bug)");
	return -1;
}

/* The parameters of the fault of row info, as its row lists them. */
static void load_fault_params(struct jcheck *jc, json_t *obj, const struct fault_info *info,
			      struct fault *f)
{
	int one_of = 0, one_of_given = 0, one_of_bad = 0;
	char one_of_keys[128] = "";
	for (const struct fault_param *p = info->params; p->key; p++) {
		int got = load_fault_param(jc, obj, info, p->key, f);
		if (got == 0 && p->missing != NULL)
			jcheck_fail(jc, "missing \"%s\": %s", p->key, p->missing);
		if (p->one_of) {
			size_t len = strlen(one_of_keys);
			snprintf(one_of_keys + len, sizeof one_of_keys - len, "%s\"%s\"",
				 one_of++ ? " or " : "", p->key);
			one_of_given += got != 0;
			one_of_bad += got < 0;
		}
	}
	if (one_of > 0 && one_of_given != 1 && one_of_bad == 0)
		jcheck_fail(jc, "%s needs exactly one of %s", info->name, one_of_keys);
}

/* Report parameters that do not belong to the fault written (or appear
 * without any fault). */
static void check_fault_params(struct jcheck *jc, json_t *obj, const struct fault_info *info)
{
	const char *const *keys = fault_param_keys();
	for (int i = 0; keys[i]; i++) {
		const char *key = keys[i];
		if (json_object_get(obj, key) == NULL)
			continue;
		if (info == NULL)
			jcheck_fail_key(jc, key, "only applies with a \"fault\"");
		else if (!fault_takes(info, key))
			jcheck_fail_key(jc, key, "does not apply to fault \"%s\"", info->name);
	}
}

static void report_unknown_fault(struct jcheck *jc, const char *name)
{
	const char *names[FAULT_COUNT + 1];
	size_t n = 0;
	for (size_t i = 0; i < fault_table_size; i++)
		names[n++] = fault_table[i].name;
	names[n] = NULL;
	const char *hint = jcheck_nearest(name, names);
	if (hint != NULL)
		jcheck_fail_key(jc, "fault",
				"unknown fault (did you mean \"%s\"? see `upsim faults`)", hint);
	else
		jcheck_fail_key(jc, "fault", "unknown fault (see `upsim faults`)");
}

static void load_fault(struct jcheck *jc, json_t *obj, struct action *a)
{
	json_t *v = json_object_get(obj, "fault");
	const struct fault_info *info = NULL;
	a->fault.then = END_CLOSE;
	if (v != NULL) {
		a->set |= ACTION_FAULT;
		const char *name = json_is_string(v) ? json_string_value(v) : "";
		info = fault_by_name(name);
		if (info == NULL && strcmp(name, "none") != 0) {
			report_unknown_fault(jc, name);
			return; /* its parameters cannot be judged: one error */
		}
		if (info != NULL)
			a->fault.kind = info->kind;
	}
	check_fault_params(jc, obj, info);
	if (info != NULL)
		load_fault_params(jc, obj, info, &a->fault);
}

/* Contradictions inside one action. */
static void check_action(struct jcheck *jc, json_t *obj, const struct action *a)
{
	enum fault_kind k = a->fault.kind;
	bool no_bytes = k != FAULT_NONE && fault_act(k) != FAULT_ACT_WRITE;
	if (no_bytes && (a->set & ACTION_PACE))
		jcheck_fail(jc,
			    "fault \"%s\" sends no byte: drip, rate, stall and "
			    "header_delay have nothing to pace",
			    fault_by_kind(k)->name);
	if (k != FAULT_NONE && (a->set & ACTION_AFTER))
		jcheck_fail_key(jc, "after",
				"a fault ends the exchange itself: use "
				"\"then\" instead of \"after\"");
	if (k == FAULT_LENGTH_MISMATCH && a->fault.declared == a->fault.sent
	    && json_object_get(obj, "sent") != NULL)
		jcheck_fail(jc, "declared and sent are equal: nothing mismatches");
	if (a->pace.drip_bytes && a->pace.rate)
		jcheck_fail(jc, "give either drip or rate, not both");
	if (json_object_get(obj, "then") && k == FAULT_HANG && a->fault.then == END_HANG)
		jcheck_fail_key(jc, "then",
				"a hang that ends in a hang: use \"for\" "
				"with close or reset, or leave both out");
}

/* An action: what upsim answers. Fields left out come from the defaults. */
void load_action(struct jcheck *jc, json_t *obj, bool weighted, struct action *a)
{
	memset(a, 0, sizeof *a);
	a->weight = 1;
	a->fault.then = END_CLOSE;
	a->after.kind = AFTER_KEEP;
	if (!json_is_object(obj)) {
		jcheck_fail(jc, "expected an action object, got %s", jcheck_type_name(obj));
		return;
	}
	/* The keys an action may hold: its own and every fault parameter
	 * (whether a parameter suits the fault is checked apart). */
	const char *all[64];
	size_t n_keys = 0;
	for (size_t i = 0; response_keys[i]; i++)
		all[n_keys++] = response_keys[i];
	const char *const *fault_keys = fault_param_keys();
	for (size_t i = 0; fault_keys[i]; i++)
		all[n_keys++] = fault_keys[i];
	all[n_keys] = NULL;
	jcheck_keys(jc, obj, all);

	long long n;
	if (jcheck_int(jc, obj, "status", 100, 999, &n) == 1) {
		a->status = (int)n;
		a->set |= ACTION_STATUS;
	}
	if (weighted && jcheck_int(jc, obj, "weight", 0, 1000000, &n) == 1)
		a->weight = (unsigned)n;
	if (!weighted && json_object_get(obj, "weight") != NULL)
		jcheck_fail_key(jc, "weight", "weight only applies to the actions of a choose");
	json_t *headers = json_object_get(obj, "headers");
	if (headers != NULL) {
		size_t mark = jcheck_push_key(jc, "headers");
		load_headers(jc, headers, true, &a->headers, &a->n_headers);
		jcheck_pop(jc, mark);
		a->set |= ACTION_HEADERS;
	}
	load_body(jc, obj, a);
	if (jcheck_bool(jc, obj, "chunked", &a->chunked) == 1)
		a->set |= ACTION_CHUNKED;
	load_delay(jc, obj, a);
	load_pace(jc, obj, a);
	load_after(jc, obj, a);
	load_read(jc, obj, a);
	load_fault(jc, obj, a);
	load_action_forward(jc, obj, a);
	check_action(jc, obj, a);
}

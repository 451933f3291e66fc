/* load_forward: the forwarding keys of a scenario (docs/forwarding.md).
 *
 *   "upstream": "http://orders.staging:8080",       the real service
 *   "forwarding": {"connect_timeout": d, "read_timeout": d,
 *                  "max_body": size, "max_request_body": size,
 *                  "via": bool, "x_forwarded_for": bool,
 *                  "ca_file": "path"},
 *   and on any action: "forward": true | false | URL,
 *                      "on_upstream_error": "reset" | "close" | status.
 *
 * A URL is scheme://host[:port] and nothing else: the request's own path
 * and query are forwarded, so a path here would be ambiguous. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "scenario/load.h"

/* Why u is not an upstream URL, or NULL when it is one. */
const char *load_upstream_url_problem(const char *u)
{
	const char *p;
	if (strncmp(u, "http://", 7) == 0)
		p = u + 7;
	else if (strncmp(u, "https://", 8) == 0)
		p = u + 8;
	else
		return "expected an http:// or https:// URL";
	const char *host = p;
	if (*p == '[') {
		while (*p && *p != ']')
			p++;
		if (*p != ']' || p == host + 1)
			return "an IPv6 host is written [address]";
		p++;
	} else {
		for (; *p && strchr(":/?#@", *p) == NULL; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
			      || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
				return "the host has a character a host name cannot have";
		if (p == host)
			return "the URL names no host";
	}
	if (*p == '@')
		return "credentials in the URL are not supported";
	if (*p == ':') {
		long port = 0;
		const char *digits = ++p;
		for (; *p >= '0' && *p <= '9' && port <= 65535; p++)
			port = port * 10 + (*p - '0');
		if (p == digits || port < 1 || port > 65535)
			return "the port is not a number from 1 to 65535";
	}
	if (*p == '\0' || (p[0] == '/' && p[1] == '\0'))
		return NULL;
	return "an upstream is scheme://host[:port] only: the request's own path "
	       "and query are forwarded";
}

const char *scenario_upstream_url_problem(const char *u)
{
	return load_upstream_url_problem(u);
}

/* An upstream URL at obj[key]: 1 with a copy in *out, 0 absent, -1 invalid. */
static int load_url(struct jcheck *jc, json_t *obj, const char *key, char **out)
{
	char *u = NULL;
	int got = jcheck_string(jc, obj, key, &u, NULL);
	if (got != 1)
		return got;
	const char *why = load_upstream_url_problem(u);
	if (why != NULL) {
		jcheck_fail_key(jc, key, "%s, got \"%s\"", why, u);
		free(u);
		return -1;
	}
	size_t n = strlen(u);
	if (n > 0 && u[n - 1] == '/')
		u[n - 1] = '\0'; /* the request's path brings its own */
	*out = u;
	return 1;
}

/* remove_headers: field names taken out of the real answer (a forwarded
 * one: a canned answer has only the headers its action writes). */
static void load_remove_headers(struct jcheck *jc, json_t *obj, struct action *a)
{
	json_t *v = json_object_get(obj, "remove_headers");
	if (v == NULL)
		return;
	a->set |= ACTION_REMOVE_HEADERS;
	if (!json_is_array(v) || json_array_size(v) > SCENARIO_MAX_HEADERS) {
		jcheck_fail_key(jc, "remove_headers", "expected a list of at most %d header names",
				SCENARIO_MAX_HEADERS);
		return;
	}
	size_t mark = jcheck_push_key(jc, "remove_headers");
	a->remove_headers = xcalloc(json_array_size(v) + 1, sizeof *a->remove_headers);
	size_t i;
	json_t *name;
	json_array_foreach(v, i, name)
	{
		size_t at = jcheck_push_index(jc, i);
		if (!json_is_string(name) || !load_is_token(json_string_value(name)))
			jcheck_fail(jc,
				    json_is_string(name) ? "\"%s\" is not a header name (a token)"
							 : "expected a header name, got %s",
				    json_is_string(name) ? json_string_value(name)
							 : jcheck_type_name(name));
		else
			a->remove_headers[a->n_remove_headers++] = xstrdup(json_string_value(name));
		jcheck_pop(jc, at);
	}
	jcheck_pop(jc, mark);
}

void load_action_forward(struct jcheck *jc, json_t *obj, struct action *a)
{
	load_remove_headers(jc, obj, a);
	json_t *v = json_object_get(obj, "forward");
	if (v != NULL) {
		a->set |= ACTION_FORWARD;
		if (json_is_boolean(v))
			a->forward = json_is_true(v);
		else if (json_is_string(v))
			a->forward = load_url(jc, obj, "forward", &a->forward_url) == 1;
		else
			jcheck_fail_key(jc, "forward",
					"expected true, false or an upstream "
					"URL such as \"http://host:8080\", got %s",
					jcheck_type_name(v));
	}
	v = json_object_get(obj, "on_upstream_error");
	if (v == NULL)
		return;
	a->set |= ACTION_UPSTREAM_ERROR;
	if (json_is_integer(v)) {
		long long status;
		if (jcheck_int(jc, obj, "on_upstream_error", 200, 999, &status) == 1) {
			a->on_error = UPSTREAM_ERROR_STATUS;
			a->on_error_status = (int)status;
		}
		return;
	}
	static const char *const names[] = {"reset", "close", NULL};
	int n = 0;
	if (jcheck_enum(jc, obj, "on_upstream_error", names,
			"expected \"reset\", \"close\" or a status such as 502", &n)
	    == 1)
		a->on_error = n == 1 ? UPSTREAM_ERROR_RESET : UPSTREAM_ERROR_CLOSE;
}

/* Why the file at path cannot serve as a CA bundle, or NULL. Checked at
 * load time because libcurl would only fail at the first request, as an
 * upstream error, far from the typo. A PEM certificate is looked for, not
 * parsed: verifying it is the TLS library's job. */
static const char *ca_file_problem(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return strerror(errno);
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	const size_t blen = sizeof begin - 1;
	char buf[8192];
	size_t keep = 0, got;
	bool found = false;
	/* each chunk starts with the last blen - 1 bytes of the one before,
	 * so a marker cut in two is still seen */
	while (!found && (got = fread(buf + keep, 1, sizeof buf - keep, f)) > 0) {
		size_t n = keep + got;
		found = memmem(buf, n, begin, blen) != NULL;
		keep = n < blen - 1 ? n : blen - 1;
		memmove(buf, buf + n - keep, keep);
	}
	int e = ferror(f) ? errno : 0; /* EISDIR for a folder */
	fclose(f);
	if (e != 0)
		return strerror(e);
	return found ? NULL : "no PEM certificate in it (-----BEGIN CERTIFICATE-----)";
}

/* forwarding.ca_file into *out: relative to dir (the scenario file's
 * folder; "." or NULL: the working directory), checked now. */
static void load_ca_file(struct jcheck *jc, json_t *obj, const char *dir, char **out)
{
	char *path = NULL;
	size_t len = 0;
	if (jcheck_string(jc, obj, "ca_file", &path, &len) != 1)
		return;
	if (len == 0 || strlen(path) != len) {
		jcheck_fail_key(jc, "ca_file", "expected the path of a PEM CA bundle, got %s",
				len == 0 ? "an empty string" : "a NUL byte in it");
		free(path);
		return;
	}
	bool here = dir == NULL || strcmp(dir, ".") == 0;
	char *full = path[0] == '/' || here ? xstrdup(path) : xasprintf("%s/%s", dir, path);
	free(path);
	const char *why = ca_file_problem(full);
	if (why != NULL) {
		jcheck_fail_key(jc, "ca_file", "cannot use %s: %s", full, why);
		free(full);
		return;
	}
	*out = full;
}

void load_forwarding(struct jcheck *jc, json_t *root, const char *dir, struct scenario *sc)
{
	struct forwarding *f = &sc->forwarding;
	*f = (struct forwarding){
		.connect_timeout_us = FORWARD_CONNECT_TIMEOUT_US,
		.read_timeout_us = FORWARD_READ_TIMEOUT_US,
		.max_body = FORWARD_MAX_BODY,
		.max_request_body = FORWARD_MAX_REQUEST_BODY,
		.via = true,
		.x_forwarded_for = true,
	};
	load_url(jc, root, "upstream", &sc->upstream);
	json_t *v = jcheck_object(jc, root, "forwarding");
	if (v == NULL)
		return;
	size_t mark = jcheck_push_key(jc, "forwarding");
	static const char *const keys[] = {
		"connect_timeout", "read_timeout", "max_body", "max_request_body", "via",
		"x_forwarded_for", "ca_file",	   NULL,
	};
	jcheck_keys(jc, v, keys);
	if (jcheck_duration(jc, v, "connect_timeout", &f->connect_timeout_us) == 1
	    && f->connect_timeout_us < 1000)
		jcheck_fail_key(jc, "connect_timeout", "at least 1ms");
	/* libcurl measures a stalled read in whole seconds */
	if (jcheck_duration(jc, v, "read_timeout", &f->read_timeout_us) == 1
	    && (f->read_timeout_us < 1000000 || f->read_timeout_us % 1000000 != 0))
		jcheck_fail_key(jc, "read_timeout", "a whole number of seconds, at least 1s");
	jcheck_size(jc, v, "max_body", SCENARIO_MAX_RAW_BODY, &f->max_body);
	jcheck_size(jc, v, "max_request_body", SCENARIO_MAX_RAW_BODY, &f->max_request_body);
	jcheck_bool(jc, v, "via", &f->via);
	jcheck_bool(jc, v, "x_forwarded_for", &f->x_forwarded_for);
	load_ca_file(jc, v, dir, &f->ca_file);
	jcheck_pop(jc, mark);
}

void load_check_forward(struct jcheck *jc, const struct scenario *sc, const struct action *resolved)
{
	if (resolved->forward && resolved->forward_url == NULL && sc->upstream == NULL)
		jcheck_fail(jc, "\"forward\": true needs a top-level \"upstream\" "
				"(or give the URL: \"forward\": \"http://host:port\")");
}

const char *scenario_forward_url(const struct scenario *sc, const struct action *a)
{
	if (!a->forward)
		return NULL;
	return a->forward_url ? a->forward_url : sc->upstream;
}

bool scenario_forwards(const struct scenario *sc)
{
	return sc->upstream != NULL || sc->defaults.forward;
}

struct scenario *scenario_pass_through(const struct scenario *sc)
{
	const char *url = sc->defaults.forward ? scenario_forward_url(sc, &sc->defaults)
					       : sc->upstream;
	if (url == NULL)
		return NULL;
	struct scenario *p = xcalloc(1, sizeof *p);
	p->refs = 1;
	p->file = xstrdup("<drill expiry>");
	p->name = xstrdup("pass-through (drill expired)");
	p->description = xstrdup("Served after --drill-ttl ran out without a renewal: "
				 "every request goes to the real service untouched.");
	p->upstream = xstrdup(url);
	p->forwarding = sc->forwarding;
	p->forwarding.ca_file = sc->forwarding.ca_file ? xstrdup(sc->forwarding.ca_file) : NULL;
	p->defaults = (struct action){
		.set = ACTION_FORWARD,
		.weight = 1,
		.status = 200,
		.fault.then = END_CLOSE,
		.after.kind = AFTER_KEEP,
		.forward = true,
	};
	p->all_rules = xcalloc(1, sizeof *p->all_rules);
	return p;
}

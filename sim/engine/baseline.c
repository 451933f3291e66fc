#include "engine/baseline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/xalloc.h"
#include "scenario/load.h"

/* Headers a recorded scenario never carries. Set-Cookie hands whoever
 * reads the file a session; the request-side ones never come back in a
 * response, and are listed so a service that echoes them leaks nothing. */
static const char *const secret_headers[] = {
	"Set-Cookie", "Set-Cookie2", "Authorization", "Proxy-Authorization", "Cookie", NULL,
};
/* What upsim computes from the body and framing: the loader refuses them
 * in a response (forward.c drops them already; kept here so the module
 * stands alone). */
static const char *const computed_headers[] = {"Content-Length", "Transfer-Encoding", NULL};

struct entry {
	char *method, *path;
	int status;
	struct header *headers;
	size_t n_headers;
	char *body;
	size_t body_len;
	bool text; /* valid UTF-8 without NUL */
};

struct baseline {
	struct baseline_opts opts;
	char *upstream;
	struct entry *entries;
	size_t n, cap;
	struct baseline_counts counts;
};

struct baseline *baseline_new(const struct baseline_opts *o)
{
	struct baseline *b = xcalloc(1, sizeof *b);
	b->opts = *o;
	b->upstream = xstrdup(o->upstream ? o->upstream : "the upstream");
	b->opts.upstream = b->upstream;
	return b;
}

void baseline_free(struct baseline *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		struct entry *e = &b->entries[i];
		free(e->method);
		free(e->path);
		scenario_headers_free(e->headers, e->n_headers);
		free(e->body);
	}
	free(b->entries);
	free(b->upstream);
	free(b);
}

static bool listed(const char *name, const char *const list[])
{
	for (size_t i = 0; list[i]; i++)
		if (strcasecmp(name, list[i]) == 0)
			return true;
	return false;
}

/* Is s (len bytes) UTF-8 that a JSON string can hold? jansson checks. */
static bool utf8(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	json_decref(j);
	return j != NULL;
}

/* A header the loader would accept in a response: a token name, a UTF-8
 * value without CR or LF, not one upsim computes. */
static bool header_fits(const struct header *h)
{
	return load_is_token(h->name) && !listed(h->name, computed_headers)
	       && strpbrk(h->value, "\r\n") == NULL && utf8(h->value, strlen(h->value));
}

static void keep_headers(struct baseline *b, struct entry *e, const struct header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!b->opts.keep_secrets && listed(h[i].name, secret_headers))
			b->counts.secrets++;
		else if (!header_fits(&h[i]) || e->n_headers == SCENARIO_MAX_HEADERS)
			b->counts.bad_headers++;
		else
			load_add_header(&e->headers, &e->n_headers, h[i].name, h[i].value);
	}
}

int baseline_add(struct baseline *b, const char *method, const char *path, int status,
		 const struct header *headers, size_t n_headers, const char *body, size_t body_len)
{
	b->counts.answers++;
	if (path[0] != '/' || !utf8(path, strlen(path)) || !load_is_token(method) || status < 100
	    || status > 999) {
		b->counts.unusable++;
		return -1;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (strcmp(b->entries[i].method, method) == 0
		    && strcmp(b->entries[i].path, path) == 0) {
			b->counts.repeats++;
			return 0;
		}
	}
	if (b->n == SCENARIO_MAX_RULES) {
		b->counts.unusable++;
		return -1;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->entries = xrealloc(b->entries, b->cap * sizeof *b->entries);
	}
	struct entry *e = &b->entries[b->n++];
	*e = (struct entry){.method = xstrdup(method), .path = xstrdup(path), .status = status};
	keep_headers(b, e, headers, n_headers);
	if (scenario_status_has_no_body(status))
		body_len = 0;
	e->body = xmemdup(body ? body : "", body_len);
	e->body_len = body_len;
	e->text = memchr(e->body, '\0', body_len) == NULL && utf8(e->body, body_len);
	if (baseline_body_name(b, b->n - 1, NULL, 0) != NULL)
		b->counts.body_files++;
	b->counts.rules = b->n;
	return 1;
}

struct baseline_counts baseline_counts(const struct baseline *b)
{
	return b->counts;
}

const char *baseline_body_name(const struct baseline *b, size_t i, char *buf, size_t len)
{
	const struct entry *e = &b->entries[i];
	if (e->body_len == 0 || (e->text && e->body_len <= b->opts.inline_max))
		return NULL;
	if (buf == NULL)
		return "";
	snprintf(buf, len, "%03zu.%s", i + 1, e->text ? "txt" : "bin");
	return buf;
}

static json_t *rule_json(const struct baseline *b, size_t i, const char *bodies_dir)
{
	const struct entry *e = &b->entries[i];
	json_t *headers = json_array();
	for (size_t h = 0; h < e->n_headers; h++)
		json_array_append_new(headers,
				      json_pack("[ss]", e->headers[h].name, e->headers[h].value));
	json_t *respond = json_pack("{si,so}", "status", e->status, "headers", headers);
	char name[32];
	if (baseline_body_name(b, i, name, sizeof name) != NULL) {
		char *rel = xasprintf("%s/%s", bodies_dir, name);
		json_object_set_new(respond, "body_file", json_string(rel));
		free(rel);
	} else if (!scenario_status_has_no_body(e->status)) {
		/* Written even when empty: the defaults' body is not the answer. */
		json_object_set_new(respond, "body", json_stringn(e->body, e->body_len));
	}
	char *rule_name = xasprintf("%s %s", e->method, e->path);
	json_t *rule = json_pack("{ss,s{ss,ss},so}", "name", rule_name, "match", "method",
				 e->method, "path", e->path, "respond", respond);
	free(rule_name);
	return rule;
}

json_t *baseline_document(const struct baseline *b, const char *bodies_dir)
{
	char *name = xasprintf("recorded from %s", b->upstream);
	char *description = xasprintf(
		"What %s answered, recorded by upsim record: one rule per method and path, from "
		"the first answer seen for each (later ones were not kept). Anything else gets "
		"the defaults' 404.",
		b->upstream);
	json_t *rules = json_array();
	/* A path with '*' is a glob to the matcher: it goes after the literal
	 * ones so it cannot shadow them. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < b->n; i++)
			if ((strchr(b->entries[i].path, '*') != NULL) == (pass == 1))
				json_array_append_new(rules, rule_json(b, i, bodies_dir));
	json_t *doc = json_pack("{si,ss,ss,s{si,s{ss},ss},so}", "upsim", SCENARIO_FORMAT, "name",
				name, "description", description, "defaults", "status", 404,
				"headers", "Content-Type", "text/plain", "body",
				"upsim record saw no request for this method and path\n", "rules",
				rules);
	free(name);
	free(description);
	return doc;
}

static void append(char **out, size_t *len, const char *s)
{
	size_t n = strlen(s);
	*out = xrealloc(*out, *len + n + 1);
	memcpy(*out + *len, s, n + 1);
	*len += n;
}

/* Append the JSON text of v to *out. */
static void append_json(char **out, size_t *len, const json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY);
	append(out, len, s);
	free(s);
}

char *baseline_text(const json_t *doc)
{
	char *out = xstrdup("{");
	size_t len = 1;
	const char *key;
	json_t *value;
	bool first = true;
	json_object_foreach((json_t *)doc, key, value)
	{
		append(&out, &len, first ? "\n  " : ",\n  ");
		first = false;
		json_t *k = json_string(key);
		append_json(&out, &len, k);
		json_decref(k);
		append(&out, &len, ": ");
		if (!json_is_array(value) || json_array_size(value) == 0) {
			append_json(&out, &len, value);
			continue;
		}
		append(&out, &len, "[");
		size_t i;
		json_t *item;
		json_array_foreach(value, i, item)
		{
			append(&out, &len, i ? ",\n    " : "\n    ");
			append_json(&out, &len, item);
		}
		append(&out, &len, "\n  ]");
	}
	append(&out, &len, "\n}\n");
	return out;
}

static int write_file(const char *path, const char *data, size_t len, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	bool ok = fwrite(data, 1, len, f) == len;
	int saved = errno;
	if (fclose(f) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (!ok)
		snprintf(errbuf, errlen, "%s: %s", path, strerror(saved));
	return ok ? 0 : -1;
}

int baseline_write(const struct baseline *b, const char *out, char *errbuf, size_t errlen)
{
	int rc = -1;
	const char *slash = strrchr(out, '/');
	char *bodies_rel = xasprintf("%s.bodies", slash ? slash + 1 : out);
	char *bodies = xasprintf("%s.bodies", out);
	char *tmp = xasprintf("%s.tmp", out);
	char *text = NULL;
	json_t *doc = NULL;
	if (b->counts.body_files > 0 && mkdir(bodies, 0777) == -1 && errno != EEXIST) {
		snprintf(errbuf, errlen, "%s: %s", bodies, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < b->n; i++) {
		char name[32];
		if (baseline_body_name(b, i, name, sizeof name) == NULL)
			continue;
		char *path = xasprintf("%s/%s", bodies, name);
		int w = write_file(path, b->entries[i].body, b->entries[i].body_len, errbuf,
				   errlen);
		free(path);
		if (w != 0)
			goto out;
	}
	doc = baseline_document(b, bodies_rel);
	text = baseline_text(doc);
	if (write_file(tmp, text, strlen(text), errbuf, errlen) != 0)
		goto out;
	if (rename(tmp, out) == -1) {
		snprintf(errbuf, errlen, "%s: %s", out, strerror(errno));
		remove(tmp);
		goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	free(text);
	free(tmp);
	free(bodies);
	free(bodies_rel);
	return rc;
}

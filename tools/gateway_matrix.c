/* gateway-matrix: every shipped scenario through every installed gateway,
 * by `upsim check --observe` (the engine of the gateway suite and of teams'
 * CI): each probe under its own condition, its attempts from upsim's
 * journal by request id, the gateway's log line of that try.
 *
 * Prints a Markdown table per scenario and a summary, and writes the full
 * results (every try, the whole log line) as JSON.
 *
 *   build/release/gateway-matrix [OUT.json [SCENARIO.json...]]
 *                                      (make matrix: every scenario)
 *
 * Run from the repository root. Loopback only; every wait is bounded. */
#include <glob.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "gateway.h"
#include "gateway_check.h"
#include "scenario/expect.h"
#include "scenario/model.h"

/* The longest message a table cell shows. */
#define CELL_MAX 110

/* The gateway's own words in a log line: Caddy's JSON "msg" and "error";
 * otherwise the line without its time, level and process prefix (nginx
 * "2026/01/02 03:04:05 [error] 1#1: *2 ", Apache's "[...] " groups), and
 * without nginx's ", client: ..." tail. A new string. */
static char *message_of(const char *line)
{
	if (line[0] == '{') {
		json_t *o = json_loads(line, 0, NULL);
		const char *msg = json_string_value(json_object_get(o, "msg"));
		const char *e = json_string_value(json_object_get(o, "error"));
		char *s = xasprintf("%s%s%s", msg ? msg : "", e ? ": " : "", e ? e : "");
		json_decref(o);
		return s;
	}
	const char *p = line;
	const char *level = strstr(p, "] ");
	if (level != NULL && strncmp(p, "20", 2) == 0) { /* nginx */
		p = level + 2;
		const char *star = strstr(p, ": *");
		if (star != NULL)
			p = strchr(star + 3, ' ') ? strchr(star + 3, ' ') + 1 : p;
	}
	while (p[0] == '[' && strstr(p, "] ") != NULL) /* Apache */
		p = strstr(p, "] ") + 2;
	size_t n = strcspn(p, "\n");
	const char *client = strstr(p, ", client: ");
	if (client != NULL && (size_t)(client - p) < n)
		n = (size_t)(client - p);
	return xmemdup(p, n);
}

/* One table cell: "502, 3 ms, 1x: message", caps and counts said so. */
static char *cell(json_t *probe)
{
	json_t *tries = json_object_get(probe, "tries");
	json_t *t = json_array_get(tries, json_array_size(tries) - 1);
	if (json_object_get(probe, "skipped"))
		return xstrdup("-");
	const char *got = json_string_value(json_object_get(probe, "got"));
	const char *log = json_string_value(json_object_get(t, "log"));
	char *msg = log ? message_of(log) : xstrdup("");
	for (char *c = msg; *c; c++)
		if (*c == '|')
			*c = '/';
	if (strlen(msg) > CELL_MAX)
		strcpy(msg + CELL_MAX - 3, "...");
	char *s = xasprintf("%s%s%s", got ? got : "?", msg[0] ? ": " : "", msg);
	free(msg);
	return s;
}

/* "GET /path with Name: value (repeat) in phase P": two probes of one
 * path differ by the headers they send. */
static const char *probe_label(json_t *probe, char *buf, size_t len)
{
	int repeat = (int)json_integer_value(json_object_get(probe, "repeat"));
	const char *phase = json_string_value(json_object_get(probe, "phase"));
	char sent[256] = "";
	const char *name;
	json_t *value;
	json_object_foreach(json_object_get(probe, "request_headers"), name, value)
	{
		size_t at = strlen(sent);
		snprintf(sent + at, sizeof sent - at, "%s%s: %s", at ? ", " : " with ", name,
			 json_string_value(value));
	}
	snprintf(buf, len, "%s %s%s%s%s%s", json_string_value(json_object_get(probe, "method")),
		 json_string_value(json_object_get(probe, "request")), sent,
		 repeat > 1 ? " (repeat)" : "", phase ? " in phase " : "", phase ? phase : "");
	return buf;
}

/* A gateway that cannot take part in a scenario says why, in place of its
 * results: {"note": "..."}. */
static const char *note_of(json_t *result)
{
	return json_string_value(json_object_get(result, "note"));
}

/* The probes of by_gateway's first gateway name the rows; every gateway
 * ran the same list in the same order. A gateway with a note has no
 * column: the note is said under the heading. */
static void print_table(const char *file, json_t *by_gateway)
{
	printf("\n### %s\n\n", file);
	const char *gw;
	json_t *res;
	json_object_foreach(by_gateway, gw, res) if (note_of(res))
		printf("%s: %s.\n\n", gw, note_of(res));
	printf("| probe |");
	json_object_foreach(by_gateway, gw, res) if (!note_of(res)) printf(" %s |", gw);
	printf("\n|---|");
	json_object_foreach(by_gateway, gw, res) if (!note_of(res)) printf("---|");
	printf("\n");
	json_t *first = json_object_get(json_object_iter_value(json_object_iter(by_gateway)),
					"probes");
	char label[300];
	for (size_t i = 0; i < json_array_size(first); i++) {
		printf("| `%s` |", probe_label(json_array_get(first, i), label, sizeof label));
		json_object_foreach(by_gateway, gw, res)
		{
			if (note_of(res))
				continue;
			char *c = cell(json_array_get(json_object_get(res, "probes"), i));
			printf(" %s |", c);
			free(c);
		}
		printf("\n");
	}
}

/* Status (attempts) of the last try, for the README's summary. */
static void print_compact(json_t *all)
{
	printf("\n## Summary: status (upstream attempts)\n\n| scenario | probe |");
	for (size_t k = 0; k < gateway_count; k++)
		if (gateway_installed(gateway_names[k]))
			printf(" %s |", gateway_names[k]);
	printf("\n|---|---|");
	for (size_t k = 0; k < gateway_count; k++)
		if (gateway_installed(gateway_names[k]))
			printf("---|");
	printf("\n");
	const char *file;
	json_t *by_gateway;
	char label[300];
	json_object_foreach(all, file, by_gateway)
	{
		json_t *first = json_object_get(json_object_iter_value(
							json_object_iter(by_gateway)),
						"probes");
		for (size_t i = 0; i < json_array_size(first); i++) {
			printf("| %s | `%s` |", strrchr(file, '/') + 1,
			       probe_label(json_array_get(first, i), label, sizeof label));
			for (size_t k = 0; k < gateway_count; k++) {
				if (!gateway_installed(gateway_names[k]))
					continue;
				json_t *r = json_object_get(by_gateway, gateway_names[k]);
				json_t *p = json_array_get(json_object_get(r, "probes"), i);
				json_t *tries = json_object_get(p, "tries");
				json_t *t = json_array_get(tries, json_array_size(tries) - 1);
				if (note_of(r))
					printf(" n/a |");
				else if (t == NULL)
					printf(" - |");
				else
					printf(" %lld (%lld) |",
					       json_integer_value(json_object_get(t, "status")),
					       json_integer_value(json_object_get(t, "attempts")));
			}
			printf("\n");
		}
	}
}

/* The probes of file through gateway gw, without and with a backup as
 * the scenario's blocks say; NULL when the gateway did not start. */
static json_t *run_file(const char *file, const struct scenario *sc, const char *gw)
{
	bool backup = false, plain = false;
	for (size_t i = 0; i < expect_sites(sc); i++) {
		const struct expect *e = expect_site_at(sc, i).expect;
		backup |= e != NULL && e->with_backup;
		plain |= e != NULL && !e->with_backup;
	}
	json_t *merged = NULL;
	for (int b = 0; b < 2; b++) {
		if (!(b ? backup : plain))
			continue;
		struct gateway_check c;
		gateway_check_run(file, gw, b, "--observe", &c);
		if (c.result == NULL) {
			fprintf(stderr, "gateway-matrix: %s on %s: %s%s\n", file, gw,
				c.why ? c.why : "upsim check gave no result\n", c.err);
		} else if (merged == NULL) {
			merged = json_incref(c.result);
		} else { /* the backup run answers the probes the first skipped */
			json_t *mine = json_object_get(merged, "probes");
			size_t i;
			json_t *p;
			json_array_foreach(json_object_get(c.result, "probes"), i,
					   p) if (json_object_get(p, "skipped") == NULL)
				json_array_set(mine, i, p);
		}
		gateway_check_free(&c);
	}
	return merged;
}

int main(int argc, char **argv)
{
	const char *out = argc > 1 ? argv[1] : "gateway-matrix.json";
	glob_t files = {0};
	if (argc <= 2 && glob("scenarios/*.json", 0, NULL, &files) != 0) {
		fprintf(stderr, "gateway-matrix: no scenarios/*.json here\n");
		return 1;
	}
	/* Files named after OUT.json replace the library: one scenario's
	 * table without the whole run. */
	size_t n_files = argc > 2 ? (size_t)(argc - 2) : files.gl_pathc;
	char **names = argc > 2 ? argv + 2 : files.gl_pathv;
	json_t *all = json_object();
	for (size_t i = 0; i < n_files; i++) {
		const char *file = names[i];
		struct upsim_err err = {0};
		struct scenario *sc = scenario_load_file(file, &err);
		err_clear(&err);
		if (sc == NULL)
			continue;
		json_t *by_gateway = json_object();
		char where[64];
		bool tls = scenario_uses_tls(sc, where, sizeof where);
		/* Over TLS: each TLS config (nginx and nginx-noverify...), under
		 * the name the expect blocks use; Varnish has none. */
		for (size_t k = 0; tls && k < gateway_tls_count; k++) {
			const struct gateway_tls *cfg = &gateway_tls_configs[k];
			if (!gateway_installed(cfg->gateway))
				continue;
			json_t *r = run_file(file, sc, cfg->name);
			if (r != NULL)
				json_object_set_new(by_gateway, cfg->name, r);
		}
		if (tls && gateway_installed("varnish"))
			json_object_set_new(by_gateway, "varnish",
					    json_pack("{s:s}", "note",
						      "no backend TLS in the open-source edition"));
		for (size_t k = 0; !tls && k < gateway_count; k++) {
			/* DNS needs a config resolving through upsim's: Varnish
			 * and Apache resolve once, with the system's resolver. */
			if (!gateway_installed(gateway_names[k])
			    || (sc->dns != NULL && !gateway_has_dns_config(gateway_names[k])))
				continue;
			json_t *r = run_file(file, sc, gateway_names[k]);
			if (r != NULL)
				json_object_set_new(by_gateway, gateway_names[k], r);
		}
		if (json_object_size(by_gateway) > 0 && json_object_iter(by_gateway) != NULL
		    && !note_of(json_object_iter_value(json_object_iter(by_gateway))))
			print_table(file, by_gateway);
		json_object_set_new(all, file, by_gateway);
		scenario_unref(sc);
	}
	if (argc <= 2)
		globfree(&files);
	print_compact(all);
	int rc = json_dump_file(all, out, JSON_INDENT(2)) == 0 ? 0 : 1;
	json_decref(all);
	fprintf(stderr,
		"gateway-matrix: cells are what upsim check saw (status, attempts, time, "
		"the gateway's log message); JSON in %s\n",
		out);
	return rc;
}

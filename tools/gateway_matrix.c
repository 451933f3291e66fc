/* gateway-matrix: every shipped scenario through every installed gateway.
 *
 * For each scenarios/NAME.json and each installed gateway (tests/gateways),
 * start upsim and the gateway in front of it, send one GET per rule with a
 * literal path (or an expect probe) and one for "/", and record what the
 * client got: the status, the time to answer and the gateway's error log
 * line — and, from upsim's journal once the gateway has stopped, how many
 * attempts upsim saw (a gateway's retries). Prints a Markdown table per scenario and writes everything as JSON.
 *
 *   build/release/gateway-matrix [OUT.json]     (make matrix)
 *
 * Run from the repository root. Loopback only; every wait is bounded. */
#include <glob.h>
#include <poll.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "gateway.h"
#include "journal_read.h"
#include "proc.h"
#include "scenario/expect.h"
#include "scenario/model.h"

#define T_MS 5000
#define ANSWER_MS 15000
#define LOG_MS 300

/* The error log line that says what went wrong, for a table cell: the
 * first line naming an error or a warning, else the first line. */
static char *signature(const char *log)
{
	static const char *const marks[] = {"error", "warn", "alert", "FetchError",
					    "PH--", "SD--", "SH--", "sH--", "cD--", NULL};
	const char *best = NULL;
	for (int m = 0; marks[m] && best == NULL; m++)
		for (const char *line = log; *line && best == NULL;) {
			size_t len = strcspn(line, "\n");
			const char *hit = strstr(line, marks[m]);
			if (hit && hit < line + len)
				best = line;
			line += len + (line[len] == '\n');
		}
	log = best ? best : log;
	size_t n = strcspn(log, "\n");
	if (n > 90)
		n = 90;
	char *s = strndup(log, n);
	for (char *p = s; *p; p++)
		if (*p == '|')
			*p = '/';
	return s;
}

static const char *probe_path(const struct rule *r)
{
	if (r->expect != NULL)
		return r->expect->probe.path;
	const char *p = r->match.path;
	return p != NULL && strchr(p, '*') == NULL ? p : NULL;
}

/* With a warm-up (caches), the probe is sent twice and the second answer
 * counts. */
static json_t *run_probe(const struct gateway *g, const char *path, uint64_t warm_up_us)
{
	struct gateway_answer a;
	if (warm_up_us > 0) {
		gateway_probe(g, path, ANSWER_MS, NULL, 0, &a);
		gateway_answer_free(&a);
		poll(NULL, 0, (int)(warm_up_us / 1000));
	}
	gateway_probe(g, path, ANSWER_MS, NULL, LOG_MS, &a);
	char *sig = signature(a.log);
	json_t *o = json_pack("{s:s, s:i, s:i, s:s}", "path", path, "status", a.status,
			      "ms", (int)(a.ms + 0.5), "log", sig);
	free(sig);
	gateway_answer_free(&a);
	return o;
}

/* Add "attempts" to each result, once every exchange is journalled
 * (-1 when the journal cannot be read). */
static void count_attempts(json_t *results, const struct upsim_proc *up,
			   const struct scenario *sc)
{
	int accept_records = sc->connection.accept != ACCEPT_SERVE ||
			     sc->connection.max_connections > 0;
	int ok = upsim_wait_idle(up, T_MS) == 0;
	size_t i;
	json_t *r;
	json_array_foreach(results, i, r) {
		const char *path = json_string_value(json_object_get(r, "path"));
		long n = ok ? upsim_count_attempts(up, path, accept_records) : -1;
		json_object_set_new(r, "attempts", json_integer(n));
	}
}

/* One scenario through one gateway: an array of probe results. */
static json_t *run_pair(const char *file, const struct scenario *sc, const char *gw)
{
	static const char *const admin[] = {"--admin", "127.0.0.1:0", NULL};
	struct upsim_proc up;
	if (upsim_start_scenario(&up, file, admin, T_MS) != 0)
		return NULL;
	char upstream[96];
	snprintf(upstream, sizeof upstream, "%s:%d", up.host, up.port);
	struct gateway g;
	json_t *results = NULL;
	if (gateway_start(&g, gw, upstream, NULL, 10000) == 0) {
		results = json_array();
		json_array_append_new(results, run_probe(&g, "/", 0));
		for (size_t i = 0; i < sc->n_rules; i++) {
			const struct rule *r = &sc->rules[i];
			const char *path = probe_path(r);
			if (path != NULL && strcmp(path, "/") != 0)
				json_array_append_new(results, run_probe(
					&g, path, r->expect ? r->expect->warm_up_us : 0));
		}
		gateway_stop(&g, T_MS);
		count_attempts(results, &up, sc);
	}
	upsim_stop(&up, SIGTERM, T_MS);
	upsim_proc_free(&up);
	return results;
}

static void print_table(const char *file, json_t *by_gateway)
{
	printf("\n### %s\n\n| path |", file);
	const char *gw;
	json_t *rows;
	json_object_foreach(by_gateway, gw, rows)
		printf(" %s |", gw);
	printf("\n|---|");
	json_object_foreach(by_gateway, gw, rows)
		printf("---|");
	printf("\n");
	json_t *first = json_object_iter_value(json_object_iter(by_gateway));
	for (size_t i = 0; first && i < json_array_size(first); i++) {
		printf("| `%s` |", json_string_value(json_object_get(
					   json_array_get(first, i), "path")));
		json_object_foreach(by_gateway, gw, rows) {
			json_t *r = json_array_get(rows, i);
			printf(" %lld, %lld ms, %lldx%s%s |",
			       json_integer_value(json_object_get(r, "status")),
			       json_integer_value(json_object_get(r, "ms")),
			       json_integer_value(json_object_get(r, "attempts")),
			       json_string_length(json_object_get(r, "log")) ? ": " : "",
			       json_string_value(json_object_get(r, "log")));
		}
		printf("\n");
	}
}

/* One compact table of the whole library: status and attempts only, for
 * the README. */
static void print_compact(json_t *all)
{
	printf("\n## Summary: status (upstream attempts)\n\n| scenario | path |");
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
	json_object_foreach(all, file, by_gateway) {
		json_t *first = json_object_iter_value(json_object_iter(by_gateway));
		for (size_t i = 0; first && i < json_array_size(first); i++) {
			printf("| %s | `%s` |", strrchr(file, '/') + 1, json_string_value(
				json_object_get(json_array_get(first, i), "path")));
			for (size_t k = 0; k < gateway_count; k++) {
				json_t *rows = json_object_get(by_gateway, gateway_names[k]);
				json_t *r = json_array_get(rows, i);
				if (!gateway_installed(gateway_names[k]))
					continue;
				if (r == NULL) {
					printf(" - |");
					continue;
				}
				printf(" %lld (%lld) |", json_integer_value(json_object_get(r, "status")),
				       json_integer_value(json_object_get(r, "attempts")));
			}
			printf("\n");
		}
	}
}

int main(int argc, char **argv)
{
	const char *out = argc > 1 ? argv[1] : "gateway-matrix.json";
	glob_t files;
	if (glob("scenarios/*.json", 0, NULL, &files) != 0) {
		fprintf(stderr, "gateway-matrix: no scenarios/*.json here\n");
		return 1;
	}
	json_t *all = json_object();
	for (size_t i = 0; i < files.gl_pathc; i++) {
		const char *file = files.gl_pathv[i];
		struct upsim_err err = {0};
		struct scenario *sc = scenario_load_file(file, &err);
		err_clear(&err);
		if (sc == NULL)
			continue;
		json_t *by_gateway = json_object();
		for (size_t k = 0; k < gateway_count; k++) {
			if (!gateway_installed(gateway_names[k]))
				continue;
			json_t *r = run_pair(file, sc, gateway_names[k]);
			if (r != NULL)
				json_object_set_new(by_gateway, gateway_names[k], r);
		}
		if (json_object_size(by_gateway) > 0)
			print_table(file, by_gateway);
		json_object_set_new(all, file, by_gateway);
		scenario_unref(sc);
	}
	globfree(&files);
	print_compact(all);
	int rc = json_dump_file(all, out, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? 0 : 1;
	json_decref(all);
	fprintf(stderr, "gateway-matrix: cells are status, time to answer, upstream attempts, "
		"first error log line; JSON in %s\n", out);
	return rc;
}

/* Gateway conformance: every `expect` of every shipped scenario, checked
 * against the real gateway it names.
 *
 * For each (scenario file, gateway) pair with expectations, the test starts
 * upsim on the scenario — plus, for expectations "with_backup", a second
 * upsim on scenarios/healthy.json as the gateway's backup upstream (retry
 * drills) — and the gateway in front of them, then
 * sends each probe through the gateway and compares the status the client
 * got and the gateway's error log with the expectation. Every mismatch of
 * the pair is reported, not only the first. A gateway that is not
 * installed gets no tests, and the runner says so on stderr.
 * UPSIM_GATEWAYS=nginx,haproxy limits the run to those gateways. */
#include <check.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "gateway.h"
#include "proc.h"
#include "scenario.h"
#include "suites.h"
#include "wire.h"
#include "xalloc.h"

#define T_MS 5000
/* Gateways answer a hung upstream after their 2 s read timeout. */
#define ANSWER_MS 15000
/* A gateway may write its log line just after answering. */
#define LOG_MS 2000

struct pair {
	char *file;
	const char *gateway;
	bool with_backup;
};

static struct pair *pairs;
static size_t n_pairs;

static int selected(const char *gateway)
{
	const char *only = getenv("UPSIM_GATEWAYS");
	if (only == NULL || only[0] == '\0')
		return 1;
	size_t n = strlen(gateway);
	for (const char *p = only; (p = strstr(p, gateway)) != NULL; p += n)
		if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

static const struct gateway_expect *find(const struct expect *e, const char *gateway,
					 bool with_backup)
{
	for (size_t i = 0; e != NULL && e->with_backup == with_backup && i < e->n_gateways; i++)
		if (strcmp(e->gateways[i].gateway, gateway) == 0)
			return &e->gateways[i];
	return NULL;
}

static int scenario_expects(const struct scenario *sc, const char *gateway,
			    bool with_backup)
{
	if (find(sc->expect, gateway, with_backup))
		return 1;
	for (size_t i = 0; i < sc->n_rules; i++)
		if (find(sc->rules[i].expect, gateway, with_backup))
			return 1;
	return 0;
}

static struct scenario *load(const char *file)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file(file, &err);
	err_clear(&err);
	return sc;
}

static int status_allowed(const struct gateway_expect *want, int status)
{
	if (status == want->status)
		return 1;
	for (size_t i = 0; i < want->n_also; i++)
		if (status == want->also[i])
			return 1;
	return 0;
}

/* Send the probe through the gateway; append any mismatch to report. */
static void probe(const struct gateway *g, const struct expect *e,
		  const struct gateway_expect *want, char **report)
{
	ck_assert_msg(want->retried == -1, "%s %s: \"retried\" needs upsim's journal "
		      "to be checked (not built yet): remove it", g->name, e->path);
	struct gateway_answer a;
	gateway_probe(g, e->path, ANSWER_MS, want->log, LOG_MS, &a);
	char *old = *report;
	if (!status_allowed(want, a.status))
		*report = xasprintf("%s\n  %s: status %d after %.0f ms, expected %d%s", old,
				    e->path, a.status, a.ms, want->status,
				    want->n_also ? " (or another of its list)" : "");
	else if (want->log && !strstr(a.log, want->log))
		*report = xasprintf("%s\n  %s: error log lacks \"%s\"; it says: %.300s", old,
				    e->path, want->log, a.log);
	if (*report != old)
		free(old);
	gateway_answer_free(&a);
}

START_TEST(test_gateway_meets_expectations)
{
	const struct pair *p = &pairs[_i];
	struct scenario *sc = load(p->file);
	ck_assert_ptr_nonnull(sc);
	struct upsim_proc up, backup;
	ck_assert_int_eq(upsim_start_scenario(&up, p->file, NULL, T_MS), 0);
	char primary[96], second[96];
	snprintf(primary, sizeof primary, "%s:%d", up.host, up.port);
	if (p->with_backup) {
		ck_assert_int_eq(upsim_start_scenario(&backup, "scenarios/healthy.json",
						      NULL, T_MS), 0);
		snprintf(second, sizeof second, "%s:%d", backup.host, backup.port);
	}
	struct gateway g;
	ck_assert_msg(gateway_start(&g, p->gateway, primary,
				    p->with_backup ? second : NULL, 10000) == 0,
		      "%s did not start", p->gateway);
	char *report = xstrdup("");
	const struct gateway_expect *want = find(sc->expect, p->gateway, p->with_backup);
	if (want)
		probe(&g, sc->expect, want, &report);
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct expect *e = sc->rules[i].expect;
		if ((want = find(e, p->gateway, p->with_backup)) != NULL)
			probe(&g, e, want, &report);
	}
	gateway_stop(&g, T_MS);
	ck_assert_int_eq(upsim_stop(&up, SIGTERM, T_MS), 0);
	upsim_proc_free(&up);
	if (p->with_backup) {
		ck_assert_int_eq(upsim_stop(&backup, SIGTERM, T_MS), 0);
		upsim_proc_free(&backup);
	}
	scenario_unref(sc);
	ck_assert_msg(report[0] == '\0', "%s%s differs from %s:%s", p->gateway,
		      p->with_backup ? " (with a backup upstream)" : "", p->file, report);
	free(report);
}
END_TEST

/* Pairs of (shipped scenario, installed gateway) with expectations. */
static void collect(void)
{
	glob_t files;
	if (glob("scenarios/*.json", 0, NULL, &files) != 0)
		return;
	char skipped[256] = "";
	for (size_t gi = 0; gi < gateway_count; gi++) {
		const char *gw = gateway_names[gi];
		if (!selected(gw))
			continue;
		if (!gateway_installed(gw)) {
			size_t len = strlen(skipped);
			snprintf(skipped + len, sizeof skipped - len, " %s", gw);
			continue;
		}
		for (size_t i = 0; i < files.gl_pathc; i++) {
			struct scenario *sc = load(files.gl_pathv[i]);
			for (int b = 0; sc != NULL && b < 2; b++) {
				if (!scenario_expects(sc, gw, b))
					continue;
				pairs = xrealloc(pairs, (n_pairs + 1) * sizeof *pairs);
				pairs[n_pairs++] = (struct pair){xstrdup(files.gl_pathv[i]), gw, b};
			}
			scenario_unref(sc);
		}
	}
	globfree(&files);
	if (skipped[0])
		fprintf(stderr, "SKIPPED gateway conformance for:%s (not installed; "
			"tools/deps.sh installs them as root)\n", skipped);
}

Suite *gateways_suite(void)
{
	Suite *s = suite_create("gateways");
	collect();
	TCase *tc = tcase_create("conformance");
	tcase_set_timeout(tc, 300);
	if (n_pairs > 0)
		tcase_add_loop_test(tc, test_gateway_meets_expectations, 0, (int)n_pairs);
	suite_add_tcase(s, tc);
	return s;
}

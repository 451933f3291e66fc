/* Gateway conformance: every `expect` of every shipped scenario, checked
 * against the real gateway it names, through `upsim check` — the command
 * teams run against their own gateways, so the project's truth and theirs
 * come from one engine.
 *
 * For each (scenario file, gateway, backup or not) with expectations, the
 * test starts the gateway from tests/gateways with its upstream (and, for
 * probes written "with_backup", a backup upstream) on free loopback ports,
 * then runs `upsim check --listen` there with --json and reads the
 * verdicts. Every failing probe of the pair is reported, not only the
 * first. A scenario served over TLS (scenarios/tls-failures.json) goes
 * through the TLS configs instead (tests/gateways/NAME-tls*, named nginx,
 * nginx-noverify, haproxy, haproxy-noverify, caddy, apache in its expect
 * blocks), with upsim check started first so that the gateway can trust
 * the CA it writes. A gateway that is not installed gets no tests, and the
 * runner says so on stderr. UPSIM_GATEWAYS=nginx,haproxy limits the run to
 * those gateways (nginx includes nginx-noverify), UPSIM_SCENARIOS=resets,
 * tls-failures to those files of scenarios/. */
#include <check.h>
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
#include "suites.h"

struct pair {
	char *file;
	const char *gateway;
	bool with_backup;
};

static struct pair *pairs;
static size_t n_pairs;

/* Is name in the comma-separated list of environment variable var (or
 * is the variable unset or empty)? */
static int listed(const char *var, const char *name)
{
	const char *only = getenv(var);
	if (only == NULL || only[0] == '\0')
		return 1;
	size_t n = strlen(name);
	for (const char *p = only; (p = strstr(p, name)) != NULL; p += n)
		if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

static int selected(const char *gateway)
{
	return listed("UPSIM_GATEWAYS", gateway);
}

/* UPSIM_SCENARIOS=tls-failures,resets: only those files of scenarios/. */
static int scenario_selected(const char *file)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	char name[256];
	snprintf(name, sizeof name, "%.*s", (int)strcspn(base, "."), base);
	return listed("UPSIM_SCENARIOS", name);
}

static bool block_expects(const struct expect *e, const char *gateway, bool with_backup)
{
	return e != NULL && e->with_backup == with_backup && expect_for(e, gateway) != NULL;
}

static bool scenario_expects(const struct scenario *sc, const char *gateway, bool with_backup)
{
	for (size_t i = 0; i < expect_sites(sc); i++)
		if (block_expects(expect_site_at(sc, i).expect, gateway, with_backup))
			return true;
	return false;
}

static struct scenario *load(const char *file)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file(file, &err);
	err_clear(&err);
	return sc;
}

/* Every failing probe of upsim check's JSON, a line each. */
static char *failures(json_t *result)
{
	char *report = xstrdup("");
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(result, "probes"), i, p)
	{
		if (strcmp(json_string_value(json_object_get(p, "result")), "fail") != 0)
			continue;
		char *next = xasprintf("%s\n  %s %s: %s\n    want %s\n    got  %s", report,
				       json_string_value(json_object_get(p, "method")),
				       json_string_value(json_object_get(p, "request")),
				       json_string_value(json_object_get(p, "why")),
				       json_string_value(json_object_get(p, "want")),
				       json_string_value(json_object_get(p, "got")));
		free(report);
		report = next;
	}
	return report;
}

START_TEST(test_gateway_meets_expectations)
{
	const struct pair *p = &pairs[_i];
	struct gateway_check c;
	gateway_check_run(p->file, p->gateway, p->with_backup, NULL, &c);
	ck_assert_msg(c.why == NULL, "%s", c.why);
	ck_assert_msg(c.result != NULL && (c.code == 0 || c.code == 1),
		      "upsim check exited %d for %s on %s:\n%s", c.code, p->file, p->gateway,
		      c.err);
	json_int_t failed = json_integer_value(json_object_get(c.result, "failed"));
	json_int_t passed = json_integer_value(json_object_get(c.result, "passed"));
	char *report = failures(c.result);
	ck_assert_msg(failed == 0 && c.code == 0 && passed > 0, "%s%s differs from %s:%s",
		      p->gateway, p->with_backup ? " (with a backup upstream)" : "", p->file,
		      report);
	free(report);
	gateway_check_free(&c);
}
END_TEST

/* "method path rule" -> "status/attempts of each try" for every probe. */
static json_t *outcomes(json_t *result, char *order, size_t len)
{
	json_t *map = json_object();
	size_t i, k;
	json_t *p, *t;
	order[0] = '\0';
	json_array_foreach(json_object_get(result, "probes"), i, p)
	{
		char key[512], val[512] = "";
		snprintf(key, sizeof key, "%s %s %s",
			 json_string_value(json_object_get(p, "method")),
			 json_string_value(json_object_get(p, "request")),
			 json_is_string(json_object_get(p, "rule"))
				 ? json_string_value(json_object_get(p, "rule"))
				 : "(top)");
		json_array_foreach(json_object_get(p, "tries"), k, t)
		{
			size_t used = strlen(val);
			snprintf(val + used, sizeof val - used, "%lld/%lld ",
				 json_integer_value(json_object_get(t, "status")),
				 json_integer_value(json_object_get(t, "attempts")));
		}
		json_object_set_new(map, key, json_string(val));
		size_t used = strlen(order);
		snprintf(order + used, len - used, "%s|", key);
	}
	return map;
}

/* The probes of a library file give the same answers in any order: each
 * starts on an empty pool, with its scenario afresh. */
START_TEST(test_probe_order_does_not_matter)
{
	static const char *const runs[] = {NULL, "--shuffle=7", "--shuffle=11"};
	const char *file = "scenarios/resets.json";
	json_t *first = NULL;
	char first_order[4096], order[4096];
	bool reordered = false;
	for (size_t r = 0; r < 3; r++) {
		struct gateway_check c;
		gateway_check_run(file, "nginx", false, runs[r], &c);
		ck_assert_msg(c.why == NULL && c.code == 0, "nginx, %s %s: exit %d\n%s", file,
			      runs[r] ? runs[r] : "in file order", c.code, c.err);
		json_t *got = outcomes(c.result, r ? order : first_order, sizeof order);
		if (r == 0) {
			first = got;
		} else {
			reordered |= strcmp(order, first_order) != 0;
			ck_assert_msg(json_equal(first, got), "%s answers differently with %s",
				      file, runs[r]);
			json_decref(got);
		}
		gateway_check_free(&c);
	}
	ck_assert_msg(reordered, "no shuffle changed the order of %s's probes", file);
	ck_assert_uint_ge(json_object_size(first), 5);
	json_decref(first);
}
END_TEST

/* The probe's result and why, for the probe of phase name. */
static json_t *phase_probe(json_t *result, const char *name)
{
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(result, "probes"), i, p)
	{
		const char *phase = json_string_value(json_object_get(p, "phase"));
		if (phase != NULL && strcmp(phase, name) == 0)
			return p;
	}
	return NULL;
}

/* A DNS probe measures the phase's answers only if the gateway asked for
 * them: without the settle time, nginx (resolver valid=1s) answers the
 * nxdomain probe from what it cached in the healthy probe just before,
 * and upsim check says "not measured" instead of judging a 200. */
START_TEST(test_a_cached_dns_answer_is_not_measured)
{
	struct gateway_check c;
	gateway_check_run("scenarios/dns-failures.json", "nginx", false, "--dns-settle=1ms", &c);
	ck_assert_msg(c.why == NULL && c.result != NULL, "%s\n%s", c.why ? c.why : "", c.err);
	json_t *healthy = phase_probe(c.result, "healthy");
	json_t *nx = phase_probe(c.result, "nxdomain");
	ck_assert_ptr_nonnull(healthy);
	ck_assert_ptr_nonnull(nx);
	ck_assert_str_eq(json_string_value(json_object_get(healthy, "result")), "pass");
	ck_assert_str_eq(json_string_value(json_object_get(nx, "result")), "fail");
	ck_assert_msg(strstr(json_string_value(json_object_get(nx, "why")), "not measured"), "%s",
		      json_string_value(json_object_get(nx, "why")));
	json_t *t = json_array_get(json_object_get(nx, "tries"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(t, "dns_queries")), 0);
	ck_assert_int_eq(c.code, 1);
	gateway_check_free(&c);
}
END_TEST

static void add_pair(const char *file, const char *gateway, bool with_backup)
{
	pairs = xrealloc(pairs, (n_pairs + 1) * sizeof *pairs);
	pairs[n_pairs++] = (struct pair){xstrdup(file), gateway, with_backup};
}

static bool uses_tls(const struct scenario *sc)
{
	char where[64];
	return scenario_uses_tls(sc, where, sizeof where);
}

/* A scenario served over TLS goes through each TLS config of an installed,
 * selected gateway (tests/gateways/NAME-tls*), under the name its expect
 * blocks use: nginx and nginx-noverify are both nginx. */
static void collect_tls(const char *file, const struct scenario *sc)
{
	for (size_t t = 0; t < gateway_tls_count; t++) {
		const struct gateway_tls *cfg = &gateway_tls_configs[t];
		if (!selected(cfg->gateway) || !gateway_installed(cfg->gateway))
			continue;
		for (int b = 0; b < 2; b++)
			if (scenario_expects(sc, cfg->name, b))
				add_pair(file, cfg->name, b);
	}
}

/* Pairs of (shipped scenario, installed gateway) with expectations. */
static void collect(void)
{
	glob_t files;
	if (glob("scenarios/*.json", 0, NULL, &files) != 0)
		return;
	for (size_t i = 0; i < files.gl_pathc; i++) {
		if (!scenario_selected(files.gl_pathv[i]))
			continue;
		struct scenario *sc = load(files.gl_pathv[i]);
		if (sc != NULL && uses_tls(sc))
			collect_tls(files.gl_pathv[i], sc);
		scenario_unref(sc);
	}
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
			if (!scenario_selected(files.gl_pathv[i]))
				continue;
			struct scenario *sc = load(files.gl_pathv[i]);
			/* A scenario with DNS needs a config resolving through it;
			 * one served over TLS has its own configs (collect_tls). */
			bool config = sc != NULL && (sc->dns == NULL || gateway_has_dns_config(gw))
				      && !uses_tls(sc);
			for (int b = 0; config && b < 2; b++) {
				if (scenario_expects(sc, gw, b))
					add_pair(files.gl_pathv[i], gw, b);
			}
			scenario_unref(sc);
		}
	}
	globfree(&files);
	if (skipped[0])
		fprintf(stderr,
			"SKIPPED gateway conformance for:%s (not installed; "
			"tools/deps.sh installs them as root)\n",
			skipped);
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
	if (selected("nginx") && gateway_installed("nginx")) {
		tc = tcase_create("order");
		tcase_set_timeout(tc, 300);
		tcase_add_test(tc, test_probe_order_does_not_matter);
		suite_add_tcase(s, tc);
		tc = tcase_create("dns");
		tcase_set_timeout(tc, 300);
		tcase_add_test(tc, test_a_cached_dns_answer_is_not_measured);
		suite_add_tcase(s, tc);
	}
	return s;
}

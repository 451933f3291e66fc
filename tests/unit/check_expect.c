/* The probe model of expect blocks (scenario/expect.h), as loaded from
 * tests/data/valid/probe.json. */
#include <check.h>
#include <stdint.h>

#include "base/err.h"
#include "scenario/expect.h"
#include "scenario/model.h"
#include "suites.h"

static struct scenario *load_probe_file(void)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file("tests/data/valid/probe.json", &err);
	ck_assert_msg(sc != NULL, "%s", err.count ? err.msgs[0] : "?");
	return sc;
}

START_TEST(test_top_level_probe_defaults)
{
	struct scenario *sc = load_probe_file();
	const struct expect *e = sc->expect;
	ck_assert_str_eq(e->probe.method, "GET");
	ck_assert_str_eq(e->probe.path, "/");
	ck_assert_uint_eq(e->repeat, 1);
	ck_assert_uint_eq(e->n_steps, 0);
	const struct gateway_expect *g = expect_for(e, "nginx");
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->status, 200);
	ck_assert_int_eq(g->complete, 1);
	ck_assert_int_eq(g->body_bytes, 3);
	ck_assert_uint_eq(g->n_headers, 2);
	ck_assert_str_eq(g->headers[0].name, "Content-Type");
	ck_assert_str_eq(g->headers[0].value, "text/plain");
	ck_assert_ptr_null(g->headers[1].value);
	ck_assert_int_eq(g->retried, -1);
	ck_assert(!g->attempts.set && !g->time_us.set);
	ck_assert_ptr_null(expect_for(e, "haproxy"));
	scenario_unref(sc);
}
END_TEST

START_TEST(test_rule_probe_with_steps_and_counts)
{
	struct scenario *sc = load_probe_file();
	const struct expect *e = sc->rules[0].expect;
	ck_assert_str_eq(e->probe.method, "POST");
	ck_assert_str_eq(e->probe.path, "/api/orders");
	ck_assert_uint_eq(e->probe.n_headers, 1);
	ck_assert_str_eq(e->probe.body, "{}");
	ck_assert_uint_eq(e->probe.body_len, 2);
	ck_assert_uint_eq(e->n_steps, 2);
	ck_assert_str_eq(e->steps[0].path, "/api/warm");
	ck_assert_str_eq(e->steps[0].method, "GET");
	ck_assert_uint_eq(e->steps[0].pause_us, 40000);
	ck_assert_uint_eq(e->steps[1].pause_us, 0);
	ck_assert_str_eq(e->steps[1].path, "/api/orders"); /* the probe's path */
	ck_assert_str_eq(e->steps[1].method, "HEAD");
	ck_assert_uint_eq(e->repeat, 20);
	const struct gateway_expect *g = expect_for(e, "nginx");
	ck_assert_int_eq(g->status, 502);
	ck_assert_uint_eq(g->at_least, 1);
	ck_assert_int_eq(g->at_most, 20);
	ck_assert(g->log_regex);
	ck_assert_str_eq(g->log, "reset by peer|prematurely closed");
	ck_assert(g->attempts.set);
	ck_assert_uint_eq(g->attempts.min, 1);
	ck_assert_uint_eq(g->attempts.max, 2);
	ck_assert(g->time_us.set);
	ck_assert_uint_eq(g->time_us.min, 0);
	ck_assert_uint_eq(g->time_us.max, 2000000);
	const struct gateway_expect *h = expect_for(e, "edge-haproxy");
	ck_assert_int_eq(h->status, 999);
	ck_assert_uint_eq(h->at_least, 0);
	ck_assert_int_eq(h->at_most, -1);
	ck_assert_uint_eq(h->attempts.min, 1);
	ck_assert_uint_eq(h->attempts.max, 1);
	ck_assert_int_eq(h->complete, 0);
	scenario_unref(sc);
}
END_TEST

/* A phase's probe is GET / while that phase is current; the sites list
 * every block in file order: the top level, the rules, the phases. */
START_TEST(test_phase_probe_and_sites)
{
	struct scenario *sc = load_probe_file();
	ck_assert_ptr_null(sc->phases[0].expect);
	const struct expect *e = sc->phases[1].expect;
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->probe.path, "/");
	ck_assert_int_eq(expect_for(e, "nginx")->status, 502);
	ck_assert_uint_eq(expect_sites(sc), 4);
	struct expect_site top = expect_site_at(sc, 0), rule = expect_site_at(sc, 1);
	struct expect_site up = expect_site_at(sc, 2), down = expect_site_at(sc, 3);
	ck_assert(top.expect == sc->expect && top.rule == -1 && top.phase == -1);
	ck_assert(rule.expect == sc->rules[0].expect && rule.rule == 0 && rule.phase == -1);
	ck_assert(up.expect == NULL && up.rule == -1 && up.phase == 0);
	ck_assert(down.expect == e && down.rule == -1 && down.phase == 1);
	scenario_unref(sc);
}
END_TEST

Suite *expect_suite(void)
{
	Suite *s = suite_create("expect");
	TCase *tc = tcase_create("probe");
	tcase_add_test(tc, test_top_level_probe_defaults);
	tcase_add_test(tc, test_rule_probe_with_steps_and_counts);
	tcase_add_test(tc, test_phase_probe_and_sites);
	suite_add_tcase(s, tc);
	return s;
}

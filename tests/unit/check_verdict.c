/* check/verdict: what a gateway did with a probe's tries, against its
 * expectation. Tries are built by hand: no gateway, no socket. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "check/verdict.h"
#include "scenario/expect.h"
#include "suites.h"

/* The expectation for "gw" in a one-rule scenario whose expect block is
 * block (JSON text). */
static struct scenario *with_expect(const char *block)
{
	char json[2048];
	snprintf(json, sizeof json,
		 "{\"upsim\": 1, \"rules\": [{\"match\": {\"path\": \"/p\"}, "
		 "\"respond\": {\"status\": 200}, \"expect\": %s}]}",
		 block);
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_buffer("t.json", json, strlen(json), &err);
	ck_assert_msg(sc != NULL, "%s", err.count ? err.msgs[0] : "?");
	return sc;
}

static const struct gateway_expect *gw(const struct scenario *sc)
{
	return expect_for(sc->rules[0].expect, "gw");
}

static struct try_result try_of(int status, long attempts, uint64_t time_ms, bool complete)
{
	struct try_result t = {.attempts = attempts, .dns_queries = -1};
	t.answer.status = status;
	t.answer.time_us = time_ms * 1000;
	t.answer.complete = complete;
	return t;
}

static struct verdict judge(const char *block, const struct try_result *tries, size_t n)
{
	struct scenario *sc = with_expect(block);
	struct verdict v;
	verdict_judge(gw(sc), tries, n, &v);
	scenario_unref(sc);
	return v;
}

START_TEST(test_one_try_passes)
{
	struct try_result t = try_of(502, 1, 3, true);
	struct verdict v = judge("{\"gw\": {\"status\": 502, \"retried\": false}}", &t, 1);
	ck_assert(v.pass);
	ck_assert_ptr_null(v.why);
	ck_assert_str_eq(v.want, "502, not retried");
	ck_assert_str_eq(v.got, "502, 1 attempt, 3 ms");
	verdict_clear(&v);
}
END_TEST

START_TEST(test_wrong_status_says_both)
{
	struct try_result t = try_of(200, 1, 1, true);
	struct verdict v = judge("{\"gw\": {\"status\": 504}}", &t, 1);
	ck_assert(!v.pass);
	ck_assert_str_eq(v.why, "status 200, expected 504");
	verdict_clear(&v);
}
END_TEST

START_TEST(test_a_retry_when_none_was_expected)
{
	struct try_result t = try_of(502, 2, 5, true);
	struct verdict v = judge("{\"gw\": {\"status\": 502, \"retried\": false}}", &t, 1);
	ck_assert(!v.pass);
	ck_assert_str_eq(v.why, "upsim saw 2 attempts, expected no retry");
	verdict_clear(&v);
}
END_TEST

START_TEST(test_unknown_attempts_fail_an_attempts_check)
{
	struct try_result t = try_of(502, -1, 5, true);
	struct verdict v = judge("{\"gw\": {\"status\": 502, \"attempts\": 1}}", &t, 1);
	ck_assert(!v.pass);
	ck_assert_ptr_nonnull(strstr(v.why, "journal could not be read"));
	verdict_clear(&v);
}
END_TEST

/* With DNS, a try that follows no query since its probe began met a
 * cached answer, not the phase's: not measured, whatever it got. */
START_TEST(test_dns_unasked_is_not_measured)
{
	struct try_result t[2] = {try_of(502, 0, 1, true), try_of(502, 0, 1, true)};
	t[0].dns_queries = 0;
	t[1].dns_queries = 1;
	struct verdict v = judge("{\"gw\": {\"status\": 502}}", t, 1);
	ck_assert(!v.pass);
	ck_assert_ptr_nonnull(strstr(v.why, "not measured"));
	ck_assert_ptr_nonnull(strstr(v.got, "0 DNS queries"));
	verdict_clear(&v);
	v = judge("{\"gw\": {\"status\": 502}}", &t[1], 1);
	ck_assert(v.pass);
	ck_assert_str_eq(v.got, "502, 0 attempts, 1 ms, 1 DNS query");
	verdict_clear(&v);
}
END_TEST

START_TEST(test_time_and_framing)
{
	struct try_result t = try_of(200, 1, 2500, false);
	t.answer.error = (char *)"transfer closed with 10 bytes remaining";
	struct verdict v = judge("{\"gw\": {\"status\": 200, \"time\": {\"max\": \"2s\"}}}", &t, 1);
	ck_assert(!v.pass);
	ck_assert_str_eq(v.why, "the answer took 2500 ms, expected at most 2000 ms");
	verdict_clear(&v);
	v = judge("{\"gw\": {\"status\": 200, \"complete\": true}}", &t, 1);
	ck_assert(!v.pass);
	ck_assert_str_eq(v.why, "the response was cut (transfer closed with 10 bytes "
				"remaining), expected it complete");
	verdict_clear(&v);
	v = judge("{\"gw\": {\"status\": 200, \"complete\": false, \"time\": {\"min\": \"2s\"}}}",
		  &t, 1);
	ck_assert(v.pass);
	verdict_clear(&v);
}
END_TEST

START_TEST(test_counts_over_tries)
{
	struct try_result tries[20];
	for (int i = 0; i < 20; i++)
		tries[i] = try_of(i % 5 == 0 ? 502 : 200, 1, 1, true);
	/* 4 of 20 gave 502 */
	const char *at_least_1 = "{\"repeat\": 20, \"gw\": {\"status\": 502, \"at_least\": 1}}";
	struct verdict v = judge(at_least_1, tries, 20);
	ck_assert(v.pass);
	ck_assert_str_eq(v.got, "502 in 4 of 20, 200 in 16 of 20, 1 attempt, 1 ms");
	verdict_clear(&v);
	v = judge("{\"repeat\": 20, \"gw\": {\"status\": 502, \"at_least\": 5}}", tries, 20);
	ck_assert(!v.pass);
	ck_assert_str_eq(v.why, "status 502 in 4 of 20, 200 in 16 of 20, expected 502 in at "
				"least 5 of 20 tries");
	verdict_clear(&v);
	v = judge("{\"repeat\": 20, \"gw\": {\"status\": 502, \"at_most\": 3}}", tries, 20);
	ck_assert(!v.pass);
	verdict_clear(&v);
	/* without counts every try must give it */
	v = judge("{\"repeat\": 20, \"gw\": {\"status\": 200}}", tries, 20);
	ck_assert(!v.pass);
	verdict_clear(&v);
}
END_TEST

/* With counts, the other checks judge only the tries that gave the status. */
START_TEST(test_counted_tries_alone_are_checked)
{
	struct try_result tries[3] = {try_of(502, 1, 1, true), try_of(200, 2, 1, true),
				      try_of(502, 1, 1, true)};
	struct verdict v = judge("{\"repeat\": 3, \"gw\": {\"status\": 502, \"at_least\": 1, "
				 "\"retried\": false}}",
				 tries, 3);
	ck_assert(v.pass);
	verdict_clear(&v);
	tries[2].attempts = 3;
	v = judge("{\"repeat\": 3, \"gw\": {\"status\": 502, \"at_least\": 1, "
		  "\"retried\": false}}",
		  tries, 3);
	ck_assert(!v.pass);
	ck_assert_str_eq(v.why, "try 3: upsim saw 3 attempts, expected no retry");
	verdict_clear(&v);
}
END_TEST

START_TEST(test_headers_and_body_bytes)
{
	struct try_result t = try_of(200, 1, 1, true);
	t.answer.body_bytes = 3;
	struct header h[] = {{(char *)"Content-Type", (char *)"text/plain"}};
	t.answer.headers = h;
	t.answer.n_headers = 1;
	struct verdict v = judge("{\"gw\": {\"status\": 200, \"body_bytes\": 3, \"headers\": "
				 "{\"content-type\": \"text/plain\", \"X-Gone\": null}}}",
				 &t, 1);
	ck_assert_msg(v.pass, "%s", v.why);
	verdict_clear(&v);
	v = judge("{\"gw\": {\"status\": 200, \"headers\": {\"X-Gone\": \"here\"}}}", &t, 1);
	ck_assert(!v.pass);
	ck_assert_str_eq(v.why, "header X-Gone is absent, expected \"here\"");
	verdict_clear(&v);
	v = judge("{\"gw\": {\"status\": 200, \"body_bytes\": 4}}", &t, 1);
	ck_assert_str_eq(v.why, "3 body bytes, expected 4");
	verdict_clear(&v);
}
END_TEST

START_TEST(test_log_substring_and_regex)
{
	struct scenario *sc = with_expect(
		"{\"gw\": {\"status\": 502, \"log\": \"reset by peer\"}}");
	ck_assert(verdict_log_says(gw(sc), "recv() failed (104: Connection reset by peer)"));
	ck_assert(!verdict_log_says(gw(sc), "upstream prematurely closed"));
	ck_assert(!verdict_log_says(gw(sc), NULL));
	scenario_unref(sc);
	sc = with_expect(
		"{\"gw\": {\"status\": 502, \"log\": {\"regex\": \"^[0-9]+ (reset|closed)\"}}}");
	ck_assert(verdict_log_says(gw(sc), "104 reset"));
	ck_assert(!verdict_log_says(gw(sc), "x 104 reset"));
	scenario_unref(sc);
	struct try_result t = try_of(502, 1, 1, true);
	t.log = (char *)"upstream timed out";
	struct verdict v = judge("{\"gw\": {\"status\": 502, \"log\": \"reset\"}}", &t, 1);
	ck_assert(!v.pass);
	ck_assert_str_eq(v.why, "the gateway's error log has no line saying \"reset\"; it says: "
				"upstream timed out");
	verdict_clear(&v);
}
END_TEST

Suite *verdict_suite(void)
{
	Suite *s = suite_create("verdict");
	TCase *tc = tcase_create("one_try");
	tcase_add_test(tc, test_one_try_passes);
	tcase_add_test(tc, test_wrong_status_says_both);
	tcase_add_test(tc, test_a_retry_when_none_was_expected);
	tcase_add_test(tc, test_unknown_attempts_fail_an_attempts_check);
	tcase_add_test(tc, test_dns_unasked_is_not_measured);
	tcase_add_test(tc, test_time_and_framing);
	tcase_add_test(tc, test_headers_and_body_bytes);
	tcase_add_test(tc, test_log_substring_and_regex);
	suite_add_tcase(s, tc);
	tc = tcase_create("repeat");
	tcase_add_test(tc, test_counts_over_tries);
	tcase_add_test(tc, test_counted_tries_alone_are_checked);
	suite_add_tcase(s, tc);
	return s;
}

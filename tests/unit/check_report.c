/* check/report: the JSON and JUnit forms of upsim check's results stay
 * well-formed whatever bytes a gateway sent (they need not be UTF-8). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "check/report.h"
#include "suites.h"

static const char scenario_json[] =
	"{\"upsim\": 1, \"rules\": [{\"match\": {\"path\": \"/bin\"}, \"respond\": {},"
	" \"expect\": {\"gw\": {\"status\": 200, \"headers\": {\"X-Bin\": \"ab\"}}}}]}";

/* One judged probe whose answer carries a byte 0xff in a header name, a
 * header value and the log line. */
static struct check_probe *binary_probe(const struct check_config *cfg)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_buffer("bin.json", scenario_json,
						   sizeof scenario_json - 1, &err);
	ck_assert_ptr_nonnull(sc);
	struct check_probe *p = calloc(1, sizeof *p);
	p->file = "scenarios/bin.json";
	p->scenario = sc;
	p->expect = sc->rules[0].expect;
	p->want = expect_for(p->expect, cfg->gateway);
	p->phase = -1;
	p->n_tries = 1;
	p->tries = calloc(1, sizeof *p->tries);
	struct try_result *t = &p->tries[0];
	t->attempts = 1;
	t->dns_queries = -1;
	t->answer.status = 200;
	t->answer.complete = true;
	t->answer.headers = calloc(2, sizeof *t->answer.headers);
	t->answer.headers[0] = (struct header){strdup("X-Bin"), strdup("a\xff"
								       "b")};
	t->answer.headers[1] = (struct header){strdup("X-\xfe"), strdup("v")};
	t->answer.n_headers = 2;
	t->log = strdup("upstream sent \xff");
	verdict_judge(p->want, p->tries, 1, &p->verdict);
	return p;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x80)
			continue;
		size_t k = s[i] >= 0xf0 ? 3 : s[i] >= 0xe0 ? 2 : s[i] >= 0xc2 ? 1 : 9;
		if (k == 9 || i + k >= n)
			return false;
		for (size_t j = 1; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		i += k;
	}
	return true;
}

START_TEST(test_json_keeps_every_field)
{
	struct check_config cfg = {.gateway = "gw", .through = "http://127.0.0.1:1"};
	struct check_probe *p = binary_probe(&cfg);
	ck_assert(!p->verdict.pass);
	json_t *j = report_json(&cfg, p, 1);
	json_t *probe = json_array_get(json_object_get(j, "probes"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(probe, "result")), "fail");
	ck_assert_str_eq(json_string_value(json_object_get(probe, "why")),
			 "header X-Bin is \"a\\xffb\", expected \"ab\"");
	json_t *t = json_array_get(json_object_get(probe, "tries"), 0);
	json_t *headers = json_object_get(t, "headers");
	ck_assert_str_eq(json_string_value(json_object_get(headers, "X-Bin")), "a\\xffb");
	ck_assert_str_eq(json_string_value(json_object_get(headers, "X-\\xfe")), "v");
	ck_assert_str_eq(json_string_value(json_object_get(t, "log")), "upstream sent \\xff");
	json_decref(j);
	check_probes_free(p, 1);
}
END_TEST

START_TEST(test_junit_is_well_formed_utf8)
{
	struct check_config cfg = {.gateway = "gw", .through = "http://127.0.0.1:1"};
	struct check_probe *p = binary_probe(&cfg);
	char path[] = "/tmp/upsim-junit-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	close(fd);
	ck_assert_int_eq(report_junit(path, &cfg, p, 1), 0);
	FILE *f = fopen(path, "rb");
	char buf[8192];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	unlink(path);
	buf[n] = '\0';
	ck_assert(valid_utf8((unsigned char *)buf, n));
	ck_assert_ptr_nonnull(strstr(buf, "classname=\"scenarios.bin\""));
	ck_assert_ptr_nonnull(
		strstr(buf, "<failure message=\"header X-Bin is &quot;a\\xffb&quot;"));
	ck_assert_ptr_nonnull(strstr(buf, "tests=\"1\" failures=\"1\""));
	check_probes_free(p, 1);
}
END_TEST

Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("bytes");
	tcase_add_test(tc, test_json_keeps_every_field);
	tcase_add_test(tc, test_junit_is_well_formed_utf8);
	suite_add_tcase(s, tc);
	return s;
}

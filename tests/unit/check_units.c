#include <check.h>

#include "base/instant.h"
#include "base/units.h"
#include "suites.h"

struct duration_case {
	const char *text;
	int ok;
	uint64_t us;
};

static const struct duration_case durations[] = {
	{"0ms", 1, 0},	      {"150ms", 1, 150000}, {"2s", 1, 2000000},
	{"1.5s", 1, 1500000}, {"1m", 1, 60000000},  {"1h", 1, 3600000000ULL},
	{"250us", 1, 250},    {"0.25ms", 1, 250},   {"24h", 1, 86400000000ULL},
	{"25h", 0, 0},	      {"10", 0, 0},	    {"ms", 0, 0},
	{"1.s", 0, 0},	      {"-1s", 0, 0},	    {"1 s", 0, 0},
	{"1sec", 0, 0},	      {"", 0, 0},	    {"99999999999999999999s", 0, 0},
};

START_TEST(test_duration)
{
	const struct duration_case *c = &durations[_i];
	uint64_t us = 12345;
	const char *why = NULL;
	int rc = units_parse_duration(c->text, &us, &why);
	if (c->ok) {
		ck_assert_msg(rc == 0, "%s: %s", c->text, why);
		ck_assert_uint_eq(us, c->us);
	} else {
		ck_assert_msg(rc == -1, "%s should be refused", c->text);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

struct size_case {
	const char *text;
	int ok;
	uint64_t bytes;
};

static const struct size_case sizes[] = {
	{"0", 1, 0},
	{"512", 1, 512},
	{"64B", 1, 64},
	{"10KB", 1, 10000},
	{"64KiB", 1, 65536},
	{"1MiB", 1, 1048576},
	{"2GB", 1, 2000000000},
	{"1GiB", 1, 1073741824},
	{"1.5KiB", 0, 0},
	{"1kib", 0, 0},
	{"KiB", 0, 0},
	{"99999999999GiB", 0, 0},
	{"18446744073709551615", 1, UINT64_MAX},
	{"18446744073709551616", 0, 0},
};

START_TEST(test_size)
{
	const struct size_case *c = &sizes[_i];
	uint64_t n = 7;
	int rc = units_parse_size(c->text, &n, NULL);
	ck_assert_int_eq(rc, c->ok ? 0 : -1);
	if (c->ok)
		ck_assert_uint_eq(n, c->bytes);
}
END_TEST

START_TEST(test_format_duration)
{
	char buf[32];
	ck_assert_str_eq(units_format_duration(2000000, buf, sizeof buf), "2s");
	ck_assert_str_eq(units_format_duration(150000, buf, sizeof buf), "150ms");
	ck_assert_str_eq(units_format_duration(1500, buf, sizeof buf), "1500us");
	ck_assert_str_eq(units_format_duration(0, buf, sizeof buf), "0ms");
}
END_TEST

START_TEST(test_instant)
{
	int64_t us;
	ck_assert_int_eq(instant_parse("1795618800", &us, NULL), 0);
	ck_assert_int_eq(us, 1795618800LL * 1000000);
	ck_assert_int_eq(instant_parse("1795618800.25", &us, NULL), 0);
	ck_assert_int_eq(us, 1795618800LL * 1000000 + 250000);
	ck_assert_int_eq(instant_parse("2026-11-25T15:00:00Z", &us, NULL), 0);
	ck_assert_int_eq(us, 1795618800LL * 1000000);
	ck_assert_int_eq(instant_parse("2026-11-25T16:00:00.5+01:00", &us, NULL), 0);
	ck_assert_int_eq(us, 1795618800LL * 1000000 + 500000);
	ck_assert_int_eq(instant_parse("2026-11-25T14:30:00-00:30", &us, NULL), 0);
	ck_assert_int_eq(us, 1795618800LL * 1000000);
	const char *why = NULL;
	ck_assert_int_eq(instant_parse("tomorrow", &us, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(instant_parse("2026-11-25T15:00:00", &us, NULL), -1); /* no zone */
	ck_assert_int_eq(instant_parse("2026-11-25T15:00:00+1:00", &us, NULL), -1);
	ck_assert_int_eq(instant_parse("", &us, NULL), -1);
	ck_assert_int_eq(instant_parse("99999999999999999999", &us, NULL), -1);
}
END_TEST

START_TEST(test_http_length)
{
	ck_assert_int_eq(units_parse_http_length("0"), 0);
	ck_assert_int_eq(units_parse_http_length("1073741824"), 1073741824LL);
	ck_assert_int_eq(units_parse_http_length("999999999999999999"), 999999999999999999LL);
	ck_assert_int_eq(units_parse_http_length("1000000000000000000"), -1); /* 19 digits */
	ck_assert_int_eq(units_parse_http_length(""), -1);
	ck_assert_int_eq(units_parse_http_length("12 "), -1);
	ck_assert_int_eq(units_parse_http_length("-1"), -1);
	ck_assert_int_eq(units_parse_http_length("1KiB"), -1);
}
END_TEST

Suite *units_suite(void)
{
	Suite *s = suite_create("units");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_duration, 0, sizeof durations / sizeof *durations);
	tcase_add_loop_test(tc, test_size, 0, sizeof sizes / sizeof *sizes);
	tcase_add_test(tc, test_format_duration);
	tcase_add_test(tc, test_http_length);
	tcase_add_test(tc, test_instant);
	suite_add_tcase(s, tc);
	return s;
}

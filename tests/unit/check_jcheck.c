/* scenario/jcheck: typed reads that report errors by JSON path, every
 * error at once, and the loader's use of it (paths into nested rules,
 * line and column for syntax errors). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "scenario/jcheck.h"
#include "scenario/model.h"
#include "suites.h"

static struct upsim_err err;
static struct jcheck jc;
static json_t *doc;

static void setup(void)
{
	memset(&err, 0, sizeof err);
	jcheck_init(&jc, "f.json", &err);
	json_error_t jerr;
	doc = json_loads(
		"{\"i\": 7, \"neg\": -3, \"s\": \"text\", \"b\": true, \"o\": {}, \"a\": [],"
		" \"r\": 1.5, \"n\": null, \"nul\": \"a\\u0000b\","
		" \"ms\": 150, \"dur\": \"2.5s\", \"big\": 86400001,"
		" \"size\": \"64KiB\", \"bytes\": 512}",
		JSON_ALLOW_NUL, &jerr);
	ck_assert_ptr_nonnull(doc);
}

static void teardown(void)
{
	json_decref(doc);
	err_clear(&err);
}

/* Exactly one message so far, equal to want. */
static void expect_one(const char *want)
{
	ck_assert_uint_eq(err.count, 1);
	ck_assert_str_eq(err.msgs[0], want);
}

/* ---- paths ---- */

START_TEST(test_path_of_nested_keys_and_indexes)
{
	size_t m0 = jcheck_push_key(&jc, "rules");
	jcheck_push_index(&jc, 2);
	size_t m1 = jcheck_push_key(&jc, "choose");
	jcheck_push_index(&jc, 1);
	jcheck_fail_key(&jc, "delay", "bad %s", "delay");
	ck_assert_str_eq(jc.path, "rules[2].choose[1]"); /* fail_key leaves it */
	jcheck_pop(&jc, m1);
	ck_assert_str_eq(jc.path, "rules[2]");
	jcheck_fail(&jc, "bad rule %d", 2);
	jcheck_pop(&jc, m0);
	ck_assert_str_eq(jc.path, "");
	jcheck_fail(&jc, "bad file");
	ck_assert_uint_eq(err.count, 3);
	ck_assert_str_eq(err.msgs[0], "f.json: rules[2].choose[1].delay: bad delay");
	ck_assert_str_eq(err.msgs[1], "f.json: rules[2]: bad rule 2");
	ck_assert_str_eq(err.msgs[2], "f.json: (root): bad file");
}
END_TEST

START_TEST(test_key_at_the_root_has_no_dot)
{
	jcheck_fail_key(&jc, "name", "x");
	expect_one("f.json: name: x");
}
END_TEST

/* A path deeper than its buffer is cut, never overflowed, and pops back. */
START_TEST(test_deep_path_is_truncated)
{
	size_t first = jcheck_push_key(&jc, "top");
	for (int i = 0; i < 500; i++)
		jcheck_push_key(&jc, "level");
	ck_assert_uint_lt(jc.len, sizeof jc.path);
	ck_assert_uint_eq(strlen(jc.path), jc.len);
	jcheck_fail(&jc, "deep");
	ck_assert_uint_eq(err.count, 1);
	ck_assert_int_eq(strncmp(err.msgs[0], "f.json: top.level.level.", 24), 0);
	jcheck_pop(&jc, first);
	ck_assert_str_eq(jc.path, "");
}
END_TEST

/* ---- unknown keys ---- */

static const char *const allowed[] = {"status", "headers", "body", "delay", NULL};

static const struct {
	const char *key, *want;
} unknown[] = {
	{"staus", "f.json: rules[0].staus: unknown key (did you mean \"status\"?)"},
	{"Status", "f.json: rules[0].Status: unknown key (did you mean \"status\"?)"},
	{"header", "f.json: rules[0].header: unknown key (did you mean \"headers\"?)"},
	{"dealy", "f.json: rules[0].dealy: unknown key (did you mean \"delay\"?)"},
	{"bdy", "f.json: rules[0].bdy: unknown key (did you mean \"body\"?)"},
	{"fault", "f.json: rules[0].fault: unknown key"},
	{"statuses_x", "f.json: rules[0].statuses_x: unknown key"},
};

START_TEST(test_unknown_key_did_you_mean)
{
	json_t *obj = json_pack("{s:i, s:i}", unknown[_i].key, 1, "status", 200);
	jcheck_push_key(&jc, "rules");
	jcheck_push_index(&jc, 0);
	ck_assert_uint_eq(jcheck_keys(&jc, obj, allowed), 1);
	expect_one(unknown[_i].want);
	ck_assert_str_eq(jc.path, "rules[0]");
	json_decref(obj);
}
END_TEST

START_TEST(test_every_unknown_key_is_reported)
{
	json_t *obj = json_pack("{s:i, s:i, s:i, s:i}", "a", 1, "bodyy", 2, "status", 3, "zz", 4);
	ck_assert_uint_eq(jcheck_keys(&jc, obj, allowed), 3);
	ck_assert_uint_eq(err.count, 3);
	json_decref(obj);
}
END_TEST

/* ---- typed reads: 1 valid, 0 absent (out untouched), -1 invalid ---- */

START_TEST(test_int)
{
	long long v = -99;
	ck_assert_int_eq(jcheck_int(&jc, doc, "missing", 0, 10, &v), 0);
	ck_assert_int_eq(v, -99);
	ck_assert_int_eq(jcheck_int(&jc, doc, "i", 0, 10, &v), 1);
	ck_assert_int_eq(v, 7);
	ck_assert_uint_eq(err.count, 0);
	ck_assert_int_eq(jcheck_int(&jc, doc, "i", 8, 10, &v), -1);
	ck_assert_int_eq(v, 7);
	expect_one("f.json: i: expected an integer 8..10");
	ck_assert_int_eq(jcheck_int(&jc, doc, "s", 0, 10, &v), -1);
	ck_assert_int_eq(jcheck_int(&jc, doc, "r", 0, 10, &v), -1);
	ck_assert_int_eq(jcheck_int(&jc, doc, "neg", -3, -3, &v), 1);
	ck_assert_int_eq(v, -3);
	ck_assert_uint_eq(err.count, 3);
	ck_assert_str_eq(err.msgs[1], "f.json: s: expected an integer 0..10");
}
END_TEST

START_TEST(test_bool)
{
	bool v = false;
	ck_assert_int_eq(jcheck_bool(&jc, doc, "missing", &v), 0);
	ck_assert_int_eq(jcheck_bool(&jc, doc, "b", &v), 1);
	ck_assert(v);
	ck_assert_int_eq(jcheck_bool(&jc, doc, "i", &v), -1);
	expect_one("f.json: i: expected true or false, got an integer");
}
END_TEST

START_TEST(test_string_keeps_nul_bytes)
{
	char *s = NULL;
	size_t len = 0;
	ck_assert_int_eq(jcheck_string(&jc, doc, "missing", &s, &len), 0);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(jcheck_string(&jc, doc, "nul", &s, &len), 1);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(s, "a\0b", 3), 0);
	free(s);
	ck_assert_int_eq(jcheck_string(&jc, doc, "s", &s, NULL), 1);
	ck_assert_str_eq(s, "text");
	free(s);
	ck_assert_int_eq(jcheck_string(&jc, doc, "a", &s, NULL), -1);
	expect_one("f.json: a: expected a string, got an array");
}
END_TEST

START_TEST(test_object_and_array)
{
	ck_assert_ptr_eq(jcheck_object(&jc, doc, "o"), json_object_get(doc, "o"));
	ck_assert_ptr_eq(jcheck_array(&jc, doc, "a"), json_object_get(doc, "a"));
	ck_assert_ptr_null(jcheck_object(&jc, doc, "missing"));
	ck_assert_uint_eq(err.count, 0);
	ck_assert_ptr_null(jcheck_object(&jc, doc, "a"));
	ck_assert_ptr_null(jcheck_array(&jc, doc, "n"));
	ck_assert_uint_eq(err.count, 2);
	ck_assert_str_eq(err.msgs[0], "f.json: a: expected an object, got an array");
	ck_assert_str_eq(err.msgs[1], "f.json: n: expected an array, got null");
}
END_TEST

START_TEST(test_type_names)
{
	static const struct {
		const char *key, *name;
	} names[] = {
		{"o", "an object"},
		{"a", "an array"},
		{"s", "a string"},
		{"i", "an integer"},
		{"r", "a number with a fraction"},
		{"b", "a boolean"},
		{"n", "null"},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		ck_assert_str_eq(jcheck_type_name(json_object_get(doc, names[i].key)),
				 names[i].name);
}
END_TEST

/* ---- durations and sizes ---- */

static const struct {
	const char *json; /* the value of "v" */
	int rc;
	uint64_t us;	 /* rc 1 */
	const char *msg; /* rc -1: "f.json: v: " + msg */
} durations[] = {
	{"150", 1, 150000, NULL},
	{"0", 1, 0, NULL},
	{"86400000", 1, 86400000000ULL, NULL},
	{"\"150ms\"", 1, 150000, NULL},
	{"\"2.5s\"", 1, 2500000, NULL},
	{"\"1m\"", 1, 60000000, NULL},
	{"-1", -1, 0, "duration out of range (0 to 24h)"},
	{"86400001", -1, 0, "duration out of range (0 to 24h)"},
	{"\"5\"", -1, 0, "a duration string needs a unit (us, ms, s, m or h)"},
	{"\"5 parsecs\"", -1, 0, "unknown duration unit (use us, ms, s, m or h)"},
	{"\"25h\"", -1, 0, "duration too long (at most 24h)"},
	{"\"soon\"", -1, 0, "expected a duration such as \"150ms\", \"2s\" or \"1m\""},
	{"1.5", -1, 0, "expected a duration such as \"150ms\" or an integer of milliseconds"},
	{"true", -1, 0, "expected a duration such as \"150ms\" or an integer of milliseconds"},
};

START_TEST(test_duration)
{
	char text[128];
	snprintf(text, sizeof text, "{\"v\": %s}", durations[_i].json);
	json_t *obj = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(obj);
	uint64_t us = 777;
	int rc = jcheck_duration(&jc, obj, "v", &us);
	ck_assert_msg(rc == durations[_i].rc, "%s: rc %d", durations[_i].json, rc);
	if (rc == 1) {
		ck_assert_uint_eq(us, durations[_i].us);
		ck_assert_uint_eq(err.count, 0);
	} else {
		char want[256];
		snprintf(want, sizeof want, "f.json: v: %s", durations[_i].msg);
		expect_one(want);
	}
	json_decref(obj);
}
END_TEST

static const struct {
	const char *json;
	int rc;
	uint64_t n;
	const char *msg;
} sizes[] = {
	{"512", 1, 512, NULL},
	{"0", 1, 0, NULL},
	{"\"64KiB\"", 1, 65536, NULL},
	{"\"1KB\"", 1, 1000, NULL},
	{"\"100000B\"", 1, 100000, NULL},
	{"100001", -1, 0, "size 100001 is above the limit of 100000 bytes"},
	{"\"1MiB\"", -1, 0, "size 1048576 is above the limit of 100000 bytes"},
	{"-1", -1, 0, "expected a size: an integer of bytes or a string such as \"64KiB\""},
	{"1.5", -1, 0, "expected a size: an integer of bytes or a string such as \"64KiB\""},
	{"\"1.5KiB\"", -1, 0, "expected a size such as 512, \"64KiB\" or \"1MB\""},
	{"\"12 bananas\"", -1, 0, "unknown size unit (use B, KB, MB, GB, KiB, MiB or GiB)"},
};

START_TEST(test_size)
{
	char text[128];
	snprintf(text, sizeof text, "{\"v\": %s}", sizes[_i].json);
	json_t *obj = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(obj);
	uint64_t n = 777;
	int rc = jcheck_size(&jc, obj, "v", 100000, &n);
	ck_assert_msg(rc == sizes[_i].rc, "%s: rc %d", sizes[_i].json, rc);
	if (rc == 1) {
		ck_assert_uint_eq(n, sizes[_i].n);
		ck_assert_uint_eq(err.count, 0);
	} else {
		ck_assert_uint_eq(n, 777);
		char want[256];
		snprintf(want, sizeof want, "f.json: v: %s", sizes[_i].msg);
		expect_one(want);
	}
	json_decref(obj);
}
END_TEST

/* ---- through the loader: paths into rules, line and column ---- */

static bool has_msg(const struct upsim_err *e, const char *want)
{
	for (size_t i = 0; i < e->count; i++)
		if (strcmp(e->msgs[i], want) == 0)
			return true;
	return false;
}

static void dump(const struct upsim_err *e)
{
	for (size_t i = 0; i < e->count; i++)
		fprintf(stderr, "  %s\n", e->msgs[i]);
}

START_TEST(test_loader_reports_every_error_by_path)
{
	static const char json[] = "{\"upsim\": 1, \"rules\": ["
				   "{\"respond\": {\"status\": 200}},"
				   "{\"respond\": {\"staus\": 200}},"
				   "{\"choose\": [{\"status\": 200}, {\"delay\": \"soon\"}]}"
				   "]}";
	struct upsim_err e = {0};
	struct scenario *sc = scenario_load_buffer("t.json", json, sizeof json - 1, &e);
	ck_assert_ptr_null(sc);
	bool ok = has_msg(&e,
			  "t.json: rules[1].respond.staus: unknown key (did you mean \"status\"?)")
		  && has_msg(&e, "t.json: rules[2].choose[1].delay: "
				 "expected a duration such as \"150ms\", \"2s\" or \"1m\"");
	if (!ok)
		dump(&e);
	ck_assert_msg(ok, "messages by path missing (see stderr)");
	ck_assert_uint_eq(e.count, 2);
	err_clear(&e);
}
END_TEST

static const struct {
	const char *json, *want_prefix;
} syntax[] = {
	{"{\"upsim\": 1,\n \"rules\": [\n  {\"respond\": }\n ]}", "t.json:3:15: invalid JSON: "},
	{"{\"upsim\": 1, \"upsim\": 1}", "t.json:1:20: invalid JSON: duplicate object key"},
	{"{\n\"a\": 1,\n", "t.json:3:0: invalid JSON: "},
};

START_TEST(test_loader_syntax_error_has_line_and_column)
{
	struct upsim_err e = {0};
	struct scenario *sc = scenario_load_buffer("t.json", syntax[_i].json,
						   strlen(syntax[_i].json), &e);
	ck_assert_ptr_null(sc);
	ck_assert_uint_eq(e.count, 1);
	size_t n = strlen(syntax[_i].want_prefix);
	ck_assert_msg(strncmp(e.msgs[0], syntax[_i].want_prefix, n) == 0,
		      "got \"%s\", expected it to start \"%s\"", e.msgs[0], syntax[_i].want_prefix);
	err_clear(&e);
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *jcheck_suite(void)
{
	Suite *s = suite_create("jcheck");
	TCase *tc = tcase_create("paths");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_path_of_nested_keys_and_indexes);
	tcase_add_test(tc, test_key_at_the_root_has_no_dot);
	tcase_add_test(tc, test_deep_path_is_truncated);
	tcase_add_loop_test(tc, test_unknown_key_did_you_mean, 0, COUNT(unknown));
	tcase_add_test(tc, test_every_unknown_key_is_reported);
	suite_add_tcase(s, tc);
	tc = tcase_create("types");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_int);
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_string_keeps_nul_bytes);
	tcase_add_test(tc, test_object_and_array);
	tcase_add_test(tc, test_type_names);
	tcase_add_loop_test(tc, test_duration, 0, COUNT(durations));
	tcase_add_loop_test(tc, test_size, 0, COUNT(sizes));
	suite_add_tcase(s, tc);
	tc = tcase_create("loader");
	tcase_add_test(tc, test_loader_reports_every_error_by_path);
	tcase_add_loop_test(tc, test_loader_syntax_error_has_line_and_column, 0, COUNT(syntax));
	suite_add_tcase(s, tc);
	return s;
}

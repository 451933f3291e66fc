/* engine/baseline: answers into a scenario (upsim record) — grouping by
 * method and path, secrets, inline or file bodies, the layout, and a
 * written file that loads back with the same bytes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "engine/baseline.h"
#include "scenario/model.h"
#include "suites.h"

static struct baseline *fresh(size_t inline_max, bool keep_secrets)
{
	struct baseline_opts o = {
		.upstream = "http://orders:8080",
		.inline_max = inline_max,
		.keep_secrets = keep_secrets,
	};
	return baseline_new(&o);
}

static const struct header plain[] = {{"Content-Type", "text/plain"}};

/* The rule at index i of doc, and its respond object. */
static json_t *rule_at(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(doc, "rules"), i);
}

static json_t *respond_at(json_t *doc, size_t i)
{
	return json_object_get(rule_at(doc, i), "respond");
}

START_TEST(test_first_answer_per_method_and_path)
{
	struct baseline *b = fresh(4096, false);
	ck_assert_int_eq(baseline_add(b, "GET", "/a", 200, plain, 1, "one", 3), 1);
	ck_assert_int_eq(baseline_add(b, "GET", "/a", 500, plain, 1, "two", 3), 0);
	ck_assert_int_eq(baseline_add(b, "HEAD", "/a", 200, plain, 1, "", 0), 1);
	ck_assert_int_eq(baseline_add(b, "GET", "/b", 404, NULL, 0, "", 0), 1);
	ck_assert_int_eq(baseline_add(b, "GET", "*", 200, NULL, 0, "", 0), -1);
	ck_assert_int_eq(baseline_add(b, "GET", "/bad\xff", 200, NULL, 0, "", 0), -1);
	struct baseline_counts n = baseline_counts(b);
	ck_assert_uint_eq(n.rules, 3);
	ck_assert_uint_eq(n.answers, 6);
	ck_assert_uint_eq(n.repeats, 1);
	ck_assert_uint_eq(n.unusable, 2);
	json_t *doc = baseline_document(b, "x.bodies");
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "rules")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(rule_at(doc, 0), "name")), "GET /a");
	ck_assert_int_eq(json_integer_value(json_object_get(respond_at(doc, 0), "status")), 200);
	ck_assert_str_eq(json_string_value(json_object_get(respond_at(doc, 0), "body")), "one");
	json_t *match = json_object_get(rule_at(doc, 1), "match");
	ck_assert_str_eq(json_string_value(json_object_get(match, "method")), "HEAD");
	ck_assert_str_eq(json_string_value(json_object_get(match, "path")), "/a");
	/* An empty body is written: the defaults' body is not the answer. */
	ck_assert_str_eq(json_string_value(json_object_get(respond_at(doc, 2), "body")), "");
	json_decref(doc);
	baseline_free(b);
}
END_TEST

/* A path with '*' is a glob to the matcher: it goes last. */
START_TEST(test_glob_paths_go_last)
{
	struct baseline *b = fresh(4096, false);
	baseline_add(b, "GET", "/a*b", 200, NULL, 0, "", 0);
	baseline_add(b, "GET", "/axb", 200, NULL, 0, "", 0);
	json_t *doc = baseline_document(b, "x.bodies");
	ck_assert_str_eq(json_string_value(json_object_get(rule_at(doc, 0), "name")), "GET /axb");
	ck_assert_str_eq(json_string_value(json_object_get(rule_at(doc, 1), "name")), "GET /a*b");
	json_decref(doc);
	baseline_free(b);
}
END_TEST

START_TEST(test_secrets_and_framing_dropped)
{
	static const struct header h[] = {
		{"Content-Type", "text/html"}, {"Set-Cookie", "sid=secret"}, {"set-cookie", "b=2"},
		{"Content-Length", "5"},       {"X-Bad", "latin1 \xe9"},     {"X-Trace", "abc"},
	};
	for (int keep = 0; keep < 2; keep++) {
		struct baseline *b = fresh(4096, keep);
		baseline_add(b, "GET", "/", 200, h, 6, "hello", 5);
		json_t *doc = baseline_document(b, "x.bodies");
		char *text = json_dumps(json_object_get(respond_at(doc, 0), "headers"), 0);
		ck_assert_str_eq(text,
				 keep ? "[[\"Content-Type\", \"text/html\"], [\"Set-Cookie\", "
					"\"sid=secret\"], [\"set-cookie\", \"b=2\"], "
					"[\"X-Trace\", \"abc\"]]"
				      : "[[\"Content-Type\", \"text/html\"], [\"X-Trace\", "
					"\"abc\"]]");
		ck_assert_uint_eq(baseline_counts(b).secrets, keep ? 0 : 2);
		ck_assert_uint_eq(baseline_counts(b).bad_headers, 2);
		free(text);
		json_decref(doc);
		baseline_free(b);
	}
}
END_TEST

/* Inline when UTF-8 text of at most inline_max bytes; else a file, .txt
 * for text and .bin for the rest. */
START_TEST(test_inline_or_file)
{
	static const struct {
		const char *body;
		size_t len;
		const char *file; /* NULL: inline */
	} cases[] = {
		{"12345678", 8, NULL},	       {"123456789", 9, "001.txt"},
		{"caf\xc3\xa9", 5, NULL},      {"caf\xe9", 4, "001.bin"},
		{"a\0b", 3, "001.bin"},	       {"", 0, NULL},
		{"\x89PNG\r\n", 6, "001.bin"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct baseline *b = fresh(8, false);
		baseline_add(b, "GET", "/x", 200, NULL, 0, cases[i].body, cases[i].len);
		char name[32];
		const char *got = baseline_body_name(b, 0, name, sizeof name);
		json_t *doc = baseline_document(b, "out.json.bodies");
		json_t *r = respond_at(doc, 0);
		if (cases[i].file == NULL) {
			ck_assert_msg(got == NULL, "case %zu should be inline", i);
			ck_assert_uint_eq(json_string_length(json_object_get(r, "body")),
					  cases[i].len);
			ck_assert_ptr_null(json_object_get(r, "body_file"));
		} else {
			ck_assert_msg(got != NULL, "case %zu should be a file", i);
			ck_assert_str_eq(got, cases[i].file);
			char *want = xasprintf("out.json.bodies/%s", cases[i].file);
			ck_assert_str_eq(json_string_value(json_object_get(r, "body_file")), want);
			free(want);
			ck_assert_ptr_null(json_object_get(r, "body"));
		}
		ck_assert_uint_eq(baseline_counts(b).body_files, cases[i].file ? 1 : 0);
		json_decref(doc);
		baseline_free(b);
	}
}
END_TEST

/* 204 and 304 carry no body: none is written, not even an empty one. */
START_TEST(test_no_body_status)
{
	struct baseline *b = fresh(4096, false);
	baseline_add(b, "GET", "/gone", 204, NULL, 0, "ignored", 7);
	json_t *doc = baseline_document(b, "x.bodies");
	ck_assert_ptr_null(json_object_get(respond_at(doc, 0), "body"));
	ck_assert_ptr_null(json_object_get(respond_at(doc, 0), "body_file"));
	json_decref(doc);
	baseline_free(b);
}
END_TEST

/* The layout: format version first, a rule per line, keys in the order a
 * reader expects them. */
START_TEST(test_text_layout)
{
	struct baseline *b = fresh(4096, false);
	baseline_add(b, "GET", "/a", 201, plain, 1, "ok\n", 3);
	json_t *doc = baseline_document(b, "x.bodies");
	char *text = baseline_text(doc);
	const char *want =
		"{\n"
		"  \"upsim\": 1,\n"
		"  \"name\": \"recorded from http://orders:8080\",\n"
		"  \"description\": \"What http://orders:8080 answered, recorded by upsim record: "
		"one rule per method and path, from the first answer seen for each (later ones "
		"were not kept). Anything else gets the defaults' 404.\",\n"
		"  \"defaults\": {\"status\": 404, \"headers\": {\"Content-Type\": "
		"\"text/plain\"}, "
		"\"body\": \"upsim record saw no request for this method and path\\n\"},\n"
		"  \"rules\": [\n"
		"    {\"name\": \"GET /a\", \"match\": {\"method\": \"GET\", \"path\": \"/a\"}, "
		"\"respond\": {\"status\": 201, \"headers\": [[\"Content-Type\", \"text/plain\"]], "
		"\"body\": \"ok\\n\"}}\n"
		"  ]\n"
		"}\n";
	ck_assert_str_eq(text, want);
	free(text);
	json_decref(doc);
	baseline_free(b);
}
END_TEST

/* Written, it loads as a scenario whose bodies are the bytes given. */
START_TEST(test_written_file_loads_with_the_same_bytes)
{
	char dir[] = "/tmp/upsim-baseline-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *out = xasprintf("%s/rec.json", dir);
	static const char bin[] = "\x00\x01\x02\xff\xfe";
	struct baseline *b = fresh(4, false);
	baseline_add(b, "GET", "/bin", 200, NULL, 0, bin, sizeof bin - 1);
	baseline_add(b, "GET", "/long", 200, plain, 1, "longer than four\n", 17);
	baseline_add(b, "GET", "/short", 200, plain, 1, "ok\n", 3);
	char why[256];
	ck_assert_int_eq(baseline_write(b, out, why, sizeof why), 0);
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file(out, &err);
	ck_assert_msg(sc != NULL, "%s", err.count ? err.msgs[0] : "");
	ck_assert_uint_eq(sc->n_rules, 3);
	ck_assert_uint_eq(sc->rules[0].actions[0].body_len, sizeof bin - 1);
	ck_assert_mem_eq(sc->rules[0].actions[0].body, bin, sizeof bin - 1);
	ck_assert_mem_eq(sc->rules[1].actions[0].body, "longer than four\n", 17);
	ck_assert_mem_eq(sc->rules[2].actions[0].body, "ok\n", 3);
	ck_assert_int_eq(sc->defaults.status, 404);
	scenario_unref(sc);
	char *f1 = xasprintf("%s/rec.json.bodies/001.bin", dir);
	char *f2 = xasprintf("%s/rec.json.bodies/002.txt", dir);
	char *bodies = xasprintf("%s/rec.json.bodies", dir);
	ck_assert_int_eq(unlink(f1), 0);
	ck_assert_int_eq(unlink(f2), 0);
	ck_assert_int_eq(rmdir(bodies), 0);
	ck_assert_int_eq(unlink(out), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	free(f1);
	free(f2);
	free(bodies);
	free(out);
	baseline_free(b);
}
END_TEST

START_TEST(test_write_failure_is_said)
{
	struct baseline *b = fresh(4096, false);
	baseline_add(b, "GET", "/", 200, NULL, 0, "", 0);
	char why[256] = "";
	ck_assert_int_eq(baseline_write(b, "/nonexistent-dir/rec.json", why, sizeof why), -1);
	ck_assert_str_eq(why, "/nonexistent-dir/rec.json.tmp: No such file or directory");
	baseline_free(b);
}
END_TEST

Suite *baseline_suite(void)
{
	Suite *s = suite_create("baseline");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, test_first_answer_per_method_and_path);
	tcase_add_test(tc, test_glob_paths_go_last);
	tcase_add_test(tc, test_secrets_and_framing_dropped);
	tcase_add_test(tc, test_inline_or_file);
	tcase_add_test(tc, test_no_body_status);
	suite_add_tcase(s, tc);
	tc = tcase_create("output");
	tcase_add_test(tc, test_text_layout);
	tcase_add_test(tc, test_written_file_loads_with_the_same_bytes);
	tcase_add_test(tc, test_write_failure_is_said);
	suite_add_tcase(s, tc);
	return s;
}

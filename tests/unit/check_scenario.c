/* Scenario loading, data-driven: every tests/data/valid/NAME.json and
 * scenarios/NAME.json must load;
 * every tests/data/invalid/NAME.json must fail with exactly the messages in
 * NAME.err, one per line, FILE standing for the path of the input. */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "scenario/expect.h"
#include "scenario/fault.h"
#include "scenario/model.h"
#include "suites.h"

static glob_t valid_files, invalid_files;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	char *buf = xmalloc(1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Expected messages: the .err file with FILE replaced by the input path. */
static char *expected_errors(const char *json_path)
{
	char *err_path = xstrdup(json_path);
	strcpy(err_path + strlen(err_path) - strlen(".json"), ".err");
	char *raw = slurp(err_path);
	free(err_path);
	size_t cap = strlen(raw) * 4 + 1024, n = 0;
	char *out = xmalloc(cap);
	for (const char *p = raw; *p;) {
		if (strncmp(p, "FILE", 4) == 0) {
			n += (size_t)snprintf(out + n, cap - n, "%s", json_path);
			p += 4;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	free(raw);
	return out;
}

static char *joined(const struct upsim_err *err)
{
	size_t len = 1;
	for (size_t i = 0; i < err->count; i++)
		len += strlen(err->msgs[i]) + 1;
	char *s = xcalloc(1, len);
	for (size_t i = 0; i < err->count; i++) {
		strcat(s, err->msgs[i]);
		strcat(s, "\n");
	}
	return s;
}

START_TEST(test_valid_file)
{
	const char *path = valid_files.gl_pathv[_i];
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file(path, &err);
	char *got = joined(&err);
	ck_assert_msg(sc != NULL, "%s should load:\n%s", path, got);
	free(got);
	scenario_unref(sc);
	err_clear(&err);
}
END_TEST

START_TEST(test_invalid_file)
{
	const char *path = invalid_files.gl_pathv[_i];
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file(path, &err);
	ck_assert_msg(sc == NULL, "%s should be refused", path);
	char *want = expected_errors(path);
	char *got = joined(&err);
	ck_assert_msg(strcmp(want, got) == 0, "%s\n--- expected:\n%s--- got:\n%s", path, want, got);
	free(want);
	free(got);
	err_clear(&err);
}
END_TEST

static struct scenario *load(const char *json)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_buffer("t.json", json, strlen(json), &err);
	for (size_t i = 0; i < err.count; i++)
		fprintf(stderr, "%s\n", err.msgs[i]);
	err_clear(&err);
	return sc;
}

START_TEST(test_defaults_fill_absent_fields)
{
	struct scenario *sc = load("{\"upsim\":1,\"defaults\":{\"status\":201,\"headers\":{\"A\":"
				   "\"1\"},\"body\":\"d\"},"
				   "\"rules\":[{\"sequence\":[{},{\"status\":503},{\"headers\":[["
				   "\"b\",\"2\"],[\"B\",\"3\"]]},"
				   "{\"body_size\":\"1KiB\",\"chunked\":true}]}]}");
	ck_assert_ptr_nonnull(sc);
	const struct rule *r = &sc->rules[0];
	struct action a;
	scenario_resolve(sc, &r->actions[0], &a);
	ck_assert_int_eq(a.status, 201);
	ck_assert_uint_eq(a.n_headers, 1);
	ck_assert_str_eq(a.body, "d");
	scenario_resolve(sc, &r->actions[1], &a);
	ck_assert_int_eq(a.status, 503);
	ck_assert_str_eq(a.headers[0].name, "A");
	scenario_resolve(sc, &r->actions[2], &a);
	/* A list keeps duplicates, order and casing; it replaces the defaults. */
	ck_assert_uint_eq(a.n_headers, 2);
	ck_assert_str_eq(a.headers[0].name, "b");
	ck_assert_str_eq(a.headers[1].name, "B");
	ck_assert_str_eq(a.headers[1].value, "3");
	scenario_resolve(sc, &r->actions[3], &a);
	ck_assert(a.body_generated);
	ck_assert(a.chunked);
	ck_assert_uint_eq(a.body_len, 1024);
	scenario_unref(sc);
}
END_TEST

/* remove_headers is inherited from the defaults like any field, and an
 * action's own list (even empty) replaces it. */
START_TEST(test_remove_headers_inherited)
{
	struct scenario *sc = load(
		"{\"upsim\":1,\"upstream\":\"http://127.0.0.1:9\","
		"\"defaults\":{\"forward\":true,\"remove_headers\":[\"Server\",\"ETag\"]},"
		"\"rules\":[{\"sequence\":[{},{\"remove_headers\":[]}]}]}");
	ck_assert_ptr_nonnull(sc);
	const struct rule *r = &sc->rules[0];
	struct action a;
	scenario_resolve(sc, &r->actions[0], &a);
	ck_assert_uint_eq(a.n_remove_headers, 2);
	ck_assert_str_eq(a.remove_headers[1], "ETag");
	scenario_resolve(sc, &r->actions[1], &a);
	ck_assert_uint_eq(a.n_remove_headers, 0);
	scenario_unref(sc);
}
END_TEST

START_TEST(test_builtin_defaults)
{
	struct scenario *sc = load("{\"upsim\":1}");
	ck_assert_ptr_nonnull(sc);
	ck_assert_int_eq(sc->defaults.status, 200);
	ck_assert_uint_eq(sc->defaults.body_len, 0);
	ck_assert_uint_eq(sc->n_rules, 0);
	ck_assert_str_eq(sc->name, "unnamed");
	scenario_unref(sc);
}
END_TEST

START_TEST(test_body_with_nul_bytes)
{
	struct scenario *sc = load("{\"upsim\":1,\"defaults\":{\"body\":\"a\\u0000b\"}}");
	ck_assert_ptr_nonnull(sc);
	ck_assert_uint_eq(sc->defaults.body_len, 3);
	ck_assert_int_eq(sc->defaults.body[1], '\0');
	scenario_unref(sc);
}
END_TEST

/* body_file: the bytes of a file beside the scenario, NUL and all, read
 * relative to the scenario's folder whatever the working directory. */
START_TEST(test_body_file_bytes)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file("tests/data/valid/body_file.json", &err);
	ck_assert_ptr_nonnull(sc);
	static const char blob[] = "GIF89a\x00\x01\xff\xfe\r\n\x00"
				   "end";
	const struct action *a = &sc->rules[0].actions[0];
	ck_assert(a->set & ACTION_BODY);
	ck_assert(!a->body_generated);
	ck_assert_uint_eq(a->body_len, sizeof blob - 1);
	ck_assert_mem_eq(a->body, blob, sizeof blob - 1);
	struct action r;
	scenario_resolve(sc, &sc->rules[1].actions[0], &r);
	ck_assert_str_eq(r.body, "inline\n");
	ck_assert_uint_eq(sc->defaults.body_len, strlen("hello from a file\n"));
	ck_assert_mem_eq(sc->defaults.body, "hello from a file\n", sc->defaults.body_len);
	scenario_unref(sc);
	err_clear(&err);
}
END_TEST

/* Neither a request header's action nor an uploaded scenario has a
 * folder: body_file there would let a client make upsim read files. */
START_TEST(test_body_file_needs_a_file)
{
	struct upsim_err err = {0};
	const char *doc = "{\"upsim\":1,\"defaults\":{\"body_file\":\"x.bin\"}}";
	ck_assert_ptr_null(scenario_load_buffer("<admin>", doc, strlen(doc), &err));
	ck_assert_uint_eq(err.count, 1);
	ck_assert_str_eq(err.msgs[0], "<admin>: defaults.body_file: body_file is read from a "
				      "scenario file's folder: not allowed here");
	err_clear(&err);
	struct action a;
	ck_assert_int_eq(scenario_parse_action("X-Upsim-Fault", "{\"body_file\": \"/etc/hosts\"}",
					       &a, &err),
			 -1);
	ck_assert_uint_eq(err.count, 1);
	ck_assert_ptr_nonnull(strstr(err.msgs[0], "not allowed here"));
	err_clear(&err);
}
END_TEST

/* A body_file over SCENARIO_MAX_BODY_FILE is refused (a sparse file: no
 * 64 MiB written). */
START_TEST(test_body_file_size_cap)
{
	char dir[] = "/tmp/upsim-body-file-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *body = xasprintf("%s/big.bin", dir), *file = xasprintf("%s/s.json", dir);
	FILE *f = fopen(body, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ftruncate(fileno(f), (off_t)SCENARIO_MAX_BODY_FILE + 1), 0);
	fclose(f);
	f = fopen(file, "wb");
	fputs("{\"upsim\": 1, \"defaults\": {\"body_file\": \"big.bin\"}}", f);
	fclose(f);
	struct upsim_err err = {0};
	ck_assert_ptr_null(scenario_load_file(file, &err));
	ck_assert_uint_eq(err.count, 1);
	ck_assert_ptr_nonnull(strstr(err.msgs[0], "defaults.body_file: \"big.bin\" is larger than "
						  "67108864 bytes"));
	err_clear(&err);
	unlink(body);
	unlink(file);
	rmdir(dir);
	free(body);
	free(file);
}
END_TEST

START_TEST(test_when_full_forms)
{
	static const struct {
		const char *form;
		enum fault_kind fault;
		int status;
	} cases[] = {
		{"\"503\"", FAULT_NONE, 503},		{"\"reset\"", FAULT_RESET, 0},
		{"\"close\"", FAULT_CLOSE, 0},		{"\"hang\"", FAULT_HANG, 0},
		{"{\"status\": 429}", FAULT_NONE, 429},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char json[256];
		snprintf(json, sizeof json,
			 "{\"upsim\":1,\"overload\":{\"workers\":1,"
			 "\"service_time\":\"1ms\",\"when_full\":%s}}",
			 cases[i].form);
		struct scenario *sc = load(json);
		ck_assert_ptr_nonnull(sc);
		const struct action *a = &sc->overload.when_full;
		ck_assert_int_eq(a->fault.kind, cases[i].fault);
		if (cases[i].status)
			ck_assert_int_eq(a->status, cases[i].status);
		scenario_unref(sc);
	}
}
END_TEST

/* Every shipped scenario has its section in the library's docs. */
START_TEST(test_library_documents_every_scenario)
{
	FILE *f = fopen("docs/scenario-library.md", "r");
	ck_assert_ptr_nonnull(f);
	static char doc[128 * 1024];
	size_t n = fread(doc, 1, sizeof doc - 1, f);
	fclose(f);
	doc[n] = '\0';
	glob_t files;
	ck_assert_int_eq(glob("scenarios/*.json", 0, NULL, &files), 0);
	for (size_t i = 0; i < files.gl_pathc; i++) {
		char heading[256];
		snprintf(heading, sizeof heading, "\n## %s\n",
			 files.gl_pathv[i] + strlen("scenarios/"));
		ck_assert_msg(strstr(doc, heading) != NULL,
			      "docs/scenario-library.md has no section for %s", files.gl_pathv[i]);
	}
	globfree(&files);
}
END_TEST

/* Every complete scenario in the docs (a ```json block holding a whole
 * document, "upsim" key and all) must load: the reference stays true. */
static const char *const doc_files[] = {"docs/scenarios.md", "README.md"};

START_TEST(test_doc_examples_load)
{
	FILE *f = fopen(doc_files[_i], "r");
	ck_assert_ptr_nonnull(f);
	static char doc[256 * 1024];
	size_t n = fread(doc, 1, sizeof doc - 1, f);
	fclose(f);
	doc[n] = '\0';
	int checked = 0;
	for (char *p = doc; (p = strstr(p, "```json\n")) != NULL;) {
		char *start = p + 8, *end = strstr(start, "```");
		ck_assert_ptr_nonnull(end);
		*end = '\0';
		/* Fleet files ("upstreams") are checked by the fleet tests. */
		if (start[0] == '{' && strstr(start, "\"upsim\": 1") != NULL
		    && strstr(start, "\"upstreams\"") == NULL) {
			struct scenario *sc = load(start);
			ck_assert_msg(sc != NULL, "docs example does not load:\n%s", start);
			scenario_unref(sc);
			checked++;
		}
		p = end + 3;
	}
	ck_assert_int_ge(checked, 1);
}
END_TEST

/* The examples `upsim faults` prints must load as they are shown. */
static void assert_example_loads(const char *example)
{
	char doc[1024];
	if (example[0] == '{')
		snprintf(doc, sizeof doc, "{\"upsim\": 1, \"defaults\": %s}", example);
	else
		snprintf(doc, sizeof doc, "{\"upsim\": 1, %s}", example);
	struct scenario *sc = load(doc);
	ck_assert_msg(sc != NULL, "catalogue example does not load: %s", example);
	scenario_unref(sc);
}

START_TEST(test_catalogue_examples_load)
{
	for (size_t i = 0; i < fault_table_size; i++)
		assert_example_loads(fault_table[i].example);
	for (size_t i = 0; i < catalogue_more_size; i++)
		assert_example_loads(catalogue_more[i].example);
}
END_TEST

START_TEST(test_expect_probes_default_to_the_literal_path)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file("tests/data/valid/expect.json", &err);
	ck_assert_ptr_nonnull(sc);
	ck_assert_str_eq(sc->expect->probe.path, "/");
	ck_assert_str_eq(sc->rules[0].expect->probe.path, "/reset");
	ck_assert_uint_eq(sc->rules[0].expect->n_gateways, 2);
	const struct gateway_expect *g = &sc->rules[0].expect->gateways[0];
	ck_assert_str_eq(g->gateway, "nginx");
	ck_assert_int_eq(g->status, 502);
	ck_assert_str_eq(g->log, "reset by peer");
	ck_assert_int_eq(g->retried, 0);
	ck_assert_int_eq(sc->rules[0].expect->gateways[1].retried, -1);
	ck_assert_str_eq(sc->rules[1].expect->probe.path, "/api/orders");
	scenario_unref(sc);
	err_clear(&err);
}
END_TEST

START_TEST(test_reference_counting)
{
	struct scenario *sc = load("{\"upsim\":1}");
	ck_assert_ptr_eq(scenario_ref(sc), sc);
	scenario_unref(sc);
	ck_assert_uint_eq(sc->refs, 1);
	scenario_unref(sc);
	scenario_unref(NULL);
}
END_TEST

/* --forward-to takes the place of "upstream", present or not, before the
 * rules are checked against it; a bad URL is a load error. */
START_TEST(test_forward_to_replaces_the_upstream)
{
	static const char with[] = "{\"upsim\": 1, \"upstream\": \"http://127.0.0.1:9\","
				   " \"defaults\": {\"forward\": true}}";
	static const char without[] = "{\"upsim\": 1, \"defaults\": {\"forward\": true}}";
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_buffer_to("t.json", with, strlen(with),
						      "http://10.0.3.7:8080/", &err);
	ck_assert_ptr_nonnull(sc);
	ck_assert_str_eq(sc->upstream, "http://10.0.3.7:8080");
	ck_assert_str_eq(scenario_forward_url(sc, &sc->defaults), "http://10.0.3.7:8080");
	scenario_unref(sc);
	ck_assert_ptr_null(scenario_load_buffer("t.json", without, strlen(without), &err));
	err_clear(&err);
	sc = scenario_load_buffer_to("t.json", without, strlen(without), "http://[::1]:81", &err);
	ck_assert_ptr_nonnull(sc);
	ck_assert_str_eq(sc->upstream, "http://[::1]:81");
	scenario_unref(sc);
	ck_assert_ptr_null(
		scenario_load_buffer_to("t.json", with, strlen(with), "ftp://host:21", &err));
	ck_assert_uint_eq(err.count, 1);
	ck_assert_str_eq(err.msgs[0],
			 "t.json: --forward-to ftp://host:21: expected an http:// or https:// URL");
	err_clear(&err);
}
END_TEST

START_TEST(test_missing_file)
{
	struct upsim_err err = {0};
	ck_assert_ptr_null(scenario_load_file("tests/data/does-not-exist.json", &err));
	ck_assert_uint_eq(err.count, 1);
	ck_assert_str_eq(err.msgs[0], "tests/data/does-not-exist.json: No such file or directory");
	err_clear(&err);
}
END_TEST

/* forwarding.ca_file is read from the scenario file's folder, from the
 * working directory for a scenario from memory, and checked at load;
 * the drill's pass-through scenario keeps its own copy. */
START_TEST(test_ca_file_resolved)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file("tests/data/valid/forward_https.json", &err);
	ck_assert_ptr_nonnull(sc);
	ck_assert_str_eq(sc->forwarding.ca_file, "tests/data/valid/forward-ca.pem");
	struct scenario *p = scenario_pass_through(sc);
	ck_assert_str_eq(p->forwarding.ca_file, "tests/data/valid/forward-ca.pem");
	ck_assert_ptr_ne(p->forwarding.ca_file, sc->forwarding.ca_file);
	scenario_unref(sc);
	scenario_unref(p);
	sc = scenario_load_file("tests/schema/semantic/forward_ca_missing.json", &err);
	ck_assert_ptr_null(sc);
	ck_assert_uint_eq(err.count, 1);
	ck_assert_str_eq(err.msgs[0],
			 "tests/schema/semantic/forward_ca_missing.json: "
			 "forwarding.ca_file: cannot use "
			 "tests/schema/semantic/no-such-ca.pem: No such file or directory");
	err_clear(&err);
	static const char mem[] = "{\"upsim\": 1, \"forwarding\": {\"ca_file\": \"%s\"}}";
	char json[256];
	snprintf(json, sizeof json, mem, "tests/data/valid/forward-ca.pem");
	sc = load(json);
	ck_assert_ptr_nonnull(sc);
	ck_assert_str_eq(sc->forwarding.ca_file, "tests/data/valid/forward-ca.pem");
	scenario_unref(sc);
	snprintf(json, sizeof json, mem, "tests/data/valid/forward_https.json");
	ck_assert_ptr_null(scenario_load_buffer("t.json", json, strlen(json), &err));
	ck_assert_str_eq(err.msgs[0], "t.json: forwarding.ca_file: cannot use "
				      "tests/data/valid/forward_https.json: no PEM certificate "
				      "in it (-----BEGIN CERTIFICATE-----)");
	err_clear(&err);
	sc = load("{\"upsim\": 1}");
	ck_assert_ptr_null(sc->forwarding.ca_file);
	scenario_unref(sc);
}
END_TEST

Suite *scenario_suite(void)
{
	Suite *s = suite_create("scenario");
	glob("tests/data/valid/*.json", 0, NULL, &valid_files);
	glob("scenarios/*.json", GLOB_APPEND, NULL, &valid_files); /* shipped ones too */
	glob("tests/data/invalid/*.json", 0, NULL, &invalid_files);
	TCase *tc = tcase_create("data");
	tcase_add_loop_test(tc, test_valid_file, 0, (int)valid_files.gl_pathc);
	tcase_add_loop_test(tc, test_invalid_file, 0, (int)invalid_files.gl_pathc);
	suite_add_tcase(s, tc);
	tc = tcase_create("model");
	tcase_add_test(tc, test_defaults_fill_absent_fields);
	tcase_add_test(tc, test_when_full_forms);
	tcase_add_test(tc, test_library_documents_every_scenario);
	tcase_add_test(tc, test_builtin_defaults);
	tcase_add_test(tc, test_remove_headers_inherited);
	tcase_add_test(tc, test_body_with_nul_bytes);
	tcase_add_test(tc, test_body_file_bytes);
	tcase_add_test(tc, test_body_file_needs_a_file);
	tcase_add_test(tc, test_body_file_size_cap);
	tcase_add_test(tc, test_reference_counting);
	tcase_add_loop_test(tc, test_doc_examples_load, 0, 2);
	tcase_add_test(tc, test_catalogue_examples_load);
	tcase_add_test(tc, test_expect_probes_default_to_the_literal_path);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_ca_file_resolved);
	tcase_add_test(tc, test_forward_to_replaces_the_upstream);
	suite_add_tcase(s, tc);
	return s;
}

/* The fault table: a row per fault, rows that agree with themselves, and
 * for every row a wire test (tests/data/wire/faults.json, which
 * tests/integration/check_faults.c plays) and a docs entry
 * (docs/scenarios.md, section 8). A new fault without one of them fails
 * here, by name. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "scenario/fault.h"
#include "suites.h"

START_TEST(test_every_kind_has_its_row_in_enum_order)
{
	ck_assert_uint_eq(fault_table_size, FAULT_COUNT - 1);
	ck_assert_ptr_null(fault_by_kind(FAULT_NONE));
	for (size_t i = 0; i < fault_table_size; i++) {
		const struct fault_info *f = &fault_table[i];
		ck_assert_msg(f->kind == (enum fault_kind)(i + 1),
			      "row %zu (%s) is out of enum order", i, f->name);
		ck_assert_ptr_eq(fault_by_kind(f->kind), f);
		ck_assert_ptr_eq(fault_by_name(f->name), f);
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(fault_table[j].name, f->name);
	}
}
END_TEST

/* The flags say what the engine and the net layer rely on. */
START_TEST(test_rows_agree_with_themselves)
{
	for (size_t i = 0; i < fault_table_size; i++) {
		const struct fault_info *f = &fault_table[i];
		/* A request-stage fault sends no byte; a respond-stage one writes. */
		ck_assert_msg((f->stage == FAULT_STAGE_REQUEST) == (f->act != FAULT_ACT_WRITE),
			      "%s: stage and act disagree", f->name);
		if (f->flags & FAULT_NOT_HTTP)
			ck_assert_msg(f->act == FAULT_ACT_WRITE
					      && !(f->flags & FAULT_TOUCHES_HEADERS),
				      "%s: bytes not HTTP, yet no write or a header defect",
				      f->name);
		/* render.c generates the bytes of a seeded fault, and copies
		 * the bytes of every other not-HTTP one. */
		if (f->flags & FAULT_SEEDED)
			ck_assert_msg(f->flags & FAULT_NOT_HTTP, "%s: seeded but HTTP", f->name);
		else if (f->flags & FAULT_NOT_HTTP)
			ck_assert_msg(fault_takes(f, "bytes") || fault_takes(f, "text"),
				      "%s: not HTTP, not seeded, and no bytes of its own", f->name);
		ck_assert_msg((f->kinds != NULL) == fault_takes(f, "kind"),
			      "%s: a kind parameter without its values, or the reverse", f->name);
	}
}
END_TEST

/* Only close and reset end without a then: they end at once. */
START_TEST(test_then_belongs_to_every_fault_that_lasts)
{
	for (size_t i = 0; i < fault_table_size; i++) {
		const struct fault_info *f = &fault_table[i];
		bool at_once = f->act == FAULT_ACT_FIN || f->act == FAULT_ACT_RST;
		ck_assert_msg(fault_takes(f, "then") != at_once, "%s", f->name);
	}
}
END_TEST

/* Each row's example is an action the loader takes, of that fault. */
START_TEST(test_every_example_loads_as_its_fault)
{
	for (size_t i = 0; i < fault_table_size; i++) {
		const struct fault_info *f = &fault_table[i];
		struct upsim_err err = {0};
		struct action a;
		int rc = scenario_parse_action(f->name, f->example, &a, &err);
		ck_assert_msg(rc == 0, "%s: example refused: %s", f->name,
			      err.count ? err.msgs[0] : "?");
		ck_assert_int_eq(a.fault.kind, f->kind);
		scenario_action_clear(&a);
		err_clear(&err);
	}
}
END_TEST

/* A required parameter left out is named in the error. */
START_TEST(test_required_parameters_are_required)
{
	for (size_t i = 0; i < fault_table_size; i++) {
		const struct fault_info *f = &fault_table[i];
		for (const struct fault_param *p = f->params; p->key; p++) {
			if (p->missing == NULL)
				continue;
			char json[128], want[64];
			snprintf(json, sizeof json, "{\"fault\": \"%s\"}", f->name);
			snprintf(want, sizeof want, "missing \"%s\"", p->key);
			struct upsim_err err = {0};
			struct action a;
			ck_assert_int_eq(scenario_parse_action("t", json, &a, &err), -1);
			bool named = false;
			for (size_t e = 0; e < err.count; e++)
				named |= strstr(err.msgs[e], want) != NULL;
			ck_assert_msg(named, "%s without %s: not reported", f->name, p->key);
			err_clear(&err);
		}
	}
}
END_TEST

/* Every fault name an action of the wire scenario uses. */
static void collect_faults(json_t *v, char *seen, size_t cap)
{
	if (json_is_object(v)) {
		const char *key;
		json_t *m;
		json_object_foreach(v, key, m)
		{
			if (strcmp(key, "fault") == 0 && json_is_string(m)) {
				strncat(seen, " ", cap - strlen(seen) - 1);
				strncat(seen, json_string_value(m), cap - strlen(seen) - 1);
				strncat(seen, " ", cap - strlen(seen) - 1);
			} else {
				collect_faults(m, seen, cap);
			}
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m) collect_faults(m, seen, cap);
	}
}

START_TEST(test_every_fault_has_a_wire_test)
{
	json_error_t je;
	json_t *wire = json_load_file("tests/data/wire/faults.json", JSON_ALLOW_NUL, &je);
	ck_assert_msg(wire != NULL, "tests/data/wire/faults.json: %s", je.text);
	char seen[8192] = "";
	collect_faults(json_object_get(wire, "rules"), seen, sizeof seen);
	for (size_t i = 0; i < fault_table_size; i++) {
		char word[64];
		snprintf(word, sizeof word, " %s ", fault_table[i].name);
		ck_assert_msg(strstr(seen, word) != NULL,
			      "fault %s has no rule in tests/data/wire/faults.json",
			      fault_table[i].name);
	}
	json_decref(wire);
}
END_TEST

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* docs/scenarios.md gives each fault a heading of its own in section 8:
 * "### 8.N `name`". */
START_TEST(test_every_fault_has_a_docs_entry)
{
	char *doc = read_all("docs/scenarios.md");
	const char *catalogue = strstr(doc, "\n## 8. Fault catalogue");
	ck_assert_ptr_nonnull(catalogue);
	const char *end = strstr(catalogue + 1, "\n## ");
	for (size_t i = 0; i < fault_table_size; i++) {
		char heading[64];
		snprintf(heading, sizeof heading, " `%s`\n", fault_table[i].name);
		const char *at = strstr(catalogue, heading);
		bool found = at != NULL && (end == NULL || at < end);
		while (found && at > catalogue && at[-1] != '\n')
			at--;
		ck_assert_msg(found && strncmp(at, "### 8.", 6) == 0,
			      "fault %s has no \"### 8.N `%s`\" heading in docs/scenarios.md",
			      fault_table[i].name, fault_table[i].name);
	}
	free(doc);
}
END_TEST

Suite *fault_suite(void)
{
	Suite *s = suite_create("fault");
	TCase *tc = tcase_create("table");
	tcase_add_test(tc, test_every_kind_has_its_row_in_enum_order);
	tcase_add_test(tc, test_rows_agree_with_themselves);
	tcase_add_test(tc, test_then_belongs_to_every_fault_that_lasts);
	tcase_add_test(tc, test_every_example_loads_as_its_fault);
	tcase_add_test(tc, test_required_parameters_are_required);
	suite_add_tcase(s, tc);
	tc = tcase_create("coverage");
	tcase_add_test(tc, test_every_fault_has_a_wire_test);
	tcase_add_test(tc, test_every_fault_has_a_docs_entry);
	suite_add_tcase(s, tc);
	return s;
}

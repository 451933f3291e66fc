#include <check.h>
#include <string.h>
#include <strings.h>

#include "engine/match.h"
#include "suites.h"

START_TEST(test_glob)
{
	ck_assert(match_glob("/api/*", "/api/v1/users"));
	ck_assert(match_glob("/api/*", "/api/"));
	ck_assert(!match_glob("/api/*", "/api"));
	ck_assert(match_glob("*", ""));
	ck_assert(match_glob("*.json", "/a/b.json"));
	ck_assert(!match_glob("*.json", "/a/b.jsonx"));
	ck_assert(match_glob("/a*b*c", "/aXbYc"));
	ck_assert(match_glob("/a*b*c", "/abbbc"));
	ck_assert(!match_glob("/a*b*c", "/acb"));
	ck_assert(match_glob("/exact", "/exact"));
	ck_assert(!match_glob("/exact", "/exactly"));
	ck_assert(!match_glob("/exact", "/exac"));
	ck_assert(match_glob("**/x", "/y/x"));
}
END_TEST

START_TEST(test_glob_is_linear)
{
	/* A pattern that is exponential for naive backtracking. */
	char s[4097];
	memset(s, 'a', 4096);
	s[4096] = '\0';
	ck_assert(!match_glob("*a*a*a*a*a*a*a*a*a*a*b", s));
}
END_TEST

/* A fake request: two headers and one query argument. */
static const char *fake_header(void *ctx, const char *name)
{
	(void)ctx;
	if (strcasecmp(name, "X-Tenant") == 0)
		return "blue";
	if (strcasecmp(name, "Accept") == 0)
		return "*/*";
	return NULL;
}

static const char *fake_query(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "debug") == 0 ? "1" : NULL;
}

static struct match_request request(const char *method, const char *path)
{
	struct match_request r = {.method = method,
				  .path = path,
				  .header = fake_header,
				  .query = fake_query};
	return r;
}

START_TEST(test_request_conditions)
{
	char *methods[] = {"GET", "HEAD"};
	struct header hdr = {"x-tenant", "blue"};
	struct header wrong = {"X-Tenant", "green"};
	struct header q = {"debug", "1"};
	struct match any = {0};
	struct match get = {.methods = methods, .n_methods = 2, .path = "/api/*"};
	struct match tenant = {.headers = &hdr, .n_headers = 1};
	struct match green = {.headers = &wrong, .n_headers = 1};
	struct match debug = {.query = &q, .n_query = 1};
	struct match_request r = request("GET", "/api/x");

	ck_assert(match_request(&any, &r));
	ck_assert(match_request(&get, &r));
	ck_assert(match_request(&tenant, &r));
	ck_assert(!match_request(&green, &r));
	ck_assert(match_request(&debug, &r));
	r = request("POST", "/api/x");
	ck_assert(!match_request(&get, &r));
	r = request("get", "/api/x"); /* methods are case-sensitive */
	ck_assert(!match_request(&get, &r));
}
END_TEST

START_TEST(test_first_rule_wins)
{
	struct rule rules[3] = {
		{.index = 0, .match = {.path = "/a"}},
		{.index = 1, .match = {.path = "/*"}},
		{.index = 2, .match = {.path = "/a"}},
	};
	struct scenario sc = {.rules = rules, .n_rules = 3};
	struct match_request r = request("GET", "/a");
	ck_assert_ptr_eq(match_first(&sc, &r), &rules[0]);
	r = request("GET", "/b");
	ck_assert_ptr_eq(match_first(&sc, &r), &rules[1]);
	sc.n_rules = 1;
	ck_assert_ptr_null(match_first(&sc, &r));
}
END_TEST

START_TEST(test_connection_position)
{
	struct match third = {.connection_request = 3};
	struct match reused = {.reused = REUSE_ONLY};
	struct match fresh = {.reused = REUSE_FIRST};
	struct match_request r = request("GET", "/");
	for (unsigned nth = 1; nth <= 4; nth++) {
		r.conn_request = nth;
		ck_assert(match_request(&third, &r) == (nth == 3));
		ck_assert(match_request(&reused, &r) == (nth > 1));
		ck_assert(match_request(&fresh, &r) == (nth == 1));
	}
}
END_TEST

START_TEST(test_rules_limited_to_phases)
{
	struct phase phases[3] = {{.name = "calm"}, {.name = "storm"}, {.name = "after"}};
	bool storm_only[3] = {false, true, false};
	struct rule rules[2] = {
		{.index = 0, .in_phase = storm_only},
		{.index = 1},
	};
	struct scenario sc = {.rules = rules, .n_rules = 2, .phases = phases, .n_phases = 3};
	struct match_request r = request("GET", "/");
	for (size_t ph = 0; ph < 3; ph++) {
		r.phase = ph;
		ck_assert_ptr_eq(match_first(&sc, &r), ph == 1 ? &rules[0] : &rules[1]);
	}
}
END_TEST

Suite *match_suite(void)
{
	Suite *s = suite_create("match");
	TCase *tc = tcase_create("glob");
	tcase_add_test(tc, test_glob);
	tcase_add_test(tc, test_glob_is_linear);
	suite_add_tcase(s, tc);
	tc = tcase_create("request");
	tcase_add_test(tc, test_request_conditions);
	tcase_add_test(tc, test_connection_position);
	tcase_add_test(tc, test_rules_limited_to_phases);
	tcase_add_test(tc, test_first_rule_wins);
	suite_add_tcase(s, tc);
	return s;
}

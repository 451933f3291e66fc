/* The accept stage's decision (engine/accept_policy): one row per branch
 * of what becomes of a new connection, and the edges of each count —
 * one below a limit serves, at the limit the policy acts. */
#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/accept_policy.h"
#include "suites.h"

#define CAP 1000 /* a --max-connections far from the counts below */

static const struct {
	const char *what;
	struct conn_policy policy;
	struct accept_counts counts;
	enum accept_verdict want;
} decide_cases[] = {
	{"serve by default", {.accept = ACCEPT_SERVE}, {.cap = CAP}, ACCEPT_VERDICT_SERVE},
	{"accept reset", {.accept = ACCEPT_RESET}, {.cap = CAP}, ACCEPT_VERDICT_RESET},
	{"accept close", {.accept = ACCEPT_CLOSE}, {.cap = CAP}, ACCEPT_VERDICT_CLOSE},
	{"accept hang", {.accept = ACCEPT_HANG}, {.cap = CAP}, ACCEPT_VERDICT_HANG},
	/* Accepted before the pause took effect: served like any other. */
	{"accept pause", {.accept = ACCEPT_PAUSE}, {.cap = CAP}, ACCEPT_VERDICT_SERVE},

	/* --max-connections counts open and every held socket, before any fault. */
	{"cap: one below",
	 {.accept = ACCEPT_SERVE},
	 {.open = 5, .held = 4, .cap = 10},
	 ACCEPT_VERDICT_SERVE},
	{"cap: open and held reach it",
	 {.accept = ACCEPT_SERVE},
	 {.open = 5, .held = 5, .cap = 10},
	 ACCEPT_VERDICT_CAPACITY},
	{"cap: held alone reach it",
	 {.accept = ACCEPT_SERVE},
	 {.held = 3, .cap = 3},
	 ACCEPT_VERDICT_CAPACITY},
	{"cap: before an accept fault",
	 {.accept = ACCEPT_HANG},
	 {.open = 2, .cap = 2},
	 ACCEPT_VERDICT_CAPACITY},
	{"cap: before max_connections",
	 {.max_connections = 1, .over_limit = OVER_LIMIT_QUEUE},
	 {.open = 4, .cap = 4},
	 ACCEPT_VERDICT_CAPACITY},
	{"cap 0: every connection reset",
	 {.accept = ACCEPT_SERVE},
	 {.cap = 0},
	 ACCEPT_VERDICT_CAPACITY},

	/* max_connections: open and hanging connections, not queued or draining. */
	{"max: one below",
	 {.max_connections = 2, .over_limit = OVER_LIMIT_RESET},
	 {.open = 1, .cap = CAP},
	 ACCEPT_VERDICT_SERVE},
	{"max: over_limit reset",
	 {.max_connections = 2, .over_limit = OVER_LIMIT_RESET},
	 {.open = 2, .cap = CAP},
	 ACCEPT_VERDICT_OVER_RESET},
	{"max: over_limit close",
	 {.max_connections = 2, .over_limit = OVER_LIMIT_CLOSE},
	 {.open = 2, .cap = CAP},
	 ACCEPT_VERDICT_OVER_CLOSE},
	{"max: over_limit queue",
	 {.max_connections = 2, .over_limit = OVER_LIMIT_QUEUE},
	 {.open = 2, .cap = CAP},
	 ACCEPT_VERDICT_OVER_QUEUE},
	{"max: over_limit unset resets",
	 {.max_connections = 2},
	 {.open = 3, .cap = CAP},
	 ACCEPT_VERDICT_OVER_RESET},
	{"max: hanging count",
	 {.max_connections = 2, .over_limit = OVER_LIMIT_CLOSE},
	 {.open = 1, .hanging = 1, .held = 1, .cap = CAP},
	 ACCEPT_VERDICT_OVER_CLOSE},
	{"max: queued and draining do not count",
	 {.max_connections = 2, .over_limit = OVER_LIMIT_QUEUE},
	 {.open = 1, .held = 7, .cap = CAP},
	 ACCEPT_VERDICT_SERVE},
	{"max: 0 is no limit",
	 {.max_connections = 0, .over_limit = OVER_LIMIT_RESET},
	 {.open = 500, .hanging = 100, .held = 100, .cap = CAP},
	 ACCEPT_VERDICT_SERVE},
	{"max: a pause still counts",
	 {.accept = ACCEPT_PAUSE, .max_connections = 1, .over_limit = OVER_LIMIT_QUEUE},
	 {.open = 1, .cap = CAP},
	 ACCEPT_VERDICT_OVER_QUEUE},
	/* An accept fault wins over max_connections: a hang past the limit hangs. */
	{"max: hang past the limit",
	 {.accept = ACCEPT_HANG, .max_connections = 1, .over_limit = OVER_LIMIT_RESET},
	 {.open = 1, .hanging = 3, .held = 3, .cap = CAP},
	 ACCEPT_VERDICT_HANG},
	{"max: reset past the limit",
	 {.accept = ACCEPT_RESET, .max_connections = 1, .over_limit = OVER_LIMIT_QUEUE},
	 {.open = 1, .cap = CAP},
	 ACCEPT_VERDICT_RESET},
};

START_TEST(test_decide)
{
	enum accept_verdict got = accept_policy_decide(&decide_cases[_i].policy,
						       &decide_cases[_i].counts);
	ck_assert_msg(got == decide_cases[_i].want, "%s: verdict %d, expected %d",
		      decide_cases[_i].what, (int)got, (int)decide_cases[_i].want);
}
END_TEST

/* The journal's words, which harnesses read. */
static const struct {
	enum accept_verdict v;
	const char *action, *reason;
} name_cases[] = {
	{ACCEPT_VERDICT_SERVE, NULL, NULL},
	{ACCEPT_VERDICT_CAPACITY, "reset", "max_connections"},
	{ACCEPT_VERDICT_RESET, "reset", "accept"},
	{ACCEPT_VERDICT_CLOSE, "close", "accept"},
	{ACCEPT_VERDICT_HANG, "hang", "accept"},
	{ACCEPT_VERDICT_OVER_RESET, "reset", "over_limit"},
	{ACCEPT_VERDICT_OVER_CLOSE, "close", "over_limit"},
	{ACCEPT_VERDICT_OVER_QUEUE, "queue", "over_limit"},
};

START_TEST(test_journal_words)
{
	const char *action = accept_policy_action_name(name_cases[_i].v);
	const char *reason = accept_policy_reason(name_cases[_i].v);
	if (name_cases[_i].action == NULL) {
		ck_assert_ptr_null(action);
		ck_assert_ptr_null(reason);
	} else {
		ck_assert_str_eq(action, name_cases[_i].action);
		ck_assert_str_eq(reason, name_cases[_i].reason);
	}
}
END_TEST

/* A queued connection is served when a max_connections slot frees. */
START_TEST(test_slot_free)
{
	struct conn_policy unlimited = {0};
	struct conn_policy two = {.max_connections = 2, .over_limit = OVER_LIMIT_QUEUE};
	ck_assert(accept_policy_slot_free(&unlimited, &(struct accept_counts){.open = 9999}));
	ck_assert(accept_policy_slot_free(&two, &(struct accept_counts){.open = 1, .held = 5}));
	ck_assert(!accept_policy_slot_free(&two, &(struct accept_counts){.open = 2}));
	ck_assert(!accept_policy_slot_free(&two, &(struct accept_counts){.open = 1, .hanging = 1}));
	ck_assert(!accept_policy_slot_free(&two, &(struct accept_counts){.open = 3}));
}
END_TEST

START_TEST(test_listener_settings)
{
	struct conn_policy p = {0};
	ck_assert_int_eq(accept_policy_backlog(&p, 4096), 4096);
	p.backlog = 1;
	ck_assert_int_eq(accept_policy_backlog(&p, 4096), 1);
	for (int a = ACCEPT_SERVE; a <= ACCEPT_PAUSE; a++) {
		p.accept = (enum accept_fault)a;
		ck_assert_int_eq(accept_policy_accepting(&p), a != ACCEPT_PAUSE);
	}
}
END_TEST

/* The --max-connections warning: the first time, then once a second. */
START_TEST(test_cap_log_once_a_second)
{
	const uint64_t s = 1000000000ULL;
	ck_assert(accept_policy_cap_log_due(5, 0));
	ck_assert(!accept_policy_cap_log_due(10 * s, 10 * s));
	ck_assert(!accept_policy_cap_log_due(11 * s - 1, 10 * s));
	ck_assert(accept_policy_cap_log_due(11 * s, 10 * s));
	ck_assert(accept_policy_cap_log_due(99 * s, 10 * s));
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *accept_policy_suite(void)
{
	Suite *s = suite_create("accept_policy");
	TCase *tc = tcase_create("decide");
	tcase_add_loop_test(tc, test_decide, 0, COUNT(decide_cases));
	tcase_add_loop_test(tc, test_journal_words, 0, COUNT(name_cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("queue_and_listener");
	tcase_add_test(tc, test_slot_free);
	tcase_add_test(tc, test_listener_settings);
	tcase_add_test(tc, test_cap_log_once_a_second);
	suite_add_tcase(s, tc);
	return s;
}

/* engine/tally: the totals the stats endpoint and the metrics report,
 * counted from journal records. */
#include <check.h>
#include <string.h>

#include "engine/tally.h"
#include "suites.h"

static struct record request(int status, enum outcome o, uint64_t duration_us)
{
	return (struct record){.kind = RECORD_REQUEST,
			       .status = status,
			       .outcome = o,
			       .duration_us = duration_us};
}

START_TEST(test_requests_by_fault_outcome_status)
{
	struct tally t = {0};
	struct record a = request(200, OUTCOME_RESPONSE, 1000);
	struct record b = request(503, OUTCOME_RESPONSE, 1000);
	struct record c = request(0, OUTCOME_RST, 1000);
	struct record d = request(200, OUTCOME_FIN, 1000);
	tally_add(&t, &a, FAULT_NONE);
	tally_add(&t, &a, FAULT_NONE);
	tally_add(&t, &b, FAULT_NONE);
	tally_add(&t, &c, FAULT_RESET);
	tally_add(&t, &d, FAULT_TRUNCATE);
	ck_assert_uint_eq(t.requests, 5);
	ck_assert_uint_eq(t.by_fault[FAULT_NONE], 3);
	ck_assert_uint_eq(t.by_fault[FAULT_RESET], 1);
	ck_assert_uint_eq(t.by_fault[FAULT_TRUNCATE], 1);
	ck_assert_uint_eq(t.by_fault[FAULT_CLOSE], 0);
	ck_assert_uint_eq(t.by_outcome[OUTCOME_RESPONSE], 3);
	ck_assert_uint_eq(t.by_outcome[OUTCOME_RST], 1);
	ck_assert_uint_eq(t.by_outcome[OUTCOME_FIN], 1);
	ck_assert_uint_eq(t.by_outcome[OUTCOME_HUNG], 0);
	ck_assert_uint_eq(t.by_status[2], 3);
	ck_assert_uint_eq(t.by_status[5], 1);
	ck_assert_uint_eq(t.by_status[0], 0); /* no status line: no class */
	uint64_t sum = 0;
	for (int i = 0; i < 10; i++)
		sum += t.by_status[i];
	ck_assert_uint_eq(sum, 4);
	/* Requests do not count as accept-stage decisions or phases. */
	ck_assert_uint_eq(t.accept_reset + t.accept_close + t.accept_hang + t.accept_queue, 0);
	ck_assert_uint_eq(t.phase_changes, 0);
}
END_TEST

/* Status classes 1xx..9xx; anything outside 100..999 has none. */
static const struct {
	int status;
	int class; /* -1: none */
} statuses[] = {
	{0, -1},  {99, -1}, {100, 1}, {101, 1}, {199, 1},   {204, 2},
	{302, 3}, {404, 4}, {599, 5}, {999, 9}, {1000, -1}, {-200, -1},
};

START_TEST(test_status_class)
{
	struct tally t = {0};
	struct record r = request(statuses[_i].status, OUTCOME_RESPONSE, 0);
	tally_add(&t, &r, FAULT_NONE);
	ck_assert_uint_eq(t.requests, 1);
	for (int c = 0; c < 10; c++)
		ck_assert_msg(t.by_status[c] == (c == statuses[_i].class ? 1u : 0u),
			      "status %d counted in class %d", statuses[_i].status, c);
}
END_TEST

/* A fault or outcome outside its table is not counted, the request is. */
START_TEST(test_out_of_range_kinds_are_skipped)
{
	struct tally t = {0};
	struct record r = request(200, (enum outcome)OUTCOME_COUNT, 0);
	tally_add(&t, &r, (enum fault_kind)FAULT_COUNT);
	ck_assert_uint_eq(t.requests, 1);
	struct tally zero = {0};
	ck_assert_int_eq(memcmp(t.by_fault, zero.by_fault, sizeof t.by_fault), 0);
	ck_assert_int_eq(memcmp(t.by_outcome, zero.by_outcome, sizeof t.by_outcome), 0);
}
END_TEST

/* Bucket i holds durations above bucket i-1 and up to bucket i (seconds);
 * the last, past 60 s, is +Inf. */
static const struct {
	uint64_t us;
	int bucket;
} durations[] = {
	{0, 0},		{1000, 0},	{1001, 1},	     {5000, 1},	   {5001, 2},
	{100000, 5},	{250000, 6},	{999999, 8},	     {1000000, 8}, {1000001, 9},
	{60000000, 13}, {60000001, 14}, {3600000000ULL, 14},
};

START_TEST(test_duration_buckets)
{
	struct tally t = {0};
	struct record r = request(200, OUTCOME_RESPONSE, durations[_i].us);
	tally_add(&t, &r, FAULT_NONE);
	for (int b = 0; b <= TALLY_BUCKETS; b++)
		ck_assert_msg(t.duration_buckets[b] == (b == durations[_i].bucket ? 1u : 0u),
			      "%llu us counted in bucket %d", (unsigned long long)durations[_i].us,
			      b);
	ck_assert_double_eq_tol(t.duration_sum_s, (double)durations[_i].us / 1e6, 1e-9);
}
END_TEST

START_TEST(test_bucket_bounds_ascend)
{
	ck_assert_double_eq(tally_buckets[0], 0.001);
	ck_assert_double_eq(tally_buckets[TALLY_BUCKETS - 1], 60);
	for (int i = 1; i < TALLY_BUCKETS; i++)
		ck_assert(tally_buckets[i] > tally_buckets[i - 1]);
}
END_TEST

START_TEST(test_duration_sum)
{
	struct tally t = {0};
	struct record a = request(200, OUTCOME_RESPONSE, 250000);
	struct record b = request(200, OUTCOME_RESPONSE, 1500000);
	tally_add(&t, &a, FAULT_NONE);
	tally_add(&t, &b, FAULT_NONE);
	ck_assert_double_eq_tol(t.duration_sum_s, 1.75, 1e-9);
	ck_assert_uint_eq(t.duration_buckets[6], 1); /* <= 0.25 s */
	ck_assert_uint_eq(t.duration_buckets[9], 1); /* <= 2.5 s */
}
END_TEST

/* Connection records: the accept stage's words, by their first letter. */
START_TEST(test_accept_decisions)
{
	static const char *const words[] = {"reset", "close", "close", "hang", "queue",
					    "queue", "queue", NULL,    "other"};
	struct tally t = {0};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		struct record r = {.kind = RECORD_CONNECTION,
				   .accept = words[i],
				   .reason = "accept",
				   .outcome = OUTCOME_RST};
		tally_add(&t, &r, FAULT_NONE);
	}
	ck_assert_uint_eq(t.accept_reset, 1);
	ck_assert_uint_eq(t.accept_close, 2);
	ck_assert_uint_eq(t.accept_hang, 1);
	ck_assert_uint_eq(t.accept_queue, 3);
	/* Not requests: no request total, outcome or duration. */
	ck_assert_uint_eq(t.requests, 0);
	ck_assert_uint_eq(t.by_outcome[OUTCOME_RST], 0);
	ck_assert_uint_eq(t.duration_buckets[0], 0);
}
END_TEST

/* TLS records share the connection kind but are no accept-stage decision:
 * "handshake_hang" and "handshake_reset" were counted as hangs by their
 * first letter. */
START_TEST(test_tls_records_are_not_accept_decisions)
{
	static const char *const words[] = {"handshake_hang", "handshake_reset", "alert",
					    "plaintext",      "alpn_mismatch",	 "no_request"};
	struct tally t = {0};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		struct record r = {.kind = RECORD_CONNECTION, .accept = words[i], .reason = "tls"};
		tally_add(&t, &r, FAULT_NONE);
	}
	struct tally none = {0};
	ck_assert_int_eq(memcmp(&t, &none, sizeof t), 0);
}
END_TEST

START_TEST(test_phase_scenario_and_drill_records)
{
	struct tally t = {0};
	enum record_kind kinds[] = {RECORD_PHASE, RECORD_SCENARIO, RECORD_PHASE, RECORD_DRILL};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		struct record r = {.kind = kinds[i], .status = 200, .outcome = OUTCOME_RESPONSE};
		tally_add(&t, &r, FAULT_RESET);
	}
	ck_assert_uint_eq(t.phase_changes, 2);
	struct tally want = {.phase_changes = 2};
	ck_assert_int_eq(memcmp(&t, &want, sizeof t), 0);
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *tally_suite(void)
{
	Suite *s = suite_create("tally");
	TCase *tc = tcase_create("requests");
	tcase_add_test(tc, test_requests_by_fault_outcome_status);
	tcase_add_loop_test(tc, test_status_class, 0, COUNT(statuses));
	tcase_add_test(tc, test_out_of_range_kinds_are_skipped);
	suite_add_tcase(s, tc);
	tc = tcase_create("durations");
	tcase_add_loop_test(tc, test_duration_buckets, 0, COUNT(durations));
	tcase_add_test(tc, test_bucket_bounds_ascend);
	tcase_add_test(tc, test_duration_sum);
	suite_add_tcase(s, tc);
	tc = tcase_create("other_records");
	tcase_add_test(tc, test_accept_decisions);
	tcase_add_test(tc, test_tls_records_are_not_accept_decisions);
	tcase_add_test(tc, test_phase_scenario_and_drill_records);
	suite_add_tcase(s, tc);
	return s;
}

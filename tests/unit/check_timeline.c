/* The phase clock: which phase is current when, and for how long. */
#include <check.h>

#include "engine/timeline.h"
#include "suites.h"

#define MS 1000ULL

static struct phase three[] = {
	{.name = "a", .duration_us = 100 * MS, .listen = true},
	{.name = "b", .duration_us = 50 * MS, .listen = false},
	{.name = "c", .duration_us = 0, .listen = true},
};

START_TEST(test_no_phases_is_one_endless_phase)
{
	struct scenario sc = {0};
	uint64_t until;
	ck_assert_uint_eq(timeline_at(&sc, 0, 123456789, &until), 0);
	ck_assert_uint_eq(until, TIMELINE_NEVER);
	ck_assert(timeline_listens(&sc, 0));
	ck_assert_str_eq(timeline_name(&sc, 0), "default");
}
END_TEST

START_TEST(test_phases_follow_their_durations)
{
	struct scenario sc = {.phases = three, .n_phases = 3};
	uint64_t until;
	ck_assert_uint_eq(timeline_at(&sc, 0, 0, &until), 0);
	ck_assert_uint_eq(until, 100 * MS);
	ck_assert_uint_eq(timeline_at(&sc, 0, 100 * MS - 1, &until), 0);
	ck_assert_uint_eq(until, 1);
	ck_assert_uint_eq(timeline_at(&sc, 0, 100 * MS, &until), 1);
	ck_assert_uint_eq(until, 50 * MS);
	ck_assert(!timeline_listens(&sc, 1));
	ck_assert_uint_eq(timeline_at(&sc, 0, 150 * MS, &until), 2);
	ck_assert_uint_eq(until, TIMELINE_NEVER);
	ck_assert_uint_eq(timeline_at(&sc, 0, 1000000 * MS, &until), 2);
}
END_TEST

START_TEST(test_last_phase_with_duration_stays_without_loop)
{
	struct phase two[] = {{.name = "x", .duration_us = 10}, {.name = "y", .duration_us = 10}};
	struct scenario sc = {.phases = two, .n_phases = 2};
	uint64_t until;
	ck_assert_uint_eq(timeline_at(&sc, 0, 25, &until), 1);
	ck_assert_uint_eq(until, TIMELINE_NEVER);
}
END_TEST

START_TEST(test_loop_starts_over)
{
	struct phase two[] = {{.name = "x", .duration_us = 30}, {.name = "y", .duration_us = 20}};
	struct scenario sc = {.phases = two, .n_phases = 2, .loop = true};
	uint64_t until;
	ck_assert_uint_eq(timeline_at(&sc, 0, 45, &until), 1);
	ck_assert_uint_eq(until, 5);
	ck_assert_uint_eq(timeline_at(&sc, 0, 50, &until), 0);
	ck_assert_uint_eq(until, 30);
	ck_assert_uint_eq(timeline_at(&sc, 0, 50 * 1000 + 31, &until), 1);
	ck_assert_uint_eq(until, 19);
}
END_TEST

START_TEST(test_phase_without_duration_waits_to_be_switched)
{
	struct phase held[] = {
		{.name = "up", .duration_us = 10},
		{.name = "drill"}, /* until the admin API switches */
		{.name = "recovered", .duration_us = 10},
	};
	struct scenario sc = {.phases = held, .n_phases = 3};
	uint64_t until;
	ck_assert_uint_eq(timeline_at(&sc, 0, 1000000, &until), 1);
	ck_assert_uint_eq(until, TIMELINE_NEVER);
	/* Jumped to "recovered": counted from there. */
	ck_assert_uint_eq(timeline_at(&sc, 2, 5, &until), 2);
	ck_assert_uint_eq(until, TIMELINE_NEVER);
}
END_TEST

START_TEST(test_loop_counted_from_a_jump_wraps_around)
{
	struct phase three3[] = {{.name = "a", .duration_us = 10},
				 {.name = "b", .duration_us = 20},
				 {.name = "c", .duration_us = 30}};
	struct scenario sc = {.phases = three3, .n_phases = 3, .loop = true};
	uint64_t until;
	ck_assert_uint_eq(timeline_at(&sc, 2, 29, &until), 2);
	ck_assert_uint_eq(until, 1);
	ck_assert_uint_eq(timeline_at(&sc, 2, 30, &until), 0);
	ck_assert_uint_eq(until, 10);
	ck_assert_uint_eq(timeline_at(&sc, 2, 45, &until), 1);
	ck_assert_uint_eq(until, 15);
	ck_assert_uint_eq(timeline_at(&sc, 2, 60 + 5, &until), 2);
}
END_TEST

Suite *timeline_suite(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc = tcase_create("clock");
	tcase_add_test(tc, test_no_phases_is_one_endless_phase);
	tcase_add_test(tc, test_phases_follow_their_durations);
	tcase_add_test(tc, test_last_phase_with_duration_stays_without_loop);
	tcase_add_test(tc, test_loop_starts_over);
	tcase_add_test(tc, test_phase_without_duration_waits_to_be_switched);
	tcase_add_test(tc, test_loop_counted_from_a_jump_wraps_around);
	suite_add_tcase(s, tc);
	return s;
}

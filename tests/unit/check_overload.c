/* The overload model's bookkeeping: workers, FIFO queue, rejections. */
#include <check.h>

#include "engine/overload.h"
#include "suites.h"

START_TEST(test_workers_then_queue_then_full)
{
	struct overload o;
	struct overload_waiter w[5] = {{0}};
	overload_init(&o, 2, 1);
	ck_assert_int_eq(overload_arrive(&o, &w[0]), OVERLOAD_SERVE);
	ck_assert_int_eq(overload_arrive(&o, &w[1]), OVERLOAD_SERVE);
	ck_assert_int_eq(overload_arrive(&o, &w[2]), OVERLOAD_WAIT);
	ck_assert_int_eq(overload_arrive(&o, &w[3]), OVERLOAD_FULL);
	ck_assert_uint_eq(o.busy, 2);
	ck_assert_uint_eq(o.waiting, 1);
	/* A worker finishes: the waiter takes it, the busy count stays. */
	ck_assert_ptr_eq(overload_done(&o), &w[2]);
	ck_assert_uint_eq(o.busy, 2);
	ck_assert_uint_eq(o.waiting, 0);
	ck_assert_ptr_null(overload_done(&o));
	ck_assert_uint_eq(o.busy, 1);
	ck_assert_int_eq(overload_arrive(&o, &w[4]), OVERLOAD_SERVE);
	ck_assert_uint_eq(o.served_at_once, 3);
	ck_assert_uint_eq(o.served_after_wait, 1);
	ck_assert_uint_eq(o.rejected, 1);
	ck_assert_uint_eq(o.peak_busy, 2);
	ck_assert_uint_eq(o.peak_waiting, 1);
}
END_TEST

START_TEST(test_queue_is_fifo_and_leavers_lose_their_place)
{
	struct overload o;
	struct overload_waiter busy = {0}, w[4] = {{0}};
	overload_init(&o, 1, 4);
	ck_assert_int_eq(overload_arrive(&o, &busy), OVERLOAD_SERVE);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(overload_arrive(&o, &w[i]), OVERLOAD_WAIT);
	overload_leave(&o, &w[1]);
	overload_leave(&o, &w[1]); /* twice is harmless */
	ck_assert_uint_eq(o.waiting, 3);
	ck_assert_ptr_eq(overload_done(&o), &w[0]);
	ck_assert_ptr_eq(overload_done(&o), &w[2]);
	overload_leave(&o, &w[3]); /* the last one: the tail moves back */
	ck_assert_ptr_null(overload_done(&o));
	ck_assert_uint_eq(o.busy, 0);
	ck_assert_ptr_null(o.head);
	ck_assert_ptr_null(o.tail);
}
END_TEST

START_TEST(test_zero_queue_rejects_at_once)
{
	struct overload o;
	struct overload_waiter w[2] = {{0}};
	overload_init(&o, 1, 0);
	ck_assert_int_eq(overload_arrive(&o, &w[0]), OVERLOAD_SERVE);
	ck_assert_int_eq(overload_arrive(&o, &w[1]), OVERLOAD_FULL);
	overload_reset_counters(&o);
	ck_assert_uint_eq(o.rejected, 0);
	ck_assert_uint_eq(o.peak_busy, 1); /* what is busy now stays counted */
}
END_TEST

/* When an exchange ends: a queued one leaves, a serving one frees its
 * worker now, or holds it to the end of its service time when its client
 * left early (never while stopping). */
static const struct {
	const char *what;
	bool queued, serving, can_hold;
	uint64_t now, end;
	enum overload_exit want;
} exits[] = {
	{"no model, served or rejected", false, false, true, 5, 10, OVERLOAD_EXIT_NONE},
	{"queued leaves", true, false, true, 5, 10, OVERLOAD_EXIT_LEAVE},
	{"queued leaves, even while stopping", true, false, false, 5, 10, OVERLOAD_EXIT_LEAVE},
	{"serving, client left early: hold", false, true, true, 9, 10, OVERLOAD_EXIT_HOLD},
	{"serving, service time just over", false, true, true, 10, 10, OVERLOAD_EXIT_DONE},
	{"serving, service time long over", false, true, true, 99, 10, OVERLOAD_EXIT_DONE},
	{"serving while stopping: free now", false, true, false, 5, 10, OVERLOAD_EXIT_DONE},
};

START_TEST(test_exit_plan)
{
	enum overload_exit got = overload_exit_plan(exits[_i].queued, exits[_i].serving,
						    exits[_i].can_hold, exits[_i].now,
						    exits[_i].end);
	ck_assert_msg(got == exits[_i].want, "%s: %d, expected %d", exits[_i].what, (int)got,
		      (int)exits[_i].want);
}
END_TEST

Suite *overload_suite(void)
{
	Suite *s = suite_create("overload");
	TCase *tc = tcase_create("model");
	tcase_add_test(tc, test_workers_then_queue_then_full);
	tcase_add_test(tc, test_queue_is_fifo_and_leavers_lose_their_place);
	tcase_add_test(tc, test_zero_queue_rejects_at_once);
	suite_add_tcase(s, tc);
	tc = tcase_create("exit");
	tcase_add_loop_test(tc, test_exit_plan, 0, (int)(sizeof exits / sizeof exits[0]));
	suite_add_tcase(s, tc);
	return s;
}

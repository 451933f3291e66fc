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

Suite *overload_suite(void)
{
	Suite *s = suite_create("overload");
	TCase *tc = tcase_create("model");
	tcase_add_test(tc, test_workers_then_queue_then_full);
	tcase_add_test(tc, test_queue_is_fifo_and_leavers_lose_their_place);
	tcase_add_test(tc, test_zero_queue_rejects_at_once);
	suite_add_tcase(s, tc);
	return s;
}

/* window: first in, first out, across growth and compaction. */
#include <check.h>
#include <string.h>

#include "base/window.h"
#include "suites.h"

START_TEST(test_fifo_across_growth)
{
	struct window w = {0};
	static char in[100000], out[100000];
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (char)(i % 251);
	size_t put = 0, got = 0;
	/* uneven puts and takes, so the block compacts and grows */
	while (got < sizeof in) {
		size_t p = sizeof in - put < 7000 ? sizeof in - put : 7000;
		window_put(&w, in + put, p);
		put += p;
		got += window_take(&w, out + got, 5000);
		ck_assert_uint_eq(w.len, put - got);
		ck_assert_uint_le(w.cap, 64 * 1024);
	}
	ck_assert_int_eq(memcmp(in, out, sizeof in), 0);
	ck_assert_uint_eq(window_take(&w, out, 10), 0);
	ck_assert_uint_eq(w.off, 0);
	window_free(&w);
	ck_assert_ptr_null(w.buf);
}
END_TEST

START_TEST(test_small_and_large)
{
	struct window w = {0};
	window_put(&w, "ab", 2);
	ck_assert_uint_eq(w.cap, 16 * 1024); /* a small body, a small block */
	static char big[40000];
	window_put(&w, big, sizeof big);
	ck_assert_uint_eq(w.cap, 64 * 1024);
	char two[2];
	ck_assert_uint_eq(window_take(&w, two, 2), 2);
	ck_assert_int_eq(memcmp(two, "ab", 2), 0);
	ck_assert_uint_eq(w.len, sizeof big);
	window_free(&w);
}
END_TEST

Suite *window_suite(void)
{
	Suite *s = suite_create("window");
	TCase *tc = tcase_create("fifo");
	tcase_add_test(tc, test_fifo_across_growth);
	tcase_add_test(tc, test_small_and_large);
	suite_add_tcase(s, tc);
	return s;
}

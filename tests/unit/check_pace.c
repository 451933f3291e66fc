/* engine/pace: when each byte of a raw response may go out. Time is
 * given as explicit now values: nothing here sleeps. */
#include <check.h>
#include <stdint.h>

#include "engine/pace.h"
#include "suites.h"

#define MS 1000000ULL  /* ns */
#define T0 (5000 * MS) /* an arbitrary start */

/* A rendered response as pace sees it: 17 bytes of status line, headers
 * up to 38, body up to 44 (the shape of "HTTP/1.1 200 OK" + "hello\n"). */
static struct render shape(size_t len)
{
	return (struct render){.len = len, .status_end = 17, .head_end = 38, .full_len = 44};
}

/* Expect pace_next at now to offer exactly n bytes (n > 0). */
static void expect_write(struct pacer *p, uint64_t now, size_t n)
{
	uint64_t wake = 12345;
	size_t got = pace_next(p, now, &wake);
	ck_assert_msg(got == n, "at +%llu ms: offered %zu bytes, expected %zu",
		      (unsigned long long)((now - T0) / MS), got, n);
	ck_assert_uint_eq(wake, 0);
}

/* Expect pace_next at now to wait until wake_at. */
static void expect_wait(struct pacer *p, uint64_t now, uint64_t wake_at)
{
	uint64_t wake = 0;
	ck_assert_uint_eq(pace_next(p, now, &wake), 0);
	ck_assert_msg(wake == wake_at, "at +%llu ms: wake at +%llu ms, expected +%llu ms",
		      (unsigned long long)((now - T0) / MS), (unsigned long long)((wake - T0) / MS),
		      (unsigned long long)((wake_at - T0) / MS));
}

static void expect_done(struct pacer *p, uint64_t now)
{
	uint64_t wake = 12345;
	ck_assert_uint_eq(pace_next(p, now, &wake), 0);
	ck_assert_uint_eq(wake, 0);
}

START_TEST(test_unpaced_all_at_once)
{
	struct pace pace = {0};
	struct render r = shape(44);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	expect_write(&p, T0, 44);
	pace_wrote(&p, 44, T0);
	expect_done(&p, T0);
}
END_TEST

START_TEST(test_unpaced_partial_writes_continue_at_once)
{
	struct pace pace = {0};
	struct render r = shape(44);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	expect_write(&p, T0, 44);
	pace_wrote(&p, 30, T0);
	expect_write(&p, T0, 14);
	pace_wrote(&p, 14, T0 + 1);
	expect_done(&p, T0 + 1);
}
END_TEST

START_TEST(test_empty_response_is_done)
{
	struct pace pace = {.drip_bytes = 1, .drip_every_us = 1000};
	struct render r = {0};
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	expect_done(&p, T0);
}
END_TEST

/* drip: 10 bytes every 100 ms; 44 bytes take 5 steps. */
START_TEST(test_drip_bytes_every)
{
	struct pace pace = {.drip_bytes = 10, .drip_every_us = 100000};
	struct render r = shape(44);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	for (int step = 0; step < 4; step++) {
		uint64_t due = T0 + (uint64_t)step * 100 * MS;
		if (step > 0)
			expect_wait(&p, due - 100 * MS, due);
		expect_write(&p, due, 10);
		pace_wrote(&p, 10, due);
	}
	expect_wait(&p, T0 + 300 * MS, T0 + 400 * MS);
	expect_wait(&p, T0 + 400 * MS - 1, T0 + 400 * MS);
	expect_write(&p, T0 + 400 * MS, 4); /* the rest */
	pace_wrote(&p, 4, T0 + 400 * MS);
	expect_done(&p, T0 + 400 * MS);
}
END_TEST

/* A partial write finishes its step at once; the step ends when all of
 * its bytes are out. */
START_TEST(test_drip_partial_write_finishes_the_step)
{
	struct pace pace = {.drip_bytes = 10, .drip_every_us = 100000};
	struct render r = shape(44);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	expect_write(&p, T0, 10);
	pace_wrote(&p, 4, T0);
	expect_write(&p, T0 + 1 * MS, 6);
	pace_wrote(&p, 6, T0 + 1 * MS);
	expect_wait(&p, T0 + 1 * MS, T0 + 100 * MS);
}
END_TEST

/* Deadlines run from the start: a late write does not push later ones. */
START_TEST(test_drip_never_drifts)
{
	struct pace pace = {.drip_bytes = 10, .drip_every_us = 100000};
	struct render r = shape(44);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	expect_write(&p, T0, 10);
	pace_wrote(&p, 10, T0);
	expect_write(&p, T0 + 150 * MS, 10); /* woken 50 ms late */
	pace_wrote(&p, 10, T0 + 150 * MS);
	expect_wait(&p, T0 + 150 * MS, T0 + 200 * MS);
}
END_TEST

/* rate: steps of rate/100 bytes (at least 1), each due chunk/rate after
 * the one before. */
static const struct {
	uint64_t rate;
	size_t chunk;
	uint64_t step_ns;
} rates[] = {
	{1000, 10, 10 * MS},	   {50, 1, 20 * MS},	      {1, 1, 1000 * MS},
	{150, 1, 1000 * MS / 150}, {1000000, 10000, 10 * MS},
};

START_TEST(test_rate_steps)
{
	struct pace pace = {.rate = rates[_i].rate};
	struct render r = {.len = 100000, .status_end = 17, .head_end = 38, .full_len = 100000};
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	expect_write(&p, T0, rates[_i].chunk);
	pace_wrote(&p, rates[_i].chunk, T0);
	expect_wait(&p, T0, T0 + rates[_i].step_ns);
	expect_write(&p, T0 + rates[_i].step_ns, rates[_i].chunk);
	pace_wrote(&p, rates[_i].chunk, T0 + rates[_i].step_ns);
	expect_wait(&p, T0 + rates[_i].step_ns, T0 + 2 * rates[_i].step_ns);
}
END_TEST

/* drip wins over rate when both are given. */
START_TEST(test_drip_wins_over_rate)
{
	struct pace pace = {.drip_bytes = 3, .drip_every_us = 7000, .rate = 1000};
	struct render r = shape(44);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	expect_write(&p, T0, 3);
	pace_wrote(&p, 3, T0);
	expect_wait(&p, T0, T0 + 7 * MS);
}
END_TEST

/* header_delay: the header block at once, the body after the pause. */
START_TEST(test_header_delay)
{
	struct pace pace = {.header_delay_us = 200000};
	struct render r = shape(44);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	expect_write(&p, T0, 38);
	pace_wrote(&p, 38, T0);
	expect_wait(&p, T0 + 5 * MS, T0 + 205 * MS);   /* from when it is reached */
	expect_wait(&p, T0 + 100 * MS, T0 + 205 * MS); /* taken once */
	expect_write(&p, T0 + 205 * MS, 6);
	pace_wrote(&p, 6, T0 + 205 * MS);
	expect_done(&p, T0 + 205 * MS);
}
END_TEST

/* Without a body (HEAD, or a cut inside the headers) there is no pause. */
START_TEST(test_header_delay_without_a_body)
{
	struct pace pace = {.header_delay_us = 200000};
	struct render r = shape(38);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	expect_write(&p, T0, 38);
	pace_wrote(&p, 38, T0);
	expect_done(&p, T0);
}
END_TEST

/* stall: one pause at an offset into a part, clamped to the part's end
 * and to the cut of a truncated response. */
static const struct {
	const char *what;
	enum part at;
	uint64_t offset;
	size_t len;   /* the rendered length (44: whole) */
	size_t first; /* bytes before the stall (== len: none) */
} stalls[] = {
	{"status at 0", PART_STATUS, 0, 44, 0},
	{"status at 5", PART_STATUS, 5, 44, 5},
	{"status past its end", PART_STATUS, 99, 44, 17},
	{"headers at 3", PART_HEADERS, 3, 44, 20},
	{"headers past their end", PART_HEADERS, 99, 44, 38},
	{"body at 2", PART_BODY, 2, 44, 40},
	{"body past its end", PART_BODY, 99, 44, 44},
	{"truncated before the stall", PART_BODY, 2, 30, 30},
	{"truncated after the stall", PART_STATUS, 5, 30, 5},
};

START_TEST(test_stall_at_offset)
{
	struct pace pace = {.stall_at = stalls[_i].at,
			    .stall_offset = stalls[_i].offset,
			    .stall_for_us = 1000000};
	struct render r = shape(stalls[_i].len);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	size_t first = stalls[_i].first;
	if (first > 0) {
		expect_write(&p, T0, first);
		pace_wrote(&p, first, T0);
	}
	if (first == stalls[_i].len) {
		expect_done(&p, T0); /* the stall lies at or past the end */
		return;
	}
	expect_wait(&p, T0, T0 + 1000 * MS);
	expect_write(&p, T0 + 1000 * MS, stalls[_i].len - first);
}
END_TEST

/* A stall and a header delay: sorted by offset, each taken once; at the
 * same offset they add up. */
START_TEST(test_two_pauses_in_order)
{
	struct pace pace = {.header_delay_us = 100000,
			    .stall_at = PART_STATUS,
			    .stall_offset = 5,
			    .stall_for_us = 300000};
	struct render r = shape(44);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	expect_write(&p, T0, 5);
	pace_wrote(&p, 5, T0);
	expect_wait(&p, T0, T0 + 300 * MS);
	expect_write(&p, T0 + 300 * MS, 33);
	pace_wrote(&p, 33, T0 + 300 * MS);
	expect_wait(&p, T0 + 300 * MS, T0 + 400 * MS);
	expect_write(&p, T0 + 400 * MS, 6);
}
END_TEST

START_TEST(test_two_pauses_at_one_offset_add_up)
{
	struct pace pace = {.header_delay_us = 100000,
			    .stall_at = PART_BODY,
			    .stall_offset = 0,
			    .stall_for_us = 300000};
	struct render r = shape(44);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	expect_write(&p, T0, 38);
	pace_wrote(&p, 38, T0);
	expect_wait(&p, T0, T0 + 100 * MS);
	expect_wait(&p, T0 + 100 * MS, T0 + 400 * MS);
	expect_write(&p, T0 + 400 * MS, 6);
}
END_TEST

/* A drip step stops at a pause; the step's bytes left carry over. */
START_TEST(test_drip_stops_at_a_pause)
{
	struct pace pace = {.drip_bytes = 10, .drip_every_us = 100000, .header_delay_us = 500000};
	struct render r = shape(44);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	for (int step = 0; step < 3; step++) {
		expect_write(&p, T0 + (uint64_t)step * 100 * MS, 10);
		pace_wrote(&p, 10, T0 + (uint64_t)step * 100 * MS);
	}
	expect_write(&p, T0 + 300 * MS, 8); /* up to the header block's end */
	pace_wrote(&p, 8, T0 + 300 * MS);
	/* The pause starts from the step still due (+300 ms). */
	expect_wait(&p, T0 + 300 * MS, T0 + 800 * MS);
	expect_write(&p, T0 + 800 * MS, 2); /* the rest of that step */
	pace_wrote(&p, 2, T0 + 800 * MS);
	expect_wait(&p, T0 + 800 * MS, T0 + 900 * MS);
	expect_write(&p, T0 + 900 * MS, 4);
}
END_TEST

START_TEST(test_zero_pauses_are_none)
{
	struct pace pace = {.header_delay_us = 0,
			    .stall_at = PART_BODY,
			    .stall_offset = 1,
			    .stall_for_us = 0};
	struct render r = shape(44);
	struct pacer p;
	pace_init(&p, &pace, &r, T0);
	ck_assert_int_eq(p.n_pauses, 0);
	expect_write(&p, T0, 44);
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *pace_suite(void)
{
	Suite *s = suite_create("pace");
	TCase *tc = tcase_create("unpaced");
	tcase_add_test(tc, test_unpaced_all_at_once);
	tcase_add_test(tc, test_unpaced_partial_writes_continue_at_once);
	tcase_add_test(tc, test_empty_response_is_done);
	suite_add_tcase(s, tc);
	tc = tcase_create("drip_and_rate");
	tcase_add_test(tc, test_drip_bytes_every);
	tcase_add_test(tc, test_drip_partial_write_finishes_the_step);
	tcase_add_test(tc, test_drip_never_drifts);
	tcase_add_loop_test(tc, test_rate_steps, 0, COUNT(rates));
	tcase_add_test(tc, test_drip_wins_over_rate);
	suite_add_tcase(s, tc);
	tc = tcase_create("pauses");
	tcase_add_test(tc, test_header_delay);
	tcase_add_test(tc, test_header_delay_without_a_body);
	tcase_add_loop_test(tc, test_stall_at_offset, 0, COUNT(stalls));
	tcase_add_test(tc, test_two_pauses_in_order);
	tcase_add_test(tc, test_two_pauses_at_one_offset_add_up);
	tcase_add_test(tc, test_drip_stops_at_a_pause);
	tcase_add_test(tc, test_zero_pauses_are_none);
	suite_add_tcase(s, tc);
	return s;
}

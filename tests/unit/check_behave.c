#include <check.h>
#include <string.h>

#include "base/rng.h"
#include "engine/behave.h"
#include "suites.h"

static struct scenario *load(const char *json)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_buffer("t.json", json, strlen(json), &err);
	ck_assert_msg(sc != NULL, "%s", err.count ? err.msgs[0] : "?");
	err_clear(&err);
	return sc;
}

static const char choose_json[] =
	"{\"upsim\":1,\"seed\":42,\"rules\":["
	"{\"match\":{\"path\":\"/a\"},\"choose\":[{\"weight\":80,\"status\":200},"
	"{\"weight\":15,\"status\":502},{\"weight\":5,\"status\":503}]},"
	"{\"match\":{\"path\":\"/b\"},\"choose\":[{\"status\":200},{\"status\":500}]}]}";

/* Draw n statuses for rule index r. */
static void draw(struct behave *b, size_t r, int *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = behave_pick(b, &b->scenario->rules[r])->status;
}

START_TEST(test_same_seed_same_choices)
{
	struct scenario *sc = load(choose_json);
	struct behave *b1 = behave_new(sc, 0), *b2 = behave_new(sc, 0);
	int x[200], y[200];
	draw(b1, 0, x, 200);
	draw(b2, 0, y, 200);
	ck_assert_mem_eq(x, y, sizeof x);
	behave_reset(b1);
	draw(b1, 0, y, 200);
	ck_assert_mem_eq(x, y, sizeof x);
	behave_unref(b1);
	behave_unref(b2);
	scenario_unref(sc);
}
END_TEST

START_TEST(test_other_rules_do_not_shift_choices)
{
	struct scenario *sc = load(choose_json);
	struct behave *alone = behave_new(sc, 0), *mixed = behave_new(sc, 0);
	int x[100], y[100], noise[7];
	draw(alone, 0, x, 100);
	for (int i = 0; i < 100; i++) {
		draw(mixed, 1, noise, 7); /* traffic to rule /b in between */
		draw(mixed, 0, &y[i], 1);
	}
	ck_assert_mem_eq(x, y, sizeof x);
	behave_unref(alone);
	behave_unref(mixed);
	scenario_unref(sc);
}
END_TEST

START_TEST(test_weights_are_respected)
{
	struct scenario *sc = load(choose_json);
	struct behave *b = behave_new(sc, 0);
	int counts[3] = {0};
	for (int i = 0; i < 20000; i++) {
		int st = behave_pick(b, &sc->rules[0])->status;
		counts[st == 200 ? 0 : st == 502 ? 1 : 2]++;
	}
	/* 80/15/5 %, within a margin far beyond sampling noise (σ < 0.3 %). */
	ck_assert_int_ge(counts[0], 15600);
	ck_assert_int_le(counts[0], 16400);
	ck_assert_int_ge(counts[1], 2700);
	ck_assert_int_le(counts[1], 3300);
	ck_assert_int_ge(counts[2], 800);
	ck_assert_int_le(counts[2], 1200);
	behave_unref(b);
	scenario_unref(sc);
}
END_TEST

START_TEST(test_zero_weight_never_chosen)
{
	struct scenario *sc = load("{\"upsim\":1,\"rules\":[{\"choose\":"
				   "[{\"weight\":0,\"status\":500},{\"status\":200}]}]}");
	struct behave *b = behave_new(sc, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(behave_pick(b, &sc->rules[0])->status, 200);
	behave_unref(b);
	scenario_unref(sc);
}
END_TEST

START_TEST(test_different_seeds_differ)
{
	struct scenario *a = load(choose_json);
	char other[sizeof choose_json + 8];
	strcpy(other, choose_json);
	memcpy(strstr(other, "42"), "43", 2);
	struct scenario *c = load(other);
	struct behave *ba = behave_new(a, 0), *bc = behave_new(c, 0);
	int x[64], y[64];
	draw(ba, 0, x, 64);
	draw(bc, 0, y, 64);
	ck_assert(memcmp(x, y, sizeof x) != 0);
	behave_unref(ba);
	behave_unref(bc);
	scenario_unref(a);
	scenario_unref(c);
}
END_TEST

START_TEST(test_sequence_repeats_last)
{
	struct scenario *sc = load("{\"upsim\":1,\"rules\":[{\"sequence\":"
				   "[{\"status\":201},{\"status\":202},{\"status\":203}]}]}");
	struct behave *b = behave_new(sc, 0);
	int got[6], want[6] = {201, 202, 203, 203, 203, 203};
	draw(b, 0, got, 6);
	ck_assert_mem_eq(got, want, sizeof got);
	behave_reset(b);
	draw(b, 0, got, 1);
	ck_assert_int_eq(got[0], 201);
	behave_unref(b);
	scenario_unref(sc);
}
END_TEST

START_TEST(test_sequence_cycles)
{
	struct scenario *sc = load("{\"upsim\":1,\"rules\":[{\"cycle\":true,\"sequence\":"
				   "[{\"status\":201},{\"status\":202},{\"status\":203}]}]}");
	struct behave *b = behave_new(sc, 0);
	int got[7], want[7] = {201, 202, 203, 201, 202, 203, 201};
	draw(b, 0, got, 7);
	ck_assert_mem_eq(got, want, sizeof got);
	behave_unref(b);
	scenario_unref(sc);
}
END_TEST

START_TEST(test_rng_streams)
{
	struct rng a, b, c;
	rng_seed(&a, 1, 0);
	rng_seed(&b, 1, 0);
	rng_seed(&c, 1, 1);
	uint64_t xa = rng_next(&a), xb = rng_next(&b), xc = rng_next(&c);
	ck_assert_uint_eq(xa, xb);
	ck_assert_uint_ne(xa, xc);
	for (int i = 0; i < 1000; i++) {
		ck_assert_uint_lt(rng_below(&a, 7), 7);
		double u = rng_unit(&a);
		ck_assert(u >= 0.0 && u < 1.0);
	}
}
END_TEST

/* Service times are drawn from their own seeded stream: the same scenario
 * gives the same sequence, and phase rules do not shift it. */
START_TEST(test_service_times_are_seeded)
{
	struct scenario *sc = load(
		"{\"upsim\":1,\"seed\":5,\"overload\":{\"workers\":2,"
		"\"service_time\":{\"lognormal\":{\"median\":\"100ms\",\"sigma\":1}}},"
		"\"phases\":[{\"name\":\"p\",\"rules\":[{\"respond\":{}}]}]}");
	struct behave *b1 = behave_new(sc, 0), *b2 = behave_new(sc, 0);
	uint64_t x[50], y[50];
	for (int i = 0; i < 50; i++) {
		x[i] = behave_draw_us(&b1->overload_rng, &sc->overload.service_time);
		y[i] = behave_draw_us(&b2->overload_rng, &sc->overload.service_time);
	}
	ck_assert_mem_eq(x, y, sizeof x);
	ck_assert_uint_ne(x[0], x[1]);
	ck_assert_ptr_eq(behave_overload(b1, 0), &b1->overload); /* p has none of its own */
	behave_unref(b1);
	behave_unref(b2);
	scenario_unref(sc);
}
END_TEST

/* --threads: each thread draws from streams of its own (thread 0's are a
 * single upsim's), and the admin API adds the threads' counts up. */
START_TEST(test_threads_draw_apart_and_add_up)
{
	struct scenario *sc = load(choose_json);
	struct behave *t0 = behave_new(sc, 0), *t1 = behave_new(sc, 1), *again = behave_new(sc, 1);
	int x[200], y[200], z[200];
	draw(t0, 0, x, 200);
	draw(t1, 0, y, 200);
	draw(again, 0, z, 200);
	ck_assert(memcmp(x, y, sizeof x) != 0);
	ck_assert_mem_eq(y, z, sizeof y);
	behave_reset(t1); /* a reset keeps the thread's own streams */
	draw(t1, 0, z, 200);
	ck_assert_mem_eq(y, z, sizeof y);
	struct behave *sum = behave_new_sum(sc);
	behave_add(sum, t0);
	behave_add(sum, t1);
	ck_assert_uint_eq(sum->rules[0].count, 400);
	uint64_t picked = 0;
	for (size_t k = 0; k < sc->rules[0].n_actions; k++) {
		ck_assert_uint_eq(sum->rules[0].picked[k],
				  t0->rules[0].picked[k] + t1->rules[0].picked[k]);
		picked += sum->rules[0].picked[k];
	}
	ck_assert_uint_eq(picked, 400);
	behave_unref(sum);
	behave_unref(t0);
	behave_unref(t1);
	behave_unref(again);
	scenario_unref(sc);
}
END_TEST

Suite *behave_suite(void)
{
	Suite *s = suite_create("behave");
	TCase *tc = tcase_create("choose");
	tcase_add_test(tc, test_same_seed_same_choices);
	tcase_add_test(tc, test_service_times_are_seeded);
	tcase_add_test(tc, test_other_rules_do_not_shift_choices);
	tcase_add_test(tc, test_weights_are_respected);
	tcase_add_test(tc, test_zero_weight_never_chosen);
	tcase_add_test(tc, test_different_seeds_differ);
	tcase_add_test(tc, test_rng_streams);
	tcase_add_test(tc, test_threads_draw_apart_and_add_up);
	suite_add_tcase(s, tc);
	tc = tcase_create("sequence");
	tcase_add_test(tc, test_sequence_repeats_last);
	tcase_add_test(tc, test_sequence_cycles);
	suite_add_tcase(s, tc);
	return s;
}

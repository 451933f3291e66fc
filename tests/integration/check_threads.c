/* --threads N: N event loops on one port (SO_REUSEPORT), seen from
 * outside. Connections are spread by the kernel; the admin API adds every
 * thread's counters up; scenario swaps and phase changes reach every
 * thread before the API answers. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admin_fixture.h"
#include "suites.h"
#include "wire.h"

#define T_MS 5000

static const char counting_json[] = "{\"upsim\":1,\"name\":\"counting\",\"seed\":5,"
				    "\"defaults\":{\"body\":\"ok\\n\"},"
				    "\"rules\":[{\"name\":\"steps\",\"match\":{\"path\":\"/seq\"},"
				    " \"sequence\":[{\"status\":201},{\"status\":202}]}]}";

/* Threads of process pid, from /proc. */
static int count_threads(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* n requests for path, each on a new connection: each must end with a
 * FIN after a response of status want. */
static void expect_answers(const struct admin_fixture *f, const char *path, int n, int want)
{
	for (int i = 0; i < n; i++) {
		int status;
		ck_assert_int_eq(fixture_get(f, path, NULL, &status), WIRE_FIN);
		ck_assert_int_eq(status, want);
	}
}

/* connections.accepted_by_thread of the status: n entries into out. */
static void accepted_by_thread(const struct admin_fixture *f, json_int_t *out, size_t n)
{
	json_t *st = fixture_call_json(f, "GET", "/v1/status", NULL, 200);
	ck_assert_int_eq(json_int_at(st, "threads"), (json_int_t)n);
	json_t *a = json_object_get(json_object_get(st, "connections"), "accepted_by_thread");
	ck_assert_int_eq(json_array_size(a), n);
	for (size_t i = 0; i < n; i++)
		out[i] = json_integer_value(json_array_get(a, i));
	json_decref(st);
}

/* Each of n requests to path on a new connection; how many answered 201. */
static int count_201(const struct admin_fixture *f, const char *path, int n)
{
	int created = 0;
	for (int i = 0; i < n; i++) {
		int status;
		ck_assert_int_eq(fixture_get(f, path, NULL, &status), WIRE_FIN);
		ck_assert_msg(status == 201 || status == 202, "status %d", status);
		created += status == 201;
	}
	return created;
}

/* Two loops, one port: both serve (the kernel spreads 200 connections
 * between them: all on one has odds of 2^-199), the counters add up, the
 * journal has every request once with unique ids, and each thread plays
 * its own sequence: a thread's first /seq request gets the first step. */
START_TEST(test_threads_share_the_port_and_add_up)
{
	struct admin_fixture f;
	const char *extra[] = {"--threads", "2", NULL};
	fixture_start(&f, counting_json, extra);
	/* Two loops; a sanitizer may add a thread of its own. */
	ck_assert_int_ge(count_threads(f.p.pid), 2);
	expect_answers(&f, "/", 200, 200);
	json_int_t before[2], after[2];
	accepted_by_thread(&f, before, 2);
	ck_assert_int_eq(before[0] + before[1], 200);
	ck_assert_int_gt(before[0], 0);
	ck_assert_int_gt(before[1], 0);

	int created = count_201(&f, "/seq", 20);
	accepted_by_thread(&f, after, 2);
	int threads_used = (after[0] > before[0]) + (after[1] > before[1]);
	ck_assert_int_eq(created, threads_used);

	json_t *st = fixture_call_json(&f, "GET", "/v1/stats", NULL, 200);
	ck_assert_int_eq(json_int_at(st, "requests"), 220);
	json_t *rule = json_array_get(json_object_get(st, "rules"), 0);
	ck_assert_int_eq(json_int_at(rule, "requests"), 20);
	json_t *picked = json_object_get(rule, "actions");
	ck_assert_int_eq(json_integer_value(json_array_get(picked, 0)), created);
	ck_assert_int_eq(json_integer_value(json_array_get(picked, 1)), 20 - created);
	json_decref(st);

	json_t *recs = fixture_request_records(&f, 0);
	ck_assert_int_eq(json_array_size(recs), 220);
	json_int_t last_id = 0;
	json_t *conns = json_object();
	size_t i;
	json_t *r;
	json_array_foreach(recs, i, r)
	{
		ck_assert_int_gt(json_int_at(r, "id"), last_id);
		last_id = json_int_at(r, "id");
		char key[32];
		snprintf(key, sizeof key, "%lld", (long long)json_int_at(r, "conn"));
		ck_assert_ptr_null(json_object_get(conns, key));
		json_object_set_new(conns, key, json_true());
	}
	json_decref(conns);
	json_decref(recs);

	char *metrics;
	ck_assert_int_eq(fixture_call(&f, NULL, "GET", "/metrics", NULL, &metrics), 200);
	ck_assert_ptr_nonnull(strstr(metrics, "\nupsim_connections_total 220\n"));
	ck_assert_ptr_nonnull(strstr(metrics, "upsim_rule_requests_total{rule=\"steps\"} 20\n"));
	free(metrics);

	/* A reset zeroes every thread's counts and starts every sequence over. */
	json_decref(fixture_call_json(&f, "POST", "/v1/reset", NULL, 200));
	st = fixture_call_json(&f, "GET", "/v1/stats", NULL, 200);
	rule = json_array_get(json_object_get(st, "rules"), 0);
	ck_assert_int_eq(json_int_at(rule, "requests"), 0);
	json_decref(st);
	accepted_by_thread(&f, before, 2);
	created = count_201(&f, "/seq", 20);
	accepted_by_thread(&f, after, 2);
	ck_assert_int_eq(created, (after[0] > before[0]) + (after[1] > before[1]));
	fixture_finish(&f);
}
END_TEST

static const char phased_a[] =
	"{\"upsim\":1,\"name\":\"A\",\"defaults\":{\"status\":200,\"body\":\"A\"},"
	"\"phases\":[{\"name\":\"up\"},{\"name\":\"down\",\"listen\":false}]}";
static const char phased_b[] =
	"{\"upsim\":1,\"name\":\"B\",\"defaults\":{\"status\":202,\"body\":\"B\"},"
	"\"phases\":[{\"name\":\"up\"},{\"name\":\"down\",\"listen\":false}]}";

/* n connections, each must be refused. */
static void expect_refused(const struct admin_fixture *f, int n)
{
	for (int i = 0; i < n; i++) {
		int fd = wire_connect(f->p.host, f->p.port, T_MS);
		ck_assert_msg(fd == -1 && errno == ECONNREFUSED, "connection %d: %s", i,
			      fd == -1 ? strerror(errno) : "accepted");
	}
}

/* When the API answers, every thread serves what it asked for: the new
 * scenario, a phase that does not listen, and listening again. */
START_TEST(test_every_thread_follows_swaps_and_phases)
{
	struct admin_fixture f;
	const char *extra[] = {"--threads", "3", NULL};
	fixture_start(&f, phased_a, extra);
	expect_answers(&f, "/", 60, 200);
	json_decref(fixture_call_json(&f, "PUT", "/v1/scenario", phased_b, 200));
	expect_answers(&f, "/", 60, 202);
	json_decref(fixture_call_json(&f, "POST", "/v1/phase", "{\"phase\":\"down\"}", 200));
	expect_refused(&f, 60);
	json_decref(fixture_call_json(&f, "POST", "/v1/phase", "{\"phase\":\"up\"}", 200));
	expect_answers(&f, "/", 60, 202);
	json_int_t by_thread[3];
	accepted_by_thread(&f, by_thread, 3);
	ck_assert_int_eq(by_thread[0] + by_thread[1] + by_thread[2], 180);
	fixture_finish(&f);
}
END_TEST

Suite *threads_suite(void)
{
	Suite *s = suite_create("threads");
	TCase *tc = tcase_create("reuseport");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_threads_share_the_port_and_add_up);
	tcase_add_test(tc, test_every_thread_follows_swaps_and_phases);
	suite_add_tcase(s, tc);
	return s;
}

/* The admin API, the journal and drill safety, seen from outside: upsim
 * started with --admin 127.0.0.1:0, driven with raw sockets on its
 * gateway port and with HTTP (libcurl, through ctl_request) on its admin
 * port. */
#include <check.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin_fixture.h"
#include "client/ctl.h"
#include "journal_read.h"
#include "proc.h"
#include "suites.h"
#include "wire.h"

#define T_MS 5000

static const char scenario_json[] =
	"{\"upsim\":1,\"name\":\"admin-test\",\"seed\":3,"
	"\"defaults\":{\"body\":\"ok\\n\"},"
	"\"rules\":["
	"{\"name\":\"resets\",\"match\":{\"path\":\"/reset\"},\"respond\":{\"fault\":\"reset\"}},"
	"{\"name\":\"closes\",\"match\":{\"path\":\"/close\"},\"respond\":{\"fault\":\"close\"}},"
	"{\"name\":\"steps\",\"match\":{\"path\":\"/seq\"},"
	" \"sequence\":[{\"status\":201},{\"status\":202}]}"
	"],"
	"\"phases\":[{\"name\":\"calm\",\"duration\":\"1h\"},{\"name\":\"storm\"}]}";

START_TEST(test_status_and_ready_line)
{
	struct admin_fixture f;
	fixture_start(&f, scenario_json, NULL);
	ck_assert_ptr_nonnull(strstr(f.p.ready_line, "\"admin\":\"127.0.0.1:"));
	json_t *s = fixture_call_json(&f, "GET", "/v1/status", NULL, 200);
	ck_assert_str_eq(json_str_at(s, "scenario"), "admin-test");
	ck_assert_str_eq(json_str_at(s, "phase"), "calm");
	ck_assert_str_eq(json_str_at(s, "admin"), f.admin);
	ck_assert(json_is_true(json_object_get(s, "listening")));
	json_decref(s);
	char *text;
	ck_assert_int_eq(fixture_call(&f, NULL, "GET", "/healthz", NULL, &text), 200);
	ck_assert_str_eq(text, "ok\n");
	free(text);
	fixture_finish(&f);
}
END_TEST

/* Every request appears once, in order, with the outcome the client saw;
 * a repeated request id counts attempts. */
START_TEST(test_journal_has_every_request_once)
{
	struct admin_fixture f;
	fixture_start(&f, scenario_json, NULL);
	static const struct {
		const char *path;
		enum wire_end end;
		const char *outcome;
	} kinds[] = {
		{"/", WIRE_FIN, "response"},
		{"/reset", WIRE_RST, "rst"},
		{"/close", WIRE_FIN, "fin"},
	};
	enum {
		N = 30
	};
	for (int i = 0; i < N; i++) {
		char id[32];
		snprintf(id, sizeof id, "req-%d", i);
		int status;
		ck_assert_int_eq(fixture_get(&f, kinds[i % 3].path, id, &status), kinds[i % 3].end);
	}
	int status;
	fixture_get(&f, "/", "again", &status);
	fixture_get(&f, "/", "again", &status);
	json_t *recs = fixture_request_records(&f, 0);
	ck_assert_int_eq(json_array_size(recs), N + 2);
	json_int_t last_id = 0;
	for (int i = 0; i < N; i++) {
		json_t *r = json_array_get(recs, (size_t)i);
		char id[32];
		snprintf(id, sizeof id, "req-%d", i);
		ck_assert_str_eq(json_str_at(r, "request_id"), id);
		ck_assert_str_eq(json_str_at(r, "path"), kinds[i % 3].path);
		ck_assert_str_eq(json_str_at(r, "outcome"), kinds[i % 3].outcome);
		ck_assert_int_eq(json_int_at(r, "attempt"), 1);
		ck_assert_int_gt(json_int_at(r, "id"), last_id);
		last_id = json_int_at(r, "id");
	}
	ck_assert_int_eq(json_int_at(json_array_get(recs, N), "attempt"), 1);
	ck_assert_int_eq(json_int_at(json_array_get(recs, N + 1), "attempt"), 2);
	json_decref(recs);

	/* Paging: since the last id there is nothing; limit cuts and next
	 * continues. */
	json_t *page = fixture_call_json(&f, "GET", "/v1/journal?limit=5", NULL, 200);
	ck_assert_int_eq(json_array_size(json_object_get(page, "records")), 5);
	json_int_t next = json_int_at(page, "next");
	ck_assert_int_eq(json_int_at(page, "missed"), 0);
	json_decref(page);
	char path[64];
	snprintf(path, sizeof path, "/v1/journal?since=%lld", (long long)next);
	page = fixture_call_json(&f, "GET", path, NULL, 200);
	ck_assert_int_eq(json_int_at(json_array_get(json_object_get(page, "records"), 0), "id"),
			 next + 1);
	json_decref(page);
	fixture_finish(&f);
}
END_TEST

START_TEST(test_stats_and_metrics_count_what_happened)
{
	struct admin_fixture f;
	fixture_start(&f, scenario_json, NULL);
	int status;
	fixture_get(&f, "/reset", NULL, &status);
	fixture_get(&f, "/reset", NULL, &status);
	fixture_get(&f, "/seq", NULL, &status);
	ck_assert_int_eq(status, 201);
	fixture_get(&f, "/seq", NULL, &status);
	ck_assert_int_eq(status, 202);
	fixture_get(&f, "/", NULL, &status);
	json_t *s = fixture_call_json(&f, "GET", "/v1/stats", NULL, 200);
	ck_assert_int_eq(json_int_at(s, "requests"), 5);
	ck_assert_int_eq(json_int_at(json_object_get(s, "faults"), "reset"), 2);
	ck_assert_int_eq(json_int_at(json_object_get(s, "outcomes"), "rst"), 2);
	ck_assert_int_eq(json_int_at(json_object_get(s, "outcomes"), "response"), 3);
	json_t *steps = json_array_get(json_object_get(s, "rules"), 2);
	ck_assert_str_eq(json_str_at(steps, "name"), "steps");
	ck_assert_int_eq(json_int_at(steps, "requests"), 2);
	ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(steps, "actions"), 1)),
			 1);
	ck_assert_int_eq(json_int_at(json_object_get(s, "defaults"), "requests"), 1);
	json_decref(s);
	char *text;
	ck_assert_int_eq(fixture_call(&f, NULL, "GET", "/metrics", NULL, &text), 200);
	ck_assert_ptr_nonnull(strstr(text, "\nupsim_requests_total 5\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nupsim_faults_total{fault=\"reset\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nupsim_request_duration_seconds_count 5\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nupsim_phase{phase=\"calm\",index=\"0\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "# TYPE upsim_connections_open gauge\n"));
	free(text);

	/* Reset: counters zero, the journal empty, sequences from the start;
	 * ids go on. */
	json_t *after = fixture_call_json(&f, "POST", "/v1/reset", NULL, 200);
	ck_assert_int_eq(json_int_at(after, "requests"), 0);
	json_decref(after);
	fixture_get(&f, "/seq", NULL, &status);
	ck_assert_int_eq(status, 201);
	json_t *recs = fixture_request_records(&f, 0);
	ck_assert_int_eq(json_array_size(recs), 1);
	ck_assert_int_gt(json_int_at(json_array_get(recs, 0), "id"), 6);
	json_decref(recs);
	json_t *page = fixture_call_json(&f, "GET", "/v1/journal", NULL, 200);
	ck_assert_int_eq(json_int_at(page, "missed"), 0);
	json_decref(page);
	fixture_finish(&f);
}
END_TEST

/* A request that meets the previous response's after: on_next_request
 * reached upsim: its record carries its request id, so upsim check counts
 * it among the gateway's attempts. */
START_TEST(test_refused_request_keeps_its_id)
{
	struct admin_fixture f;
	fixture_start(&f, "{\"upsim\":1,\"defaults\":{\"after\":{\"on_next_request\":\"reset\"}}}",
		      NULL);
	int fd = wire_connect(f.p.host, f.p.port, T_MS);
	ck_assert_int_ge(fd, 0);
	struct wire_conn c = {.fd = fd};
	struct wire_http_response r;
	ck_assert_int_eq(wire_send_str(fd,
				       "GET /a HTTP/1.1\r\nHost: t\r\nX-Request-Id: first\r\n\r\n",
				       T_MS),
			 0);
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_int_eq(r.status, 200);
	wire_http_response_free(&r);
	ck_assert_int_eq(wire_send_str(fd,
				       "GET /b HTTP/1.1\r\nHost: t\r\nX-Request-Id: second\r\n\r\n",
				       T_MS),
			 0);
	struct wire_result end = {0};
	wire_read_until_end(fd, wire_now_ms(), T_MS, &end);
	ck_assert_int_eq(end.end, WIRE_RST);
	wire_result_free(&end);
	close(fd);
	free(c.buf);
	json_t *recs = fixture_request_records(&f, 0);
	ck_assert_int_eq(json_array_size(recs), 2);
	json_t *second = json_array_get(recs, 1);
	ck_assert_str_eq(json_str_at(second, "path"), "/b");
	ck_assert_str_eq(json_str_at(second, "outcome"), "rst");
	ck_assert_str_eq(json_str_at(second, "request_id"), "second");
	ck_assert_int_eq(json_int_at(second, "attempt"), 1);
	json_decref(recs);
	fixture_finish(&f);
}
END_TEST

START_TEST(test_put_scenario_validates_then_swaps)
{
	struct admin_fixture f;
	fixture_start(&f, scenario_json, NULL);
	json_t *e = fixture_call_json(&f, "PUT", "/v1/scenario",
				      "{\"upsim\":1,\"rules\":[{\"respond\":{\"staus\":200}}]}",
				      400);
	ck_assert_str_eq(json_str_at(e, "error"), "invalid scenario");
	const char *first = json_string_value(json_array_get(json_object_get(e, "errors"), 0));
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_nonnull(strstr(first, "<admin>: rules[0].respond.staus: unknown key"));
	json_decref(e);
	e = fixture_call_json(&f, "PUT", "/v1/scenario", "{\"upsim\":1,", 400);
	ck_assert_ptr_nonnull(
		strstr(json_string_value(json_array_get(json_object_get(e, "errors"), 0)),
		       "<admin>:1:"));
	json_decref(e);
	int status;
	fixture_get(&f, "/", NULL, &status);
	ck_assert_int_eq(status, 200); /* the old scenario still serves */

	json_t *s = fixture_call_json(
		&f, "PUT", "/v1/scenario",
		"{\"upsim\":1,\"name\":\"swapped\",\"defaults\":{\"status\":418}}", 200);
	ck_assert_str_eq(json_str_at(s, "scenario"), "swapped");
	json_decref(s);
	fixture_get(&f, "/", NULL, &status);
	ck_assert_int_eq(status, 418);
	fixture_finish(&f);
}
END_TEST

START_TEST(test_phase_jump)
{
	struct admin_fixture f;
	fixture_start(&f, scenario_json, NULL);
	json_t *s = fixture_call_json(&f, "POST", "/v1/phase", "{\"phase\":\"storm\"}", 200);
	ck_assert_str_eq(json_str_at(s, "phase"), "storm");
	json_decref(s);
	json_decref(fixture_call_json(&f, "POST", "/v1/phase", "{\"phase\":\"nope\"}", 404));
	json_decref(fixture_call_json(&f, "POST", "/v1/phase", "{\"phase\":", 400));
	json_decref(fixture_call_json(&f, "POST", "/v1/phase", "[]", 400));
	json_decref(fixture_call_json(&f, "POST", "/v1/phase", "{\"name\":\"storm\"}", 400));
	int status;
	fixture_get(&f, "/", NULL, &status);
	json_t *recs = fixture_request_records(&f, 0);
	ck_assert_str_eq(json_str_at(json_array_get(recs, 0), "phase"), "storm");
	json_decref(recs);
	fixture_finish(&f);
}
END_TEST

START_TEST(test_bad_requests_get_clear_errors)
{
	struct admin_fixture f;
	fixture_start(&f, scenario_json, NULL);
	json_decref(fixture_call_json(&f, "GET", "/v2/nothing", NULL, 404));
	json_decref(fixture_call_json(&f, "GET", "/v1/scenario", NULL, 405));
	json_decref(fixture_call_json(&f, "DELETE", "/v1/status", NULL, 405));
	json_decref(fixture_call_json(&f, "GET", "/v1/journal?since=x", NULL, 400));
	json_decref(fixture_call_json(&f, "GET", "/v1/journal?limit=0", NULL, 400));
	json_decref(fixture_call_json(&f, "GET", "/v1/journal?limit=10001", NULL, 400));
	/* No endpoint reads a file named by the request: paths that try
	 * are unknown, queries naming files are ignored. */
	json_decref(fixture_call_json(&f, "GET", "/v1/../../etc/passwd", NULL, 404));
	json_decref(fixture_call_json(&f, "GET", "/v1/scenario?file=/etc/passwd", NULL, 405));
	json_decref(fixture_call_json(&f, "PUT", "/v1/scenario?file=/etc/passwd", "\"/etc/passwd\"",
				      400));
	/* A body over the 4 MiB limit is refused, and upsim goes on. */
	size_t big = (4u << 20) + 1;
	char *body = malloc(big + 1);
	memset(body, ' ', big);
	body[big] = '\0';
	long status = 0;
	char *text = NULL;
	int rc = ctl_request(f.admin, NULL, "PUT", "/v1/scenario", body, big, &status, &text);
	/* MHD may close before reading all of it; the answer is still 413. */
	if (rc == 0)
		ck_assert_int_eq(status, 413);
	free(text);
	free(body);
	json_decref(fixture_call_json(&f, "GET", "/v1/status", NULL, 200));
	fixture_finish(&f);
}
END_TEST

START_TEST(test_token_is_enforced)
{
	struct admin_fixture f;
	const char *extra[] = {"--admin-token", "s3cret", NULL};
	fixture_start(&f, scenario_json, extra);
	ck_assert_int_eq(fixture_call(&f, NULL, "GET", "/v1/status", NULL, NULL), 401);
	ck_assert_int_eq(fixture_call(&f, "wrong", "GET", "/v1/status", NULL, NULL), 401);
	ck_assert_int_eq(fixture_call(&f, "s3cre", "GET", "/healthz", NULL, NULL), 401);
	ck_assert_int_eq(fixture_call(&f, "s3crett", "GET", "/metrics", NULL, NULL), 401);
	ck_assert_int_eq(fixture_call(&f, "s3cret", "GET", "/v1/status", NULL, NULL), 200);
	ck_assert_int_eq(fixture_call(&f, NULL, "PUT", "/v1/scenario", "{}", NULL), 401);
	fixture_finish(&f);
}
END_TEST

START_TEST(test_non_loopback_admin_needs_a_token)
{
	char *out, *err;
	const char *args[] = {"run",	 "--listen",  "127.0.0.1:0",
			      "--admin", "0.0.0.0:0", "scenarios/healthy.json",
			      NULL};
	ck_assert_int_eq(upsim_run_capture(args, T_MS, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "not a loopback address"));
	ck_assert_str_eq(out, "");
	free(out);
	free(err);
}
END_TEST

/* Two scenarios whose every response says which one it is; a client
 * hammers upsim while the admin API swaps them back and forth. Every
 * response must be wholly one or the other. */
static const char swap_a[] = "{\"upsim\":1,\"name\":\"A\",\"defaults\":{"
			     "\"headers\":{\"X-Which\":\"A\"},\"body_size\":2000,\"status\":200}}";
static const char swap_b[] = "{\"upsim\":1,\"name\":\"B\",\"defaults\":{"
			     "\"headers\":{\"X-Which\":\"B\"},\"body\":\"BBBB\",\"status\":202}}";

struct hammer {
	const struct admin_fixture *f;
	int done, bad, seen_a, seen_b, stop;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	struct wire_conn c = {.fd = wire_connect(h->f->p.host, h->f->p.port, T_MS)};
	double until = wire_now_ms() + 20000;
	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE) && h->done < 5000
	       && wire_now_ms() < until) {
		struct wire_http_response r = {0};
		if (wire_send_str(c.fd, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", T_MS) != 0
		    || wire_http_read(&c, 0, T_MS, &r) != 0) {
			h->bad++;
			break;
		}
		char *which = wire_http_header(&r, "X-Which");
		bool a = which && strcmp(which, "A") == 0 && r.status == 200 && r.body_len == 2000;
		bool b = which && strcmp(which, "B") == 0 && r.status == 202 && r.body_len == 4
			 && memcmp(r.body, "BBBB", 4) == 0;
		h->seen_a += a;
		h->seen_b += b;
		h->bad += !a && !b;
		h->done++;
		free(which);
		wire_http_response_free(&r);
	}
	close(c.fd);
	free(c.buf);
	return NULL;
}

/* With _i + 1 threads (--threads), hammered on 4 keep-alive connections
 * (spread over the threads by the kernel). */
START_TEST(test_swap_is_atomic_under_load)
{
	struct admin_fixture f;
	char threads[16];
	snprintf(threads, sizeof threads, "%d", _i + 1);
	const char *extra[] = {"--threads", threads, NULL};
	fixture_start(&f, swap_a, extra);
	struct hammer h[4] = {{0}};
	pthread_t t[4];
	for (int k = 0; k < 4; k++) {
		h[k].f = &f;
		ck_assert_int_eq(pthread_create(&t[k], NULL, hammer_run, &h[k]), 0);
	}
	for (int i = 0; i < 60; i++)
		json_decref(
			fixture_call_json(&f, "PUT", "/v1/scenario", i % 2 ? swap_a : swap_b, 200));
	int done = 0, bad = 0, seen_a = 0, seen_b = 0;
	for (int k = 0; k < 4; k++) {
		__atomic_store_n(&h[k].stop, 1, __ATOMIC_RELEASE);
		pthread_join(t[k], NULL);
		done += h[k].done;
		bad += h[k].bad;
		seen_a += h[k].seen_a;
		seen_b += h[k].seen_b;
	}
	ck_assert_int_eq(bad, 0);
	ck_assert_int_gt(seen_a, 0);
	ck_assert_int_gt(seen_b, 0);
	/* The journal holds every one of them, each under one scenario. */
	json_t *st = fixture_call_json(&f, "GET", "/v1/stats", NULL, 200);
	ck_assert_int_eq(json_int_at(st, "requests"), done);
	json_decref(st);
	fixture_finish(&f);
}
END_TEST

START_TEST(test_drill_ttl_expires_unless_renewed)
{
	struct admin_fixture f;
	const char *extra[] = {"--drill-ttl", "1s", NULL};
	fixture_start(&f, "{\"upsim\":1,\"name\":\"drill\",\"defaults\":{\"status\":503}}", extra);
	int status;
	fixture_get(&f, "/", NULL, &status);
	ck_assert_int_eq(status, 503);
	json_t *s = fixture_call_json(&f, "POST", "/v1/renew", "{\"ttl\":\"300ms\"}", 200);
	json_t *drill = json_object_get(s, "drill");
	ck_assert(json_real_value(json_object_get(drill, "remaining_s")) <= 0.3);
	json_decref(s);
	json_decref(fixture_call_json(&f, "POST", "/v1/renew", "{\"ttl\":\"soon\"}", 400));
	ck_assert_int_eq(upsim_wait_stderr(&f.p, "drill TTL ran out", T_MS), 0);
	fixture_get(&f, "/", NULL, &status);
	ck_assert_int_eq(status, 200);
	json_decref(fixture_call_json(&f, "POST", "/v1/renew", NULL, 409));
	s = fixture_call_json(&f, "GET", "/v1/status", NULL, 200);
	ck_assert(json_is_true(json_object_get(json_object_get(s, "drill"), "expired")));
	json_decref(s);
	fixture_finish(&f);
}
END_TEST

START_TEST(test_renew_without_ttl_is_a_conflict)
{
	struct admin_fixture f;
	fixture_start(&f, scenario_json, NULL);
	json_decref(fixture_call_json(&f, "POST", "/v1/renew", NULL, 409));
	fixture_finish(&f);
}
END_TEST

START_TEST(test_duration_exits_cleanly)
{
	struct upsim_proc p;
	const char *extra[] = {"--duration", "200ms", NULL};
	ck_assert_int_eq(upsim_start_scenario(&p, "scenarios/healthy.json", extra, T_MS), 0);
	ck_assert_int_eq(upsim_wait_stderr(&p, "stopping: --duration has passed", T_MS), 0);
	ck_assert_int_eq(upsim_stop(&p, 0, T_MS), 0);
	upsim_proc_free(&p);
}
END_TEST

static size_t count_lines(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	char line[4096];
	size_t n = 0;
	while (fgets(line, sizeof line, fp))
		n += strstr(line, needle) != NULL;
	fclose(fp);
	return n;
}

START_TEST(test_journal_file_and_access_log)
{
	char *journal = upsim_write_temp("", ".jsonl");
	char *access = upsim_write_temp("", ".log");
	struct admin_fixture f;
	const char *extra[] = {"--journal", journal, "--access-log", access, NULL};
	fixture_start(&f, scenario_json, extra);
	int status;
	for (int i = 0; i < 7; i++)
		fixture_get(&f, i % 2 ? "/reset" : "/", NULL, &status);
	fixture_finish(&f);
	ck_assert_uint_eq(count_lines(journal, "\"kind\":\"request\""), 7);
	ck_assert_uint_eq(count_lines(journal, "\"outcome\":\"rst\""), 3);
	ck_assert_uint_eq(count_lines(access, " GET \"/reset\" status=0 fault=reset outcome=rst"),
			  3);
	ck_assert_uint_eq(count_lines(access, " GET \"/\" status=200 fault=none outcome=response"),
			  4);
	unlink(journal);
	unlink(access);
	free(journal);
	free(access);
}
END_TEST

START_TEST(test_json_logs)
{
	struct upsim_proc p;
	const char *extra[] = {"--log-format", "json", NULL};
	ck_assert_int_eq(upsim_start_scenario(&p, "scenarios/healthy.json", extra, T_MS), 0);
	ck_assert_int_eq(upsim_stop(&p, SIGTERM, T_MS), 0);
	char *line = strtok(p.err_text, "\n");
	int lines = 0;
	for (; line != NULL; line = strtok(NULL, "\n")) {
		if (strncmp(line, "==", 2) == 0 || strncmp(line, "--", 2) == 0)
			continue; /* valgrind's own lines, under UPSIM_WRAP */
		lines++;
		json_t *o = json_loads(line, 0, NULL);
		ck_assert_msg(o != NULL, "not a JSON line: %s", line);
		ck_assert_ptr_nonnull(json_string_value(json_object_get(o, "msg")));
		ck_assert_ptr_nonnull(json_string_value(json_object_get(o, "level")));
		json_decref(o);
	}
	ck_assert_int_ge(lines, 2);
	upsim_proc_free(&p);
}
END_TEST

START_TEST(test_ctl_client)
{
	char *ready = upsim_write_temp("", ".ready");
	struct admin_fixture f;
	const char *extra[] = {"--ready-file", ready, NULL};
	fixture_start(&f, scenario_json, extra);
	int status;
	fixture_get(&f, "/", NULL, &status);
	fixture_get(&f, "/reset", NULL, &status);
	char *out, *err;
	const char *st[] = {"ctl", "--ready-file", ready, "status", NULL};
	ck_assert_int_eq(upsim_run_capture(st, T_MS, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"scenario\": \"admin-test\""));
	free(out);
	free(err);
	const char *jr[] = {"ctl", "--admin", f.admin, "journal", "--since", "0", NULL};
	ck_assert_int_eq(upsim_run_capture(jr, T_MS, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"path\":\"/reset\""));
	ck_assert_ptr_nonnull(strstr(out, "\"outcome\":\"rst\""));
	free(out);
	free(err);
	const char *ph[] = {"ctl", "--admin", f.admin, "phase", "nope", NULL};
	ck_assert_int_eq(upsim_run_capture(ph, T_MS, &out, &err), 1);
	ck_assert_ptr_nonnull(strstr(err, "has no phase \"nope\""));
	free(out);
	free(err);
	const char *ld[] = {"ctl", "--admin", f.admin, "load", "scenarios/flaky.json", NULL};
	ck_assert_int_eq(upsim_run_capture(ld, T_MS, &out, &err), 0);
	free(out);
	free(err);
	const char *bad[] = {"ctl", "--admin", f.admin, "explode", NULL};
	ck_assert_int_eq(upsim_run_capture(bad, T_MS, &out, &err), 2);
	free(out);
	free(err);
	json_t *s = fixture_call_json(&f, "GET", "/v1/status", NULL, 200);
	ck_assert_str_eq(json_str_at(s, "scenario"), "flaky");
	json_decref(s);
	fixture_finish(&f);
	unlink(ready);
	free(ready);
}
END_TEST

/* Rules limited to phases follow a phase jump; connection_request and
 * reused pick requests by their place on a keep-alive connection. */
START_TEST(test_rules_by_phase_and_connection_position)
{
	struct admin_fixture f;
	fixture_start(
		&f,
		"{\"upsim\":1,\"name\":\"position\","
		"\"phases\":[{\"name\":\"calm\",\"duration\":\"1h\"},{\"name\":\"storm\"}],"
		"\"rules\":["
		"{\"phases\":[\"storm\"],\"respond\":{\"status\":503}},"
		"{\"match\":{\"path\":\"/r\",\"reused\":true},\"respond\":{\"fault\":\"reset\"}},"
		"{\"match\":{\"path\":\"/"
		"n\",\"connection_request\":2},\"respond\":{\"status\":202}}"
		"]}",
		NULL);
	struct wire_conn c = {.fd = wire_connect(f.p.host, f.p.port, T_MS)};
	static const int want[] = {200, 202, 200};
	for (int i = 0; i < 3; i++) {
		struct wire_http_response r = {0};
		ck_assert_int_eq(wire_send_str(c.fd, "GET /n HTTP/1.1\r\nHost: t\r\n\r\n", T_MS),
				 0);
		ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
		ck_assert_int_eq(r.status, want[i]);
		wire_http_response_free(&r);
	}
	close(c.fd);
	free(c.buf);

	c = (struct wire_conn){.fd = wire_connect(f.p.host, f.p.port, T_MS)};
	struct wire_http_response r = {0};
	ck_assert_int_eq(wire_send_str(c.fd, "GET /r HTTP/1.1\r\nHost: t\r\n\r\n", T_MS), 0);
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_int_eq(r.status, 200);
	wire_http_response_free(&r);
	ck_assert_int_eq(wire_send_str(c.fd, "GET /r HTTP/1.1\r\nHost: t\r\n\r\n", T_MS), 0);
	struct wire_result end = {0};
	ck_assert_int_eq(wire_read_until_end(c.fd, wire_now_ms(), T_MS, &end), 0);
	ck_assert_int_eq(end.end, WIRE_RST);
	ck_assert_uint_eq(end.len, 0);
	wire_result_free(&end);
	close(c.fd);
	free(c.buf);

	int status;
	fixture_get(&f, "/", NULL, &status);
	ck_assert_int_eq(status, 200);
	json_decref(fixture_call_json(&f, "POST", "/v1/phase", "{\"phase\":\"storm\"}", 200));
	fixture_get(&f, "/", NULL, &status);
	ck_assert_int_eq(status, 503);
	fixture_finish(&f);
}
END_TEST

/* Timing tolerance: generous under valgrind (UPSIM_WRAP). */
static double slack_ms(void)
{
	const char *wrap = getenv("UPSIM_WRAP");
	return wrap && *wrap ? 2000 : 250;
}

/* Two workers, a service time S each, two queue places: of six requests
 * sent at once, two are served after S, two wait and are served after
 * 2 S, two are turned away at once with 503 and Retry-After. S is longer
 * than the slack, so the three groups cannot be mistaken for each other
 * (under valgrind too). */
START_TEST(test_overload_serves_queues_and_rejects)
{
	struct admin_fixture f;
	double slack = slack_ms(), svc = slack + 50;
	char json[256];
	snprintf(json, sizeof json,
		 "{\"upsim\":1,\"name\":\"overload\",\"overload\":"
		 "{\"workers\":2,\"service_time\":%d,\"queue\":2}}",
		 (int)svc);
	fixture_start(&f, json, NULL);
	enum {
		N = 6
	};
	int fds[N];
	double start = wire_now_ms();
	for (int i = 0; i < N; i++) {
		fds[i] = wire_connect(f.p.host, f.p.port, T_MS);
		ck_assert_int_ge(fds[i], 0);
		ck_assert_int_eq(wire_send_str(fds[i],
					       "GET / HTTP/1.1\r\nHost: t\r\n"
					       "Connection: close\r\n\r\n",
					       T_MS),
				 0);
	}
	/* Read all six at once, so each first byte is timed when it comes. */
	char text[N][512] = {{0}};
	size_t len[N] = {0};
	double first[N];
	int open_fds = N;
	for (int i = 0; i < N; i++)
		first[i] = -1;
	while (open_fds > 0 && wire_now_ms() - start < 2 * svc + slack + T_MS) {
		struct pollfd pfd[N];
		for (int i = 0; i < N; i++)
			pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
		ck_assert_int_ge(poll(pfd, N, 100), 0);
		for (int i = 0; i < N; i++) {
			if (fds[i] < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(fds[i], text[i] + len[i], sizeof text[i] - 1 - len[i]);
			if (n > 0 && first[i] < 0)
				first[i] = wire_now_ms() - start;
			if (n > 0) {
				len[i] += (size_t)n;
				continue;
			}
			close(fds[i]);
			fds[i] = -1;
			open_fds--;
		}
	}
	ck_assert_int_eq(open_fds, 0);
	int at_once = 0, after_wait = 0, rejected = 0;
	for (int i = 0; i < N; i++) {
		if (strncmp(text[i], "HTTP/1.1 503", 12) == 0) {
			ck_assert_ptr_nonnull(strstr(text[i], "Retry-After: 1\r\n"));
			ck_assert_msg(first[i] < slack, "503 after %.0f ms", first[i]);
			rejected++;
			continue;
		}
		ck_assert_msg(strncmp(text[i], "HTTP/1.1 200", 12) == 0, "%s", text[i]);
		ck_assert_msg(first[i] >= svc - 2, "200 after %.0f ms", first[i]);
		if (first[i] < svc + slack)
			at_once++;
		else if (first[i] >= 2 * svc - 2 && first[i] < 2 * svc + slack)
			after_wait++;
	}
	ck_assert_int_eq(at_once, 2);
	ck_assert_int_eq(after_wait, 2);
	ck_assert_int_eq(rejected, 2);
	json_t *s = fixture_call_json(&f, "GET", "/v1/status", NULL, 200);
	json_t *o = json_object_get(s, "overload");
	ck_assert_int_eq(json_int_at(o, "served_at_once"), 2);
	ck_assert_int_eq(json_int_at(o, "served_after_wait"), 2);
	ck_assert_int_eq(json_int_at(o, "rejected"), 2);
	ck_assert_int_eq(json_int_at(o, "peak_busy"), 2);
	ck_assert_int_eq(json_int_at(o, "busy"), 0);
	json_decref(s);
	json_t *recs = fixture_request_records(&f, 0);
	int by_kind[3] = {0};
	size_t i;
	json_t *r;
	json_array_foreach(recs, i, r)
	{
		const char *k = json_str_at(r, "overload");
		by_kind[strcmp(k, "served") == 0 ? 0 : strcmp(k, "waited") == 0 ? 1 : 2]++;
	}
	ck_assert_int_eq(by_kind[0], 2);
	ck_assert_int_eq(by_kind[1], 2);
	ck_assert_int_eq(by_kind[2], 2);
	json_decref(recs);
	fixture_finish(&f);
}
END_TEST

/* A client that leaves does not free its worker: the server finishes
 * the work, as real ones do, so the next request still waits for it. */
START_TEST(test_overload_worker_outlives_its_client)
{
	struct admin_fixture f;
	fixture_start(&f,
		      "{\"upsim\":1,\"name\":\"busy\","
		      "\"overload\":{\"workers\":1,\"service_time\":\"600ms\",\"queue\":1}}",
		      NULL);
	static const char req[] = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	double start = wire_now_ms();
	int a = wire_connect(f.p.host, f.p.port, T_MS);
	ck_assert_int_eq(wire_send_str(a, req, T_MS), 0);
	/* Wait (bounded) until upsim has given A its worker, then leave. */
	while (fixture_status_int(&f, "overload", "busy") == 0)
		ck_assert(wire_now_ms() - start < T_MS);
	wire_close_rst(a);
	int b = wire_connect(f.p.host, f.p.port, T_MS);
	ck_assert_int_eq(wire_send_str(b, req, T_MS), 0);
	struct wire_result r = {0};
	ck_assert_int_eq(wire_read_until_end(b, start, T_MS, &r), 0);
	ck_assert_msg(strncmp((const char *)r.bytes, "HTTP/1.1 200", 12) == 0, "%s", r.bytes);
	/* A's 600 ms, then B's own 600 ms. */
	ck_assert_msg(r.first_ms >= 1200 - 2, "B answered after %.0f ms", r.first_ms);
	wire_result_free(&r);
	close(b);
	fixture_finish(&f);
}
END_TEST

/* A gateway that gives up on a delayed request (FIN for _i 0, RST for 1)
 * is seen at once: the record says client_closed after well under the
 * 10 s asked for, and the connection is gone. */
START_TEST(test_client_leaving_a_delay_is_seen_at_once)
{
	struct admin_fixture f;
	fixture_start(&f, "{\"upsim\":1,\"name\":\"slow\",\"defaults\":{\"delay\":\"10s\"}}", NULL);
	static const char req[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
	double start = wire_now_ms();
	int fd = wire_connect(f.p.host, f.p.port, T_MS);
	ck_assert_int_eq(wire_send_str(fd, req, T_MS), 0);
	/* Wait (bounded) until upsim has read the request. */
	while (fixture_status_int(&f, "connections", "suspended") == 0)
		ck_assert(wire_now_ms() - start < T_MS);
	if (_i == 0)
		close(fd);
	else
		wire_close_rst(fd);
	ck_assert_int_eq(upsim_wait_idle(&f.p, T_MS), 0);
	json_t *recs = fixture_request_records(&f, 0);
	ck_assert_int_eq(json_array_size(recs), 1);
	json_t *r = json_array_get(recs, 0);
	ck_assert_str_eq(json_str_at(r, "outcome"), "client_closed");
	double ms = json_real_value(json_object_get(r, "duration_ms"));
	ck_assert_msg(ms < 5000, "noticed after %.0f ms", ms);
	json_decref(recs);
	fixture_finish(&f);
}
END_TEST

/* A phase's own defaults, rules and overload model replace the top
 * level's while it is current; the admin API switches phases. */
START_TEST(test_phase_overrides)
{
	struct admin_fixture f;
	fixture_start(&f,
		      "{\"upsim\":1,\"name\":\"overrides\","
		      "\"defaults\":{\"status\":200,\"body\":\"top\"},"
		      "\"rules\":[{\"match\":{\"path\":\"/r\"},\"respond\":{\"status\":201}}],"
		      "\"phases\":["
		      "{\"name\":\"calm\"},"
		      "{\"name\":\"storm\",\"defaults\":{\"status\":503},"
		      " \"rules\":[{\"name\":\"storm-reset\",\"match\":{\"path\":\"/x\"},"
		      "  \"respond\":{\"fault\":\"reset\"}}],"
		      " \"overload\":{\"workers\":1,\"service_time\":\"1ms\"}},"
		      "{\"name\":\"after\"}]}",
		      NULL);
	int status;
	ck_assert_int_eq(fixture_get(&f, "/r", NULL, &status), WIRE_FIN);
	ck_assert_int_eq(status, 201);
	json_decref(fixture_call_json(&f, "POST", "/v1/phase", "{\"phase\":\"storm\"}", 200));
	fixture_get(&f, "/r", NULL, &status);
	ck_assert_int_eq(status, 503); /* the top-level rule is not in force */
	ck_assert_int_eq(fixture_get(&f, "/x", NULL, &status), WIRE_RST);
	json_t *s = fixture_call_json(&f, "GET", "/v1/status", NULL, 200);
	ck_assert_int_eq(json_int_at(json_object_get(s, "overload"), "workers"), 1);
	json_decref(s);
	json_t *recs = fixture_request_records(&f, 0);
	json_t *last = json_array_get(recs, json_array_size(recs) - 1);
	ck_assert_str_eq(json_str_at(last, "rule"), "storm-reset");
	ck_assert_str_eq(json_str_at(last, "overload"), "served");
	json_decref(recs);
	json_decref(fixture_call_json(&f, "POST", "/v1/phase", "{\"phase\":\"after\"}", 200));
	fixture_get(&f, "/r", NULL, &status);
	ck_assert_int_eq(status, 201);
	s = fixture_call_json(&f, "GET", "/v1/status", NULL, 200);
	ck_assert(json_is_null(json_object_get(s, "overload")));
	json_decref(s);
	fixture_finish(&f);
}
END_TEST

/* One request with an extra header line; returns the whole answer. */
static struct wire_result get_with(const struct admin_fixture *f, const char *header, double *start)
{
	int fd = wire_connect(f->p.host, f->p.port, T_MS);
	ck_assert_int_ge(fd, 0);
	char req[512];
	snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: t\r\n%s\r\nConnection: close\r\n\r\n",
		 header);
	*start = wire_now_ms();
	ck_assert_int_eq(wire_send_str(fd, req, T_MS), 0);
	struct wire_result r = {0};
	ck_assert_int_eq(wire_read_until_end(fd, *start, T_MS, &r), 0);
	close(fd);
	return r;
}

START_TEST(test_header_override)
{
	struct admin_fixture f;
	fixture_start(&f, "{\"upsim\":1,\"name\":\"override\",\"allow_override\":true}", NULL);
	double t;
	struct wire_result r = get_with(&f, "X-Upsim-Fault: reset", &t);
	ck_assert_int_eq(r.end, WIRE_RST);
	ck_assert_uint_eq(r.len, 0);
	wire_result_free(&r);
	r = get_with(&f, "X-Upsim-Fault: {\"status\": 418, \"body\": \"teapot\"}", &t);
	ck_assert_msg(strncmp((const char *)r.bytes, "HTTP/1.1 418", 12) == 0, "%s", r.bytes);
	ck_assert_ptr_nonnull(strstr((const char *)r.bytes, "\r\n\r\nteapot"));
	wire_result_free(&r);
	r = get_with(&f, "X-Upsim-Delay: 300ms", &t);
	ck_assert_msg(r.first_ms >= 300 - 2, "first byte after %.0f ms", r.first_ms);
	wire_result_free(&r);
	r = get_with(&f, "X-Upsim-Fault: explode", &t);
	ck_assert_msg(strncmp((const char *)r.bytes, "HTTP/1.1 400", 12) == 0, "%s", r.bytes);
	ck_assert_ptr_nonnull(strstr((const char *)r.bytes, "X-Upsim-Fault: fault: unknown fault"));
	wire_result_free(&r);
	r = get_with(&f, "X-Upsim-Delay: soon", &t);
	ck_assert_msg(strncmp((const char *)r.bytes, "HTTP/1.1 400", 12) == 0, "%s", r.bytes);
	wire_result_free(&r);
	json_t *recs = fixture_request_records(&f, 0);
	ck_assert(json_is_true(json_object_get(json_array_get(recs, 0), "override")));
	ck_assert_str_eq(json_str_at(json_array_get(recs, 0), "fault"), "reset");
	json_decref(recs);
	fixture_finish(&f);

	/* Without allow_override the headers are ordinary headers. */
	fixture_start(&f, "{\"upsim\":1,\"name\":\"no-override\"}", NULL);
	r = get_with(&f, "X-Upsim-Fault: reset", &t);
	ck_assert_msg(strncmp((const char *)r.bytes, "HTTP/1.1 200", 12) == 0, "%s", r.bytes);
	wire_result_free(&r);
	fixture_finish(&f);
}
END_TEST

/* --start-at counts the timeline from a wall-clock instant: 15 s ago
 * with phases of 10 s puts upsim in the second phase from the start. */
START_TEST(test_start_at_aligns_the_timeline)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char at[32];
	snprintf(at, sizeof at, "%lld", (long long)now.tv_sec - 15);
	const char *extra[] = {"--start-at", at, NULL};
	struct admin_fixture f;
	fixture_start(&f,
		      "{\"upsim\":1,\"name\":\"aligned\",\"phases\":["
		      "{\"name\":\"a\",\"duration\":\"10s\"},{\"name\":\"b\",\"duration\":\"10s\"},"
		      "{\"name\":\"c\"}]}",
		      extra);
	json_t *s = fixture_call_json(&f, "GET", "/v1/status", NULL, 200);
	ck_assert_str_eq(json_str_at(s, "phase"), "b");
	json_decref(s);
	fixture_finish(&f);

	char *out, *err;
	const char *bad[] = {"run", "--start-at", "tomorrow", "scenarios/healthy.json", NULL};
	ck_assert_int_eq(upsim_run_capture(bad, T_MS, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "--start-at: expected RFC 3339"));
	free(out);
	free(err);
}
END_TEST

/* The member of a fleet ready line called name: its port. */
static int member_port(const struct upsim_proc *p, const char *name)
{
	json_t *o = json_loads(p->ready_line, 0, NULL), *m;
	size_t i;
	int port = -1;
	json_array_foreach(json_object_get(o, "upstreams"), i, m)
	{
		if (strcmp(json_str_at(m, "name"), name) == 0)
			port = atoi(strrchr(json_str_at(m, "listen"), ':') + 1);
	}
	json_decref(o);
	ck_assert_int_gt(port, 0);
	return port;
}

/* One request to a fleet member with a request id; how it ended. */
static enum wire_end get_member(struct admin_fixture *f, const char *name, const char *id)
{
	int saved = f->p.port, status;
	f->p.port = member_port(&f->p, name);
	enum wire_end end = fixture_get(f, "/api/x", id, &status);
	f->p.port = saved;
	return end;
}

/* Three upstreams in one process: each on its own port and scenario, one
 * journal whose records name their upstream, so a gateway retry to
 * another backend shows as attempt 2 of the same request id. */
START_TEST(test_fleet)
{
	struct admin_fixture f;
	const char *args[] = {"run",
			      "--admin",
			      "127.0.0.1:0",
			      "--fleet",
			      "scenarios/fleets/one-bad-of-three.json",
			      NULL};
	ck_assert_int_eq(upsim_start(&f.p, args, T_MS), 0);
	f.scenario = NULL;
	fixture_read_admin(&f);
	ck_assert_int_eq(get_member(&f, "bad", "order-1"), WIRE_RST);
	ck_assert_int_eq(get_member(&f, "a", "order-1"), WIRE_FIN);
	ck_assert_int_eq(get_member(&f, "b", "order-2"), WIRE_FIN);
	json_t *recs = fixture_request_records(&f, 0);
	ck_assert_int_eq(json_array_size(recs), 3);
	json_t *r0 = json_array_get(recs, 0), *r1 = json_array_get(recs, 1);
	ck_assert_str_eq(json_str_at(r0, "upstream"), "bad");
	ck_assert_str_eq(json_str_at(r0, "outcome"), "rst");
	ck_assert_str_eq(json_str_at(r1, "upstream"), "a");
	ck_assert_int_eq(json_int_at(r1, "attempt"), 2);
	json_decref(recs);

	json_t *s = fixture_call_json(&f, "GET", "/v1/status?upstream=bad", NULL, 200);
	ck_assert_str_eq(json_str_at(s, "scenario"), "health-check-only");
	ck_assert_int_eq(json_array_size(json_object_get(s, "upstreams")), 3);
	json_decref(s);
	json_decref(fixture_call_json(&f, "GET", "/v1/status?upstream=zzz", NULL, 404));
	json_decref(fixture_call_json(&f, "PUT", "/v1/scenario?upstream=bad",
				      "{\"upsim\":1,\"name\":\"fixed\"}", 200));
	ck_assert_int_eq(get_member(&f, "bad", NULL), WIRE_FIN);
	s = fixture_call_json(&f, "GET", "/v1/status", NULL, 200);
	ck_assert_str_eq(json_str_at(s, "upstream"), "a"); /* the first by default */
	json_decref(s);
	char *text;
	ck_assert_int_eq(fixture_call(&f, NULL, "GET", "/metrics", NULL, &text), 200);
	ck_assert_ptr_nonnull(strstr(text, "upsim_connections_total{upstream=\"bad\"} 2\n"));
	free(text);
	fixture_finish(&f);

	char *out, *err;
	const char *dup[] = {"run",
			     "--upstream",
			     "a=127.0.0.1:0=scenarios/healthy.json",
			     "--upstream",
			     "a=127.0.0.1:0=scenarios/healthy.json",
			     NULL};
	ck_assert_int_eq(upsim_run_capture(dup, T_MS, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "two upstreams are called \"a\""));
	free(out);
	free(err);
	const char *bad[] = {"run", "--upstream", "a:127.0.0.1:0", NULL};
	ck_assert_int_eq(upsim_run_capture(bad, T_MS, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "expected NAME=ADDR:PORT=SCENARIO.json"));
	free(out);
	free(err);
}
END_TEST

Suite *admin_suite(void)
{
	Suite *s = suite_create("admin");
	TCase *tc = tcase_create("api");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_status_and_ready_line);
	tcase_add_test(tc, test_journal_has_every_request_once);
	tcase_add_test(tc, test_stats_and_metrics_count_what_happened);
	tcase_add_test(tc, test_refused_request_keeps_its_id);
	tcase_add_test(tc, test_put_scenario_validates_then_swaps);
	tcase_add_test(tc, test_phase_jump);
	tcase_add_test(tc, test_bad_requests_get_clear_errors);
	tcase_add_test(tc, test_token_is_enforced);
	tcase_add_test(tc, test_non_loopback_admin_needs_a_token);
	tcase_add_loop_test(tc, test_swap_is_atomic_under_load, 0, 2);
	tcase_add_test(tc, test_drill_ttl_expires_unless_renewed);
	tcase_add_test(tc, test_renew_without_ttl_is_a_conflict);
	tcase_add_test(tc, test_duration_exits_cleanly);
	tcase_add_test(tc, test_journal_file_and_access_log);
	tcase_add_test(tc, test_json_logs);
	tcase_add_test(tc, test_ctl_client);
	tcase_add_test(tc, test_rules_by_phase_and_connection_position);
	tcase_add_test(tc, test_overload_serves_queues_and_rejects);
	tcase_add_test(tc, test_overload_worker_outlives_its_client);
	tcase_add_loop_test(tc, test_client_leaving_a_delay_is_seen_at_once, 0, 2);
	tcase_add_test(tc, test_phase_overrides);
	tcase_add_test(tc, test_header_override);
	tcase_add_test(tc, test_start_at_aligns_the_timeline);
	tcase_add_test(tc, test_fleet);
	suite_add_tcase(s, tc);
	return s;
}

/* Healthy HTTP on the wire: upsim started on port 0 and spoken to through a
 * raw socket, so keep-alive, framing and header bytes are seen as sent. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/body.h"
#include "proc.h"
#include "suites.h"
#include "wire.h"

#define T_MS 5000

static const char scenario_json[] =
	"{\"upsim\":1,\"name\":\"http-test\",\"seed\":9,"
	"\"defaults\":{\"headers\":[[\"Content-Type\",\"text/"
	"plain\"],[\"X-Dup\",\"1\"],[\"x-dup\",\"2\"]],"
	"\"body\":\"default body\\n\"},"
	"\"rules\":["
	"{\"match\":{\"method\":\"GET\",\"path\":\"/api/"
	"*\",\"headers\":{\"X-Tenant\":\"blue\"},\"query\":{\"v\":\"2\"}},"
	" \"respond\":{\"status\":503,\"headers\":{\"Retry-After\":\"5\"},\"body\":\"busy\"}},"
	"{\"match\":{\"path\":\"/"
	"seq\"},\"sequence\":[{\"status\":201},{\"status\":202},{\"status\":203}],\"cycle\":true},"
	"{\"match\":{\"path\":\"/gen\"},\"respond\":{\"body_size\":100000}},"
	"{\"match\":{\"path\":\"/chunked\"},\"respond\":{\"chunked\":true,\"body_size\":10000}},"
	"{\"match\":{\"path\":\"/empty-chunked\"},\"respond\":{\"chunked\":true,\"body\":\"\"}},"
	"{\"match\":{\"path\":\"/nocontent\"},\"respond\":{\"status\":204}},"
	"{\"match\":{\"path\":\"/coin\"},\"choose\":[{\"status\":200},{\"status\":500}]}"
	"]}";

static struct upsim_proc proc;
static char *scenario_path;

static void start_upsim(void)
{
	scenario_path = upsim_write_temp(scenario_json, ".json");
	ck_assert_int_eq(upsim_start_scenario(&proc, scenario_path, NULL, T_MS), 0);
}

static void stop_upsim(void)
{
	ck_assert_int_eq(upsim_stop(&proc, SIGTERM, T_MS), 0);
	upsim_proc_free(&proc);
	unlink(scenario_path);
	free(scenario_path);
}

static struct wire_conn open_conn(void)
{
	struct wire_conn c = {0};
	c.fd = wire_connect(proc.host, proc.port, T_MS);
	ck_assert_int_ge(c.fd, 0);
	return c;
}

static void close_conn(struct wire_conn *c)
{
	close(c->fd);
	free(c->buf);
}

/* Send one request and read one response on c. */
static void exchange(struct wire_conn *c, const char *request, int head,
		     struct wire_http_response *r)
{
	ck_assert_int_eq(wire_send_str(c->fd, request, T_MS), 0);
	ck_assert_msg(wire_http_read(c, head, T_MS, r) == 0, "no response to %s", request);
}

static void get(struct wire_conn *c, const char *path, struct wire_http_response *r)
{
	char req[512];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
	exchange(c, req, 0, r);
}

START_TEST(test_ready_line)
{
	ck_assert_int_gt(proc.port, 0);
	ck_assert_str_eq(proc.host, "127.0.0.1");
	ck_assert_ptr_nonnull(strstr(proc.ready_line, "\"event\":\"ready\""));
	ck_assert_ptr_nonnull(strstr(proc.ready_line, "\"scenario\":\"http-test\""));
	char pid[32];
	snprintf(pid, sizeof pid, "\"pid\":%d", (int)proc.pid);
	ck_assert_ptr_nonnull(strstr(proc.ready_line, pid));
}
END_TEST

START_TEST(test_keepalive_and_exact_headers)
{
	struct wire_conn c = open_conn();
	for (int i = 0; i < 3; i++) {
		struct wire_http_response r = {0};
		get(&c, "/anything", &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq((char *)r.body, "default body\n");
		ck_assert_int_eq(r.content_length, 13);
		/* Duplicates, order and casing exactly as the scenario lists them. */
		ck_assert_ptr_nonnull(strstr(r.head, "\r\nX-Dup: 1\r\nx-dup: 2\r\n"));
		ck_assert_int_eq(wire_http_header_count(&r, "Connection"), 0);
		wire_http_response_free(&r);
	}
	/* Still open: nothing more arrives, and no FIN. */
	struct wire_result w = {0};
	wire_read_until_end(c.fd, wire_now_ms(), 200, &w);
	ck_assert_int_eq(w.end, WIRE_OPEN);
	ck_assert_uint_eq(w.len, 0);
	wire_result_free(&w);
	close_conn(&c);
}
END_TEST

START_TEST(test_head)
{
	struct wire_conn c = open_conn();
	struct wire_http_response r = {0};
	exchange(&c, "HEAD /gen HTTP/1.1\r\nHost: t\r\n\r\n", 1, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.content_length, 100000);
	ck_assert_uint_eq(r.body_len, 0);
	wire_http_response_free(&r);
	/* No body bytes were sent: the next response parses cleanly. */
	get(&c, "/seq", &r);
	ck_assert_int_eq(r.status, 201);
	wire_http_response_free(&r);
	close_conn(&c);
}
END_TEST

START_TEST(test_request_bodies)
{
	struct wire_conn c = open_conn();
	size_t n = 200000;
	char *body = malloc(n);
	memset(body, 'b', n);
	char head[128];
	snprintf(head, sizeof head, "POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
		 n);
	ck_assert_int_eq(wire_send_str(c.fd, head, T_MS), 0);
	ck_assert_int_eq(wire_send_all(c.fd, body, n, T_MS), 0);
	struct wire_http_response r = {0};
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_int_eq(r.status, 200);
	wire_http_response_free(&r);
	/* Chunked request body, then a plain GET on the same connection. */
	exchange(&c,
		 "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
		 0, &r);
	ck_assert_int_eq(r.status, 200);
	wire_http_response_free(&r);
	get(&c, "/x", &r);
	ck_assert_int_eq(r.status, 200);
	wire_http_response_free(&r);
	free(body);
	close_conn(&c);
}
END_TEST

START_TEST(test_pipelined_requests_answer_in_order)
{
	struct wire_conn c = open_conn();
	const char *three = "GET /seq HTTP/1.1\r\nHost: t\r\n\r\n"
			    "POST /seq HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
			    "GET /seq HTTP/1.1\r\nHost: t\r\n\r\n";
	ck_assert_int_eq(wire_send_str(c.fd, three, T_MS), 0);
	for (int want = 201; want <= 203; want++) {
		struct wire_http_response r = {0};
		ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
		ck_assert_int_eq(r.status, want);
		wire_http_response_free(&r);
	}
	close_conn(&c);
}
END_TEST

START_TEST(test_rule_matching_on_the_wire)
{
	struct wire_conn c = open_conn();
	struct wire_http_response r = {0};
	exchange(&c, "GET /api/users?v=2 HTTP/1.1\r\nHost: t\r\nx-tenant: blue\r\n\r\n", 0, &r);
	ck_assert_int_eq(r.status, 503);
	ck_assert_str_eq((char *)r.body, "busy");
	char *retry = wire_http_header(&r, "Retry-After");
	ck_assert_str_eq(retry, "5");
	free(retry);
	/* The rule's headers replace the defaults' as a whole. */
	ck_assert_int_eq(wire_http_header_count(&r, "X-Dup"), 0);
	wire_http_response_free(&r);
	/* Any condition unmet: the defaults answer. */
	exchange(&c, "GET /api/users?v=3 HTTP/1.1\r\nHost: t\r\nX-Tenant: blue\r\n\r\n", 0, &r);
	ck_assert_int_eq(r.status, 200);
	wire_http_response_free(&r);
	exchange(&c,
		 "POST /api/users?v=2 HTTP/1.1\r\nHost: t\r\nX-Tenant: blue\r\nContent-Length: "
		 "0\r\n\r\n",
		 0, &r);
	ck_assert_int_eq(r.status, 200);
	wire_http_response_free(&r);
	exchange(&c, "GET /api/users?v=2 HTTP/1.1\r\nHost: t\r\n\r\n", 0, &r);
	ck_assert_int_eq(r.status, 200);
	wire_http_response_free(&r);
	close_conn(&c);
}
END_TEST

static void assert_pattern(const unsigned char *body, size_t n)
{
	char *want = malloc(n);
	body_pattern(0, want, n);
	ck_assert_mem_eq(body, want, n);
	free(want);
}

START_TEST(test_generated_and_chunked_bodies)
{
	struct wire_conn c = open_conn();
	struct wire_http_response r = {0};
	get(&c, "/gen", &r);
	ck_assert_int_eq(r.content_length, 100000);
	ck_assert_uint_eq(r.body_len, 100000);
	ck_assert(!r.chunked);
	assert_pattern(r.body, r.body_len);
	wire_http_response_free(&r);
	get(&c, "/chunked", &r);
	ck_assert(r.chunked);
	ck_assert_int_eq(r.content_length, -1);
	ck_assert_uint_eq(r.body_len, 10000);
	assert_pattern(r.body, r.body_len);
	wire_http_response_free(&r);
	get(&c, "/empty-chunked", &r);
	ck_assert(r.chunked);
	ck_assert_uint_eq(r.body_len, 0);
	wire_http_response_free(&r);
	get(&c, "/nocontent", &r);
	ck_assert_int_eq(r.status, 204);
	ck_assert_uint_eq(r.body_len, 0);
	wire_http_response_free(&r);
	get(&c, "/seq", &r); /* the connection survived all of it */
	ck_assert_int_eq(r.status, 201);
	wire_http_response_free(&r);
	close_conn(&c);
}
END_TEST

START_TEST(test_http10_client)
{
	struct wire_conn c = open_conn();
	ck_assert_int_eq(wire_send_str(c.fd, "GET /chunked HTTP/1.0\r\n\r\n", T_MS), 0);
	struct wire_result w = {0};
	ck_assert_int_eq(wire_read_until_end(c.fd, wire_now_ms(), T_MS, &w), 0);
	/* No chunked framing for HTTP/1.0: the body ends with the connection. */
	ck_assert_int_eq(w.end, WIRE_FIN);
	ck_assert_ptr_nonnull(strstr((char *)w.bytes, "HTTP/1.1 200"));
	ck_assert_ptr_null(strstr((char *)w.bytes, "chunked"));
	const char *body = strstr((char *)w.bytes, "\r\n\r\n") + 4;
	ck_assert_uint_eq(w.len - (size_t)(body - (char *)w.bytes), 10000);
	wire_result_free(&w);
	close_conn(&c);
}
END_TEST

/* Statuses of n requests to /coin on fresh upsim process. */
static void coin_run(int *out, int n)
{
	start_upsim();
	struct wire_conn c = open_conn();
	for (int i = 0; i < n; i++) {
		struct wire_http_response r = {0};
		get(&c, i % 3 ? "/coin" : "/seq", &r); /* other rules' traffic mixed in */
		out[i] = i % 3 ? r.status : 0;
		wire_http_response_free(&r);
	}
	close_conn(&c);
	stop_upsim();
}

START_TEST(test_choices_repeat_across_runs)
{
	int a[60], b[60];
	coin_run(a, 60);
	coin_run(b, 60);
	ck_assert_mem_eq(a, b, sizeof a);
	int fives = 0;
	for (int i = 0; i < 60; i++)
		fives += a[i] == 500;
	ck_assert_int_gt(fives, 0); /* both branches are really drawn */
	ck_assert_int_lt(fives, 40);
}
END_TEST

Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("healthy");
	tcase_add_checked_fixture(tc, start_upsim, stop_upsim);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ready_line);
	tcase_add_test(tc, test_keepalive_and_exact_headers);
	tcase_add_test(tc, test_head);
	tcase_add_test(tc, test_request_bodies);
	tcase_add_test(tc, test_pipelined_requests_answer_in_order);
	tcase_add_test(tc, test_rule_matching_on_the_wire);
	tcase_add_test(tc, test_generated_and_chunked_bodies);
	tcase_add_test(tc, test_http10_client);
	suite_add_tcase(s, tc);
	tc = tcase_create("determinism");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_choices_repeat_across_runs);
	suite_add_tcase(s, tc);
	return s;
}

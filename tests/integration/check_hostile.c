/* Hostile and broken clients: upsim answers what HTTP says it should,
 * never crashes or hangs, and goes on serving everyone else. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proc.h"
#include "suites.h"
#include "wire.h"

#define T_MS 5000

static struct upsim_proc proc;

static void start_healthy(void)
{
	const char *extra[] = {"--max-connections", "8", NULL};
	ck_assert_int_eq(upsim_start_scenario(&proc, "scenarios/healthy.json", extra, T_MS), 0);
}

static void stop_healthy(void)
{
	ck_assert_int_eq(upsim_stop(&proc, SIGTERM, T_MS), 0);
	upsim_proc_free(&proc);
}

/* Send bytes on a new connection, read to the end; the answer. */
static struct wire_result exchange(const void *bytes, size_t len, int half_close)
{
	int fd = wire_connect(proc.host, proc.port, T_MS);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(wire_send_all(fd, bytes, len, T_MS), 0);
	if (half_close)
		shutdown(fd, SHUT_WR);
	struct wire_result r = {0};
	ck_assert_int_eq(wire_read_until_end(fd, wire_now_ms(), T_MS, &r), 0);
	close(fd);
	return r;
}

static void assert_status(const struct wire_result *r, const char *status_line)
{
	ck_assert_msg(r->len >= strlen(status_line)
			      && memcmp(r->bytes, status_line, strlen(status_line)) == 0,
		      "expected \"%s\", got \"%.60s\"", status_line, r->bytes);
}

/* Still serving normally. */
static void assert_healthy(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	struct wire_result r = exchange(req, sizeof req - 1, 0);
	assert_status(&r, "HTTP/1.1 200 OK\r\n");
	wire_result_free(&r);
}

static void assert_answer(const char *request, size_t len, const char *status_line)
{
	struct wire_result r = exchange(request, len, 0);
	assert_status(&r, status_line);
	ck_assert_int_eq(r.end, WIRE_FIN);
	wire_result_free(&r);
	assert_healthy();
}

START_TEST(test_enormous_header_gets_431)
{
	size_t n = 100000;
	char *req = malloc(n + 64);
	int len = sprintf(req, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ");
	memset(req + len, 'a', n);
	memcpy(req + len + n, "\r\n\r\n", 4);
	assert_answer(req, (size_t)len + n + 4, "HTTP/1.1 431 ");
	free(req);
}
END_TEST

/* A GET whose X-Big header is n bytes long; answered with status_line. */
static void assert_big_header_answer(size_t n, const char *status_line)
{
	char *req = malloc(n + 64);
	int len = sprintf(req, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ");
	memset(req + len, 'a', n);
	memcpy(req + len + n, "\r\n\r\n", 4);
	struct wire_result r = exchange(req, (size_t)len + n + 4, 0);
	assert_status(&r, status_line);
	wire_result_free(&r);
	free(req);
}

/* --connection-memory is the room for a request head: 16 KiB by default
 * takes an 8 KiB header, not a 24 KiB one; 64 KiB takes that too. */
START_TEST(test_connection_memory_bounds_the_request_head)
{
	ck_assert_int_eq(upsim_start_scenario(&proc, "scenarios/healthy.json", NULL, T_MS), 0);
	assert_big_header_answer(8 * 1024, "HTTP/1.1 200 OK\r\n");
	assert_big_header_answer(24 * 1024, "HTTP/1.1 431 ");
	stop_healthy();
	const char *more[] = {"--connection-memory", "64KiB", NULL};
	ck_assert_int_eq(upsim_start_scenario(&proc, "scenarios/healthy.json", more, T_MS), 0);
	assert_big_header_answer(24 * 1024, "HTTP/1.1 200 OK\r\n");
	assert_big_header_answer(100 * 1024, "HTTP/1.1 431 ");
	stop_healthy();
}
END_TEST

START_TEST(test_enormous_uri_gets_414)
{
	size_t n = 100000;
	char *req = malloc(n + 64);
	memcpy(req, "GET /", 5);
	memset(req + 5, 'a', n);
	int tail = sprintf(req + 5 + n, " HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_answer(req, 5 + n + (size_t)tail, "HTTP/1.1 414 ");
	free(req);
}
END_TEST

START_TEST(test_bad_requests_get_400_or_505)
{
	static const char no_colon[] = "GET / HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n";
	assert_answer(no_colon, sizeof no_colon - 1, "HTTP/1.1 400 ");
	static const char bad_version[] = "GET / FOO/1.1\r\nHost: t\r\n\r\n";
	assert_answer(bad_version, sizeof bad_version - 1, "HTTP/1.1 400 ");
	static const char http2[] = "GET / HTTP/2.0\r\nHost: t\r\n\r\n";
	assert_answer(http2, sizeof http2 - 1, "HTTP/1.1 505 ");
}
END_TEST

/* A request line libmicrohttpd cannot parse at all is closed without a
 * byte (FIN): documented, and upsim goes on serving. */
START_TEST(test_unparseable_request_line_is_closed)
{
	static const char *const junk[] = {"GARBAGE\r\n\r\n", "GET\r\n\r\n"};
	for (size_t i = 0; i < 2; i++) {
		struct wire_result r = exchange(junk[i], strlen(junk[i]), 0);
		ck_assert_uint_eq(r.len, 0);
		ck_assert_int_eq(r.end, WIRE_FIN);
		wire_result_free(&r);
	}
	assert_healthy();
}
END_TEST

/* The default scenario reads and discards a request body of any size. */
START_TEST(test_enormous_body_is_read_and_discarded)
{
	size_t n = 8u << 20;
	char *req = malloc(n + 128);
	int len = sprintf(req,
			  "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n"
			  "Connection: close\r\n\r\n",
			  n);
	memset(req + len, 'x', n);
	int fd = wire_connect(proc.host, proc.port, T_MS);
	ck_assert_int_eq(wire_send_all(fd, req, (size_t)len + n, 3 * T_MS), 0);
	struct wire_result r = {0};
	ck_assert_int_eq(wire_read_until_end(fd, wire_now_ms(), T_MS, &r), 0);
	assert_status(&r, "HTTP/1.1 200 OK\r\n");
	wire_result_free(&r);
	close(fd);
	free(req);
	assert_healthy();
}
END_TEST

/* A client that sends its request and shuts its side (FIN) still gets
 * the answer: HTTP/1.1 allows the half-close. */
START_TEST(test_half_closed_client_is_answered)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
	struct wire_result r = exchange(req, sizeof req - 1, 1);
	assert_status(&r, "HTTP/1.1 200 OK\r\n");
	wire_result_free(&r);
	assert_healthy();
}
END_TEST

/* Headers a byte at a time (slowloris): that client holds one slot; the
 * others are served meanwhile, and it is answered when it is done. */
START_TEST(test_slowloris_does_not_block_others)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: 1234567890\r\n\r\n";
	int slow = wire_connect(proc.host, proc.port, T_MS);
	for (size_t i = 0; i < sizeof req - 1; i++) {
		ck_assert_int_eq(wire_send_all(slow, req + i, 1, T_MS), 0);
		if (i % 10 == 0)
			assert_healthy(); /* someone else, in between */
		poll(NULL, 0, 5);
	}
	struct wire_result r = {0};
	ck_assert_int_eq(wire_read_bytes(slow, 17, wire_now_ms(), T_MS, &r), 0);
	assert_status(&r, "HTTP/1.1 200 OK\r\n");
	wire_result_free(&r);
	close(slow);
}
END_TEST

/* Past --max-connections (8 here) new connections are reset at once; the
 * held ones are unaffected, and service resumes when they go. */
START_TEST(test_flood_beyond_max_connections)
{
	int held[8], extra[24];
	static const char req[] = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
	for (int i = 0; i < 8; i++) {
		held[i] = wire_connect(proc.host, proc.port, T_MS);
		ck_assert_int_eq(wire_send_str(held[i], req, T_MS), 0);
		struct wire_result r = {0};
		ck_assert_int_eq(wire_read_bytes(held[i], 17, wire_now_ms(), T_MS, &r), 0);
		wire_result_free(&r); /* answered; kept alive, so the slot stays taken */
	}
	for (int i = 0; i < 24; i++) {
		extra[i] = wire_connect(proc.host, proc.port, T_MS);
		if (extra[i] < 0) { /* the RST came while connect() still waited */
			ck_assert_int_eq(errno, ECONNRESET);
			continue;
		}
		struct wire_result r = {0};
		wire_read_until_end(extra[i], wire_now_ms(), T_MS, &r);
		ck_assert_msg(r.end == WIRE_RST, "extra connection %d ended %s", i,
			      wire_end_name(r.end));
		wire_result_free(&r);
		close(extra[i]);
	}
	ck_assert_int_eq(upsim_wait_stderr(&proc, "--max-connections 8 reached", T_MS), 0);
	for (int i = 0; i < 8; i++)
		close(held[i]);
	/* The slots free as upsim sees the closes: retry until one is served. */
	double until = wire_now_ms() + T_MS;
	for (;;) {
		static const char one[] = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
		struct wire_result r = exchange(one, sizeof one - 1, 0);
		int ok = r.len > 12 && memcmp(r.bytes, "HTTP/1.1 200", 12) == 0;
		wire_result_free(&r);
		if (ok)
			break;
		ck_assert_msg(wire_now_ms() < until, "not serving again after the flood");
	}
}
END_TEST

Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("clients");
	tcase_add_checked_fixture(tc, start_healthy, stop_healthy);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_enormous_header_gets_431);
	tcase_add_test(tc, test_enormous_uri_gets_414);
	tcase_add_test(tc, test_bad_requests_get_400_or_505);
	tcase_add_test(tc, test_unparseable_request_line_is_closed);
	tcase_add_test(tc, test_enormous_body_is_read_and_discarded);
	tcase_add_test(tc, test_half_closed_client_is_answered);
	tcase_add_test(tc, test_slowloris_does_not_block_others);
	tcase_add_test(tc, test_flood_beyond_max_connections);
	suite_add_tcase(s, tc);
	tc = tcase_create("memory");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_connection_memory_bounds_the_request_head);
	suite_add_tcase(s, tc);
	return s;
}

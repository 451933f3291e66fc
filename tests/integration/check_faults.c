/* The fault catalogue on the wire: one upsim plays tests/data/wire/faults.json
 * (a rule per fault and per `then` variant) and a raw socket records the
 * exact bytes, how the connection ended (FIN, RST, still open) and when.
 *
 * Timing: upsim's timers never fire early, so every bound below is "at
 * least d - 2 ms" and "at most d + slack", with times counted from just
 * before the request leaves. A clock started on a later client event
 * (reading a response, a first byte) starts late by however long the
 * client took, and would see upsim's deadlines as early. The slack is generous (250 ms, 2 s when
 * upsim runs under valgrind) because this is a test, not a benchmark. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/body.h"
#include "proc.h"
#include "suites.h"
#include "wire.h"

#define T_MS 5000

static struct upsim_proc proc;

static double slack_ms(void)
{
	return getenv("UPSIM_WRAP") ? 2000 : 250;
}

static void start_faults(void)
{
	ck_assert_int_eq(upsim_start_scenario(&proc, "tests/data/wire/faults.json", NULL, T_MS), 0);
}

static void stop_faults(void)
{
	ck_assert_int_eq(upsim_stop(&proc, SIGTERM, T_MS), 0);
	upsim_proc_free(&proc);
}

/* Bytes as C source, for failure messages. */
static char *escaped(const unsigned char *p, size_t n)
{
	size_t cap = n * 4 + 1, k = 0;
	char *s = malloc(cap);
	for (size_t i = 0; i < n && k + 5 < cap; i++) {
		if (p[i] == '\r')
			k += (size_t)sprintf(s + k, "\\r");
		else if (p[i] == '\n')
			k += (size_t)sprintf(s + k, "\\n");
		else if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			s[k++] = (char)p[i];
		else
			k += (size_t)sprintf(s + k, "\\x%02x", p[i]);
	}
	s[k] = '\0';
	return s;
}

static void assert_bytes(const struct wire_result *w, const void *want, size_t len)
{
	if (w->len == len && memcmp(w->bytes, want, len) == 0)
		return;
	char *got = escaped(w->bytes, w->len), *exp = escaped(want, len);
	ck_abort_msg("bytes differ:\n  got  \"%s\"\n  want \"%s\"", got, exp);
}

#define ASSERT_BYTES(w, lit) assert_bytes((w), (lit), sizeof(lit) - 1)

static void assert_end(const struct wire_result *w, enum wire_end want)
{
	ck_assert_msg(w->end == want, "connection ended %s, expected %s", wire_end_name(w->end),
		      wire_end_name(want));
}

static void assert_near(double got_ms, double want_ms, const char *what)
{
	ck_assert_msg(got_ms >= want_ms - 2 && got_ms <= want_ms + slack_ms(),
		      "%s at %.1f ms, expected %.0f ms (+%.0f ms slack)", what, got_ms, want_ms,
		      slack_ms());
}

static int connect_proc(const struct upsim_proc *p)
{
	int fd = wire_connect(p->host, p->port, T_MS);
	ck_assert_msg(fd >= 0, "connect: %s", strerror(errno));
	return fd;
}

/* Send request on a new connection and record everything until the
 * connection ends or wait_ms passes. */
static void fetch_raw(const char *request, int wait_ms, struct wire_result *w)
{
	int fd = connect_proc(&proc);
	double t0 = wire_now_ms();
	ck_assert_int_eq(wire_send_str(fd, request, T_MS), 0);
	wire_read_until_end(fd, t0, wait_ms, w);
	close(fd);
}

static void fetch(const char *path, int wait_ms, struct wire_result *w)
{
	char req[256];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
	fetch_raw(req, wait_ms, w);
}

/* ---- request stage ---- */

START_TEST(test_close_is_fin_without_a_byte)
{
	struct wire_result w = {0};
	int fd = connect_proc(&proc);
	ck_assert_int_eq(wire_send_str(fd, "GET /close HTTP/1.1\r\nHost: t\r\n\r\n", T_MS), 0);
	wire_read_until_end(fd, wire_now_ms(), T_MS, &w);
	assert_end(&w, WIRE_FIN);
	ck_assert_uint_eq(w.len, 0);
	/* FIN means FIN: the socket is closed, not half-open. */
	ck_assert_int_eq(wire_rst_follows(fd, T_MS), 1);
	close(fd);
	wire_result_free(&w);
}
END_TEST

START_TEST(test_reset_is_rst_without_a_byte)
{
	struct wire_result w = {0};
	fetch("/reset", T_MS, &w);
	assert_end(&w, WIRE_RST);
	ck_assert_int_eq(w.err, ECONNRESET);
	ck_assert_uint_eq(w.len, 0);
	wire_result_free(&w);
}
END_TEST

START_TEST(test_delay_holds_the_first_byte)
{
	struct wire_result w = {0};
	int fd = connect_proc(&proc);
	struct wire_conn c = {.fd = fd};
	double t0 = wire_now_ms();
	ck_assert_int_eq(wire_send_str(fd, "GET /delay HTTP/1.1\r\nHost: t\r\n\r\n", T_MS), 0);
	ck_assert_int_eq(wire_read_bytes(fd, 1, t0, T_MS, &w), 0);
	assert_near(w.first_ms, 200, "first byte");
	/* The delayed answer is a healthy keep-alive response. */
	c.buf = w.bytes;
	c.len = c.cap = w.len;
	w.bytes = NULL;
	struct wire_http_response r = {0};
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq((char *)r.body, "hello\n");
	wire_http_response_free(&r);
	free(c.buf);
	close(fd);
}
END_TEST

/* GET path on a new connection: when its first byte came, in ms. */
static double first_byte_ms(const char *path)
{
	char req[128];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
	struct wire_result w = {0};
	int fd = connect_proc(&proc);
	double t0 = wire_now_ms();
	wire_send_str(fd, req, T_MS);
	ck_assert_int_eq(wire_read_bytes(fd, 1, t0, T_MS, &w), 0);
	double ms = w.first_ms;
	close(fd);
	wire_result_free(&w);
	return ms;
}

START_TEST(test_uniform_delay_stays_in_range)
{
	for (int i = 0; i < 3; i++) {
		double ms = first_byte_ms("/delay-uniform");
		ck_assert_msg(ms >= 98 && ms <= 200 + slack_ms(),
			      "first byte at %.1f ms, expected 100..200 ms", ms);
	}
}
END_TEST

START_TEST(test_lognormal_delay_is_seeded_and_near_its_median)
{
	/* sigma 0.1: a draw outside 60..170 ms has odds below 1e-6, and the
	 * seed makes the draw the same on every run anyway. */
	double ms = first_byte_ms("/delay-lognormal");
	ck_assert_msg(ms >= 60 && ms <= 170 + slack_ms(), "first byte at %.1f ms", ms);
}
END_TEST

START_TEST(test_hang_sends_nothing_and_stays_open)
{
	struct wire_result w = {0};
	fetch("/hang", 300, &w);
	assert_end(&w, WIRE_OPEN);
	ck_assert_uint_eq(w.len, 0);
	wire_result_free(&w);
}
END_TEST

START_TEST(test_hang_for_then_close)
{
	struct wire_result w = {0};
	int fd = connect_proc(&proc);
	double t0 = wire_now_ms();
	wire_send_str(fd, "GET /hang-close HTTP/1.1\r\nHost: t\r\n\r\n", T_MS);
	wire_read_until_end(fd, t0, T_MS, &w);
	assert_end(&w, WIRE_FIN);
	ck_assert_uint_eq(w.len, 0);
	assert_near(w.end_ms, 200, "FIN");
	ck_assert_int_eq(wire_rst_follows(fd, T_MS), 1);
	close(fd);
	wire_result_free(&w);
}
END_TEST

START_TEST(test_hang_for_then_reset)
{
	struct wire_result w = {0};
	fetch("/hang-reset", T_MS, &w);
	assert_end(&w, WIRE_RST);
	ck_assert_uint_eq(w.len, 0);
	assert_near(w.end_ms, 200, "RST");
	wire_result_free(&w);
}
END_TEST

START_TEST(test_no_continue_never_answers_expect)
{
	struct wire_result w = {0};
	fetch_raw("POST /no-continue HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
		  "Content-Length: 10\r\n\r\n",
		  T_MS, &w);
	ck_assert_uint_eq(w.len, 0); /* no "100 Continue", nothing at all */
	assert_end(&w, WIRE_FIN);
	assert_near(w.end_ms, 200, "FIN");
	wire_result_free(&w);
}
END_TEST

START_TEST(test_expect_is_answered_without_the_fault)
{
	/* The contrast that makes the test above mean something. */
	struct wire_result w = {0};
	int fd = connect_proc(&proc);
	wire_send_str(fd,
		      "POST /plain HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
		      "Content-Length: 10\r\n\r\n",
		      T_MS);
	ck_assert_int_eq(wire_read_bytes(fd, 25, wire_now_ms(), T_MS, &w), 0);
	ck_assert_int_eq(memcmp(w.bytes, "HTTP/1.1 100 Continue\r\n\r\n", 25), 0);
	close(fd);
	wire_result_free(&w);
}
END_TEST

START_TEST(test_read_rate_reads_the_body_slowly)
{
	/* 2000 body bytes at 4000 B/s: 400 B every 100 ms, the first at once. */
	static char req[2200];
	int n = snprintf(req, sizeof req,
			 "POST /read-rate HTTP/1.1\r\nHost: t\r\n"
			 "Content-Length: 2000\r\n\r\n");
	memset(req + n, 'b', 2000);
	req[n + 2000] = '\0';
	struct wire_result w = {0};
	int fd = connect_proc(&proc);
	double t0 = wire_now_ms();
	ck_assert_int_eq(wire_send_str(fd, req, T_MS), 0);
	ck_assert_int_eq(wire_read_bytes(fd, 1, t0, T_MS, &w), 0);
	assert_near(w.first_ms, 400, "response");
	close(fd);
	wire_result_free(&w);
}
END_TEST

/* ---- respond stage: exact bytes ---- */

/* Responses whose every byte is known: each path of faults.json, the bytes
 * the client must receive, and how the connection must end. wait_ms bounds
 * the read where the connection stays open (then: hang). */
/* clang-format off */
static const struct {
	const char *path;
	const char *bytes;
	size_t len;
	enum wire_end end;
	int wait_ms;
} exact_cases[] = {
#define X(path, lit, end, wait) {path, lit, sizeof(lit) - 1, end, wait}
	/* truncate: at status, headers (then reset: the queued bytes reach the
	 * client before the RST), body (then hang); an offset past its part is
	 * clamped to the part's end. */
	X("/trunc-status", "HTTP/", WIRE_FIN, T_MS),
	X("/trunc-headers", "HTTP/1.1 200 OK\r\nCont", WIRE_RST, T_MS),
	X("/trunc-body", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhel", WIRE_OPEN, 300),
	X("/trunc-clamp", "HTTP/1.1 200 OK\r\n", WIRE_FIN, T_MS),
	/* malformed, one kind each */
	X("/malformed/status_line", "HTTP/1.1 200OK\r\nContent-Length: 6\r\n\r\nhello\n", WIRE_FIN, T_MS),
	X("/malformed/version", "HTTP/1.x 200 OK\r\nContent-Length: 6\r\n\r\nhello\n", WIRE_FIN, T_MS),
	X("/malformed/status_code", "HTTP/1.1 2x0 OK\r\nContent-Length: 6\r\n\r\nhello\n", WIRE_FIN, T_MS),
	X("/malformed/no_colon", "HTTP/1.1 200 OK\r\nX-Upsim-Malformed header line without a colon\r\n"
	  "Content-Length: 6\r\n\r\nhello\n", WIRE_FIN, T_MS),
	X("/malformed/space_before_colon", "HTTP/1.1 200 OK\r\nX-Upsim-Malformed : space before the colon\r\n"
	  "Content-Length: 6\r\n\r\nhello\n", WIRE_FIN, T_MS),
	X("/malformed/bare_lf", "HTTP/1.1 200 OK\nContent-Length: 6\n\nhello\n", WIRE_FIN, T_MS),
	X("/malformed/nul", "HTTP/1.1 200 OK\r\nX-Upsim-Malformed: nul\0byte\r\n"
	  "Content-Length: 6\r\n\r\nhello\n", WIRE_FIN, T_MS),
	X("/malformed/folded", "HTTP/1.1 200 OK\r\nX-Upsim-Malformed: folded\r\n onto a continuation line\r\n"
	  "Content-Length: 6\r\n\r\nhello\n", WIRE_RST, T_MS),
	/* another protocol, then hang */
	X("/banner", "SSH-2.0-OpenSSH_9.6\r\n", WIRE_OPEN, 300),
	/* framing */
	X("/length-mismatch", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello\n", WIRE_FIN, T_MS),
	/* the literal body first, then the generated pattern from its end */
	X("/length-long", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabc34", WIRE_FIN, T_MS),
	X("/raw-path-204", "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", WIRE_FIN, T_MS),
	X("/bad-chunked/invalid_size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "zz\r\nhello\n\r\n0\r\n\r\n", WIRE_FIN, T_MS),
	X("/bad-chunked/missing_last_chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "6\r\nhello\n\r\n", WIRE_FIN, T_MS),
	/* the first half of the body as a valid chunk, then the bad size line */
	X("/bad-chunked/invalid_size_mid_body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "3\r\nhel\r\nzz\r\nlo\n\r\n0\r\n\r\n", WIRE_FIN, T_MS),
	X("/duplicate-length", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Length: 7\r\n"
	  "\r\nhello\n", WIRE_FIN, T_MS),
	X("/cl-and-te", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n6\r\nhello\n\r\n0\r\n\r\n", WIRE_FIN, T_MS),
	/* raw: JSON escapes (a NUL included), and base64 then reset */
	X("/raw", "HTTP/1.1 204 No Content\r\nX-Nul: a\0b\r\n\r\n", WIRE_FIN, T_MS),
	X("/raw64", "\x00\x01\x02\x03\xff", WIRE_RST, T_MS),
#undef X
};
/* clang-format on */

START_TEST(test_exact_bytes_and_ending)
{
	struct wire_result w = {0};
	fetch(exact_cases[_i].path, exact_cases[_i].wait_ms, &w);
	assert_bytes(&w, exact_cases[_i].bytes, exact_cases[_i].len);
	assert_end(&w, exact_cases[_i].end);
	wire_result_free(&w);
}
END_TEST

START_TEST(test_oversized_headers)
{
	struct wire_result w = {0};
	fetch("/oversized", T_MS, &w);
	assert_end(&w, WIRE_FIN);
	const char *blank = memmem(w.bytes, w.len, "\r\n\r\n", 4);
	ck_assert_ptr_nonnull(blank);
	size_t head = (size_t)(blank - (const char *)w.bytes) + 4;
	ck_assert_uint_ge(head, 8192);
	ck_assert_uint_lt(head, 8192 + 1100);
	ck_assert_str_eq((char *)w.bytes + head, "hello\n");
	ck_assert_int_eq(memcmp(w.bytes,
				"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n"
				"X-Upsim-Pad-0000: ",
				54),
			 0);
	wire_result_free(&w);
}
END_TEST

/* One header line of 8 KiB, as a huge cookie would be: the block is
 * exactly the size asked for. */
START_TEST(test_oversized_headers_one_line)
{
	struct wire_result w = {0};
	fetch("/oversized-one-line", T_MS, &w);
	assert_end(&w, WIRE_FIN);
	static const char start[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Upsim-Pad: ";
	ck_assert_int_eq(memcmp(w.bytes, start, sizeof start - 1), 0);
	const char *blank = memmem(w.bytes, w.len, "\r\n\r\n", 4);
	ck_assert_ptr_nonnull(blank);
	size_t head = (size_t)(blank - (const char *)w.bytes) + 4;
	ck_assert_uint_eq(head - strlen("HTTP/1.1 200 OK\r\n"), 8192);
	/* one line: no CR LF between the name and the blank line */
	const char *line = (const char *)w.bytes + sizeof start - 1;
	ck_assert_ptr_eq(memmem(line, head - (sizeof start - 1), "\r\n", 2), blank);
	ck_assert_str_eq((char *)w.bytes + head, "hello\n");
	wire_result_free(&w);
}
END_TEST

START_TEST(test_garbage_is_not_http)
{
	struct wire_result w = {0}, again = {0};
	fetch("/garbage", T_MS, &w);
	ck_assert_uint_eq(w.len, 64);
	ck_assert_int_ne(w.bytes[0], 'H');
	assert_end(&w, WIRE_RST);
	/* Each request draws new bytes from the rule's stream. */
	fetch("/garbage", T_MS, &again);
	ck_assert_uint_eq(again.len, 64);
	ck_assert_int_ne(memcmp(w.bytes, again.bytes, 64), 0);
	wire_result_free(&w);
	wire_result_free(&again);
}
END_TEST

START_TEST(test_early_response_before_the_body)
{
	/* 100000 body bytes announced, 10 sent: the answer comes anyway. */
	struct wire_result w = {0};
	fetch_raw("POST /early HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n"
		  "0123456789",
		  T_MS, &w);
	ASSERT_BYTES(&w, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 8\r\n\r\n"
			 "too big\n");
	assert_end(&w, WIRE_FIN);
	wire_result_free(&w);
}
END_TEST

/* ---- respond stage: pacing ---- */

#define PACED_HELLO "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 6\r\n\r\nhello\n"

START_TEST(test_drip)
{
	/* 63 bytes, 10 every 40 ms: 7 writes, the first at once, the last at
	 * 240 ms. */
	struct wire_result w = {0};
	fetch("/drip", T_MS, &w);
	ASSERT_BYTES(&w, PACED_HELLO);
	assert_end(&w, WIRE_FIN);
	ck_assert_msg(w.first_ms < slack_ms(), "first byte at %.1f ms", w.first_ms);
	assert_near(w.last_ms, 240, "last byte");
	wire_result_free(&w);
}
END_TEST

START_TEST(test_rate)
{
	/* 1053 bytes at 2000 B/s, 20 bytes every 10 ms: 53 writes, the first
	 * at once, the last at 520 ms. */
	struct wire_result w = {0};
	fetch("/rate", T_MS, &w);
	assert_end(&w, WIRE_FIN);
	static const char head[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
				   "Content-Length: 994\r\n\r\n";
	ck_assert_uint_eq(w.len, sizeof head - 1 + 994);
	ck_assert_int_eq(memcmp(w.bytes, head, sizeof head - 1), 0);
	char body[994];
	body_pattern(0, body, sizeof body);
	ck_assert_int_eq(memcmp(w.bytes + sizeof head - 1, body, sizeof body), 0);
	assert_near(w.last_ms, 520, "last byte");
	wire_result_free(&w);
}
END_TEST

/* Read the first `split` bytes, which come at once, then the rest, which
 * must start `pause_ms` after the request. */
static void assert_pause_at(const char *path, size_t split, double pause_ms, const void *all,
			    size_t all_len, enum wire_end end)
{
	struct wire_result first = {0}, rest = {0};
	char req[128];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
	int fd = connect_proc(&proc);
	double t0 = wire_now_ms();
	wire_send_str(fd, req, T_MS);
	ck_assert_int_eq(wire_read_bytes(fd, split, t0, T_MS, &first), 0);
	wire_read_until_end(fd, t0, T_MS, &rest);
	assert_end(&rest, end);
	ck_assert_uint_eq(first.len + rest.len, all_len);
	ck_assert_int_eq(memcmp(first.bytes, all, first.len), 0);
	ck_assert_int_eq(memcmp(rest.bytes, (const char *)all + first.len, rest.len), 0);
	ck_assert_msg(first.last_ms < slack_ms(), "first part at %.1f ms", first.last_ms);
	assert_near(rest.first_ms, pause_ms, "the rest, after the pause");
	close(fd);
	wire_result_free(&first);
	wire_result_free(&rest);
}

START_TEST(test_stall_before_the_first_byte)
{
	struct wire_result w = {0};
	int fd = connect_proc(&proc);
	double t0 = wire_now_ms();
	wire_send_str(fd, "GET /stall-status HTTP/1.1\r\nHost: t\r\n\r\n", T_MS);
	wire_read_until_end(fd, t0, T_MS, &w);
	ASSERT_BYTES(&w, PACED_HELLO);
	assert_end(&w, WIRE_FIN);
	assert_near(w.first_ms, 150, "first byte");
	close(fd);
	wire_result_free(&w);
}
END_TEST

START_TEST(test_stall_inside_the_body)
{
	assert_pause_at("/stall-body", sizeof PACED_HELLO - 1 - 6 + 3, 150, PACED_HELLO,
			sizeof PACED_HELLO - 1, WIRE_FIN);
}
END_TEST

START_TEST(test_reset_comes_after_every_queued_byte)
{
	/* 3 MiB queued before the RST: far more than the socket buffers hold,
	 * so upsim must wait for the kernel to send them all (SIOCOUTQ)
	 * before resetting, or the client would lose the tail. */
	struct wire_result w = {0};
	fetch("/big-reset", T_MS, &w);
	assert_end(&w, WIRE_RST);
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n";
	ck_assert_uint_eq(w.len, sizeof head - 1 + 3 * 1024 * 1024);
	ck_assert_int_eq(memcmp(w.bytes, head, sizeof head - 1), 0);
	char tail[64];
	body_pattern(3 * 1024 * 1024 - sizeof tail, tail, sizeof tail);
	ck_assert_int_eq(memcmp(w.bytes + w.len - sizeof tail, tail, sizeof tail), 0);
	wire_result_free(&w);
}
END_TEST

START_TEST(test_header_delay)
{
	assert_pause_at("/header-delay", sizeof PACED_HELLO - 1 - 6, 200, PACED_HELLO,
			sizeof PACED_HELLO - 1, WIRE_FIN);
}
END_TEST

START_TEST(test_stall_inside_headers_then_reset)
{
	/* Stalls 4 bytes into the header block, goes on, ends with after: reset. */
	assert_pause_at("/stall", 17 + 4, 200, PACED_HELLO, sizeof PACED_HELLO - 1, WIRE_RST);
}
END_TEST

/* ---- the connection after the response ---- */

static void get_on(struct wire_conn *c, const char *path, struct wire_http_response *r)
{
	char req[128];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
	ck_assert_int_eq(wire_send_str(c->fd, req, T_MS), 0);
	ck_assert_int_eq(wire_http_read(c, 0, T_MS, r), 0);
}

/* One response on a new connection, then how the connection ends within
 * wait_ms. Times count from when the request was sent: upsim's idle timer
 * starts once the response is queued, which a client clock started after
 * reading the response would see late, and a deadline as early. */
static void after_response(const char *path, int wait_ms, struct wire_http_response *r,
			   struct wire_result *w)
{
	struct wire_conn c = {.fd = connect_proc(&proc)};
	double t0 = wire_now_ms();
	get_on(&c, path, r);
	ck_assert_uint_eq(c.len, 0);
	wire_read_until_end(c.fd, t0, wait_ms, w);
	close(c.fd);
	free(c.buf);
}

START_TEST(test_after_close)
{
	struct wire_http_response r = {0};
	struct wire_result w = {0};
	after_response("/after-close", T_MS, &r, &w);
	char *conn = wire_http_header(&r, "Connection");
	ck_assert_str_eq(conn, "close");
	ck_assert_uint_eq(w.len, 0);
	assert_end(&w, WIRE_FIN);
	free(conn);
	wire_http_response_free(&r);
	wire_result_free(&w);
}
END_TEST

START_TEST(test_after_reset)
{
	struct wire_http_response r = {0};
	struct wire_result w = {0};
	after_response("/after-reset", T_MS, &r, &w);
	ck_assert_str_eq((char *)r.body, "hello\n");
	ck_assert_uint_eq(w.len, 0);
	assert_end(&w, WIRE_RST);
	wire_http_response_free(&r);
	wire_result_free(&w);
}
END_TEST

START_TEST(test_after_reset_flushes_a_large_response_first)
{
	struct wire_result w = {0};
	fetch("/after-reset-big", T_MS, &w);
	assert_end(&w, WIRE_RST);
	const char *blank = memmem(w.bytes, w.len, "\r\n\r\n", 4);
	ck_assert_ptr_nonnull(blank);
	size_t body = w.len - (size_t)(blank + 4 - (const char *)w.bytes);
	ck_assert_uint_eq(body, 3 * 1024 * 1024);
	wire_result_free(&w);
}
END_TEST

START_TEST(test_after_keep_stays_open)
{
	struct wire_http_response r = {0};
	struct wire_result w = {0};
	after_response("/plain", 300, &r, &w);
	ck_assert_int_eq(wire_http_header_count(&r, "Connection"), 0);
	assert_end(&w, WIRE_OPEN);
	wire_http_response_free(&r);
	wire_result_free(&w);
}
END_TEST

START_TEST(test_close_after_advertises_keepalive_then_fins)
{
	struct wire_http_response r = {0};
	struct wire_result w = {0};
	after_response("/close-after", T_MS, &r, &w);
	ck_assert_int_eq(wire_http_header_count(&r, "Connection"), 0); /* keep-alive */
	ck_assert_uint_eq(w.len, 0);
	assert_end(&w, WIRE_FIN);
	assert_near(w.end_ms, 150, "FIN after the response");
	wire_http_response_free(&r);
	wire_result_free(&w);
}
END_TEST

static void next_request_ends(const char *path, enum wire_end want)
{
	struct wire_conn c = {.fd = connect_proc(&proc)};
	struct wire_http_response r = {0};
	get_on(&c, path, &r);
	ck_assert_int_eq(r.status, 200);
	/* Idle, the connection stays open: only the reuse ends it. */
	struct wire_result idle = {0}, w = {0};
	wire_read_until_end(c.fd, wire_now_ms(), 200, &idle);
	assert_end(&idle, WIRE_OPEN);
	wire_send_str(c.fd, "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n", T_MS);
	wire_read_until_end(c.fd, wire_now_ms(), T_MS, &w);
	ck_assert_uint_eq(w.len, 0);
	assert_end(&w, want);
	close(c.fd);
	free(c.buf);
	wire_http_response_free(&r);
	wire_result_free(&idle);
	wire_result_free(&w);
}

START_TEST(test_on_next_request_close)
{
	next_request_ends("/next-close", WIRE_FIN);
}
END_TEST

START_TEST(test_on_next_request_reset)
{
	next_request_ends("/next-reset", WIRE_RST);
}
END_TEST

/* ---- accept stage and connection policy: one upsim per case ---- */

static struct upsim_proc own;
static char *own_path;

static void start_own(const char *connection_json, const char *const *extra)
{
	char json[1024];
	snprintf(json, sizeof json,
		 "{\"upsim\":1,\"name\":\"conn\",\"defaults\":{\"body\":\"hello\\n\"},"
		 "\"rules\":[{\"match\":{\"path\":\"/hang\"},\"respond\":{\"fault\":\"hang\"}}]"
		 "%s%s}",
		 connection_json ? ",\"connection\":" : "", connection_json ? connection_json : "");
	own_path = upsim_write_temp(json, ".json");
	ck_assert_int_eq(upsim_start_scenario(&own, own_path, extra, T_MS), 0);
}

static void stop_own(void)
{
	ck_assert_int_eq(upsim_stop(&own, SIGTERM, T_MS), 0);
	upsim_proc_free(&own);
	unlink(own_path);
	free(own_path);
}

static void own_fetch(int wait_ms, struct wire_result *w)
{
	double t0 = wire_now_ms();
	int fd = wire_connect(own.host, own.port, T_MS);
	if (fd == -1 && errno == ECONNRESET) {
		/* The RST of an accept-stage reset can beat connect()'s return. */
		w->end = WIRE_RST;
		w->err = ECONNRESET;
		return;
	}
	ck_assert_msg(fd >= 0, "connect: %s", strerror(errno));
	if (wire_send_str(fd, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", T_MS) == -1
	    && errno == ECONNRESET) {
		/* The RST came first and send() consumed its error; a recv()
		 * after that would only see EOF. */
		w->end = WIRE_RST;
		w->err = ECONNRESET;
	} else {
		wire_read_until_end(fd, t0, wait_ms, w);
	}
	close(fd);
}

START_TEST(test_keepalive_idle_timeout)
{
	start_own("{\"keepalive\":{\"idle_timeout\":\"200ms\"}}", NULL);
	struct wire_conn c = {.fd = connect_proc(&own)};
	struct wire_http_response r = {0};
	double t0 = wire_now_ms(); /* before the request: see after_response */
	get_on(&c, "/", &r);
	ck_assert_int_eq(wire_http_header_count(&r, "Connection"), 0);
	struct wire_result w = {0};
	wire_read_until_end(c.fd, t0, T_MS, &w);
	ck_assert_uint_eq(w.len, 0);
	assert_end(&w, WIRE_FIN);
	assert_near(w.end_ms, 200, "idle FIN");
	close(c.fd);
	free(c.buf);
	wire_http_response_free(&r);
	wire_result_free(&w);
	stop_own();
}
END_TEST

START_TEST(test_keepalive_max_requests)
{
	start_own("{\"keepalive\":{\"max_requests\":2}}", NULL);
	struct wire_conn c = {.fd = connect_proc(&own)};
	struct wire_http_response r1 = {0}, r2 = {0};
	get_on(&c, "/", &r1);
	ck_assert_int_eq(wire_http_header_count(&r1, "Connection"), 0);
	get_on(&c, "/", &r2);
	char *conn = wire_http_header(&r2, "Connection");
	ck_assert_str_eq(conn, "close");
	struct wire_result w = {0};
	wire_read_until_end(c.fd, wire_now_ms(), T_MS, &w);
	assert_end(&w, WIRE_FIN);
	close(c.fd);
	free(c.buf);
	free(conn);
	wire_http_response_free(&r1);
	wire_http_response_free(&r2);
	wire_result_free(&w);
	stop_own();
}
END_TEST

START_TEST(test_hang_cap_ends_a_hang)
{
	static const char *const extra[] = {"--hang-cap", "300ms", NULL};
	start_own(NULL, extra);
	int fd = connect_proc(&own);
	struct wire_result w = {0};
	double t0 = wire_now_ms();
	wire_send_str(fd, "GET /hang HTTP/1.1\r\nHost: t\r\n\r\n", T_MS);
	wire_read_until_end(fd, t0, T_MS, &w);
	ck_assert_uint_eq(w.len, 0);
	assert_end(&w, WIRE_FIN);
	assert_near(w.end_ms, 300, "FIN at the cap");
	close(fd);
	wire_result_free(&w);
	stop_own();
}
END_TEST

START_TEST(test_shutdown_releases_hung_connections)
{
	/* 50 hanging requests, one answered request after them on a 51st
	 * connection (the limit), and 3 more connections queued beyond it. */
	enum {
		HUNG = 50,
		QUEUED = 3
	};
	start_own("{\"max_connections\":51,\"over_limit\":\"queue\"}", NULL);
	int fds[HUNG + QUEUED];
	for (int i = 0; i < HUNG; i++) {
		fds[i] = connect_proc(&own);
		wire_send_str(fds[i], "GET /hang HTTP/1.1\r\nHost: t\r\n\r\n", T_MS);
	}
	struct wire_conn probe = {.fd = connect_proc(&own)};
	struct wire_http_response r = {0};
	get_on(&probe, "/", &r);
	for (int i = HUNG; i < HUNG + QUEUED; i++)
		fds[i] = connect_proc(&own);
	ck_assert_int_eq(upsim_stop(&own, SIGTERM, T_MS), 0);
	for (int i = 0; i < HUNG + QUEUED; i++) {
		struct wire_result w = {0};
		wire_read_until_end(fds[i], wire_now_ms(), T_MS, &w);
		ck_assert_msg(w.end == WIRE_FIN || w.end == WIRE_RST,
			      "connection %d still %s after shutdown", i, wire_end_name(w.end));
		ck_assert_uint_eq(w.len, 0);
		close(fds[i]);
		wire_result_free(&w);
	}
	close(probe.fd);
	free(probe.buf);
	wire_http_response_free(&r);
	upsim_proc_free(&own);
	unlink(own_path);
	free(own_path);
}
END_TEST

/* Phases: upsim logs a phase change once the listener has changed, so a
 * test that saw the line can rely on the new state. */
static void start_phases(const char *phases_json)
{
	char json[1024];
	snprintf(json, sizeof json,
		 "{\"upsim\":1,\"name\":\"phases\",\"defaults\":{\"body\":\"hello\\n\"},"
		 "\"phases\":%s}",
		 phases_json);
	own_path = upsim_write_temp(json, ".json");
	ck_assert_int_eq(upsim_start_scenario(&own, own_path, NULL, T_MS), 0);
}

/* ---- the accept stage on the wire: one table ----
 *
 * Each row starts its own upsim with a connection policy (or a phase
 * timeline) and plays steps against it with the raw client: what a new
 * connection sees (no byte, then FIN, RST, or nothing within a time),
 * refusals, and connections held open to fill a limit. */

enum step_kind {
	STEP_END = 0,	  /* the end of a row's steps */
	STEP_HOLD_SERVED, /* a new connection gets 200 for GET /, and is held open */
	STEP_FETCH,	  /* a new connection sends GET /: no byte, then `end`
				   within wait_ms (near near_ms if > 0, from before connect) */
	STEP_FETCH_KEPT,  /* the same, but the connection is kept for STEP_ANSWERED */
	STEP_RELEASE,	  /* close the connection STEP_HOLD_SERVED held */
	STEP_ANSWERED,	  /* the kept connection now gets its answer, "hello\n" */
	STEP_BACKLOG,	  /* 4 connects of 300 ms: 1 or 2 complete, the rest time
				   out; the first gets no byte within wait_ms */
	STEP_PHASE,	  /* upsim logs that it entered phase `phase` */
	STEP_REFUSED,	  /* connect() is refused */
	STEP_SERVED,	  /* a new connection gets 200 for GET / */
};

struct step {
	enum step_kind kind;
	enum wire_end end;
	int wait_ms;
	double near_ms;
	const char *phase;
};

static const char *const hang_cap_300ms[] = {"--hang-cap", "300ms", NULL};

static const struct {
	const char *name;
	const char *connection;	  /* the scenario's "connection", or NULL */
	const char *phases;	  /* else its "phases" */
	const char *const *extra; /* more upsim arguments */
	struct step steps[6];
} accept_cases[] = {
	{"accept reset",
	 "{\"accept\":{\"fault\":\"reset\"}}",
	 NULL,
	 NULL,
	 {{STEP_FETCH, WIRE_RST, T_MS, 0, NULL}}},
	/* A FIN even with the request unread (close(2) would send a RST). */
	{"accept close",
	 "{\"accept\":{\"fault\":\"close\"}}",
	 NULL,
	 NULL,
	 {{STEP_FETCH, WIRE_FIN, T_MS, 0, NULL}}},
	/* Held unread until the cap, then a FIN, not a RST. */
	{"accept hang until the cap",
	 "{\"accept\":{\"fault\":\"hang\"}}",
	 NULL,
	 hang_cap_300ms,
	 {{STEP_FETCH, WIRE_FIN, T_MS, 300, NULL}}},
	/* Not accepting, the kernel completes at most backlog + 1 handshakes
	 * (Linux); later SYNs are dropped and connect() times out. */
	{"accept pause fills the backlog",
	 "{\"accept\":{\"fault\":\"pause\"},\"backlog\":1}",
	 NULL,
	 NULL,
	 {{STEP_BACKLOG, WIRE_OPEN, 300, 0, NULL}}},
	{"max_connections reset",
	 "{\"max_connections\":1,\"over_limit\":\"reset\"}",
	 NULL,
	 NULL,
	 {{STEP_HOLD_SERVED, 0, 0, 0, NULL}, {STEP_FETCH, WIRE_RST, T_MS, 0, NULL}}},
	{"max_connections close",
	 "{\"max_connections\":1,\"over_limit\":\"close\"}",
	 NULL,
	 NULL,
	 {{STEP_HOLD_SERVED, 0, 0, 0, NULL}, {STEP_FETCH, WIRE_FIN, T_MS, 0, NULL}}},
	/* Queued: accepted, unanswered; served when the slot frees. */
	{"max_connections queue serves when a slot frees",
	 "{\"max_connections\":1,\"over_limit\":\"queue\"}",
	 NULL,
	 NULL,
	 {{STEP_HOLD_SERVED, 0, 0, 0, NULL},
	  {STEP_FETCH_KEPT, WIRE_OPEN, 300, 0, NULL},
	  {STEP_RELEASE, 0, 0, 0, NULL},
	  {STEP_ANSWERED, 0, 0, 0, NULL}}},
	/* upsim logs a phase change once the listener has changed, so a step
	 * after STEP_PHASE can rely on the new state. */
	{"listen false refuses, then the same port reopens",
	 NULL,
	 "[{\"name\":\"up\",\"duration\":\"500ms\"},"
	 "{\"name\":\"down\",\"duration\":\"500ms\",\"listen\":false},{\"name\":\"again\"}]",
	 NULL,
	 {{STEP_SERVED, 0, 0, 0, NULL},
	  {STEP_PHASE, 0, 0, 0, "down"},
	  {STEP_REFUSED, 0, 0, 0, NULL},
	  {STEP_PHASE, 0, 0, 0, "again"},
	  {STEP_SERVED, 0, 0, 0, NULL}}},
	{"a first phase down refuses from the ready line",
	 NULL,
	 "[{\"name\":\"down\",\"duration\":\"200ms\",\"listen\":false},{\"name\":\"up\"}]",
	 NULL,
	 {{STEP_REFUSED, 0, 0, 0, NULL}, {STEP_PHASE, 0, 0, 0, "up"}, {STEP_SERVED, 0, 0, 0, NULL}}},
};

static void assert_refused(void)
{
	int fd = wire_connect(own.host, own.port, T_MS);
	ck_assert_msg(fd == -1 && errno == ECONNREFUSED, "connect: %s",
		      fd == -1 ? strerror(errno) : "connected");
}

static void assert_served(void)
{
	struct wire_conn c = {.fd = connect_proc(&own)};
	struct wire_http_response r = {0};
	get_on(&c, "/", &r);
	ck_assert_int_eq(r.status, 200);
	wire_http_response_free(&r);
	close(c.fd);
	free(c.buf);
}

static void assert_backlog(const struct step *st)
{
	int fds[4], connected = 0, timed_out = 0;
	for (int i = 0; i < 4; i++) {
		fds[i] = wire_connect(own.host, own.port, 300);
		if (fds[i] >= 0)
			connected++;
		else if (errno == ETIMEDOUT)
			timed_out++;
	}
	ck_assert_int_ge(connected, 1);
	ck_assert_int_le(connected, 2);
	ck_assert_int_eq(connected + timed_out, 4);
	/* Queued in the kernel, never accepted: no answer. */
	struct wire_result w = {0};
	wire_send_str(fds[0], "GET / HTTP/1.1\r\nHost: t\r\n\r\n", T_MS);
	wire_read_until_end(fds[0], wire_now_ms(), st->wait_ms, &w);
	assert_end(&w, st->end);
	ck_assert_uint_eq(w.len, 0);
	for (int i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	wire_result_free(&w);
}

START_TEST(test_accept_stage_on_the_wire)
{
	if (accept_cases[_i].phases != NULL)
		start_phases(accept_cases[_i].phases);
	else
		start_own(accept_cases[_i].connection, accept_cases[_i].extra);
	struct wire_conn held = {.fd = -1}, kept = {.fd = -1};
	for (const struct step *st = accept_cases[_i].steps; st->kind != STEP_END; st++) {
		struct wire_http_response r = {0};
		struct wire_result w = {0};
		switch (st->kind) {
		case STEP_HOLD_SERVED:
			held.fd = connect_proc(&own);
			get_on(&held, "/", &r);
			ck_assert_int_eq(r.status, 200);
			break;
		case STEP_FETCH:
			own_fetch(st->wait_ms, &w);
			ck_assert_uint_eq(w.len, 0);
			assert_end(&w, st->end);
			if (st->near_ms > 0)
				assert_near(w.end_ms, st->near_ms, accept_cases[_i].name);
			break;
		case STEP_FETCH_KEPT:
			kept.fd = connect_proc(&own);
			wire_send_str(kept.fd, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", T_MS);
			wire_read_until_end(kept.fd, wire_now_ms(), st->wait_ms, &w);
			assert_end(&w, st->end);
			ck_assert_uint_eq(w.len, 0);
			break;
		case STEP_RELEASE:
			close(held.fd);
			held.fd = -1;
			break;
		case STEP_ANSWERED:
			ck_assert_int_eq(wire_http_read(&kept, 0, T_MS, &r), 0);
			ck_assert_str_eq((char *)r.body, "hello\n");
			break;
		case STEP_BACKLOG: assert_backlog(st); break;
		case STEP_PHASE: {
			char line[64];
			snprintf(line, sizeof line, "phase \"%s\"", st->phase);
			ck_assert_int_eq(upsim_wait_stderr(&own, line, T_MS), 0);
			break;
		}
		case STEP_REFUSED: assert_refused(); break;
		case STEP_SERVED: assert_served(); break;
		case STEP_END: break;
		}
		wire_http_response_free(&r);
		wire_result_free(&w);
	}
	if (held.fd >= 0)
		close(held.fd);
	if (kept.fd >= 0)
		close(kept.fd);
	free(held.buf);
	free(kept.buf);
	stop_own();
}
END_TEST

/* The shipped scenario files do on the wire what their descriptions say:
 * one request per family, the start of the bytes and the ending. */
static const struct {
	const char *file, *path, *prefix;
	enum wire_end end;
	int wait_ms;
} shipped[] = {
	{"scenarios/resets.json", "/accepted-then-reset", "", WIRE_RST, T_MS},
	{"scenarios/resets.json", "/mid-headers", "HTTP/1.1 200 OK\r\nContent-T", WIRE_RST, T_MS},
	{"scenarios/truncation.json", "/status", "HTTP/1.1", WIRE_FIN, T_MS},
	{"scenarios/truncation.json", "/headers-hang", "HTTP/1.1 200 OK\r\nContent-Type: text/",
	 WIRE_OPEN, 300},
	{"scenarios/malformed-headers.json", "/bare_lf",
	 "HTTP/1.1 200 OK\nContent-Type: text/plain\n", WIRE_FIN, T_MS},
	{"scenarios/slow-replies.json", "/hang", "", WIRE_OPEN, 300},
	{"scenarios/framing-errors.json", "/duplicate-length",
	 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\nContent-Length: "
	 "101\r\n",
	 WIRE_FIN, T_MS},
	{"scenarios/wrong-protocol.json", "/ssh", "SSH-2.0-OpenSSH_9.6\r\n", WIRE_FIN, T_MS},
	{"scenarios/wrong-protocol.json", "/tls", "\x15\x03\x03\x00\x02\x02\x32", WIRE_FIN, T_MS},
};

START_TEST(test_shipped_scenario_on_the_wire)
{
	ck_assert_int_eq(upsim_start_scenario(&own, shipped[_i].file, NULL, T_MS), 0);
	char req[256];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", shipped[_i].path);
	int fd = connect_proc(&own);
	struct wire_result w = {0};
	wire_send_str(fd, req, T_MS);
	wire_read_until_end(fd, wire_now_ms(), shipped[_i].wait_ms, &w);
	size_t n = strlen(shipped[_i].prefix);
	ck_assert_msg(w.len >= n && memcmp(w.bytes, shipped[_i].prefix, n) == 0,
		      "%s %s: unexpected bytes", shipped[_i].file, shipped[_i].path);
	assert_end(&w, shipped[_i].end);
	close(fd);
	wire_result_free(&w);
	ck_assert_int_eq(upsim_stop(&own, SIGTERM, T_MS), 0);
	upsim_proc_free(&own);
}
END_TEST

Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("request");
	tcase_add_unchecked_fixture(tc, start_faults, stop_faults);
	tcase_add_test(tc, test_close_is_fin_without_a_byte);
	tcase_add_test(tc, test_reset_is_rst_without_a_byte);
	tcase_add_test(tc, test_delay_holds_the_first_byte);
	tcase_add_test(tc, test_uniform_delay_stays_in_range);
	tcase_add_test(tc, test_lognormal_delay_is_seeded_and_near_its_median);
	tcase_add_test(tc, test_hang_sends_nothing_and_stays_open);
	tcase_add_test(tc, test_hang_for_then_close);
	tcase_add_test(tc, test_hang_for_then_reset);
	tcase_add_test(tc, test_no_continue_never_answers_expect);
	tcase_add_test(tc, test_expect_is_answered_without_the_fault);
	tcase_add_test(tc, test_read_rate_reads_the_body_slowly);
	suite_add_tcase(s, tc);

	tc = tcase_create("respond");
	tcase_add_unchecked_fixture(tc, start_faults, stop_faults);
	tcase_add_loop_test(tc, test_exact_bytes_and_ending, 0,
			    (int)(sizeof exact_cases / sizeof exact_cases[0]));
	tcase_add_test(tc, test_oversized_headers);
	tcase_add_test(tc, test_oversized_headers_one_line);
	tcase_add_test(tc, test_garbage_is_not_http);
	tcase_add_test(tc, test_early_response_before_the_body);
	tcase_add_test(tc, test_drip);
	tcase_add_test(tc, test_rate);
	tcase_add_test(tc, test_stall_before_the_first_byte);
	tcase_add_test(tc, test_stall_inside_the_body);
	tcase_add_test(tc, test_reset_comes_after_every_queued_byte);
	tcase_add_test(tc, test_header_delay);
	tcase_add_test(tc, test_stall_inside_headers_then_reset);
	suite_add_tcase(s, tc);

	tc = tcase_create("after");
	tcase_add_unchecked_fixture(tc, start_faults, stop_faults);
	tcase_add_test(tc, test_after_close);
	tcase_add_test(tc, test_after_reset);
	tcase_add_test(tc, test_after_reset_flushes_a_large_response_first);
	tcase_add_test(tc, test_after_keep_stays_open);
	tcase_add_test(tc, test_close_after_advertises_keepalive_then_fins);
	tcase_add_test(tc, test_on_next_request_close);
	tcase_add_test(tc, test_on_next_request_reset);
	suite_add_tcase(s, tc);

	tc = tcase_create("connection");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_keepalive_idle_timeout);
	tcase_add_test(tc, test_keepalive_max_requests);
	tcase_add_test(tc, test_hang_cap_ends_a_hang);
	tcase_add_test(tc, test_shutdown_releases_hung_connections);
	suite_add_tcase(s, tc);

	tc = tcase_create("accept");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_accept_stage_on_the_wire, 0,
			    (int)(sizeof accept_cases / sizeof accept_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("shipped");
	tcase_add_loop_test(tc, test_shipped_scenario_on_the_wire, 0,
			    (int)(sizeof shipped / sizeof shipped[0]));
	suite_add_tcase(s, tc);
	return s;
}

/* The test client itself under test: wire.c against a listening socket in
 * this process, the test playing the server by hand, so every byte, FIN
 * and RST is one we chose. Loopback delivers a send() into the peer's
 * receive queue before send() returns, which keeps this single-threaded
 * ping-pong deterministic. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proc.h"
#include "suites.h"
#include "wire.h"

#define T_MS 2000

/* A connected pair: cli from wire_connect(), srv accepted here. */
struct pair {
	int lfd, cli, srv;
};

static int listen_loopback(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct pair pair_open(void)
{
	struct pair p;
	int port;

	p.lfd = listen_loopback(&port);
	p.cli = wire_connect("127.0.0.1", port, T_MS);
	ck_assert_int_ge(p.cli, 0);
	struct pollfd pfd = {.fd = p.lfd, .events = POLLIN};
	ck_assert_int_eq(poll(&pfd, 1, T_MS), 1);
	p.srv = accept4(p.lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(p.srv, 0);
	return p;
}

static void pair_close(struct pair *p)
{
	if (p->srv >= 0)
		close(p->srv);
	close(p->cli);
	close(p->lfd);
}

static void srv_send(int fd, const char *s)
{
	ck_assert_int_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

START_TEST(test_fin_after_data)
{
	struct pair p = pair_open();
	struct wire_result w = {0};
	double t0 = wire_now_ms();

	srv_send(p.srv, "abc");
	close(p.srv);
	p.srv = -1;
	ck_assert_int_eq(wire_read_until_end(p.cli, t0, T_MS, &w), 0);
	ck_assert_str_eq(wire_end_name(w.end), "fin");
	ck_assert_uint_eq(w.len, 3);
	ck_assert_str_eq((char *)w.bytes, "abc");
	ck_assert_int_eq(w.err, 0);
	ck_assert(w.first_ms >= 0 && w.first_ms <= w.last_ms && w.last_ms <= w.end_ms);
	ck_assert(w.end_ms < T_MS);
	/* The peer closed its socket entirely: data sent now is refused. */
	ck_assert_int_eq(wire_rst_follows(p.cli, T_MS), 1);
	wire_result_free(&w);
	ck_assert_ptr_null(w.bytes);
	pair_close(&p);
}
END_TEST

START_TEST(test_half_close_is_not_a_full_close)
{
	struct pair p = pair_open();
	struct wire_result w = {0};

	srv_send(p.srv, "x");
	ck_assert_int_eq(shutdown(p.srv, SHUT_WR), 0);
	wire_read_until_end(p.cli, wire_now_ms(), T_MS, &w);
	ck_assert_int_eq(w.end, WIRE_FIN);
	ck_assert_str_eq((char *)w.bytes, "x");
	/* A FIN, but the peer still holds the socket: no RST comes back. */
	ck_assert_int_eq(wire_rst_follows(p.cli, 200), 0);
	wire_result_free(&w);
	pair_close(&p);
}
END_TEST

/* The RST is sent only once the client has the bytes, as a server that
 * resets mid-response does; Linux would keep queued data readable anyway,
 * but this test is about seeing the RST after data, not about that. */
START_TEST(test_rst_after_data)
{
	struct pair p = pair_open();
	struct wire_result w = {0};
	double t0 = wire_now_ms();

	srv_send(p.srv, "abc");
	ck_assert_int_eq(wire_read_bytes(p.cli, 3, t0, T_MS, &w), 0);
	ck_assert_int_eq(w.end, WIRE_OPEN);
	wire_close_rst(p.srv);
	p.srv = -1;
	ck_assert_int_eq(wire_read_until_end(p.cli, t0, T_MS, &w), 0);
	ck_assert_str_eq(wire_end_name(w.end), "rst");
	ck_assert_int_eq(w.err, ECONNRESET);
	ck_assert_uint_eq(w.len, 3);
	ck_assert_str_eq((char *)w.bytes, "abc");
	ck_assert(w.end_ms >= w.last_ms);
	wire_result_free(&w);
	pair_close(&p);
}
END_TEST

START_TEST(test_rst_behind_unread_data)
{
	struct pair p = pair_open();
	struct wire_result w = {0};

	srv_send(p.srv, "abc");
	wire_close_rst(p.srv);
	p.srv = -1;
	wire_read_until_end(p.cli, wire_now_ms(), T_MS, &w);
	ck_assert_int_eq(w.end, WIRE_RST);
	ck_assert_str_eq((char *)w.bytes, "abc");
	wire_result_free(&w);
	pair_close(&p);
}
END_TEST

START_TEST(test_open_on_timeout)
{
	struct pair p = pair_open();
	struct wire_result w = {0};
	double t0 = wire_now_ms();

	ck_assert_int_eq(wire_read_until_end(p.cli, t0, 150, &w), 0);
	double took = wire_now_ms() - t0;
	ck_assert_str_eq(wire_end_name(w.end), "open");
	ck_assert_uint_eq(w.len, 0);
	ck_assert_ptr_nonnull(w.bytes);
	ck_assert_str_eq((char *)w.bytes, "");
	ck_assert(w.first_ms == -1 && w.last_ms == -1 && w.end_ms == -1);
	ck_assert_msg(took >= 150 && took < 150 + 1500, "returned after %.1f ms", took);
	wire_result_free(&w);
	pair_close(&p);
}
END_TEST

START_TEST(test_read_bytes_takes_no_more_than_asked)
{
	struct pair p = pair_open();
	struct wire_result w = {0};
	double t0 = wire_now_ms();

	srv_send(p.srv, "hello world");
	ck_assert_int_eq(wire_read_bytes(p.cli, 5, t0, T_MS, &w), 0);
	ck_assert_str_eq((char *)w.bytes, "hello");
	close(p.srv);
	p.srv = -1;
	ck_assert_int_eq(wire_read_until_end(p.cli, t0, T_MS, &w), 0);
	ck_assert_str_eq((char *)w.bytes, "hello world");
	ck_assert_int_eq(w.end, WIRE_FIN);
	/* Asking for more than will ever come: the FIN ends it early. */
	wire_result_free(&w);
	ck_assert_int_eq(wire_read_bytes(p.cli, 5, t0, T_MS, &w), -1);
	ck_assert_int_eq(w.end, WIRE_FIN);
	wire_result_free(&w);
	pair_close(&p);
}
END_TEST

START_TEST(test_connect_refused)
{
	int port;
	int fd = listen_loopback(&port);

	close(fd); /* nobody listens there now */
	errno = 0;
	ck_assert_int_eq(wire_connect("127.0.0.1", port, T_MS), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
}
END_TEST

START_TEST(test_send_all_large)
{
	struct pair p = pair_open();
	size_t n = (size_t)32 << 20; /* far beyond any socket buffer: send must wait */
	char *big = malloc(n);
	struct wire_result w = {0};

	memset(big, 'z', n);
	/* Nobody reads: the send runs out of room and times out. */
	errno = 0;
	ck_assert_int_eq(wire_send_all(p.cli, big, n, 100), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_eq(wire_read_bytes(p.srv, 1000, wire_now_ms(), T_MS, &w), 0);
	wire_result_free(&w);
	free(big);
	pair_close(&p);
}
END_TEST

/* --- wire_http_read ------------------------------------------------- */

START_TEST(test_http_content_length)
{
	struct pair p = pair_open();
	struct wire_conn c = {.fd = p.cli};
	struct wire_http_response r;
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\n";

	srv_send(p.srv, head);
	srv_send(p.srv, "hello");
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.head, head);
	ck_assert_uint_eq(r.head_len, strlen(head));
	ck_assert_str_eq((char *)r.body, "hello");
	ck_assert_uint_eq(r.body_len, 5);
	ck_assert_int_eq(r.content_length, 5);
	ck_assert(!r.chunked && !r.close_delimited);
	ck_assert_uint_eq(c.len, 0);
	wire_http_response_free(&r);
	ck_assert_ptr_null(r.head);
	pair_close(&p);
	free(c.buf);
}
END_TEST

START_TEST(test_http_chunked)
{
	struct pair p = pair_open();
	struct wire_conn c = {.fd = p.cli};
	struct wire_http_response r;

	srv_send(p.srv, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert(r.chunked);
	ck_assert_int_eq(r.content_length, -1);
	ck_assert_uint_eq(r.body_len, 11);
	ck_assert_str_eq((char *)r.body, "hello world");
	ck_assert_uint_eq(c.len, 0); /* trailers consumed too */
	wire_http_response_free(&r);
	pair_close(&p);
	free(c.buf);
}
END_TEST

/* A chunked response cut inside a chunk-size line: the first read times
 * out and keeps what came; the second, after the rest, completes. */
START_TEST(test_http_partial_then_rest)
{
	struct pair p = pair_open();
	struct wire_conn c = {.fd = p.cli};
	struct wire_http_response r;
	const char *part = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1";
	double t0 = wire_now_ms();

	srv_send(p.srv, part);
	ck_assert_int_eq(wire_http_read(&c, 0, 150, &r), -1);
	double took = wire_now_ms() - t0;
	ck_assert_msg(took >= 150 && took < 150 + 1500, "returned after %.1f ms", took);
	ck_assert_ptr_null(r.head);
	ck_assert_ptr_null(r.body);
	ck_assert_uint_eq(c.len, strlen(part));
	srv_send(p.srv, "0\r\n0123456789abcdef\r\n0\r\n\r\n");
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_str_eq((char *)r.body, "abc0123456789abcdef");
	wire_http_response_free(&r);
	pair_close(&p);
	free(c.buf);
}
END_TEST

START_TEST(test_http_fin_before_complete)
{
	struct pair p = pair_open();
	struct wire_conn c = {.fd = p.cli};
	struct wire_http_response r;
	double t0 = wire_now_ms();

	srv_send(p.srv, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
	close(p.srv);
	p.srv = -1;
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), -1);
	ck_assert(wire_now_ms() - t0 < T_MS / 2); /* the FIN ended it, not the timeout */
	pair_close(&p);
	free(c.buf);
}
END_TEST

START_TEST(test_http_pipelined)
{
	struct pair p = pair_open();
	struct wire_conn c = {.fd = p.cli};
	struct wire_http_response r;

	srv_send(p.srv,
		 "HTTP/1.1 100 Continue\r\n\r\n"
		 "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
		 "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
		 "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"
		 "HTTP/1.1 204 No Content\r\n\r\n"
		 "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nthree");
	int want[] = {100, 200, 404, 304, 204, 201};
	const char *body[] = {"", "one", "two", "", "", "three"};
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
		ck_assert_int_eq(r.status, want[i]);
		ck_assert_str_eq((char *)r.body, body[i]);
		wire_http_response_free(&r);
	}
	ck_assert_uint_eq(c.len, 0);
	pair_close(&p);
	free(c.buf);
}
END_TEST

START_TEST(test_http_head_has_no_body)
{
	struct pair p = pair_open();
	struct wire_conn c = {.fd = p.cli};
	struct wire_http_response r;

	srv_send(p.srv, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
			"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok");
	ck_assert_int_eq(wire_http_read(&c, 1, T_MS, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.content_length, 100);
	ck_assert_uint_eq(r.body_len, 0);
	ck_assert_ptr_nonnull(r.body);
	wire_http_response_free(&r);
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_int_eq(r.status, 202);
	ck_assert_str_eq((char *)r.body, "ok");
	wire_http_response_free(&r);
	pair_close(&p);
	free(c.buf);
}
END_TEST

START_TEST(test_http_close_delimited)
{
	struct pair p = pair_open();
	struct wire_conn c = {.fd = p.cli};
	struct wire_http_response r;

	srv_send(p.srv, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ");
	srv_send(p.srv, "the end");
	close(p.srv);
	p.srv = -1;
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert(r.close_delimited);
	ck_assert_int_eq(r.content_length, -1);
	ck_assert_str_eq((char *)r.body, "until the end");
	wire_http_response_free(&r);
	pair_close(&p);
	free(c.buf);
}
END_TEST

START_TEST(test_http_close_delimited_needs_the_close)
{
	struct pair p = pair_open();
	struct wire_conn c = {.fd = p.cli};
	struct wire_http_response r;

	srv_send(p.srv, "HTTP/1.1 200 OK\r\n\r\nmore to come");
	ck_assert_int_eq(wire_http_read(&c, 0, 100, &r), -1);
	pair_close(&p);
	free(c.buf);
}
END_TEST

START_TEST(test_http_headers)
{
	struct pair p = pair_open();
	struct wire_conn c = {.fd = p.cli};
	struct wire_http_response r;

	srv_send(p.srv, "HTTP/1.1 200 OK\r\nX-Dup: 1\r\nx-dup:  2 \r\nServer:\tupsim \r\n"
			"X-Empty:\r\nContent-Length: 0\r\n\r\n");
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	char *v = wire_http_header(&r, "x-DUP");
	ck_assert_str_eq(v, "1");
	free(v);
	v = wire_http_header(&r, "SERVER");
	ck_assert_str_eq(v, "upsim");
	free(v);
	v = wire_http_header(&r, "x-empty");
	ck_assert_str_eq(v, "");
	free(v);
	ck_assert_ptr_null(wire_http_header(&r, "X-Du"));
	ck_assert_int_eq(wire_http_header_count(&r, "X-DUP"), 2);
	ck_assert_int_eq(wire_http_header_count(&r, "content-length"), 1);
	ck_assert_int_eq(wire_http_header_count(&r, "Absent"), 0);
	wire_http_response_free(&r);
	pair_close(&p);
	free(c.buf);
}
END_TEST

START_TEST(test_http_bare_lf)
{
	struct pair p = pair_open();
	struct wire_conn c = {.fd = p.cli};
	struct wire_http_response r;

	srv_send(p.srv, "HTTP/1.1 200 OK\nContent-Length: 2\nX-A: b\n\nok"
			"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nhi\n0\n\n");
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_str_eq((char *)r.body, "ok");
	char *v = wire_http_header(&r, "x-a");
	ck_assert_str_eq(v, "b");
	free(v);
	wire_http_response_free(&r);
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_str_eq((char *)r.body, "hi");
	wire_http_response_free(&r);
	pair_close(&p);
	free(c.buf);
}
END_TEST

static const char *const garbage[] = {
	"garbage\r\n\r\n",
	"HTTP/1.1 20 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
};

START_TEST(test_http_framing_errors)
{
	struct pair p = pair_open();
	struct wire_conn c = {.fd = p.cli};
	struct wire_http_response r;
	double t0 = wire_now_ms();

	srv_send(p.srv, garbage[_i]);
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), -1);
	ck_assert(wire_now_ms() - t0 < T_MS / 2); /* refused, not timed out */
	ck_assert_ptr_null(r.head);
	pair_close(&p);
	free(c.buf);
}
END_TEST

/* --- proc: only what needs no upsim binary ---------------------------- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char text[256];

	ck_assert_ptr_nonnull(f);
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

START_TEST(test_write_temp)
{
	const char *content = "{\"upsim\":1}\n";
	char *path = upsim_write_temp(content, ".json");
	char *other = upsim_write_temp("", ".json");

	ck_assert_ptr_nonnull(path);
	ck_assert_ptr_nonnull(strstr(path, "/upsim-test-"));
	ck_assert_str_eq(path + strlen(path) - 5, ".json");
	ck_assert_str_eq(slurp(path), content);
	ck_assert_str_ne(path, other);
	ck_assert_str_eq(slurp(other), "");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(other), 0);
	free(path);
	free(other);
}
END_TEST

START_TEST(test_write_temp_honours_tmpdir)
{
	char dir[] = "/tmp/upsim-support-XXXXXX";
	const char *old = getenv("TMPDIR");
	char *saved = old ? strdup(old) : NULL;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("TMPDIR", dir, 1);
	char *path = upsim_write_temp("x", "");
	if (saved)
		setenv("TMPDIR", saved, 1);
	else
		unsetenv("TMPDIR");
	free(saved);
	ck_assert_ptr_nonnull(path);
	ck_assert_int_eq(strncmp(path, dir, strlen(dir)), 0);
	ck_assert_str_eq(slurp(path), "x");
	unlink(path);
	free(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

Suite *support_suite(void)
{
	Suite *s = suite_create("support");
	TCase *tc = tcase_create("wire");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_fin_after_data);
	tcase_add_test(tc, test_half_close_is_not_a_full_close);
	tcase_add_test(tc, test_rst_after_data);
	tcase_add_test(tc, test_rst_behind_unread_data);
	tcase_add_test(tc, test_open_on_timeout);
	tcase_add_test(tc, test_read_bytes_takes_no_more_than_asked);
	tcase_add_test(tc, test_connect_refused);
	tcase_add_test(tc, test_send_all_large);
	suite_add_tcase(s, tc);
	tc = tcase_create("http");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_http_content_length);
	tcase_add_test(tc, test_http_chunked);
	tcase_add_test(tc, test_http_partial_then_rest);
	tcase_add_test(tc, test_http_fin_before_complete);
	tcase_add_test(tc, test_http_pipelined);
	tcase_add_test(tc, test_http_head_has_no_body);
	tcase_add_test(tc, test_http_close_delimited);
	tcase_add_test(tc, test_http_close_delimited_needs_the_close);
	tcase_add_test(tc, test_http_headers);
	tcase_add_test(tc, test_http_bare_lf);
	tcase_add_loop_test(tc, test_http_framing_errors, 0,
			    (int)(sizeof garbage / sizeof garbage[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("temp");
	tcase_add_test(tc, test_write_temp);
	tcase_add_test(tc, test_write_temp_honours_tmpdir);
	suite_add_tcase(s, tc);
	return s;
}

/* TLS on the wire: upsim started with --tls auto (its CA written with
 * --tls-ca-out), spoken to by a GnuTLS client that reports how each
 * connection ended — close_notify, a bare FIN or a RST — by a raw socket
 * that sends a real ClientHello and records the exact answer, and by
 * openssl s_client, whose verdicts on alerts and certificates are a
 * second, independent reading. */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin_fixture.h"
#include "journal_read.h"
#include "proc.h"
#include "suites.h"
#include "tls_client.h"
#include "wire.h"

#define T_MS 5000

static struct upsim_proc proc;
static char *scenario_path;
static char ca_path[64];

/* Serve scenario over TLS; the CA goes to ca_path. */
static void start_tls(const char *scenario, const char *const *more)
{
	scenario_path = upsim_write_temp(scenario, ".json");
	ck_assert_ptr_nonnull(scenario_path);
	snprintf(ca_path, sizeof ca_path, "%s.ca.pem", scenario_path);
	const char *args[16] = {"run",	"--listen",	"127.0.0.1:0", "--tls",
				"auto", "--tls-ca-out", ca_path};
	int n = 7;
	for (; more != NULL && *more != NULL; more++)
		args[n++] = *more;
	args[n++] = scenario_path;
	args[n] = NULL;
	ck_assert_int_eq(upsim_start(&proc, args, T_MS), 0);
}

static void teardown(void)
{
	upsim_stop(&proc, SIGTERM, T_MS);
	upsim_proc_free(&proc);
	if (scenario_path != NULL) {
		unlink(scenario_path);
		unlink(ca_path);
		free(scenario_path);
		scenario_path = NULL;
	}
}

/* One GET over a verified TLS connection; returns how it ended. */
static enum tls_end get_once(const char *request, char **buf, size_t *len)
{
	struct tls_client c;
	ck_assert_int_eq(tls_client_open(&c, proc.port, ca_path, "localhost", NULL, T_MS), 0);
	ck_assert_msg(c.handshake == 0, "handshake: %s", gnutls_strerror(c.handshake));
	ck_assert_uint_eq(c.verify, 0);
	ck_assert_int_eq(tls_client_send(&c, request), 0);
	enum tls_end end = tls_client_read(&c, 0, 2000, buf, len);
	tls_client_close(&c);
	return end;
}

static const char get_close[] = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

START_TEST(test_healthy_keepalive_over_tls)
{
	start_tls("{\"upsim\": 1, \"name\": \"t\", \"defaults\": {\"body\": \"hello\\n\"}}", NULL);
	struct tls_client c;
	ck_assert_int_eq(tls_client_open(&c, proc.port, ca_path, "localhost", NULL, T_MS), 0);
	ck_assert_int_eq(c.handshake, 0);
	ck_assert_uint_eq(c.verify, 0); /* the CA written out vouches for it */
	ck_assert_str_eq(tls_client_version(&c), "TLS1.3");
	for (int i = 0; i < 2; i++) { /* two requests, one session */
		char *buf = NULL;
		size_t len = 0;
		ck_assert_int_eq(tls_client_send(&c, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
		ck_assert_int_eq(tls_client_read(&c, 0, 300, &buf, &len), TLS_END_OPEN);
		ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 200 OK\r\n"));
		ck_assert_ptr_nonnull(strstr(buf, "\r\n\r\nhello\n"));
		free(buf);
	}
	tls_client_close(&c);
}
END_TEST

/* A truncation counts plaintext bytes of the HTTP message, and its FIN
 * carries close_notify unless the policy says otherwise. */
static const char truncate_json[] =
	"{\"upsim\": 1, \"name\": \"t\", %s \"defaults\": {\"body\": \"0123456789\"},"
	" \"rules\": [{\"respond\": {\"fault\": \"truncate\", \"at\": \"body\", \"offset\": "
	"4%s}}]}";

static void check_truncate(const char *connection, const char *then, enum tls_end want)
{
	char sc[1024];
	snprintf(sc, sizeof sc, truncate_json, connection, then);
	start_tls(sc, NULL);
	char *buf = NULL;
	size_t len = 0;
	enum tls_end end = get_once(get_close, &buf, &len);
	ck_assert_msg(end == want, "ended %s, not %s", tls_end_name(end), tls_end_name(want));
	const char *body = strstr(buf, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(body + 4, "0123");
	ck_assert_ptr_nonnull(strstr(buf, "Content-Length: 10\r\n"));
	free(buf);
}

START_TEST(test_truncate_close_notify)
{
	check_truncate("", "", TLS_END_CLOSE_NOTIFY);
}
END_TEST

START_TEST(test_truncate_bare_fin)
{
	check_truncate("\"connection\": {\"tls\": {\"close_notify\": false}},", "",
		       TLS_END_BARE_FIN);
}
END_TEST

START_TEST(test_truncate_then_reset)
{
	check_truncate("", ", \"then\": \"reset\"", TLS_END_RST);
}
END_TEST

/* A TLS client whose receive buffer is small, set before connect (the
 * window is agreed then): it fills at once, so upsim's sends meet EAGAIN
 * while the client reads nothing. */
static void open_small_window(struct tls_client *c)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)proc.port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&to, sizeof to), 0);
	tls_client_start(c, fd, ca_path, "localhost", NULL, T_MS);
	ck_assert_int_eq(c->handshake, 0);
}

/* A raw response far larger than the socket buffers: GnuTLS's partial
 * records (GNUTLS_E_AGAIN) are resent, and not a byte is lost or doubled. */
START_TEST(test_big_raw_response)
{
	start_tls("{\"upsim\": 1, \"name\": \"t\", \"defaults\": {\"body_size\": \"16MiB\"},"
		  " \"rules\": [{\"respond\": {\"fault\": \"truncate\", \"at\": \"body\","
		  " \"offset\": 12000000}}]}",
		  NULL);
	struct tls_client c;
	open_small_window(&c);
	ck_assert_int_eq(tls_client_send(&c, get_close), 0);
	/* Reading nothing for a while lets upsim's send queue fill, so its
	 * writes meet EAGAIN (strace shows them); what arrives must be the
	 * same whether they do or not. */
	poll(NULL, 0, 300);
	char *buf = NULL;
	size_t len = 0;
	enum tls_end end = tls_client_read(&c, 0, 20000, &buf, &len);
	ck_assert_str_eq(tls_end_name(end), "close_notify");
	const char *body = strstr(buf, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	ck_assert_uint_eq(len - (size_t)(body + 4 - buf), 12000000);
	ck_assert_ptr_nonnull(strstr(buf, "Content-Length: 16777216\r\n"));
	free(buf);
	tls_client_close(&c);
}
END_TEST

/* The plaintext of the next record: gnutls_record_recv returns one
 * record's at most. Waits up to T_MS for it. */
static ssize_t next_record(struct tls_client *c, char *buf, size_t cap)
{
	for (;;) {
		ssize_t n = gnutls_record_recv(c->session, buf, cap);
		if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED)
			return n;
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		if (poll(&p, 1, T_MS) != 1)
			return -1;
	}
}

/* A small answer on a kept-alive connection is one TLS record, head and
 * body (libmicrohttpd 0.9.75 alone sends two: upsim corks GnuTLS), on the
 * first request of a connection and on the next. */
START_TEST(test_small_response_is_one_record)
{
	start_tls("{\"upsim\": 1, \"name\": \"t\", \"defaults\": {\"body\": \"hello\\n\"}}", NULL);
	struct tls_client c;
	ck_assert_int_eq(tls_client_open(&c, proc.port, ca_path, "localhost", NULL, T_MS), 0);
	ck_assert_int_eq(c.handshake, 0);
	for (int i = 0; i < 3; i++) {
		char buf[16384 + 1];
		ck_assert_int_eq(tls_client_send(&c, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
		ssize_t n = next_record(&c, buf, sizeof buf - 1);
		ck_assert_int_gt(n, 0);
		buf[n] = '\0';
		ck_assert_msg(n > 6 && strcmp(buf + n - 10, "\r\n\r\nhello\n") == 0,
			      "request %d: the first record is not the whole answer: %s", i, buf);
		ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	}
	tls_client_close(&c);
}
END_TEST

/* How many more whole answers of PIPE_BODY body bytes buf holds after
 * *used, each checked byte by byte; *used moves past them. */
#define PIPE_BODY 16000

static int whole_answers(const char *buf, size_t len, size_t *used)
{
	const char *at = buf + *used, *end = buf + len;
	int n = 0;
	for (;;) {
		*used = (size_t)(at - buf);
		const char *body = strstr(at, "\r\n\r\n");
		if (body == NULL || end - (body + 4) < PIPE_BODY)
			return n;
		ck_assert_msg(strncmp(at, "HTTP/1.1 200 OK\r\n", 17) == 0, "at %zu: %.40s", *used,
			      at);
		body += 4;
		for (int k = 0; k < PIPE_BODY; k++)
			if (body[k] != 'a' + k % 26)
				ck_abort_msg("at %zu: body byte %d is wrong", *used, k);
		at = body + PIPE_BODY;
		n++;
	}
}

/* A client that sends requests and reads no answer: each request is
 * answered at once, corked, until the socket is full and an uncork meets
 * EAGAIN (upsim says so in its debug log: the test goes on once it has).
 * Requests after it wait for the held answer to go. Once the client
 * reads, every answer arrives whole and in turn, nothing lost or
 * doubled. */
START_TEST(test_corked_answers_wait_for_room)
{
	char *sc = malloc(PIPE_BODY + 128);
	int n = snprintf(sc, 128, "{\"upsim\": 1, \"name\": \"t\", \"defaults\": {\"body\": \"");
	for (int i = 0; i < PIPE_BODY; i++)
		sc[n++] = (char)('a' + i % 26);
	strcpy(sc + n, "\"}}");
	const char *const verbose[] = {"-v", NULL};
	start_tls(sc, verbose);
	free(sc);
	struct tls_client c;
	open_small_window(&c);
	/* Linux lets a send buffer grow to 4 MiB (tcp_wmem): about 260
	 * answers fill it. */
	int sent = 0, full = -1;
	char req[64];
	while (sent < 2000 && (full < 0 || sent < full + 3)) {
		snprintf(req, sizeof req, "GET /%d HTTP/1.1\r\nHost: t\r\n\r\n", sent++);
		ck_assert_int_eq(tls_client_send(&c, req), 0);
		if (full < 0
		    && upsim_wait_stderr(&proc, "a corked response waits for room", 2) == 0)
			full = sent;
	}
	ck_assert_msg(full > 0, "no answer met a full socket in %d requests", sent);
	char *buf = NULL;
	size_t len = 0, used = 0;
	double deadline = wire_now_ms() + 4 * T_MS;
	int got = 0;
	while (got < sent && wire_now_ms() < deadline) {
		ck_assert_int_eq(tls_client_read(&c, len + 1, T_MS, &buf, &len), TLS_END_OPEN);
		got += whole_answers(buf, len, &used);
	}
	ck_assert_int_eq(got, sent);
	tls_client_read(&c, 0, 200, &buf, &len); /* nothing more comes */
	ck_assert_uint_eq(used, len);
	free(buf);
	tls_client_close(&c);
}
END_TEST

/* A drip on a kept-alive connection leaves as paced: libmicrohttpd keeps
 * TCP_CORK set after its first answer over TLS, which held each drip for
 * a full segment or 200 ms until upsim cleared it. */
START_TEST(test_drip_after_keepalive_is_paced)
{
	start_tls("{\"upsim\": 1, \"name\": \"t\", \"defaults\": {\"body\": \"ok\\n\"},"
		  " \"rules\": [{\"match\": {\"path\": \"/drip\"}, \"respond\": {\"body\":"
		  " \"0123456789\", \"drip\": {\"bytes\": 10, \"every\": \"100ms\"}}}]}",
		  NULL);
	struct tls_client c;
	ck_assert_int_eq(tls_client_open(&c, proc.port, ca_path, "localhost", NULL, T_MS), 0);
	ck_assert_int_eq(c.handshake, 0);
	char buf[4096], *first_answer = NULL;
	size_t first_len = 0;
	ck_assert_int_eq(tls_client_send(&c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	ck_assert_int_eq(tls_client_read(&c, 0, 300, &first_answer, &first_len), TLS_END_OPEN);
	ck_assert_ptr_nonnull(strstr(first_answer, "\r\n\r\nok\n"));
	free(first_answer);
	double sent = wire_now_ms(), first = 0, last = 0;
	ck_assert_int_eq(tls_client_send(&c, "GET /drip HTTP/1.1\r\nHost: t\r\n\r\n"), 0);
	size_t total = 0;
	int records = 0;
	ssize_t n;
	while ((n = next_record(&c, buf, sizeof buf)) > 0) {
		last = wire_now_ms() - sent;
		if (records++ == 0)
			first = last;
		total += (size_t)n;
	}
	/* the answer is about 70 bytes: 7 drips, 600 ms from first to last */
	ck_assert_int_ge(records, 6);
	ck_assert_msg(first < 150, "the first drip came after %.0f ms", first);
	ck_assert_msg(last - first >= 450, "the drips spanned %.0f ms", last - first);
	ck_assert_uint_gt(total, 60);
	tls_client_close(&c);
}
END_TEST

/* Every raw fault of the catalogue sends over TLS exactly the plaintext
 * it sends over TCP, and ends the same way: a FIN as close_notify (the
 * default), a RST as a RST. One upsim plain, one with TLS, both playing
 * tests/data/wire/faults.json from a fresh start, asked the same. */
static const char *const parity_paths[] = {
	"/close",
	"/reset",
	"/hang-close",
	"/trunc-status",
	"/trunc-headers",
	"/trunc-clamp",
	"/malformed/status_line",
	"/malformed/version",
	"/malformed/status_code",
	"/malformed/no_colon",
	"/malformed/space_before_colon",
	"/malformed/bare_lf",
	"/malformed/nul",
	"/malformed/folded",
	"/oversized",
	"/garbage",
	"/length-mismatch",
	"/length-long",
	"/raw-path-204",
	"/bad-chunked/invalid_size",
	"/bad-chunked/missing_last_chunk",
	"/bad-chunked/invalid_size_mid_body",
	"/oversized-one-line",
	"/duplicate-length",
	"/cl-and-te",
	"/raw",
	"/raw64",
	"/early",
	"/drip",
	"/stall",
	"/big-reset",
};

START_TEST(test_raw_faults_match_plain)
{
	const char *path = parity_paths[_i];
	char request[256];
	snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
	struct upsim_proc plain;
	ck_assert_int_eq(upsim_start_scenario(&plain, "tests/data/wire/faults.json", NULL, T_MS),
			 0);
	int fd = wire_connect("127.0.0.1", plain.port, T_MS);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(wire_send_str(fd, request, T_MS), 0);
	struct wire_result want = {0};
	wire_read_until_end(fd, wire_now_ms(), 10000, &want);
	close(fd);
	upsim_stop(&plain, SIGTERM, T_MS);
	upsim_proc_free(&plain);
	ck_assert_msg(want.end == WIRE_FIN || want.end == WIRE_RST, "%s: plain ended %s", path,
		      wire_end_name(want.end));

	snprintf(ca_path, sizeof ca_path, "/tmp/upsim-parity-%d.pem", (int)getpid());
	const char *args[] = {"run",  "--listen",     "127.0.0.1:0", "--tls",
			      "auto", "--tls-ca-out", ca_path,	     "tests/data/wire/faults.json",
			      NULL};
	ck_assert_int_eq(upsim_start(&proc, args, T_MS), 0);
	struct tls_client c;
	ck_assert_int_eq(tls_client_open(&c, proc.port, ca_path, "localhost", NULL, T_MS), 0);
	ck_assert_int_eq(c.handshake, 0);
	ck_assert_int_eq(tls_client_send(&c, request), 0);
	char *got = NULL;
	size_t len = 0;
	enum tls_end end = tls_client_read(&c, 0, 10000, &got, &len);
	tls_client_close(&c);
	unlink(ca_path);
	ck_assert_msg(len == want.len && (len == 0 || memcmp(got, want.bytes, len) == 0),
		      "%s: %zu bytes over TLS, %zu plain", path, len, want.len);
	enum tls_end expected = want.end == WIRE_FIN ? TLS_END_CLOSE_NOTIFY : TLS_END_RST;
	ck_assert_msg(end == expected, "%s: ended %s over TLS, %s plain", path, tls_end_name(end),
		      wire_end_name(want.end));
	free(got);
	wire_result_free(&want);
}
END_TEST

/* "Connection: close" through libmicrohttpd: its own close sends
 * close_notify, unless upsim must close bare. */
START_TEST(test_after_close)
{
	static const char *const cases[][2] = {
		{"", "close_notify"},
		{"\"connection\": {\"tls\": {\"close_notify\": false}},", "bare_fin"},
	};
	for (int i = 0; i < 2; i++) {
		char sc[512];
		snprintf(sc, sizeof sc,
			 "{\"upsim\": 1, \"name\": \"t\", %s \"defaults\": {\"body\": \"x\","
			 " \"after\": \"close\"}}",
			 cases[i][0]);
		start_tls(sc, NULL);
		char *buf = NULL;
		size_t len = 0;
		enum tls_end end = get_once("GET / HTTP/1.1\r\nHost: t\r\n\r\n", &buf, &len);
		ck_assert_str_eq(tls_end_name(end), cases[i][1]);
		ck_assert_ptr_nonnull(strstr(buf, "Connection: close\r\n"));
		free(buf);
		teardown();
	}
}
END_TEST

/* Handshake faults: a real ClientHello from a raw socket, and the exact
 * answer. */
static struct wire_result hello_answer(const char *fault, int read_ms)
{
	char sc[512];
	snprintf(sc, sizeof sc, "{\"upsim\": 1, \"name\": \"t\", \"connection\": {\"tls\": %s}}",
		 fault);
	start_tls(sc, NULL);
	unsigned char hello[4096];
	size_t n = tls_client_hello(hello, sizeof hello);
	ck_assert_uint_gt(n, 5);
	ck_assert_uint_eq(hello[0], 0x16);
	int fd = wire_connect("127.0.0.1", proc.port, T_MS);
	ck_assert_int_ge(fd, 0);
	struct wire_result r = {0};
	/* Nothing is answered before the whole hello is in. */
	ck_assert_int_eq(wire_send_all(fd, hello, 3, T_MS), 0);
	wire_read_until_end(fd, wire_now_ms(), 150, &r);
	ck_assert_int_eq(r.end, WIRE_OPEN);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_int_eq(wire_send_all(fd, hello + 3, n - 3, T_MS), 0);
	wire_read_until_end(fd, wire_now_ms(), read_ms, &r);
	close(fd);
	return r;
}

/* The answer is one fatal alert record with code, then a FIN. */
static void check_alert_answer(const char *fault, unsigned char code)
{
	struct wire_result r = hello_answer(fault, T_MS);
	const unsigned char want[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, code};
	ck_assert_int_eq(r.end, WIRE_FIN);
	ck_assert_uint_eq(r.len, sizeof want);
	ck_assert_mem_eq(r.bytes, want, sizeof want);
	wire_result_free(&r);
}

START_TEST(test_hello_alert)
{
	check_alert_answer("{\"fault\": \"alert\", \"alert\": \"handshake_failure\"}", 40);
}
END_TEST

START_TEST(test_hello_alpn_mismatch)
{
	check_alert_answer("{\"fault\": \"alpn_mismatch\"}", 120);
}
END_TEST

START_TEST(test_hello_plaintext)
{
	struct wire_result r = hello_answer("{\"fault\": \"plaintext\"}", T_MS);
	ck_assert_int_eq(r.end, WIRE_FIN);
	ck_assert_str_eq((char *)r.bytes, "HTTP/1.1 400 Bad Request\r\n"
					  "Content-Type: text/plain\r\n"
					  "Content-Length: 45\r\n"
					  "Connection: close\r\n"
					  "\r\n"
					  "upsim: this port speaks plain HTTP, not TLS.\n");
	wire_result_free(&r);
}
END_TEST

START_TEST(test_hello_reset)
{
	struct wire_result r = hello_answer("{\"fault\": \"handshake_reset\"}", T_MS);
	ck_assert_int_eq(r.end, WIRE_RST);
	ck_assert_uint_eq(r.len, 0);
	wire_result_free(&r);
}
END_TEST

START_TEST(test_hello_hang)
{
	struct wire_result r = hello_answer("{\"fault\": \"handshake_hang\"}", 500);
	ck_assert_int_eq(r.end, WIRE_OPEN);
	ck_assert_uint_eq(r.len, 0);
	wire_result_free(&r);
}
END_TEST

/* The CPU time upsim's threads have had so far, in ms (schedstat counts
 * on-CPU time in ns). */
static double upsim_cpu_ms(void)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)proc.pid);
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	unsigned long long total = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue;
		char stat[sizeof path + sizeof e->d_name + 16];
		snprintf(stat, sizeof stat, "%s/%s/schedstat", path, e->d_name);
		FILE *f = fopen(stat, "r");
		unsigned long long ns = 0;
		if (f != NULL && fscanf(f, "%llu", &ns) == 1)
			total += ns;
		if (f != NULL)
			fclose(f);
	}
	closedir(d);
	return (double)total / 1e6;
}

/* libmicrohttpd (0.9.75) keeps a handshake that waits for the client on
 * its list of ready connections, so it asks to run again at once for as
 * long as the client waits: upsim must not (it kept a CPU busy). The
 * connection still goes on as soon as the rest comes. */
START_TEST(test_stalled_handshake_idles)
{
	start_tls("{\"upsim\": 1, \"name\": \"t\", \"defaults\": {\"body\": \"hello\\n\"}}", NULL);
	unsigned char hello[4096];
	size_t n = tls_client_hello(hello, sizeof hello);
	ck_assert_uint_gt(n, 64);
	int fd = wire_connect("127.0.0.1", proc.port, T_MS);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(wire_send_all(fd, hello, n / 2, T_MS), 0);
	struct wire_result r = {0};
	wire_read_until_end(fd, wire_now_ms(), 100, &r); /* upsim has read the half */
	double cpu0 = upsim_cpu_ms(), t0 = wire_now_ms();
	wire_read_until_end(fd, t0, 500, &r);
	double used = upsim_cpu_ms() - cpu0, span = wire_now_ms() - t0;
	ck_assert_int_eq(r.end, WIRE_OPEN);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_msg(used < span / 4, "upsim used %.0f ms of CPU in %.0f ms", used, span);
	/* Others are served meanwhile. */
	char *buf = NULL;
	size_t len = 0;
	get_once(get_close, &buf, &len);
	ck_assert_ptr_nonnull(strstr(buf, "\r\n\r\nhello\n"));
	free(buf);
	/* The rest of the hello: the server's first flight comes back. */
	ck_assert_int_eq(wire_send_all(fd, hello + n / 2, n - n / 2, T_MS), 0);
	wire_read_bytes(fd, 5, wire_now_ms(), T_MS, &r);
	ck_assert_uint_ge(r.len, 5);
	ck_assert_uint_eq(r.bytes[0], 0x16); /* a handshake record */
	wire_result_free(&r);
	close(fd);
}
END_TEST

/* A body far larger than one record and than the socket's buffers goes
 * out whole, over many passes of libmicrohttpd that only write. */
START_TEST(test_large_body_over_tls)
{
	start_tls("{\"upsim\": 1, \"name\": \"t\", \"defaults\": {\"body_size\": \"4MiB\"}}", NULL);
	struct tls_client c;
	ck_assert_int_eq(tls_client_open(&c, proc.port, ca_path, "localhost", NULL, T_MS), 0);
	ck_assert_int_eq(c.handshake, 0);
	ck_assert_int_eq(tls_client_send(&c, get_close), 0);
	char *buf = NULL;
	size_t len = 0;
	enum tls_end end = tls_client_read(&c, 0, T_MS, &buf, &len);
	tls_client_close(&c);
	ck_assert_msg(end == TLS_END_CLOSE_NOTIFY, "ended %s", tls_end_name(end));
	const char *body = strstr(buf, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	ck_assert_uint_eq(len - (size_t)(body + 4 - buf), 4u << 20);
	free(buf);
}
END_TEST

/* openssl s_client's reading of a run, stdout and stderr together. */
static char *s_client(const char *options)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "timeout 10 openssl s_client -connect 127.0.0.1:%d -CAfile %s %s </dev/null 2>&1",
		 proc.port, ca_path, options);
	FILE *f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	size_t cap = 65536;
	char *out = calloc(1, cap);
	size_t len = fread(out, 1, cap - 1, f);
	out[len] = '\0';
	pclose(f);
	return out;
}

START_TEST(test_alert_seen_by_openssl)
{
	char journal[64];
	snprintf(journal, sizeof journal, "/tmp/upsim-tls-journal-%d", (int)getpid());
	const char *more[] = {"--journal", journal, NULL};
	start_tls("{\"upsim\": 1, \"name\": \"t\", \"connection\": {\"tls\":"
		  " {\"fault\": \"alert\", \"alert\": \"protocol_version\"}}}",
		  more);
	char *out = s_client("");
	ck_assert_msg(strstr(out, "alert protocol version") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "SSL alert number 70") != NULL, "%s", out);
	free(out);
	/* The journal says what the connection met (written as it happens). */
	upsim_stop(&proc, SIGTERM, T_MS);
	json_error_t je;
	json_t *rec = json_load_file(journal, JSON_DISABLE_EOF_CHECK, &je);
	ck_assert_msg(rec != NULL, "%s", je.text);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "kind")), "connection");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "accept")), "alert");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "reason")), "tls");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "outcome")), "fin");
	json_decref(rec);
	unlink(journal);
}
END_TEST

/* Each certificate fault, as GnuTLS and openssl see it. */
static const struct {
	const char *name;
	unsigned gnutls_status; /* a flag verification must raise */
	const char *openssl;	/* its "Verify return code" */
} cert_cases[] = {
	{"expired", GNUTLS_CERT_EXPIRED, "Verify return code: 10 (certificate has expired)"},
	{"not_yet_valid", GNUTLS_CERT_NOT_ACTIVATED,
	 "Verify return code: 9 (certificate is not yet valid)"},
	{"wrong_name", GNUTLS_CERT_UNEXPECTED_OWNER, "Verify return code: 62 (hostname mismatch)"},
	{"untrusted", GNUTLS_CERT_SIGNER_NOT_FOUND,
	 "Verify return code: 19 (self-signed certificate in certificate chain)"},
};

START_TEST(test_certificate_faults)
{
	char sc[256];
	snprintf(sc, sizeof sc,
		 "{\"upsim\": 1, \"name\": \"t\", \"connection\": {\"tls\": {\"certificate\": "
		 "\"%s\"}}}",
		 cert_cases[_i].name);
	start_tls(sc, NULL);
	struct tls_client c;
	ck_assert_int_eq(tls_client_open(&c, proc.port, ca_path, "localhost", NULL, T_MS), 0);
	ck_assert_int_eq(c.handshake, 0); /* the server cannot know: the client judges */
	ck_assert_msg(c.verify & cert_cases[_i].gnutls_status, "status %#x", c.verify);
	tls_client_close(&c);
	char *out = s_client("-verify_hostname localhost");
	ck_assert_msg(strstr(out, cert_cases[_i].openssl) != NULL, "%s", out);
	free(out);
}
END_TEST

/* A TLS connection that ends before its first request was still a
 * gateway's attempt: one whose client refused the certificate after the
 * handshake, one whose handshake failed inside libmicrohttpd (no version
 * in common). Each is journalled as a connection record ("no_request",
 * reason "tls"), so that upsim check counts it; a connection that sent a
 * request is journalled by its request alone. */
START_TEST(test_connection_without_request_is_journalled)
{
	const char *admin[] = {"--admin", "127.0.0.1:0", NULL};
	start_tls("{\"upsim\": 1, \"name\": \"t\", \"connection\": {\"tls\": {\"certificate\": "
		  "\"expired\", \"versions\": \"1.3\"}}}",
		  admin);
	struct tls_client c;
	/* the handshake completes; the client judges the certificate, leaves */
	ck_assert_int_eq(tls_client_open(&c, proc.port, ca_path, "localhost", NULL, T_MS), 0);
	ck_assert_int_eq(c.handshake, 0);
	ck_assert_msg(c.verify & GNUTLS_CERT_EXPIRED, "status %#x", c.verify);
	tls_client_close(&c);
	/* TLS 1.2 only: no handshake */
	ck_assert_int_eq(tls_client_open(&c, proc.port, ca_path, "localhost",
					 "NORMAL:-VERS-ALL:+VERS-TLS1.2", T_MS),
			 0);
	ck_assert_int_lt(c.handshake, 0);
	tls_client_close(&c);
	/* a request, the certificate notwithstanding */
	ck_assert_int_eq(tls_client_open(&c, proc.port, ca_path, "localhost", NULL, T_MS), 0);
	ck_assert_int_eq(tls_client_send(&c, get_close), 0);
	char *buf = NULL;
	size_t len = 0;
	ck_assert_int_eq(tls_client_read(&c, 0, 2000, &buf, &len), TLS_END_CLOSE_NOTIFY);
	free(buf);
	tls_client_close(&c);
	ck_assert_int_eq(upsim_wait_idle(&proc, T_MS), 0);

	json_t *records = upsim_journal_records(&proc);
	ck_assert_ptr_nonnull(records);
	int without = 0, requests = 0;
	size_t i;
	json_t *r;
	json_array_foreach(records, i, r)
	{
		const char *kind = json_string_value(json_object_get(r, "kind"));
		if (strcmp(kind, "request") == 0)
			requests++;
		if (strcmp(kind, "connection") != 0)
			continue;
		without++;
		ck_assert_str_eq(json_string_value(json_object_get(r, "accept")), "no_request");
		ck_assert_str_eq(json_string_value(json_object_get(r, "reason")), "tls");
		ck_assert_ptr_null(json_object_get(r, "outcome")); /* MHD does not say */
		ck_assert_int_gt(json_integer_value(json_object_get(r, "conn")), 0);
	}
	ck_assert_int_eq(without, 2);
	ck_assert_int_eq(requests, 1);
	json_decref(records);
}
END_TEST

START_TEST(test_version_limits)
{
	static const char *const cases[][3] = {
		/* versions, client priority, the version agreed ("" none) */
		{"1.2", "NORMAL", "TLS1.2"},
		{"1.2", "NORMAL:-VERS-ALL:+VERS-TLS1.3", ""},
		{"1.3", "NORMAL", "TLS1.3"},
		{"1.3", "NORMAL:-VERS-ALL:+VERS-TLS1.2", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char sc[256];
		snprintf(sc, sizeof sc,
			 "{\"upsim\": 1, \"name\": \"t\", \"connection\": {\"tls\": {\"versions\": "
			 "\"%s\"}}}",
			 cases[i][0]);
		start_tls(sc, NULL);
		struct tls_client c;
		ck_assert_int_eq(tls_client_open(&c, proc.port, ca_path, "localhost", cases[i][1],
						 T_MS),
				 0);
		if (cases[i][2][0] != '\0') {
			ck_assert_int_eq(c.handshake, 0);
			ck_assert_str_eq(tls_client_version(&c), cases[i][2]);
		} else {
			ck_assert_int_lt(c.handshake, 0);
		}
		tls_client_close(&c);
		teardown();
	}
}
END_TEST

/* The handshake follows the phase: a certificate expires, then the
 * handshake is reset, then all is well again; the admin API moves the
 * phases. A scenario with tls put through the admin API of a plain
 * listener is refused. */
START_TEST(test_phases_and_admin)
{
	static const char sc[] = "{\"upsim\": 1, \"name\": \"t\", \"phases\": [{\"name\": \"ok\"},"
				 " {\"name\": \"expired\", \"connection\": {\"tls\": "
				 "{\"certificate\": \"expired\"}}},"
				 " {\"name\": \"reset\", \"connection\": {\"tls\": {\"fault\": "
				 "\"handshake_reset\"}}}]}";
	char ca[64];
	snprintf(ca, sizeof ca, "/tmp/upsim-tls-phases-%d.pem", (int)getpid());
	const char *extra[] = {"--tls", "auto", "--tls-ca-out", ca, NULL};
	struct admin_fixture f;
	fixture_start(&f, sc, extra);
	static const struct {
		const char *phase;
		int handshake_ok;
		unsigned status;
	} steps[] = {
		{"ok", 1, 0},
		{"expired", 1, GNUTLS_CERT_INVALID | GNUTLS_CERT_EXPIRED},
		{"reset", 0, 0},
		{"ok", 1, 0},
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		char body[64];
		snprintf(body, sizeof body, "{\"phase\": \"%s\"}", steps[i].phase);
		json_decref(fixture_call_json(&f, "POST", "/v1/phase", body, 200));
		struct tls_client c;
		ck_assert_int_eq(tls_client_open(&c, f.p.port, ca, "localhost", NULL, T_MS), 0);
		ck_assert_msg((c.handshake == 0) == steps[i].handshake_ok, "%s: handshake %s",
			      steps[i].phase, gnutls_strerror(c.handshake));
		if (steps[i].handshake_ok)
			ck_assert_uint_eq(c.verify, steps[i].status);
		tls_client_close(&c);
	}
	fixture_finish(&f);
	unlink(ca);

	fixture_start(&f, "{\"upsim\": 1, \"name\": \"plain\"}", NULL);
	char *out = NULL;
	long code = fixture_call(&f, NULL, "PUT", "/v1/scenario", sc, &out);
	ck_assert_int_eq(code, 400);
	ck_assert_msg(strstr(out, "phases[1].connection.tls: this listener speaks plain HTTP"),
		      "%s", out);
	free(out);
	fixture_finish(&f);
}
END_TEST

/* Bad input: exit 2, naming the problem. */
static void expect_refusal(const char *const *args, const char *needle)
{
	char *out, *err;
	int rc = upsim_run_capture(args, T_MS, &out, &err);
	ck_assert_msg(rc == 2, "exit %d: %s", rc, err);
	ck_assert_msg(strstr(err, needle) != NULL, "stderr: %s", err);
	free(out);
	free(err);
}

START_TEST(test_bad_input)
{
	char *sc =
		upsim_write_temp("{\"upsim\": 1, \"name\": \"t\", \"phases\": [{\"name\": \"a\","
				 " \"connection\": {\"tls\": {\"fault\": \"handshake_hang\"}}}]}",
				 ".json");
	const char *plain[] = {"run", "--listen", "127.0.0.1:0", sc, NULL};
	expect_refusal(plain, "phases[0].connection.tls: this listener speaks plain HTTP");
	const char *key_only[] = {"run", "--tls-key", "k.pem", sc, NULL};
	expect_refusal(key_only, "--tls-key needs --tls-cert");
	const char *missing[] = {"run",	      "--tls-cert",	    "/nonexistent/c.pem",
				 "--tls-key", "/nonexistent/k.pem", sc,
				 NULL};
	expect_refusal(missing, "/nonexistent/c.pem");
	const char *ca_alone[] = {"run", "--tls-ca-out", "/tmp/x.pem", sc, NULL};
	expect_refusal(ca_alone, "--tls-ca-out needs --tls auto or --tls-cert");
	unlink(sc);
	free(sc);
}
END_TEST

Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("wire");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_healthy_keepalive_over_tls);
	tcase_add_test(tc, test_truncate_close_notify);
	tcase_add_test(tc, test_truncate_bare_fin);
	tcase_add_test(tc, test_truncate_then_reset);
	tcase_add_test(tc, test_big_raw_response);
	tcase_add_test(tc, test_small_response_is_one_record);
	tcase_add_test(tc, test_corked_answers_wait_for_room);
	tcase_add_test(tc, test_drip_after_keepalive_is_paced);
	tcase_add_test(tc, test_after_close);
	tcase_add_loop_test(tc, test_raw_faults_match_plain, 0,
			    (int)(sizeof parity_paths / sizeof parity_paths[0]));
	tcase_add_test(tc, test_hello_alert);
	tcase_add_test(tc, test_hello_alpn_mismatch);
	tcase_add_test(tc, test_hello_plaintext);
	tcase_add_test(tc, test_hello_reset);
	tcase_add_test(tc, test_hello_hang);
	tcase_add_test(tc, test_stalled_handshake_idles);
	tcase_add_test(tc, test_large_body_over_tls);
	tcase_add_test(tc, test_alert_seen_by_openssl);
	tcase_add_loop_test(tc, test_certificate_faults, 0,
			    (int)(sizeof cert_cases / sizeof cert_cases[0]));
	tcase_add_test(tc, test_version_limits);
	tcase_add_test(tc, test_phases_and_admin);
	tcase_add_test(tc, test_connection_without_request_is_journalled);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	return s;
}

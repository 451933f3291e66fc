/* Forward mode on the wire: a real backend (nginx serving files from a
 * private folder on a kernel-chosen loopback port), upsim forwarding to
 * it, and a raw-socket client in front. Pass-through answers are compared
 * byte for byte with what nginx itself answers; faulted ones are checked
 * for exact bytes and FIN/RST; nginx's access log shows which requests
 * reached it. The "down" cases point upsim at a port that is bound but
 * not listening, so connecting to it is refused, as with a stopped
 * backend, and no other process can take it meanwhile.
 *
 * The https cases add a TLS server block to the same nginx (Debian's
 * nginx-light has the ssl module; tests/support/backend makes it and its
 * throwaway CA). The "record" cases put upsim record in front of the same nginx,
 * then replay what it wrote and compare the bodies byte for byte. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "journal_read.h"
#include "proc.h"
#include "suites.h"
#include "wire.h"

#define T_MS 5000
#define BIG_LEN 200000

static struct upsim_proc proc;
static struct backend nginx;
static int nginx_port;
static int tls_port; /* 0: no TLS server block */
static char dir[64];
static char *scenario_path;
static char journal_path[128];

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return strdup("");
	char *buf = calloc(1, 1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The files nginx serves: a short text, and a 200 kB body (in several
 * folders, one per rule) whose bytes all differ from their neighbours'. */
static void write_site(void)
{
	static const char *const sub[] = {"", "cut/", "status/", "reset/", "drip/"};
	unsigned char *big = malloc(BIG_LEN);
	for (size_t i = 0; i < BIG_LEN; i++)
		big[i] = (unsigned char)(i * 7 + i / 251);
	char rel[64];
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		snprintf(rel, sizeof rel, "%ssmall.txt", sub[i]);
		ck_assert_int_eq(backend_put(&nginx, rel, "hello from nginx\n", 17), 0);
		snprintf(rel, sizeof rel, "%sbig.bin", sub[i]);
		ck_assert_int_eq(backend_put(&nginx, rel, big, BIG_LEN), 0);
	}
	free(big);
}

/* nginx on a free loopback port, and with tls a second server block
 * with the same files over TLS on tls_port, logging "$ssl_protocol
 * $request" to tls_access.log. */
static void start_nginx(bool tls)
{
	ck_assert_int_eq(backend_prepare(&nginx), 0);
	write_site();
	nginx.tls = tls;
	ck_assert_msg(backend_start(&nginx, T_MS) == 0, "the nginx backend did not start");
	nginx_port = nginx.port;
	tls_port = nginx.tls_port;
	snprintf(dir, sizeof dir, "%s", nginx.dir);
}

static void stop_nginx(void)
{
	backend_stop(&nginx);
}

/* upsim playing scenario text (with @UPSTREAM@ replaced), journalling to
 * a file, with extra arguments. */
static void start_upsim(const char *text, const char *upstream, const char *extra)
{
	char *sc = malloc(strlen(text) + 256);
	const char *at = strstr(text, "@UPSTREAM@");
	ck_assert_ptr_nonnull(at);
	sprintf(sc, "%.*s%s%s", (int)(at - text), text, upstream, at + 10);
	scenario_path = upsim_write_temp(sc, ".json");
	free(sc);
	ck_assert_ptr_nonnull(scenario_path);
	snprintf(journal_path, sizeof journal_path, "%s.journal", scenario_path);
	const char *args[] = {"--admin", "127.0.0.1:0", "--journal", journal_path, extra, NULL};
	ck_assert_int_eq(upsim_start_scenario(&proc, scenario_path, args, T_MS), 0);
}

static void stop_upsim(void)
{
	ck_assert_int_eq(upsim_stop(&proc, SIGTERM, T_MS), 0);
	upsim_proc_free(&proc);
	unlink(scenario_path);
	unlink(journal_path);
	free(scenario_path);
	scenario_path = NULL;
}

static const char healthy_rules[] =
	"{\"upsim\": 1, \"name\": \"forward test\", \"upstream\": \"@UPSTREAM@\",\n"
	" \"defaults\": {\"forward\": true},\n"
	" \"rules\": [\n"
	"  {\"match\": {\"path\": \"/small.txt\", \"headers\": {\"X-Strip\": \"yes\"}},\n"
	"   \"respond\": {\"remove_headers\": [\"server\", \"ETag\"],\n"
	"                \"headers\": {\"Server\": \"upsim-test\"}}},\n"
	"  {\"match\": {\"path\": \"/cut/*\"},\n"
	"   \"respond\": {\"fault\": \"truncate\", \"at\": \"body\", \"offset\": 1000}},\n"
	"  {\"match\": {\"path\": \"/status/*\"},\n"
	"   \"respond\": {\"status\": 503, \"headers\": {\"X-Upsim\": \"status\"}}},\n"
	"  {\"match\": {\"path\": \"/reset/*\"}, \"respond\": {\"fault\": \"reset\"}},\n"
	"  {\"match\": {\"path\": \"/drip/*\"},\n"
	"   \"respond\": {\"fault\": \"truncate\", \"at\": \"body\", \"offset\": 5,\n"
	"                \"then\": \"reset\", \"drip\": {\"bytes\": 1, \"every\": \"20ms\"}}}\n"
	" ]}\n";

static void setup_backend(void)
{
	start_nginx(false);
	char upstream[64];
	snprintf(upstream, sizeof upstream, "http://127.0.0.1:%d", nginx_port);
	start_upsim(healthy_rules, upstream, NULL);
}

static void teardown_backend(void)
{
	stop_upsim();
	stop_nginx();
}

/* One request on a new connection to port, its response read within ms. */
static int get_within(int port, const char *request, int ms, struct wire_http_response *out)
{
	struct wire_conn c = {0};
	c.fd = wire_connect("127.0.0.1", port, T_MS);
	ck_assert_int_ge(c.fd, 0);
	ck_assert_int_eq(wire_send_str(c.fd, request, T_MS), 0);
	int rc = wire_http_read(&c, strncmp(request, "HEAD", 4) == 0, ms, out);
	close(c.fd);
	free(c.buf);
	return rc;
}

static int get(int port, const char *request, struct wire_http_response *out)
{
	return get_within(port, request, T_MS, out);
}

static void expect_same(const char *path)
{
	char req[256];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: backend\r\n\r\n", path);
	struct wire_http_response direct, via;
	ck_assert_int_eq(get(nginx_port, req, &direct), 0);
	ck_assert_int_eq(get(proc.port, req, &via), 0);
	ck_assert_int_eq(via.status, direct.status);
	ck_assert_uint_eq(via.body_len, direct.body_len);
	ck_assert_int_eq(memcmp(via.body, direct.body, direct.body_len), 0);
	ck_assert_int_eq(via.content_length, (long long)direct.body_len);
	wire_http_response_free(&direct);
	wire_http_response_free(&via);
}

START_TEST(pass_through_identical)
{
	expect_same("/small.txt");
	expect_same("/big.bin");
	expect_same("/no-such-file"); /* nginx's own 404 page, passed on */
	struct wire_http_response r;
	ck_assert_int_eq(get(proc.port, "GET /big.bin HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_uint_eq(r.body_len, BIG_LEN);
	ck_assert_int_eq(r.body[BIG_LEN - 1],
			 (unsigned char)((BIG_LEN - 1) * 7 + (BIG_LEN - 1) / 251));
	wire_http_response_free(&r);
}
END_TEST

/* Method, path and query as sent (query bytes not re-encoded), the
 * request body, Via and X-Forwarded-For added, hop-by-hop fields gone;
 * two requests on one keep-alive connection. */
START_TEST(request_passed_on)
{
	struct wire_conn c = {0};
	c.fd = wire_connect("127.0.0.1", proc.port, T_MS);
	ck_assert_int_ge(c.fd, 0);
	ck_assert_int_eq(
		wire_send_str(
			c.fd,
			"POST /echo?a=1%20+b&c HTTP/1.1\r\nHost: b\r\nContent-Length: 5\r\n"
			"Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nVia: 1.0 gw\r\n\r\nhello"
			"DELETE /echo HTTP/1.1\r\nHost: b\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n",
			T_MS),
		0);
	struct wire_http_response r;
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq((char *)r.body, "POST /echo?a=1%20+b&c via=1.0 gw, 1.1 upsim "
					 "xff=127.0.0.1 len=5 conn= te=\n");
	wire_http_response_free(&r);
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_str_eq((char *)r.body, "DELETE /echo via=1.1 upsim "
					 "xff=10.0.0.1, 127.0.0.1 len= conn= te=\n");
	wire_http_response_free(&r);
	/* a chunked body of unknown length streams on chunked (nginx's
	 * $content_length then shows a size of its own) */
	ck_assert_int_eq(wire_send_str(c.fd,
				       "PATCH /echo HTTP/1.1\r\nHost: b\r\n"
				       "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
				       T_MS),
			 0);
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_int_eq(strncmp((char *)r.body,
				 "PATCH /echo via=1.1 upsim xff=127.0.0.1 len=", 44),
			 0);
	ck_assert_ptr_nonnull(strstr((char *)r.body, " conn= te=chunked\n"));
	wire_http_response_free(&r);
	close(c.fd);
	free(c.buf);
}
END_TEST

/* GET /cut/big.bin through upsim: the real 200 and its Content-Length,
 * exactly the first 1000 bytes of the real body, then end (fin, rst). */
static void expect_cut_big(const char *end)
{
	int fd = wire_connect("127.0.0.1", proc.port, T_MS);
	ck_assert_int_ge(fd, 0);
	double t0 = wire_now_ms();
	ck_assert_int_eq(wire_send_str(fd, "GET /cut/big.bin HTTP/1.1\r\nHost: b\r\n\r\n", T_MS),
			 0);
	struct wire_result w = {0};
	wire_read_until_end(fd, t0, T_MS, &w);
	ck_assert_str_eq(wire_end_name(w.end), end);
	const char *body = strstr((char *)w.bytes, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	body += 4;
	ck_assert_uint_eq(w.len - (size_t)(body - (char *)w.bytes), 1000);
	ck_assert_ptr_nonnull(strstr((char *)w.bytes, "Content-Length: 200000\r\n"));
	ck_assert_int_eq(strncmp((char *)w.bytes, "HTTP/1.1 200 OK\r\n", 17), 0);
	for (size_t i = 0; i < 1000; i++)
		ck_assert_int_eq((unsigned char)body[i], (unsigned char)(i * 7 + i / 251));
	wire_result_free(&w);
	close(fd);
}

START_TEST(truncate_real_body)
{
	expect_cut_big("fin");
}
END_TEST

/* Paced and cut: 5 body bytes a drip at a time, then a RST. */
START_TEST(drip_then_reset)
{
	int fd = wire_connect("127.0.0.1", proc.port, T_MS);
	ck_assert_int_ge(fd, 0);
	double t0 = wire_now_ms();
	ck_assert_int_eq(wire_send_str(fd, "GET /drip/small.txt HTTP/1.1\r\nHost: b\r\n\r\n", T_MS),
			 0);
	struct wire_result w = {0};
	/* The drip alone takes 20 ms a byte of the real head, about 4.5 s:
	 * the bound leaves room for valgrind's slowness. */
	wire_read_until_end(fd, t0, 4 * T_MS, &w);
	ck_assert_str_eq(wire_end_name(w.end), "rst");
	const char *body = strstr((char *)w.bytes, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	ck_assert_str_eq(body + 4, "hello");
	/* one byte every 20 ms over the whole response: well over a second */
	ck_assert_double_ge(w.end_ms, (double)(w.len - 1) * 20 - 2);
	wire_result_free(&w);
	close(fd);
}
END_TEST

START_TEST(status_replaced)
{
	struct wire_http_response r;
	ck_assert_int_eq(get(proc.port, "GET /status/small.txt HTTP/1.1\r\nHost: b\r\n\r\n", &r),
			 0);
	ck_assert_int_eq(r.status, 503);
	ck_assert_str_eq((char *)r.body, "hello from nginx\n");
	char *h = wire_http_header(&r, "X-Upsim");
	ck_assert_str_eq(h, "status");
	free(h);
	h = wire_http_header(&r, "Server");
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(strncmp(h, "nginx", 5), 0);
	free(h);
	wire_http_response_free(&r);
}
END_TEST

/* remove_headers takes the real answer's fields out (any casing); with
 * headers, that replaces one. */
START_TEST(headers_removed)
{
	struct wire_http_response r;
	ck_assert_int_eq(get(proc.port,
			     "GET /small.txt HTTP/1.1\r\nHost: b\r\nX-Strip: yes\r\n\r\n", &r),
			 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq((char *)r.body, "hello from nginx\n");
	ck_assert_int_eq(wire_http_header_count(&r, "ETag"), 0);
	ck_assert_int_eq(wire_http_header_count(&r, "Server"), 1);
	char *h = wire_http_header(&r, "Server");
	ck_assert_str_eq(h, "upsim-test");
	free(h);
	ck_assert_int_eq(wire_http_header_count(&r, "Last-Modified"), 1);
	wire_http_response_free(&r);
	/* without the header, the rule does not match: nginx's own fields */
	ck_assert_int_eq(get(proc.port, "GET /small.txt HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_int_eq(wire_http_header_count(&r, "ETag"), 1);
	h = wire_http_header(&r, "Server");
	ck_assert_int_eq(strncmp(h, "nginx", 5), 0);
	free(h);
	wire_http_response_free(&r);
}
END_TEST

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* A request-stage fault never reaches the backend. */
START_TEST(reset_never_forwarded)
{
	int fd = wire_connect("127.0.0.1", proc.port, T_MS);
	ck_assert_int_ge(fd, 0);
	double t0 = wire_now_ms();
	ck_assert_int_eq(wire_send_str(fd, "GET /reset/small.txt HTTP/1.1\r\nHost: b\r\n\r\n",
				       T_MS),
			 0);
	struct wire_result w = {0};
	wire_read_until_end(fd, t0, T_MS, &w);
	ck_assert_str_eq(wire_end_name(w.end), "rst");
	ck_assert_uint_eq(w.len, 0);
	wire_result_free(&w);
	close(fd);
	/* a forwarded request after it: nginx logs in order */
	struct wire_http_response r;
	ck_assert_int_eq(get(proc.port, "GET /small.txt?after HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	wire_http_response_free(&r);
	ck_assert_int_eq(upsim_wait_idle(&proc, T_MS), 0);
	char path[160];
	snprintf(path, sizeof path, "%s/access.log", dir);
	char *log = read_text(path);
	ck_assert_int_eq(count(log, "/small.txt?after"), 1);
	ck_assert_int_eq(count(log, "/reset/"), 0);
	free(log);
	char *journal = read_text(journal_path);
	ck_assert_ptr_nonnull(strstr(journal, "\"path\": \"/reset/small.txt\"")
				      ? journal
				      : strstr(journal, "\"path\":\"/reset/small.txt\""));
	ck_assert_int_eq(count(journal, "\"forwarded\": false")
				 + count(journal, "\"forwarded\":false"),
			 1);
	ck_assert_int_ge(count(journal, "\"real_status\": 200")
				 + count(journal, "\"real_status\":200"),
			 1);
	free(journal);
}
END_TEST

/* --- a fraction of real exchanges ------------------------------------- */

#define FRACTION_TRIES 40

static const char fraction_rules[] =
	"{\"upsim\": 1, \"seed\": 7, \"upstream\": \"@UPSTREAM@\",\n"
	" \"defaults\": {\"forward\": true},\n"
	" \"rules\": [{\"match\": {\"path\": \"/big.bin\"},\n"
	"             \"choose\": [{\"weight\": 3}, {\"weight\": 1, \"fault\": \"reset\"}]}]}\n";

/* FRACTION_TRIES GETs of /big.bin, each on a new connection: which were
 * reset (no byte, then a RST); every other one must be nginx's answer,
 * byte for byte. Returns how many were reset. */
static int play_fraction(const struct wire_http_response *direct, bool reset[])
{
	int n = 0;
	for (int i = 0; i < FRACTION_TRIES; i++) {
		int fd = wire_connect("127.0.0.1", proc.port, T_MS);
		ck_assert_int_ge(fd, 0);
		double t0 = wire_now_ms();
		ck_assert_int_eq(wire_send_str(fd,
					       "GET /big.bin HTTP/1.1\r\nHost: b\r\n"
					       "Connection: close\r\n\r\n",
					       T_MS),
				 0);
		struct wire_result w = {0};
		wire_read_until_end(fd, t0, T_MS, &w);
		close(fd);
		reset[i] = w.end == WIRE_RST;
		if (reset[i]) {
			ck_assert_msg(w.len == 0, "try %d: %zu bytes before the RST", i, w.len);
			n++;
		} else {
			const char *body = strstr((char *)w.bytes, "\r\n\r\n");
			ck_assert_msg(body != NULL && w.end == WIRE_FIN, "try %d: ended %s", i,
				      wire_end_name(w.end));
			body += 4;
			ck_assert_uint_eq(w.len - (size_t)(body - (char *)w.bytes),
					  direct->body_len);
			ck_assert_int_eq(memcmp(body, direct->body, direct->body_len), 0);
		}
		wire_result_free(&w);
	}
	return n;
}

/* A seeded choose faults a fraction of real exchanges: the faulted ones
 * carry exactly the fault and never reach the service; the rest are the
 * service's answers byte for byte; and the same seed picks the same
 * requests again after a restart, so a drill repeats. */
START_TEST(fraction_faulted_rest_identical)
{
	stop_upsim();
	char upstream[64];
	snprintf(upstream, sizeof upstream, "http://127.0.0.1:%d", nginx_port);
	struct wire_http_response direct;
	ck_assert_int_eq(get(nginx_port, "GET /big.bin HTTP/1.1\r\nHost: b\r\n\r\n", &direct), 0);
	bool first[FRACTION_TRIES], again[FRACTION_TRIES];
	start_upsim(fraction_rules, upstream, NULL);
	int n = play_fraction(&direct, first);
	stop_upsim();
	start_upsim(fraction_rules, upstream, NULL);
	ck_assert_int_eq(play_fraction(&direct, again), n);
	ck_assert_int_eq(memcmp(first, again, sizeof first), 0);
	/* weight 1 in 4: far from none and from all */
	ck_assert_int_ge(n, 3);
	ck_assert_int_le(n, 20);
	wire_http_response_free(&direct);
	/* one direct GET, then the passed-through ones of both runs (nginx
	 * writes its line as it finishes a request: waited for, bounded) */
	int want = 1 + 2 * (FRACTION_TRIES - n), seen = 0;
	char path[160];
	snprintf(path, sizeof path, "%s/access.log", dir);
	for (double end = wire_now_ms() + T_MS;; poll(NULL, 0, 10)) {
		char *log = read_text(path);
		seen = count(log, "GET /big.bin");
		free(log);
		if (seen >= want || wire_now_ms() > end)
			break;
	}
	ck_assert_int_eq(seen, want);
}
END_TEST

/* --- the backend down --------------------------------------------------- */

static int blocker = -1;

/* A loopback port that refuses connections for as long as we hold it. */
static int refusing_port(void)
{
	blocker = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(blocker, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(bind(blocker, (struct sockaddr *)&sa, sizeof sa), 0);
	socklen_t len = sizeof sa;
	ck_assert_int_eq(getsockname(blocker, (struct sockaddr *)&sa, &len), 0);
	return ntohs(sa.sin_port);
}

static const char down_rules[] =
	"{\"upsim\": 1, \"upstream\": \"@UPSTREAM@\",\n"
	" \"defaults\": {\"forward\": true},\n"
	" \"rules\": [{\"match\": {\"path\": \"/502\"},\n"
	"             \"respond\": {\"on_upstream_error\": 502}},\n"
	"            {\"match\": {\"path\": \"/close\"},\n"
	"             \"respond\": {\"on_upstream_error\": \"close\"}}]}\n";

static void setup_down(void)
{
	char upstream[64];
	snprintf(upstream, sizeof upstream, "http://127.0.0.1:%d", refusing_port());
	start_upsim(down_rules, upstream, NULL);
}

static void teardown_down(void)
{
	stop_upsim();
	close(blocker);
	blocker = -1;
}

START_TEST(down_warns_at_start)
{
	ck_assert_int_eq(upsim_wait_stderr(&proc, "is not reachable now", T_MS), 0);
}
END_TEST

static enum wire_end request_end(const char *path, struct wire_result *w)
{
	int fd = wire_connect("127.0.0.1", proc.port, T_MS);
	ck_assert_int_ge(fd, 0);
	char req[128];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: b\r\n\r\n", path);
	double t0 = wire_now_ms();
	ck_assert_int_eq(wire_send_str(fd, req, T_MS), 0);
	wire_read_until_end(fd, t0, T_MS, w);
	close(fd);
	return w->end;
}

START_TEST(down_reset_by_default)
{
	struct wire_result w = {0};
	ck_assert_str_eq(wire_end_name(request_end("/any", &w)), "rst");
	ck_assert_uint_eq(w.len, 0);
	wire_result_free(&w);
	ck_assert_int_eq(upsim_wait_idle(&proc, T_MS), 0);
	char *journal = read_text(journal_path);
	ck_assert_int_eq(count(journal, "upstream_error"), 1);
	ck_assert_int_eq(count(journal, "\"rst\""), 1);
	free(journal);
}
END_TEST

START_TEST(down_close)
{
	struct wire_result w = {0};
	ck_assert_str_eq(wire_end_name(request_end("/close", &w)), "fin");
	ck_assert_uint_eq(w.len, 0);
	wire_result_free(&w);
}
END_TEST

START_TEST(down_status)
{
	struct wire_http_response r;
	ck_assert_int_eq(get(proc.port, "GET /502 HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 502);
	ck_assert_int_eq(strncmp((char *)r.body, "upsim: the upstream failed: ", 28), 0);
	wire_http_response_free(&r);
}
END_TEST

/* --- drill safety ------------------------------------------------------- */

static const char drill_rules[] = "{\"upsim\": 1, \"upstream\": \"@UPSTREAM@\",\n"
				  " \"defaults\": {\"forward\": true, \"status\": 503}}\n";

static void setup_drill(void)
{
	start_nginx(false);
	char upstream[64];
	snprintf(upstream, sizeof upstream, "http://127.0.0.1:%d", nginx_port);
	start_upsim(drill_rules, upstream, "--drill-ttl=300ms");
}

/* When the TTL runs out, a forwarding drill passes traffic through
 * untouched: the real status and body, not a canned 200. */
START_TEST(drill_expiry_passes_through)
{
	struct wire_http_response r;
	ck_assert_int_eq(get(proc.port, "GET /small.txt HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 503);
	wire_http_response_free(&r);
	ck_assert_int_eq(upsim_wait_stderr(&proc, "passing every request through", T_MS), 0);
	ck_assert_int_eq(get(proc.port, "GET /small.txt HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq((char *)r.body, "hello from nginx\n");
	wire_http_response_free(&r);
	ck_assert_int_eq(get(proc.port, "GET /nothing HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 404);
	wire_http_response_free(&r);
}
END_TEST

/* --- streaming ---------------------------------------------------------- */

/* upsim's resident memory in KiB (its /proc status), or -1. */
static long rss_kib(pid_t pid)
{
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	long kib = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Under UPSIM_WRAP (valgrind) the process's memory is the wrapper's, and
 * a gigabyte takes minutes: a smaller body, and no memory bound. */
static bool wrapped(void)
{
	const char *w = getenv("UPSIM_WRAP");
	return w != NULL && *w != '\0';
}

#if defined(__SANITIZE_ADDRESS__) /* gcc */
#define UNDER_ASAN 1
#elif defined(__has_feature) /* clang */
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Is upsim's resident memory its own? Not under valgrind, nor under ASan
 * (make asan builds upsim like this runner), whose quarantine keeps every
 * freed block, libcurl's included, for a while. */
static bool memory_measured(void)
{
#ifdef UNDER_ASAN
	return false;
#else
	return !wrapped();
#endif
}

/* A sparse file of size bytes (zeros) that nginx serves as /huge.bin. */
static void write_huge(off_t size)
{
	char path[160];
	snprintf(path, sizeof path, "%s/www/huge.bin", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, size), 0);
	close(fd);
}

/* Send a GET for path on a new connection and read the head: returns the
 * fd, with the head's Content-Length in *length and the body bytes read
 * with it in *extra. */
static int open_stream(const char *path, long long *length, size_t *extra)
{
	int fd = wire_connect("127.0.0.1", proc.port, T_MS);
	ck_assert_int_ge(fd, 0);
	char req[160];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: b\r\n\r\n", path);
	ck_assert_int_eq(wire_send_str(fd, req, T_MS), 0);
	struct wire_result w = {0};
	double t0 = wire_now_ms();
	const char *end = NULL;
	while (end == NULL) {
		ck_assert_int_eq(wire_read_bytes(fd, w.len + 1, t0, T_MS, &w), 0);
		end = strstr((char *)w.bytes, "\r\n\r\n");
	}
	ck_assert_int_eq(strncmp((char *)w.bytes, "HTTP/1.1 200 OK\r\n", 17), 0);
	const char *cl = strstr((char *)w.bytes, "Content-Length: ");
	ck_assert_ptr_nonnull(cl);
	*length = atoll(cl + 16);
	*extra = w.len - (size_t)(end + 4 - (char *)w.bytes);
	wire_result_free(&w);
	return fd;
}

/* Read n body bytes, all zero, sampling upsim's memory every 16 MiB: the
 * highest figure seen. */
static long read_zeros(int fd, long long n, long peak)
{
	static char buf[1 << 16];
	long long got = 0, next_sample = 0;
	double deadline = wire_now_ms() + 60000;
	while (got < n) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ck_assert_msg(poll(&p, 1, 1000) >= 0 && wire_now_ms() < deadline,
			      "stalled at %lld of %lld bytes", got, n);
		size_t want = n - got < (long long)sizeof buf ? (size_t)(n - got) : sizeof buf;
		ssize_t r = recv(fd, buf, want, MSG_DONTWAIT);
		if (r == -1 && errno == EAGAIN)
			continue;
		ck_assert_int_gt(r, 0);
		bool zeros = true; /* one assertion per read: each one costs a write */
		for (ssize_t i = 0; i < r; i++)
			zeros &= buf[i] == 0;
		ck_assert_msg(zeros, "a byte that is not zero near offset %lld", got);
		got += r;
		if (got >= next_sample) {
			long now = rss_kib(proc.pid);
			peak = now > peak ? now : peak;
			next_sample += 16LL << 20;
		}
	}
	ck_assert_int_eq(got, n);
	return peak;
}

/* The issue's figure: a 1 GiB body passes, and upsim's resident memory
 * grows by less than 10 MiB meanwhile (libcurl is loaded first, by a
 * small request, so its libraries do not count). */
START_TEST(stream_gigabyte_in_bounded_memory)
{
	long long size = wrapped() ? 64LL << 20 : 1LL << 30;
	write_huge(size);
	struct wire_http_response r;
	ck_assert_int_eq(get(proc.port, "GET /small.txt HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	wire_http_response_free(&r);
	long before = rss_kib(proc.pid);
	ck_assert_int_gt(before, 0);
	long long length;
	size_t extra;
	int fd = open_stream("/huge.bin", &length, &extra);
	ck_assert_int_eq(length, size);
	ck_assert_uint_eq(extra, 0); /* the head goes out before the body comes */
	long peak = read_zeros(fd, size, before);
	close(fd);
	if (memory_measured())
		ck_assert_msg(peak - before < 10 * 1024, "RSS grew by %ld KiB", peak - before);
}
END_TEST

/* A gateway that stops reading holds the service's transfer back instead
 * of filling upsim's memory. */
START_TEST(stream_slow_reader_holds_memory)
{
	write_huge(1LL << 30);
	struct wire_http_response r;
	ck_assert_int_eq(get(proc.port, "GET /small.txt HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	wire_http_response_free(&r);
	long before = rss_kib(proc.pid);
	long long length;
	size_t extra;
	int fd = open_stream("/huge.bin", &length, &extra);
	read_zeros(fd, 1 << 20, 0);
	/* Not reading for half a second: a transfer that ignored the
	 * window would pull hundreds of MiB in that time (1 GiB passed in
	 * under 5 s above). */
	poll(NULL, 0, 500);
	long held = rss_kib(proc.pid);
	if (memory_measured())
		ck_assert_msg(held - before < 10 * 1024, "RSS grew by %ld KiB", held - before);
	read_zeros(fd, 8 << 20, 0); /* and it goes on */
	close(fd);
}
END_TEST

/* A HEAD is answered with the service's Content-Length. */
START_TEST(stream_head_keeps_length)
{
	struct wire_http_response r;
	ck_assert_int_eq(get(proc.port, "HEAD /big.bin HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.content_length, BIG_LEN);
	ck_assert_uint_eq(r.body_len, 0);
	wire_http_response_free(&r);
}
END_TEST

/* --- a service that misbehaves: one scripted answer per connection ---- */

static pid_t fake_pid;
static int fake_port;

/* A listening socket on a free loopback port (fake_port) and a child
 * process to serve it: returns the socket in the child, -1 in the test
 * (fake_pid set). The child dies with the test. */
static int fork_service(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(l, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(l, 8), 0);
	socklen_t len = sizeof sa;
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	fake_port = ntohs(sa.sin_port);
	pid_t parent = getpid();
	fake_pid = fork();
	ck_assert_int_ge(fake_pid, 0);
	if (fake_pid > 0) {
		close(l);
		return -1;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(126);
	return l;
}

/* A child that answers each of n connections, in turn, with answers[i]
 * (after reading the request's head), then closes it with a FIN. */
static void start_fake(const char *const answers[], size_t n)
{
	int l = fork_service();
	if (l < 0)
		return;
	for (size_t i = 0; i < n;) {
		struct pollfd p = {.fd = l, .events = POLLIN};
		if (poll(&p, 1, T_MS) != 1)
			_exit(1);
		int c = accept(l, NULL, NULL);
		struct wire_result w = {0};
		double t0 = wire_now_ms();
		bool asked = false;
		while (!asked && wire_read_bytes(c, w.len + 1, t0, T_MS, &w) == 0)
			asked = strstr((char *)w.bytes, "\r\n\r\n") != NULL;
		wire_result_free(&w);
		/* upsim's start-up check connects and leaves without asking */
		if (asked)
			wire_send_str(c, answers[i++], T_MS);
		close(c);
	}
	_exit(0);
}

static void stop_fake(void)
{
	if (fake_pid > 0) {
		kill(fake_pid, SIGKILL);
		waitpid(fake_pid, NULL, 0);
		fake_pid = 0;
	}
}

static void teardown_fake(void)
{
	if (scenario_path != NULL)
		stop_upsim();
	stop_fake();
}

static void start_upsim_on_fake(void)
{
	char upstream[64];
	snprintf(upstream, sizeof upstream, "http://127.0.0.1:%d", fake_port);
	start_upsim("{\"upsim\": 1, \"upstream\": \"@UPSTREAM@\",\n"
		    " \"defaults\": {\"forward\": true},\n"
		    " \"rules\": [{\"match\": {\"path\": \"/close\"},\n"
		    "             \"respond\": {\"on_upstream_error\": \"close\"}}]}\n",
		    upstream, NULL);
}

/* --- a streamed upload ------------------------------------------------- */

#define UPLOAD_PAUSE_AT (1 << 20)

/* A child serving one request: it reads the head and a Content-Length
 * body, stopping for 300 ms after the first MiB (a slow service), checks
 * every byte is (offset % 251), and answers "got=N ok=1". */
static void start_sink(void)
{
	int l = fork_service();
	if (l < 0)
		return;
	for (;;) {
		struct pollfd p = {.fd = l, .events = POLLIN};
		if (poll(&p, 1, 60000) != 1)
			_exit(1);
		int c = accept(l, NULL, NULL);
		static char buf[1 << 16];
		size_t have = 0;
		char *end = NULL;
		while (end == NULL && have < sizeof buf - 1) {
			ssize_t r = recv(c, buf + have, sizeof buf - 1 - have, 0);
			if (r <= 0)
				break;
			have += (size_t)r;
			buf[have] = '\0';
			end = strstr(buf, "\r\n\r\n");
		}
		if (end == NULL) { /* upsim's start-up check */
			close(c);
			continue;
		}
		const char *cl = strcasestr(buf, "\r\nContent-Length: ");
		long long want = cl ? atoll(cl + 18) : -1, got = 0;
		bool ok = want > 0;
		size_t extra = have - (size_t)(end + 4 - buf);
		memmove(buf, end + 4, extra);
		for (size_t n = extra; ok;) {
			for (size_t i = 0; i < n; i++)
				ok &= (unsigned char)buf[i]
				      == (unsigned char)((got + (long long)i) % 251);
			bool paused = got >= UPLOAD_PAUSE_AT;
			got += (long long)n;
			if (!paused && got >= UPLOAD_PAUSE_AT)
				poll(NULL, 0, 300);
			if (got >= want)
				break;
			ssize_t r = recv(c, buf, sizeof buf, 0);
			if (r <= 0)
				break;
			n = (size_t)r;
		}
		char answer[160], body[64];
		int blen = snprintf(body, sizeof body, "got=%lld ok=%d\n", got, ok && got == want);
		snprintf(answer, sizeof answer, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s",
			 blen, body);
		wire_send_str(c, answer, T_MS);
		close(c);
		_exit(0);
	}
}

/* A request body streams to the service as it arrives, held back while
 * the service reads slowly: a large upload passes whole and in order,
 * and upsim's memory stays flat. */
START_TEST(stream_upload_in_bounded_memory)
{
	long long size = wrapped() ? 16LL << 20 : 256LL << 20;
	start_sink();
	start_upsim_on_fake();
	long before = -1, peak = -1; /* from the first MiB on: libcurl is loaded */
	int fd = wire_connect("127.0.0.1", proc.port, T_MS);
	ck_assert_int_ge(fd, 0);
	char head[160];
	snprintf(head, sizeof head,
		 "PUT /upload HTTP/1.1\r\nHost: b\r\nContent-Length: %lld\r\n\r\n", size);
	ck_assert_int_eq(wire_send_str(fd, head, T_MS), 0);
	static char chunk[1 << 20];
	for (long long sent = 0; sent < size; sent += (long long)sizeof chunk) {
		for (size_t i = 0; i < sizeof chunk; i++)
			chunk[i] = (char)((sent + (long long)i) % 251);
		ck_assert_int_eq(wire_send_all(fd, chunk, sizeof chunk, 20000), 0);
		long now = rss_kib(proc.pid);
		before = before < 0 ? now : before;
		peak = now > peak ? now : peak;
	}
	struct wire_conn c = {.fd = fd};
	struct wire_http_response r;
	ck_assert_int_eq(wire_http_read(&c, 0, 20000, &r), 0);
	char want[64];
	snprintf(want, sizeof want, "got=%lld ok=1\n", size);
	ck_assert_str_eq((char *)r.body, want);
	wire_http_response_free(&r);
	close(fd);
	free(c.buf);
	if (memory_measured())
		ck_assert_msg(peak - before < 10 * 1024, "RSS grew by %ld KiB", peak - before);
}
END_TEST

/* No Content-Length from the service: upsim frames the body chunked, and
 * the bytes are the service's. */
START_TEST(stream_chunked_without_length)
{
	static const char *const answers[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Real: yes\r\n\r\n"
		"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n",
	};
	start_fake(answers, 1);
	start_upsim_on_fake();
	struct wire_http_response r;
	ck_assert_int_eq(get(proc.port, "GET /x HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.chunked, 1);
	ck_assert_int_eq(r.content_length, -1);
	ck_assert_str_eq((char *)r.body, "hello, world");
	char *h = wire_http_header(&r, "X-Real");
	ck_assert_str_eq(h, "yes");
	free(h);
	wire_http_response_free(&r);
}
END_TEST

/* The service dies after 5000 of its 100000 bytes: the gateway gets the
 * head, exactly those 5000 bytes, then a RST (on_upstream_error's
 * default), or a FIN with on_upstream_error "close"; the journal says why. */
START_TEST(stream_cut_when_the_service_dies)
{
	static char answer[6000];
	int head = snprintf(answer, sizeof answer,
			    "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
	memset(answer + head, 'x', 5000);
	answer[head + 5000] = '\0';
	const char *const answers[] = {answer, answer};
	start_fake(answers, 2);
	start_upsim_on_fake();
	static const char *const paths[] = {"/reset", "/close"};
	static const char *const ends[] = {"rst", "fin"};
	for (int i = 0; i < 2; i++) {
		struct wire_result w = {0};
		ck_assert_str_eq(wire_end_name(request_end(paths[i], &w)), ends[i]);
		const char *body = strstr((char *)w.bytes, "\r\n\r\n");
		ck_assert_ptr_nonnull(body);
		ck_assert_ptr_nonnull(strstr((char *)w.bytes, "Content-Length: 100000\r\n"));
		ck_assert_uint_eq(w.len - (size_t)(body + 4 - (char *)w.bytes), 5000);
		wire_result_free(&w);
	}
	ck_assert_int_eq(upsim_wait_idle(&proc, T_MS), 0);
	char *journal = read_text(journal_path);
	ck_assert_int_eq(count(journal, "upstream_error"), 2);
	ck_assert_int_eq(count(journal, "\"rst\""), 1);
	ck_assert_int_eq(count(journal, "\"fin\""), 1);
	free(journal);
}
END_TEST

/* --- an https backend --------------------------------------------------- */

/* After "upstream" and "forwarding". */
static const char https_rules[] =
	" \"defaults\": {\"forward\": true, \"on_upstream_error\": 502},\n"
	" \"rules\": [{\"match\": {\"path\": \"/cut/*\"},\n"
	"             \"respond\": {\"fault\": \"truncate\", \"at\": \"body\",\n"
	"                          \"offset\": 1000, \"then\": \"reset\"}}]}\n";

/* nginx with TLS, and upsim forwarding to it over https: trusting the
 * test's CA with forwarding.ca_file, or not (libcurl's default bundle,
 * which does not know it). */
static void start_https(bool trusted)
{
	start_nginx(true);
	char upstream[64], forwarding[192] = "", text[1024];
	snprintf(upstream, sizeof upstream, "https://127.0.0.1:%d", tls_port);
	if (trusted)
		snprintf(forwarding, sizeof forwarding,
			 " \"forwarding\": {\"ca_file\": \"%s/ca.pem\"},\n", dir);
	snprintf(text, sizeof text, "{\"upsim\": 1, \"upstream\": \"@UPSTREAM@\",\n%s%s",
		 forwarding, https_rules);
	start_upsim(text, upstream, NULL);
}

static void setup_https(void)
{
	start_https(true);
}

static void setup_untrusted(void)
{
	start_https(false);
}

/* The TLS server block's log: one "$ssl_protocol $request" line each. */
static char *tls_log(void)
{
	ck_assert_int_eq(upsim_wait_idle(&proc, T_MS), 0);
	char path[160];
	snprintf(path, sizeof path, "%s/tls_access.log", dir);
	return read_text(path);
}

/* Through upsim over TLS, the same bytes nginx serves in clear from the
 * same files; its TLS log shows the requests came over TLS. */
START_TEST(https_pass_through_identical)
{
	expect_same("/small.txt");
	expect_same("/big.bin");
	expect_same("/no-such-file");
	char *log = tls_log();
	ck_assert_int_eq(count(log, "GET /small.txt HTTP/1.1"), 1);
	ck_assert_int_eq(count(log, "GET /big.bin HTTP/1.1"), 1);
	ck_assert_int_eq(count(log, "GET /no-such-file HTTP/1.1"), 1);
	ck_assert_int_eq(count(log, "TLSv1."), 3);
	free(log);
	char *journal = read_text(journal_path);
	ck_assert_int_eq(count(journal, "upstream_error"), 0);
	free(journal);
}
END_TEST

/* The real https answer cut after exactly 1000 body bytes, then a RST. */
START_TEST(https_truncate_then_reset)
{
	expect_cut_big("rst");
	char *log = tls_log();
	ck_assert_int_eq(count(log, "GET /cut/big.bin HTTP/1.1"), 1);
	free(log);
}
END_TEST

/* A certificate upsim cannot verify fails the exchange before any
 * request is sent: on_upstream_error's 502, naming the problem, and the
 * journal's upstream_error says it. */
START_TEST(https_untrusted_fails)
{
	/* libcurl reads the system's whole CA bundle for this first
	 * connection: 2 s under valgrind on a quiet machine, over 5 s on a
	 * busy one */
	int ms = getenv("UPSIM_WRAP") ? 25000 : T_MS;
	struct wire_http_response r;
	ck_assert_int_eq(get_within(proc.port, "GET /small.txt HTTP/1.1\r\nHost: b\r\n\r\n", ms,
				    &r),
			 0);
	ck_assert_int_eq(r.status, 502);
	ck_assert_int_eq(strncmp((char *)r.body, "upsim: the upstream failed: ", 28), 0);
	ck_assert_ptr_nonnull(strstr((char *)r.body, "certificate"));
	wire_http_response_free(&r);
	char *log = tls_log();
	ck_assert_int_eq(count(log, "GET "), 0);
	free(log);
	char *journal = read_text(journal_path);
	ck_assert_int_eq(count(journal, "upstream_error"), 1);
	const char *e = strstr(journal, "upstream_error");
	const char *eol = strchr(e, '\n');
	ck_assert_ptr_nonnull(eol);
	const char *cert = strstr(e, "certificate");
	ck_assert_msg(cert != NULL && cert < eol, "upstream_error without the certificate:\n%s",
		      journal);
	free(journal);
}
END_TEST

/* --- upsim record -------------------------------------------------------- */

static char rec_out[160];

static void setup_record(void)
{
	start_nginx(false);
	snprintf(rec_out, sizeof rec_out, "%s/rec.json", dir);
}

/* Start upsim record in front of nginx, with extra arguments. */
static void start_record(const char *extra1, const char *extra2)
{
	char upstream[64];
	snprintf(upstream, sizeof upstream, "http://127.0.0.1:%d", nginx_port);
	const char *args[] = {"record",	     "--upstream",   upstream, "--out", rec_out, "--listen",
			      "127.0.0.1:0", "--inline-max", "64",     extra1,	extra2,	 NULL};
	ck_assert_int_eq(upsim_start(&proc, args, T_MS), 0);
	ck_assert_str_eq(proc.host, "127.0.0.1");
	ck_assert_ptr_nonnull(strstr(proc.ready_line, "\"scenario\":\"record\""));
}

static void teardown_record(void)
{
	upsim_proc_free(&proc);
	stop_nginx();
}

static const char *const rec_paths[] = {"/small.txt", "/big.bin", "/no-such-file", "/cookie"};

/* What nginx itself answers to GET path. */
static void direct(const char *path, struct wire_http_response *out)
{
	char req[256];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: backend\r\n\r\n", path);
	ck_assert_int_eq(get(nginx_port, req, out), 0);
}

/* GET path through the upsim on proc.port: same status and body bytes as
 * nginx's own answer. */
static void expect_as_nginx(const char *path)
{
	struct wire_http_response want, got;
	direct(path, &want);
	char req[256];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: backend\r\n\r\n", path);
	ck_assert_int_eq(get(proc.port, req, &got), 0);
	ck_assert_int_eq(got.status, want.status);
	ck_assert_msg(got.body_len == want.body_len
			      && memcmp(got.body, want.body, want.body_len) == 0,
		      "%s: %zu bytes replayed, nginx has %zu", path, got.body_len, want.body_len);
	wire_http_response_free(&want);
	wire_http_response_free(&got);
}

/* Record through upsim, stop with SIGTERM, validate what was written,
 * and replay it: the same statuses and body bytes as nginx, a text body
 * inline, a binary one and a long text in files beside the scenario, no
 * Set-Cookie, the first answer per path kept. */
START_TEST(record_then_replay)
{
	start_record(NULL, NULL);
	for (size_t i = 0; i < sizeof rec_paths / sizeof rec_paths[0]; i++)
		expect_as_nginx(rec_paths[i]); /* passed through while recording */
	struct wire_http_response r;
	ck_assert_int_eq(get(proc.port, "GET /small.txt?again=1 HTTP/1.1\r\nHost: b\r\n\r\n", &r),
			 0); /* a repeat of the method and path: not kept */
	wire_http_response_free(&r);
	ck_assert_int_eq(upsim_stop(&proc, SIGTERM, T_MS), 0);
	ck_assert_ptr_nonnull(strstr(proc.err_text, "4 rules from 5 answers (1 repeats"));
	upsim_proc_free(&proc);

	char *out = NULL, *err = NULL;
	const char *validate[] = {"validate", rec_out, NULL};
	ck_assert_int_eq(upsim_run_capture(validate, T_MS, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "4 rules"));
	free(out);
	free(err);
	char *text = read_text(rec_out);
	ck_assert_ptr_nonnull(strstr(text, "\"body\": \"hello from nginx\\n\""));
	ck_assert_ptr_nonnull(strstr(text, "\"body_file\": \"rec.json.bodies/002.bin\""));
	ck_assert_ptr_nonnull(strstr(text, "\"body_file\": \"rec.json.bodies/003.txt\""));
	ck_assert_ptr_null(strstr(text, "secret-session"));
	ck_assert_ptr_null(strstr(text, "Set-Cookie"));
	free(text);

	ck_assert_int_eq(upsim_start_scenario(&proc, rec_out, NULL, T_MS), 0);
	kill(nginx.pid, SIGTERM); /* the replay needs no backend */
	waitpid(nginx.pid, NULL, 0);
	nginx.pid = 0;
	/* nginx is gone: compare with the bytes it served, from its folder. */
	ck_assert_int_eq(get(proc.port, "GET /big.bin HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, BIG_LEN);
	for (size_t i = 0; i < BIG_LEN; i++)
		if (r.body[i] != (unsigned char)(i * 7 + i / 251))
			ck_abort_msg("byte %zu of /big.bin differs", i);
	wire_http_response_free(&r);
	ck_assert_int_eq(get(proc.port, "GET /small.txt HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq((char *)r.body, "hello from nginx\n");
	wire_http_response_free(&r);
	ck_assert_int_eq(get(proc.port, "GET /cookie HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_str_eq((char *)r.body, "cookie set\n");
	ck_assert_int_eq(wire_http_header_count(&r, "Set-Cookie"), 0);
	wire_http_response_free(&r);
	ck_assert_int_eq(get(proc.port, "GET /never HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_int_eq(r.status, 404);
	wire_http_response_free(&r);
	ck_assert_int_eq(upsim_stop(&proc, SIGTERM, T_MS), 0);
}
END_TEST

/* The replayed 404 page of nginx and every body, byte for byte against
 * nginx running beside the replay. */
START_TEST(record_replay_matches_backend)
{
	start_record("--keep-secrets", NULL);
	for (size_t i = 0; i < sizeof rec_paths / sizeof rec_paths[0]; i++)
		expect_as_nginx(rec_paths[i]);
	ck_assert_int_eq(upsim_stop(&proc, SIGINT, T_MS), 0);
	upsim_proc_free(&proc);
	char *text = read_text(rec_out);
	ck_assert_ptr_nonnull(strstr(text, "\"Set-Cookie\", \"sid=secret-session\""));
	free(text);
	ck_assert_int_eq(upsim_start_scenario(&proc, rec_out, NULL, T_MS), 0);
	for (size_t i = 0; i < sizeof rec_paths / sizeof rec_paths[0]; i++)
		expect_as_nginx(rec_paths[i]);
	struct wire_http_response r;
	ck_assert_int_eq(get(proc.port, "GET /cookie HTTP/1.1\r\nHost: b\r\n\r\n", &r), 0);
	ck_assert_int_eq(wire_http_header_count(&r, "Set-Cookie"), 1);
	wire_http_response_free(&r);
	ck_assert_int_eq(upsim_stop(&proc, SIGTERM, T_MS), 0);
}
END_TEST

/* --count N: record stops by itself after N answers, each one delivered. */
START_TEST(record_count_stops)
{
	start_record("--count", "2");
	expect_as_nginx("/small.txt");
	expect_as_nginx("/big.bin");
	ck_assert_int_eq(upsim_stop(&proc, 0, T_MS), 0); /* signal 0: only wait */
	ck_assert_ptr_nonnull(strstr(proc.err_text, "stopping after 2 answers"));
	ck_assert_ptr_nonnull(strstr(proc.err_text, "2 rules from 2 answers"));
}
END_TEST

/* A usage error is said and exits 2; an --out that cannot be written is
 * found at start (exit 1), before any traffic. */
START_TEST(record_usage_errors)
{
	char *out = NULL, *err = NULL;
	const char *no_out[] = {"record", "--upstream", "http://127.0.0.1:1", NULL};
	ck_assert_int_eq(upsim_run_capture(no_out, T_MS, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "missing --out FILE"));
	free(out);
	free(err);
	const char *bad_url[] = {"record", "--upstream", "ftp://x", "--out", rec_out, NULL};
	ck_assert_int_eq(upsim_run_capture(bad_url, T_MS, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "--upstream ftp://x"));
	free(out);
	free(err);
	const char *unwritable[] = {"record",
				    "--upstream",
				    "http://127.0.0.1:1",
				    "--out",
				    "/nonexistent-dir/rec.json",
				    NULL};
	ck_assert_int_eq(upsim_run_capture(unwritable, T_MS, &out, &err), 1);
	ck_assert_ptr_nonnull(strstr(err, "cannot write /nonexistent-dir/rec.json.tmp"));
	free(out);
	free(err);
}
END_TEST

/* --- --forward-to -------------------------------------------------------- */

static void setup_forward_to(void)
{
	static char option[64];
	start_nginx(false);
	snprintf(option, sizeof option, "--forward-to=http://127.0.0.1:%d", nginx_port);
	/* the file's upstream is a port nothing listens on */
	start_upsim(drill_rules, "http://127.0.0.1:1", option);
}

/* The option, not the file, names the service: a forwarded request gets
 * nginx's answer, also after a SIGHUP reload of the file. */
START_TEST(forward_to_replaces_the_upstream)
{
	for (int round = 0; round < 2; round++) {
		struct wire_http_response r;
		ck_assert_int_eq(get(proc.port, "GET /small.txt HTTP/1.1\r\nHost: b\r\n\r\n", &r),
				 0);
		ck_assert_int_eq(r.status, 503); /* the defaults' status over the real 200 */
		ck_assert_str_eq((char *)r.body, "hello from nginx\n");
		wire_http_response_free(&r);
		if (round == 0) {
			ck_assert_int_eq(kill(proc.pid, SIGHUP), 0);
			ck_assert_int_eq(upsim_wait_stderr(&proc, "reloaded scenario", T_MS), 0);
		}
	}
}
END_TEST

Suite *forward_suite(void)
{
	Suite *s = suite_create("forward");
	TCase *tc = tcase_create("backend");
	tcase_add_checked_fixture(tc, setup_backend, teardown_backend);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, pass_through_identical);
	tcase_add_test(tc, request_passed_on);
	tcase_add_test(tc, truncate_real_body);
	tcase_add_test(tc, drip_then_reset);
	tcase_add_test(tc, status_replaced);
	tcase_add_test(tc, headers_removed);
	tcase_add_test(tc, fraction_faulted_rest_identical);
	tcase_add_test(tc, reset_never_forwarded);
	suite_add_tcase(s, tc);
	tc = tcase_create("down");
	tcase_add_checked_fixture(tc, setup_down, teardown_down);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, down_warns_at_start);
	tcase_add_test(tc, down_reset_by_default);
	tcase_add_test(tc, down_close);
	tcase_add_test(tc, down_status);
	suite_add_tcase(s, tc);
	tc = tcase_create("drill");
	tcase_add_checked_fixture(tc, setup_drill, teardown_backend);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, drill_expiry_passes_through);
	suite_add_tcase(s, tc);

	tc = tcase_create("stream");
	tcase_add_checked_fixture(tc, setup_backend, teardown_backend);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, stream_gigabyte_in_bounded_memory);
	tcase_add_test(tc, stream_slow_reader_holds_memory);
	tcase_add_test(tc, stream_head_keeps_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("stream-cut");
	tcase_add_checked_fixture(tc, NULL, teardown_fake);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, stream_chunked_without_length);
	tcase_add_test(tc, stream_cut_when_the_service_dies);
	tcase_add_test(tc, stream_upload_in_bounded_memory);
	suite_add_tcase(s, tc);
	tc = tcase_create("https");
	tcase_add_checked_fixture(tc, setup_https, teardown_backend);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, https_pass_through_identical);
	tcase_add_test(tc, https_truncate_then_reset);
	suite_add_tcase(s, tc);
	tc = tcase_create("https-untrusted");
	tcase_add_checked_fixture(tc, setup_untrusted, teardown_backend);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, https_untrusted_fails);
	suite_add_tcase(s, tc);
	tc = tcase_create("record");
	tcase_add_checked_fixture(tc, setup_record, teardown_record);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, record_then_replay);
	tcase_add_test(tc, record_replay_matches_backend);
	tcase_add_test(tc, record_count_stops);
	tcase_add_test(tc, record_usage_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("forward-to");
	tcase_add_checked_fixture(tc, setup_forward_to, teardown_backend);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, forward_to_replaces_the_upstream);
	suite_add_tcase(s, tc);
	return s;
}

/* Forward mode on the wire: a real backend (nginx serving files from a
 * private folder on a kernel-chosen loopback port), upsim forwarding to
 * it, and a raw-socket client in front. Pass-through answers are compared
 * byte for byte with what nginx itself answers; faulted ones are checked
 * for exact bytes and FIN/RST; nginx's access log shows which requests
 * reached it. The "down" cases point upsim at a port that is bound but
 * not listening, so connecting to it is refused, as with a stopped
 * backend, and no other process can take it meanwhile. */
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

static void start_nginx(void)
{
	ck_assert_int_eq(backend_prepare(&nginx), 0);
	write_site();
	ck_assert_msg(backend_start(&nginx, T_MS) == 0, "the nginx backend did not start");
	nginx_port = nginx.port;
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
	start_nginx();
	char upstream[64];
	snprintf(upstream, sizeof upstream, "http://127.0.0.1:%d", nginx_port);
	start_upsim(healthy_rules, upstream, NULL);
}

static void teardown_backend(void)
{
	stop_upsim();
	stop_nginx();
}

/* One request on a new connection to port; the response and how the
 * connection ended after it (within end_ms). */
static int get(int port, const char *request, struct wire_http_response *out)
{
	struct wire_conn c = {0};
	c.fd = wire_connect("127.0.0.1", port, T_MS);
	ck_assert_int_ge(c.fd, 0);
	ck_assert_int_eq(wire_send_str(c.fd, request, T_MS), 0);
	int rc = wire_http_read(&c, strncmp(request, "HEAD", 4) == 0, T_MS, out);
	close(c.fd);
	free(c.buf);
	return rc;
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
					 "xff=127.0.0.1 len=5 conn=\n");
	wire_http_response_free(&r);
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	ck_assert_str_eq((char *)r.body, "DELETE /echo via=1.1 upsim "
					 "xff=10.0.0.1, 127.0.0.1 len= conn=\n");
	wire_http_response_free(&r);
	close(c.fd);
	free(c.buf);
}
END_TEST

START_TEST(truncate_real_body)
{
	int fd = wire_connect("127.0.0.1", proc.port, T_MS);
	ck_assert_int_ge(fd, 0);
	double t0 = wire_now_ms();
	ck_assert_int_eq(wire_send_str(fd, "GET /cut/big.bin HTTP/1.1\r\nHost: b\r\n\r\n", T_MS),
			 0);
	struct wire_result w = {0};
	wire_read_until_end(fd, t0, T_MS, &w);
	ck_assert_str_eq(wire_end_name(w.end), "fin");
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
	wire_read_until_end(fd, t0, T_MS, &w);
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
	start_nginx();
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

/* --- --forward-to -------------------------------------------------------- */

static void setup_forward_to(void)
{
	static char option[64];
	start_nginx();
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
	tc = tcase_create("forward-to");
	tcase_add_checked_fixture(tc, setup_forward_to, teardown_backend);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, forward_to_replaces_the_upstream);
	suite_add_tcase(s, tc);
	return s;
}

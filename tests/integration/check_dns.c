/* The scripted DNS server on the wire: upsim started on a scenario with
 * "dns", asked with dig (bind9-dnsutils) over UDP and TCP, and with raw
 * datagrams for what dig would never send. Rcodes, flags, records, TTLs,
 * order, timing and the journal are asserted exactly. The DNS port is
 * the kernel's choice (listen port 0, read from the ready line's "dns"),
 * or for the port-in-use case one the test holds itself. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin_fixture.h"
#include "proc.h"
#include "suites.h"
#include "wire.h"

#define T_MS 5000
/* Scheduling slack allowed on a delay (valgrind: more). */
#define SLACK_MS (getenv("UPSIM_WRAP") ? 1500.0 : 400.0)

static const char dns_json[] =
	"{\"upsim\": 1, \"name\": \"dns-wire\", \"seed\": 11,"
	" \"dns\": {\"listen\": \"127.0.0.1:0\", \"names\": {"
	"  \"orders.test\": {\"a\": [\"127.0.0.1\", \"127.0.0.2\", \"127.0.0.3\"],"
	"                   \"ttl\": 5, \"rotate\": true},"
	"  \"v6.test\": {\"aaaa\": [\"::1\", \"fd00::2\"], \"ttl\": 7},"
	"  \"_http._tcp.orders.test\": {\"srv\": [{\"priority\": 10, \"weight\": 5,"
	"       \"port\": 8080, \"target\": \"orders.test\"}]},"
	"  \"gone.test\": {\"fault\": \"nxdomain\"},"
	"  \"broken.test\": {\"fault\": \"servfail\"},"
	"  \"refused.test\": {\"fault\": \"refused\"},"
	"  \"empty.test\": {\"fault\": \"empty\"},"
	"  \"hole.test\": {\"fault\": \"timeout\"},"
	"  \"slow.test\": {\"a\": [\"127.0.0.1\"], \"delay\": \"400ms\"},"
	"  \"big.test\": {\"fault\": \"truncated\", \"a\": [\"127.0.0.9\"], \"ttl\": 3},"
	"  \"nowhere.test\": {\"a\": [\"127.0.0.1\"], \"ttl\": 0},"
	"  \"flap.test\": {\"flap\": [[\"127.0.0.1\"], [\"127.0.0.2\"]], \"every\": \"300ms\"}"
	" }}}";

static struct admin_fixture fx;
static int dns_port;

/* The port of the ready line's "dns". */
static int ready_dns_port(const struct upsim_proc *p)
{
	json_t *o = json_loads(p->ready_line, 0, NULL);
	ck_assert_ptr_nonnull(o);
	const char *a = json_string_value(json_object_get(o, "dns"));
	ck_assert_ptr_nonnull(a);
	const char *colon = strrchr(a, ':');
	ck_assert_ptr_nonnull(colon);
	int port = atoi(colon + 1);
	json_decref(o);
	ck_assert_int_gt(port, 0);
	return port;
}

static void setup(void)
{
	fixture_start(&fx, dns_json, NULL);
	dns_port = ready_dns_port(&fx.p);
}

static void teardown(void)
{
	fixture_finish(&fx);
}

struct dig {
	int exit;	 /* dig's exit status (9: no answer) */
	double ms;	 /* how long it took */
	char status[16]; /* "NOERROR", ... ("" when none came) */
	char flags[64];	 /* " qr aa tc rd" */
	int n;		 /* answer records */
	char name[8][128], type[8][8], data[8][128];
	long ttl[8];
};

/* dig @127.0.0.1 -p PORT opts name type; the parts of its output. */
static void dig(int port, const char *opts, const char *name, const char *type, struct dig *d)
{
	memset(d, 0, sizeof *d);
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "dig @127.0.0.1 -p %d +norec +tries=1 +time=2 +noall +comments +answer "
		 "%s %s %s 2>&1",
		 port, opts, name, type);
	double start = wire_now_ms();
	FILE *f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	char line[512];
	while (fgets(line, sizeof line, f) != NULL) {
		char *p;
		if ((p = strstr(line, "status: ")) != NULL)
			sscanf(p + 8, "%15[A-Z]", d->status);
		else if (strncmp(line, ";; flags:", 9) == 0)
			sscanf(line + 9, "%63[a-z ]", d->flags);
		else if (line[0] != ';' && line[0] != '\n' && d->n < 8) {
			char klass[8];
			int got = sscanf(line, "%127s %ld %7s %7s %127[^\n]", d->name[d->n],
					 &d->ttl[d->n], klass, d->type[d->n], d->data[d->n]);
			ck_assert_msg(got == 5, "unexpected dig line: %s", line);
			d->n++;
		}
	}
	int st = pclose(f);
	d->ms = wire_now_ms() - start;
	d->exit = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool has_flag(const struct dig *d, const char *flag)
{
	char padded[80], want[16];
	snprintf(padded, sizeof padded, " %s ", d->flags);
	snprintf(want, sizeof want, " %s ", flag);
	return strstr(padded, want) != NULL;
}

START_TEST(test_a_records_rotate)
{
	static const char *const order[3][3] = {
		{"127.0.0.1", "127.0.0.2", "127.0.0.3"},
		{"127.0.0.2", "127.0.0.3", "127.0.0.1"},
		{"127.0.0.3", "127.0.0.1", "127.0.0.2"},
	};
	for (int round = 0; round < 4; round++) {
		struct dig d;
		/* Rotation is per name, over UDP and TCP alike. */
		dig(dns_port, round % 2 ? "+tcp" : "", "orders.test", "A", &d);
		ck_assert_int_eq(d.exit, 0);
		ck_assert_str_eq(d.status, "NOERROR");
		ck_assert(has_flag(&d, "aa"));
		ck_assert(!has_flag(&d, "tc"));
		ck_assert_int_eq(d.n, 3);
		for (int i = 0; i < 3; i++) {
			ck_assert_str_eq(d.name[i], "orders.test.");
			ck_assert_str_eq(d.type[i], "A");
			ck_assert_int_eq(d.ttl[i], 5);
			ck_assert_str_eq(d.data[i], order[round % 3][i]);
		}
	}
}
END_TEST

START_TEST(test_aaaa_srv_and_other_types)
{
	struct dig d;
	dig(dns_port, "", "V6.Test", "AAAA", &d); /* names match without case */
	ck_assert_str_eq(d.status, "NOERROR");
	ck_assert_int_eq(d.n, 2);
	ck_assert_str_eq(d.name[0], "V6.Test."); /* the owner as asked */
	ck_assert_str_eq(d.data[0], "::1");
	ck_assert_str_eq(d.data[1], "fd00::2");
	ck_assert_int_eq(d.ttl[1], 7);
	dig(dns_port, "", "_http._tcp.orders.test", "SRV", &d);
	ck_assert_str_eq(d.status, "NOERROR");
	ck_assert_int_eq(d.n, 1);
	ck_assert_str_eq(d.type[0], "SRV");
	ck_assert_str_eq(d.data[0], "10 5 8080 orders.test.");
	ck_assert_int_eq(d.ttl[0], 30); /* the default TTL */
	/* A listed name without records of the type: NOERROR, no data. */
	dig(dns_port, "", "v6.test", "A", &d);
	ck_assert_str_eq(d.status, "NOERROR");
	ck_assert_int_eq(d.n, 0);
	dig(dns_port, "", "orders.test", "MX", &d);
	ck_assert_str_eq(d.status, "NOERROR");
	ck_assert_int_eq(d.n, 0);
}
END_TEST

START_TEST(test_rcode_faults)
{
	static const struct {
		const char *name, *status;
	} cases[] = {
		{"gone.test", "NXDOMAIN"},    {"broken.test", "SERVFAIL"},
		{"refused.test", "REFUSED"},  {"empty.test", "NOERROR"},
		{"unlisted.test", "REFUSED"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int tcp = 0; tcp < 2; tcp++) {
			struct dig d;
			dig(dns_port, tcp ? "+tcp" : "", cases[i].name, "A", &d);
			ck_assert_msg(strcmp(d.status, cases[i].status) == 0, "%s over %s: %s",
				      cases[i].name, tcp ? "TCP" : "UDP", d.status);
			ck_assert_int_eq(d.n, 0);
			/* Authoritative for its names only. */
			ck_assert(has_flag(&d, "aa")
				  == (strcmp(cases[i].name, "unlisted.test") != 0));
		}
	}
}
END_TEST

START_TEST(test_truncated_then_tcp)
{
	struct dig d;
	dig(dns_port, "+ignore", "big.test", "A", &d);
	ck_assert_str_eq(d.status, "NOERROR");
	ck_assert(has_flag(&d, "tc"));
	ck_assert_int_eq(d.n, 0);
	dig(dns_port, "+tcp", "big.test", "A", &d);
	ck_assert(!has_flag(&d, "tc"));
	ck_assert_int_eq(d.n, 1);
	ck_assert_str_eq(d.data[0], "127.0.0.9");
	ck_assert_int_eq(d.ttl[0], 3);
	/* dig itself retries over TCP on the TC bit. */
	dig(dns_port, "", "big.test", "A", &d);
	ck_assert_int_eq(d.n, 1);
	ck_assert_str_eq(d.data[0], "127.0.0.9");
}
END_TEST

START_TEST(test_delay_and_timeout)
{
	struct dig d;
	for (int tcp = 0; tcp < 2; tcp++) {
		dig(dns_port, tcp ? "+tcp" : "", "slow.test", "A", &d);
		ck_assert_int_eq(d.n, 1);
		ck_assert_msg(d.ms >= 400.0 && d.ms < 400.0 + SLACK_MS, "delay took %.0f ms", d.ms);
	}
	dig(dns_port, "", "orders.test", "A", &d);
	ck_assert_msg(d.ms < SLACK_MS, "an undelayed answer took %.0f ms", d.ms);
	for (int tcp = 0; tcp < 2; tcp++) {
		dig(dns_port, tcp ? "+tcp" : "", "hole.test", "A", &d);
		ck_assert_int_eq(d.exit, 9); /* dig: no reply from any server */
		ck_assert_str_eq(d.status, "");
		ck_assert_msg(d.ms >= 2000.0 && d.ms < 2000.0 + SLACK_MS + 1000.0,
			      "timeout took %.0f ms", d.ms);
	}
}
END_TEST

START_TEST(test_ttl_zero_and_nowhere)
{
	/* An address where nothing listens is just an "a" list. */
	struct dig d;
	dig(dns_port, "", "nowhere.test", "A", &d);
	ck_assert_int_eq(d.n, 1);
	ck_assert_int_eq(d.ttl[0], 0);
	ck_assert_str_eq(d.data[0], "127.0.0.1");
}
END_TEST

START_TEST(test_flap)
{
	/* Sets take turns every 300 ms from the phase's start (here, upsim's
	 * ready): within two turns the answer must change to the other set,
	 * and back. */
	struct dig d;
	dig(dns_port, "", "flap.test", "A", &d);
	ck_assert_int_eq(d.n, 1);
	char first[128];
	snprintf(first, sizeof first, "%s", d.data[0]);
	ck_assert(strcmp(first, "127.0.0.1") == 0 || strcmp(first, "127.0.0.2") == 0);
	const char *other = strcmp(first, "127.0.0.1") == 0 ? "127.0.0.2" : "127.0.0.1";
	const char *want[2] = {other, first};
	for (int turn = 0; turn < 2; turn++) {
		double until = wire_now_ms() + 700.0 + SLACK_MS;
		bool seen = false;
		while (!seen && wire_now_ms() < until) {
			dig(dns_port, "", "flap.test", "A", &d);
			ck_assert_int_eq(d.n, 1);
			seen = strcmp(d.data[0], want[turn]) == 0;
		}
		ck_assert_msg(seen, "flap.test did not turn to %s", want[turn]);
	}
}
END_TEST

/* The dns records of the journal, oldest first. */
static json_t *dns_records(void)
{
	json_t *j = fixture_call_json(&fx, "GET", "/v1/journal", NULL, 200);
	json_t *out = json_array(), *r;
	size_t i;
	json_array_foreach(json_object_get(j, "records"), i,
			   r) if (strcmp(json_str_at(r, "kind"), "dns") == 0)
		json_array_append(out, r);
	json_decref(j);
	return out;
}

START_TEST(test_journal)
{
	struct dig d;
	dig(dns_port, "+tcp", "orders.test", "A", &d);
	dig(dns_port, "", "gone.test", "AAAA", &d);
	dig(dns_port, "+ignore", "big.test", "A", &d);
	dig(dns_port, "", "hole.test", "A", &d);
	json_t *recs = dns_records();
	ck_assert_int_eq(json_array_size(recs), 4);
	json_t *r = json_array_get(recs, 0);
	ck_assert_str_eq(json_str_at(r, "name"), "orders.test");
	ck_assert_str_eq(json_str_at(r, "type"), "A");
	ck_assert_str_eq(json_str_at(r, "transport"), "tcp");
	ck_assert_str_eq(json_str_at(r, "rcode"), "NOERROR");
	ck_assert_str_eq(json_str_at(r, "scenario"), "dns-wire");
	ck_assert(json_is_null(json_object_get(r, "fault")));
	ck_assert(json_is_true(json_object_get(r, "listed")));
	ck_assert_int_eq(json_int_at(r, "ttl"), 5);
	json_t *answer = json_object_get(r, "answer");
	ck_assert_int_eq(json_array_size(answer), 3);
	ck_assert_str_eq(json_string_value(json_array_get(answer, 0)), "127.0.0.1");
	r = json_array_get(recs, 1);
	ck_assert_str_eq(json_str_at(r, "type"), "AAAA");
	ck_assert_str_eq(json_str_at(r, "transport"), "udp");
	ck_assert_str_eq(json_str_at(r, "rcode"), "NXDOMAIN");
	ck_assert_str_eq(json_str_at(r, "fault"), "nxdomain");
	ck_assert_int_eq(json_array_size(json_object_get(r, "answer")), 0);
	r = json_array_get(recs, 2);
	ck_assert_str_eq(json_str_at(r, "fault"), "truncated");
	ck_assert(json_is_true(json_object_get(r, "tc")));
	r = json_array_get(recs, 3);
	ck_assert_str_eq(json_str_at(r, "fault"), "timeout");
	ck_assert(json_is_null(json_object_get(r, "rcode")));
	json_decref(recs);
}
END_TEST

/* A raw datagram to the DNS port; the reply in buf (its length), or -1
 * when none came within wait_ms. */
static ssize_t raw_query(const void *msg, size_t len, uint8_t *buf, size_t cap, int wait_ms)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)dns_port)};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)len);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t n = -1;
	if (poll(&pfd, 1, wait_ms) == 1)
		n = recv(fd, buf, cap, 0);
	close(fd);
	return n;
}

START_TEST(test_malformed)
{
	uint8_t buf[2048];
	/* A header that asks no question: FORMERR to the same id. */
	static const uint8_t no_question[12] = {0xab, 0xcd, 0x01, 0x00};
	ssize_t n = raw_query(no_question, sizeof no_question, buf, sizeof buf, T_MS);
	ck_assert_int_eq(n, 12);
	ck_assert_int_eq(buf[0], 0xab);
	ck_assert_int_eq(buf[1], 0xcd);
	ck_assert_int_eq(buf[2] & 0x80, 0x80); /* QR */
	ck_assert_int_eq(buf[3] & 0x0f, 1);    /* FORMERR */
	/* A question cut short: FORMERR. */
	static const uint8_t cut[17] = {0x12, 0x34, 0x01, 0x00, 0,   1,	  0,   0,  0,
					0,    0,    0,	  5,	'o', 'r', 'd', 'e'};
	n = raw_query(cut, sizeof cut, buf, sizeof buf, T_MS);
	ck_assert_int_eq(n, 12);
	ck_assert_int_eq(buf[3] & 0x0f, 1);
	/* An update (opcode 5): NOTIMP. */
	static const uint8_t update[12] = {0x00, 0x07, 0x28, 0x00};
	n = raw_query(update, sizeof update, buf, sizeof buf, T_MS);
	ck_assert_int_eq(n, 12);
	ck_assert_int_eq(buf[3] & 0x0f, 4);
	/* Shorter than a header, or a response: no answer at all. */
	static const uint8_t tiny[5] = {1, 2, 3, 4, 5};
	ck_assert_int_eq(raw_query(tiny, sizeof tiny, buf, sizeof buf, 300), -1);
	static const uint8_t response[12] = {0x00, 0x08, 0x81, 0x80};
	ck_assert_int_eq(raw_query(response, sizeof response, buf, sizeof buf, 300), -1);
	/* And the server goes on. */
	struct dig d;
	dig(dns_port, "", "orders.test", "A", &d);
	ck_assert_int_eq(d.n, 3);
}
END_TEST

static const char phases_json[] =
	"{\"upsim\": 1, \"name\": \"dns-drill\","
	" \"dns\": {\"listen\": \"127.0.0.1:%d\","
	"          \"names\": {\"orders.test\": {\"a\": [\"127.0.0.1\"], \"ttl\": 1}}},"
	" \"phases\": [{\"name\": \"healthy\"},"
	"              {\"name\": \"failing\", \"dns\": {\"names\": {"
	"                 \"orders.test\": {\"fault\": \"servfail\"}}}},"
	"              {\"name\": \"flapping\", \"dns\": {\"names\": {"
	"                 \"orders.test\": {\"flap\": [[\"127.0.0.1\"], [\"127.0.0.2\"]],"
	"                                \"every\": \"1s\", \"ttl\": 0}}}}]}";

/* A port that is free now for both UDP and TCP, from the kernel. */
static int free_port(void)
{
	for (int tries = 0; tries < 20; tries++) {
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t len = sizeof a;
		ck_assert_int_eq(bind(u, (struct sockaddr *)&a, sizeof a), 0);
		getsockname(u, (struct sockaddr *)&a, &len);
		int t = socket(AF_INET, SOCK_STREAM, 0);
		int ok = bind(t, (struct sockaddr *)&a, sizeof a) == 0;
		close(t);
		close(u);
		if (ok)
			return ntohs(a.sin_port);
	}
	ck_abort_msg("no free port");
	return -1;
}

START_TEST(test_phases_fail_and_recover)
{
	/* This one names its port, as a drill file would. */
	struct admin_fixture f;
	char json[sizeof phases_json + 16];
	int port = free_port();
	snprintf(json, sizeof json, phases_json, port);
	fixture_start(&f, json, NULL);
	ck_assert_int_eq(ready_dns_port(&f.p), port);
	static const char *const steps[] = {NULL, "failing", "healthy"};
	for (int i = 0; i < 3; i++) {
		if (steps[i] != NULL) {
			char body[64];
			snprintf(body, sizeof body, "{\"phase\": \"%s\"}", steps[i]);
			json_decref(fixture_call_json(&f, "POST", "/v1/phase", body, 200));
		}
		struct dig d;
		dig(port, "", "orders.test", "A", &d);
		ck_assert_str_eq(d.status, i == 1 ? "SERVFAIL" : "NOERROR");
		ck_assert_int_eq(d.n, i == 1 ? 0 : 1);
	}
	json_t *j = fixture_call_json(&f, "GET", "/v1/journal", NULL, 200);
	json_t *r;
	size_t i;
	int seen = 0;
	static const char *const phase[] = {"healthy", "failing", "healthy"};
	json_array_foreach(json_object_get(j, "records"), i, r)
	{
		if (strcmp(json_str_at(r, "kind"), "dns") != 0)
			continue;
		ck_assert_int_lt(seen, 3);
		ck_assert_str_eq(json_str_at(r, "phase"), phase[seen]);
		seen++;
	}
	ck_assert_int_eq(seen, 3);
	json_decref(j);
	fixture_finish(&f);
}
END_TEST

static void jump(struct admin_fixture *f, const char *phase)
{
	char body[64];
	snprintf(body, sizeof body, "{\"phase\": \"%s\"}", phase);
	json_decref(fixture_call_json(f, "POST", "/v1/phase", body, 200));
}

static void dig_a(int port, const char *want)
{
	struct dig d;
	dig(port, "", "orders.test", "A", &d);
	ck_assert_int_eq(d.n, 1);
	ck_assert_str_eq(d.data[0], want);
}

/* A flap counts its turns from the start of its phase: right after a jump
 * the first set answers, even when the turns counted from upsim's start
 * (or from the previous jump) would be on the second. */
START_TEST(test_flap_counts_from_the_phase_start)
{
	struct admin_fixture f;
	char json[sizeof phases_json + 16];
	int port = free_port();
	snprintf(json, sizeof json, phases_json, port);
	fixture_start(&f, json, NULL);
	jump(&f, "flapping");
	dig_a(port, "127.0.0.1");
	double until = wire_now_ms() + 1000.0 + SLACK_MS;
	struct dig d = {0};
	while (wire_now_ms() < until) {
		dig(port, "", "orders.test", "A", &d);
		if (d.n == 1 && strcmp(d.data[0], "127.0.0.2") == 0)
			break;
	}
	ck_assert_msg(d.n == 1 && strcmp(d.data[0], "127.0.0.2") == 0,
		      "the flap did not turn to its second set");
	jump(&f, "flapping");
	dig_a(port, "127.0.0.1");
	fixture_finish(&f);
}
END_TEST

START_TEST(test_port_in_use)
{
	int port = free_port();
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(u, (struct sockaddr *)&a, sizeof a), 0);
	char json[sizeof phases_json + 16];
	snprintf(json, sizeof json, phases_json, port);
	char *file = upsim_write_temp(json, ".json");
	ck_assert_ptr_nonnull(file);
	const char *args[] = {"run", "--listen", "127.0.0.1:0", file, NULL};
	char *out, *err;
	int code = upsim_run_capture(args, T_MS, &out, &err);
	ck_assert_int_eq(code, 1);
	char want[64];
	snprintf(want, sizeof want, "cannot serve DNS on 127.0.0.1:%d", port);
	ck_assert_msg(strstr(err, want) != NULL, "stderr: %s", err);
	ck_assert_msg(strstr(err, "Address already in use") != NULL, "stderr: %s", err);
	free(out);
	free(err);
	close(u);
	unlink(file);
	free(file);
}
END_TEST

Suite *dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("wire");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_a_records_rotate);
	tcase_add_test(tc, test_aaaa_srv_and_other_types);
	tcase_add_test(tc, test_rcode_faults);
	tcase_add_test(tc, test_truncated_then_tcp);
	tcase_add_test(tc, test_delay_and_timeout);
	tcase_add_test(tc, test_ttl_zero_and_nowhere);
	tcase_add_test(tc, test_flap);
	tcase_add_test(tc, test_journal);
	tcase_add_test(tc, test_malformed);
	suite_add_tcase(s, tc);
	tc = tcase_create("drill");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_phases_fail_and_recover);
	tcase_add_test(tc, test_flap_counts_from_the_phase_start);
	tcase_add_test(tc, test_port_in_use);
	suite_add_tcase(s, tc);
	return s;
}

/* engine/dns_decide: which answer a question gets, with no socket. The
 * scenarios are loaded from text, so the loader's model is what is
 * decided on. */
#include <check.h>
#include <string.h>

#include "engine/dns_decide.h"
#include "scenario/dns.h"
#include "scenario/model.h"
#include "suites.h"

static struct scenario *load(const char *json)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_buffer("<test>", json, strlen(json), &err);
	ck_assert_msg(sc != NULL, "%s", err.count ? err.msgs[0] : "?");
	err_clear(&err);
	return sc;
}

static const char base_json[] =
	"{\"upsim\": 1, \"seed\": 3, \"dns\": {\"listen\": \"127.0.0.1:0\", \"names\": {"
	" \"orders.test\": {\"a\": [\"10.0.0.1\", \"10.0.0.2\"], \"aaaa\": [\"::1\"],"
	"                  \"ttl\": 9, \"rotate\": true},"
	" \"gone.test\": {\"fault\": \"nxdomain\"},"
	" \"sf.test\": {\"fault\": \"servfail\", \"delay\": \"2s\"},"
	" \"ref.test\": {\"fault\": \"refused\"},"
	" \"hole.test\": {\"fault\": \"timeout\"},"
	" \"empty.test\": {\"fault\": \"empty\"},"
	" \"tc.test\": {\"fault\": \"truncated\", \"a\": [\"10.0.0.9\"]},"
	" \"_x._tcp.test\": {\"srv\": [{\"port\": 80, \"target\": \"orders.test\"}]},"
	" \"flap.test\": {\"flap\": [[\"10.0.1.1\"], [\"10.0.1.2\", \"10.0.1.3\"]],"
	"                \"every\": \"1s\"},"
	" \"pick.test\": {\"choose\": [{\"weight\": 1, \"fault\": \"nxdomain\"},"
	"                             {\"weight\": 3, \"a\": [\"10.0.2.1\"]}]}"
	"}},"
	" \"phases\": [{\"name\": \"up\"}, {\"name\": \"down\", \"dns\": {\"names\": {"
	"   \"orders.test\": {\"fault\": \"servfail\"}, \"new.test\": {\"a\": [\"10.9.9.9\"]}}}}]}";

static struct scenario *sc;
static struct dns_state st;

static void setup(void)
{
	sc = load(base_json);
	dns_state_init(&st, sc);
}

static void teardown(void)
{
	dns_state_clear(&st);
	scenario_unref(sc);
}

static void ask(const char *name, uint16_t type, bool tcp, size_t phase, uint64_t at_us,
		struct dns_decision *d)
{
	struct dns_question q = {name, type, tcp, phase, at_us};
	dns_decide(sc, &st, &q, d);
}

START_TEST(test_records_and_rotation)
{
	struct dns_decision d;
	for (int i = 0; i < 4; i++) {
		ask("orders.test", DNS_TYPE_A, false, 0, 0, &d);
		ck_assert_ptr_nonnull(d.name);
		ck_assert_int_eq(d.rcode, DNS_RCODE_NOERROR);
		ck_assert_int_eq(d.n_addrs, 2);
		ck_assert_uint_eq(d.ttl, 9);
		ck_assert_str_eq(dns_decision_addr(&d, 0)->text, i % 2 ? "10.0.0.2" : "10.0.0.1");
		ck_assert_str_eq(dns_decision_addr(&d, 1)->text, i % 2 ? "10.0.0.1" : "10.0.0.2");
	}
	ask("orders.test", DNS_TYPE_AAAA, false, 0, 0, &d);
	ck_assert_int_eq(d.n_addrs, 1);
	ck_assert(d.addrs[0].v6);
	ck_assert_str_eq(d.addrs[0].text, "::1");
	ask("orders.test", 15 /* MX */, false, 0, 0, &d);
	ck_assert_int_eq(d.rcode, DNS_RCODE_NOERROR);
	ck_assert_int_eq(d.n_addrs + d.n_srv, 0);
	ask("_x._tcp.test", DNS_TYPE_SRV, false, 0, 0, &d);
	ck_assert_int_eq(d.n_srv, 1);
	ck_assert_uint_eq(d.srv[0].port, 80);
	ck_assert_str_eq(d.srv[0].target, "orders.test");
}
END_TEST

START_TEST(test_faults)
{
	static const struct {
		const char *name;
		int rcode;
		enum dns_fault fault;
	} cases[] = {
		{"gone.test", DNS_RCODE_NXDOMAIN, DNS_FAULT_NXDOMAIN},
		{"sf.test", DNS_RCODE_SERVFAIL, DNS_FAULT_SERVFAIL},
		{"ref.test", DNS_RCODE_REFUSED, DNS_FAULT_REFUSED},
		{"empty.test", DNS_RCODE_NOERROR, DNS_FAULT_EMPTY},
		{"unlisted.test", DNS_RCODE_REFUSED, DNS_FAULT_NONE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dns_decision d;
		ask(cases[i].name, DNS_TYPE_A, false, 0, 0, &d);
		ck_assert_int_eq(d.rcode, cases[i].rcode);
		ck_assert_int_eq(d.fault, cases[i].fault);
		ck_assert_int_eq(d.n_addrs, 0);
		ck_assert(!d.silent && !d.tc);
	}
	struct dns_decision d;
	ask("sf.test", DNS_TYPE_A, false, 0, 0, &d);
	ck_assert_uint_eq(d.delay_us, 2000000);
	ask("unlisted.test", DNS_TYPE_A, false, 0, 0, &d);
	ck_assert_ptr_null(d.name);
	ask("hole.test", DNS_TYPE_A, true, 0, 0, &d);
	ck_assert(d.silent);
}
END_TEST

START_TEST(test_truncated_udp_then_tcp)
{
	struct dns_decision d;
	ask("tc.test", DNS_TYPE_A, false, 0, 0, &d);
	ck_assert(d.tc);
	ck_assert_int_eq(d.n_addrs, 0);
	ask("tc.test", DNS_TYPE_A, true, 0, 0, &d);
	ck_assert(!d.tc);
	ck_assert_int_eq(d.n_addrs, 1);
	ck_assert_str_eq(d.addrs[0].text, "10.0.0.9");
}
END_TEST

START_TEST(test_flap_by_time)
{
	static const struct {
		uint64_t at_us;
		size_t n;
		const char *first;
	} cases[] = {
		{0, 1, "10.0.1.1"},	  {999999, 1, "10.0.1.1"},  {1000000, 2, "10.0.1.2"},
		{1999999, 2, "10.0.1.2"}, {2000000, 1, "10.0.1.1"}, {5500000, 2, "10.0.1.2"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dns_decision d;
		ask("flap.test", DNS_TYPE_A, false, 0, cases[i].at_us, &d);
		ck_assert_int_eq(d.n_addrs, cases[i].n);
		ck_assert_str_eq(dns_decision_addr(&d, 0)->text, cases[i].first);
	}
}
END_TEST

START_TEST(test_phase_override)
{
	struct dns_decision d;
	ask("orders.test", DNS_TYPE_A, false, 1, 0, &d);
	ck_assert_int_eq(d.rcode, DNS_RCODE_SERVFAIL);
	ask("new.test", DNS_TYPE_A, false, 1, 0, &d);
	ck_assert_int_eq(d.n_addrs, 1);
	ck_assert_str_eq(d.addrs[0].text, "10.9.9.9");
	/* Names the phase does not list stay the top level's. */
	ask("gone.test", DNS_TYPE_A, false, 1, 0, &d);
	ck_assert_int_eq(d.rcode, DNS_RCODE_NXDOMAIN);
	/* Back in the first phase: the top level's again; a phase's own name
	 * is unknown outside it. */
	ask("orders.test", DNS_TYPE_A, false, 0, 0, &d);
	ck_assert_int_eq(d.n_addrs, 2);
	ask("new.test", DNS_TYPE_A, false, 0, 0, &d);
	ck_assert_int_eq(d.rcode, DNS_RCODE_REFUSED);
}
END_TEST

/* choose draws from the name's own seeded stream: the same seed gives
 * the same answers; both answers come up near their weights. */
START_TEST(test_choose_seeded)
{
	int draws[2][200], counts[2] = {0, 0};
	for (int run = 0; run < 2; run++) {
		dns_state_clear(&st);
		dns_state_init(&st, sc);
		for (int i = 0; i < 200; i++) {
			struct dns_decision d;
			/* Other names' queries do not shift this name's draws. */
			if (run == 1)
				ask("orders.test", DNS_TYPE_A, false, 0, 0, &d);
			ask("pick.test", DNS_TYPE_A, false, 0, 0, &d);
			draws[run][i] = d.choice;
			ck_assert(d.choice == 0 || d.choice == 1);
			ck_assert_int_eq(d.rcode,
					 d.choice == 0 ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR);
			if (run == 0)
				counts[d.choice]++;
		}
	}
	ck_assert_mem_eq(draws[0], draws[1], sizeof draws[0]);
	ck_assert_int_gt(counts[0], 25);  /* expected 50 */
	ck_assert_int_gt(counts[1], 120); /* expected 150 */
}
END_TEST

START_TEST(test_name_validity)
{
	static const char *const good[] = {"a",
					   "orders.test",
					   "Orders.Test.",
					   "_http._tcp.x",
					   "a-b.c",
					   "1.2.3.4.in-addr.arpa"};
	static const char *const bad[] = {"",	 ".",	"a..b",		"-a.b",		"a-.b",
					  "a b", "a/b", "ex*mple.test", "\xc3\xa9.test"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(dns_name_valid(good[i]), "%s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!dns_name_valid(bad[i]), "%s", bad[i]);
	char label[70], name[300];
	memset(label, 'a', 64);
	label[64] = '\0';
	ck_assert(!dns_name_valid(label));
	label[63] = '\0';
	ck_assert(dns_name_valid(label));
	snprintf(name, sizeof name, "%s.%s.%s.%.61s", label, label, label, label);
	ck_assert_int_eq(strlen(name), 253);
	ck_assert(dns_name_valid(name));
	snprintf(name, sizeof name, "%s.%s.%s.%.62s", label, label, label, label);
	ck_assert(!dns_name_valid(name));
}
END_TEST

Suite *dns_decide_suite(void)
{
	Suite *s = suite_create("dns_decide");
	TCase *tc = tcase_create("decide");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_records_and_rotation);
	tcase_add_test(tc, test_faults);
	tcase_add_test(tc, test_truncated_udp_then_tcp);
	tcase_add_test(tc, test_flap_by_time);
	tcase_add_test(tc, test_phase_override);
	tcase_add_test(tc, test_choose_seeded);
	suite_add_tcase(s, tc);
	tc = tcase_create("names");
	tcase_add_test(tc, test_name_validity);
	suite_add_tcase(s, tc);
	return s;
}

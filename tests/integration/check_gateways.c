/* Gateway conformance: every `expect` of every shipped scenario, checked
 * against the real gateway it names.
 *
 * For each (scenario file, gateway) pair with expectations, the test starts
 * upsim on the scenario — plus, for expectations "with_backup", a second
 * upsim on scenarios/healthy.json as the gateway's backup upstream (retry
 * drills) — and the gateway in front of them, then
 * sends each probe through the gateway and compares the status the client
 * got and the gateway's error log with the expectation. Every mismatch of
 * the pair is reported, not only the first. A gateway that is not
 * installed gets no tests, and the runner says so on stderr.
 * UPSIM_GATEWAYS=nginx,haproxy limits the run to those gateways. */
#include <check.h>
#include <glob.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "gateway.h"
#include "journal_read.h"
#include "proc.h"
#include "scenario/expect.h"
#include "scenario/model.h"
#include "suites.h"
#include "wire.h"

#define T_MS 5000
/* Gateways answer a hung upstream after their 2 s read timeout. */
#define ANSWER_MS 15000
/* A gateway may write its log line just after answering. */
#define LOG_MS 2000

struct pair {
	char *file;
	const char *gateway;
	bool with_backup;
};

static struct pair *pairs;
static size_t n_pairs;

static int selected(const char *gateway)
{
	const char *only = getenv("UPSIM_GATEWAYS");
	if (only == NULL || only[0] == '\0')
		return 1;
	size_t n = strlen(gateway);
	for (const char *p = only; (p = strstr(p, gateway)) != NULL; p += n)
		if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

static const struct gateway_expect *find(const struct expect *e, const char *gateway,
					 bool with_backup)
{
	for (size_t i = 0; e != NULL && e->with_backup == with_backup && i < e->n_gateways; i++)
		if (strcmp(e->gateways[i].gateway, gateway) == 0)
			return &e->gateways[i];
	return NULL;
}

static int scenario_expects(const struct scenario *sc, const char *gateway,
			    bool with_backup)
{
	if (find(sc->expect, gateway, with_backup))
		return 1;
	for (size_t i = 0; i < sc->n_rules; i++)
		if (find(sc->rules[i].expect, gateway, with_backup))
			return 1;
	return 0;
}

static struct scenario *load(const char *file)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file(file, &err);
	err_clear(&err);
	return sc;
}

static int status_allowed(const struct gateway_expect *want, int status)
{
	if (status == want->status)
		return 1;
	for (size_t i = 0; i < want->n_also; i++)
		if (status == want->also[i])
			return 1;
	return 0;
}

/* Append a line to *report. */
__attribute__((format(printf, 2, 3)))
static void complain(char **report, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	char *old = *report;
	*report = xasprintf("%s\n  %s", old, line);
	free(old);
}

/* Send the probe through the gateway; append any mismatch to report. */
static void probe(const struct gateway *g, const struct expect *e,
		  const struct gateway_expect *want, char **report)
{
	struct gateway_answer a;
	if (e->warm_up_us > 0) {
		/* The first answer fills the gateway's cache; the pause lets it
		 * go stale, as the scenario describes. */
		gateway_probe(g, e->probe.path, ANSWER_MS, NULL, 0, &a);
		gateway_answer_free(&a);
		poll(NULL, 0, (int)(e->warm_up_us / 1000));
	}
	gateway_probe(g, e->probe.path, ANSWER_MS, want->log, LOG_MS, &a);
	if (!status_allowed(want, a.status))
		complain(report, "%s: status %d after %.0f ms, expected %d%s", e->probe.path,
			 a.status, a.ms, want->status,
			 want->n_also ? " (or another of its list)" : "");
	else if (want->log && !strstr(a.log, want->log))
		complain(report, "%s: error log lacks \"%s\"; it says: %.300s", e->probe.path,
			 want->log, a.log);
	gateway_answer_free(&a);
}

/* The upsims of a pair: the scenario's, and the healthy backup. */
struct upstreams {
	struct upsim_proc up, backup;
	bool with_backup;
	bool accept_records;    /* the accept stage ends connections itself */
};

/* "retried": did upsim see the probe more than once, over both upstreams?
 * Checked once the gateway is stopped and upsim holds no connection, so
 * every attempt has been journalled. */
static void check_retried(const struct upstreams *u, const struct expect *e,
			  const struct gateway_expect *want, char **report)
{
	long n = upsim_count_attempts(&u->up, e->probe.path, u->accept_records);
	if (u->with_backup && n >= 0) {
		long m = upsim_count_attempts(&u->backup, e->probe.path, 0);
		n = m < 0 ? -1 : n + m;
	}
	if (n < 0)
		complain(report, "%s: upsim's journal could not be read", e->probe.path);
	else if ((n > 1) != (want->retried == 1))
		complain(report, "%s: upsim saw %ld attempt%s, expected %s", e->probe.path, n,
			 n == 1 ? "" : "s", want->retried ? "a retry" : "no retry");
}

/* Every expectation of the scenario for gateway g, in file order; fn is
 * probe or (after the gateway stopped) the retry check. */
static void each_expect(const struct scenario *sc, const struct pair *p,
			void (*fn)(const struct expect *, const struct gateway_expect *,
				   void *), void *arg)
{
	const struct gateway_expect *want = find(sc->expect, p->gateway, p->with_backup);
	if (want)
		fn(sc->expect, want, arg);
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct expect *e = sc->rules[i].expect;
		if ((want = find(e, p->gateway, p->with_backup)) != NULL)
			fn(e, want, arg);
	}
}

struct run {
	const struct gateway *g;
	const struct upstreams *u;
	char *report;
};

static void do_probe(const struct expect *e, const struct gateway_expect *want, void *arg)
{
	struct run *r = arg;
	probe(r->g, e, want, &r->report);
}

static void do_check_retried(const struct expect *e, const struct gateway_expect *want,
			     void *arg)
{
	struct run *r = arg;
	if (want->retried != -1)
		check_retried(r->u, e, want, &r->report);
}

static void start_upstreams(struct upstreams *u, const struct pair *p,
			    const struct scenario *sc)
{
	static const char *const admin[] = {"--admin", "127.0.0.1:0", NULL};
	u->with_backup = p->with_backup;
	u->accept_records = sc->connection.accept != ACCEPT_SERVE ||
			    sc->connection.max_connections > 0;
	ck_assert_int_eq(upsim_start_scenario(&u->up, p->file, admin, T_MS), 0);
	if (p->with_backup)
		ck_assert_int_eq(upsim_start_scenario(&u->backup, "scenarios/healthy.json",
						      admin, T_MS), 0);
}

static void stop_upstreams(struct upstreams *u)
{
	ck_assert_int_eq(upsim_stop(&u->up, SIGTERM, T_MS), 0);
	upsim_proc_free(&u->up);
	if (u->with_backup) {
		ck_assert_int_eq(upsim_stop(&u->backup, SIGTERM, T_MS), 0);
		upsim_proc_free(&u->backup);
	}
}

START_TEST(test_gateway_meets_expectations)
{
	const struct pair *p = &pairs[_i];
	struct scenario *sc = load(p->file);
	ck_assert_ptr_nonnull(sc);
	struct upstreams u = {0};
	start_upstreams(&u, p, sc);
	char primary[96], second[96];
	snprintf(primary, sizeof primary, "%s:%d", u.up.host, u.up.port);
	if (p->with_backup)
		snprintf(second, sizeof second, "%s:%d", u.backup.host, u.backup.port);
	struct gateway g;
	ck_assert_msg(gateway_start(&g, p->gateway, primary,
				    p->with_backup ? second : NULL, 10000) == 0,
		      "%s did not start", p->gateway);
	struct run r = {.g = &g, .u = &u, .report = xstrdup("")};
	each_expect(sc, p, do_probe, &r);
	gateway_stop(&g, T_MS);
	/* The gateway closed its upstream connections: once upsim holds none,
	 * every attempt is in its journal. */
	ck_assert_int_eq(upsim_wait_idle(&u.up, T_MS), 0);
	if (p->with_backup)
		ck_assert_int_eq(upsim_wait_idle(&u.backup, T_MS), 0);
	each_expect(sc, p, do_check_retried, &r);
	stop_upstreams(&u);
	scenario_unref(sc);
	ck_assert_msg(r.report[0] == '\0', "%s%s differs from %s:%s", p->gateway,
		      p->with_backup ? " (with a backup upstream)" : "", p->file, r.report);
	free(r.report);
}
END_TEST

/* Pairs of (shipped scenario, installed gateway) with expectations. */
static void collect(void)
{
	glob_t files;
	if (glob("scenarios/*.json", 0, NULL, &files) != 0)
		return;
	char skipped[256] = "";
	for (size_t gi = 0; gi < gateway_count; gi++) {
		const char *gw = gateway_names[gi];
		if (!selected(gw))
			continue;
		if (!gateway_installed(gw)) {
			size_t len = strlen(skipped);
			snprintf(skipped + len, sizeof skipped - len, " %s", gw);
			continue;
		}
		for (size_t i = 0; i < files.gl_pathc; i++) {
			struct scenario *sc = load(files.gl_pathv[i]);
			for (int b = 0; sc != NULL && b < 2; b++) {
				if (!scenario_expects(sc, gw, b))
					continue;
				pairs = xrealloc(pairs, (n_pairs + 1) * sizeof *pairs);
				pairs[n_pairs++] = (struct pair){xstrdup(files.gl_pathv[i]), gw, b};
			}
			scenario_unref(sc);
		}
	}
	globfree(&files);
	if (skipped[0])
		fprintf(stderr, "SKIPPED gateway conformance for:%s (not installed; "
			"tools/deps.sh installs them as root)\n", skipped);
}

Suite *gateways_suite(void)
{
	Suite *s = suite_create("gateways");
	collect();
	TCase *tc = tcase_create("conformance");
	tcase_set_timeout(tc, 300);
	if (n_pairs > 0)
		tcase_add_loop_test(tc, test_gateway_meets_expectations, 0, (int)n_pairs);
	suite_add_tcase(s, tc);
	return s;
}

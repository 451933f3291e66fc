/* The upsim process as a harness sees it: exit codes, the ready line and
 * ready file, signals, and error messages on stderr. */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "proc.h"
#include "scenario/fault.h"
#include "suites.h"
#include "wire.h"

#define T_MS 5000

static const char ok_json[] = "{\"upsim\":1,\"name\":\"one\",\"defaults\":{\"body\":\"one\"}}";
static const char two_json[] = "{\"upsim\":1,\"name\":\"two\",\"defaults\":{\"body\":\"two\"}}";

static int run(const char *const args[], char **out, char **err)
{
	return upsim_run_capture(args, T_MS, out, err);
}

START_TEST(test_validate_exit_codes)
{
	char *out, *err;
	const char *good[] = {"validate", "scenarios/healthy.json", NULL};
	ck_assert_int_eq(run(good, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "scenarios/healthy.json: ok"));
	free(out);
	free(err);
	const char *bad[] = {"validate", "scenarios/healthy.json",
			     "tests/data/invalid/typo_in_action.json", NULL};
	ck_assert_int_eq(run(bad, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "tests/data/invalid/typo_in_action.json: "
					  "rules[0].respond.staus: unknown key"));
	free(out);
	free(err);
}
END_TEST

START_TEST(test_usage_errors_exit_2)
{
	char *out, *err;
	const char *none[] = {"frobnicate", NULL};
	ck_assert_int_eq(run(none, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "unknown command"));
	free(out);
	free(err);
	const char *badaddr[] = {"run", "--listen", "nowhere", "scenarios/healthy.json", NULL};
	ck_assert_int_eq(run(badaddr, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "--listen nowhere"));
	free(out);
	free(err);
}
END_TEST

START_TEST(test_invalid_scenario_starts_nothing)
{
	char *out, *err;
	const char *args[] = {"run", "--listen", "127.0.0.1:0",
			      "tests/data/invalid/status_range.json", NULL};
	ck_assert_int_eq(run(args, &out, &err), 2);
	ck_assert_str_eq(out, ""); /* no ready line */
	ck_assert_ptr_nonnull(strstr(err, "rules[0].respond.status: expected an integer 100..999"));
	ck_assert_ptr_nonnull(strstr(err, "rules[1].respond.status"));
	free(out);
	free(err);
}
END_TEST

START_TEST(test_faults_lists_the_catalogue)
{
	char *out, *err;
	const char *faults[] = {"faults", NULL};
	ck_assert_int_eq(run(faults, &out, &err), 0);
	for (size_t i = 0; i < fault_table_size; i++) {
		char line[64];
		snprintf(line, sizeof line, "\n%s ", fault_table[i].name);
		ck_assert_msg(strstr(out, line) != NULL, "%s not listed", fault_table[i].name);
		ck_assert_ptr_nonnull(strstr(out, fault_table[i].example));
	}
	for (size_t i = 0; i < catalogue_more_size; i++)
		ck_assert_ptr_nonnull(strstr(out, catalogue_more[i].example));
	free(out);
	free(err);
}
END_TEST

START_TEST(test_help_and_version)
{
	char *out, *err;
	const char *help[] = {"--help", NULL};
	ck_assert_int_eq(run(help, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "upsim run [OPTIONS] SCENARIO.json"));
	ck_assert_ptr_nonnull(strstr(out, "--ready-file"));
	free(out);
	free(err);
	const char *version[] = {"--version", NULL};
	ck_assert_int_eq(run(version, &out, &err), 0);
	ck_assert_int_eq(strncmp(out, "upsim ", 6), 0);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_busy_port_is_a_runtime_failure)
{
	struct upsim_proc first;
	ck_assert_int_eq(upsim_start_scenario(&first, "scenarios/healthy.json", NULL, T_MS), 0);
	char listen[80];
	snprintf(listen, sizeof listen, "127.0.0.1:%d", first.port);
	char *out, *err;
	const char *args[] = {"run", "--listen", listen, "scenarios/healthy.json", NULL};
	ck_assert_int_eq(run(args, &out, &err), 1);
	ck_assert_ptr_nonnull(strstr(err, "cannot listen"));
	free(out);
	free(err);
	ck_assert_int_eq(upsim_stop(&first, SIGTERM, T_MS), 0);
	upsim_proc_free(&first);
}
END_TEST

/* upsim check's bad input: usage, a file whose blocks name other
 * gateways, an unreachable gateway, a taken --listen. A running upsim
 * stands in for "a gateway that answers" and "a taken port": no error
 * path needs a real gateway. */
START_TEST(test_check_bad_input)
{
	char *out, *err;
	const char *bare[] = {"check", "scenarios/resets.json", NULL};
	ck_assert_int_eq(run(bare, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "missing --through"));
	free(out);
	free(err);
	const char *other[] = {"check",	    "--through", "http://127.0.0.1:1",
			       "--gateway", "envoy",	 "scenarios/resets.json",
			       NULL};
	ck_assert_int_eq(run(other, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "scenarios/resets.json: no expect block names gateway "
					  "\"envoy\" (the file names \"nginx\""));
	free(out);
	free(err);
	const char *invalid[] = {"check",     "--through", "http://127.0.0.1:1",
				 "--gateway", "nginx",	   "tests/data/invalid/bad_probe.json",
				 NULL};
	ck_assert_int_eq(run(invalid, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "rules[0].expect.reqest: unknown key"));
	free(out);
	free(err);

	struct upsim_proc busy;
	ck_assert_int_eq(upsim_start_scenario(&busy, "scenarios/healthy.json", NULL, T_MS), 0);
	char taken[80], through[96], closed[96];
	snprintf(taken, sizeof taken, "127.0.0.1:%d", busy.port);
	snprintf(through, sizeof through, "http://127.0.0.1:%d", busy.port);
	/* a port nothing listens on: the one a stopped upsim held */
	struct upsim_proc gone;
	ck_assert_int_eq(upsim_start_scenario(&gone, "scenarios/healthy.json", NULL, T_MS), 0);
	snprintf(closed, sizeof closed, "http://127.0.0.1:%d", gone.port);
	ck_assert_int_eq(upsim_stop(&gone, SIGTERM, T_MS), 0);
	upsim_proc_free(&gone);
	const char *unreachable[] = {"check",	  "--through", closed,
				     "--gateway", "nginx",     "scenarios/resets.json",
				     NULL};
	ck_assert_int_eq(run(unreachable, &out, &err), 1);
	ck_assert_ptr_nonnull(strstr(err, closed));
	ck_assert_ptr_nonnull(strstr(err, "cannot be reached"));
	free(out);
	free(err);
	const char *in_use[] = {"check", "--through", through, "--gateway",
				"nginx", "--listen",  taken,   "scenarios/resets.json",
				NULL};
	ck_assert_int_eq(run(in_use, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "cannot listen on"));
	free(out);
	free(err);
	ck_assert_int_eq(upsim_stop(&busy, SIGTERM, T_MS), 0);
	upsim_proc_free(&busy);
}
END_TEST

/* --gateway-wait: upsim check serves (and writes --tls-ca-out) first, then
 * looks for the gateway; a gateway that trusts that CA can only start
 * after it. Here the "gateway" is a second upsim, started once the CA is
 * written; without one, the wait ends in the usual error. */
START_TEST(test_check_waits_for_a_late_gateway)
{
	char *ca = upsim_write_temp("", ".pem");
	ck_assert_ptr_nonnull(ca);
	unlink(ca); /* upsim check writes it */
	char *sc = upsim_write_temp("{\"upsim\": 1, \"name\": \"late\","
				    " \"expect\": {\"stand-in\": {\"status\": 200}}}",
				    ".json");
	ck_assert_ptr_nonnull(sc);
	int port = gateway_free_port();
	char through[64], listen[64];
	snprintf(through, sizeof through, "http://127.0.0.1:%d", port);
	snprintf(listen, sizeof listen, "127.0.0.1:%d", port);

	char *out, *err;
	const char *alone[] = {"check",	   "--through",	     through, "--gateway", "stand-in",
			       "--listen", "127.0.0.1:0",    "--tls", "auto",	   "--tls-ca-out",
			       ca,	   "--gateway-wait", "150ms", sc,	   NULL};
	ck_assert_int_eq(run(alone, &out, &err), 1);
	ck_assert_msg(strstr(err, "cannot be reached") && strstr(err, "(waited 150 ms)"), "%s",
		      err);
	ck_assert_int_eq(access(ca, R_OK), 0); /* written before the wait */
	unlink(ca);
	free(out);
	free(err);

	const char *late[] = {"check",	  "--through",	    through, "--gateway", "stand-in",
			      "--listen", "127.0.0.1:0",    "--tls", "auto",	  "--tls-ca-out",
			      ca,	  "--gateway-wait", "15s",   sc,	  NULL};
	struct upsim_proc checker, gateway;
	ck_assert_int_eq(upsim_spawn_capture(&checker, late), 0);
	double deadline = wire_now_ms() + T_MS;
	while (access(ca, R_OK) != 0 && !upsim_exited(&checker) && wire_now_ms() < deadline)
		poll(NULL, 0, 5);
	ck_assert_int_eq(access(ca, R_OK), 0);
	const char *stand_in[] = {"run", "--listen", listen, "scenarios/healthy.json", NULL};
	ck_assert_int_eq(upsim_start(&gateway, stand_in, T_MS), 0);
	/* generous bounds, for UPSIM_WRAP=valgrind: the wait ends as soon as
	 * the stand-in answers */
	int rc = upsim_join_capture(&checker, 20000, &out, &err);
	ck_assert_msg(rc == 0, "exit %d: %s%s", rc, out, err);
	ck_assert_ptr_nonnull(strstr(out, "1 passed, 0 failed"));
	free(out);
	free(err);
	ck_assert_int_eq(upsim_stop(&gateway, SIGTERM, T_MS), 0);
	upsim_proc_free(&gateway);
	unlink(ca);
	unlink(sc);
	free(ca);
	free(sc);
}
END_TEST

START_TEST(test_signals_stop_cleanly)
{
	int sigs[] = {SIGTERM, SIGINT};
	for (int i = 0; i < 2; i++) {
		struct upsim_proc p;
		ck_assert_int_eq(upsim_start_scenario(&p, "scenarios/healthy.json", NULL, T_MS), 0);
		/* An idle keep-alive connection must not hold the exit back. */
		int fd = wire_connect(p.host, p.port, T_MS);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(upsim_stop(&p, sigs[i], T_MS), 0);
		close(fd);
		upsim_proc_free(&p);
	}
}
END_TEST

START_TEST(test_ready_file_matches_ready_line)
{
	char path[] = "/tmp/upsim-ready-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	const char *extra[] = {"--ready-file", path, NULL};
	struct upsim_proc p;
	ck_assert_int_eq(upsim_start_scenario(&p, "scenarios/healthy.json", extra, T_MS), 0);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char line[512] = "";
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	ck_assert_str_eq(line, p.ready_line);
	ck_assert_int_eq(upsim_stop(&p, SIGTERM, T_MS), 0);
	upsim_proc_free(&p);
	unlink(path);
}
END_TEST

static int body_is(struct upsim_proc *p, const char *want)
{
	struct wire_conn c = {.fd = wire_connect(p->host, p->port, T_MS)};
	ck_assert_int_ge(c.fd, 0);
	ck_assert_int_eq(wire_send_str(c.fd, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", T_MS), 0);
	struct wire_http_response r = {0};
	ck_assert_int_eq(wire_http_read(&c, 0, T_MS, &r), 0);
	int same = strcmp((char *)r.body, want) == 0;
	wire_http_response_free(&r);
	close(c.fd);
	free(c.buf);
	return same;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_sighup_reloads_and_keeps_old_on_error)
{
	char *path = upsim_write_temp(ok_json, ".json");
	struct upsim_proc p;
	ck_assert_int_eq(upsim_start_scenario(&p, path, NULL, T_MS), 0);
	ck_assert(body_is(&p, "one"));

	write_file(path, "{\"upsim\":1, \"rules\": 5}");
	kill(p.pid, SIGHUP);
	ck_assert_int_eq(upsim_wait_stderr(&p, "reload refused: keeping scenario \"one\"", T_MS),
			 0);
	ck_assert_ptr_nonnull(strstr(p.err_text, "rules: expected an array"));
	ck_assert(body_is(&p, "one"));

	write_file(path, two_json);
	kill(p.pid, SIGHUP);
	ck_assert_int_eq(upsim_wait_stderr(&p, "reloaded scenario \"two\"", T_MS), 0);
	ck_assert(body_is(&p, "two"));

	ck_assert_int_eq(upsim_stop(&p, SIGTERM, T_MS), 0);
	upsim_proc_free(&p);
	unlink(path);
	free(path);
}
END_TEST

Suite *cli_process_suite(void)
{
	Suite *s = suite_create("process");
	TCase *tc = tcase_create("cli");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_validate_exit_codes);
	tcase_add_test(tc, test_usage_errors_exit_2);
	tcase_add_test(tc, test_invalid_scenario_starts_nothing);
	tcase_add_test(tc, test_help_and_version);
	tcase_add_test(tc, test_faults_lists_the_catalogue);
	tcase_add_test(tc, test_busy_port_is_a_runtime_failure);
	tcase_add_test(tc, test_check_bad_input);
	tcase_add_test(tc, test_check_waits_for_a_late_gateway);
	suite_add_tcase(s, tc);
	tc = tcase_create("lifecycle");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_signals_stop_cleanly);
	tcase_add_test(tc, test_ready_file_matches_ready_line);
	tcase_add_test(tc, test_sighup_reloads_and_keeps_old_on_error);
	suite_add_tcase(s, tc);
	return s;
}

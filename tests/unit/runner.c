/* The one test runner: every suite, Check's summary at the end.
 *
 *   check_upsim          every suite (make check)
 *   check_upsim unit     the unit suites only: no process, no socket to a
 *                        server, a few seconds (make check-unit)
 *
 * Select one suite or test case with Check's own variables:
 * CK_RUN_SUITE=fault, CK_RUN_CASE=table (tests/README.md). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

typedef Suite *(*suite_fn)(void);

static const suite_fn unit_suites[] = {
	units_suite,	scenario_suite,	 fault_suite,	expect_suite,	     verdict_suite,
	report_suite,	match_suite,	 behave_suite,	loop_suite,	     timeline_suite,
	overload_suite, cli_suite,	 support_suite, accept_policy_suite, render_suite,
	pace_suite,	tally_suite,	 jcheck_suite,	dns_decide_suite,    baseline_suite,
	window_suite,	tls_certs_suite,
};
static const suite_fn integration_suites[] = {
	http_suite,    cli_process_suite, faults_suite,	 admin_suite, hostile_suite,
	threads_suite, gateways_suite,	  forward_suite, dns_suite,   tls_suite,
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int main(int argc, char **argv)
{
	bool unit_only = argc > 1 && strcmp(argv[1], "unit") == 0;
	if (argc > 1 && !unit_only) {
		fputs("usage: check_upsim [unit]\n", stderr);
		return 2;
	}
	SRunner *sr = srunner_create(NULL);
	for (size_t i = 0; i < COUNT(unit_suites); i++)
		srunner_add_suite(sr, unit_suites[i]());
	for (size_t i = 0; !unit_only && i < COUNT(integration_suites); i++)
		srunner_add_suite(sr, integration_suites[i]());
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

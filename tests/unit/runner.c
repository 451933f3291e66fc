/* The one test runner: every suite, Check's summary at the end. Select
 * with CK_RUN_SUITE / CK_RUN_CASE (Check's own variables). */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(units_suite());
	srunner_add_suite(sr, scenario_suite());
	srunner_add_suite(sr, match_suite());
	srunner_add_suite(sr, behave_suite());
	srunner_add_suite(sr, loop_suite());
	srunner_add_suite(sr, timeline_suite());
	srunner_add_suite(sr, overload_suite());
	srunner_add_suite(sr, cli_suite());
	srunner_add_suite(sr, support_suite());
	srunner_add_suite(sr, http_suite());
	srunner_add_suite(sr, cli_process_suite());
	srunner_add_suite(sr, faults_suite());
	srunner_add_suite(sr, admin_suite());
	srunner_add_suite(sr, hostile_suite());
	srunner_add_suite(sr, threads_suite());
	srunner_add_suite(sr, gateways_suite());
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

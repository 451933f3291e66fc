/* Every Check suite of the project; tests/unit/runner.c runs them all. */
#ifndef UPSIM_TEST_SUITES_H
#define UPSIM_TEST_SUITES_H

#include <check.h>

Suite *units_suite(void);
Suite *window_suite(void);
Suite *scenario_suite(void);
Suite *fault_suite(void);
Suite *expect_suite(void);
Suite *verdict_suite(void);
Suite *report_suite(void);
Suite *match_suite(void);
Suite *behave_suite(void);
Suite *loop_suite(void);
Suite *timeline_suite(void);
Suite *overload_suite(void);
Suite *cli_suite(void);
Suite *support_suite(void);
Suite *accept_policy_suite(void);
Suite *render_suite(void);
Suite *pace_suite(void);
Suite *tally_suite(void);
Suite *jcheck_suite(void);
Suite *http_suite(void);
Suite *cli_process_suite(void);
Suite *faults_suite(void);
Suite *admin_suite(void);
Suite *hostile_suite(void);
Suite *threads_suite(void);
Suite *gateways_suite(void);
Suite *forward_suite(void);
Suite *dns_suite(void);
Suite *tls_suite(void);
Suite *dns_decide_suite(void);
Suite *baseline_suite(void);
Suite *tls_certs_suite(void);

#endif

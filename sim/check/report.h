/* report: what `upsim check` found, for a person (a line per probe), for
 * a program (--json) and for CI (--junit: JUnit XML). */
#ifndef UPSIM_CHECK_REPORT_H
#define UPSIM_CHECK_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "check/runner.h"

struct report_totals {
	size_t passed, failed, skipped, recorded;
};

/* How p ended: "pass", "fail", "skip" or "recorded" (a probe without an
 * expectation for the gateway, run for --record). */
const char *report_result(const struct check_probe *p);
struct report_totals report_count(const struct check_probe *list, size_t n);

/* A line per probe, then "N passed, N failed, N skipped". */
void report_text(FILE *out, const struct check_config *cfg, const struct check_probe *list,
		 size_t n);
/* The whole run as one JSON object (a new reference). */
json_t *report_json(const struct check_config *cfg, const struct check_probe *list, size_t n);
/* JUnit XML: a testsuite per scenario file, a testcase per probe. Returns
 * 0, or -1 with errno set when path cannot be written. */
int report_junit(const char *path, const struct check_config *cfg, const struct check_probe *list,
		 size_t n);

#endif

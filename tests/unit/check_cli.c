#include <check.h>
#include <string.h>

#include "cli.h"
#include "suites.h"

static int parse(int argc, char **argv, struct cli *c)
{
	char why[256];
	return cli_parse(argc, argv, c, why, sizeof why);
}

START_TEST(test_run_options)
{
	char *argv[] = {"upsim",
			"run",
			"--listen",
			"127.0.0.1:0",
			"--ready-file",
			"/tmp/r",
			"--max-connections",
			"500",
			"-v",
			"--threads",
			"4",
			"--connection-memory",
			"8KiB",
			"--forward-to",
			"http://10.0.3.7:8080",
			"s.json",
			NULL};
	struct cli c;
	ck_assert_int_eq(parse(16, argv, &c), 0);
	ck_assert_str_eq(c.forward_to, "http://10.0.3.7:8080");
	ck_assert_uint_eq(c.connection_memory, 8192);
	ck_assert_int_eq(c.command, CLI_RUN);
	ck_assert_str_eq(c.listen, "127.0.0.1:0");
	ck_assert_str_eq(c.ready_file, "/tmp/r");
	ck_assert_uint_eq(c.max_connections, 500);
	ck_assert_uint_eq(c.threads, 4);
	ck_assert(c.verbose);
	ck_assert_int_eq(c.n_files, 1);
	ck_assert_str_eq(c.files[0], "s.json");
}
END_TEST

START_TEST(test_defaults_and_validate)
{
	char *argv[] = {"upsim", "validate", "a.json", "b.json", NULL};
	struct cli c;
	ck_assert_int_eq(parse(4, argv, &c), 0);
	ck_assert_int_eq(c.command, CLI_VALIDATE);
	ck_assert_int_eq(c.n_files, 2);
	ck_assert_str_eq(c.listen, "127.0.0.1:8080");
	ck_assert_uint_eq(c.threads, 1);
	ck_assert_uint_eq(c.connection_memory, 16384);
}
END_TEST

START_TEST(test_usage_errors)
{
	struct cli c;
	char *none[] = {"upsim", NULL};
	char *unknown[] = {"upsim", "fly", NULL};
	char *two[] = {"upsim", "run", "a.json", "b.json", NULL};
	char *badopt[] = {"upsim", "run", "--nope", "a.json", NULL};
	char *missing[] = {"upsim", "run", "--listen", NULL};
	char *badmax[] = {"upsim", "run", "--max-connections", "0", "a", NULL};
	char *novalidate[] = {"upsim", "validate", NULL};
	char *nothreads[] = {"upsim", "run", "--threads", "0", "a", NULL};
	char *manythreads[] = {"upsim", "run", "--threads", "65", "a", NULL};
	char *badforward[] = {"upsim", "run", "--forward-to", "http://h:1/api", "a", NULL};
	char errbuf[128];
	ck_assert_int_eq(cli_parse(5, badforward, &c, errbuf, sizeof errbuf), -1);
	ck_assert_msg(strncmp(errbuf, "--forward-to http://h:1/api: an upstream is", 43) == 0, "%s",
		      errbuf);
	ck_assert_int_eq(cli_parse(5, manythreads, &c, errbuf, sizeof errbuf), -1);
	ck_assert_str_eq(errbuf, "--threads: expected 1..64");
	ck_assert_int_eq(parse(5, nothreads, &c), -1);
	char *smallpool[] = {"upsim", "run", "--connection-memory", "1KiB", "a", NULL};
	ck_assert_int_eq(cli_parse(5, smallpool, &c, errbuf, sizeof errbuf), -1);
	ck_assert_str_eq(errbuf, "--connection-memory: expected 4KiB to 1MiB");
	ck_assert_int_eq(parse(1, none, &c), -1);
	ck_assert_int_eq(parse(2, unknown, &c), -1);
	ck_assert_int_eq(parse(4, two, &c), -1);
	ck_assert_int_eq(parse(4, badopt, &c), -1);
	ck_assert_int_eq(parse(3, missing, &c), -1);
	ck_assert_int_eq(parse(5, badmax, &c), -1);
	ck_assert_int_eq(parse(2, novalidate, &c), -1);
}
END_TEST

START_TEST(test_help_version)
{
	struct cli c;
	char *help[] = {"upsim", "--help", NULL};
	char *version[] = {"upsim", "--version", NULL};
	char *runhelp[] = {"upsim", "run", "--help", NULL};
	ck_assert_int_eq(parse(2, help, &c), 0);
	ck_assert_int_eq(c.command, CLI_HELP);
	ck_assert_int_eq(parse(2, version, &c), 0);
	ck_assert_int_eq(c.command, CLI_VERSION);
	ck_assert_int_eq(parse(3, runhelp, &c), 0);
	ck_assert_int_eq(c.command, CLI_HELP);
}
END_TEST

Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_run_options);
	tcase_add_test(tc, test_defaults_and_validate);
	tcase_add_test(tc, test_usage_errors);
	tcase_add_test(tc, test_help_version);
	suite_add_tcase(s, tc);
	return s;
}

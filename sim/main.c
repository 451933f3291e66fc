/* upsim: a fault-injection upstream HTTP server. main only dispatches the
 * command line; everything else lives in modules the tests link. */
#include <stdio.h>

#include "base/util.h"
#include "check_cmd.h"
#include "cli.h"
#include "client/ctl.h"
#include "record_cmd.h"
#include "run.h"

int main(int argc, char **argv)
{
	struct cli cli;
	char why[256];
	if (cli_parse(argc, argv, &cli, why, sizeof why) != 0) {
		fprintf(stderr, "upsim: %s\n", why);
		return 2;
	}
	switch (cli.command) {
	case CLI_HELP: fputs(cli_usage, stdout); return 0;
	case CLI_VERSION: printf("upsim %s\n", UPSIM_VERSION); return 0;
	case CLI_VALIDATE: return run_validate(cli.files, cli.n_files, cli.forward_to);
	case CLI_FAULTS: return run_faults();
	case CLI_SCHEMA: return run_schema(cli.fleet_schema);
	case CLI_RUN: return run_serve(&cli);
	case CLI_CTL: return ctl_main(cli.n_files, cli.files);
	case CLI_CHECK: return check_main(cli.n_files + 1, cli.files - 1);
	case CLI_RECORD: return record_main(cli.n_files + 1, cli.files - 1);
	}
	return 2;
}

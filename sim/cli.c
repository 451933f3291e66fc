#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

const char cli_usage[] =
	"Usage: upsim run [OPTIONS] SCENARIO.json   serve a scenario\n"
	"       upsim validate FILE...               check scenario files\n"
	"       upsim faults                         list the fault catalogue\n"
	"       upsim --help | --version\n"
	"\n"
	"upsim is a fault-injection upstream: point a gateway at it and it plays\n"
	"the scenario file (slow replies, resets, malformed responses...) so the\n"
	"gateway's 502/503/504 behaviour can be reproduced and tested.\n"
	"\n"
	"Options for run:\n"
	"  -l, --listen ADDR:PORT     address gateways connect to\n"
	"                             (default 127.0.0.1:8080; port 0 = a free port)\n"
	"      --ready-file FILE      also write the ready line to FILE\n"
	"      --max-connections N    connections held open at once (default 10000)\n"
	"      --hang-cap DURATION    no hang lasts longer than this (default 10m);\n"
	"                             then the connection is closed with a FIN\n"
	"  -v, --verbose              log debug details, libmicrohttpd's included\n"
	"\n"
	"When ready, run prints one JSON line on stdout:\n"
	"  {\"event\":\"ready\",\"listen\":\"127.0.0.1:40123\",\"pid\":...,\"scenario\":...}\n"
	"SIGTERM or SIGINT stops it (exit 0); SIGHUP reloads the scenario file.\n"
	"\n"
	"Exit codes: 0 ok, 1 runtime failure, 2 usage error or invalid scenario.\n"
	"Scenario reference: docs/scenarios.md\n";

enum { OPT_READY_FILE = 256, OPT_MAX_CONNECTIONS, OPT_HANG_CAP };

static const struct option run_options[] = {
	{"listen", required_argument, NULL, 'l'},
	{"ready-file", required_argument, NULL, OPT_READY_FILE},
	{"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
	{"hang-cap", required_argument, NULL, OPT_HANG_CAP},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int parse_count(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_options(int argc, char **argv, struct cli *out, char *errbuf,
			 size_t errlen)
{
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+l:vh", run_options, NULL)) != -1) {
		switch (c) {
		case 'l': out->listen = optarg; break;
		case OPT_READY_FILE: out->ready_file = optarg; break;
		case 'v': out->verbose = true; break;
		case 'h': out->command = CLI_HELP; return 0;
		case OPT_MAX_CONNECTIONS:
			if (parse_count(optarg, 1, 10000000, &out->max_connections) == 0)
				break;
			snprintf(errbuf, errlen, "--max-connections: expected 1..10000000");
			return -1;
		case OPT_HANG_CAP: {
			const char *why = NULL;
			if (units_parse_duration(optarg, &out->hang_cap_us, &why) == 0 &&
			    out->hang_cap_us > 0)
				break;
			snprintf(errbuf, errlen, "--hang-cap: %s",
				 why ? why : "must be more than 0");
			return -1;
		}
		default:
			snprintf(errbuf, errlen, "unknown or incomplete option: %s",
				 argv[optind - 1]);
			return -1;
		}
	}
	out->files = argv + optind;
	out->n_files = argc - optind;
	return 0;
}

int cli_parse(int argc, char **argv, struct cli *out, char *errbuf, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->listen = "127.0.0.1:8080";
	out->max_connections = 10000;
	out->hang_cap_us = CLI_DEFAULT_HANG_CAP_US;
	const char *cmd = argc > 1 ? argv[1] : NULL;
	if (cmd == NULL) {
		snprintf(errbuf, errlen, "missing command (try upsim --help)");
		return -1;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		out->command = CLI_HELP;
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		out->command = CLI_VERSION;
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		out->command = CLI_RUN;
	else if (strcmp(cmd, "validate") == 0)
		out->command = CLI_VALIDATE;
	else if (strcmp(cmd, "faults") == 0) {
		out->command = CLI_FAULTS;
		return 0;
	}
	else {
		snprintf(errbuf, errlen, "unknown command \"%s\" (try upsim --help)", cmd);
		return -1;
	}
	if (parse_options(argc - 1, argv + 1, out, errbuf, errlen) != 0)
		return -1;
	if (out->command == CLI_RUN && out->n_files != 1) {
		snprintf(errbuf, errlen, "run takes exactly one scenario file");
		return -1;
	}
	if (out->command == CLI_VALIDATE && out->n_files < 1) {
		snprintf(errbuf, errlen, "validate takes one or more scenario files");
		return -1;
	}
	return 0;
}

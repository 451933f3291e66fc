#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/instant.h"
#include "base/units.h"
#include "net/server.h"
#include "net/threads.h"
#include "scenario/model.h"

const char cli_usage[] =
	"Usage: upsim run [OPTIONS] SCENARIO.json   serve a scenario\n"
	"       upsim run [OPTIONS] --upstream NAME=ADDR:PORT=FILE...\n"
	"       upsim run [OPTIONS] --fleet FLEET.json\n"
	"                                            serve several upstreams\n"
	"       upsim validate [--forward-to URL] FILE...\n"
	"                                            check scenario files\n"
	"       upsim faults                         list the fault catalogue\n"
	"       upsim schema [--fleet]               print the JSON Schema of scenario\n"
	"                                            (or fleet) files, for editors\n"
	"       upsim check --through URL --gateway NAME [OPTIONS] SCENARIO.json...\n"
	"                                            test a gateway: probes through it\n"
	"                                            against expect (check --help)\n"
	"       upsim record --upstream URL --out FILE [OPTIONS]\n"
	"                                            pass traffic to a real service and\n"
	"                                            write a scenario that answers as it\n"
	"                                            did (record --help)\n"
	"       upsim ctl [OPTIONS] COMMAND ...      steer a running upsim (ctl --help)\n"
	"       upsim --help | --version\n"
	"\n"
	"upsim is a fault-injection upstream: point a gateway at it and it plays\n"
	"the scenario file (slow replies, resets, malformed responses...) so the\n"
	"gateway's 502/503/504 behaviour can be reproduced and tested.\n"
	"\n"
	"Options for run:\n"
	"  -l, --listen ADDR:PORT     address gateways connect to\n"
	"                             (default 127.0.0.1:8080; port 0 = a free port)\n"
	"      --upstream NAME=ADDR:PORT=FILE\n"
	"                             one more upstream of a fleet, on its own port\n"
	"                             with its own scenario (repeat it; instead of\n"
	"                             SCENARIO.json and --listen)\n"
	"      --fleet FILE           the upstreams of a fleet file\n"
	"                             ({\"upstreams\": [{\"name\", \"listen\", \"scenario\"}]})\n"
	"      --forward-to URL       forward mode: the real service (http://host:port)\n"
	"                             in place of every scenario's \"upstream\", so one\n"
	"                             drill file serves any staging (docs/forwarding.md)\n"
	"      --tls auto             serve HTTPS with a certificate upsim makes at\n"
	"                             start, signed by a CA of its own (docs/tls.md)\n"
	"      --tls-cert FILE        serve HTTPS with this PEM certificate (chain)...\n"
	"      --tls-key FILE         ... and this PEM private key\n"
	"      --tls-ca-out FILE      write upsim's CA certificate (PEM) there, for\n"
	"                             the gateway to trust\n"
	"      --tls-name NAME        the name certificates are made for (default:\n"
	"                             the --listen host; localhost and 127.0.0.1\n"
	"                             are always in them too)\n"
	"      --ready-file FILE      also write the ready line to FILE\n"
	"      --max-connections N    connections held open at once (default 10000;\n"
	"                             with --threads, shared out between threads)\n"
	"      --connection-memory SIZE\n"
	"                             memory of each connection for the request\n"
	"                             head and the response headers (default 16KiB;\n"
	"                             a longer request head is answered 431)\n"
	"      --threads N            serve with N event loops, one per thread, on\n"
	"                             the same port (SO_REUSEPORT; default 1). Each\n"
	"                             thread plays the scenario on its own: see\n"
	"                             docs/limits.md\n"
	"      --hang-cap DURATION    no hang lasts longer than this (default 10m);\n"
	"                             then the connection is closed with a FIN\n"
	"      --admin ADDR:PORT      serve the admin API there (a bare PORT means\n"
	"                             127.0.0.1:PORT; port 0 = a free port)\n"
	"      --admin-token TOKEN    require \"Authorization: Bearer TOKEN\" on the\n"
	"                             admin API (or set UPSIM_ADMIN_TOKEN); needed\n"
	"                             for an admin address other than loopback\n"
	"      --journal FILE         append every journal record to FILE (JSON lines)\n"
	"      --journal-size N       records kept for GET /v1/journal (default 65536)\n"
	"      --request-id-header H  count attempts per value of header H\n"
	"                             (default X-Request-Id)\n"
	"      --access-log FILE      a line per request to FILE (\"-\": stderr)\n"
	"      --log-format FORMAT    text (default) or json, for logs and access log\n"
	"      --duration DURATION    exit (0) after this long\n"
	"      --drill-ttl DURATION   serve a healthy scenario after this long unless\n"
	"                             renewed (POST /v1/renew, upsim ctl renew)\n"
	"      --start-at INSTANT     count the phases from this wall-clock instant\n"
	"                             (RFC 3339 or Unix seconds), so that several\n"
	"                             upsims play their timelines in step\n"
	"  -v, --verbose              log debug details, libmicrohttpd's included\n"
	"\n"
	"When ready, run prints one JSON line on stdout:\n"
	"  {\"event\":\"ready\",\"listen\":\"127.0.0.1:40123\",\"admin\":\"127.0.0.1:40124\",\n"
	"   \"pid\":...,\"scenario\":...}\n"
	"SIGTERM or SIGINT stops it (exit 0); SIGHUP reloads the scenario file.\n"
	"\n"
	"Exit codes: 0 ok, 1 runtime failure, 2 usage error or invalid scenario.\n"
	"Scenario reference: docs/scenarios.md; admin API: docs/admin-api.md\n";

enum {
	OPT_READY_FILE = 256,
	OPT_MAX_CONNECTIONS,
	OPT_HANG_CAP,
	OPT_ADMIN,
	OPT_ADMIN_TOKEN,
	OPT_JOURNAL,
	OPT_JOURNAL_SIZE,
	OPT_REQUEST_ID_HEADER,
	OPT_ACCESS_LOG,
	OPT_LOG_FORMAT,
	OPT_DURATION,
	OPT_DRILL_TTL,
	OPT_START_AT,
	OPT_UPSTREAM,
	OPT_FLEET,
	OPT_THREADS,
	OPT_CONNECTION_MEMORY,
	OPT_FORWARD_TO,
	OPT_TLS,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CA_OUT,
	OPT_TLS_NAME,
};

static const struct option run_options[] = {
	{"listen", required_argument, NULL, 'l'},
	{"ready-file", required_argument, NULL, OPT_READY_FILE},
	{"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"connection-memory", required_argument, NULL, OPT_CONNECTION_MEMORY},
	{"hang-cap", required_argument, NULL, OPT_HANG_CAP},
	{"admin", required_argument, NULL, OPT_ADMIN},
	{"admin-token", required_argument, NULL, OPT_ADMIN_TOKEN},
	{"journal", required_argument, NULL, OPT_JOURNAL},
	{"journal-size", required_argument, NULL, OPT_JOURNAL_SIZE},
	{"request-id-header", required_argument, NULL, OPT_REQUEST_ID_HEADER},
	{"access-log", required_argument, NULL, OPT_ACCESS_LOG},
	{"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"drill-ttl", required_argument, NULL, OPT_DRILL_TTL},
	{"start-at", required_argument, NULL, OPT_START_AT},
	{"upstream", required_argument, NULL, OPT_UPSTREAM},
	{"fleet", required_argument, NULL, OPT_FLEET},
	{"forward-to", required_argument, NULL, OPT_FORWARD_TO},
	{"tls", required_argument, NULL, OPT_TLS},
	{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	{"tls-key", required_argument, NULL, OPT_TLS_KEY},
	{"tls-ca-out", required_argument, NULL, OPT_TLS_CA_OUT},
	{"tls-name", required_argument, NULL, OPT_TLS_NAME},
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

/* A positive duration for option name. */
static int parse_positive_duration(const char *name, const char *arg, uint64_t *out, char *errbuf,
				   size_t errlen)
{
	const char *why = NULL;
	if (units_parse_duration(arg, out, &why) == 0 && *out > 0)
		return 0;
	snprintf(errbuf, errlen, "--%s: %s", name, why ? why : "must be more than 0");
	return -1;
}

static int parse_log_format(const char *arg, struct cli *out, char *errbuf, size_t errlen)
{
	if (strcmp(arg, "text") == 0)
		out->log_format = CLI_LOG_TEXT;
	else if (strcmp(arg, "json") == 0)
		out->log_format = CLI_LOG_JSON;
	else {
		snprintf(errbuf, errlen, "--log-format: expected text or json");
		return -1;
	}
	return 0;
}

static int parse_option(int c, const char *arg, struct cli *out, char *errbuf, size_t errlen)
{
	switch (c) {
	case 'l': out->listen = arg; return 0;
	case 'v': out->verbose = true; return 0;
	case OPT_READY_FILE: out->ready_file = arg; return 0;
	case OPT_ADMIN: out->admin = arg; return 0;
	case OPT_ADMIN_TOKEN: out->admin_token = arg; return 0;
	case OPT_JOURNAL: out->journal_file = arg; return 0;
	case OPT_REQUEST_ID_HEADER: out->request_id_header = arg; return 0;
	case OPT_ACCESS_LOG: out->access_log = arg; return 0;
	case OPT_FLEET: out->fleet_file = arg; return 0;
	case OPT_TLS_CERT: out->tls_cert = arg; return 0;
	case OPT_TLS_KEY: out->tls_key = arg; return 0;
	case OPT_TLS_CA_OUT: out->tls_ca_out = arg; return 0;
	case OPT_TLS_NAME: out->tls_name = arg; return 0;
	case OPT_TLS:
		out->tls_auto = strcmp(arg, "auto") == 0;
		if (!out->tls_auto)
			snprintf(errbuf, errlen,
				 "--tls: expected auto (or --tls-cert and --tls-key)");
		return out->tls_auto ? 0 : -1;
	case OPT_FORWARD_TO: {
		const char *why = scenario_upstream_url_problem(arg);
		if (why == NULL) {
			out->forward_to = arg;
			return 0;
		}
		snprintf(errbuf, errlen, "--forward-to %s: %s", arg, why);
		return -1;
	}
	case OPT_UPSTREAM:
		if (out->n_upstreams < 64) {
			out->upstreams[out->n_upstreams++] = arg;
			return 0;
		}
		snprintf(errbuf, errlen, "--upstream: at most 64");
		return -1;
	case OPT_LOG_FORMAT: return parse_log_format(arg, out, errbuf, errlen);
	case OPT_START_AT: {
		const char *why = NULL;
		out->has_start_at = instant_parse(arg, &out->start_at_us, &why) == 0;
		if (!out->has_start_at)
			snprintf(errbuf, errlen, "--start-at: %s", why);
		return out->has_start_at ? 0 : -1;
	}
	case OPT_DURATION:
		return parse_positive_duration("duration", arg, &out->duration_us, errbuf, errlen);
	case OPT_DRILL_TTL:
		return parse_positive_duration("drill-ttl", arg, &out->drill_ttl_us, errbuf,
					       errlen);
	case OPT_HANG_CAP:
		return parse_positive_duration("hang-cap", arg, &out->hang_cap_us, errbuf, errlen);
	case OPT_MAX_CONNECTIONS:
		if (parse_count(arg, 1, 10000000, &out->max_connections) == 0)
			return 0;
		snprintf(errbuf, errlen, "--max-connections: expected 1..10000000");
		return -1;
	case OPT_CONNECTION_MEMORY: {
		const char *why = NULL;
		uint64_t size;
		if (units_parse_size(arg, &size, &why) == 0 && size >= CLI_MIN_CONNECTION_MEMORY
		    && size <= CLI_MAX_CONNECTION_MEMORY) {
			out->connection_memory = (size_t)size;
			return 0;
		}
		snprintf(errbuf, errlen, "--connection-memory: %s",
			 why ? why : "expected 4KiB to 1MiB");
		return -1;
	}
	case OPT_THREADS:
		if (parse_count(arg, 1, THREADS_MAX, &out->threads) == 0)
			return 0;
		snprintf(errbuf, errlen, "--threads: expected 1..%d", THREADS_MAX);
		return -1;
	case OPT_JOURNAL_SIZE:
		if (parse_count(arg, 1, 10000000, &out->journal_size) == 0)
			return 0;
		snprintf(errbuf, errlen, "--journal-size: expected 1..10000000");
		return -1;
	}
	return -1;
}

static int parse_options(int argc, char **argv, struct cli *out, char *errbuf, size_t errlen)
{
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+l:vh", run_options, NULL)) != -1) {
		if (c == 'h') {
			out->command = CLI_HELP;
			return 0;
		}
		if (c == '?' || c == ':') {
			snprintf(errbuf, errlen, "unknown or incomplete option: %s",
				 argv[optind - 1]);
			return -1;
		}
		if (parse_option(c, optarg, out, errbuf, errlen) != 0)
			return -1;
	}
	out->files = argv + optind;
	out->n_files = argc - optind;
	return 0;
}

/* The TLS options go together: one source of certificates, and the
 * others only with one. */
static int check_tls_options(const struct cli *out, char *errbuf, size_t errlen)
{
	const char *why = NULL;
	bool tls = out->tls_auto || out->tls_cert != NULL;
	if (out->tls_auto && (out->tls_cert || out->tls_key))
		why = "--tls auto makes the certificate: no --tls-cert or --tls-key with it";
	else if (out->tls_key && !out->tls_cert)
		why = "--tls-key needs --tls-cert";
	else if (out->tls_cert && !out->tls_key)
		why = "--tls-cert needs --tls-key";
	else if (out->tls_ca_out && !tls)
		why = "--tls-ca-out needs --tls auto or --tls-cert";
	else if (out->tls_name && !tls)
		why = "--tls-name needs --tls auto or --tls-cert";
	if (why != NULL)
		snprintf(errbuf, errlen, "%s", why);
	return why ? -1 : 0;
}

int cli_parse(int argc, char **argv, struct cli *out, char *errbuf, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->listen = "127.0.0.1:8080";
	out->max_connections = 10000;
	out->threads = 1;
	out->connection_memory = SERVER_CONNECTION_MEMORY_DEFAULT;
	out->hang_cap_us = CLI_DEFAULT_HANG_CAP_US;
	out->journal_size = 65536;
	out->request_id_header = "X-Request-Id";
	const char *cmd = argc > 1 ? argv[1] : NULL;
	if (cmd == NULL) {
		snprintf(errbuf, errlen, "missing command (try upsim --help)");
		return -1;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
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
	} else if (strcmp(cmd, "schema") == 0) {
		out->command = CLI_SCHEMA;
		out->fleet_schema = argc > 2 && strcmp(argv[2], "--fleet") == 0;
		if (argc > 3 || (argc == 3 && !out->fleet_schema)) {
			snprintf(errbuf, errlen, "schema takes only --fleet");
			return -1;
		}
		return 0;
	} else if (strcmp(cmd, "ctl") == 0 || strcmp(cmd, "check") == 0
		   || strcmp(cmd, "record") == 0) {
		/* ctl, check and record parse their own options (ctl.c,
		 * check_cmd.c, record_cmd.c). */
		out->command = cmd[0] == 'r' ? CLI_RECORD : cmd[1] == 't' ? CLI_CTL : CLI_CHECK;
		out->files = argv + 2;
		out->n_files = argc - 2;
		return 0;
	} else {
		snprintf(errbuf, errlen, "unknown command \"%s\" (try upsim --help)", cmd);
		return -1;
	}
	if (parse_options(argc - 1, argv + 1, out, errbuf, errlen) != 0)
		return -1;
	bool fleet = out->n_upstreams > 0 || out->fleet_file != NULL;
	if (out->command == CLI_RUN && !fleet && out->n_files != 1) {
		snprintf(errbuf, errlen, "run takes exactly one scenario file");
		return -1;
	}
	if (out->command == CLI_RUN && fleet && out->n_files != 0) {
		snprintf(errbuf, errlen,
			 "with --upstream or --fleet, scenarios are named "
			 "there: no SCENARIO.json argument");
		return -1;
	}
	if (out->command == CLI_VALIDATE && out->n_files < 1) {
		snprintf(errbuf, errlen, "validate takes one or more scenario files");
		return -1;
	}
	return check_tls_options(out, errbuf, errlen);
}

#include "check_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/units.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "check/record.h"
#include "check/report.h"
#include "check/runner.h"
#include "cli.h"
#include "net/curl_lib.h"
#include "net/curl_loop.h"
#include "net/server.h"
#include "run.h"
#include "scenario/dns.h"
#include "scenario/expect.h"
#include "scenario/load.h"

const char check_usage[] =
	"Usage: upsim check --through URL --gateway NAME [OPTIONS] SCENARIO.json...\n"
	"\n"
	"Serve each scenario where your gateway's config names its upstream, send\n"
	"every probe of the scenarios' expect blocks through the gateway, and\n"
	"compare what came back with expect[NAME]. A line per probe; exit 0 when\n"
	"every expectation holds, 1 when one does not, 2 on a usage or scenario\n"
	"error.\n"
	"\n"
	"Before each try upsim ends the connections it holds and waits until the\n"
	"gateway has dropped them: no try rides a connection an earlier one left\n"
	"in the gateway's pool. Attempts come from upsim's journal, by request id.\n"
	"\n"
	"  -t, --through URL          the gateway, as a client reaches it\n"
	"                             (http://127.0.0.1:8081; https:// too)\n"
	"  -g, --gateway NAME         whose expectations: the key in expect blocks\n"
	"                             (nginx, edge-nginx, alb-staging...)\n"
	"  -l, --listen ADDR:PORT     where to serve: the upstream address the\n"
	"                             gateway's config names (default 127.0.0.1:8080)\n"
	"      --forward-to URL       forward mode: the real service (http://host:port)\n"
	"                             in place of each scenario's \"upstream\"\n"
	"      --backup ADDR:PORT     serve a healthy backup upstream there too, and\n"
	"                             run the probes marked with_backup\n"
	"      --tls auto, --tls-cert FILE, --tls-key FILE, --tls-ca-out FILE,\n"
	"      --tls-name NAME        serve HTTPS, as upsim run does (docs/tls.md)\n"
	"      --gateway-log FILE     the gateway's error log, for \"log\" expectations\n"
	"                             and the report\n"
	"      --json                 print the results as JSON on stdout (the lines\n"
	"                             go to stderr)\n"
	"      --junit FILE           write JUnit XML for CI to FILE\n"
	"      --observe              probe every expect block: those that do not\n"
	"                             name the gateway are reported, not judged\n"
	"      --record               --observe, and write what the gateway did into\n"
	"                             the files as expect[NAME], for every block\n"
	"      --probe-timeout DURATION\n"
	"                             the longest a try waits for its answer (15s)\n"
	"      --settle DURATION      the longest upsim waits for the gateway to drop\n"
	"                             the connections it ended (500ms)\n"
	"      --log-wait DURATION    the longest it waits for an expected log line (2s)\n"
	"      --start-delay DURATION serve this long before the first probe, so a\n"
	"                             gateway's health checks see the upstream up (0)\n"
	"      --gateway-wait DURATION\n"
	"                             serve first, then wait this long for the\n"
	"                             gateway to answer a GET /: for a gateway\n"
	"                             started after upsim check, e.g. one that must\n"
	"                             trust the CA --tls-ca-out writes (default: it\n"
	"                             must accept connections already)\n"
	"      --shuffle SEED         run the probes in a seeded random order\n"
	"      --dns ADDR:PORT        answer the scenarios' DNS there, where the\n"
	"                             gateway's resolver asks (default: the\n"
	"                             first file's dns.listen)\n"
	"      --dns-settle DURATION  with DNS, wait this long after switching a\n"
	"                             probe's phase, so the gateway's cached\n"
	"                             answers have expired (2s)\n"
	"  -v, --verbose              log what upsim does\n"
	"\n"
	"Probes, steps, repeat and every expectation: docs/scenarios.md (9.1);\n"
	"recipes for pytest, shell and CI: docs/harness.md.\n";

struct check_opts {
	struct check_config cfg;
	const char *listen;
	const char *forward_to;	  /* --forward-to, or NULL */
	const char *dns;	  /* --dns, or NULL */
	const char *tls_args[10]; /* the --tls options, for upsim run's parser */
	int n_tls_args;
	char *dns_listen; /* where DNS is served: --dns or the first file's */
	const char *junit;
	bool json;
	bool record;
	bool verbose;
	bool shuffle;
	uint64_t shuffle_seed;
	char **files;
	int n_files;
};

enum {
	OPT_BACKUP = 256,
	OPT_GATEWAY_LOG,
	OPT_JSON,
	OPT_JUNIT,
	OPT_RECORD,
	OPT_OBSERVE,
	OPT_PROBE_TIMEOUT,
	OPT_SETTLE,
	OPT_LOG_WAIT,
	OPT_SHUFFLE,
	OPT_START_DELAY,
	OPT_GATEWAY_WAIT,
	OPT_DNS,
	OPT_DNS_SETTLE,
	OPT_FORWARD_TO,
	OPT_TLS,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CA_OUT,
	OPT_TLS_NAME,
};

static const struct option check_options[] = {
	{"through", required_argument, NULL, 't'},
	{"gateway", required_argument, NULL, 'g'},
	{"listen", required_argument, NULL, 'l'},
	{"backup", required_argument, NULL, OPT_BACKUP},
	{"forward-to", required_argument, NULL, OPT_FORWARD_TO},
	{"tls", required_argument, NULL, OPT_TLS},
	{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	{"tls-key", required_argument, NULL, OPT_TLS_KEY},
	{"tls-ca-out", required_argument, NULL, OPT_TLS_CA_OUT},
	{"tls-name", required_argument, NULL, OPT_TLS_NAME},
	{"gateway-log", required_argument, NULL, OPT_GATEWAY_LOG},
	{"json", no_argument, NULL, OPT_JSON},
	{"junit", required_argument, NULL, OPT_JUNIT},
	{"record", no_argument, NULL, OPT_RECORD},
	{"observe", no_argument, NULL, OPT_OBSERVE},
	{"probe-timeout", required_argument, NULL, OPT_PROBE_TIMEOUT},
	{"settle", required_argument, NULL, OPT_SETTLE},
	{"log-wait", required_argument, NULL, OPT_LOG_WAIT},
	{"shuffle", required_argument, NULL, OPT_SHUFFLE},
	{"start-delay", required_argument, NULL, OPT_START_DELAY},
	{"gateway-wait", required_argument, NULL, OPT_GATEWAY_WAIT},
	{"dns", required_argument, NULL, OPT_DNS},
	{"dns-settle", required_argument, NULL, OPT_DNS_SETTLE},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int parse_ms(const char *name, const char *arg, uint64_t *out_ms)
{
	const char *why = NULL;
	uint64_t us;
	if (units_parse_duration(arg, &us, &why) == 0 && us >= 1000) {
		*out_ms = us / 1000;
		return 0;
	}
	fprintf(stderr, "upsim check: --%s: %s\n", name, why ? why : "at least 1ms");
	return -1;
}

static int parse_option(int c, const char *arg, struct check_opts *o)
{
	char *end;
	switch (c) {
	case 't': o->cfg.through = arg; return 0;
	case 'g': o->cfg.gateway = arg; return 0;
	case 'l': o->listen = arg; return 0;
	case 'v': o->verbose = true; return 0;
	case OPT_BACKUP:
		o->cfg.with_backup = true;
		o->cfg.backup_listen = arg;
		return 0;
	case OPT_GATEWAY_LOG: o->cfg.gateway_log = arg; return 0;
	case OPT_TLS:
	case OPT_TLS_CERT:
	case OPT_TLS_KEY:
	case OPT_TLS_CA_OUT:
	case OPT_TLS_NAME: {
		/* handed on as written: run's parser checks them */
		static const char *const names[] = {"--tls", "--tls-cert", "--tls-key",
						    "--tls-ca-out", "--tls-name"};
		if (o->n_tls_args + 2 > (int)ARRAY_SIZE(o->tls_args)) {
			fprintf(stderr, "upsim check: each --tls option once\n");
			return -1;
		}
		o->tls_args[o->n_tls_args++] = names[c - OPT_TLS];
		o->tls_args[o->n_tls_args++] = arg;
		return 0;
	}
	case OPT_JSON: o->json = true; return 0;
	case OPT_JUNIT: o->junit = arg; return 0;
	case OPT_RECORD:
		o->record = true;
		o->cfg.observe = true;
		return 0;
	case OPT_OBSERVE: o->cfg.observe = true; return 0;
	case OPT_PROBE_TIMEOUT: return parse_ms("probe-timeout", arg, &o->cfg.cap_ms);
	case OPT_SETTLE: return parse_ms("settle", arg, &o->cfg.settle_ms);
	case OPT_LOG_WAIT: return parse_ms("log-wait", arg, &o->cfg.log_wait_ms);
	case OPT_START_DELAY: return parse_ms("start-delay", arg, &o->cfg.start_delay_ms);
	case OPT_GATEWAY_WAIT: return parse_ms("gateway-wait", arg, &o->cfg.gateway_wait_ms);
	case OPT_DNS: o->dns = arg; return 0;
	case OPT_FORWARD_TO:
		o->forward_to = arg;
		if (scenario_upstream_url_problem(arg) == NULL)
			return 0;
		fprintf(stderr, "upsim check: --forward-to %s: %s\n", arg,
			scenario_upstream_url_problem(arg));
		return -1;
	case OPT_DNS_SETTLE: return parse_ms("dns-settle", arg, &o->cfg.dns_settle_ms);
	case OPT_SHUFFLE:
		o->shuffle = true;
		o->shuffle_seed = strtoull(arg, &end, 10);
		if (*arg != '\0' && *end == '\0')
			return 0;
		fprintf(stderr, "upsim check: --shuffle: expected a number\n");
		return -1;
	}
	return -1;
}

/* 0, 1 for --help, -1 on a usage error (said on stderr). */
static int parse(int argc, char **argv, struct check_opts *o)
{
	*o = (struct check_opts){
		.cfg = {.cap_ms = 15000,
			.settle_ms = 500,
			.log_wait_ms = 2000,
			.dns_settle_ms = 2000},
		.listen = "127.0.0.1:8080",
	};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+t:g:l:vh", check_options, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?' || c == ':') {
			fprintf(stderr,
				"upsim check: unknown or incomplete option: %s (try upsim "
				"check --help)\n",
				argv[optind - 1]);
			return -1;
		}
		if (parse_option(c, optarg, o) != 0)
			return -1;
	}
	o->files = argv + optind;
	o->n_files = argc - optind;
	const char *missing = !o->cfg.through	? "--through URL (the gateway)"
			      : !o->cfg.gateway ? "--gateway NAME (whose expectations)"
			      : o->n_files == 0 ? "a SCENARIO.json"
						: NULL;
	if (missing) {
		fprintf(stderr, "upsim check: missing %s (try upsim check --help)\n", missing);
		return -1;
	}
	if (!load_is_token(o->cfg.gateway)) {
		fprintf(stderr,
			"upsim check: --gateway %s: a name is a token such as "
			"\"edge-nginx\"\n",
			o->cfg.gateway);
		return -1;
	}
	return 0;
}

/* The gateway names of sc's expect blocks, for an error. */
static void names_of(const struct scenario *sc, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t b = 0; b < expect_sites(sc); b++) {
		const struct expect *e = expect_site_at(sc, b).expect;
		for (size_t g = 0; e && g < e->n_gateways; g++) {
			const char *name = e->gateways[g].gateway;
			char quoted[80];
			snprintf(quoted, sizeof quoted, "\"%s\"", name);
			if (strstr(buf, quoted) != NULL)
				continue;
			size_t used = strlen(buf);
			snprintf(buf + used, len - used, "%s%s", used ? ", " : "", quoted);
		}
	}
}

static bool has_blocks(const struct scenario *sc)
{
	for (size_t i = 0; i < expect_sites(sc); i++)
		if (expect_site_at(sc, i).expect != NULL)
			return true;
	return false;
}

/* Load every file and gather its probes; every problem is reported. */
static int gather(struct check_opts *o, struct check_probe **list, size_t *n)
{
	int rc = 0;
	for (int i = 0; i < o->n_files; i++) {
		struct upsim_err err = {0};
		struct scenario *sc = scenario_load_file_to(o->files[i], o->forward_to, &err);
		if (sc == NULL) {
			run_print_errors(&err);
			err_clear(&err);
			rc = -1;
			continue;
		}
		if (sc->dns != NULL && o->dns_listen == NULL)
			o->dns_listen = xstrdup(o->dns ? o->dns : sc->dns->listen);
		if (check_collect(&o->cfg, o->files[i], sc, list, n) == 0) {
			char names[512];
			names_of(sc, names, sizeof names);
			if (names[0])
				fprintf(stderr,
					"%s: no expect block names gateway \"%s\" (the file "
					"names %s; --record writes new ones)\n",
					o->files[i], o->cfg.gateway, names);
			else if (has_blocks(sc))
				fprintf(stderr,
					"%s: its expect blocks name no gateway yet (--record "
					"writes \"%s\")\n",
					o->files[i], o->cfg.gateway);
			else
				fprintf(stderr,
					"%s: no expect block: nothing to probe (see "
					"docs/scenarios.md 9.1)\n",
					o->files[i]);
			rc = -1;
		}
		scenario_unref(sc);
	}
	return rc;
}

/* The server part: upsim run's, quiet, on one loop. */
static struct app *serve(const struct check_opts *o, struct cli *run)
{
	char *argv[16] = {"upsim", "run"};
	int argc = 2;
	for (int i = 0; i < o->n_tls_args; i++)
		argv[argc++] = (char *)o->tls_args[i];
	argv[argc++] = o->files[0];
	char why[256];
	if (cli_parse(argc, argv, run, why, sizeof why) != 0) {
		fprintf(stderr, "upsim check: %s\n", why);
		return NULL;
	}
	run->listen = o->listen;
	run->quiet = true;
	run->backup_listen = o->cfg.backup_listen;
	run->forward_to = o->forward_to;
	run->dns_listen = o->dns_listen;
	run->files = o->files;
	int code;
	return run_app_start(run, &code);
}

static int report(const struct check_opts *o, const struct check_probe *list, size_t n)
{
	int rc = 0;
	report_text(o->json ? stderr : stdout, &o->cfg, list, n);
	if (o->json) {
		json_t *j = report_json(&o->cfg, list, n);
		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	}
	if (o->junit && report_junit(o->junit, &o->cfg, list, n) != 0) {
		fprintf(stderr, "upsim check: --junit %s: %s\n", o->junit, strerror(errno));
		rc = -1;
	}
	struct upsim_err err = {0};
	if (o->record && record_write(&o->cfg, list, n, &err) != 0) {
		run_print_errors(&err);
		rc = -1;
	}
	err_clear(&err);
	return rc;
}

/* Serve, probe, judge: the exit code. */
static int probe_all(struct check_opts *o, const struct curl_lib *lib, struct check_probe *list,
		     size_t n)
{
	struct cli run;
	struct app *app = serve(o, &run);
	if (app == NULL)
		return 2; /* said: the address is taken or invalid */
	struct curl_loop *curl = curl_loop_new(run_app_loop(app), lib);
	if (curl == NULL) {
		run_app_stop(app);
		return 1;
	}
	struct check_runner *r = check_runner_start(&o->cfg, run_app_loop(app), run_app_fleet(app),
						    curl, lib, list, n);
	int failed = loop_run(run_app_loop(app));
	bool done = check_runner_done(r);
	char *unreachable = check_runner_unreachable(r) ? xstrdup(check_runner_unreachable(r))
							: NULL;
	check_runner_free(r);
	curl_loop_free(curl);
	run_app_stop(app);
	if (unreachable != NULL) {
		fprintf(stderr, "upsim check: --through %s: the gateway cannot be reached: %s\n",
			o->cfg.through, unreachable);
		free(unreachable);
		return 1;
	}
	if (failed != 0 || !done) {
		fprintf(stderr, "upsim check: stopped before every probe had run\n");
		return 1;
	}
	int code = report(o, list, n) != 0 ? 1 : 0;
	return code == 0 && report_count(list, n).failed == 0 ? 0 : 1;
}

int check_main(int argc, char **argv)
{
	struct check_opts o;
	int parsed = parse(argc, argv, &o);
	if (parsed != 0) {
		if (parsed == 1)
			fputs(check_usage, stdout);
		return parsed == 1 ? 0 : 2;
	}
	log_set_level(o.verbose ? LOG_DEBUG : LOG_WARN);
	char prefix[48];
	snprintf(prefix, sizeof prefix, "upsim-check-%ld", (long)getpid());
	o.cfg.id_prefix = prefix;
	struct check_probe *list = NULL;
	size_t n = 0;
	int code = 2;
	if (gather(&o, &list, &n) != 0)
		goto out;
	if (o.shuffle)
		check_shuffle(list, n, o.shuffle_seed);
	const char *why = NULL;
	const struct curl_lib *lib = curl_lib(&why);
	char reason[CURL_ERROR_SIZE + 64];
	code = 1;
	if (lib == NULL) {
		fprintf(stderr, "upsim check: libcurl is needed: %s\n", why);
		goto out;
	}
	lib->global_init(CURL_GLOBAL_DEFAULT);
	/* With --gateway-wait the gateway may come after upsim: the runner
	 * asks it once upsim serves. */
	if (o.cfg.gateway_wait_ms == 0
	    && probe_reachable(lib, o.cfg.through, reason, sizeof reason) != 0)
		fprintf(stderr, "upsim check: --through %s: the gateway cannot be reached: %s\n",
			o.cfg.through, reason);
	else
		code = probe_all(&o, lib, list, n);
	lib->global_cleanup();
out:
	check_probes_free(list, n);
	free(o.dns_listen);
	return code;
}

#include "record_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/units.h"
#include "cli.h"
#include "engine/baseline.h"
#include "net/exchange.h"
#include "net/forward.h"
#include "net/loop.h"
#include "run.h"
#include "scenario/load.h"

const char record_usage[] =
	"Usage: upsim record --upstream URL --out FILE [OPTIONS]\n"
	"\n"
	"Pass every request through to the real service at URL (forward mode), and\n"
	"when stopped (SIGINT, SIGTERM, or after --count answers) write FILE: a\n"
	"scenario with one rule per method and path that answers what the service\n"
	"answered the first time that method and path was asked (later answers are\n"
	"counted, not kept). Status and headers as they came, minus hop-by-hop\n"
	"headers and Set-Cookie; the body inline when it is UTF-8 text of at most\n"
	"--inline-max bytes, otherwise in FILE.bodies/NNN.bin (or .txt) referenced\n"
	"by \"body_file\". `upsim run FILE` then replays the same bytes.\n"
	"\n"
	"  -u, --upstream URL         the real service: http://host:port\n"
	"  -o, --out FILE             the scenario to write\n"
	"  -l, --listen ADDR:PORT     where clients connect (default 127.0.0.1:8080;\n"
	"                             port 0 = a free port)\n"
	"      --keep-secrets         keep Set-Cookie headers in the recording\n"
	"      --inline-max SIZE      the largest body written inline (default 4KiB)\n"
	"      --count N              stop after N answers from the service\n"
	"      --ready-file FILE      also write the ready line to FILE\n"
	"  -v, --verbose              log debug details\n"
	"\n"
	"When ready, record prints the ready line of upsim run on stdout:\n"
	"  "
	"{\"event\":\"ready\",\"listen\":\"127.0.0.1:40123\",\"pid\":...,\"scenario\":\"record\",.."
	".}\n"
	"A request the service does not answer gets a 502 and is not recorded.\n"
	"Exit codes: 0 written, 1 runtime failure, 2 usage error.\n"
	"More: docs/forwarding.md (Recording a baseline).\n";

struct record_opts {
	const char *upstream;
	const char *out;
	const char *listen;
	const char *ready_file;
	bool keep_secrets;
	bool verbose;
	uint64_t inline_max;
	uint64_t count; /* 0: until a signal */
};

enum {
	OPT_KEEP_SECRETS = 256,
	OPT_INLINE_MAX,
	OPT_COUNT,
	OPT_READY_FILE,
};

static const struct option record_options[] = {
	{"upstream", required_argument, NULL, 'u'},
	{"out", required_argument, NULL, 'o'},
	{"listen", required_argument, NULL, 'l'},
	{"keep-secrets", no_argument, NULL, OPT_KEEP_SECRETS},
	{"inline-max", required_argument, NULL, OPT_INLINE_MAX},
	{"count", required_argument, NULL, OPT_COUNT},
	{"ready-file", required_argument, NULL, OPT_READY_FILE},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int parse_option(int c, const char *arg, struct record_opts *o)
{
	const char *why = NULL;
	char *end;
	switch (c) {
	case 'u': o->upstream = arg; return 0;
	case 'o': o->out = arg; return 0;
	case 'l': o->listen = arg; return 0;
	case 'v': o->verbose = true; return 0;
	case OPT_KEEP_SECRETS: o->keep_secrets = true; return 0;
	case OPT_READY_FILE: o->ready_file = arg; return 0;
	case OPT_INLINE_MAX:
		if (units_parse_size(arg, &o->inline_max, &why) == 0
		    && o->inline_max <= SCENARIO_MAX_FILE_BYTES / 2)
			return 0;
		fprintf(stderr, "upsim record: --inline-max %s: %s\n", arg,
			why ? why : "at most 8MiB (a scenario file holds 16 MiB)");
		return -1;
	case OPT_COUNT:
		errno = 0;
		o->count = strtoull(arg, &end, 10);
		if (*arg >= '1' && *arg <= '9' && *end == '\0' && errno == 0)
			return 0;
		fprintf(stderr, "upsim record: --count %s: expected a number from 1\n", arg);
		return -1;
	}
	return -1;
}

/* 0, 1 for --help, -1 on a usage error (said on stderr). */
static int parse(int argc, char **argv, struct record_opts *o)
{
	*o = (struct record_opts){
		.listen = "127.0.0.1:8080",
		.inline_max = BASELINE_INLINE_MAX_DEFAULT,
	};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+u:o:l:vh", record_options, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?' || c == ':') {
			fprintf(stderr,
				"upsim record: unknown or incomplete option: %s (try upsim "
				"record --help)\n",
				argv[optind - 1]);
			return -1;
		}
		if (parse_option(c, optarg, o) != 0)
			return -1;
	}
	const char *missing = !o->upstream ? "--upstream URL (the real service)"
			      : !o->out	   ? "--out FILE (the scenario to write)"
					   : NULL;
	if (missing) {
		fprintf(stderr, "upsim record: missing %s (try upsim record --help)\n", missing);
		return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "upsim record: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	const char *why = load_upstream_url_problem(o->upstream);
	if (why != NULL) {
		fprintf(stderr, "upsim record: --upstream %s: %s\n", o->upstream, why);
		return -1;
	}
	return 0;
}

/* A recording that cannot be written is found out now, not after an
 * hour of traffic. */
static int check_writable(const char *out)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", out);
	FILE *f = fopen(tmp, "wb");
	if (f == NULL) {
		fprintf(stderr, "upsim record: --out %s: cannot write %s: %s\n", out, tmp,
			strerror(errno));
		return -1;
	}
	fclose(f);
	remove(tmp);
	return 0;
}

struct recorder {
	struct baseline *baseline;
	struct loop *loop; /* stopped after count answers; NULL once stopped */
	uint64_t count, seen;
};

/* Every answer of the service, as its exchange completes (one thread:
 * record serves on one loop, so the baseline needs no lock). */
static void capture(void *arg, const char *method, const char *path, const struct forward_result *r)
{
	struct recorder *rec = arg;
	int added = baseline_add(rec->baseline, method, path, r->status, r->headers, r->n_headers,
				 r->body, r->body_len);
	log_debug("record: %s %s %d (%s)", method, path, r->status,
		  added == 1   ? "a new rule"
		  : added == 0 ? "seen before"
			       : "not recordable");
	rec->seen++;
	if (rec->count > 0 && rec->seen == rec->count && rec->loop != NULL) {
		log_info("stopping after %" PRIu64 " answers (--count)", rec->count);
		loop_stop(rec->loop);
	}
}

/* The forwarding scenario record serves: everything passes through, and
 * a failing service shows as a 502 rather than a reset. */
static char *pass_through(const char *upstream)
{
	json_t *doc = json_pack("{si,ss,ss,s{sb,si}}", "upsim", SCENARIO_FORMAT, "name", "record",
				"upstream", upstream, "defaults", "forward", 1, "on_upstream_error",
				502);
	char *text = json_dumps(doc, 0);
	json_decref(doc);
	return text;
}

static void summary(const struct record_opts *o, const struct baseline *b)
{
	struct baseline_counts n = baseline_counts(b);
	fprintf(stderr,
		"upsim record: wrote %s: %zu rules from %" PRIu64 " answers (%" PRIu64
		" repeats of a method and path not kept, %" PRIu64 " not recordable), %" PRIu64
		" secret headers and %" PRIu64 " unusable headers dropped, %zu bodies in "
		"%s.bodies/\n",
		o->out, n.rules, n.answers, n.repeats, n.unusable, n.secrets, n.bad_headers,
		n.body_files, o->out);
	if (n.rules == 0)
		log_warn("record: no answer was recorded: %s has no rules", o->out);
}

/* Serve until stopped, then write: the exit code. */
static int record(const struct record_opts *o)
{
	struct baseline_opts bo = {
		.upstream = o->upstream,
		.inline_max = (size_t)o->inline_max,
		.keep_secrets = o->keep_secrets,
	};
	struct recorder rec = {.baseline = baseline_new(&bo), .count = o->count};
	struct exchange_capture hook = {.fn = capture, .arg = &rec};
	char *text = pass_through(o->upstream);
	char *argv[] = {"upsim", "run", "<record>", NULL};
	char why[256];
	struct cli run;
	cli_parse(3, argv, &run, why, sizeof why);
	run.listen = o->listen;
	run.ready_file = o->ready_file;
	run.verbose = o->verbose;
	run.scenario_text = text;
	run.capture = &hook;
	int code;
	struct app *app = run_app_start(&run, &code);
	if (app != NULL) {
		rec.loop = run_app_loop(app);
		code = loop_run(rec.loop) == 0 ? 0 : 1;
		rec.loop = NULL; /* exchanges completing at shutdown still count */
		run_app_stop(app);
		if (baseline_write(rec.baseline, o->out, why, sizeof why) != 0) {
			fprintf(stderr, "upsim record: %s\n", why);
			code = 1;
		} else {
			summary(o, rec.baseline);
		}
	}
	baseline_free(rec.baseline);
	free(text);
	return code;
}

int record_main(int argc, char **argv)
{
	struct record_opts o;
	int parsed = parse(argc, argv, &o);
	if (parsed != 0) {
		if (parsed == 1)
			fputs(record_usage, stdout);
		return parsed == 1 ? 0 : 2;
	}
	log_set_level(o.verbose ? LOG_DEBUG : LOG_INFO);
	if (check_writable(o.out) != 0)
		return 1;
	return record(&o);
}

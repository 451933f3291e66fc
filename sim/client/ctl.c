#include "client/ctl.h"

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "net/curl_lib.h"

const char ctl_usage[] =
	"Usage: upsim ctl [OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  status                 what is served: scenario, phase, listeners, counts\n"
	"  stats                  counters per rule, action, fault and outcome\n"
	"  load FILE              validate FILE and swap it in (\"-\": stdin)\n"
	"  phase NAME             jump to the phase called NAME\n"
	"  reset                  zero counters, clear the journal, restart sequences\n"
	"  renew [TTL]            push back the drill expiry (--drill-ttl)\n"
	"  journal [--since ID] [--limit N]\n"
	"                         journal records, one JSON line each\n"
	"  metrics                the Prometheus exposition\n"
	"  healthz                \"ok\" when the admin API answers\n"
	"\n"
	"Options:\n"
	"  -a, --admin ADDR:PORT  the admin API (default: $UPSIM_ADMIN)\n"
	"  -r, --ready-file FILE  read the admin address from upsim's ready file\n"
	"  -t, --token TOKEN      bearer token (default: $UPSIM_ADMIN_TOKEN)\n"
	"  -u, --upstream NAME    the fleet member status, stats, load and phase\n"
	"                         are about (default: the first)\n"
	"\n"
	"Exit codes: 0 the API said yes (2xx), 1 it said no or did not answer\n"
	"(the error goes to stderr), 2 usage error.\n";

struct buffer {
	char *data;
	size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *arg)
{
	struct buffer *b = arg;
	size_t add = size * n;
	b->data = xrealloc(b->data, b->len + add + 1);
	memcpy(b->data + b->len, ptr, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}

int ctl_request(const char *addr, const char *token, const char *method, const char *path,
		const char *body, size_t body_len, long *status, char **response)
{
	const char *why;
	const struct curl_lib *cl = curl_lib(&why);
	if (cl == NULL) {
		*response = xasprintf("cannot load libcurl: %s", why);
		return -1;
	}
	CURL *curl = cl->easy_init();
	struct buffer out = {xcalloc(1, 1), 0};
	struct curl_slist *headers = NULL;
	char *url = xasprintf("http://%s%s", addr, path);
	char *auth = token ? xasprintf("Authorization: Bearer %s", token) : NULL;
	if (auth)
		headers = cl->slist_append(headers, auth);
	if (body) {
		headers = cl->slist_append(headers, "Content-Type: application/json");
		cl->easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		cl->easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	cl->easy_setopt(curl, CURLOPT_URL, url);
	cl->easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	cl->easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	cl->easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	cl->easy_setopt(curl, CURLOPT_WRITEDATA, &out);
	cl->easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	cl->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	cl->easy_setopt(curl, CURLOPT_NOPROXY, "*");
	CURLcode rc = cl->easy_perform(curl);
	if (rc == CURLE_OK) {
		cl->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
		*response = out.data;
	} else {
		free(out.data);
		*response = xasprintf("%s: %s", url, cl->easy_strerror(rc));
	}
	cl->slist_free_all(headers);
	cl->easy_cleanup(curl);
	free(auth);
	free(url);
	return rc == CURLE_OK ? 0 : -1;
}

struct ctl_opts {
	const char *admin, *ready_file, *token, *upstream;
	const char *since, *limit;
};

/* The "admin" field of a ready file's line. */
static char *admin_from_ready_file(const char *path)
{
	json_error_t je;
	json_t *o = json_load_file(path, JSON_DISABLE_EOF_CHECK, &je);
	const char *a = json_string_value(json_object_get(o, "admin"));
	char *addr = a ? xstrdup(a) : NULL;
	if (o == NULL)
		fprintf(stderr, "upsim ctl: %s\n", je.text);
	else if (addr == NULL)
		fprintf(stderr,
			"upsim ctl: %s: no admin address (was upsim started "
			"with --admin?)\n",
			path);
	json_decref(o);
	return addr;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct buffer b = {xcalloc(1, 1), 0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		on_data(chunk, 1, n, &b);
	if (f != stdin)
		fclose(f);
	*len = b.len;
	return b.data;
}

/* Print the journal answer as one JSON line per record. */
static void print_journal(const char *text)
{
	json_t *o = json_loads(text, 0, NULL);
	json_t *records = json_object_get(o, "records"), *r;
	size_t i;
	json_array_foreach(records, i, r)
	{
		char *line = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER
						   | JSON_REAL_PRECISION(10));
		puts(line);
		free(line);
	}
	json_int_t missed = json_integer_value(json_object_get(o, "missed"));
	if (missed > 0)
		fprintf(stderr,
			"upsim ctl: %lld records fell out of the journal ring "
			"before they were read\n",
			(long long)missed);
	json_decref(o);
}

/* A command's request: method, path and body. */
struct call;
static void print_error(const struct call *c, long status, const char *text);

struct call {
	const char *method;
	char *path;
	char *body;
	size_t body_len;
	bool journal;
};

static char *json_body(json_t *o, size_t *len)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	*len = strlen(s);
	return s;
}

static int simple_get(struct call *c, const char *path)
{
	c->method = "GET";
	c->path = xstrdup(path);
	return 0;
}

static int build_call(const char *cmd, int argc, char **argv, const struct ctl_opts *o,
		      struct call *c)
{
	if (strcmp(cmd, "status") == 0 && argc == 0)
		return simple_get(c, "/v1/status");
	if (strcmp(cmd, "stats") == 0 && argc == 0)
		return simple_get(c, "/v1/stats");
	if (strcmp(cmd, "metrics") == 0 && argc == 0)
		return simple_get(c, "/metrics");
	if (strcmp(cmd, "healthz") == 0 && argc == 0)
		return simple_get(c, "/healthz");
	c->method = "POST";
	if (strcmp(cmd, "reset") == 0 && argc == 0) {
		c->path = xstrdup("/v1/reset");
		return 0;
	}
	if (strcmp(cmd, "phase") == 0 && argc == 1) {
		c->path = xstrdup("/v1/phase");
		c->body = json_body(json_pack("{s:s}", "phase", argv[0]), &c->body_len);
		return c->body ? 0 : -1;
	}
	if (strcmp(cmd, "renew") == 0 && argc <= 1) {
		c->path = xstrdup("/v1/renew");
		c->body = json_body(argc ? json_pack("{s:s}", "ttl", argv[0]) : json_object(),
				    &c->body_len);
		return c->body ? 0 : -1;
	}
	if (strcmp(cmd, "load") == 0 && argc == 1) {
		c->method = "PUT";
		c->path = xstrdup("/v1/scenario");
		c->body = read_file(argv[0], &c->body_len);
		if (c->body == NULL)
			perror(argv[0]);
		return c->body ? 0 : 1;
	}
	if (strcmp(cmd, "journal") == 0 && argc == 0) {
		c->method = "GET";
		c->journal = true;
		c->path = xasprintf("/v1/journal?since=%s&limit=%s", o->since ? o->since : "0",
				    o->limit ? o->limit : "10000");
		return 0;
	}
	return -1;
}

/* ?upstream=NAME (escaped) on the request's path. */
static void add_upstream(const struct curl_lib *cl, struct call *c, const char *name)
{
	CURL *curl = cl->easy_init();
	char *esc = cl->easy_escape(curl, name, 0);
	char *path = xasprintf("%s%cupstream=%s", c->path, strchr(c->path, '?') ? '&' : '?', esc);
	cl->free(esc);
	cl->easy_cleanup(curl);
	free(c->path);
	c->path = path;
}

static int parse_ctl_options(int argc, char **argv, struct ctl_opts *o)
{
	static const struct option opts[] = {
		{"admin", required_argument, NULL, 'a'},
		{"ready-file", required_argument, NULL, 'r'},
		{"token", required_argument, NULL, 't'},
		{"upstream", required_argument, NULL, 'u'},
		{"since", required_argument, NULL, 's'},
		{"limit", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	opterr = 0;
	optind = 1;
	/* Options may follow the command (upsim ctl journal --since 5). */
	while ((c = getopt_long(argc, argv, "a:r:t:u:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': o->admin = optarg; break;
		case 'r': o->ready_file = optarg; break;
		case 't': o->token = optarg; break;
		case 'u': o->upstream = optarg; break;
		case 's': o->since = optarg; break;
		case 'n': o->limit = optarg; break;
		case 'h': return 1;
		default:
			fprintf(stderr, "upsim ctl: unknown or incomplete option: %s\n",
				argv[optind - 1]);
			return -1;
		}
	}
	return 0;
}

/* "upsim ctl: POST /v1/phase: HTTP 404: MESSAGE", then one line per
 * error of an invalid scenario. */
static void print_error(const struct call *c, long status, const char *text)
{
	json_t *o = json_loads(text, 0, NULL);
	const char *msg = json_string_value(json_object_get(o, "error"));
	fprintf(stderr, "upsim ctl: %s %s: HTTP %ld: %s\n", c->method, c->path, status,
		msg ? msg : text);
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(o, "errors"), i, e)
		fprintf(stderr, "%s\n", json_string_value(e));
	json_decref(o);
}

static int perform(const char *addr, const char *token, const struct call *c)
{
	long status = 0;
	char *text = NULL;
	if (ctl_request(addr, token, c->method, c->path, c->body, c->body_len, &status, &text)
	    != 0) {
		fprintf(stderr, "upsim ctl: %s\n", text);
		free(text);
		return 1;
	}
	bool ok = status >= 200 && status < 300;
	if (ok && c->journal)
		print_journal(text);
	else if (ok)
		fputs(text, stdout);
	else
		print_error(c, status, text);
	free(text);
	return ok ? 0 : 1;
}

int ctl_main(int argc, char **argv)
{
	/* getopt wants a program name in argv[0]. */
	char **args = xcalloc((size_t)argc + 2, sizeof *args);
	args[0] = "upsim ctl";
	memcpy(args + 1, argv, (size_t)argc * sizeof *args);
	struct ctl_opts o = {0};
	int rc = parse_ctl_options(argc + 1, args, &o);
	if (rc != 0 || optind >= argc + 1) {
		fputs(ctl_usage, rc == 1 ? stdout : stderr);
		free(args);
		return rc == 1 ? 0 : 2;
	}
	const char *cmd = args[optind];
	struct call c = {0};
	rc = build_call(cmd, argc + 1 - optind - 1, args + optind + 1, &o, &c);
	char *addr = o.ready_file ? admin_from_ready_file(o.ready_file)
				  : xstrdup(o.admin		    ? o.admin
					    : getenv("UPSIM_ADMIN") ? getenv("UPSIM_ADMIN")
								    : "");
	if (rc < 0)
		fprintf(stderr,
			"upsim ctl: unknown command or wrong arguments: %s "
			"(try upsim ctl --help)\n",
			cmd);
	else if (rc == 0 && addr == NULL)
		rc = 1; /* the ready file said why */
	else if (rc == 0 && addr[0] == '\0') {
		fprintf(stderr, "upsim ctl: no admin address: give --admin, --ready-file "
				"or set UPSIM_ADMIN\n");
		rc = -1;
	} else if (rc == 0) {
		const char *token = o.token ? o.token : getenv("UPSIM_ADMIN_TOKEN");
		const char *why;
		const struct curl_lib *cl = curl_lib(&why);
		if (cl == NULL) {
			fprintf(stderr, "upsim ctl: cannot load libcurl: %s\n", why);
			rc = 1;
		} else {
			cl->global_init(CURL_GLOBAL_DEFAULT);
			if (o.upstream != NULL)
				add_upstream(cl, &c, o.upstream);
			rc = perform(addr, token && *token ? token : NULL, &c);
			cl->global_cleanup();
		}
	}
	free(addr);
	free(c.path);
	free(c.body);
	free(args);
	return rc < 0 ? 2 : rc;
}

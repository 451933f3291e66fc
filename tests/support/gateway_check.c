#include "gateway_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "base/err.h"
#include "base/xalloc.h"
#include "gateway.h"
#include "proc.h"
#include "scenario/dns.h"
#include "scenario/model.h"

/* Does file's scenario answer DNS (so the gateway resolves through it),
 * does it forward to a real service? */
static void scenario_needs(const char *file, bool *dns, bool *forwards)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file(file, &err);
	*dns = sc != NULL && sc->dns != NULL;
	*forwards = sc != NULL && scenario_forwards(sc);
	scenario_unref(sc);
	err_clear(&err);
}

/* The real service of a forwarding scenario (scenarios/staging-drill.json):
 * nginx serving these files, each a few lines of text, so that a cut
 * body (truncate at offset 100) is a cut and a whole one is recognisable. */
static const struct {
	const char *path;
	size_t size;
} site[] = {
	{"index.html", 300}, {"api/checkout", 2000}, {"api/orders", 600},
	{"api/search", 600}, {"reports/daily", 600}, {"inventory/items", 600},
};

static int start_backend(struct backend *b)
{
	if (backend_prepare(b) != 0)
		return -1;
	for (size_t i = 0; i < sizeof site / sizeof site[0]; i++) {
		char *text = xmalloc(site[i].size);
		for (size_t k = 0; k < site[i].size; k++)
			text[k] = (k + 1) % 50 == 0 ? '\n' : "staging service, real bytes "[k % 28];
		int rc = backend_put(b, site[i].path, text, site[i].size);
		free(text);
		if (rc != 0) {
			backend_stop(b);
			return -1;
		}
	}
	return backend_start(b, 10000);
}

void gateway_check_run(const char *file, const char *gateway, bool with_backup, const char *extra,
		       struct gateway_check *out)
{
	*out = (struct gateway_check){.code = -1};
	char upstream[64], backup[64], dns[64], through[64], warm[32], settle[32];
	snprintf(upstream, sizeof upstream, "127.0.0.1:%d", gateway_free_port());
	snprintf(backup, sizeof backup, "127.0.0.1:%d", gateway_free_port());
	snprintf(dns, sizeof dns, "127.0.0.1:%d", gateway_free_port());
	bool resolves, forwards;
	scenario_needs(file, &resolves, &forwards);
	struct backend real = {0};
	if (forwards && start_backend(&real) != 0) {
		out->why = xstrdup("the nginx backend (the real service) did not start");
		out->err = xstrdup("");
		return;
	}
	struct gateway g;
	if (gateway_start(&g, gateway, upstream, with_backup ? backup : NULL, resolves ? dns : NULL,
			  10000)
	    != 0) {
		out->why = xasprintf("%s did not start", gateway);
		out->err = xstrdup("");
		backend_stop(&real);
		return;
	}
	snprintf(through, sizeof through, "http://127.0.0.1:%d", g.port);
	snprintf(warm, sizeof warm, "%dms", gateway_warm_ms(gateway) + 1);
	const char *args[24] = {"check",     "--through", through,	   "--gateway",
				gateway,     "--listen",  upstream,	   "--gateway-log",
				g.error_log, "--json",	  "--start-delay", warm};
	size_t n = 12;
	if (resolves) {
		snprintf(settle, sizeof settle, "%dms", gateway_dns_settle_ms(gateway));
		args[n++] = "--dns";
		args[n++] = dns;
		args[n++] = "--dns-settle";
		args[n++] = settle;
	}
	if (forwards) {
		args[n++] = "--forward-to";
		args[n++] = real.url;
	}
	if (with_backup) {
		args[n++] = "--backup";
		args[n++] = backup;
	}
	if (extra != NULL)
		args[n++] = extra;
	args[n++] = file;
	args[n] = NULL;
	char *json_text;
	out->code = upsim_run_capture(args, GATEWAY_CHECK_MS, &json_text, &out->err);
	gateway_stop(&g, 5000);
	backend_stop(&real);
	out->result = json_loads(json_text, 0, NULL);
	free(json_text);
}

void gateway_check_free(struct gateway_check *c)
{
	json_decref(c->result);
	free(c->err);
	free(c->why);
	memset(c, 0, sizeof *c);
}

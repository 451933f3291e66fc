#include "gateway_check.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "base/err.h"
#include "base/xalloc.h"
#include "gateway.h"
#include "proc.h"
#include "scenario/dns.h"
#include "scenario/model.h"
#include "wire.h"

/* The longest the gateway of a TLS scenario may take to come up once
 * upsim has written its CA (upsim check --gateway-wait), and the longest
 * upsim check may take to write it. */
#define TLS_GATEWAY_WAIT_MS 10000

/* Does file's scenario answer DNS (so the gateway resolves through it),
 * does it forward to a real service, is it served over TLS? */
static void scenario_needs(const char *file, bool *dns, bool *forwards, bool *tls)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file(file, &err);
	char where[64];
	*dns = sc != NULL && sc->dns != NULL;
	*forwards = sc != NULL && scenario_forwards(sc);
	*tls = sc != NULL && scenario_uses_tls(sc, where, sizeof where);
	scenario_unref(sc);
	err_clear(&err);
}

/* Wait until upsim check has written path (renamed into place whole), or
 * has exited, or timeout_ms has passed: 0 when the file is there. */
static int wait_for_file(const char *path, const struct upsim_proc *p, int timeout_ms)
{
	double deadline = wire_now_ms() + timeout_ms;
	while (access(path, R_OK) != 0) {
		if (upsim_exited(p) || wire_now_ms() >= deadline)
			return -1;
		poll(NULL, 0, 5);
	}
	return 0;
}

/* A scenario served over TLS: the gateway must trust the CA upsim makes
 * when it starts serving, so upsim check goes first (its args carry
 * --tls-ca-out and --gateway-wait), the gateway's config is rendered with
 * @CA@ once the file is there, and upsim check then finds the gateway up.
 * g is prepared; it is stopped here. */
static void run_after_upsim(struct gateway *g, const struct gateway_setup *setup,
			    const char *const *args, struct gateway_check *out, char **json_text)
{
	struct upsim_proc p;
	upsim_spawn_capture(&p, args);
	if (wait_for_file(setup->ca, &p, TLS_GATEWAY_WAIT_MS) != 0
	    || gateway_launch(g, setup, TLS_GATEWAY_WAIT_MS) != 0) {
		out->why = xasprintf("%s (tests/gateways/%s) did not start with upsim's CA",
				     g->name, setup->config);
		/* upsim check's own words (stopped if still running) */
		char *ignored;
		upsim_join_capture(&p, 0, &ignored, &out->err);
		free(ignored);
		gateway_stop(g, 5000);
		return;
	}
	out->code = upsim_join_capture(&p, GATEWAY_CHECK_MS, json_text, &out->err);
	gateway_stop(g, 5000);
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
	char upstream[64], backup[64], dns[64], through[64], warm[32], settle[32], config[64];
	char ca[192], wait[32];
	snprintf(upstream, sizeof upstream, "127.0.0.1:%d", gateway_free_port());
	snprintf(backup, sizeof backup, "127.0.0.1:%d", gateway_free_port());
	snprintf(dns, sizeof dns, "127.0.0.1:%d", gateway_free_port());
	bool resolves, forwards, tls;
	scenario_needs(file, &resolves, &forwards, &tls);
	/* Over TLS, gateway is an expect name (nginx-noverify): its config
	 * says which gateway runs it. */
	const struct gateway_tls *tls_config = tls ? gateway_tls_config(gateway) : NULL;
	if (tls && tls_config == NULL) {
		out->why = xasprintf("%s has no config speaking TLS to its upstream", gateway);
		out->err = xstrdup("");
		return;
	}
	struct backend real = {0};
	if (forwards && start_backend(&real) != 0) {
		out->why = xstrdup("the nginx backend (the real service) did not start");
		out->err = xstrdup("");
		return;
	}
	struct gateway g;
	if (gateway_prepare(&g, tls ? tls_config->gateway : gateway) != 0) {
		out->why = xasprintf("%s: no folder or port for it", gateway);
		out->err = xstrdup("");
		backend_stop(&real);
		return;
	}
	snprintf(config, sizeof config, "%s%s", gateway, resolves ? "-dns" : "");
	snprintf(ca, sizeof ca, "%s/ca.pem", g.dir);
	struct gateway_setup setup = {
		.config = tls ? tls_config->config : config,
		.upstream = upstream,
		.upstream2 = with_backup ? backup : NULL,
		.dns = resolves ? dns : NULL,
		.ca = tls ? ca : NULL,
	};
	snprintf(through, sizeof through, "http://127.0.0.1:%d", g.port);
	/* The TLS configs have no health checks to warm up. */
	snprintf(warm, sizeof warm, "%dms", tls ? 1 : gateway_warm_ms(gateway) + 1);
	const char *args[32] = {"check",     "--through", through,	   "--gateway",
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
	if (tls) {
		snprintf(wait, sizeof wait, "%dms", TLS_GATEWAY_WAIT_MS);
		const char *more[] = {"--tls", "auto", "--tls-ca-out", ca, "--gateway-wait", wait};
		for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
			args[n++] = more[i];
	}
	if (extra != NULL)
		args[n++] = extra;
	args[n++] = file;
	args[n] = NULL;
	char *json_text = NULL;
	if (tls) {
		run_after_upsim(&g, &setup, args, out, &json_text);
	} else if (gateway_launch(&g, &setup, 10000) != 0) {
		out->why = xasprintf("%s did not start", gateway);
		out->err = xstrdup("");
	} else {
		out->code = upsim_run_capture(args, GATEWAY_CHECK_MS, &json_text, &out->err);
		gateway_stop(&g, 5000);
	}
	backend_stop(&real);
	out->result = json_text ? json_loads(json_text, 0, NULL) : NULL;
	free(json_text);
}

void gateway_check_free(struct gateway_check *c)
{
	json_decref(c->result);
	free(c->err);
	free(c->why);
	memset(c, 0, sizeof *c);
}

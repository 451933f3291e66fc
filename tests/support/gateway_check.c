#include "gateway_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "gateway.h"
#include "proc.h"
#include "scenario/dns.h"
#include "scenario/model.h"

/* Does file's scenario answer DNS (so the gateway resolves through it)? */
static bool scenario_has_dns(const char *file)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file(file, &err);
	bool dns = sc != NULL && sc->dns != NULL;
	scenario_unref(sc);
	err_clear(&err);
	return dns;
}

void gateway_check_run(const char *file, const char *gateway, bool with_backup, const char *extra,
		       struct gateway_check *out)
{
	*out = (struct gateway_check){.code = -1};
	char upstream[64], backup[64], dns[64], through[64], warm[32], settle[32];
	snprintf(upstream, sizeof upstream, "127.0.0.1:%d", gateway_free_port());
	snprintf(backup, sizeof backup, "127.0.0.1:%d", gateway_free_port());
	snprintf(dns, sizeof dns, "127.0.0.1:%d", gateway_free_port());
	bool resolves = scenario_has_dns(file);
	struct gateway g;
	if (gateway_start(&g, gateway, upstream, with_backup ? backup : NULL, resolves ? dns : NULL,
			  10000)
	    != 0) {
		out->why = xasprintf("%s did not start", gateway);
		out->err = xstrdup("");
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

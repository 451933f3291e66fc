#include "gateway_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "gateway.h"
#include "proc.h"

void gateway_check_run(const char *file, const char *gateway, bool with_backup, const char *extra,
		       struct gateway_check *out)
{
	*out = (struct gateway_check){.code = -1};
	char upstream[64], backup[64], through[64], warm[32];
	snprintf(upstream, sizeof upstream, "127.0.0.1:%d", gateway_free_port());
	snprintf(backup, sizeof backup, "127.0.0.1:%d", gateway_free_port());
	struct gateway g;
	if (gateway_start(&g, gateway, upstream, with_backup ? backup : NULL, 10000) != 0) {
		out->why = xasprintf("%s did not start", gateway);
		out->err = xstrdup("");
		return;
	}
	snprintf(through, sizeof through, "http://127.0.0.1:%d", g.port);
	snprintf(warm, sizeof warm, "%dms", gateway_warm_ms(gateway) + 1);
	const char *args[20] = {"check",     "--through", through,	   "--gateway",
				gateway,     "--listen",  upstream,	   "--gateway-log",
				g.error_log, "--json",	  "--start-delay", warm};
	size_t n = 12;
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

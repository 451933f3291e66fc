#include "control/ready.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"

/* A fleet's members, in the ready line. */
static json_t *upstreams_json(const struct fleet *fleet)
{
	json_t *list = json_array();
	for (size_t i = 0; i < fleet->n; i++) {
		const struct upstream *m = &fleet->members[i];
		json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "name", m->name, "listen",
						      upstream_address(m), "scenario",
						      upstream_scenario(m)->name));
	}
	return list;
}

static char *ready_line(const struct fleet *fleet, const char *admin)
{
	const struct upstream *first = &fleet->members[0];
	json_t *o = json_pack("{s:s, s:s, s:s?, s:I, s:s, s:s}", "event", "ready", "listen",
			      upstream_address(first), "admin", admin, "pid", (json_int_t)getpid(),
			      "scenario", upstream_scenario(first)->name, "version", UPSIM_VERSION);
	if (first->name != NULL)
		json_object_set_new(o, "upstreams", upstreams_json(fleet));
	if (first->dns_address != NULL)
		json_object_set_new(o, "dns", json_string(first->dns_address));
	if (first->tls) /* the listeners speak HTTPS */
		json_object_set_new(o, "tls", json_true());
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return line;
}

/* Write the ready line to a temporary file and rename it in place, so a
 * harness polling for the file never reads half a line. */
static int write_ready_file(const char *path, const char *line)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	int ok = f != NULL && fprintf(f, "%s\n", line) > 0;
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	if (ok && rename(tmp, path) != 0)
		ok = 0;
	if (!ok) {
		log_error("cannot write ready file %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}

int ready_announce(const struct fleet *fleet, const char *admin, const char *ready_file)
{
	char *line = ready_line(fleet, admin);
	/* The file first: a harness that saw the stdout line may look for it. */
	int rc = ready_file ? write_ready_file(ready_file, line) : 0;
	if (rc == 0) {
		printf("%s\n", line);
		fflush(stdout);
	}
	for (size_t i = 0; i < fleet->n; i++) {
		const struct upstream *m = &fleet->members[i];
		log_info("serving \"%s\"%s%s on %s", upstream_scenario(m)->name,
			 m->name ? " as upstream " : "", m->name ? m->name : "",
			 upstream_address(m));
		if (m->dns_address != NULL)
			log_info("DNS server of \"%s\" on %s (UDP and TCP)",
				 upstream_scenario(m)->name, m->dns_address);
	}
	if (admin != NULL)
		log_info("admin API on %s", admin);
	free(line);
	return rc;
}

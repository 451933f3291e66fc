#include "journal_read.h"

#include <jansson.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "client/ctl.h"
#include "wire.h"

static json_t *get_json(const struct upsim_proc *p, const char *path)
{
	long status = 0;
	char *text = NULL;
	if (p->admin[0] == '\0' ||
	    ctl_request(p->admin, NULL, "GET", path, NULL, 0, &status, &text) != 0 ||
	    status != 200) {
		free(text);
		return NULL;
	}
	json_t *o = json_loads(text, 0, NULL);
	free(text);
	return o;
}

static int idle(const struct upsim_proc *p)
{
	json_t *s = get_json(p, "/v1/status");
	json_t *c = json_object_get(s, "connections");
	int yes = c && json_integer_value(json_object_get(c, "open")) == 0 &&
		  json_integer_value(json_object_get(c, "held_at_accept")) == 0;
	json_decref(s);
	return s == NULL ? -1 : yes;
}

int upsim_wait_idle(const struct upsim_proc *p, int timeout_ms)
{
	double deadline = wire_now_ms() + timeout_ms;
	for (;;) {
		int yes = idle(p);
		if (yes != 0)
			return yes == 1 ? 0 : -1;
		if (wire_now_ms() >= deadline)
			return -1;
		poll(NULL, 0, 20); /* polling a status, not waiting for luck */
	}
}

long upsim_count_attempts(const struct upsim_proc *p, const char *path,
			  int with_connections)
{
	json_t *o = get_json(p, "/v1/journal?since=0&limit=10000");
	if (o == NULL)
		return -1;
	long n = 0;
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(o, "records"), i, r) {
		const char *kind = json_string_value(json_object_get(r, "kind"));
		const char *rpath = json_string_value(json_object_get(r, "path"));
		if (kind && strcmp(kind, "request") == 0 && rpath && strcmp(rpath, path) == 0)
			n++;
		else if (with_connections && kind && strcmp(kind, "connection") == 0)
			n++;
	}
	json_decref(o);
	return n;
}

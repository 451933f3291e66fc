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
	if (p->admin[0] == '\0'
	    || ctl_request(p->admin, NULL, "GET", path, NULL, 0, &status, &text) != 0
	    || status != 200) {
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
	int yes = c && json_integer_value(json_object_get(c, "open")) == 0
		  && json_integer_value(json_object_get(c, "held_at_accept")) == 0;
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

json_t *upsim_journal_records(const struct upsim_proc *p)
{
	json_t *j = get_json(p, "/v1/journal?limit=10000");
	json_t *records = json_incref(json_object_get(j, "records"));
	json_decref(j);
	return records;
}

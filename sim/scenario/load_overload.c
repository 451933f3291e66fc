/* overload_load: the "overload" object — a server of limited capacity:
 *
 *   "overload": {"workers": 4, "service_time": "200ms", "queue": 16,
 *                "when_full": "503" | "reset" | "close" | "hang" | ACTION}
 *
 * service_time is a duration or a distribution like delay; when_full
 * defaults to 503 with "Retry-After: 1". */
#include <string.h>

#include "base/xalloc.h"
#include "scenario/load.h"

static const char *const overload_keys[] = {
	"workers", "service_time", "queue", "when_full", NULL,
};

#define MAX_WORKERS 1000000
#define MAX_QUEUE 10000000

/* 503 with Retry-After, as a server shedding load says. */
static void busy_answer(struct action *a)
{
	memset(a, 0, sizeof *a);
	a->weight = 1;
	a->fault.then = END_CLOSE;
	a->after.kind = AFTER_KEEP;
	a->status = 503;
	load_add_header(&a->headers, &a->n_headers, "Retry-After", "1");
	a->body = xstrdup("overloaded\n");
	a->body_len = strlen(a->body);
	a->set = ACTION_STATUS | ACTION_HEADERS | ACTION_BODY;
}

static void fault_answer(struct action *a, enum fault_kind kind)
{
	memset(a, 0, sizeof *a);
	a->weight = 1;
	a->fault.kind = kind;
	a->fault.then = END_CLOSE;
	a->after.kind = AFTER_KEEP;
	a->set = ACTION_FAULT;
}

static void load_when_full(struct jcheck *jc, json_t *obj, struct action *a)
{
	json_t *v = json_object_get(obj, "when_full");
	const char *s = json_string_value(v);
	if (v == NULL || (s && strcmp(s, "503") == 0))
		busy_answer(a);
	else if (s && strcmp(s, "reset") == 0)
		fault_answer(a, FAULT_RESET);
	else if (s && strcmp(s, "close") == 0)
		fault_answer(a, FAULT_CLOSE);
	else if (s && strcmp(s, "hang") == 0)
		fault_answer(a, FAULT_HANG);
	else if (json_is_object(v)) {
		size_t mark = jcheck_push_key(jc, "when_full");
		load_action(jc, v, false, a);
		jcheck_pop(jc, mark);
	} else {
		static const char *const names[] = {"503", "reset", "close", "hang", NULL};
		char hint[96];
		jcheck_fail_key(jc, "when_full",
				"expected \"503\", \"reset\", \"close\", "
				"\"hang\" or an action object%s",
				jcheck_did_you_mean(v, names, hint, sizeof hint));
		busy_answer(a);
	}
}

void load_overload(struct jcheck *jc, json_t *obj, const struct scenario *sc,
		   struct overload_model *out)
{
	(void)sc;
	json_t *o = jcheck_object(jc, obj, "overload");
	if (o == NULL)
		return;
	size_t mark = jcheck_push_key(jc, "overload");
	jcheck_keys(jc, o, overload_keys);
	long long n;
	if (jcheck_int(jc, o, "workers", 1, MAX_WORKERS, &n) == 1)
		out->workers = (unsigned)n;
	else if (json_object_get(o, "workers") == NULL)
		jcheck_fail(jc, "missing \"workers\" (how many requests it serves at once)");
	if (load_dist(jc, o, "service_time", &out->service_time) == 0)
		jcheck_fail(jc, "missing \"service_time\" (how long each request holds a worker)");
	if (jcheck_int(jc, o, "queue", 0, MAX_QUEUE, &n) == 1)
		out->queue = (unsigned)n;
	load_when_full(jc, o, &out->when_full);
	jcheck_pop(jc, mark);
}

/* connection_load: the "connection" object — the accept stage and
 * keep-alive policy of a scenario:
 *
 *   "connection": {"accept": {"fault": "reset"|"close"|"hang"|"pause"},
 *                  "backlog": n, "max_connections": n,
 *                  "over_limit": "reset"|"close"|"queue",
 *                  "keepalive": {"idle_timeout": d, "max_requests": n}} */
#include <string.h>

#include "scenario/load.h"

static const char *const connection_keys[] = {
	"accept", "backlog", "max_connections", "over_limit", "keepalive", NULL,
};
static const char *const accept_keys[] = {"fault", NULL};
static const char *const keepalive_keys[] = {"idle_timeout", "max_requests", NULL};

static void load_accept(struct jcheck *jc, json_t *conn, struct conn_policy *out)
{
	static const char *const faults[] = {"reset", "close", "hang", "pause", NULL};
	json_t *a = jcheck_object(jc, conn, "accept");
	if (a == NULL)
		return;
	size_t mark = jcheck_push_key(jc, "accept");
	jcheck_keys(jc, a, accept_keys);
	int i = 0;
	int got = jcheck_enum(jc, a, "fault", faults,
			      "expected \"reset\", \"close\", \"hang\" or \"pause\"", &i);
	if (got == 1)
		out->accept = (enum accept_fault)(ACCEPT_RESET + i - 1);
	else if (got == 0)
		jcheck_fail(jc, "missing \"fault\"");
	jcheck_pop(jc, mark);
}

static void load_keepalive(struct jcheck *jc, json_t *conn, struct conn_policy *out)
{
	json_t *k = jcheck_object(jc, conn, "keepalive");
	if (k == NULL)
		return;
	size_t mark = jcheck_push_key(jc, "keepalive");
	jcheck_keys(jc, k, keepalive_keys);
	jcheck_duration(jc, k, "idle_timeout", &out->idle_timeout_us);
	long long n;
	if (jcheck_int(jc, k, "max_requests", 1, 1000000000, &n) == 1)
		out->max_requests = (unsigned)n;
	jcheck_pop(jc, mark);
}

void load_connection(struct jcheck *jc, json_t *root, struct conn_policy *out)
{
	static const char *const limits[] = {"reset", "close", "queue", NULL};
	memset(out, 0, sizeof *out);
	json_t *conn = jcheck_object(jc, root, "connection");
	if (conn == NULL)
		return;
	size_t mark = jcheck_push_key(jc, "connection");
	jcheck_keys(jc, conn, connection_keys);
	load_accept(jc, conn, out);
	long long n;
	if (jcheck_int(jc, conn, "backlog", 1, 65535, &n) == 1)
		out->backlog = (unsigned)n;
	if (jcheck_int(jc, conn, "max_connections", 1, 10000000, &n) == 1)
		out->max_connections = (unsigned)n;
	int i = 0;
	int got = jcheck_enum(jc, conn, "over_limit", limits,
			      "expected \"reset\", \"close\" or \"queue\"", &i);
	if (got == 1)
		out->over_limit = (enum over_limit)(OVER_LIMIT_RESET + i - 1);
	if (got == 1 && out->max_connections == 0)
		jcheck_fail_key(jc, "over_limit", "needs \"max_connections\"");
	else if (out->over_limit == 0)
		out->over_limit = OVER_LIMIT_RESET;
	load_keepalive(jc, conn, out);
	jcheck_pop(jc, mark);
}

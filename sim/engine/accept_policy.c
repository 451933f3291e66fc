#include "engine/accept_policy.h"

#include <stddef.h>

/* Open connections as max_connections counts them: served and hanging. */
static unsigned in_use(const struct accept_counts *n)
{
	return n->open + n->hanging;
}

static enum accept_verdict over_limit(enum over_limit o)
{
	switch (o) {
	case OVER_LIMIT_CLOSE: return ACCEPT_VERDICT_OVER_CLOSE;
	case OVER_LIMIT_QUEUE: return ACCEPT_VERDICT_OVER_QUEUE;
	case OVER_LIMIT_RESET: break;
	}
	return ACCEPT_VERDICT_OVER_RESET;
}

enum accept_verdict accept_policy_decide(const struct conn_policy *p, const struct accept_counts *n)
{
	/* --max-connections protects upsim itself, whatever the scenario:
	 * a RST frees the descriptor now (a FIN would hold it draining). */
	if (n->open + n->held >= n->cap)
		return ACCEPT_VERDICT_CAPACITY;
	switch (p->accept) {
	case ACCEPT_RESET: return ACCEPT_VERDICT_RESET;
	case ACCEPT_CLOSE: return ACCEPT_VERDICT_CLOSE;
	case ACCEPT_HANG: return ACCEPT_VERDICT_HANG;
	case ACCEPT_PAUSE: /* accepted before the pause took effect */
	case ACCEPT_SERVE: break;
	}
	if (p->max_connections && in_use(n) >= p->max_connections)
		return over_limit(p->over_limit);
	return ACCEPT_VERDICT_SERVE;
}

bool accept_policy_slot_free(const struct conn_policy *p, const struct accept_counts *n)
{
	return p->max_connections == 0 || in_use(n) < p->max_connections;
}

int accept_policy_backlog(const struct conn_policy *p, int system_default)
{
	return p->backlog ? (int)p->backlog : system_default;
}

bool accept_policy_accepting(const struct conn_policy *p)
{
	return p->accept != ACCEPT_PAUSE;
}

bool accept_policy_cap_log_due(uint64_t now_ns, uint64_t last_ns)
{
	return now_ns - last_ns >= 1000000000ULL || last_ns == 0;
}

const char *accept_policy_action_name(enum accept_verdict v)
{
	switch (v) {
	case ACCEPT_VERDICT_CAPACITY:
	case ACCEPT_VERDICT_RESET:
	case ACCEPT_VERDICT_OVER_RESET: return "reset";
	case ACCEPT_VERDICT_CLOSE:
	case ACCEPT_VERDICT_OVER_CLOSE: return "close";
	case ACCEPT_VERDICT_HANG: return "hang";
	case ACCEPT_VERDICT_OVER_QUEUE: return "queue";
	case ACCEPT_VERDICT_SERVE: break;
	}
	return NULL;
}

const char *accept_policy_reason(enum accept_verdict v)
{
	switch (v) {
	case ACCEPT_VERDICT_CAPACITY: return "max_connections";
	case ACCEPT_VERDICT_RESET:
	case ACCEPT_VERDICT_CLOSE:
	case ACCEPT_VERDICT_HANG: return "accept";
	case ACCEPT_VERDICT_OVER_RESET:
	case ACCEPT_VERDICT_OVER_CLOSE:
	case ACCEPT_VERDICT_OVER_QUEUE: return "over_limit";
	case ACCEPT_VERDICT_SERVE: break;
	}
	return NULL;
}

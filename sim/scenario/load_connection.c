/* connection_load: the "connection" object — the accept stage and
 * keep-alive policy of a scenario:
 *
 *   "connection": {"accept": {"fault": "reset"|"close"|"hang"|"pause"},
 *                  "backlog": n, "max_connections": n,
 *                  "over_limit": "reset"|"close"|"queue",
 *                  "keepalive": {"idle_timeout": d, "max_requests": n},
 *                  "tls": {"fault": f, "alert": name, "certificate": c,
 *                          "versions": "1.2"|"1.3", "close_notify": b}} */
#include <stdlib.h>
#include <string.h>

#include "scenario/load.h"
#include "scenario/tls_alert.h"

static const char *const connection_keys[] = {
	"accept", "backlog", "max_connections", "over_limit", "keepalive", "tls", NULL,
};
static const char *const accept_keys[] = {"fault", NULL};
static const char *const keepalive_keys[] = {"idle_timeout", "max_requests", NULL};
static const char *const tls_keys[] = {
	"fault", "alert", "certificate", "versions", "close_notify", NULL,
};

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

/* "alert": a name GnuTLS knows; required with "fault": "alert" only. */
static void load_tls_alert(struct jcheck *jc, json_t *t, struct tls_policy *out)
{
	char *name = NULL;
	int got = jcheck_string(jc, t, "alert", &name, NULL);
	if (got == 1 && out->fault != TLS_FAULT_ALERT) {
		jcheck_fail_key(jc, "alert", "only with \"fault\": \"alert\"");
	} else if (got == 1) {
		int code = tls_alert_code(name);
		if (code < 0)
			jcheck_fail_key(jc, "alert",
					"unknown TLS alert \"%s\" (names as in RFC 8446: "
					"\"handshake_failure\", \"protocol_version\", ...)",
					name);
		else
			out->alert = (unsigned char)code;
	} else if (got == 0 && out->fault == TLS_FAULT_ALERT) {
		jcheck_fail(jc, "missing \"alert\" (which alert to send)");
	}
	free(name);
}

static void load_tls(struct jcheck *jc, json_t *conn, struct tls_policy *out)
{
	static const char *const faults[] = {
		"handshake_hang", "handshake_reset", "alert", "plaintext", "alpn_mismatch", NULL,
	};
	static const char *const certificates[] = {
		"valid", "expired", "not_yet_valid", "wrong_name", "untrusted", NULL,
	};
	static const char *const versions[] = {"any", "1.2", "1.3", NULL};
	json_t *t = jcheck_object(jc, conn, "tls");
	if (t == NULL)
		return;
	size_t mark = jcheck_push_key(jc, "tls");
	jcheck_keys(jc, t, tls_keys);
	out->set = true;
	int i = 0;
	if (jcheck_enum(jc, t, "fault", faults,
			"expected \"handshake_hang\", \"handshake_reset\", \"alert\", "
			"\"plaintext\" or \"alpn_mismatch\"",
			&i)
	    == 1)
		out->fault = (enum tls_fault)(TLS_FAULT_HANDSHAKE_HANG + i - 1);
	load_tls_alert(jc, t, out);
	if (out->fault == TLS_FAULT_ALPN_MISMATCH)
		out->alert = TLS_ALERT_NO_APPLICATION_PROTOCOL;
	if (jcheck_enum(jc, t, "certificate", certificates,
			"expected \"valid\", \"expired\", \"not_yet_valid\", \"wrong_name\" "
			"or \"untrusted\"",
			&i)
	    == 1)
		out->certificate = (enum tls_certificate)(TLS_CERTIFICATE_VALID + i - 1);
	if (jcheck_enum(jc, t, "versions", versions, "expected \"any\", \"1.2\" or \"1.3\"", &i)
	    == 1)
		out->versions = (enum tls_versions)(TLS_VERSIONS_ANY + i - 1);
	bool close_notify = true;
	jcheck_bool(jc, t, "close_notify", &close_notify);
	out->no_close_notify = !close_notify;
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
	load_tls(jc, conn, &out->tls);
	jcheck_pop(jc, mark);
}

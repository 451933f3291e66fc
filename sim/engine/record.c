#include "engine/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/xalloc.h"

const char *outcome_name(enum outcome o)
{
	static const char *const names[OUTCOME_COUNT] = {
		[OUTCOME_NONE] = "none",     [OUTCOME_RESPONSE] = "response",
		[OUTCOME_FIN] = "fin",	     [OUTCOME_RST] = "rst",
		[OUTCOME_HUNG] = "hung",     [OUTCOME_CLIENT_CLOSED] = "client_closed",
		[OUTCOME_QUEUED] = "queued", [OUTCOME_SHUTDOWN] = "shutdown",
	};
	return (unsigned)o < OUTCOME_COUNT ? names[o] : "none";
}

const char *record_kind_name(enum record_kind k)
{
	switch (k) {
	case RECORD_REQUEST: return "request";
	case RECORD_CONNECTION: return "connection";
	case RECORD_PHASE: return "phase";
	case RECORD_SCENARIO: return "scenario";
	case RECORD_DRILL: return "drill";
	case RECORD_DNS: return "dns";
	}
	return "unknown";
}

/* RFC 3339 in UTC with milliseconds. */
void record_format_time(int64_t us, char *buf, size_t n)
{
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t len = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + len, n - len, ".%03dZ", (int)(us % 1000000 / 1000));
}

/* Request paths and header values may be any bytes, JSON strings only
 * UTF-8: a string that is not valid UTF-8 shows its bytes >= 0x80 as
 * \xNN, so nothing is dropped and nothing is mistaken for text. */
json_t *record_text_json(const char *v)
{
	json_t *s = json_string(v);
	if (s != NULL)
		return s;
	size_t n = strlen(v);
	char *esc = xmalloc(4 * n + 1), *p = esc;
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if (*c < 0x80)
			*p++ = (char)*c;
		else
			p += sprintf(p, "\\x%02x", *c);
	}
	*p = '\0';
	s = json_string(esc);
	free(esc);
	return s;
}

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v != NULL)
		json_object_set_new(o, key, record_text_json(v));
}

static void set_uint(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

static void add_request_fields(json_t *o, const struct record *r)
{
	set_uint(o, "conn_request", r->conn_request);
	set_str(o, "method", r->method);
	set_str(o, "path", r->path);
	if (r->request_id != NULL) {
		set_str(o, "request_id", r->request_id);
		set_uint(o, "attempt", r->attempt);
	}
	json_object_set_new(o, "rule", r->rule ? record_text_json(r->rule) : json_null());
	if (r->action >= 0)
		set_uint(o, "action", (uint64_t)r->action);
	json_object_set_new(o, "fault", r->fault ? json_string(r->fault) : json_null());
	if (r->overridden)
		json_object_set_new(o, "override", json_true());
	if (r->status > 0)
		set_uint(o, "status", (uint64_t)r->status);
	set_uint(o, r->raw ? "bytes" : "body_bytes", r->bytes);
	json_object_set_new(o, "duration_ms", json_real((double)r->duration_us / 1000.0));
	if (r->overload != NULL) {
		set_str(o, "overload", r->overload);
		json_object_set_new(o, "queue_ms", json_real((double)r->queue_us / 1000.0));
	}
	if (r->forward_known) {
		json_object_set_new(o, "forwarded", json_boolean(r->forwarded));
		if (r->real_status > 0) {
			set_uint(o, "real_status", (uint64_t)r->real_status);
			json_object_set_new(o, "real_ms", json_real((double)r->real_us / 1000.0));
		}
		set_str(o, "upstream_error", r->upstream_error);
	}
}

/* {"name": ..., "type": "A", "transport": "udp", "rcode": "NOERROR",
 *  "answer": ["127.0.0.1"], "ttl": 5, "fault": null, "delay_ms": 0, ...} */
static void add_dns_fields(json_t *o, const struct record *r)
{
	set_str(o, "name", r->dns_name);
	set_str(o, "type", r->dns_type);
	set_str(o, "transport", r->dns_transport);
	json_object_set_new(o, "listed", json_boolean(r->dns_listed));
	json_object_set_new(o, "rcode", r->dns_rcode ? json_string(r->dns_rcode) : json_null());
	json_t *answer = json_array();
	if (r->dns_answer != NULL) {
		char *copy = xstrdup(r->dns_answer), *save = NULL;
		for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
			json_array_append_new(answer, record_text_json(t));
		free(copy);
	}
	json_object_set_new(o, "answer", answer);
	if (json_array_size(answer) > 0)
		set_uint(o, "ttl", r->dns_ttl);
	json_object_set_new(o, "tc", json_boolean(r->dns_tc));
	json_object_set_new(o, "fault", r->fault ? json_string(r->fault) : json_null());
	if (r->action >= 0)
		set_uint(o, "action", (uint64_t)r->action);
	json_object_set_new(o, "delay_ms", json_real((double)r->duration_us / 1000.0));
}

json_t *record_json(const struct record *r)
{
	char when[40];
	record_format_time(r->time_us, when, sizeof when);
	json_t *o = json_object();
	set_uint(o, "id", r->id);
	set_str(o, "time", when);
	set_str(o, "kind", record_kind_name(r->kind));
	if (r->conn)
		set_uint(o, "conn", r->conn);
	set_str(o, "upstream", r->upstream);
	set_str(o, "scenario", r->scenario);
	set_str(o, "phase", r->phase);
	if (r->kind == RECORD_REQUEST)
		add_request_fields(o, r);
	if (r->kind == RECORD_DNS)
		add_dns_fields(o, r);
	set_str(o, "accept", r->accept);
	set_str(o, "reason", r->reason);
	if (r->outcome != OUTCOME_NONE)
		set_str(o, "outcome", outcome_name(r->outcome));
	set_str(o, "message", r->message);
	return o;
}

void record_clear(struct record *r)
{
	free(r->method);
	free(r->path);
	free(r->request_id);
	free(r->phase);
	free(r->scenario);
	free(r->upstream);
	free(r->rule);
	free(r->message);
	free(r->upstream_error);
	free(r->dns_name);
	free(r->dns_type);
	free(r->dns_answer);
	memset(r, 0, sizeof *r);
}

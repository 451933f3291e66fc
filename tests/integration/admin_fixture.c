/* Helpers for the suites that drive upsim's admin API: start upsim on a
 * scenario text with --admin 127.0.0.1:0, call the API (libcurl, through
 * ctl_request), and make single requests on its gateway port. */
#include "admin_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/ctl.h"

#define T_MS 5000

/* The "admin" of the ready line. */
void fixture_read_admin(struct admin_fixture *f)
{
	json_t *o = json_loads(f->p.ready_line, 0, NULL);
	const char *a = json_string_value(json_object_get(o, "admin"));
	ck_assert_ptr_nonnull(a);
	snprintf(f->admin, sizeof f->admin, "%s", a);
	json_decref(o);
}

void fixture_start(struct admin_fixture *f, const char *json, const char *const *extra)
{
	const char *args[16] = {"--admin", "127.0.0.1:0"};
	size_t n = 2;
	for (size_t i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	f->scenario = upsim_write_temp(json, ".json");
	ck_assert_int_eq(upsim_start_scenario(&f->p, f->scenario, args, T_MS), 0);
	fixture_read_admin(f);
}

void fixture_finish(struct admin_fixture *f)
{
	ck_assert_int_eq(upsim_stop(&f->p, SIGTERM, T_MS), 0);
	upsim_proc_free(&f->p);
	if (f->scenario != NULL)
		unlink(f->scenario);
	free(f->scenario);
}

/* An admin request; returns the status, the body in *out (free it). */
long fixture_call(const struct admin_fixture *f, const char *token, const char *method,
		  const char *path, const char *body, char **out)
{
	long status = 0;
	char *text = NULL;
	int rc = ctl_request(f->admin, token, method, path, body, body ? strlen(body) : 0, &status,
			     &text);
	ck_assert_msg(rc == 0, "admin request failed: %s", text);
	if (out)
		*out = text;
	else
		free(text);
	return status;
}

json_t *fixture_call_json(const struct admin_fixture *f, const char *method, const char *path,
			  const char *body, long want_status)
{
	char *text;
	long status = fixture_call(f, NULL, method, path, body, &text);
	ck_assert_msg(status == want_status, "%s %s: HTTP %ld, wanted %ld: %s", method, path,
		      status, want_status, text);
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	ck_assert_msg(o != NULL, "not JSON (%s): %s", je.text, text);
	free(text);
	return o;
}

/* One request on a new connection to the gateway port; returns how the
 * connection ended and, for a response, its status in *status. */
enum wire_end fixture_get(const struct admin_fixture *f, const char *path, const char *request_id,
			  int *status)
{
	int fd = wire_connect(f->p.host, f->p.port, T_MS);
	ck_assert_int_ge(fd, 0);
	char req[256];
	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n%s%s%sConnection: close\r\n\r\n",
		 path, request_id ? "X-Request-Id: " : "", request_id ? request_id : "",
		 request_id ? "\r\n" : "");
	ck_assert_int_eq(wire_send_str(fd, req, T_MS), 0);
	struct wire_result r = {0};
	ck_assert_int_eq(wire_read_until_end(fd, wire_now_ms(), T_MS, &r), 0);
	*status = 0;
	if (r.len > 12)
		*status = atoi((const char *)r.bytes + 9);
	enum wire_end end = r.end;
	wire_result_free(&r);
	close(fd);
	return end;
}

json_int_t json_int_at(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

const char *json_str_at(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	ck_assert_msg(s != NULL, "%s is not a string", key);
	return s;
}

json_int_t fixture_status_int(const struct admin_fixture *f, const char *object, const char *key)
{
	json_t *st = fixture_call_json(f, "GET", "/v1/status", NULL, 200);
	json_int_t n = json_int_at(json_object_get(st, object), key);
	json_decref(st);
	return n;
}

/* The request records of the journal after since. */
json_t *fixture_request_records(const struct admin_fixture *f, json_int_t since)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/journal?since=%lld&limit=10000", (long long)since);
	json_t *o = fixture_call_json(f, "GET", path, NULL, 200);
	json_t *out = json_array(), *r;
	size_t i;
	json_array_foreach(json_object_get(o, "records"), i, r)
	{
		if (strcmp(json_str_at(r, "kind"), "request") == 0)
			json_array_append(out, r);
	}
	json_decref(o);
	return out;
}

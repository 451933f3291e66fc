/* admin_fixture: upsim started with its admin API, for the integration
 * suites. Every helper fails the running Check test on error. */
#ifndef UPSIM_TEST_ADMIN_FIXTURE_H
#define UPSIM_TEST_ADMIN_FIXTURE_H

#include <jansson.h>

#include "proc.h"
#include "wire.h"

struct admin_fixture {
	struct upsim_proc p;
	char *scenario;
	char admin[96];
};

/* Start upsim on the scenario text json (written to a temporary file)
 * with --admin 127.0.0.1:0 and the NULL-terminated extra arguments. */
void fixture_start(struct admin_fixture *f, const char *json, const char *const *extra);
/* Take f's admin address from the ready line of the started f->p. */
void fixture_read_admin(struct admin_fixture *f);
/* SIGTERM; upsim must exit 0. Removes the scenario file. */
void fixture_finish(struct admin_fixture *f);

/* An admin request; returns the HTTP status, the body in *out (free it;
 * out may be NULL). */
long fixture_call(const struct admin_fixture *f, const char *token, const char *method,
		  const char *path, const char *body, char **out);
/* An admin request that must answer want_status with JSON; the JSON. */
json_t *fixture_call_json(const struct admin_fixture *f, const char *method, const char *path,
			  const char *body, long want_status);
/* One request on a new connection to the gateway port; how the
 * connection ended and, for a response, its status in *status. */
enum wire_end fixture_get(const struct admin_fixture *f, const char *path, const char *request_id,
			  int *status);
/* GET /v1/status: the integer at object.key (e.g. "connections",
 * "suspended"). */
json_int_t fixture_status_int(const struct admin_fixture *f, const char *object, const char *key);
/* The request records of the journal after since. */
json_t *fixture_request_records(const struct admin_fixture *f, json_int_t since);

/* o's member key, which must be an integer / a string. */
json_int_t json_int_at(json_t *o, const char *key);
const char *json_str_at(json_t *o, const char *key);

#endif

#include "control/admin_parse.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/units.h"
#include "base/xalloc.h"

/* The body as a JSON object, or NULL with why. */
static json_t *body_object(const char *body, size_t len, char *why, size_t n)
{
	json_error_t je;
	json_t *o = json_loadb(body ? body : "", len, 0, &je);
	if (o == NULL) {
		snprintf(why, n, "malformed JSON at line %d, column %d: %s", je.line, je.column,
			 je.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(why, n, "the body must be a JSON object");
		return NULL;
	}
	return o;
}

int admin_parse_phase(const char *body, size_t len, char **name, char *why, size_t n)
{
	json_t *o = body_object(body, len, why, n);
	if (o == NULL)
		return -1;
	const char *s = json_string_value(json_object_get(o, "phase"));
	if (s != NULL)
		*name = xstrdup(s);
	else
		snprintf(why, n, "expected {\"phase\": \"NAME\"}");
	json_decref(o);
	return s ? 0 : -1;
}

int admin_parse_renew(const char *body, size_t len, uint64_t *ttl_us, char *why, size_t n)
{
	*ttl_us = 0;
	if (len == 0)
		return 0;
	json_t *o = body_object(body, len, why, n);
	if (o == NULL)
		return -1;
	json_t *v = json_object_get(o, "ttl");
	const char *reason = NULL;
	int rc = 0;
	if (v != NULL
	    && (!json_is_string(v)
		|| units_parse_duration(json_string_value(v), ttl_us, &reason) != 0
		|| *ttl_us == 0)) {
		snprintf(why, n, "ttl: %s",
			 reason ? reason : "expected a duration string such as \"10m\"");
		rc = -1;
	}
	json_decref(o);
	return rc;
}

bool admin_parse_uint(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0)
		return false;
	*out = v;
	return true;
}

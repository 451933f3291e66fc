#include "scenario/jcheck.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/units.h"
#include "base/xalloc.h"

void jcheck_init(struct jcheck *jc, const char *label, struct upsim_err *err)
{
	jc->label = label;
	jc->err = err;
	jc->dir = NULL;
	jc->path[0] = '\0';
	jc->len = 0;
}

/* Append text to the path, truncating (never overflowing) a deep one. */
static size_t push(struct jcheck *jc, const char *text)
{
	size_t mark = jc->len;
	size_t room = sizeof jc->path - jc->len;
	int n = snprintf(jc->path + jc->len, room, "%s", text);
	if (n > 0)
		jc->len += (size_t)n < room ? (size_t)n : room - 1;
	return mark;
}

size_t jcheck_push_key(struct jcheck *jc, const char *key)
{
	if (jc->len == 0)
		return push(jc, key);
	size_t mark = push(jc, ".");
	push(jc, key);
	return mark;
}

size_t jcheck_push_index(struct jcheck *jc, size_t index)
{
	char text[32];
	snprintf(text, sizeof text, "[%zu]", index);
	return push(jc, text);
}

void jcheck_pop(struct jcheck *jc, size_t mark)
{
	jc->len = mark;
	jc->path[mark] = '\0';
}

__attribute__((format(printf, 2, 0))) static void vfail(struct jcheck *jc, const char *fmt,
							va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	err_addf(jc->err, "%s: %s: %s", jc->label, jc->len ? jc->path : "(root)", msg);
}

void jcheck_fail(struct jcheck *jc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(jc, fmt, ap);
	va_end(ap);
}

void jcheck_fail_key(struct jcheck *jc, const char *key, const char *fmt, ...)
{
	size_t mark = jcheck_push_key(jc, key);
	va_list ap;
	va_start(ap, fmt);
	vfail(jc, fmt, ap);
	va_end(ap);
	jcheck_pop(jc, mark);
}

const char *jcheck_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

/* Edit distance, bounded to short keys: enough to catch typos. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 31 || lb > 31)
		return 99;
	size_t row[32];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *jcheck_nearest(const char *key, const char *const allowed[])
{
	const char *best = NULL;
	size_t best_d = 3; /* suggest only close matches */
	for (size_t i = 0; allowed[i]; i++) {
		size_t d = distance(key, allowed[i]);
		if (d < best_d) {
			best_d = d;
			best = allowed[i];
		}
	}
	return best;
}

static bool is_allowed(const char *key, const char *const allowed[])
{
	for (size_t i = 0; allowed[i]; i++)
		if (strcmp(key, allowed[i]) == 0)
			return true;
	return false;
}

size_t jcheck_keys(struct jcheck *jc, json_t *obj, const char *const allowed[])
{
	size_t unknown = 0;
	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value)
	{
		(void)value;
		if (is_allowed(key, allowed))
			continue;
		unknown++;
		const char *hint = jcheck_nearest(key, allowed);
		if (hint)
			jcheck_fail_key(jc, key, "unknown key (did you mean \"%s\"?)", hint);
		else
			jcheck_fail_key(jc, key, "unknown key");
	}
	return unknown;
}

const char *jcheck_did_you_mean(const json_t *v, const char *const names[], char *buf, size_t len)
{
	const char *near = json_is_string(v) ? jcheck_nearest(json_string_value(v), names) : NULL;
	if (near == NULL)
		return "";
	snprintf(buf, len, " (did you mean \"%s\"?)", near);
	return buf;
}

int jcheck_enum(struct jcheck *jc, json_t *obj, const char *key, const char *const names[],
		const char *expected, int *out)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	for (int i = 0; s && names[i]; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i + 1;
			return 1;
		}
	}
	char list[512] = "";
	if (expected == NULL) {
		size_t len = (size_t)snprintf(list, sizeof list, "expected one of: ");
		for (int i = 0; names[i] && len < sizeof list; i++)
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
						i ? ", " : "", names[i]);
		expected = list;
	}
	char hint[96];
	jcheck_fail_key(jc, key, "%s%s", expected,
			jcheck_did_you_mean(v, names, hint, sizeof hint));
	return -1;
}

void jcheck_schema_ref(struct jcheck *jc, json_t *root)
{
	json_t *v = json_object_get(root, "$schema");
	if (v != NULL && !json_is_string(v))
		jcheck_fail_key(jc, "$schema",
				"expected a string: the URL or path of the "
				"JSON Schema editors check this file with");
}

int jcheck_int(struct jcheck *jc, json_t *obj, const char *key, long long min, long long max,
	       long long *out)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		jcheck_fail_key(jc, key, "expected an integer %lld..%lld", min, max);
		return -1;
	}
	*out = json_integer_value(v);
	return 1;
}

int jcheck_bool(struct jcheck *jc, json_t *obj, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		jcheck_fail_key(jc, key, "expected true or false, got %s", jcheck_type_name(v));
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int jcheck_string(struct jcheck *jc, json_t *obj, const char *key, char **out, size_t *len)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		jcheck_fail_key(jc, key, "expected a string, got %s", jcheck_type_name(v));
		return -1;
	}
	*out = xmemdup(json_string_value(v), json_string_length(v));
	if (len)
		*len = json_string_length(v);
	return 1;
}

int jcheck_duration(struct jcheck *jc, json_t *obj, const char *key, uint64_t *out_us)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		json_int_t ms = json_integer_value(v);
		if (ms < 0 || (uint64_t)ms > UNITS_MAX_DURATION_US / 1000) {
			jcheck_fail_key(jc, key, "duration out of range (0 to 24h)");
			return -1;
		}
		*out_us = (uint64_t)ms * 1000;
		return 1;
	}
	const char *why = "expected a duration such as \"150ms\" or an integer of milliseconds";
	if (json_is_string(v) && units_parse_duration(json_string_value(v), out_us, &why) == 0)
		return 1;
	jcheck_fail_key(jc, key, "%s", why);
	return -1;
}

int jcheck_size(struct jcheck *jc, json_t *obj, const char *key, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	uint64_t n = 0;
	const char *why = "expected a size: an integer of bytes or a string such as \"64KiB\"";
	bool ok = false;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		n = (uint64_t)json_integer_value(v);
		ok = true;
	} else if (json_is_string(v)) {
		ok = units_parse_size(json_string_value(v), &n, &why) == 0;
	}
	if (!ok) {
		jcheck_fail_key(jc, key, "%s", why);
		return -1;
	}
	if (n > max) {
		jcheck_fail_key(jc, key, "size %llu is above the limit of %llu bytes",
				(unsigned long long)n, (unsigned long long)max);
		return -1;
	}
	*out = n;
	return 1;
}

static json_t *typed(struct jcheck *jc, json_t *obj, const char *key, json_type type,
		     const char *name)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return NULL;
	if (json_typeof(v) != type) {
		jcheck_fail_key(jc, key, "expected %s, got %s", name, jcheck_type_name(v));
		return NULL;
	}
	return v;
}

json_t *jcheck_object(struct jcheck *jc, json_t *obj, const char *key)
{
	return typed(jc, obj, key, JSON_OBJECT, "an object");
}

json_t *jcheck_array(struct jcheck *jc, json_t *obj, const char *key)
{
	return typed(jc, obj, key, JSON_ARRAY, "an array");
}

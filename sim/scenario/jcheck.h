/* jcheck: typed reads from a jansson tree that report errors by JSON path.
 *
 * A checker walks a document keeping the path of the value in hand
 * ("rules[2].choose[1].status"). Every failed read adds one message,
 * "LABEL: PATH: reason", to the caller's error list and the walk goes on,
 * so a user sees every problem of a file in one run. */
#ifndef UPSIM_SCENARIO_JCHECK_H
#define UPSIM_SCENARIO_JCHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct jcheck {
	const char *label;     /* file name or "<admin>", borrowed */
	struct upsim_err *err; /* borrowed; messages are appended */
	const char *dir;       /* the scenario file's folder, for body_file
				  (borrowed); NULL: no file may be read */
	char path[1024];
	size_t len;
};

/* Start a walk at the document root (dir NULL: see struct jcheck). */
void jcheck_init(struct jcheck *jc, const char *label, struct upsim_err *err);

/* Descend into a key or an index; returns a mark for jcheck_pop. */
size_t jcheck_push_key(struct jcheck *jc, const char *key);
size_t jcheck_push_index(struct jcheck *jc, size_t index);
/* Return to the path held before the push that returned mark. */
void jcheck_pop(struct jcheck *jc, size_t mark);

/* Add "LABEL: PATH: message" (PATH is "(root)" at the top). */
void jcheck_fail(struct jcheck *jc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, for the member key of the object at the current path. */
void jcheck_fail_key(struct jcheck *jc, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Report every key of obj not in allowed (NULL-terminated) as unknown,
 * suggesting the nearest allowed key. Returns the number of unknown keys. */
size_t jcheck_keys(struct jcheck *jc, json_t *obj, const char *const allowed[]);

/* The name of names (NULL-ended) nearest to s when it is near enough to
 * be a typo of it (edit distance under 3), else NULL. */
const char *jcheck_nearest(const char *s, const char *const names[]);
/* " (did you mean "name"?)" when v is a string near one of names, else
 * "": a suffix for an error message, held in buf. */
const char *jcheck_did_you_mean(const json_t *v, const char *const names[], char *buf, size_t len);

/* Typed member reads. Each returns 1 when key is present and valid (value
 * stored), 0 when absent (out untouched), -1 when present but invalid
 * (error added). */
int jcheck_int(struct jcheck *jc, json_t *obj, const char *key, long long min, long long max,
	       long long *out);
int jcheck_bool(struct jcheck *jc, json_t *obj, const char *key, bool *out);
/* *out is a new copy (may contain NUL bytes; length in *len if len). */
int jcheck_string(struct jcheck *jc, json_t *obj, const char *key, char **out, size_t *len);
/* A duration: a string with a unit or an integer of milliseconds. */
int jcheck_duration(struct jcheck *jc, json_t *obj, const char *key, uint64_t *out_us);
/* A size: an integer of bytes or a string with a unit, at most max. */
int jcheck_size(struct jcheck *jc, json_t *obj, const char *key, uint64_t max, uint64_t *out);
/* One of names (NULL-ended): *out is its 1-based index. The error says
 * expected (NULL: "expected one of: a, b, c") and, for a string near a
 * name, "(did you mean "name"?)". */
int jcheck_enum(struct jcheck *jc, json_t *obj, const char *key, const char *const names[],
		const char *expected, int *out);
/* "$schema": the JSON Schema an editor checks the file with (upsim
 * schema), ignored by upsim; a string when present. */
void jcheck_schema_ref(struct jcheck *jc, json_t *root);
/* An object or array member: returns it borrowed, or NULL when absent or of
 * the wrong type (error added in that case). */
json_t *jcheck_object(struct jcheck *jc, json_t *obj, const char *key);
json_t *jcheck_array(struct jcheck *jc, json_t *obj, const char *key);

/* A short name of v's JSON type for messages ("a string", "an array"). */
const char *jcheck_type_name(const json_t *v);

#endif

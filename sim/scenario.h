/* scenario: the immutable, reference-counted model of one scenario file.
 *
 * scenario_load() compiles the JSON into these structs and drops the
 * jansson tree, so nothing here points into JSON. Once loaded, a scenario is
 * never modified: runtime state (sequence positions, random streams) lives
 * in struct behave. A request holds a reference from its first byte to its
 * completion, so a scenario swapped out at run time stays valid for the
 * exchanges that started under it. */
#ifndef UPSIM_SCENARIO_H
#define UPSIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The scenario format version this build reads. */
#define SCENARIO_FORMAT 1

/* Hard limits that keep a hostile or mistaken file from exhausting memory. */
#define SCENARIO_MAX_FILE_BYTES (16u << 20)
#define SCENARIO_MAX_RULES 10000
#define SCENARIO_MAX_ACTIONS 10000      /* per rule */
#define SCENARIO_MAX_HEADERS 1000       /* per action or match */
#define SCENARIO_MAX_BODY_SIZE (1ULL << 30)

struct header {
	char *name;
	char *value;
};

/* Which fields of an action were written in the file; an absent field is
 * taken from the defaults when the action is resolved. */
enum action_field {
	ACTION_STATUS = 1 << 0,
	ACTION_HEADERS = 1 << 1,
	ACTION_BODY = 1 << 2,   /* body or body_size */
	ACTION_CHUNKED = 1 << 3,
};

struct action {
	unsigned set;           /* enum action_field bits */
	unsigned weight;        /* choose only; 1 elsewhere */
	int status;
	struct header *headers; /* in file order, duplicates and casing kept */
	size_t n_headers;
	char *body;             /* may hold NUL bytes: use body_len */
	size_t body_len;
	bool body_generated;    /* body_size given: body_len bytes of pattern */
	bool chunked;
};

enum behaviour {
	BEHAVE_RESPOND = 1,
	BEHAVE_CHOOSE,
	BEHAVE_SEQUENCE,
};

struct match {
	char **methods;         /* NULL: any method */
	size_t n_methods;
	char *path;             /* glob with '*'; NULL: any path */
	struct header *headers; /* name compared without case, value exactly */
	size_t n_headers;
	struct header *query;   /* query argument equality */
	size_t n_query;
};

struct rule {
	size_t index;           /* position in the file, for streams and stats */
	char *name;             /* "rules[3]" unless the file names it */
	struct match match;
	enum behaviour behaviour;
	struct action *actions; /* 1 for respond */
	size_t n_actions;
	uint64_t total_weight;  /* choose: sum of weights */
	bool cycle;             /* sequence: start over after the last */
};

struct scenario {
	unsigned refs;          /* atomic; see scenario_ref */
	char *file;             /* path it was loaded from, or "<admin>" */
	char *name;
	char *description;
	uint64_t seed;
	struct action defaults; /* already resolved against built-ins */
	struct rule *rules;
	size_t n_rules;
};

/* Load and validate the scenario file at path. Returns a new scenario with
 * one reference, or NULL with every problem appended to err, each message
 * prefixed with "path: " and the JSON path (or "path:line:col:"). */
struct scenario *scenario_load_file(const char *path, struct upsim_err *err);

/* Same from an in-memory buffer; label names it in messages. */
struct scenario *scenario_load_buffer(const char *label, const char *buf,
				      size_t len, struct upsim_err *err);

/* Take one more reference; returns sc. NULL is accepted and returned. */
struct scenario *scenario_ref(struct scenario *sc);
/* Drop one reference, freeing the scenario with the last. NULL accepted. */
void scenario_unref(struct scenario *sc);

/* Fill out with the action a resolved against the scenario defaults: every
 * field not set in a comes from sc->defaults. Pointers are borrowed from the
 * scenario and live as long as a reference to it. */
void scenario_resolve(const struct scenario *sc, const struct action *a,
		      struct action *out);

#endif

/* baseline: what a real service answered, turned into a scenario that
 * answers the same (`upsim record`, docs/forwarding.md).
 *
 * One rule per method and path, from the first answer seen for them (later
 * answers to the same method and path are counted, not kept): its status,
 * its headers minus the secrets (Set-Cookie unless keep_secrets) and the
 * framing upsim computes, and its body — inline when it is UTF-8 text of
 * at most inline_max bytes, otherwise in a file beside the scenario named
 * by "body_file". Pure bookkeeping and text: the caller brings the answers
 * (net/ has already dropped hop-by-hop headers). Not thread-safe: one
 * owner feeds and writes it. */
#ifndef UPSIM_ENGINE_BASELINE_H
#define UPSIM_ENGINE_BASELINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario/model.h"

#define BASELINE_INLINE_MAX_DEFAULT 4096

struct baseline_opts {
	const char *upstream; /* where the answers came from, for the name */
	size_t inline_max;    /* the largest body written inline */
	bool keep_secrets;    /* keep Set-Cookie */
};

struct baseline;

/* A new, empty baseline; o is copied (upstream too). */
struct baseline *baseline_new(const struct baseline_opts *o);
/* Free it and everything it holds. NULL accepted. */
void baseline_free(struct baseline *b);

/* One answer the service gave to method and path (the path as matched:
 * decoded, no query). Everything is copied. Returns 1 when it is the
 * first for that method and path (it becomes a rule), 0 when one was
 * kept before, -1 when it cannot be a rule (a path that does not start
 * with '/' or is not UTF-8, a status outside 100..999): counted, dropped. */
int baseline_add(struct baseline *b, const char *method, const char *path, int status,
		 const struct header *headers, size_t n_headers, const char *body, size_t body_len);

struct baseline_counts {
	size_t rules;	      /* distinct method and path: the rules */
	uint64_t answers;     /* every answer given to baseline_add */
	uint64_t repeats;     /* answers to a method and path already kept */
	uint64_t unusable;    /* answers baseline_add returned -1 for */
	uint64_t secrets;     /* headers dropped as secrets */
	uint64_t bad_headers; /* headers a scenario cannot hold, dropped */
	size_t body_files;    /* bodies written beside the scenario */
};
struct baseline_counts baseline_counts(const struct baseline *b);

/* The relative file name of rule i's body ("NNN.bin" or, for text over
 * inline_max, "NNN.txt"), or NULL when the body is inline or absent. */
const char *baseline_body_name(const struct baseline *b, size_t i, char *buf, size_t len);

/* The scenario as a new JSON document: body files referenced under
 * bodies_dir ("orders.json.bodies"). */
json_t *baseline_document(const struct baseline *b, const char *bodies_dir);

/* doc laid out for people: top-level keys one per line, a rule per line.
 * New string. */
char *baseline_text(const json_t *doc);

/* Write the scenario to out (through a temporary file and a rename) and
 * the bodies that are not inline to out.bodies/ beside it. 0, or -1 with
 * why in errbuf. */
int baseline_write(const struct baseline *b, const char *out, char *errbuf, size_t errlen);

#endif

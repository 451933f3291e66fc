/* fuzz_scenario: any bytes as a scenario file.
 *
 * The loader must refuse bad input with at least one message, each
 * prefixed with the label, and never crash or leak. A scenario it accepts
 * is then used the way the server would use it, with everything pure:
 * each action resolved, rendered and paced on a simulated clock, each
 * rule's path matched, choices and delays drawn, the timeline walked. A
 * broken promise aborts, so libFuzzer reports it like a crash. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "engine/behave.h"
#include "engine/match.h"
#include "engine/pace.h"
#include "engine/render.h"
#include "engine/timeline.h"
#include "scenario/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LABEL "fuzz.json"
/* Render and pace only responses this small: the loader allows bodies of
 * a GiB, which says nothing more and exhausts the fuzzer's memory. */
#define RENDER_LIMIT (64u * 1024)

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_scenario: %s\n", what);
	abort();
}

static void check(int ok, const char *what)
{
	if (!ok)
		fail(what);
}

/* FNV-1a: a stable number from the input for the draws below. */
static uint64_t hash(const uint8_t *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 0x100000001b3ULL;
	return h;
}

/* Walk the pacer to the end on a clock that jumps to each wake-up: every
 * step must make progress and the whole response must go out. */
static void pace_through(const struct action *a, const struct render *r)
{
	struct pacer p;
	uint64_t now = 1000;
	pace_init(&p, &a->pace, r, now);
	size_t steps = 0;
	for (;;) {
		uint64_t wake;
		size_t n = pace_next(&p, now, &wake);
		if (n == 0 && wake == 0)
			break;
		if (n == 0) {
			check(wake > now, "pacer asks to wait for a time already past");
			now = wake;
		} else {
			check(n <= p.len - p.pos, "pacer offers bytes past the end");
			/* A partial write now and then, as sockets do. */
			size_t wrote = n > 1 && steps % 3 == 1 ? n / 2 : n;
			pace_wrote(&p, wrote, now);
		}
		check(++steps <= 4 * (r->len + 8), "pacer makes no progress");
	}
	check(p.pos == r->len, "pacer ended before the last byte");
}

static int small(const struct action *a)
{
	const struct fault *f = &a->fault;
	return a->body_len <= RENDER_LIMIT && f->size <= RENDER_LIMIT && f->sent <= RENDER_LIMIT;
}

/* A response without a fault is well-formed HTTP/1.1: a status line, each
 * header of the action as its own line and in order, an empty line, then
 * the body with the length given. */
static void check_healthy(const struct action *a, const struct render *out, int head)
{
	const char *h = out->buf;
	check(out->status_end >= 15 && memcmp(h, "HTTP/1.1 ", 9) == 0
		      && memcmp(h + out->status_end - 2, "\r\n", 2) == 0,
	      "status line not ended");
	check(out->head_end >= out->status_end + 2 && memcmp(h + out->head_end - 2, "\r\n", 2) == 0
		      && (out->head_end == out->status_end + 2
			  || memcmp(h + out->head_end - 4, "\r\n\r\n", 4) == 0),
	      "header block not ended by an empty line");
	size_t pos = out->status_end;
	for (size_t i = 0; i < a->n_headers; i++) {
		const struct header *hd = &a->headers[i];
		size_t n = strlen(hd->name) + strlen(hd->value) + 4;
		char *line = malloc(n + 1);
		check(line != NULL, "out of memory");
		snprintf(line, n + 1, "%s: %s\r\n", hd->name, hd->value);
		const char *at = memmem(h + pos, out->head_end - pos, line, n);
		check(at != NULL, "a header line missing or cut in the rendered response");
		pos = (size_t)(at - h) + n;
		free(line);
	}
	bool no_body = a->status < 200 || a->status == 204;
	if (!head && !a->chunked)
		check(out->full_len - out->head_end == (no_body ? 0 : a->body_len),
		      "body length differs from the action's");
}

static void render_action(const struct scenario *sc, const struct action *a, uint64_t seed)
{
	struct action r;
	scenario_resolve(sc, a, &r);
	check(r.status >= 100 && r.status <= 999, "resolved status out of range");
	check(!scenario_status_has_no_body(r.status) || r.body_len == 0 || (a->set & ACTION_BODY),
	      "an inherited body on a status without one");
	if (!small(&r))
		return;
	for (int head = 0; head <= 1; head++) {
		struct render out;
		struct render_opts opts = {
			.seed = seed,
			.reason = "Reason",
			.head_request = head,
			.close_header = seed & 1,
		};
		render_response(&r, &opts, &out);
		check(out.buf != NULL, "render gave no buffer");
		check(out.status_end <= out.head_end && out.head_end <= out.full_len
			      && out.len <= out.full_len,
		      "render parts out of order");
		if (r.fault.kind == FAULT_TRUNCATE)
			check(out.len <= render_part_end(&out, r.fault.at),
			      "truncate sent past the end of its part");
		if (r.fault.kind == FAULT_NONE)
			check_healthy(&r, &out, head);
		/* Every byte must be readable (ASan checks the bounds). */
		volatile unsigned char sum = 0;
		for (size_t i = 0; i < out.len; i++)
			sum ^= (unsigned char)out.buf[i];
		(void)sum;
		pace_through(&r, &out);
		render_free(&out);
	}
}

/* A literal path matches itself; with each '*' taken as nothing or as
 * "x/y", a pattern matches the result. */
static void match_own_path(const struct rule *r)
{
	const char *p = r->match.path;
	if (p == NULL)
		return;
	size_t n = strlen(p);
	char *empty = malloc(n + 1), *filled = malloc(3 * n + 1);
	check(empty != NULL && filled != NULL, "out of memory");
	size_t e = 0, f = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '*') {
			memcpy(filled + f, "x/y", 3);
			f += 3;
		} else {
			empty[e++] = p[i];
			filled[f++] = p[i];
		}
	}
	empty[e] = filled[f] = '\0';
	check(match_glob(p, empty), "a pattern does not match itself without its stars");
	check(match_glob(p, filled), "a pattern does not match its stars filled in");
	free(empty);
	free(filled);
}

static void check_draws(struct behave *b, const struct rule *r)
{
	for (int i = 0; i < 4; i++) {
		const struct action *a = behave_pick(b, r);
		check(a >= r->actions && a < r->actions + r->n_actions,
		      "picked an action outside the rule");
		check(r->behaviour != BEHAVE_CHOOSE || a->weight > 0,
		      "chose an action of weight 0");
		const struct dist *d = &a->delay;
		uint64_t us = behave_draw_us(behave_stream(b, r), d);
		check(us <= UNITS_MAX_DURATION_US, "drew a delay above 24h");
		if (d->kind == DIST_FIXED)
			check(us == d->a_us, "a fixed delay drew another value");
		if (d->kind == DIST_UNIFORM)
			check(us >= d->a_us && us <= d->b_us, "a uniform delay out of its range");
	}
}

static void check_rule(const struct scenario *sc, const struct rule *r, size_t i)
{
	check(r->index == i, "rule index is not its position");
	check(r->name != NULL, "rule without a name");
	check(r->n_actions >= 1 && r->actions != NULL, "rule without an action");
	check(r->behaviour >= BEHAVE_RESPOND && r->behaviour <= BEHAVE_SEQUENCE,
	      "rule without a behaviour");
	uint64_t total = 0;
	for (size_t k = 0; k < r->n_actions; k++)
		total += r->actions[k].weight;
	check(total == r->total_weight && total > 0, "weights do not add up");
	check(r->match.methods == NULL || r->match.n_methods > 0, "a method list with no method");
	(void)sc;
}

static void check_timeline(const struct scenario *sc, uint64_t h)
{
	uint64_t points[] = {0, 1, h % (UNITS_MAX_DURATION_US * 4), h};
	for (size_t k = 0; k < sizeof points / sizeof *points; k++) {
		uint64_t until;
		/* Counted from any phase, as after an admin API jump. */
		size_t from = (size_t)(h % (sc->n_phases + 1));
		size_t i = timeline_at(sc, from, points[k], &until);
		check(i == 0 || i < sc->n_phases, "timeline beyond the last phase");
		check(until > 0, "a phase that lasts no time");
		if (sc->loop)
			check(until != TIMELINE_NEVER, "a looping phase that never ends");
		timeline_listens(sc, i);
		check(timeline_name(sc, i) != NULL, "phase without a name");
	}
}

static void use(struct scenario *sc, const uint8_t *data, size_t size)
{
	uint64_t h = hash(data, size);
	check(sc->refs == 1, "a new scenario holds other references");
	check(sc->name != NULL && sc->file != NULL && strcmp(sc->file, LABEL) == 0,
	      "scenario name or file missing");
	render_action(sc, &sc->defaults, h);
	struct behave *b = behave_new(sc, 0);
	for (size_t i = 0; i < sc->n_rules; i++) {
		const struct rule *r = &sc->rules[i];
		check_rule(sc, r, i);
		match_own_path(r);
		for (size_t k = 0; k < r->n_actions; k++)
			render_action(sc, &r->actions[k], h + k);
		check_draws(b, r);
	}
	behave_unref(b);
	check_timeline(sc, h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A NUL after the bytes, as a file read into memory may have;
	 * len excludes it, so the loader must not rely on it. */
	char *buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_buffer(LABEL, buf, size, &err);
	free(buf);
	if (sc == NULL) {
		check(err.count > 0, "refused without a message");
		for (size_t i = 0; i < err.count; i++)
			check(strncmp(err.msgs[i], LABEL ":", strlen(LABEL) + 1) == 0,
			      "a message that does not start with the label");
	} else {
		check(err.count == 0, "accepted with error messages");
		use(sc, data, size);
	}
	scenario_unref(sc);
	err_clear(&err);
	return 0;
}

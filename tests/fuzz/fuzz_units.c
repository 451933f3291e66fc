/* fuzz_units: duration and size strings, as scenario files write them.
 *
 * Beyond "no crash", each accepted string must follow the documented
 * grammar and value, every value formatted must parse back to itself, and
 * every well-formed integer in range must be accepted. A violation aborts,
 * so libFuzzer reports it like a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct unit {
	const char *name;
	uint64_t scale;
};

static const struct unit durations[] = {
	{"us", 1}, {"ms", 1000}, {"s", 1000000}, {"m", 60000000}, {"h", 3600000000ULL}, {NULL, 0},
};

static const struct unit sizes[] = {
	{"", 1},       {"B", 1},	 {"KB", 1000},	      {"MB", 1000000}, {"GB", 1000000000},
	{"KiB", 1024}, {"MiB", 1048576}, {"GiB", 1073741824}, {NULL, 0},
};

static void fail(const char *what, const char *input)
{
	fprintf(stderr, "fuzz_units: %s: \"%s\"\n", what, input);
	abort();
}

/* The grammar, read independently of units.c: digits, an optional
 * fraction, then a unit of the table. On a match, the whole part (exact,
 * or saturated with *whole_big set), whether a fraction was written, and
 * the unit's scale. */
struct reading {
	unsigned __int128 whole;
	int whole_big; /* 2^90 or more: too big for any unit */
	int has_fraction;
	int fraction_nonzero;
	uint64_t scale;
};

static int read_grammar(const char *s, const struct unit *units, struct reading *r)
{
	memset(r, 0, sizeof *r);
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		/* Below 2^94, times a scale below 2^32: no overflow. */
		if (r->whole >= ((unsigned __int128)1 << 90))
			r->whole_big = 1;
		else
			r->whole = r->whole * 10 + (unsigned)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		r->has_fraction = 1;
		for (; *p >= '0' && *p <= '9'; p++)
			if (*p != '0')
				r->fraction_nonzero = 1;
	}
	for (const struct unit *u = units; u->name; u++) {
		if (strcmp(p, u->name) == 0) {
			r->scale = u->scale;
			return 0;
		}
	}
	return -1;
}

static void check_duration(const char *s)
{
	uint64_t us = 0;
	const char *why = NULL;
	int rc = units_parse_duration(s, &us, &why);
	struct reading r;
	int grammatical = read_grammar(s, durations, &r) == 0;
	if (rc != 0) {
		if (rc != -1 || why == NULL || why[0] == '\0')
			fail("duration refused without a reason", s);
		/* Below 24h for sure: a whole number of units up to it, or
		 * one with a fraction that stays under the next unit. */
		if (grammatical && !r.whole_big
		    && (r.has_fraction ? (r.whole + 1) * r.scale : r.whole * r.scale)
			       <= UNITS_MAX_DURATION_US)
			fail("duration in range refused", s);
		return;
	}
	if (!grammatical)
		fail("duration outside the grammar accepted", s);
	if (us > UNITS_MAX_DURATION_US)
		fail("duration above 24h accepted", s);
	/* The value lies in [whole, whole + 1) units, exactly whole without a
	 * fraction. */
	unsigned __int128 low = r.whole * r.scale;
	if (r.whole_big || us < low || us >= low + r.scale || (!r.fraction_nonzero && us != low))
		fail("duration parsed to the wrong value", s);

	/* What the formatter writes reads back as the same value. */
	char buf[32];
	units_format_duration(us, buf, sizeof buf);
	uint64_t back = 0;
	if (units_parse_duration(buf, &back, NULL) != 0 || back != us)
		fail("formatted duration does not parse back", buf);
}

static void check_size(const char *s)
{
	uint64_t n = 0;
	const char *why = NULL;
	int rc = units_parse_size(s, &n, &why);
	struct reading r;
	int grammatical = read_grammar(s, sizes, &r) == 0 && !r.has_fraction;
	if (rc != 0) {
		if (rc != -1 || why == NULL || why[0] == '\0')
			fail("size refused without a reason", s);
		/* The header promises: refused only when it does not fit. */
		if (grammatical && !r.whole_big && r.whole * r.scale <= UINT64_MAX)
			fail("size that fits in 64 bits refused", s);
		return;
	}
	if (!grammatical)
		fail("size outside the grammar accepted", s);
	if (r.whole_big || (unsigned __int128)n != r.whole * r.scale)
		fail("size parsed to the wrong value", s);
}

/* The formatter on any 64-bit value and any buffer size: always a string
 * inside the buffer; any value up to 24h reads back as itself. */
static void check_format(const uint8_t *data, size_t size)
{
	if (size < 9)
		return;
	uint64_t v;
	memcpy(&v, data, sizeof v);
	uint64_t us = v % (UNITS_MAX_DURATION_US + 1), back = 0;
	char text[32];
	units_format_duration(us, text, sizeof text);
	if (units_parse_duration(text, &back, NULL) != 0 || back != us)
		fail("formatted duration does not parse back", text);

	unsigned n = 1 + data[8] % 40;
	char buf[48];
	memset(buf, 'x', sizeof buf);
	units_format_duration(v, buf, n);
	if (memchr(buf, '\0', n) == NULL)
		fail("formatted duration not terminated inside its buffer", "");
	for (size_t i = n; i < sizeof buf; i++)
		if (buf[i] != 'x')
			fail("formatter wrote past its buffer", "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_duration(s);
	check_size(s);
	check_format(data, size);
	free(s);
	return 0;
}

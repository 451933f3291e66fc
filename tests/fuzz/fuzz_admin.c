/* fuzz_admin: every byte an admin client can put in a request body or a
 * query argument. The first input byte picks the reader, as the admin API
 * routes (sim/control/admin.c): the body of POST /v1/phase, of POST /v1/renew, a
 * numeric query argument (since, limit), or the body of PUT /v1/scenario;
 * the rest is the client's bytes.
 *
 * Beyond "no crash and no leak": a phase read is a name; a TTL read is a
 * duration the units accept (above 0, at most 24 h); a number read is
 * what its digits say. A violation aborts, so libFuzzer reports it. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/units.h"
#include "control/admin_parse.h"
#include "scenario/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_admin: %s\n", what);
	abort();
}

static void phase(const char *body, size_t len)
{
	char why[256] = "", *name = NULL;
	if (admin_parse_phase(body, len, &name, why, sizeof why) == 0) {
		if (name == NULL)
			fail("a phase read without a name");
		free(name);
	} else if (why[0] == '\0' || name != NULL) {
		fail("a refused phase body without a reason, or with a name");
	}
}

static void renew(const char *body, size_t len)
{
	char why[256] = "";
	uint64_t ttl = 1;
	if (admin_parse_renew(body, len, &ttl, why, sizeof why) == 0) {
		if (ttl > UNITS_MAX_DURATION_US || (len == 0 && ttl != 0))
			fail("a TTL out of range");
	} else if (why[0] == '\0') {
		fail("a refused renew body without a reason");
	}
}

/* Digits only, and their value: checked independently of strtoull. */
static void number(const char *s)
{
	uint64_t v, expect = 0;
	bool ok = s[0] != '\0', overflow = false;
	for (const char *p = s; *p && ok; p++) {
		if (*p < '0' || *p > '9')
			ok = false;
		else if (expect > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			overflow = true;
		else
			expect = expect * 10 + (uint64_t)(*p - '0');
	}
	bool got = admin_parse_uint(s, &v);
	if (got != (ok && !overflow))
		fail("a number accepted or refused against its digits");
	if (got && v != expect)
		fail("a number read as another value");
}

static void scenario(const char *body, size_t len)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_buffer("<admin>", body, len, &err);
	if ((sc == NULL) == (err.count == 0))
		fail("a scenario refused without an error, or loaded with one");
	scenario_unref(sc);
	err_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t len = size - 1;
	char *body = malloc(len + 1); /* NUL-terminated, as MHD's buffers are */
	memcpy(body, data + 1, len);
	body[len] = '\0';
	switch (data[0] % 4) {
	case 0: phase(body, len); break;
	case 1: renew(body, len); break;
	case 2: number(body); break;
	default: scenario(body, len); break;
	}
	free(body);
	return 0;
}

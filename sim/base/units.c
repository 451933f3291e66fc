#include "base/units.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit {
	const char *name;
	uint64_t scale;
};

static const struct unit duration_units[] = {
	{"us", 1}, {"ms", 1000}, {"s", 1000000}, {"m", 60000000}, {"h", 3600000000ULL}, {NULL, 0},
};

static const struct unit size_units[] = {
	{"", 1},       {"B", 1},	 {"KB", 1000},	      {"MB", 1000000}, {"GB", 1000000000},
	{"KiB", 1024}, {"MiB", 1048576}, {"GiB", 1073741824}, {NULL, 0},
};

static const struct unit *find_unit(const struct unit *units, const char *name)
{
	for (; units->name; units++)
		if (strcmp(units->name, name) == 0)
			return units;
	return NULL;
}

/* Parse "123" or "123.456" at *s; the fraction is kept as digits so the
 * product with the unit stays exact. Returns -1 on no digits or overflow. */
static int parse_decimal(const char **s, uint64_t *whole, uint64_t *frac, uint64_t *frac_div)
{
	const char *p = *s;
	*whole = 0;
	*frac = 0;
	*frac_div = 1;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		uint64_t digit = (uint64_t)(*p - '0');
		if (*whole > (UINT64_MAX - digit) / 10)
			return -1;
		*whole = *whole * 10 + digit;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++) {
			if (*frac_div >= 1000000000ULL)
				continue; /* beyond nanoseconds: ignore */
			*frac = *frac * 10 + (uint64_t)(*p - '0');
			*frac_div *= 10;
		}
	}
	*s = p;
	return 0;
}

int units_parse_duration(const char *s, uint64_t *out_us, const char **why)
{
	const char *dummy;
	if (why == NULL)
		why = &dummy;
	uint64_t whole, frac, div;
	if (parse_decimal(&s, &whole, &frac, &div) != 0) {
		*why = "expected a duration such as \"150ms\", \"2s\" or \"1m\"";
		return -1;
	}
	const struct unit *u = find_unit(duration_units, s);
	if (u == NULL) {
		*why = *s ? "unknown duration unit (use us, ms, s, m or h)"
			  : "a duration string needs a unit (us, ms, s, m or h)";
		return -1;
	}
	if (whole > UNITS_MAX_DURATION_US / u->scale) {
		*why = "duration too long (at most 24h)";
		return -1;
	}
	uint64_t us = whole * u->scale + frac * u->scale / div;
	if (us > UNITS_MAX_DURATION_US) {
		*why = "duration too long (at most 24h)";
		return -1;
	}
	*out_us = us;
	return 0;
}

int units_parse_size(const char *s, uint64_t *out, const char **why)
{
	const char *dummy;
	if (why == NULL)
		why = &dummy;
	uint64_t whole, frac, div;
	if (parse_decimal(&s, &whole, &frac, &div) != 0 || div != 1) {
		*why = "expected a size such as 512, \"64KiB\" or \"1MB\"";
		return -1;
	}
	const struct unit *u = find_unit(size_units, s);
	if (u == NULL) {
		*why = "unknown size unit (use B, KB, MB, GB, KiB, MiB or GiB)";
		return -1;
	}
	if (whole > UINT64_MAX / u->scale) {
		*why = "size too large";
		return -1;
	}
	*out = whole * u->scale;
	return 0;
}

int64_t units_parse_http_length(const char *s)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 18 || s[n] != '\0')
		return -1;
	return strtoll(s, NULL, 10);
}

char *units_format_duration(uint64_t us, char *buf, unsigned n)
{
	if (us % 1000000 == 0 && us != 0)
		snprintf(buf, n, "%llus", (unsigned long long)(us / 1000000));
	else if (us % 1000 == 0)
		snprintf(buf, n, "%llums", (unsigned long long)(us / 1000));
	else
		snprintf(buf, n, "%lluus", (unsigned long long)us);
	return buf;
}

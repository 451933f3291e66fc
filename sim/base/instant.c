#include "base/instant.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Up to 6 digits of a fraction of a second, as microseconds; more are
 * read and dropped. */
static const char *fraction_us(const char *p, int64_t *us)
{
	int64_t scale = 100000;
	*us = 0;
	for (; isdigit((unsigned char)*p); p++, scale /= 10)
		*us += scale ? (*p - '0') * scale : 0;
	return p;
}

static int parse_unix(const char *s, int64_t *unix_us)
{
	const char *p = s;
	int64_t sec = 0, frac = 0;
	for (; isdigit((unsigned char)*p); p++) {
		if (sec > (INT64_MAX / 1000000 - 9) / 10)
			return -1;
		sec = sec * 10 + (*p - '0');
	}
	if (p == s)
		return -1;
	if (*p == '.')
		p = fraction_us(p + 1, &frac);
	if (*p != '\0')
		return -1;
	*unix_us = sec * 1000000 + frac;
	return 0;
}

/* "Z", "+HH:MM" or "-HH:MM": seconds east of UTC. */
static int parse_offset(const char *p, long *east)
{
	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
		*east = 0;
		return 0;
	}
	int h, m;
	char sign = p[0], tail;
	if ((sign != '+' && sign != '-') || strlen(p) != 6
	    || sscanf(p + 1, "%2d:%2d%c", &h, &m, &tail) != 2 || h > 23 || m > 59)
		return -1;
	*east = (sign == '+' ? 1 : -1) * (h * 3600L + m * 60L);
	return 0;
}

static int parse_rfc3339(const char *s, int64_t *unix_us)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		p = strptime(s, "%Y-%m-%dt%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	int64_t frac = 0;
	if (*p == '.')
		p = fraction_us(p + 1, &frac);
	long east;
	if (parse_offset(p, &east) != 0)
		return -1;
	time_t t = timegm(&tm);
	*unix_us = ((int64_t)t - east) * 1000000 + frac;
	return 0;
}

int instant_parse(const char *s, int64_t *unix_us, const char **why)
{
	if (parse_unix(s, unix_us) == 0 || parse_rfc3339(s, unix_us) == 0)
		return 0;
	if (why)
		*why = "expected RFC 3339 (2026-11-25T15:00:00Z) or Unix seconds";
	return -1;
}

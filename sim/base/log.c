#include "base/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static bool json_lines;

void log_set_json(bool json)
{
	json_lines = json;
}

void log_set_level(enum log_level level)
{
	min_level = level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	if (level < min_level)
		return;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* One fprintf per line so concurrent writers never interleave. */
	json_t *o = NULL;
	char when[64];
	snprintf(when, sizeof when, "%s.%03ldZ", stamp, (long)(tv.tv_usec / 1000));
	if (json_lines) /* NULL for text that is not UTF-8: printed as text */
		o = json_pack("{s:s, s:s, s:s%}", "time", when, "level", names[level], "msg", line,
			      strlen(line));
	if (o == NULL) {
		fprintf(stderr, "%s upsim %s: %s\n", when, names[level], line);
		return;
	}
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text != NULL)
		fprintf(stderr, "%s\n", text);
	free(text);
	json_decref(o);
}

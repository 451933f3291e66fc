#include "engine/body.h"

void body_pattern(uint64_t offset, char *buf, size_t n)
{
	static const char line[] = BODY_PATTERN;
	const size_t period = sizeof line - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = line[(offset + i) % period];
}

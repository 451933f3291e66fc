#include "engine/timeline.h"

#include <string.h>

static uint64_t total_us(const struct scenario *sc)
{
	uint64_t t = 0;
	for (size_t i = 0; i < sc->n_phases; i++)
		t += sc->phases[i].duration_us;
	return t;
}

size_t timeline_at(const struct scenario *sc, size_t from, uint64_t elapsed_us, uint64_t *until_us)
{
	*until_us = TIMELINE_NEVER;
	size_t n = sc->n_phases;
	if (n == 0)
		return 0;
	size_t i = from < n ? from : 0;
	uint64_t t = elapsed_us;
	if (sc->loop)
		t %= total_us(sc); /* the loader requires every duration > 0 */
	for (;;) {
		uint64_t d = sc->phases[i].duration_us;
		bool last = i + 1 == n;
		if (d == 0 || (last && !sc->loop))
			return i; /* until switched, or for ever */
		if (t < d) {
			*until_us = d - t;
			return i;
		}
		t -= d;
		i = last ? 0 : i + 1;
	}
}

bool timeline_listens(const struct scenario *sc, size_t index)
{
	return sc->n_phases == 0 || sc->phases[index].listen;
}

const char *timeline_name(const struct scenario *sc, size_t index)
{
	return sc->n_phases == 0 ? "default" : sc->phases[index].name;
}

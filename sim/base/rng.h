/* rng: a small seeded generator (xoshiro256**, seeded through splitmix64).
 *
 * Determinism is a promise of upsim: the same seed and stream number give
 * the same sequence on every machine, so each rule owns a stream derived
 * from the scenario seed and its own index. */
#ifndef UPSIM_BASE_RNG_H
#define UPSIM_BASE_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* Seed r for the given stream of seed; distinct streams are independent. */
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
/* Next 64 random bits. */
uint64_t rng_next(struct rng *r);
/* Uniform integer in [0, bound), without modulo bias; bound must be > 0. */
uint64_t rng_below(struct rng *r, uint64_t bound);
/* Uniform double in [0, 1). */
double rng_unit(struct rng *r);

#endif

/* admin_parse: what the admin API reads from a request — JSON bodies
 * (POST /v1/phase, POST /v1/renew) and numeric query arguments. Pure, so
 * that every byte an admin client can send is fuzzed (tests/fuzz). */
#ifndef UPSIM_CONTROL_ADMIN_PARSE_H
#define UPSIM_CONTROL_ADMIN_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* {"phase": "NAME"}: 0 with *name (a new string), or -1 with why. */
int admin_parse_phase(const char *body, size_t len, char **name, char *why, size_t n);

/* {} or {"ttl": "10m"} (an empty body too): 0 with *ttl_us (0: the
 * default TTL), or -1 with why. */
int admin_parse_renew(const char *body, size_t len, uint64_t *ttl_us, char *why, size_t n);

/* A query argument's value: digits only, fitting in 64 bits. */
bool admin_parse_uint(const char *s, uint64_t *out);

#endif

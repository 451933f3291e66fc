/* schema: the JSON Schemas (draft 2020-12) of scenario files and fleet
 * files, as docs/schema has them, carried in the binary (tools/embed.sh
 * at build time) for `upsim schema` and editors. */
#ifndef UPSIM_SCENARIO_SCHEMA_H
#define UPSIM_SCENARIO_SCHEMA_H

#include <stddef.h>

/* NUL-terminated JSON text, and its length. */
extern const char schema_scenario_json[];
extern const size_t schema_scenario_json_len;
extern const char schema_fleet_json[];
extern const size_t schema_fleet_json_len;

#endif

/* record_cmd: `upsim record` — pass traffic through to a real service and,
 * when stopped, write a scenario whose rules answer what it answered
 * (docs/forwarding.md, "Recording a baseline"). */
#ifndef UPSIM_RECORD_CMD_H
#define UPSIM_RECORD_CMD_H

/* The usage text of `upsim record --help`. */
extern const char record_usage[];

/* argv[0] is "record". Returns the exit code: 0 the scenario was written,
 * 1 a runtime failure (it could not be written, the address could not be
 * served), 2 a usage error. */
int record_main(int argc, char **argv);

#endif

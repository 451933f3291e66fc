/* check_cmd: `upsim check` — serve scenarios where a gateway's config
 * names its upstream, send their probes through the gateway, report. */
#ifndef UPSIM_CHECK_CMD_H
#define UPSIM_CHECK_CMD_H

/* The usage text of `upsim check --help`. */
extern const char check_usage[];

/* argv[0] is "check". Returns the exit code: 0 every expectation held,
 * 1 one did not (or the gateway cannot be reached), 2 usage or scenario
 * error (or the listen address cannot be served). */
int check_main(int argc, char **argv);

#endif

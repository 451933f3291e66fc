/* run: the lifecycle of `upsim run` — load, listen, announce, serve, stop. */
#ifndef UPSIM_RUN_H
#define UPSIM_RUN_H

#include "base/err.h"
#include "cli.h"

/* Serve cli->files[0] until SIGTERM/SIGINT. Returns the exit code: 0 after
 * a clean stop, 1 on a runtime failure, 2 on an invalid scenario or
 * address. */
int run_serve(const struct cli *cli);

/* `upsim validate`: check each file, print "FILE: ok" or every error.
 * Returns 0 when all are valid, 2 otherwise. */
int run_validate(char **files, int n);

/* `upsim faults`: the catalogue, a line and an example each. */
int run_faults(void);

/* Print every message of err on stderr, one per line. */
void run_print_errors(const struct upsim_err *err);

#endif

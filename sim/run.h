/* run: the lifecycle of `upsim run` — load, listen, announce, serve, stop. */
#ifndef UPSIM_RUN_H
#define UPSIM_RUN_H

#include "base/err.h"
#include "cli.h"

/* Serve cli->files[0] until SIGTERM/SIGINT. Returns the exit code: 0 after
 * a clean stop, 1 on a runtime failure, 2 on an invalid scenario or
 * address. */
int run_serve(const struct cli *cli);

/* The process `upsim run` is: its loop, its upstreams, its journal. */
struct app;
/* Check cli's upstreams and start serving them (announcing ready unless
 * cli->quiet); loop_run(run_app_loop(app)) then serves. NULL with *code
 * set on failure: 2 for an invalid scenario or address, 1 at run time. With
 * cli->backup_listen, a second upstream there serves a built-in healthy
 * scenario. */
struct app *run_app_start(const struct cli *cli, int *code);
struct loop *run_app_loop(struct app *app);
struct fleet *run_app_fleet(struct app *app);
/* Stop serving and free. */
void run_app_stop(struct app *app);

/* `upsim validate`: check each file (with forward_to, NULL or a URL, in
 * place of its "upstream"), print "FILE: ok" or every error. Returns 0
 * when all are valid, 2 otherwise. */
int run_validate(char **files, int n, const char *forward_to);

/* `upsim faults`: the catalogue, a line and an example each. */
int run_faults(void);

/* `upsim schema [--fleet]`: the JSON Schema of scenario (fleet) files. */
int run_schema(bool fleet);

/* Print every message of err on stderr, one per line. */
void run_print_errors(const struct upsim_err *err);

#endif

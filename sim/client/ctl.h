/* ctl: `upsim ctl`, the admin API's command-line client for shells and CI
 * scripts (status, stats, load, phase, reset, renew, journal, metrics). */
#ifndef UPSIM_CLIENT_CTL_H
#define UPSIM_CLIENT_CTL_H

#include <stddef.h>

/* The text `upsim ctl --help` prints. */
extern const char ctl_usage[];

/* Run `upsim ctl` with the arguments after "ctl". Returns the exit code:
 * 0 when the API answered 2xx, 1 for an error answer or no answer, 2 for
 * a usage error. */
int ctl_main(int argc, char **argv);

/* One request to the admin API at addr ("HOST:PORT"); token NULL for
 * none; body NULL for none. On an answer returns 0 with its status and
 * body (NUL-terminated, free it); -1 with a reason in *response
 * otherwise. */
int ctl_request(const char *addr, const char *token, const char *method, const char *path,
		const char *body, size_t body_len, long *status, char **response);

#endif

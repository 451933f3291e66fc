/* backend: a real service behind upsim in forward mode — nginx serving
 * files from a private temporary folder on a kernel-chosen loopback port.
 *
 * The caller fills the site (backend_www) between backend_prepare and
 * backend_start. nginx runs through tests/gateways/nginx/run, in the
 * foreground, and dies with the test process (PR_SET_PDEATHSIG). Besides
 * the files, GET /echo answers one line naming what reached nginx:
 * "METHOD URI via=VIA xff=X-FORWARDED-FOR len=CONTENT-LENGTH conn=CONNECTION". */
#ifndef UPSIM_TEST_BACKEND_H
#define UPSIM_TEST_BACKEND_H

#include <stddef.h>
#include <sys/types.h>

struct backend {
	pid_t pid;    /* 0 when not running */
	int port;     /* where it listens on 127.0.0.1 */
	char dir[64]; /* its private folder: the site, logs, config */
	char www[80]; /* dir/www, the root of the site */
	char url[40]; /* "http://127.0.0.1:PORT", for --forward-to */
};

/* Create the private folder and its empty site dir/www. 0, or -1 with
 * the reason on stderr. */
int backend_prepare(struct backend *b);

/* Write len bytes of data to www/rel (rel: "a.txt" or "sub/a.txt"; the
 * folders are made). 0 or -1. */
int backend_put(const struct backend *b, const char *rel, const void *data, size_t len);

/* Start nginx on a free loopback port and wait up to timeout_ms until it
 * accepts connections. 0, or -1 with the reason on stderr (b is then
 * stopped and its folder removed). */
int backend_start(struct backend *b, int timeout_ms);

/* Stop nginx (SIGTERM, reaped) and remove the folder. Safe to call twice. */
void backend_stop(struct backend *b);

#endif

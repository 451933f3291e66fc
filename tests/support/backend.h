/* backend: a real service behind upsim in forward mode — nginx serving
 * files from a private temporary folder on a kernel-chosen loopback port.
 *
 * The caller fills the site (backend_www) between backend_prepare and
 * backend_start. nginx runs through tests/gateways/nginx/run, in the
 * foreground, and dies with the test process (PR_SET_PDEATHSIG). Besides
 * the files, GET /echo answers one line naming what reached nginx:
 * "METHOD URI via=VIA xff=X-FORWARDED-FOR len=CONTENT-LENGTH conn=CONNECTION
 * te=TRANSFER-ENCODING",
 * and GET /cookie sets a cookie (Set-Cookie: sid=secret-session).
 *
 * With tls set before backend_start, a second server block serves the
 * same files over TLS on tls_port, with a certificate for IP 127.0.0.1
 * from a throwaway CA that the openssl CLI makes in the folder (dir/ca.pem:
 * the CA to trust; nothing to expire in the tree), and logs
 * "$ssl_protocol $request" to dir/tls_access.log. */
#ifndef UPSIM_TEST_BACKEND_H
#define UPSIM_TEST_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct backend {
	pid_t pid;    /* 0 when not running */
	int port;     /* where it listens on 127.0.0.1 */
	char dir[64]; /* its private folder: the site, logs, config */
	char www[80]; /* dir/www, the root of the site */
	char url[40]; /* "http://127.0.0.1:PORT", for --forward-to */
	bool tls;     /* set before backend_start: serve https too */
	int tls_port; /* where it serves https; 0: it does not */
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

/* gateway: start a real gateway (nginx, HAProxy, Caddy, Varnish, Apache)
 * on loopback in front of upsim, for the conformance tests.
 *
 * Each gateway has a folder tests/gateways/NAME with a config template
 * (gateway.conf.in: @PORT@, @UPSTREAM@, @UPSTREAM2@, @DIR@, @ERROR_LOG@;
 * lines starting with @IF_BACKUP@ only when there is a backup upstream)
 * and a `run` script that execs it in the foreground. Every gateway gets a
 * private temporary folder and a port from the kernel, and dies with the
 * test process (PR_SET_PDEATHSIG) even when a test fails. */
#ifndef UPSIM_TEST_GATEWAY_H
#define UPSIM_TEST_GATEWAY_H

#include <stddef.h>
#include <sys/types.h>

/* The gateways the conformance tests know, in report order. */
extern const char *const gateway_names[];
extern const size_t gateway_count;

struct gateway {
	char name[32];
	pid_t pid;              /* 0 when not running */
	int port;               /* where it listens on 127.0.0.1 */
	char dir[128];          /* its private folder */
	char error_log[192];    /* the error log it writes */
};

/* How long NAME needs, started before its upstream listens, to see the
 * upstream up: HAProxy's health checks (tests/gateways/haproxy: inter 1s,
 * rise 2) mark it down first. 0 for the others. */
int gateway_warm_ms(const char *name);

/* Is NAME's program installed (in /usr/sbin, /usr/bin or /usr/local)? */
int gateway_installed(const char *name);

/* Render NAME's config for upstream "127.0.0.1:PORT" and, if upstream2 is
 * not NULL, a backup upstream (@UPSTREAM2@ is upstream otherwise), start it and wait up to timeout_ms until
 * its port accepts connections. Returns 0, or -1 with the reason and its
 * output on stderr (g is then stopped and cleaned up). */
int gateway_start(struct gateway *g, const char *name, const char *upstream,
		  const char *upstream2, int timeout_ms);

/* SIGTERM (SIGKILL after timeout_ms), reap, remove its folder. */
void gateway_stop(struct gateway *g, int timeout_ms);

/* What a client got for one GET through the gateway. */
struct gateway_answer {
	int status;             /* from the status line; 0: no response */
	double ms;              /* until the gateway ended the connection */
	char *log;              /* error log lines written meanwhile (new string) */
};

/* GET path through g with Connection: close, read to the end (at most
 * timeout_ms), then collect the error log lines it caused: waits up to
 * log_ms for needle to appear when needle is not NULL. */
void gateway_probe(const struct gateway *g, const char *path, int timeout_ms,
		   const char *needle, int log_ms, struct gateway_answer *out);
void gateway_answer_free(struct gateway_answer *a);

/* The error log's bytes from offset on (a new string), or "" if none. */
char *gateway_error_log(const struct gateway *g, size_t offset);
/* The error log's size now. */
size_t gateway_error_log_size(const struct gateway *g);

#endif

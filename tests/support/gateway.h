/* gateway: start a real gateway (nginx, HAProxy, Caddy, Varnish, Apache)
 * on loopback in front of upsim, for the conformance tests.
 *
 * Each gateway has a folder tests/gateways/NAME with a config template
 * (gateway.conf.in: @PORT@, @UPSTREAM@, @UPSTREAM2@, @DIR@, @ERROR_LOG@;
 * lines starting with @IF_BACKUP@ only when there is a backup upstream),
 * and may have tests/gateways/NAME-dns, a template resolving the upstream
 * by name through upsim's DNS (@DNS@, @UPSTREAM_PORT@), and
 * tests/gateways/NAME-tls*, templates speaking TLS to the upstream (@CA@,
 * upsim's CA), and a `run` script that execs it in the foreground. Every
 * gateway gets a private temporary folder and a port from the kernel, and
 * dies with the test process (PR_SET_PDEATHSIG) even when a test fails. */
#ifndef UPSIM_TEST_GATEWAY_H
#define UPSIM_TEST_GATEWAY_H

#include <stddef.h>
#include <sys/types.h>

/* The gateways the conformance tests know, in report order. */
extern const char *const gateway_names[];
extern const size_t gateway_count;

struct gateway {
	char name[32];
	pid_t pid;	     /* 0 when not running */
	int port;	     /* where it listens on 127.0.0.1 */
	char dir[128];	     /* its private folder */
	char error_log[192]; /* the error log it writes */
};

/* The configs a scenario served over TLS ("connection.tls") meets: the
 * gateway name its expect blocks use, the gateway whose run script starts
 * it, and its template folder under tests/gateways. Varnish has none: its
 * open-source edition speaks no TLS to backends. */
struct gateway_tls {
	const char *name;    /* "nginx", "nginx-noverify", ... */
	const char *gateway; /* "nginx" */
	const char *config;  /* "nginx-tls", "nginx-tls-noverify", ... */
};
extern const struct gateway_tls gateway_tls_configs[];
extern const size_t gateway_tls_count;

/* The TLS config of expect name, or NULL. */
const struct gateway_tls *gateway_tls_config(const char *name);

/* How long NAME needs, started before its upstream listens, to see the
 * upstream up: HAProxy's health checks (tests/gateways/haproxy: inter 1s,
 * rise 2) mark it down first. 0 for the others. */
int gateway_warm_ms(const char *name);

/* A loopback port the kernel has just handed out and taken back. */
int gateway_free_port(void);

/* Is NAME's program installed (in /usr/sbin, /usr/bin or /usr/local)? */
int gateway_installed(const char *name);

/* Has NAME a config that resolves its upstream's name at run time
 * (tests/gateways/NAME-dns: @DNS@, @UPSTREAM_PORT@)? */
int gateway_has_dns_config(const char *name);

/* How long after a DNS change NAME's answers follow it, with its -dns
 * config's resolver holds (upsim check --dns-settle). */
int gateway_dns_settle_ms(const char *name);

/* What a template is rendered with. */
struct gateway_setup {
	const char *config;    /* its folder under tests/gateways: "nginx",
				  "nginx-dns", "nginx-tls-noverify" */
	const char *upstream;  /* "127.0.0.1:PORT" */
	const char *upstream2; /* a backup upstream, or NULL */
	const char *dns;       /* @DNS@ "127.0.0.1:PORT", or NULL */
	const char *ca;	       /* @CA@, upsim's CA file, or NULL */
};

/* NAME's private folder, error log path and port, chosen before the
 * gateway starts (so that upsim can be told where it will be). 0, or -1
 * (said on stderr; g is then cleaned up). */
int gateway_prepare(struct gateway *g, const char *name);

/* Render setup's template into g's folder (@PORT@, @UPSTREAM@,
 * @UPSTREAM2@ - upstream when there is no backup -, @DNS@,
 * @UPSTREAM_PORT@, @CA@, @DIR@, @ERROR_LOG@; @IF_BACKUP@ lines kept only
 * with a backup), run NAME's run script and wait up to timeout_ms until
 * g's port accepts connections. 0, or -1 with the reason and its output
 * on stderr (g is then stopped and cleaned up). */
int gateway_launch(struct gateway *g, const struct gateway_setup *setup, int timeout_ms);

/* SIGTERM (SIGKILL after timeout_ms), reap, remove its folder. */
void gateway_stop(struct gateway *g, int timeout_ms);

#endif

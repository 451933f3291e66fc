/* gateway_check: one scenario through one real gateway, by `upsim check`
 * — the path the gateway suite and `make matrix` share with teams.
 *
 * The gateway starts from tests/gateways with its upstream (and, for
 * probes written with_backup, a backup) on free loopback ports; upsim
 * check then serves the scenario there and probes through the gateway. */
#ifndef UPSIM_TEST_GATEWAY_CHECK_H
#define UPSIM_TEST_GATEWAY_CHECK_H

#include <jansson.h>
#include <stdbool.h>

/* The longest one (scenario, gateway) may take: hangs answer after the
 * gateway's 2 s timeout, retries double it, repeat multiplies. */
#define GATEWAY_CHECK_MS 240000

struct gateway_check {
	int code;	/* upsim check's exit status; -1: killed at the cap */
	json_t *result; /* its --json output; NULL if none */
	char *err;	/* its standard error (the text report) */
	char *why;	/* set when the gateway itself did not start */
};

/* Run `upsim check --json` for file through gateway, with --backup when
 * with_backup, and extra (NULL or one more option, e.g. "--observe"). A
 * scenario with "dns" gets the gateway's NAME-dns config, resolving the
 * upstream through upsim's DNS (--dns, --dns-settle). A forwarding one
 * gets a real service: nginx serving a few files on its own loopback port
 * (index.html, api/checkout, api/orders, api/search, reports/daily,
 * inventory/items), named by --forward-to. */
void gateway_check_run(const char *file, const char *gateway, bool with_backup, const char *extra,
		       struct gateway_check *out);
void gateway_check_free(struct gateway_check *c);

#endif

/* tls_alert: TLS alert names as the scenario format spells them.
 *
 * The names are GnuTLS's own (GNUTLS_A_HANDSHAKE_FAILURE is
 * "handshake_failure"), so every alert the library knows can be asked for
 * and the codes are never typed by hand. */
#ifndef UPSIM_SCENARIO_TLS_ALERT_H
#define UPSIM_SCENARIO_TLS_ALERT_H

#include <stddef.h>

/* The description code of alert name (lower case, as in RFC 8446), or -1. */
int tls_alert_code(const char *name);
/* The name of code into buf ("" when GnuTLS knows none); returns buf. */
const char *tls_alert_name(int code, char *buf, size_t len);

#endif

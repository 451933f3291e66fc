/* tls_session: TLS on the connections libmicrohttpd serves.
 *
 * MHD runs the handshake and the record layer with GnuTLS. This module
 * prepares each connection's session before its handshake as the
 * connection policy asks — which certificate it presents, which versions
 * it accepts — and carries upsim's own raw writes and closes through the
 * session, so a fault's byte offsets count plaintext bytes of the HTTP
 * message and a close says close_notify or not, as asked. */
#ifndef UPSIM_NET_TLS_SESSION_H
#define UPSIM_NET_TLS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scenario/model.h"

struct MHD_Connection;
struct tls_certs;
struct tls_server;

/* What a TLS listener serves with (certs borrowed: it must outlive the
 * result). Returns NULL with the reason in err. */
struct tls_server *tls_server_new(const struct tls_certs *certs, char *err, size_t errlen);
void tls_server_free(struct tls_server *t); /* NULL accepted */
/* The PEM certificate chain and key MHD starts with (borrowed). */
const char *tls_server_cert_pem(const struct tls_server *t);
const char *tls_server_key_pem(const struct tls_server *t);

/* mhd has just started (its handshake has not): give its session the
 * certificate and versions of p, and a transport whose reads and writes
 * tls_session_moves counts. Returns the session (a gnutls_session_t), or
 * NULL when MHD has none. */
void *tls_session_begin(const struct tls_server *t, struct MHD_Connection *mhd,
			const struct tls_policy *p);
/* How many reads and writes of the sessions this thread has run so far
 * moved bytes or met the connection's end (an EAGAIN does neither). */
uint64_t tls_session_moves(void);
/* Send up to len plaintext bytes as one record. Returns how many were
 * sent, or -1 with errno EAGAIN (call again once writable: *retry is then
 * set, and the call resends the pending record whatever buf holds) or
 * EPIPE (the session is dead). */
ssize_t tls_session_send(void *session, const void *buf, size_t len, bool *retry);
/* Hold what MHD sends from now on (a small response's head and body,
 * which libmicrohttpd 0.9.75 sends as two records) to go out as one
 * record at tls_session_uncork. */
void tls_session_cork(void *session);
/* Send what the cork held. Returns 1 when all of it went, 0 when the
 * socket had no room (still corked: call again once writable; anything
 * sent meanwhile joins the held bytes), -1 when the session is dead. */
int tls_session_uncork(void *session);
/* Send close_notify if the socket takes it now (never blocks). */
void tls_session_bye(void *session);

#endif

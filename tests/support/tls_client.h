/* tls_client: a GnuTLS test client that says how a TLS connection ended.
 *
 * Over TLS the ending is three things, not two: close_notify then a FIN
 * (a clean close), a FIN without close_notify (a truncation attack, as
 * clients call it), or a RST. Reads report which, beside the plaintext
 * bytes, so the wire tests can hold upsim's TLS faults to their promise.
 * Every wait is bounded by a timeout; nothing sleeps. */
#ifndef UPSIM_TEST_TLS_CLIENT_H
#define UPSIM_TEST_TLS_CLIENT_H

#include <gnutls/gnutls.h>
#include <stddef.h>

enum tls_end {
	TLS_END_OPEN = 1,     /* the timeout passed; the connection is open */
	TLS_END_CLOSE_NOTIFY, /* close_notify arrived (a clean close) */
	TLS_END_BARE_FIN,     /* a FIN without close_notify */
	TLS_END_RST,	      /* a TCP RST */
	TLS_END_ERROR,	      /* another TLS error (an alert, ...): see err */
};

struct tls_client {
	int fd;
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
	int handshake;	 /* gnutls_handshake's result: 0 when it completed */
	unsigned verify; /* gnutls_certificate_verify_peers3's status */
};

/* Connect to 127.0.0.1:port and handshake within timeout_ms, trusting
 * ca_file (NULL: nothing), sending server_name as SNI and verifying the
 * certificate for it, with GnuTLS priority (NULL: "NORMAL"). Returns 0
 * once connected (c->handshake says how the handshake went; c->verify
 * the certificate's status when it completed), -1 if no TCP connection. */
int tls_client_open(struct tls_client *c, int port, const char *ca_file, const char *server_name,
		    const char *priority, int timeout_ms);
/* tls_client_open on a socket the caller connected (c owns fd after). */
void tls_client_start(struct tls_client *c, int fd, const char *ca_file, const char *server_name,
		      const char *priority, int timeout_ms);
/* Send s whole. 0, or -1. */
int tls_client_send(struct tls_client *c, const char *s);
/* Read plaintext, appending to *buf (malloc'd, NUL-terminated; *len
 * bytes), until the connection ends or timeout_ms passes; with want > 0,
 * stop once *len reaches want (end: TLS_END_OPEN). Returns the end. */
enum tls_end tls_client_read(struct tls_client *c, size_t want, int timeout_ms, char **buf,
			     size_t *len);
/* "open", "close_notify", "bare_fin", "rst", "error". */
const char *tls_end_name(enum tls_end e);
/* "TLS1.2", "TLS1.3", ... of the completed handshake. */
const char *tls_client_version(const struct tls_client *c);
void tls_client_close(struct tls_client *c);

/* The raw bytes of a GnuTLS client's first flight (its ClientHello, one
 * record) into buf; returns their count, 0 on failure. For wire tests
 * that send a real ClientHello from a raw socket. */
size_t tls_client_hello(unsigned char *buf, size_t cap);

#endif

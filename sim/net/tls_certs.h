/* tls_certs: the certificates upsim serves over TLS.
 *
 * A gateway that talks TLS to its upstream must be tested against the
 * certificates it will meet in the field, the bad ones most of all: an
 * expired one, one not valid yet, one for another name, one signed by a
 * CA it does not trust. upsim makes them all at start, in memory, with
 * GnuTLS (no crypto or DER of our own): a CA of its own ("upsim test CA",
 * which --tls-ca-out writes for the gateway to trust) and, for each kind
 * below, a leaf signed by it — but for the untrusted one, signed by a
 * second CA that is made at start and never written anywhere. Keys are
 * ECDSA P-256, so start-up stays in the milliseconds and handshakes are
 * cheap; one leaf key serves every kind.
 *
 * Each kind has its own credentials, holding the leaf followed by the CA
 * that signed it: the chain a server sends. Which kind a connection gets
 * is the server's choice, not this module's.
 *
 * Times: the CAs are valid from 2 days ago (before any leaf they sign)
 * for 10 years; VALID, WRONG_NAME and UNTRUSTED leaves from an hour ago
 * (clocks differ between hosts) for a year, within what clients that cap
 * a leaf's lifetime accept; EXPIRED from 2 days ago to 1 day ago;
 * NOT_YET_VALID from a day ahead for a year. Nothing is renewed: an upsim
 * left running for a year serves an expired VALID certificate. */
#ifndef UPSIM_NET_TLS_CERTS_H
#define UPSIM_NET_TLS_CERTS_H

#include <stddef.h>

#include <gnutls/gnutls.h>

enum tls_cert_kind {
	TLS_CERT_VALID = 0,	/* signed by upsim's CA (or the user's own cert) */
	TLS_CERT_EXPIRED,	/* validity ended a day ago */
	TLS_CERT_NOT_YET_VALID, /* validity starts in a day */
	TLS_CERT_WRONG_NAME,	/* names wrong.upsim.invalid, not the listen name */
	TLS_CERT_UNTRUSTED,	/* right name and dates, signed by a CA nobody trusts */
	TLS_CERT_KINDS,
};

/* The WRONG_NAME leaf's only name (its DNS SAN and its CN). */
#define TLS_CERTS_WRONG_NAME "wrong.upsim.invalid"

struct tls_certs;

/* --tls auto: make upsim's CA, the untrusted CA and a leaf of every kind
 * for name, which clients will ask for: a DNS name ("upstream.test") or an
 * IPv4 or IPv6 literal ("127.0.0.1", "::1", brackets accepted: "[::1]").
 * A literal goes in an IP SAN, a name in a DNS SAN, and it is the CN.
 * Every leaf but WRONG_NAME also names "localhost", 127.0.0.1 and ::1, so
 * loopback tests verify whatever name the listener has; WRONG_NAME names
 * only TLS_CERTS_WRONG_NAME. Leaves are CA:FALSE, key usage
 * digitalSignature, extended key usage serverAuth, with a random serial.
 * A wildcard listen address (0.0.0.0, ::) is accepted but names no host
 * a client asks for: pass the name the clients use. Takes a few ms.
 * Returns new certificates (tls_certs_free), or NULL with the reason in
 * err (errlen bytes; NULL and 0 accepted). */
struct tls_certs *tls_certs_auto(const char *name, char *err, size_t errlen);

/* --tls-cert/--tls-key: the user's PEM certificate chain (the leaf first,
 * then its issuers, as nginx takes it) and unencrypted PEM private key
 * (PKCS#8, or "EC PRIVATE KEY" and the like) serve TLS_CERT_VALID as they are: their
 * names and dates are the user's business. Both may name one file that
 * holds the chain and the key (HAProxy's way). The faulty kinds are still
 * made for name, exactly as tls_certs_auto makes them, signed by upsim's
 * own CA; tls_certs_ca_pem is that CA, not the user's. So a gateway that
 * trusts only the user's CA sees every faulty kind as untrusted too,
 * whatever else is wrong with it: to meet an expired or wrong-name leaf
 * as such, the gateway must trust upsim's CA as well (--tls-ca-out).
 * Returns new certificates, or NULL with one of these reasons in err:
 *   "FILE: STRERROR"                      (a file that cannot be read)
 *   "FILE: larger than 1048576 bytes"
 *   "FILE: not a PEM certificate"
 *   "FILE: not a PEM private key"
 *   "FILE: an encrypted private key (give it unencrypted)"
 *   "the key in KEYFILE does not match the first certificate in CERTFILE"
 *   "--tls-key needs --tls-cert"          (cert_file NULL)
 *   "--tls-cert needs --tls-key"          (key_file NULL)
 * or one of tls_certs_auto's. */
struct tls_certs *tls_certs_load(const char *cert_file, const char *key_file, const char *name,
				 char *err, size_t errlen);

/* Free every certificate, key and credentials. NULL accepted. */
void tls_certs_free(struct tls_certs *c);

/* The credentials that serve kind (c and kind valid): borrowed, valid
 * until tls_certs_free (after every session using them), and not to be
 * changed: sessions on every thread share them, as GnuTLS allows. */
gnutls_certificate_credentials_t tls_certs_credentials(const struct tls_certs *c,
						       enum tls_cert_kind kind);

/* upsim's CA certificate as PEM, NUL-terminated and borrowed: what
 * --tls-ca-out writes, what a gateway must trust. */
const char *tls_certs_ca_pem(const struct tls_certs *c);

/* Write tls_certs_ca_pem to path (0644): into PATH.tmp, then renamed, so
 * a gateway never reads half of it. Returns 0, or -1 with "FILE: STRERROR"
 * in err, FILE being PATH.tmp or PATH, whichever failed. */
int tls_certs_write_ca(const struct tls_certs *c, const char *path, char *err, size_t errlen);

/* The leaf of kind as PEM, NUL-terminated and borrowed (after
 * tls_certs_load, the user's leaf for TLS_CERT_VALID, as GnuTLS writes
 * PEM): for tests and diagnostics. */
const char *tls_certs_leaf_pem(const struct tls_certs *c, enum tls_cert_kind kind);

/* The private key of the TLS_CERT_VALID leaf as PEM, NUL-terminated and
 * borrowed: with tls_certs_leaf_pem(TLS_CERT_VALID), what a TLS library
 * starts a server with (libmicrohttpd takes PEM). */
const char *tls_certs_key_pem(const struct tls_certs *c);

/* The kind's name in scenarios: "valid", "expired", "not_yet_valid",
 * "wrong_name", "untrusted" (static; "?" out of range). */
const char *tls_certs_kind_name(enum tls_cert_kind kind);
/* The kind named name (NULL accepted), or -1 for an unknown name. */
int tls_certs_kind_of(const char *name);

#endif

/* tls_hello: the bytes of the TLS handshake faults, and when the
 * ClientHello they answer is in.
 *
 * The accept stage reads the client's first TLS record itself, before
 * libmicrohttpd has the connection, then answers with nothing, a RST, an
 * alert record or a plain HTTP answer (scenario "connection.tls.fault").
 * What is sent is fixed here, byte for byte, so tests can compare it. */
#ifndef UPSIM_ENGINE_TLS_HELLO_H
#define UPSIM_ENGINE_TLS_HELLO_H

#include <stddef.h>

#include "engine/record.h"
#include "scenario/model.h"

/* A TLS record header: type, version (2), length (2). */
#define TLS_HELLO_HEADER 5
/* Bytes of an alert record. */
#define TLS_HELLO_ALERT_LEN 7

/* How many bytes make the client's first record, judged from its first
 * len bytes (head): 0 while the 5-byte header is incomplete. A first byte
 * that is not a handshake record (0x16) is not TLS: 1, so the answer goes
 * out at once. */
size_t tls_hello_record_len(const unsigned char *head, size_t len);
/* The fatal alert record for description code into out; returns 7. The
 * record version is 0x0303, as TLS 1.3 servers send (RFC 8446 §5.1). */
size_t tls_hello_alert(unsigned char code, unsigned char out[TLS_HELLO_ALERT_LEN]);

/* The fault's name as the scenario and the journal spell it. */
const char *tls_hello_fault_name(enum tls_fault f);
/* How a connection given fault f ends, for the journal. */
enum outcome tls_hello_outcome(enum tls_fault f);

/* What a plain HTTP server answers to a ClientHello ("plaintext"). */
extern const char tls_hello_plaintext[];

#endif

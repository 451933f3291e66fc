#include "engine/tls_hello.h"

#define RECORD_HANDSHAKE 0x16
#define RECORD_ALERT 0x15
#define LEVEL_FATAL 2

/* The body's 45 bytes are counted in Content-Length below. */
const char tls_hello_plaintext[] = "HTTP/1.1 400 Bad Request\r\n"
				   "Content-Type: text/plain\r\n"
				   "Content-Length: 45\r\n"
				   "Connection: close\r\n"
				   "\r\n"
				   "upsim: this port speaks plain HTTP, not TLS.\n";

size_t tls_hello_record_len(const unsigned char *head, size_t len)
{
	if (len == 0)
		return 0;
	if (head[0] != RECORD_HANDSHAKE)
		return 1;
	if (len < TLS_HELLO_HEADER)
		return 0;
	return TLS_HELLO_HEADER + ((size_t)head[3] << 8 | head[4]);
}

size_t tls_hello_alert(unsigned char code, unsigned char out[TLS_HELLO_ALERT_LEN])
{
	const unsigned char record[TLS_HELLO_ALERT_LEN] = {
		RECORD_ALERT, 0x03, 0x03, 0x00, 0x02, LEVEL_FATAL, code,
	};
	for (size_t i = 0; i < TLS_HELLO_ALERT_LEN; i++)
		out[i] = record[i];
	return TLS_HELLO_ALERT_LEN;
}

const char *tls_hello_fault_name(enum tls_fault f)
{
	switch (f) {
	case TLS_FAULT_HANDSHAKE_HANG: return "handshake_hang";
	case TLS_FAULT_HANDSHAKE_RESET: return "handshake_reset";
	case TLS_FAULT_ALERT: return "alert";
	case TLS_FAULT_PLAINTEXT: return "plaintext";
	case TLS_FAULT_ALPN_MISMATCH: return "alpn_mismatch";
	case TLS_FAULT_NONE: break;
	}
	return "none";
}

enum outcome tls_hello_outcome(enum tls_fault f)
{
	switch (f) {
	case TLS_FAULT_HANDSHAKE_HANG: return OUTCOME_HUNG;
	case TLS_FAULT_HANDSHAKE_RESET: return OUTCOME_RST;
	default: return OUTCOME_FIN;
	}
}

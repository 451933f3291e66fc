/* wire: a raw-socket test client that records exactly what came over the
 * wire, and how the connection ended (FIN, RST or still open), with times.
 *
 * libcurl and friends hide the things fault injection is about: a body cut
 * short, a reset after the headers, a stall. This client hides nothing.
 * Every call that waits takes a timeout in milliseconds and waits with
 * poll() against a CLOCK_MONOTONIC deadline; no call waits or keeps reading
 * past it, and a timeout of 0 gives up without waiting. Loopback use only. */
#ifndef UPSIM_TEST_WIRE_H
#define UPSIM_TEST_WIRE_H

#include <stddef.h>

enum wire_end {
	WIRE_OPEN = 1, /* the timeout expired; the connection is still open */
	WIRE_FIN,      /* recv() returned 0: the peer sent FIN */
	WIRE_RST,      /* recv() failed with ECONNRESET: the peer sent RST */
	WIRE_ERROR,    /* any other socket error; see err */
};

/* What one or more reads saw. Start from {0}; the read calls append. */
struct wire_result {
	unsigned char *bytes; /* everything received, malloc'd; a NUL follows bytes[len] */
	size_t len;
	enum wire_end end; /* how the last read call ended */
	int err;	   /* errno for WIRE_RST (ECONNRESET) and WIRE_ERROR, else 0 */
	/* Milliseconds after the start_ms given to the read call that saw
	 * them: the first byte, the last byte, and the FIN/RST/error. -1 when
	 * there was none (no bytes yet; end_ms stays -1 for WIRE_OPEN). */
	double first_ms, last_ms, end_ms;
};

/* Return CLOCK_MONOTONIC in milliseconds (arbitrary origin). */
double wire_now_ms(void);

/* Return "open", "fin", "rst", "error", or "?" for anything else. */
const char *wire_end_name(enum wire_end e);

/* Connect to host:port (numeric or resolvable name) within timeout_ms.
 * Returns a connected fd in blocking mode with TCP_NODELAY and close-on-exec
 * set, or -1 with errno set (ECONNREFUSED, ETIMEDOUT, ...). */
int wire_connect(const char *host, int port, int timeout_ms);

/* Send all len bytes within timeout_ms. Returns 0, or -1 with errno set
 * (ETIMEDOUT, EPIPE, ECONNRESET, ...). Never raises SIGPIPE. */
int wire_send_all(int fd, const void *buf, size_t len, int timeout_ms);

/* wire_send_all() of the NUL-terminated s. */
int wire_send_str(int fd, const char *s, int timeout_ms);

/* Read and append to out until FIN, RST, another error, or timeout_ms
 * (end = WIRE_OPEN). Data that arrives before an RST is kept, and an RST
 * after data is still reported. Returns 0, or -1 (EINVAL) only for a bad
 * argument. */
int wire_read_until_end(int fd, double start_ms, int timeout_ms, struct wire_result *out);

/* Read and append to out until it holds at least want bytes in total,
 * consuming no byte beyond that, so later reads see the rest. Returns 0 when
 * want was reached (end = WIRE_OPEN), -1 when the connection ended first or
 * timeout_ms expired (end says which). */
int wire_read_bytes(int fd, size_t want, double start_ms, int timeout_ms, struct wire_result *out);

/* Free r's bytes and reset r to {0}. NULL is accepted. */
void wire_result_free(struct wire_result *r);

/* Close fd so that the kernel sends RST instead of FIN (SO_LINGER {1, 0}). */
void wire_close_rst(int fd);

/* "FIN means FIN": call after a read ended with WIRE_FIN. Sends one byte
 * and waits up to timeout_ms for the peer's answer. A peer that closed its
 * socket completely answers data with RST; a peer that only half-closed
 * (shutdown(SHUT_WR)) and still holds the socket accepts it silently.
 * Returns 1 if the RST came (a later send or recv reported ECONNRESET or
 * EPIPE: the peer fully closed), 0 if nothing came within timeout_ms (the
 * peer still holds the connection), -1 with errno on a bad fd. The byte sent
 * is part of the probe: do not expect to use the connection afterwards. */
int wire_rst_follows(int fd, int timeout_ms);

/* An HTTP/1.x client connection. buf (malloc'd, cap bytes) holds bytes read
 * but not yet consumed by wire_http_read(), such as a pipelined next
 * response. Start from {.fd = fd}, or hand over bytes already read
 * (buf = w.bytes, len = cap = w.len); the caller closes fd and frees buf
 * when done. */
struct wire_conn {
	int fd;
	unsigned char *buf;
	size_t len, cap;
};

struct wire_http_response {
	int status;
	char *head; /* status line, headers and the blank line, exactly as received */
	size_t head_len;
	unsigned char *body; /* the body, de-chunked; never NULL after success */
	size_t body_len;
	int chunked;		  /* Transfer-Encoding: chunked framed the body */
	long long content_length; /* the Content-Length header, -1 if absent */
	int close_delimited;	  /* the body ended with the connection (FIN) */
};

/* Read exactly one response from c, reading more as needed within
 * timeout_ms and leaving any further bytes in c->buf for the next call.
 * head_request: the response answers a HEAD, so it has no body whatever its
 * headers say; 1xx, 204 and 304 have none either (a 1xx is returned as a
 * response of its own). Chunked framing wins over Content-Length; with
 * neither the body runs to FIN. Lines may end in LF alone; header names are
 * case-insensitive. out is overwritten (not freed). Returns 0, or -1 when
 * the connection closed or reset before the response was complete, on
 * timeout, or on a framing error: then out is empty and nothing of c->buf
 * is consumed. */
int wire_http_read(struct wire_conn *c, int head_request, int timeout_ms,
		   struct wire_http_response *out);

/* Return the first value of header name (case-insensitive), with
 * surrounding blanks trimmed, as a new string the caller frees; NULL if
 * absent. */
char *wire_http_header(const struct wire_http_response *r, const char *name);

/* Return how many header lines are named name (case-insensitive). */
int wire_http_header_count(const struct wire_http_response *r, const char *name);

/* Free r's head and body and reset r to {0}. NULL is accepted. */
void wire_http_response_free(struct wire_http_response *r);

#endif

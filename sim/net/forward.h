/* forward: one request sent on to the real service with libcurl on
 * upsim's loop (net/curl_loop), its answer buffered whole or streamed.
 *
 * The request body is either read whole first (up to max_request_body)
 * or streamed after the request's head through a window the same size
 * as the response's (forward_upload; libcurl's read callback pauses the
 * upload while the window is empty). The real response is either
 *  - buffered: held (up to max_body) until it is complete, then answered
 *    like a canned action — through MHD, or rendered raw when a fault or
 *    pacing applies — so offsets and framing are upsim's; or
 *  - streamed: its head is reported as soon as it is in, and its body is
 *    read out of a small window (FORWARD_STREAM_WINDOW) as it arrives.
 *    A full window pauses the transfer (CURL_WRITEFUNC_PAUSE), reading it
 *    half empty resumes it, so memory per exchange stays bounded whatever
 *    the body's size and the gateway's reading speed.
 * Each loop has its own pool: one libcurl multi handle, whose connection
 * cache keeps upstream connections alive between requests. */
#ifndef UPSIM_NET_FORWARD_H
#define UPSIM_NET_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/loop.h"
#include "scenario/model.h"

struct MHD_Connection;
struct forward_pool;
struct forward;

/* A pool on loop. Cheap: libcurl is loaded by the first forward_start. */
struct forward_pool *forward_pool_new(struct loop *loop);
/* Abandon every transfer still running (no callback) and free. NULL
 * accepted. Every struct forward of the pool must be freed first. */
void forward_pool_free(struct forward_pool *p);

/* What goes to the real service. Strings are borrowed for the call. */
struct forward_request {
	const char *base;   /* scheme://host[:port] */
	const char *target; /* the request-target as received */
	const char *method;
	struct MHD_Connection *mhd; /* its headers and client address */
	char *body;		    /* taken (freed by forward_free) */
	size_t body_len;
	bool has_body; /* the request framed a body (even empty) */
	const struct forwarding *opts;
	uint64_t total_timeout_ns; /* the whole exchange at most */
	bool stream;		   /* stream the answer's body (above) */
	/* Stream the request body instead of body/body_len: it is handed
	 * over with forward_upload as it arrives, ended with
	 * forward_upload_end. upload_len: its length, -1 unknown (sent
	 * chunked). */
	bool upload;
	int64_t upload_len;
};

/* What a transfer reports, from the loop. head: a streamed answer's
 * status and headers are in (not called when it fails first); more: a
 * streamed body has new bytes; done: the transfer ended (complete or
 * failed). head and more may be NULL. */
struct forward_events {
	void (*head)(void *arg);
	void (*more)(void *arg);
	void (*done)(void *arg);
	void (*room)(void *arg); /* a streamed upload's window has room */
};

/* How much of a streamed body is held at most (bytes), each way. */
#define FORWARD_STREAM_WINDOW (256u * 1024u)

/* What came back. Everything is owned by the struct forward. */
struct forward_result {
	int status;		/* the real status; 0: none came */
	struct header *headers; /* end-to-end headers, in order; hop-by-
					   hop and framing headers removed */
	size_t n_headers;
	char *body; /* de-chunked, as the service encoded it (buffered) */
	size_t body_len;
	int64_t content_length; /* the service's Content-Length; -1: none */
	uint64_t time_us;	/* from sending to the last byte */
	const char *error;	/* NULL: a complete answer; else why not */
};

/* Start req on p; ev says what is called from the loop (arg passed):
 * done when the answer is in or failed: read it with forward_result.
 * Never NULL: a request that cannot start ends at once (done called from
 * a zero timer). ev must outlive the transfer. */
struct forward *forward_start(struct forward_pool *p, struct forward_request *req,
			      const struct forward_events *ev, void *arg);
/* The answer: status and headers once head or done was called; the
 * buffered body and error once done was. */
const struct forward_result *forward_result(const struct forward *f);
/* A streamed upload: take up to n bytes of the request body into the
 * window, returning how many (fewer when it is full: room is called once
 * libcurl has sent some; all of them once the transfer has ended, as
 * there is nowhere left to send them). */
size_t forward_upload(struct forward *f, const char *data, size_t n);
/* The request body is complete. */
void forward_upload_end(struct forward *f);
/* Has the transfer ended (done was called)? */
bool forward_ended(const struct forward *f);
/* A streamed body: copy up to max bytes of what has arrived into buf,
 * returning how many (0: none now; ended or not, see forward_ended). */
size_t forward_read(struct forward *f, char *buf, size_t max);
/* Body bytes of a streamed answer waiting to be read. */
size_t forward_pending(const struct forward *f);
/* Stop it if still running (done is not called) and free. NULL accepted. */
void forward_free(struct forward *f);

/* Can a TCP connection to url's host and port be opened within
 * timeout_ms? A start-up check (it blocks): 0, or -1 with why in errbuf. */
int forward_reachable(const char *url, int timeout_ms, char *errbuf, size_t errlen);

/* Is the field name hop-by-hop (RFC 9110 section 7.6.1) or framing
 * (Content-Length, Transfer-Encoding), so never passed on? */
bool forward_hop_by_hop(const char *name);

#endif

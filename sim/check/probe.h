/* probe: one request sent through the gateway, and what the client got.
 *
 * A libcurl transfer on upsim's loop (net/curl_loop): a fresh client
 * connection each time, the request as the scenario's probe model says,
 * X-Request-Id set so upsim's journal can count the gateway's attempts. */
#ifndef UPSIM_CHECK_PROBE_H
#define UPSIM_CHECK_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "net/curl_loop.h"
#include "scenario/expect.h"

/* What the client got. */
struct probe_answer {
	int status;		/* the final status line's code; 0: no valid response */
	bool complete;		/* the response ended as its framing said */
	bool capped;		/* no end within the probe's time cap */
	uint64_t body_bytes;	/* body bytes received (after any decoding) */
	uint64_t time_us;	/* from sending to the end (or the cap) */
	char *error;		/* why it was not complete (libcurl's words), or NULL */
	struct header *headers; /* the final response's headers, in order */
	size_t n_headers;
};

/* Called on the loop when the answer is in (answer borrowed: copy what is
 * kept). */
typedef void (*probe_done_fn)(void *arg, const struct probe_answer *answer);

struct probe_target {
	struct curl_loop *curl;
	const struct curl_lib *lib;
	const char *through;   /* the gateway's base URL: "http://127.0.0.1:8081" */
	uint64_t cap_ms;       /* the longest a probe waits for its answer */
	const char *id_header; /* "X-Request-Id" */
};

/* Send rq with request id id; done(arg, answer) follows from the loop.
 * Returns 0, or -1 when the transfer cannot start (logged). */
int probe_send(const struct probe_target *t, const struct probe_request *rq, const char *id,
	       probe_done_fn done, void *arg);

/* The value of header name in a (case-insensitive), or NULL. */
const char *probe_answer_header(const struct probe_answer *a, const char *name);

/* Does a TCP (and TLS) connection to the gateway open? 0, or -1 with
 * libcurl's reason in why. Blocking: called once before any probe. */
int probe_reachable(const struct curl_lib *lib, const char *through, char *why, size_t len);

#endif

/* exchange: what happens to one request — the decision (rule, action,
 * drawn delay) and carrying it out: MHD response, fault, raw write. */
#ifndef UPSIM_NET_EXCHANGE_H
#define UPSIM_NET_EXCHANGE_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/behave.h"
#include "engine/overload.h"
#include "engine/pace.h"
#include "engine/record.h"
#include "engine/render.h"
#include "scenario/model.h"

struct attempts;
struct conn;
struct forward;
struct forward_pool;
struct forward_result;
struct journal;
struct worker_holds;

/* Where an exchange stands with the scenario's overload model. */
enum exchange_load {
	LOAD_NONE = 0, /* no model, or not yet arrived */
	LOAD_WAITING,  /* queued for a worker */
	LOAD_SERVING,  /* holding a worker for its service time */
	LOAD_SERVED,   /* done with its worker */
	LOAD_REJECTED, /* no worker, no room: when_full answered */
};

/* One request from its headers to MHD's completion callback. */
struct exchange {
	struct behave *behave;	 /* reference: the scenario it started under */
	const struct rule *rule; /* NULL: the defaults */
	struct action action;	 /* resolved; pointers borrowed from behave or own */
	struct action own;	 /* an override header's action (owned) */
	bool overridden;	 /* X-Upsim-Fault or X-Upsim-Delay applied */
	uint64_t delay_ns;	 /* drawn for this request */
	uint64_t seed;		 /* for garbage */
	bool head;		 /* a HEAD request */
	bool delayed;		 /* the delay has passed */
	bool drop;		 /* end it: the handler answers MHD_NO */
	bool answered;		 /* a response was queued through MHD */
	bool closes;		 /* ... saying "Connection: close" */
	uint64_t body_bytes;	 /* request body read and discarded */
	uint64_t read_start_ns;	 /* read.rate: when the body began */
	struct render render;	 /* raw path */
	struct pacer pacer;
	bool raw; /* the response went out raw (render, pacer) */
	/* for the journal */
	uint64_t start_ns; /* clock_mono_ns() when the headers were in */
	int64_t start_wall_us;
	int action_index;      /* within choose/sequence; -1: none */
	unsigned conn_request; /* 1 for the first request on its connection */
	char *method, *path, *request_id;
	enum outcome outcome; /* OUTCOME_NONE until known */
	/* the overload model */
	struct conn *conn;	   /* the connection it is on */
	size_t phase;		   /* the phase it arrived in */
	struct overload *overload; /* the model's state in that phase */
	const struct overload_model *overload_model;
	enum exchange_load load;
	struct overload_waiter waiter;
	uint64_t service_ns;	 /* drawn: how long it holds a worker */
	uint64_t service_end_ns; /* when the worker is free again */
	uint64_t arrived_ns;	 /* when it asked for a worker */
	bool waited;		 /* it had to queue for its worker */
	uint64_t waited_ns;	 /* how long */
	/* forwarding (net/forward) */
	const char *forward_url; /* the real service (borrowed from the
				    scenario); NULL: upsim answers alone */
	bool forward_wanted;	 /* the action forwards (even if a fault
				   keeps the request from the service) */
	struct forward_pool *pool;
	struct forward *fwd;  /* the transfer; NULL: not started */
	bool fetched;	      /* its answer (or failure) is in */
	bool composed;	      /* action now holds the real answer */
	bool stream;	      /* pass the answer on as it arrives (net/stream) */
	bool streaming;	      /* ... and its response is queued */
	uint64_t stream_size; /* its framing: a length or MHD_SIZE_UNKNOWN */
	uint64_t streamed;    /* body bytes handed to MHD */
	bool stream_whole;    /* ... all of them at once, as a buffer */
	bool upload;	      /* the request body streams to the service */
	bool upload_ended;    /* ... and all of it has been handed over */
	int64_t upload_len;   /* its Content-Length; -1: unknown */
	bool req_framed;      /* the request framed a body */
	bool req_over;	      /* the body was over max_request_body */
	char *req_body;	      /* the request body so far; owned */
	size_t req_len, req_cap;
	struct header *fwd_headers; /* composed headers (array owned) */
	char *error_body;	    /* on_upstream_error's body; owned */
	const char *upstream_error; /* why the service gave no answer */
};

/* A watcher of the real service's answers (upsim record): fn is called
 * once per forwarded exchange the service answered, when the exchange
 * completes, on the loop that ran it. method and path (decoded, no query:
 * what rules match) and r are borrowed for the call. */
struct exchange_capture {
	void (*fn)(void *arg, const char *method, const char *path, const struct forward_result *r);
	void *arg;
};

/* Where every exchange is recorded. */
struct exchange_env {
	struct journal *journal;
	struct attempts *attempts;
	const char *request_id_header; /* NULL: ids are not counted */
	const char *phase;	       /* the current phase's name */
	size_t phase_index;	       /* and its index in the timeline */
	struct worker_holds *holds;
	const char *upstream;			/* a fleet member's name, or NULL */
	struct forward_pool *forward;		/* this loop's upstream client */
	const struct exchange_capture *capture; /* NULL: none */
};

/* Called for every access-handler call of MHD for connection c (its
 * arguments passed through; upload_data: the body piece, for forwarding). b is the current scenario's state; *req_cls
 * holds the exchange between calls. */
enum MHD_Result exchange_handle(struct conn *c, struct behave *b, const struct exchange_env *env,
				struct MHD_Connection *mhd, const char *url, const char *method,
				const char *upload_data, size_t *upload_data_size, void **req_cls);

/* MHD completed the request (toe: how): journal it, apply after, free
 * the exchange. c is NULL when the connection is already gone. */
void exchange_completed(struct conn *c, struct exchange *ex, const struct exchange_env *env,
			enum MHD_RequestTerminationCode toe);

#endif

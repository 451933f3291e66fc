/* record: one line of the journal — a request, an accept-stage decision,
 * a phase change, a scenario swap — and its JSON form.
 *
 * The JSON form is part of the contract with harnesses: fields may be
 * added, never renamed. Strings a record owns are freed by record_clear. */
#ifndef UPSIM_ENGINE_RECORD_H
#define UPSIM_ENGINE_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum record_kind {
	RECORD_REQUEST = 1, /* one request, from its headers to its end */
	RECORD_CONNECTION,  /* a connection the accept stage kept from HTTP */
	RECORD_PHASE,	    /* the timeline entered a phase */
	RECORD_SCENARIO,    /* a scenario was loaded or swapped in */
	RECORD_DRILL,	    /* drill safety acted (expiry) */
	RECORD_DNS,	    /* one query to the scripted DNS server */
};

/* How an exchange (or a connection) ended. */
enum outcome {
	OUTCOME_NONE = 0,
	OUTCOME_RESPONSE,      /* a complete response went out */
	OUTCOME_FIN,	       /* upsim ended it with a FIN */
	OUTCOME_RST,	       /* upsim ended it with a RST */
	OUTCOME_HUNG,	       /* held with no answer until the client left or the cap */
	OUTCOME_CLIENT_CLOSED, /* the client left before upsim was done */
	OUTCOME_QUEUED,	       /* over the connection limit: waits for a slot */
	OUTCOME_SHUTDOWN,      /* upsim stopped while it was under way */
	OUTCOME_COUNT,
};

struct record {
	uint64_t id;	 /* stable, from 1, never reused */
	int64_t time_us; /* wall clock (Unix µs) when it began */
	enum record_kind kind;
	uint64_t conn;	       /* connection id; 0: none */
	unsigned conn_request; /* request: 1 for the first on its connection */
	char *method, *path;   /* request */
	char *request_id;      /* the request id header; NULL: none */
	unsigned attempt;      /* requests seen with request_id, this one included */
	char *phase;	       /* the phase it happened in (phase: entered) */
	char *scenario;	       /* the scenario's name */
	char *upstream;	       /* a fleet member's name; NULL: not a fleet */
	char *rule;	       /* request: the rule's name; NULL: the defaults */
	int action;	       /* index within choose/sequence; -1: none */
	bool overridden;       /* a request header chose the action */
	const char *fault;     /* static fault name; NULL: none */
	const char *accept;    /* connection: "reset", "close", "hang", "queue" */
	const char *reason;    /* connection: "accept" or "over_limit" */
	int status;	       /* status line sent; 0: none */
	enum outcome outcome;
	bool raw;	      /* the response was written raw */
	uint64_t bytes;	      /* raw: every byte written; else body bytes */
	uint64_t duration_us; /* request: headers in to end */
	const char *overload; /* "served", "waited", "rejected"; NULL: no model */
	uint64_t queue_us;    /* time waited for an overload worker */
	char *message;	      /* drill and scenario records: what happened */
	/* forwarding: only when the action forwards (forward_known) */
	bool forward_known;
	bool forwarded;	      /* the request went to the real service */
	int real_status;      /* its status; 0: none came */
	uint64_t real_us;     /* from sending to its last byte */
	char *upstream_error; /* why it gave no answer; NULL: it did */
	/* dns: the question and what upsim did (fault and duration_us above:
	   the name's fault and the delay before the answer) */
	char *dns_name;		   /* as asked, lower case, no final dot */
	char *dns_type;		   /* "A", "AAAA", "SRV", "TYPE65", ... */
	const char *dns_transport; /* "udp" or "tcp" */
	const char *dns_rcode;	   /* "NOERROR", ...; NULL: no answer sent */
	char *dns_answer;	   /* the records' data, space-separated, in order */
	uint32_t dns_ttl;
	bool dns_tc;	 /* the TC bit was set */
	bool dns_listed; /* the name is in the scenario */
};

/* The outcome's name in JSON ("response", "fin", "rst", ...). */
const char *outcome_name(enum outcome o);
const char *record_kind_name(enum record_kind k);

/* The record as a JSON object (a new reference). */
json_t *record_json(const struct record *r);

/* us (Unix µs) as RFC 3339 UTC with milliseconds. */
void record_format_time(int64_t us, char *buf, size_t n);
/* A request's text (path, header value) as a JSON string: bytes that are
 * not UTF-8 appear as \xNN. */
json_t *record_text_json(const char *v);

/* Free the strings r owns and zero it. */
void record_clear(struct record *r);

#endif

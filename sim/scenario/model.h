/* scenario: the immutable, reference-counted model of one scenario file.
 *
 * scenario_load() compiles the JSON into these structs and drops the
 * jansson tree, so nothing here points into JSON. Once loaded, a scenario is
 * never modified: runtime state (sequence positions, random streams) lives
 * in struct behave. A request holds a reference from its first byte to its
 * completion, so a scenario swapped out at run time stays valid for the
 * exchanges that started under it. */
#ifndef UPSIM_SCENARIO_MODEL_H
#define UPSIM_SCENARIO_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* The scenario format version this build reads. */
#define SCENARIO_FORMAT 1

/* Hard limits that keep a hostile or mistaken file from exhausting memory. */
#define SCENARIO_MAX_FILE_BYTES (16u << 20)
#define SCENARIO_MAX_RULES 10000
#define SCENARIO_MAX_ACTIONS 10000 /* per rule */
#define SCENARIO_MAX_HEADERS 1000  /* per action or match */
#define SCENARIO_MAX_BODY_SIZE (1ULL << 30)
/* A response written raw (a fault, pacing) is rendered in memory, once per
 * request in flight: its body is held to this. */
#define SCENARIO_MAX_RAW_BODY (64u << 20)
/* A body_file is read whole into memory: as large as forwarding.max_body
 * allows, so every body `upsim record` captures loads again. */
#define SCENARIO_MAX_BODY_FILE (64u << 20)

struct header {
	char *name;
	char *value;
};

/* Which fields of an action were written in the file; an absent field is
 * taken from the defaults when the action is resolved. */
enum action_field {
	ACTION_STATUS = 1 << 0,
	ACTION_HEADERS = 1 << 1,
	ACTION_BODY = 1 << 2, /* body, body_size or body_file */
	ACTION_CHUNKED = 1 << 3,
	ACTION_DELAY = 1 << 4,
	ACTION_FAULT = 1 << 5, /* fault and its parameters, as one field */
	ACTION_PACE = 1 << 6,  /* drip, rate, stall, header_delay */
	ACTION_AFTER = 1 << 7,
	ACTION_READ = 1 << 8,
	ACTION_FORWARD = 1 << 9,	 /* forward */
	ACTION_UPSTREAM_ERROR = 1 << 10, /* on_upstream_error */
	ACTION_REMOVE_HEADERS = 1 << 11, /* remove_headers */
};

/* A duration drawn per request from the rule's seeded stream. */
enum dist_kind {
	DIST_FIXED = 0,
	DIST_UNIFORM,
	DIST_LOGNORMAL,
};

struct dist {
	enum dist_kind kind;
	uint64_t a_us; /* fixed value, uniform low, lognormal median */
	uint64_t b_us; /* uniform high */
	double sigma;  /* lognormal */
};

enum fault_kind {
	FAULT_NONE = 0,
	/* request stage: no response byte */
	FAULT_CLOSE,
	FAULT_RESET,
	FAULT_HANG,
	FAULT_NO_CONTINUE,
	/* respond stage: bytes MHD would never send, written raw */
	FAULT_TRUNCATE,
	FAULT_MALFORMED,
	FAULT_OVERSIZED_HEADERS,
	FAULT_GARBAGE,
	FAULT_BANNER,
	FAULT_LENGTH_MISMATCH,
	FAULT_BAD_CHUNKED,
	FAULT_DUPLICATE_LENGTH,
	FAULT_CL_AND_TE,
	FAULT_EARLY_RESPONSE,
	FAULT_RAW,
};
#define FAULT_COUNT (FAULT_RAW + 1)

/* How a cut-short exchange ends ("then"). */
enum ending {
	END_CLOSE = 1, /* FIN */
	END_RESET,     /* RST, after the queued bytes are on the wire */
	END_HANG,      /* keep the socket, send nothing more */
};

/* A part of the response; offsets count from its first byte. */
enum part {
	PART_STATUS = 1, /* from the response's first byte */
	PART_HEADERS,	 /* from the first byte after the status line */
	PART_BODY,	 /* from the first body byte */
};

enum malformed_kind {
	MALFORMED_STATUS_LINE = 1,
	MALFORMED_VERSION,
	MALFORMED_STATUS_CODE,
	MALFORMED_NO_COLON,
	MALFORMED_SPACE_BEFORE_COLON,
	MALFORMED_BARE_LF,
	MALFORMED_NUL,
	MALFORMED_FOLDED,
};

enum chunked_kind {
	CHUNKED_INVALID_SIZE = 1, /* the first chunk's size line */
	CHUNKED_MISSING_LAST_CHUNK,
	CHUNKED_INVALID_SIZE_MID_BODY, /* a valid chunk, then a bad size line */
};

enum oversized_kind {
	OVERSIZED_MANY_LINES = 1, /* padding headers of up to 1 KiB each
					   (also when no kind is given: 0) */
	OVERSIZED_ONE_LINE,	  /* one header line of the whole size */
};

struct fault {
	enum fault_kind kind;
	enum ending then;
	uint64_t for_us;     /* hang: how long before then (0: the hang cap) */
	enum part at;	     /* truncate */
	uint64_t offset;     /* truncate */
	union {		     /* the fault's "kind", by fault: */
		int variant; /* as loaded (1-based in its row's kinds) */
		enum malformed_kind malformed;
		enum chunked_kind chunked;
		enum oversized_kind oversized;
	};
	uint64_t size; /* oversized_headers, garbage */
	char *bytes;   /* raw, banner: exact bytes (may hold NUL) */
	size_t bytes_len;
	uint64_t declared; /* length_mismatch: Content-Length */
	uint64_t sent;	   /* length_mismatch: body bytes sent */
};

/* Pacing of the response bytes; any of it makes upsim write raw. */
struct pace {
	uint64_t drip_bytes; /* 0: no drip */
	uint64_t drip_every_us;
	uint64_t rate;		  /* bytes per second, 0: unlimited */
	uint64_t header_delay_us; /* pause between header block and body */
	enum part stall_at;	  /* 0: no stall */
	uint64_t stall_offset;
	uint64_t stall_for_us;
};

enum after_kind {
	AFTER_KEEP = 1,
	AFTER_CLOSE,	   /* "Connection: close", then FIN */
	AFTER_RESET,	   /* RST once the response is on the wire */
	AFTER_CLOSE_AFTER, /* keep-alive advertised, FIN after delay_us idle */
	AFTER_NEXT_CLOSE,  /* FIN the moment the next request arrives */
	AFTER_NEXT_RESET,  /* RST the moment the next request arrives */
};

struct after {
	enum after_kind kind;
	uint64_t delay_us;
};

/* on_upstream_error: what the gateway sees when the real service fails
 * (refused, timed out, reset, an answer over the size limit). */
enum upstream_error {
	UPSTREAM_ERROR_RESET = 0, /* RST, as if upsim were the service */
	UPSTREAM_ERROR_CLOSE,	  /* FIN, no byte */
	UPSTREAM_ERROR_STATUS,	  /* a response with on_error_status */
};

struct action {
	unsigned set;	 /* enum action_field bits */
	unsigned weight; /* choose only; 1 elsewhere */
	int status;
	struct header *headers; /* in file order, duplicates and casing kept */
	size_t n_headers;
	char *body; /* may hold NUL bytes: use body_len */
	size_t body_len;
	bool body_generated; /* body_size given: body_len bytes of pattern */
	bool chunked;
	struct dist delay; /* before the first byte */
	struct fault fault;
	struct pace pace;
	struct after after;
	uint64_t read_rate; /* request body bytes per second, 0: unlimited */
	/* forwarding (docs/forwarding.md) */
	bool forward;	   /* the real service answers; faults apply to it */
	char *forward_url; /* "forward": URL; NULL: the scenario's upstream */
	enum upstream_error on_error;
	int on_error_status;   /* UPSTREAM_ERROR_STATUS */
	char **remove_headers; /* names taken out of the real answer */
	size_t n_remove_headers;
};

enum behaviour {
	BEHAVE_RESPOND = 1,
	BEHAVE_CHOOSE,
	BEHAVE_SEQUENCE,
};

/* match.reused: where a request must sit on its connection. */
enum match_reuse {
	REUSE_ANY = 0,
	REUSE_ONLY,  /* "reused": true: not the connection's first */
	REUSE_FIRST, /* "reused": false: the connection's first */
};

struct match {
	char **methods; /* NULL: any method */
	size_t n_methods;
	char *path;		/* glob with '*'; NULL: any path */
	struct header *headers; /* name compared without case, value exactly */
	size_t n_headers;
	struct header *query; /* query argument equality */
	size_t n_query;
	unsigned connection_request; /* nth request on its connection; 0: any */
	enum match_reuse reused;
};

struct expect;	   /* scenario/expect.h: probes and what gateways answer */
struct dns_config; /* scenario/dns.h: the scripted DNS server */

struct rule {
	size_t index; /* position in the file, for streams and stats */
	char *name;   /* "rules[3]" unless the file names it */
	struct match match;
	enum behaviour behaviour;
	struct action *actions; /* 1 for respond */
	size_t n_actions;
	uint64_t total_weight; /* choose: sum of weights */
	bool cycle;	       /* sequence: start over after the last */
	struct expect *expect; /* NULL: none */
	bool *in_phase;	       /* per phase of the timeline: does the rule
				   apply? NULL: in every phase */
};

/* The accept stage: what happens to a connection before any request. */
enum accept_fault {
	ACCEPT_SERVE = 0, /* hand it to the HTTP server */
	ACCEPT_RESET,	  /* RST at once */
	ACCEPT_CLOSE,	  /* FIN at once, nothing read */
	ACCEPT_HANG,	  /* accepted, never read or answered */
	ACCEPT_PAUSE,	  /* not accepted: the kernel queue fills */
};

enum over_limit {
	OVER_LIMIT_RESET = 1, /* the excess connection gets a RST */
	OVER_LIMIT_CLOSE,     /* the excess connection gets a FIN */
	OVER_LIMIT_QUEUE,     /* not accepted until a slot frees */
};

/* "connection.tls" faults of the handshake: upsim reads the ClientHello
 * itself, before libmicrohttpd sees the connection, and answers so. */
enum tls_fault {
	TLS_FAULT_NONE = 0,
	TLS_FAULT_HANDSHAKE_HANG,  /* nothing answered; held to the hang cap */
	TLS_FAULT_HANDSHAKE_RESET, /* a RST */
	TLS_FAULT_ALERT,	   /* a fatal alert record, then a FIN */
	TLS_FAULT_PLAINTEXT,	   /* a plain HTTP 400 answer, then a FIN */
	TLS_FAULT_ALPN_MISMATCH,   /* a fatal no_application_protocol alert */
};

/* Which certificate a handshake presents (net/tls_certs makes them). */
enum tls_certificate {
	TLS_CERTIFICATE_VALID = 0,
	TLS_CERTIFICATE_EXPIRED,
	TLS_CERTIFICATE_NOT_YET_VALID,
	TLS_CERTIFICATE_WRONG_NAME,
	TLS_CERTIFICATE_UNTRUSTED,
};

/* The TLS versions a handshake may settle on. */
enum tls_versions {
	TLS_VERSIONS_ANY = 0, /* 1.2 and 1.3 */
	TLS_VERSIONS_12,      /* 1.2 only */
	TLS_VERSIONS_13,      /* 1.3 only */
};

/* The TLS alert that ends a handshake with an ALPN mismatch (RFC 7301). */
#define TLS_ALERT_NO_APPLICATION_PROTOCOL 120

struct tls_policy {
	bool set; /* the scenario has "tls": the listener must speak TLS */
	enum tls_fault fault;
	unsigned char alert; /* TLS_FAULT_ALERT's description code */
	enum tls_certificate certificate;
	enum tls_versions versions;
	bool no_close_notify; /* upsim's closes are bare FINs */
};

struct conn_policy {
	enum accept_fault accept;
	unsigned backlog;	  /* listen() backlog; 0: the system's */
	unsigned max_connections; /* 0: only the --max-connections cap */
	enum over_limit over_limit;
	uint64_t idle_timeout_us; /* keep-alive idle close; 0: none */
	unsigned max_requests;	  /* per connection; 0: unlimited */
	struct tls_policy tls;
};

/* "overload": a server with `workers` workers. Each request holds one
 * for service_time; later ones wait in a FIFO of `queue` places; past
 * that, when_full answers. workers == 0: no model. */
struct overload_model {
	unsigned workers;
	struct dist service_time;
	unsigned queue;
	struct action when_full; /* resolved against the defaults */
};

/* One step of the timeline. A phase may override, while it is current,
 * the scenario's rules (replaced), defaults (field by field), connection
 * policy and overload model (replaced). */
struct phase {
	char *name;	      /* "phases[2]" unless the file names it */
	uint64_t duration_us; /* 0: lasts until switched (or for ever) */
	bool listen;	      /* false: the port refuses connections */
	struct rule *rules;   /* has_rules: these instead of the top level's */
	size_t n_rules;
	bool has_rules;
	struct action own_defaults; /* as written (owned) */
	struct action defaults;	    /* has_defaults: own_defaults over the top level's */
	bool has_defaults;
	struct conn_policy connection;
	bool has_connection;
	struct overload_model overload;
	bool has_overload;
	struct dns_config *dns; /* names answered instead of the top level's
				   of the same name; NULL: none */
	struct expect *expect;	/* a probe run while this phase is current
				   (upsim check), or NULL */
};

/* The top-level "forwarding" options: how upsim talks to a real service. */
struct forwarding {
	uint64_t connect_timeout_us;
	uint64_t read_timeout_us;  /* no byte from the service for this long */
	uint64_t max_body;	   /* a response body is buffered up to this */
	uint64_t max_request_body; /* a request body is buffered up to this */
	bool via;		   /* add "Via: 1.1 upsim" */
	bool x_forwarded_for;	   /* append the client to X-Forwarded-For */
	char *ca_file;		   /* PEM CA bundle that verifies an https
				      service (CURLOPT_CAINFO), resolved
				      against the scenario's folder; NULL:
				      libcurl's default bundle */
};
#define FORWARD_CONNECT_TIMEOUT_US 5000000ULL
#define FORWARD_READ_TIMEOUT_US 30000000ULL
#define FORWARD_MAX_BODY (64ULL << 20)
#define FORWARD_MAX_REQUEST_BODY (8ULL << 20)

struct scenario {
	unsigned refs; /* atomic; see scenario_ref */
	char *file;    /* path it was loaded from, or "<admin>" */
	char *name;
	char *description;
	uint64_t seed;
	struct action defaults; /* already resolved against built-ins */
	struct conn_policy connection;
	struct overload_model overload;
	struct rule *rules;
	size_t n_rules;
	const struct rule **all_rules; /* the top level's, then each phase's */
	size_t n_all_rules;	       /* rule->index counts in this order */
	struct expect *expect;	       /* for requests the defaults answer; NULL: none */
	struct phase *phases;	       /* none: one endless phase that listens */
	size_t n_phases;
	bool loop;	     /* the timeline starts over after its end */
	bool allow_override; /* X-Upsim-Fault / X-Upsim-Delay are obeyed */
	char *upstream;	     /* "upstream": the real service; NULL: none */
	struct forwarding forwarding;
	struct dns_config *dns; /* the DNS server; NULL: none */
	size_t n_dns_names;	/* names of the top level and every phase */
};

/* Load and validate the scenario file at path. Returns a new scenario with
 * one reference, or NULL with every problem appended to err, each message
 * prefixed with "path: " and the JSON path (or "path:line:col:"). */
struct scenario *scenario_load_file(const char *path, struct upsim_err *err);

/* Same from an in-memory buffer; label names it in messages. It has no
 * folder, so a body_file in it is an error. */
struct scenario *scenario_load_buffer(const char *label, const char *buf, size_t len,
				      struct upsim_err *err);

/* The two above with forward_to (NULL: none; borrowed) in place of the
 * file's top-level "upstream", as `--forward-to URL` gives it: present or
 * not in the file, the scenario forwards there. An invalid forward_to is
 * a load error like any other. */
struct scenario *scenario_load_file_to(const char *path, const char *forward_to,
				       struct upsim_err *err);
struct scenario *scenario_load_buffer_to(const char *label, const char *buf, size_t len,
					 const char *forward_to, struct upsim_err *err);

/* Why u is not an upstream URL (scheme://host[:port], http or https), or
 * NULL when it is one: for "upstream", "forward" and --forward-to. */
const char *scenario_upstream_url_problem(const char *u);

/* One action from text, as a request header may carry it: a JSON action
 * object, or a fault name ("reset"). 0, or -1 with every problem in err
 * (messages prefixed with label). out is owned: scenario_action_clear. */
int scenario_parse_action(const char *label, const char *text, struct action *out,
			  struct upsim_err *err);
/* Free n headers and the array h. */
void scenario_headers_free(struct header *h, size_t n);
/* Free what an action owns (one from scenario_parse_action). */
void scenario_action_clear(struct action *a);

/* Take one more reference; returns sc. NULL is accepted and returned. */
struct scenario *scenario_ref(struct scenario *sc);
/* Drop one reference, freeing the scenario with the last. NULL accepted. */
void scenario_unref(struct scenario *sc);

/* What is in force in phase index of the timeline (an index past the
 * phases, as for a scenario without phases: the top level's). */
/* The index of the phase called name, in *index; false when none is. */
bool scenario_find_phase(const struct scenario *sc, const char *name, size_t *index);

const struct rule *scenario_rules(const struct scenario *sc, size_t phase, size_t *n);
const struct action *scenario_defaults(const struct scenario *sc, size_t phase);
const struct conn_policy *scenario_connection(const struct scenario *sc, size_t phase);
/* The scenario asks for TLS ("connection.tls", at the top or in a phase):
 * where, as a JSON path, goes into where. */
bool scenario_uses_tls(const struct scenario *sc, char *where, size_t len);
const struct overload_model *scenario_overload(const struct scenario *sc, size_t phase);

/* Is the (resolved) action written raw — a fault or pacing — and so
 * rendered in memory? */
bool scenario_action_raw(const struct action *a);

/* scenario_resolve against the given defaults. */
void scenario_resolve_with(const struct action *defaults, const struct action *a,
			   struct action *out);

/* Fill out with the action a resolved against the scenario defaults: every
 * field not set in a comes from sc->defaults. Pointers are borrowed from the
 * scenario and live as long as a reference to it. */
void scenario_resolve(const struct scenario *sc, const struct action *a, struct action *out);

/* The URL a resolved action forwards to, or NULL when it does not. */
const char *scenario_forward_url(const struct scenario *sc, const struct action *a);
/* Does the scenario forward anything (an upstream or a forwarding action
 * in its defaults)? */
bool scenario_forwards(const struct scenario *sc);
/* A scenario that forwards every request to where sc's defaults (else its
 * upstream) point, untouched, with sc's forwarding options: what a
 * forwarding drill reverts to. NULL when sc forwards nothing. */
struct scenario *scenario_pass_through(const struct scenario *sc);

/* Does HTTP forbid a body with this status (1xx, 204, 304)? */
bool scenario_status_has_no_body(int status);

#endif

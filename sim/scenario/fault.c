#include "scenario/fault.h"

#include <pthread.h>
#include <string.h>

#include "base/util.h"

/* The tables are laid out by hand: a row per fault reads best. */
/* clang-format off */
static const char *const malformed_kinds[] = {
	"status_line", "version", "status_code", "no_colon",
	"space_before_colon", "bare_lf", "nul", "folded", NULL,
};
static const char *const chunked_kinds[] = {
	"invalid_size", "missing_last_chunk", "invalid_size_mid_body", NULL,
};
static const char *const oversized_kinds[] = {"many_lines", "one_line", NULL};

#define REQUEST FAULT_STAGE_REQUEST
#define RESPOND FAULT_STAGE_RESPOND
#define THEN {"then", NULL, false}
#define FOR {"for", NULL, false}

const struct fault_info fault_table[] = {
	{FAULT_CLOSE, "close", REQUEST, FAULT_ACT_FIN, 0, {{NULL, NULL, false}}, NULL,
	 "FIN without sending a byte",
	 "{\"fault\": \"close\"}"},
	{FAULT_RESET, "reset", REQUEST, FAULT_ACT_RST, 0, {{NULL, NULL, false}}, NULL,
	 "RST without sending a byte",
	 "{\"fault\": \"reset\"}"},
	{FAULT_HANG, "hang", REQUEST, FAULT_ACT_HANG, 0, {THEN, FOR}, NULL,
	 "read the request, answer nothing (for a while, then `then`)",
	 "{\"fault\": \"hang\", \"for\": \"30s\", \"then\": \"reset\"}"},
	{FAULT_NO_CONTINUE, "no_continue", REQUEST, FAULT_ACT_HANG, FAULT_ON_HEADERS,
	 {THEN, FOR}, NULL,
	 "never answer Expect: 100-continue, never read the body",
	 "{\"fault\": \"no_continue\", \"for\": \"10s\"}"},
	{FAULT_TRUNCATE, "truncate", RESPOND, FAULT_ACT_WRITE, 0,
	 {THEN, {"at", "status, headers or body", false}, {"offset", NULL, false}}, NULL,
	 "the response cut `offset` bytes into its status line, headers or body",
	 "{\"fault\": \"truncate\", \"at\": \"headers\", \"offset\": 12, \"then\": \"close\"}"},
	{FAULT_MALFORMED, "malformed", RESPOND, FAULT_ACT_WRITE, FAULT_TOUCHES_HEADERS,
	 {THEN, {"kind", "which defect (status_line, version, status_code, no_colon, "
			 "space_before_colon, bare_lf, nul, folded)", false}},
	 malformed_kinds,
	 "one protocol defect in an otherwise valid response",
	 "{\"fault\": \"malformed\", \"kind\": \"no_colon\"}"},
	{FAULT_OVERSIZED_HEADERS, "oversized_headers", RESPOND, FAULT_ACT_WRITE,
	 FAULT_TOUCHES_HEADERS,
	 {THEN, {"size", "how many bytes", false}, {"kind", NULL, false}}, oversized_kinds,
	 "a header block of at least `size` bytes: many lines, or one long line",
	 "{\"fault\": \"oversized_headers\", \"size\": \"64KiB\"}"},
	{FAULT_GARBAGE, "garbage", RESPOND, FAULT_ACT_WRITE, FAULT_NOT_HTTP | FAULT_SEEDED,
	 {THEN, {"size", "how many bytes", false}}, NULL,
	 "`size` seeded random bytes that are not HTTP",
	 "{\"fault\": \"garbage\", \"size\": 512, \"then\": \"reset\"}"},
	{FAULT_BANNER, "banner", RESPOND, FAULT_ACT_WRITE, FAULT_NOT_HTTP,
	 {THEN, {"text", "the greeting to send", false}}, NULL,
	 "another protocol's greeting, as a wrongly resolved name reaches",
	 "{\"fault\": \"banner\", \"text\": \"SSH-2.0-OpenSSH_9.6\\r\\n\"}"},
	{FAULT_LENGTH_MISMATCH, "length_mismatch", RESPOND, FAULT_ACT_WRITE,
	 FAULT_TOUCHES_HEADERS,
	 {THEN, {"declared", "the Content-Length announced", false},
	  {"sent", "how many body bytes are sent", false}}, NULL,
	 "Content-Length `declared`, but `sent` body bytes",
	 "{\"fault\": \"length_mismatch\", \"declared\": 1000, \"sent\": 10}"},
	{FAULT_BAD_CHUNKED, "bad_chunked", RESPOND, FAULT_ACT_WRITE, FAULT_TOUCHES_HEADERS,
	 {THEN, {"kind", "invalid_size, missing_last_chunk or invalid_size_mid_body", false}},
	 chunked_kinds,
	 "invalid chunked framing: a bad chunk size (first or mid-body) or no last chunk",
	 "{\"fault\": \"bad_chunked\", \"kind\": \"invalid_size\"}"},
	{FAULT_DUPLICATE_LENGTH, "duplicate_length", RESPOND, FAULT_ACT_WRITE,
	 FAULT_TOUCHES_HEADERS, {THEN}, NULL,
	 "two Content-Length headers that disagree",
	 "{\"fault\": \"duplicate_length\"}"},
	{FAULT_CL_AND_TE, "cl_and_te", RESPOND, FAULT_ACT_WRITE, FAULT_TOUCHES_HEADERS,
	 {THEN}, NULL,
	 "Content-Length and Transfer-Encoding: chunked together",
	 "{\"fault\": \"cl_and_te\"}"},
	{FAULT_EARLY_RESPONSE, "early_response", RESPOND, FAULT_ACT_WRITE, FAULT_ON_HEADERS,
	 {THEN}, NULL,
	 "the response sent before the request body is read, then the end",
	 "{\"fault\": \"early_response\", \"status\": 413}"},
	{FAULT_RAW, "raw", RESPOND, FAULT_ACT_WRITE, FAULT_NOT_HTTP,
	 {THEN, {"bytes", NULL, true}, {"base64", NULL, true}}, NULL,
	 "exactly these bytes, then `then`",
	 "{\"fault\": \"raw\", \"bytes\": \"HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\nhel\"}"},
};

#undef REQUEST
#undef RESPOND
#undef THEN
#undef FOR

const size_t fault_table_size = ARRAY_SIZE(fault_table);
_Static_assert(ARRAY_SIZE(fault_table) == FAULT_COUNT - 1,
	       "every fault_kind has its row in fault_table");

const struct catalogue_entry catalogue_more[] = {
	{"listen: false", "listener",
	 "a phase with the port closed: connections refused",
	 "\"phases\": [{\"duration\": \"10s\", \"listen\": false}, {}]"},
	{"accept", "accept",
	 "each connection reset, closed or held unread before any byte; or not accepted (pause)",
	 "\"connection\": {\"accept\": {\"fault\": \"reset\"}}"},
	{"backlog", "accept",
	 "the listen() queue length; with accept pause, SYNs beyond it are dropped",
	 "\"connection\": {\"accept\": {\"fault\": \"pause\"}, \"backlog\": 1}"},
	{"max_connections", "accept",
	 "connections beyond n reset, closed or queued",
	 "\"connection\": {\"max_connections\": 100, \"over_limit\": \"queue\"}"},
	{"overload", "request",
	 "n workers, a service time each, a FIFO queue; beyond it 503 (or reset...)",
	 "\"overload\": {\"workers\": 4, \"service_time\": \"200ms\", \"queue\": 8}"},
	{"reused", "request",
	 "match requests on a reused keep-alive connection (or the nth: connection_request)",
	 "\"rules\": [{\"match\": {\"reused\": true}, \"respond\": {\"fault\": \"reset\"}}]"},
	{"phases (rule)", "request",
	 "a rule in force only in some phases of the timeline",
	 "\"phases\": [{\"name\": \"outage\"}], "
	 "\"rules\": [{\"phases\": [\"outage\"], \"respond\": {\"status\": 503}}]"},
	{"delay", "request",
	 "nothing until the delay: fixed, uniform or lognormal, seeded",
	 "{\"delay\": {\"uniform\": [\"100ms\", \"2s\"]}}"},
	{"read", "request",
	 "the request body read at this many bytes per second",
	 "{\"read\": {\"rate\": 1024}}"},
	{"drip", "respond",
	 "the response n bytes at a time, every d",
	 "{\"drip\": {\"bytes\": 1, \"every\": \"100ms\"}}"},
	{"rate", "respond",
	 "the response at this many bytes per second",
	 "{\"rate\": 10000}"},
	{"header_delay", "respond",
	 "headers at once, the body after this pause",
	 "{\"header_delay\": \"5s\"}"},
	{"stall", "respond",
	 "a pause at a byte offset of the status line, headers or body",
	 "{\"stall\": {\"at\": \"headers\", \"offset\": 8, \"for\": \"5s\"}}"},
	{"after", "connection",
	 "after the response: keep, close, reset, close after idle, or on the next request",
	 "{\"after\": {\"close_after\": \"50ms\"}}"},
	{"keepalive", "connection",
	 "idle connections closed after a time; a request limit per connection",
	 "\"connection\": {\"keepalive\": {\"idle_timeout\": \"5s\", \"max_requests\": 100}}"},
	{"tls.fault", "handshake",
	 "the ClientHello answered with nothing, a RST, an alert or plain HTTP (--tls)",
	 "\"connection\": {\"tls\": {\"fault\": \"alert\", \"alert\": \"handshake_failure\"}}"},
	{"tls.certificate", "handshake",
	 "an expired, not yet valid, wrong-name or untrusted certificate (--tls)",
	 "\"connection\": {\"tls\": {\"certificate\": \"expired\"}}"},
	{"tls.versions", "handshake",
	 "TLS 1.2 only or 1.3 only; a client without it fails its handshake (--tls)",
	 "\"connection\": {\"tls\": {\"versions\": \"1.2\"}}"},
	{"tls.close_notify", "connection",
	 "false: upsim's closes are a bare FIN, no close_notify (--tls)",
	 "\"connection\": {\"tls\": {\"close_notify\": false}}"},
};

/* clang-format on */
const size_t catalogue_more_size = ARRAY_SIZE(catalogue_more);

/* Gathered once from the table: every key, in first-seen order. */
static const char *param_keys[FAULT_MAX_PARAMS * FAULT_COUNT + 1];

static void gather_param_keys(void)
{
	size_t n = 0;
	for (size_t i = 0; i < fault_table_size; i++) {
		for (const struct fault_param *p = fault_table[i].params; p->key; p++) {
			size_t k = 0;
			while (k < n && strcmp(param_keys[k], p->key) != 0)
				k++;
			if (k == n)
				param_keys[n++] = p->key;
		}
	}
}

const char *const *fault_param_keys(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, gather_param_keys);
	return param_keys;
}

const char *fault_stage_name(enum fault_stage stage)
{
	return stage == FAULT_STAGE_REQUEST ? "request" : "respond";
}

bool fault_has(enum fault_kind kind, unsigned flags)
{
	const struct fault_info *f = fault_by_kind(kind);
	return f != NULL && (f->flags & flags) == flags;
}

enum fault_act fault_act(enum fault_kind kind)
{
	return fault_by_kind(kind)->act;
}

const struct fault_info *fault_by_name(const char *name)
{
	for (size_t i = 0; i < fault_table_size; i++)
		if (strcmp(fault_table[i].name, name) == 0)
			return &fault_table[i];
	return NULL;
}

const struct fault_info *fault_by_kind(enum fault_kind kind)
{
	/* Rows are in enum order (tests/unit/check_fault.c checks it). */
	if (kind <= FAULT_NONE || kind >= FAULT_COUNT)
		return NULL;
	return &fault_table[kind - 1];
}

bool fault_takes(const struct fault_info *f, const char *key)
{
	for (const struct fault_param *p = f->params; p->key; p++)
		if (strcmp(p->key, key) == 0)
			return true;
	return false;
}

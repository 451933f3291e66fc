#include "scenario/fault.h"

#include <string.h>

#include "base/util.h"

const struct fault_info fault_table[] = {
	{FAULT_CLOSE, "close", "request", {NULL},
	 "FIN without sending a byte",
	 "{\"fault\": \"close\"}"},
	{FAULT_RESET, "reset", "request", {NULL},
	 "RST without sending a byte",
	 "{\"fault\": \"reset\"}"},
	{FAULT_HANG, "hang", "request", {"for", "then", NULL},
	 "read the request, answer nothing (for a while, then `then`)",
	 "{\"fault\": \"hang\", \"for\": \"30s\", \"then\": \"reset\"}"},
	{FAULT_NO_CONTINUE, "no_continue", "request", {"for", "then", NULL},
	 "never answer Expect: 100-continue, never read the body",
	 "{\"fault\": \"no_continue\", \"for\": \"10s\"}"},
	{FAULT_TRUNCATE, "truncate", "respond", {"at", "offset", "then", NULL},
	 "the response cut `offset` bytes into its status line, headers or body",
	 "{\"fault\": \"truncate\", \"at\": \"headers\", \"offset\": 12, \"then\": \"close\"}"},
	{FAULT_MALFORMED, "malformed", "respond", {"kind", "then", NULL},
	 "one protocol defect in an otherwise valid response",
	 "{\"fault\": \"malformed\", \"kind\": \"no_colon\"}"},
	{FAULT_OVERSIZED_HEADERS, "oversized_headers", "respond", {"size", "then", NULL},
	 "a header block of at least `size` bytes",
	 "{\"fault\": \"oversized_headers\", \"size\": \"64KiB\"}"},
	{FAULT_GARBAGE, "garbage", "respond", {"size", "then", NULL},
	 "`size` seeded random bytes that are not HTTP",
	 "{\"fault\": \"garbage\", \"size\": 512, \"then\": \"reset\"}"},
	{FAULT_BANNER, "banner", "respond", {"text", "then", NULL},
	 "another protocol's greeting, as a wrongly resolved name reaches",
	 "{\"fault\": \"banner\", \"text\": \"SSH-2.0-OpenSSH_9.6\\r\\n\"}"},
	{FAULT_LENGTH_MISMATCH, "length_mismatch", "respond", {"declared", "sent", "then", NULL},
	 "Content-Length `declared`, but `sent` body bytes",
	 "{\"fault\": \"length_mismatch\", \"declared\": 1000, \"sent\": 10}"},
	{FAULT_BAD_CHUNKED, "bad_chunked", "respond", {"kind", "then", NULL},
	 "invalid chunked framing: a bad chunk size or no last chunk",
	 "{\"fault\": \"bad_chunked\", \"kind\": \"invalid_size\"}"},
	{FAULT_DUPLICATE_LENGTH, "duplicate_length", "respond", {"then", NULL},
	 "two Content-Length headers that disagree",
	 "{\"fault\": \"duplicate_length\"}"},
	{FAULT_CL_AND_TE, "cl_and_te", "respond", {"then", NULL},
	 "Content-Length and Transfer-Encoding: chunked together",
	 "{\"fault\": \"cl_and_te\"}"},
	{FAULT_EARLY_RESPONSE, "early_response", "respond", {"then", NULL},
	 "the response sent before the request body is read, then the end",
	 "{\"fault\": \"early_response\", \"status\": 413}"},
	{FAULT_RAW, "raw", "respond", {"bytes", "base64", "then", NULL},
	 "exactly these bytes, then `then`",
	 "{\"fault\": \"raw\", \"bytes\": \"HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\nhel\"}"},
};

const size_t fault_table_size = ARRAY_SIZE(fault_table);

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
};

const size_t catalogue_more_size = ARRAY_SIZE(catalogue_more);

const char *const fault_param_keys[] = {
	"then", "for", "at", "offset", "kind", "size", "text", "bytes",
	"base64", "declared", "sent", NULL,
};

const struct fault_info *fault_by_name(const char *name)
{
	for (size_t i = 0; i < fault_table_size; i++)
		if (strcmp(fault_table[i].name, name) == 0)
			return &fault_table[i];
	return NULL;
}

const struct fault_info *fault_by_kind(enum fault_kind kind)
{
	for (size_t i = 0; i < fault_table_size; i++)
		if (fault_table[i].kind == kind)
			return &fault_table[i];
	return NULL;
}

int fault_takes(const struct fault_info *f, const char *key)
{
	for (size_t i = 0; f->params[i]; i++)
		if (strcmp(f->params[i], key) == 0)
			return 1;
	return 0;
}


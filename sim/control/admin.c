#include "control/admin.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "control/admin_parse.h"
#include "control/metrics.h"
#include "net/mhd_loop.h"

#define JOURNAL_DEFAULT_LIMIT 1000
#define JOURNAL_MAX_LIMIT 10000

struct admin {
	struct MHD_Daemon *mhd;
	struct mhd_loop driver;
	struct fleet *fleet;
	char *token; /* NULL: none */
	char address[ADDR_STRLEN];
};

/* One admin request between MHD's handler calls. */
struct admin_req {
	char *body;
	size_t len;
	bool too_big;
	bool done; /* a response was queued early */
};

bool admin_token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;
	for (size_t i = 0; i < lb; i++)
		diff |= (unsigned char)((i < la ? a[i] : 0) ^ b[i]);
	return diff == 0;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type,
				 char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text,
								 MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Send o (a reference is stolen) as the JSON body. */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *o)
{
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(o);
	size_t n = strlen(text);
	text = xrealloc(text, n + 2);
	memcpy(text + n, "\n", 2);
	return send_text(c, status, "application/json", text);
}

__attribute__((format(printf, 3, 4))) static enum MHD_Result send_error(struct MHD_Connection *c,
									unsigned status,
									const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return send_json(c, status, json_pack("{s:s}", "error", msg));
}

static enum MHD_Result send_not_allowed(struct MHD_Connection *c, const char *allow)
{
	struct MHD_Response *r;
	char *text = xasprintf("{\n  \"error\": \"method not allowed; use %s\"\n}\n", allow);
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
	MHD_destroy_response(r);
	return ret;
}

/* The upstream a request is about: ?upstream=NAME, else the first. NULL
 * after answering 404. */
static struct upstream *member(struct admin *a, struct MHD_Connection *c, enum MHD_Result *ret)
{
	const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "upstream");
	struct upstream *ctl = fleet_find(a->fleet, name);
	if (ctl == NULL)
		*ret = send_error(c, MHD_HTTP_NOT_FOUND, "no upstream is called \"%s\"",
				  name ? name : "");
	return ctl;
}

/* The status of one upstream, with the list of all of a fleet's. */
static json_t *status_json(const struct admin *a, struct upstream *ctl)
{
	json_t *o = upstream_status_json(ctl);
	if (ctl->name != NULL) {
		json_t *list = json_array();
		for (size_t i = 0; i < a->fleet->n; i++)
			json_array_append_new(list, upstream_brief_json(&a->fleet->members[i]));
		json_object_set_new(o, "upstreams", list);
	}
	return o;
}

static enum MHD_Result get_status(struct admin *a, struct MHD_Connection *c,
				  const struct admin_req *rq)
{
	(void)rq;
	enum MHD_Result ret = MHD_NO;
	struct upstream *ctl = member(a, c, &ret);
	return ctl ? send_json(c, MHD_HTTP_OK, status_json(a, ctl)) : ret;
}

static enum MHD_Result get_stats(struct admin *a, struct MHD_Connection *c,
				 const struct admin_req *rq)
{
	(void)rq;
	enum MHD_Result ret = MHD_NO;
	struct upstream *ctl = member(a, c, &ret);
	return ctl ? send_json(c, MHD_HTTP_OK, upstream_stats_json(ctl)) : ret;
}

static enum MHD_Result put_scenario(struct admin *a, struct MHD_Connection *c,
				    const struct admin_req *rq)
{
	enum MHD_Result ret = MHD_NO;
	struct upstream *ctl = member(a, c, &ret);
	if (ctl == NULL)
		return ret;
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_buffer_to("<admin>", rq->body ? rq->body : "", rq->len,
						      ctl->forward_to, &err);
	char why[512];
	if (sc != NULL && upstream_can_serve(ctl->tls, sc, why, sizeof why) != 0) {
		err_addf(&err, "%s", why);
		scenario_unref(sc);
		sc = NULL;
	}
	if (sc == NULL) {
		json_t *errors = json_array();
		for (size_t i = 0; i < err.count; i++)
			json_array_append_new(errors, json_string(err.msgs[i]));
		err_clear(&err);
		return send_json(c, MHD_HTTP_BAD_REQUEST,
				 json_pack("{s:s, s:o}", "error", "invalid scenario", "errors",
					   errors));
	}
	char *how = xasprintf("scenario \"%s\" put through the admin API%s%s", sc->name,
			      ctl->name ? " for upstream " : "", ctl->name ? ctl->name : "");
	upstream_swap(ctl, sc, how);
	free(how);
	scenario_unref(sc);
	return send_json(c, MHD_HTTP_OK, status_json(a, ctl));
}

static enum MHD_Result post_phase(struct admin *a, struct MHD_Connection *c,
				  const struct admin_req *rq)
{
	enum MHD_Result ret = MHD_NO;
	struct upstream *ctl = member(a, c, &ret);
	if (ctl == NULL)
		return ret;
	char why[256], *name = NULL;
	if (admin_parse_phase(rq->body, rq->len, &name, why, sizeof why) != 0)
		ret = send_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	else if (!upstream_jump_phase(ctl, name))
		ret = send_error(c, MHD_HTTP_NOT_FOUND, "scenario \"%s\" has no phase \"%s\"",
				 upstream_scenario(ctl)->name, name);
	else
		ret = send_json(c, MHD_HTTP_OK, status_json(a, ctl));
	free(name);
	return ret;
}

/* The drill is the whole process's: renewing renews every upstream. */
static bool renew_all(struct admin *a, uint64_t ttl_ns)
{
	bool any = false;
	for (size_t i = 0; i < a->fleet->n; i++)
		any |= upstream_renew(&a->fleet->members[i], ttl_ns);
	return any;
}

static enum MHD_Result post_renew(struct admin *a, struct MHD_Connection *c,
				  const struct admin_req *rq)
{
	char why[256];
	uint64_t ttl_us;
	if (admin_parse_renew(rq->body, rq->len, &ttl_us, why, sizeof why) != 0)
		return send_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	if (!renew_all(a, ttl_us * 1000))
		return send_error(
			c, MHD_HTTP_CONFLICT,
			a->fleet->members[0].drill_expired
				? "the drill TTL has already expired; PUT a scenario to start again"
				: "no drill TTL is set (start upsim with --drill-ttl)");
	return send_json(c, MHD_HTTP_OK, status_json(a, &a->fleet->members[0]));
}

/* A query argument as an unsigned integer; false when present but bad. */
static bool query_uint(struct MHD_Connection *c, const char *key, uint64_t *out)
{
	const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
	return s == NULL || admin_parse_uint(s, out);
}

static enum MHD_Result get_journal(struct admin *a, struct MHD_Connection *c,
				   const struct admin_req *rq)
{
	(void)rq;
	uint64_t since = 0, limit = JOURNAL_DEFAULT_LIMIT;
	if (!query_uint(c, "since", &since))
		return send_error(c, MHD_HTTP_BAD_REQUEST,
				  "since: expected a record id (0 or more)");
	if (!query_uint(c, "limit", &limit) || limit < 1 || limit > JOURNAL_MAX_LIMIT)
		return send_error(c, MHD_HTTP_BAD_REQUEST, "limit: expected 1..%d",
				  JOURNAL_MAX_LIMIT);
	return send_json(c, MHD_HTTP_OK,
			 journal_query(a->fleet->members[0].journal, since, (size_t)limit));
}

static enum MHD_Result get_metrics(struct admin *a, struct MHD_Connection *c,
				   const struct admin_req *rq)
{
	(void)rq;
	char *text = metrics_text(a->fleet);
	if (text == NULL)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return send_text(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text);
}

static enum MHD_Result post_reset(struct admin *a, struct MHD_Connection *c,
				  const struct admin_req *rq)
{
	(void)rq;
	for (size_t i = 0; i < a->fleet->n; i++)
		upstream_reset(&a->fleet->members[i]);
	return send_json(c, MHD_HTTP_OK, upstream_stats_json(&a->fleet->members[0]));
}

static enum MHD_Result get_healthz(struct admin *a, struct MHD_Connection *c,
				   const struct admin_req *rq)
{
	(void)a;
	(void)rq;
	return send_text(c, MHD_HTTP_OK, "text/plain", xstrdup("ok\n"));
}

/* The routing table: a path, the one method it takes, its handler. A new
 * endpoint is a row here (and its section in docs/admin-api.md). */
typedef enum MHD_Result (*admin_handler)(struct admin *a, struct MHD_Connection *c,
					 const struct admin_req *rq);

static const struct route {
	const char *path, *method;
	admin_handler handle;
} routes[] = {
	{"/healthz", "GET", get_healthz},    {"/metrics", "GET", get_metrics},
	{"/v1/status", "GET", get_status},   {"/v1/stats", "GET", get_stats},
	{"/v1/journal", "GET", get_journal}, {"/v1/scenario", "PUT", put_scenario},
	{"/v1/phase", "POST", post_phase},   {"/v1/reset", "POST", post_reset},
	{"/v1/renew", "POST", post_renew},
};

static const struct route *find_route(const char *url)
{
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (strcmp(routes[i].path, url) == 0)
			return &routes[i];
	return NULL;
}

static bool method_is(const char *method, const char *want)
{
	return strcmp(method, want) == 0
	       || (strcmp(want, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static enum MHD_Result dispatch(struct admin *a, struct MHD_Connection *c, const char *url,
				const char *method, const struct admin_req *rq)
{
	const struct route *rt = find_route(url);
	if (rt == NULL)
		return send_error(c, MHD_HTTP_NOT_FOUND,
				  "no such endpoint: %s "
				  "(see docs/admin-api.md)",
				  url);
	if (!method_is(method, rt->method))
		return send_not_allowed(c, rt->method);
	return rt->handle(a, c, rq);
}

static bool authorized(const struct admin *a, struct MHD_Connection *c)
{
	if (a->token == NULL)
		return true;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	static const char scheme[] = "Bearer ";
	if (h == NULL || strncasecmp(h, scheme, sizeof scheme - 1) != 0)
		return false;
	return admin_token_equal(h + sizeof scheme - 1, a->token);
}

static enum MHD_Result send_unauthorized(struct MHD_Connection *c)
{
	char *text = xstrdup("{\n  \"error\": \"missing or wrong bearer token\"\n}\n");
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text,
								 MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"upsim\"");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return ret;
}

/* A declared body over the limit is refused before it is read. */
static bool declared_too_big(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	return cl != NULL && strtoull(cl, NULL, 10) > ADMIN_MAX_BODY;
}

static enum MHD_Result on_first_call(struct admin *a, struct MHD_Connection *c,
				     struct admin_req *rq)
{
	if (!authorized(a, c)) {
		rq->done = true;
		return send_unauthorized(c);
	}
	if (declared_too_big(c)) {
		rq->done = true;
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %u bytes",
				  ADMIN_MAX_BODY);
	}
	return MHD_YES;
}

static void take_body(struct admin_req *rq, const char *data, size_t n)
{
	if (rq->too_big || rq->len + n > ADMIN_MAX_BODY) {
		rq->too_big = true;
		return;
	}
	rq->body = xrealloc(rq->body, rq->len + n + 1);
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	rq->body[rq->len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct admin *a = cls;
	struct admin_req *rq = *req_cls;
	(void)version;
	if (rq == NULL) {
		*req_cls = rq = xcalloc(1, sizeof *rq);
		return on_first_call(a, c, rq);
	}
	if (*upload_data_size > 0) {
		if (!rq->done)
			take_body(rq, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->done)
		return MHD_YES;
	rq->done = true;
	if (rq->too_big)
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %u bytes",
				  ADMIN_MAX_BODY);
	return dispatch(a, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct admin_req *rq = *req_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (rq != NULL) {
		free(rq->body);
		free(rq);
		*req_cls = NULL;
	}
}

static void resolve_address(struct admin *a, const struct sockaddr *addr)
{
	struct sockaddr_storage bound;
	memcpy(&bound, addr,
	       addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					   : sizeof(struct sockaddr_in));
	uint16_t port = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
	if (bound.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&bound)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&bound)->sin_port = htons(port);
	addr_format((struct sockaddr *)&bound, a->address);
}

struct admin *admin_start(struct loop *loop, const struct sockaddr *addr, socklen_t addrlen,
			  const char *token, struct fleet *fleet, char *errbuf, size_t errlen)
{
	(void)addrlen;
	struct admin *a = xcalloc(1, sizeof *a);
	a->fleet = fleet;
	a->token = token && *token ? xstrdup(token) : NULL;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	a->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, a, MHD_OPTION_SOCK_ADDR, addr,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
				  MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT,
				  30u, MHD_OPTION_EXTERNAL_LOGGER, mhd_loop_log,
				  "admin API: libmicrohttpd", MHD_OPTION_END);
	if (a->mhd == NULL) {
		snprintf(errbuf, errlen, "cannot serve the admin API: %s", strerror(errno));
		admin_free(a);
		return NULL;
	}
	resolve_address(a, addr);
	if (mhd_loop_attach(&a->driver, loop, a->mhd) != 0) {
		snprintf(errbuf, errlen, "admin API: epoll: %s", strerror(errno));
		admin_free(a);
		return NULL;
	}
	return a;
}

void admin_free(struct admin *a)
{
	if (a == NULL)
		return;
	mhd_loop_detach(&a->driver);
	if (a->mhd != NULL)
		MHD_stop_daemon(a->mhd);
	free(a->token);
	free(a);
}

const char *admin_address(const struct admin *a)
{
	return a->address;
}

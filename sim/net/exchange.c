#include "net/exchange.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/units.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "engine/attempts.h"
#include "engine/journal.h"
#include "engine/match.h"
#include "net/admission.h"
#include "net/conn.h"
#include "net/forward.h"
#include "net/loop.h"
#include "net/override.h"
#include "net/respond.h"
#include "net/stream.h"
#include "scenario/fault.h"

static const char *lookup_header(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

static const char *lookup_query(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* What the journal will need of the request, taken while MHD has it. */
static void note_request(struct exchange *ex, struct conn *c, const struct exchange_env *env,
			 struct MHD_Connection *mhd, const char *url, const char *method)
{
	ex->start_ns = clock_mono_ns();
	ex->start_wall_us = clock_wall_us();
	ex->conn_request = c->requests;
	ex->method = xstrdup(method);
	ex->path = xstrdup(url);
	const char *id = env->request_id_header
				 ? MHD_lookup_connection_value(mhd, MHD_HEADER_KIND,
							       env->request_id_header)
				 : NULL;
	if (id != NULL)
		ex->request_id = xstrdup(id);
}

static bool paced(const struct action *a)
{
	const struct pace *p = &a->pace;
	return p->drip_bytes || p->rate || p->header_delay_us || p->stall_at;
}

/* Does the request go to the real service? Not for a fault that acts
 * before any answer (close, reset, hang), on the headers alone
 * (no_continue, early_response), or with bytes that are not HTTP: those
 * happen as for a canned action, and the service never sees the request. */
static void decide_forward(struct exchange *ex, const struct scenario *sc,
			   const struct exchange_env *env, struct MHD_Connection *mhd)
{
	const char *url = scenario_forward_url(sc, &ex->action);
	if (url == NULL)
		return;
	ex->forward_wanted = true;
	enum fault_kind k = ex->action.fault.kind;
	if (k != FAULT_NONE
	    && (fault_act(k) != FAULT_ACT_WRITE || fault_has(k, FAULT_ON_HEADERS)
		|| fault_has(k, FAULT_NOT_HTTP)))
		return;
	ex->forward_url = url;
	ex->pool = env->forward;
	/* Only an answer upsim passes on as it is may stream: a fault's
	 * offsets, pacing, a body of the action's and upsim record's capture
	 * need it whole. */
	const struct action *a = &ex->action;
	ex->stream = k == FAULT_NONE && !paced(a) && !(a->set & ACTION_BODY)
		     && env->capture == NULL;
	ex->req_framed = MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, "Content-Length") != NULL
			 || MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, "Transfer-Encoding")
				    != NULL;
}

/* Does the request body stream to the service as it comes? Only when
 * nothing stands between the headers and forwarding: no delay, no
 * overload model (both come before forwarding, which the body would
 * overtake), no read.rate. upload_len: its Content-Length, or -1. */
static void decide_upload(struct exchange *ex, struct MHD_Connection *mhd)
{
	if (ex->forward_url == NULL || !ex->req_framed || ex->delay_ns > 0
	    || ex->overload_model->workers > 0 || ex->action.read_rate > 0)
		return;
	const char *cl = MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, "Content-Length");
	ex->upload_len = -1;
	if (cl != NULL) {
		ex->upload_len = units_parse_http_length(cl);
		if (ex->upload_len <= 0)
			return; /* none, or one MHD refuses anyway */
	}
	ex->upload = true;
}

/* Match, pick and draw once the headers are in: every random draw of a
 * request happens here, in arrival order, so runs repeat exactly. */
static struct exchange *decide(struct behave *b, const struct conn *c,
			       const struct exchange_env *env, struct MHD_Connection *mhd,
			       const char *url, const char *method)
{
	struct exchange *ex = xcalloc(1, sizeof *ex);
	struct scenario *sc = b->scenario;
	ex->behave = behave_ref(b);
	struct match_request req = {
		.method = method,
		.path = url,
		.header = lookup_header,
		.query = lookup_query,
		.ctx = mhd,
		.conn_request = c->requests,
		.phase = env->phase_index,
	};
	ex->phase = env->phase_index;
	ex->rule = match_first(sc, &req);
	const struct action *defaults = scenario_defaults(sc, ex->phase);
	const struct action *picked = defaults;
	if (ex->rule != NULL)
		picked = behave_pick(b, ex->rule);
	else
		behave_took_defaults(b);
	ex->action_index = ex->rule && ex->rule->behaviour != BEHAVE_RESPOND
				   ? (int)(picked - ex->rule->actions)
				   : -1;
	scenario_resolve_with(defaults, picked, &ex->action);
	if (sc->allow_override)
		override_apply(ex, mhd, defaults);
	decide_forward(ex, sc, env, mhd);
	struct rng *stream = behave_stream(b, ex->rule);
	ex->delay_ns = behave_draw_us(stream, &ex->action.delay) * 1000;
	if (fault_has(ex->action.fault.kind, FAULT_SEEDED))
		ex->seed = rng_next(stream);
	ex->overload_model = scenario_overload(sc, ex->phase);
	ex->overload = behave_overload(b, ex->phase);
	if (ex->overload_model->workers > 0)
		ex->service_ns = behave_draw_us(&b->overload_rng, &ex->overload_model->service_time)
				 * 1000;
	ex->head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	ex->conn = (struct conn *)c;
	decide_upload(ex, mhd);
	return ex;
}

/* Does the request's Connection header list token? */
static bool connection_lists(struct MHD_Connection *mhd, const char *token)
{
	const char *v = MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, "Connection");
	size_t want = strlen(token);
	while (v != NULL && *v != '\0') {
		v += strspn(v, " \t,");
		size_t len = strcspn(v, ",");
		size_t end = len;
		while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end == want && strncasecmp(v, token, want) == 0)
			return true;
		v += len;
	}
	return false;
}

/* A body this small goes out with its head as one TLS record. */
#define TLS_CORK_MAX_BODY (16 * 1024)

/* Over TLS, is the response MHD is given (its body in memory when
 * in_memory) one to cork (conn_tls_cork)? Only when the connection surely
 * stays open after it: the client asked for keep-alive as MHD reads it
 * (HTTP/1.1, no "close"), and neither the action nor a request limit
 * closes. */
static bool corks(const struct conn *c, const struct exchange *ex, struct MHD_Connection *mhd,
		  bool in_memory)
{
	uint64_t len = ex->streaming ? ex->stream_size : ex->action.body_len;
	return c->tls != NULL && in_memory && len <= TLS_CORK_MAX_BODY && !ex->closes
	       && ex->action.after.kind == AFTER_KEEP && c->http11
	       && !connection_lists(mhd, "close");
}

/* A well-formed answer through MHD (r, NULL when it could not be built;
 * its body in memory when in_memory): keep-alive goes on. */
static enum MHD_Result queue(struct conn *c, struct exchange *ex, struct MHD_Connection *mhd,
			     struct MHD_Response *r, bool in_memory)
{
	if (r == NULL)
		return MHD_NO;
	/* The last request a connection may carry says so, as servers with a
	 * keep-alive request limit do; MHD then closes after sending. */
	unsigned max = scenario_connection(ex->behave->scenario, ex->phase)->max_requests;
	ex->closes = ex->action.after.kind == AFTER_CLOSE || (max && c->requests >= max);
	if (ex->closes)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (corks(c, ex, mhd, in_memory))
		conn_tls_cork(c);
	enum MHD_Result ret = MHD_queue_response(mhd, (unsigned)ex->action.status, r);
	MHD_destroy_response(r);
	ex->answered = ret == MHD_YES;
	return ret;
}

/* A well-formed, unpaced answer: MHD sends it. */
static enum MHD_Result respond_mhd(struct conn *c, struct exchange *ex, struct MHD_Connection *mhd)
{
	const struct action *a = &ex->action;
	return queue(c, ex, mhd, respond_build(a), !a->chunked && !a->body_generated);
}

/* Bytes MHD would never send, or paced ones: render and write raw. A
 * paced healthy response says "Connection: close" and ends with a FIN (or
 * a RST for after: reset): the connection cannot go back to MHD. */
static enum MHD_Result respond_raw(struct conn *c, struct exchange *ex)
{
	const struct action *a = &ex->action;
	bool faulty = a->fault.kind != FAULT_NONE;
	struct render_opts opts = {
		.seed = ex->seed,
		.reason = MHD_get_reason_phrase_for((unsigned)a->status),
		.head_request = ex->head,
		.close_header = !faulty,
	};
	render_response(a, &opts, &ex->render);
	enum ending then = faulty			  ? a->fault.then
			   : a->after.kind == AFTER_RESET ? END_RESET
							  : END_CLOSE;
	ex->raw = true;
	return conn_write_raw(c, &a->pace, then) ? MHD_YES : MHD_NO;
}

static void on_forwarded(void *arg)
{
	struct exchange *ex = arg;
	ex->fetched = true;
	conn_upstream_done(ex->conn);
	conn_stream_more(ex->conn);
}

static void on_forward_head(void *arg)
{
	struct exchange *ex = arg;
	conn_upstream_done(ex->conn);
}

static void on_forward_more(void *arg)
{
	struct exchange *ex = arg;
	conn_stream_more(ex->conn);
}

static void on_upload_room(void *arg)
{
	struct exchange *ex = arg;
	conn_upload_room(ex->conn);
}

static const struct forward_events forward_events = {
	.head = on_forward_head,
	.more = on_forward_more,
	.done = on_forwarded,
	.room = on_upload_room,
};

/* Send the request on to the real service: its body with it (read
 * whole), or streamed after it (ex->upload). */
static void forward_send(struct conn *c, struct exchange *ex, struct MHD_Connection *mhd)
{
	const struct scenario *sc = ex->behave->scenario;
	struct forward_request req = {
		.base = ex->forward_url,
		.target = c->target ? c->target : ex->path,
		.method = ex->method,
		.mhd = mhd,
		.body = ex->req_body,
		.body_len = ex->req_len,
		.has_body = ex->req_framed,
		.opts = &sc->forwarding,
		.total_timeout_ns = c->env->hang_cap_ns,
		.stream = ex->stream,
		.upload = ex->upload,
		.upload_len = ex->upload_len,
	};
	ex->req_body = NULL; /* the forward owns it now */
	ex->fwd = forward_start(ex->pool, &req, &forward_events, ex);
}

/* Is the service's answer in: its head when it streams, else all of it? */
static bool answer_in(const struct exchange *ex)
{
	return forward_ended(ex->fwd) || (ex->stream && forward_result(ex->fwd)->status > 0);
}

/* Does the action take the real header name out (remove_headers)? */
static bool removed(const struct action *a, const char *name)
{
	for (size_t i = 0; i < a->n_remove_headers; i++)
		if (strcasecmp(a->remove_headers[i], name) == 0)
			return true;
	return false;
}

/* The real answer becomes the action's response: its status unless the
 * action (or the defaults) set one; its headers but those remove_headers
 * names, then the action's; its body unless the action gives one. Faults,
 * pacing and after then apply as to a canned response. */
static void compose(struct exchange *ex)
{
	const struct forward_result *r = forward_result(ex->fwd);
	struct action *a = &ex->action;
	ex->composed = true;
	if (!(a->set & ACTION_STATUS))
		a->status = r->status;
	size_t extra = (a->set & ACTION_HEADERS) ? a->n_headers : 0;
	size_t n = 0;
	ex->fwd_headers = xcalloc(r->n_headers + extra + 1, sizeof *ex->fwd_headers);
	for (size_t i = 0; i < r->n_headers; i++)
		if (!removed(a, r->headers[i].name))
			ex->fwd_headers[n++] = r->headers[i];
	if (extra)
		memcpy(ex->fwd_headers + n, a->headers, extra * sizeof *a->headers);
	n += extra;
	a->headers = ex->fwd_headers; /* the strings stay the forward's and the scenario's */
	a->n_headers = n;
	if (!(a->set & ACTION_BODY)) {
		a->body = r->body;
		a->body_len = r->body_len;
		a->body_generated = false;
	}
	if (scenario_status_has_no_body(a->status)) {
		a->body = NULL;
		a->body_len = 0;
		a->body_generated = false;
	}
}

/* The real service gave no answer: on_upstream_error says what the
 * gateway sees. */
static enum MHD_Result upstream_failed(struct conn *c, struct exchange *ex,
				       struct MHD_Connection *mhd, const char *why)
{
	struct action *a = &ex->action;
	ex->upstream_error = why;
	switch (a->on_error) {
	case UPSTREAM_ERROR_RESET:
		ex->outcome = OUTCOME_RST;
		conn_reset_socket(c->fd);
		return MHD_NO;
	case UPSTREAM_ERROR_CLOSE: ex->outcome = OUTCOME_FIN; return MHD_NO;
	case UPSTREAM_ERROR_STATUS: break;
	}
	static struct header text_plain = {"Content-Type", "text/plain"};
	ex->composed = true;
	ex->error_body = xasprintf("upsim: the upstream failed: %s\n", why);
	a->status = a->on_error_status;
	a->headers = &text_plain;
	a->n_headers = 1;
	a->body = ex->error_body;
	a->body_len = strlen(ex->error_body);
	a->body_generated = false;
	a->chunked = false;
	if (scenario_status_has_no_body(a->status))
		a->body_len = 0;
	a->fault.kind = FAULT_NONE; /* the fault was for the real answer */
	a->pace = (struct pace){0};
	return respond_mhd(c, ex, mhd);
}

/* Why the service's answer cannot be passed on, or NULL. A streamed one
 * can as soon as its head is in, whatever happens to its body later. */
static const char *no_answer(const struct exchange *ex)
{
	const struct forward_result *r = forward_result(ex->fwd);
	if (ex->stream && r->status > 0)
		return NULL;
	if (r->error == NULL && r->status == 0)
		return "the upstream sent no status";
	return r->error;
}

/* Carry out the decision: the request is complete (or, for the faults
 * that act on the headers alone, its headers are). */
static enum MHD_Result act(struct conn *c, struct exchange *ex, struct MHD_Connection *mhd)
{
	if (conn_tls_unflushed(c)) {
		/* the last response is still going out: nothing overtakes it */
		conn_wait_tls_flush(c);
		return MHD_YES;
	}
	if (!admission_admit(c, ex))
		return MHD_YES;
	const struct action *a = &ex->action;
	if (!ex->delayed && ex->delay_ns > 0) {
		conn_delay(c, ex->delay_ns);
		return MHD_YES;
	}
	if (ex->forward_url != NULL && !ex->composed) {
		if (ex->fwd == NULL && !ex->req_over) {
			forward_send(c, ex, mhd);
			conn_wait_upstream(c);
			return MHD_YES;
		}
		if (ex->upload && !ex->upload_ended) {
			forward_upload_end(ex->fwd);
			ex->upload_ended = true;
		}
		if (!answer_in(ex)) {
			conn_wait_upstream(c);
			return MHD_YES;
		}
		const char *why = ex->req_over ? "the request body is over "
						 "forwarding.max_request_body"
					       : no_answer(ex);
		if (why != NULL)
			return upstream_failed(c, ex, mhd, why);
		compose(ex);
		if (ex->stream && !scenario_status_has_no_body(a->status)) {
			struct MHD_Response *r = stream_response(ex);
			return queue(c, ex, mhd, r, ex->stream_whole);
		}
	}
	if (a->fault.kind == FAULT_NONE)
		return paced(a) ? respond_raw(c, ex) : respond_mhd(c, ex, mhd);
	switch (fault_act(a->fault.kind)) {
	case FAULT_ACT_FIN:
		ex->outcome = OUTCOME_FIN;
		return MHD_NO; /* MHD closes: a FIN, no byte */
	case FAULT_ACT_RST:
		ex->outcome = OUTCOME_RST;
		conn_reset_socket(c->fd);
		return MHD_NO;
	case FAULT_ACT_HANG: conn_hang(c, a->fault.for_us * 1000, a->fault.then); return MHD_YES;
	case FAULT_ACT_WRITE: break;
	}
	return respond_raw(c, ex);
}

/* read.rate: how many body bytes may be consumed by now_ns, in quanta of
 * a tenth of a second's worth (one byte for rates under 10 B/s), and when
 * the next quantum is due. */
static uint64_t read_allowance(const struct exchange *ex, uint64_t now_ns, uint64_t *next_ns)
{
	uint64_t rate = ex->action.read_rate;
	uint64_t quantum = rate >= 10 ? rate / 10 : 1;
	uint64_t interval = quantum * 1000000000ULL / rate;
	uint64_t k = (now_ns - ex->read_start_ns) / interval;
	*next_ns = ex->read_start_ns + (k + 1) * interval;
	return (k + 1) * quantum;
}

/* Consume the body piece MHD offers: all of it, or with read.rate only
 * what the rate allows, suspending until more is due. MHD stops reading
 * the socket while its buffer is full or the connection suspended, so the
 * client's send stalls at that rate too. */
/* A forwarded request's body is kept (up to max_request_body). */
static void keep_body(struct exchange *ex, const char *data, size_t n)
{
	if (ex->forward_url == NULL || ex->req_over || n == 0)
		return;
	uint64_t max = ex->behave->scenario->forwarding.max_request_body;
	if (ex->req_len + n > max) {
		ex->req_over = true;
		free(ex->req_body);
		ex->req_body = NULL;
		ex->req_len = ex->req_cap = 0;
		return;
	}
	if (ex->req_len + n > ex->req_cap) {
		ex->req_cap = ex->req_cap ? ex->req_cap * 2 : 4096;
		while (ex->req_cap < ex->req_len + n)
			ex->req_cap *= 2;
		ex->req_body = xrealloc(ex->req_body, ex->req_cap);
	}
	memcpy(ex->req_body + ex->req_len, data, n);
	ex->req_len += n;
}

static void consume_body(struct conn *c, struct exchange *ex, const char *data, size_t *size)
{
	if (ex->upload) {
		/* streamed on: what the window cannot take waits, unread */
		size_t took = forward_upload(ex->fwd, data, *size);
		ex->body_bytes += took;
		*size -= took;
		if (*size > 0)
			conn_wait_upload(c);
		return;
	}
	if (ex->action.read_rate == 0) {
		keep_body(ex, data, *size);
		ex->body_bytes += *size;
		*size = 0;
		return;
	}
	uint64_t now = clock_mono_ns(), next;
	if (ex->read_start_ns == 0)
		ex->read_start_ns = now;
	uint64_t allowed = read_allowance(ex, now, &next);
	uint64_t take = allowed > ex->body_bytes ? allowed - ex->body_bytes : 0;
	if (take > *size)
		take = *size;
	keep_body(ex, data, take);
	ex->body_bytes += take;
	*size -= take;
	if (*size > 0)
		conn_pause_read(c, next);
}

/* Journal a request that got no exchange: the previous response left a
 * close or reset for it (why says which). Its request id is counted: the
 * gateway's attempt reached upsim. */
static void exchange_refused(struct conn *c, const struct exchange_env *env, struct scenario *sc,
			     struct MHD_Connection *mhd, const char *url, const char *method,
			     enum outcome how, const char *why)
{
	const char *id = env->request_id_header
				 ? MHD_lookup_connection_value(mhd, MHD_HEADER_KIND,
							       env->request_id_header)
				 : NULL;
	struct record r = {
		.kind = RECORD_REQUEST,
		.conn = c->id,
		.conn_request = c->requests,
		.method = xstrdup(method),
		.path = xstrdup(url),
		.phase = xstrdup(env->phase),
		.scenario = xstrdup(sc->name),
		.upstream = env->upstream ? xstrdup(env->upstream) : NULL,
		.action = -1,
		.outcome = how,
		.message = xstrdup(why),
		.request_id = id ? xstrdup(id) : NULL,
	};
	if (id != NULL && env->attempts != NULL)
		r.attempt = attempts_count(env->attempts, id);
	journal_add(env->journal, &r, FAULT_NONE);
}

/* The previous response left "on the next request: close/reset". */
static enum MHD_Result close_on_arrival(struct conn *c, const struct exchange_env *env,
					struct behave *b, struct MHD_Connection *mhd,
					const char *url, const char *method)
{
	bool reset = c->on_next == AFTER_NEXT_RESET;
	if (reset)
		conn_reset_socket(c->fd);
	c->on_next = 0;
	exchange_refused(c, env, b->scenario, mhd, url, method, reset ? OUTCOME_RST : OUTCOME_FIN,
			 "the previous response's after: on_next_request");
	return MHD_NO;
}

static bool acts_on_headers(const struct exchange *ex)
{
	return fault_has(ex->action.fault.kind, FAULT_ON_HEADERS);
}

/* MHD calls the handler several times per request: first with the headers,
 * then with each piece of body, then once more with nothing left. Answering
 * on that last call keeps keep-alive working (MHD 0.9.75 sends
 * "Connection: close" on every reply queued on the first call). */
enum MHD_Result exchange_handle(struct conn *c, struct behave *b, const struct exchange_env *env,
				struct MHD_Connection *mhd, const char *url, const char *method,
				const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	struct exchange *ex = *req_cls;
	if (ex == NULL) {
		conn_request_started(c);
		c->requests++;
		if (c->wait == WAIT_IDLE_RESET) {
			/* after: reset still flushing: the RST wins the race. */
			conn_reset_socket(c->fd);
			exchange_refused(c, env, b->scenario, mhd, url, method, OUTCOME_RST,
					 "the previous response's after: reset");
			return MHD_NO;
		}
		if (c->on_next)
			return close_on_arrival(c, env, b, mhd, url, method);
		ex = decide(b, c, env, mhd, url, method);
		note_request(ex, c, env, mhd, url, method);
		*req_cls = c->ex = ex;
		if (ex->upload)
			forward_send(c, ex, mhd); /* the body follows as it comes */
		return acts_on_headers(ex) ? act(c, ex, mhd) : MHD_YES;
	}
	if (ex->drop)
		return MHD_NO;
	if (*upload_data_size > 0) {
		consume_body(c, ex, upload_data, upload_data_size);
		return MHD_YES;
	}
	return act(c, ex, mhd);
}

/* How the exchange ended, when nothing on the way said so. */
static enum outcome final_outcome(const struct exchange *ex, bool stopping,
				  enum MHD_RequestTerminationCode toe)
{
	if (ex->outcome != OUTCOME_NONE)
		return ex->outcome;
	if (ex->answered && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		return OUTCOME_RESPONSE;
	if (stopping || toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
		return OUTCOME_SHUTDOWN;
	return OUTCOME_CLIENT_CLOSED;
}

/* Did the status of the action go out? Not for faults that send no
 * byte or bytes of their own (no status line of the action's). */
static bool sends_status(const struct exchange *ex)
{
	enum fault_kind k = ex->action.fault.kind;
	if (k != FAULT_NONE && (fault_act(k) != FAULT_ACT_WRITE || fault_has(k, FAULT_NOT_HTTP)))
		return false;
	return ex->answered || (ex->raw && ex->pacer.pos > 0);
}

static void journal_exchange(struct conn *c, struct exchange *ex, const struct exchange_env *env,
			     enum outcome how)
{
	struct record r = {
		.kind = RECORD_REQUEST,
		.time_us = ex->start_wall_us,
		.conn = c ? c->id : 0,
		.conn_request = ex->conn_request,
		.method = ex->method,
		.path = ex->path,
		.request_id = ex->request_id,
		.phase = xstrdup(env->phase),
		.scenario = xstrdup(ex->behave->scenario->name),
		.upstream = env->upstream ? xstrdup(env->upstream) : NULL,
		.rule = ex->rule ? xstrdup(ex->rule->name) : NULL,
		.action = ex->action_index,
		.overridden = ex->overridden,
		.outcome = how,
		.raw = ex->raw,
		.bytes = ex->raw		     ? ex->pacer.pos
			 : ex->streaming	     ? ex->streamed
			 : ex->answered && !ex->head ? ex->action.body_len
						     : 0,
		.duration_us = (clock_mono_ns() - ex->start_ns) / 1000,
	};
	enum fault_kind fk = ex->action.fault.kind;
	if (fk != FAULT_NONE)
		r.fault = fault_by_kind(fk)->name;
	if (sends_status(ex))
		r.status = ex->action.status;
	if (ex->request_id != NULL && env->attempts != NULL)
		r.attempt = attempts_count(env->attempts, ex->request_id);
	static const char *const load_names[] = {
		[LOAD_SERVING] = "served",
		[LOAD_SERVED] = "served",
		[LOAD_WAITING] = "waited",
		[LOAD_REJECTED] = "rejected",
	};
	r.overload = load_names[ex->load];
	if (ex->waited)
		r.overload = "waited";
	r.queue_us = ex->waited_ns / 1000;
	r.forward_known = ex->forward_wanted;
	r.forwarded = ex->fwd != NULL;
	if (ex->fwd != NULL && ex->fetched) {
		const struct forward_result *fr = forward_result(ex->fwd);
		r.real_status = fr->status;
		r.real_us = fr->time_us;
	}
	if (ex->upstream_error != NULL)
		r.upstream_error = xstrdup(ex->upstream_error);
	ex->method = ex->path = ex->request_id = NULL; /* the record owns them */
	journal_add(env->journal, &r, fk);
}

void exchange_completed(struct conn *c, struct exchange *ex, const struct exchange_env *env,
			enum MHD_RequestTerminationCode toe)
{
	bool stopping = c != NULL && c->env->stopping;
	admission_leave(ex, env->holds, stopping);
	if (env->capture != NULL && ex->fwd != NULL && ex->fetched
	    && forward_result(ex->fwd)->error == NULL)
		env->capture->fn(env->capture->arg, ex->method, ex->path, forward_result(ex->fwd));
	journal_exchange(c, ex, env, final_outcome(ex, stopping, toe));
	if (c != NULL) {
		conn_tls_uncork(c); /* before anything that would close */
		if (ex->answered && ex->closes && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
			conn_response_closes(c);
		if (ex->answered && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
			conn_after_response(c, &ex->action.after,
					    scenario_connection(ex->behave->scenario, ex->phase)
							    ->idle_timeout_us
						    * 1000);
		if (c->ex == ex)
			c->ex = NULL;
	}
	render_free(&ex->render);
	forward_free(ex->fwd);
	free(ex->req_body);
	free(ex->fwd_headers);
	free(ex->error_body);
	scenario_action_clear(&ex->own);
	behave_unref(ex->behave);
	free(ex);
}

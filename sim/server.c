#include "server.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "behave.h"
#include "log.h"
#include "match.h"
#include "respond.h"
#include "util.h"
#include "xalloc.h"

struct server {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	struct loop_io mhd_io;          /* MHD's epoll fd */
	struct loop_timer mhd_timer;    /* MHD's own timeouts */
	struct loop_hook hook;
	struct behave *behave;          /* decisions for the current scenario */
	struct server_counters counters;
};

/* One request from its first header to MHD's completion callback. */
struct exchange {
	struct behave *behave;          /* reference: the scenario it started under */
	uint64_t body_bytes;            /* request body read and discarded */
};

static void run_mhd(struct server *s)
{
	if (MHD_run(s->mhd) != MHD_YES)
		log_warn("MHD_run failed");
}

static void on_mhd_event(struct loop_io *io, uint32_t events)
{
	(void)events;
	run_mhd(container_of(io, struct server, mhd_io));
}

static void on_mhd_timer(struct loop_timer *t)
{
	run_mhd(container_of(t, struct server, mhd_timer));
}

/* Before each wait, let MHD say when it next needs to run: 0 when it has
 * buffered work (pipelined requests, new connections), else its nearest
 * connection timeout. */
static void before_wait(struct loop_hook *h)
{
	struct server *s = container_of(h, struct server, hook);
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
		loop_timer_at(s->loop, &s->mhd_timer, loop_now() + ms * 1000000ULL);
	else
		loop_timer_cancel(s->loop, &s->mhd_timer);
}

static const char *lookup_header(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

static const char *lookup_query(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* Decide and queue the answer once the whole request has arrived. */
static enum MHD_Result answer(struct server *s, struct MHD_Connection *conn,
			      struct exchange *ex, const char *method,
			      const char *url)
{
	struct scenario *sc = ex->behave->scenario;
	struct match_request req = {
		.method = method, .path = url,
		.header = lookup_header, .query = lookup_query, .ctx = conn,
	};
	const struct rule *rule = match_first(sc, &req);
	struct action resolved;
	scenario_resolve(sc, rule ? behave_pick(ex->behave, rule) : &sc->defaults,
			 &resolved);
	struct MHD_Response *r = respond_build(&resolved);
	if (r == NULL)
		return MHD_NO;
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resolved.status, r);
	MHD_destroy_response(r);
	s->counters.requests++;
	return ret;
}

/* MHD calls this several times per request: first with the headers, then
 * with each piece of body, then once more with nothing left. Answering only
 * on that last call keeps keep-alive working (MHD 0.9.75 sends
 * "Connection: close" on every reply queued on the first call). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct server *s = cls;
	struct exchange *ex = *req_cls;
	(void)version;
	(void)upload_data;
	if (ex == NULL) {
		ex = xcalloc(1, sizeof *ex);
		ex->behave = behave_ref(s->behave);
		*req_cls = ex;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		ex->body_bytes += *upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return answer(s, conn, ex, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct exchange *ex = *req_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (ex == NULL)
		return;
	behave_unref(ex->behave);
	free(ex);
	*req_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct server *s = cls;
	(void)conn;
	(void)socket_ctx;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		s->counters.open++;
	else
		s->counters.open--;
}

__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("libmicrohttpd: %s", line);
}

struct server *server_new(struct loop *loop, struct scenario *sc,
			  unsigned max_connections, char *errbuf, size_t errlen)
{
	struct server *s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->behave = behave_new(sc);
	s->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME |
			MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_CONNECTION_LIMIT, max_connections,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
		MHD_OPTION_END);
	if (s->mhd == NULL) {
		snprintf(errbuf, errlen, "libmicrohttpd failed to start");
		behave_unref(s->behave);
		free(s);
		return NULL;
	}
	s->mhd_io.fd = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
	s->mhd_io.on_event = on_mhd_event;
	s->mhd_timer.on_fire = on_mhd_timer;
	s->hook.before_wait = before_wait;
	loop_add_hook(loop, &s->hook);
	if (loop_io_add(loop, &s->mhd_io, EPOLLIN) == -1) {
		snprintf(errbuf, errlen, "epoll: %s", strerror(errno));
		server_free(s);
		return NULL;
	}
	return s;
}

void server_free(struct server *s)
{
	if (s == NULL)
		return;
	loop_io_del(s->loop, &s->mhd_io);
	loop_remove_hook(s->loop, &s->hook);
	loop_timer_cancel(s->loop, &s->mhd_timer);
	MHD_stop_daemon(s->mhd);
	behave_unref(s->behave);
	free(s);
}

void server_add_connection(void *server, int fd, const struct sockaddr *sa,
			   socklen_t len)
{
	struct server *s = server;
	/* On failure MHD has already closed fd (it owns it from the call on). */
	if (MHD_add_connection(s->mhd, fd, sa, len) != MHD_YES) {
		log_warn("connection refused by libmicrohttpd: %s", strerror(errno));
		return;
	}
	s->counters.connections++;
}

void server_set_scenario(struct server *s, struct scenario *sc)
{
	struct behave *old = s->behave;
	s->behave = behave_new(sc);
	behave_unref(old);
}

struct scenario *server_scenario(const struct server *s)
{
	return s->behave->scenario;
}

const struct server_counters *server_counters(const struct server *s)
{
	return &s->counters;
}

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
#include "conn.h"
#include "exchange.h"
#include "log.h"
#include "util.h"
#include "xalloc.h"

struct server {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	struct loop_io mhd_io;          /* MHD's epoll fd */
	struct loop_timer mhd_timer;    /* MHD's own timeouts */
	struct loop_hook hook;
	struct behave *behave;          /* decisions for the current scenario */
	struct conn_env env;
	struct conn *conns;             /* every open connection */
	struct exchange_stats stats;
	bool run_soon;                  /* a connection was resumed */
	struct server_counters counters;
};

static void run_mhd(struct server *s)
{
	s->run_soon = false;
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
	if (s->run_soon)
		loop_timer_at(s->loop, &s->mhd_timer, loop_now());
	else if (MHD_get_timeout(s->mhd, &ms) == MHD_YES)
		loop_timer_at(s->loop, &s->mhd_timer, loop_now() + ms * 1000000ULL);
	else
		loop_timer_cancel(s->loop, &s->mhd_timer);
}

static void wake_mhd(void *arg)
{
	struct server *s = arg;
	s->run_soon = true;
}

static struct conn *conn_of(struct MHD_Connection *mhd)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mhd,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct server *s = cls;
	struct conn *c = conn_of(mhd);
	(void)version;
	(void)upload_data;
	if (c == NULL)
		return MHD_NO;
	return exchange_handle(c, s->behave, &s->stats, mhd, url, method,
			       upload_data_size, req_cls);
}

static void on_completed(void *cls, struct MHD_Connection *mhd, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct exchange *ex = *req_cls;
	(void)cls;
	if (ex == NULL)
		return;
	exchange_completed(conn_of(mhd), ex, toe);
	*req_cls = NULL;
}

static void link_conn(struct server *s, struct conn *c)
{
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
}

static void unlink_conn(struct server *s, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

/* Every connection gets a record beside MHD's from its start to its
 * close; the CLOSED notification cancels its timers before the fd can be
 * reused. */
static void on_connection(void *cls, struct MHD_Connection *mhd, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct server *s = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct conn *c = conn_new(&s->env, mhd, info->connect_fd);
		uint64_t idle_us = s->behave->scenario->connection.idle_timeout_us;
		if (idle_us > 0)
			conn_idle_close(c, idle_us * 1000);
		link_conn(s, c);
		*socket_ctx = c;
		s->counters.open++;
		return;
	}
	struct conn *c = *socket_ctx;
	if (c != NULL) {
		unlink_conn(s, c);
		conn_free(c);
		*socket_ctx = NULL;
	}
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
			  const struct server_config *cfg, char *errbuf, size_t errlen)
{
	struct server *s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->env.loop = loop;
	s->env.hang_cap_ns = cfg->hang_cap_ns;
	s->env.wake_mhd = wake_mhd;
	s->env.wake_arg = s;
	s->behave = behave_new(sc);
	s->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME |
			MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
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

/* MHD_stop_daemon must not meet a suspended connection: resume every
 * one marked to drop, and let MHD close them. */
static void release_suspended(struct server *s)
{
	for (int round = 0; round < 8; round++) {
		bool any = false;
		for (struct conn *c = s->conns; c != NULL; c = c->next) {
			if (c->suspended) {
				conn_drop(c);
				any = true;
			}
		}
		if (!any)
			return;
		run_mhd(s);
	}
	log_warn("connections still suspended at shutdown");
}

void server_free(struct server *s)
{
	if (s == NULL)
		return;
	loop_io_del(s->loop, &s->mhd_io);
	loop_remove_hook(s->loop, &s->hook);
	loop_timer_cancel(s->loop, &s->mhd_timer);
	release_suspended(s);
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

const struct exchange_stats *server_exchange_stats(const struct server *s)
{
	return &s->stats;
}

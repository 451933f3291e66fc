#include "net/server.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "engine/behave.h"
#include "net/admission.h"
#include "net/conn.h"
#include "net/exchange.h"
#include "net/forward.h"
#include "net/mhd_loop.h"
#include "net/tls_session.h"

struct server {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	struct mhd_loop driver;
	struct behave *behave; /* decisions for the current scenario */
	struct conn_env env;
	struct conn *conns;	   /* every open connection */
	struct exchange_env xenv;  /* where exchanges are journalled */
	struct worker_holds holds; /* overload workers without a client */
	char *phase;		   /* the current phase's name */
	struct server_counters counters;
	const struct tls_server *tls; /* NULL: plain HTTP */
};

static void wake_mhd(void *arg)
{
	struct server *s = arg;
	mhd_loop_wake(&s->driver);
}

static struct conn *conn_of(struct MHD_Connection *mhd)
{
	const union MHD_ConnectionInfo
		*info = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request-target before MHD splits and
 * unescapes it, kept for forwarding. NULL leaves *req_cls empty. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *mhd)
{
	struct server *s = cls;
	struct conn *c = conn_of(mhd);
	mhd_loop_progress(&s->driver);
	if (c != NULL) {
		free(c->target);
		c->target = xstrdup(uri);
	}
	return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mhd, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct server *s = cls;
	struct conn *c = conn_of(mhd);
	mhd_loop_progress(&s->driver);
	if (c == NULL)
		return MHD_NO;
	c->http11 = strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
	return exchange_handle(c, s->behave, &s->xenv, mhd, url, method, upload_data,
			       upload_data_size, req_cls);
}

static void on_completed(void *cls, struct MHD_Connection *mhd, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server *s = cls;
	struct exchange *ex = *req_cls;
	mhd_loop_progress(&s->driver);
	if (ex == NULL)
		return;
	exchange_completed(conn_of(mhd), ex, &s->xenv, toe);
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

static void journal_connection(struct server *s, uint64_t conn, const char *accept,
			       const char *reason, enum outcome how);

/* Every connection gets a record beside MHD's from its start to its
 * close; the CLOSED notification cancels its timers before the fd can be
 * reused. */
static void on_connection(void *cls, struct MHD_Connection *mhd, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct server *s = cls;
	mhd_loop_progress(&s->driver);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo
			*info = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct conn *c = conn_new(&s->env, mhd, info->connect_fd);
		c->id = journal_next_conn(s->xenv.journal);
		const struct conn_policy *policy = server_connection_policy(s);
		if (s->tls != NULL) {
			c->tls = tls_session_begin(s->tls, mhd, &policy->tls);
			c->tls_bare_close = policy->tls.no_close_notify;
		}
		uint64_t idle_us = policy->idle_timeout_us;
		if (idle_us > 0)
			conn_idle_close(c, idle_us * 1000);
		link_conn(s, c);
		*socket_ctx = c;
		s->counters.open++;
		return;
	}
	struct conn *c = *socket_ctx;
	if (c != NULL) {
		/* A TLS connection that ends before its first request: the
		 * handshake failed inside libmicrohttpd (the client refused
		 * the certificate or the versions) or the client left after
		 * it. Either way the gateway connected: journal it, or its
		 * attempts would not show. libmicrohttpd does not say who
		 * closed: no outcome. */
		if (c->tls != NULL && c->requests == 0)
			journal_connection(s, c->id, "no_request", "tls", OUTCOME_NONE);
		unlink_conn(s, c);
		conn_free(c);
		*socket_ctx = NULL;
	}
	s->counters.open--;
}

struct server *server_new(struct loop *loop, struct scenario *sc, const struct server_config *cfg,
			  char *errbuf, size_t errlen)
{
	struct server *s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->env.loop = loop;
	s->env.hang_cap_ns = cfg->hang_cap_ns;
	s->env.wake_mhd = wake_mhd;
	s->env.wake_arg = s;
	s->behave = behave_new(sc, cfg->thread);
	s->phase = xstrdup("default");
	s->xenv = (struct exchange_env){
		.journal = cfg->journal,
		.attempts = cfg->attempts,
		.request_id_header = cfg->request_id_header,
		.phase = s->phase,
		.holds = &s->holds,
		.upstream = cfg->upstream,
		.forward = forward_pool_new(loop),
		.capture = cfg->capture,
	};
	s->holds.loop = loop;
	s->tls = cfg->tls;
	/* A TLS daemon starts with the valid certificate; each connection's
	 * own is set when it starts (tls_session_begin). */
	struct MHD_OptionItem tls_options[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls ? (void *)tls_server_cert_pem(s->tls) : NULL},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls ? (void *)tls_server_key_pem(s->tls) : NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	s->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET
					  | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG
					  | (s->tls ? MHD_USE_TLS : 0),
				  0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY,
				  s->tls ? tls_options : tls_options + 2,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				  MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
				  MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				  cfg->connection_memory ? cfg->connection_memory
							 : SERVER_CONNECTION_MEMORY_DEFAULT,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_loop_log, "libmicrohttpd",
				  MHD_OPTION_END);
	if (s->mhd == NULL) {
		snprintf(errbuf, errlen, "libmicrohttpd failed to start");
		forward_pool_free(s->xenv.forward);
		behave_unref(s->behave);
		free(s->phase);
		free(s);
		return NULL;
	}
	if (mhd_loop_attach(&s->driver, loop, s->mhd) == -1) {
		snprintf(errbuf, errlen, "epoll: %s", strerror(errno));
		server_free(s);
		return NULL;
	}
	if (s->tls != NULL)
		mhd_loop_track_progress(&s->driver, tls_session_moves);
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
		mhd_loop_run(&s->driver);
	}
	log_warn("connections still suspended at shutdown");
}

void server_free(struct server *s)
{
	if (s == NULL)
		return;
	mhd_loop_detach(&s->driver);
	s->env.stopping = true;
	release_suspended(s);
	MHD_stop_daemon(s->mhd);
	forward_pool_free(s->xenv.forward); /* every exchange has completed */
	admission_holds_clear(&s->holds);
	behave_unref(s->behave);
	free(s->phase);
	free(s);
}

bool server_speaks_tls(const struct server *s)
{
	return s->tls != NULL;
}

void server_add_connection(void *server, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct server *s = server;
	/* On failure MHD has already closed fd (it owns it from the call on). */
	if (MHD_add_connection(s->mhd, fd, sa, len) != MHD_YES) {
		log_warn("connection refused by libmicrohttpd: %s", strerror(errno));
		return;
	}
	s->counters.connections++;
	mhd_loop_wake(&s->driver); /* MHD's first look at it, even when stalled */
}

void server_set_scenario(struct server *s, struct scenario *sc)
{
	struct behave *old = s->behave;
	s->behave = behave_new(sc, old->thread); /* the thread's own streams */
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

const struct conn_policy *server_connection_policy(const struct server *s)
{
	return scenario_connection(s->behave->scenario, s->xenv.phase_index);
}

struct behave *server_behave(const struct server *s)
{
	return s->behave;
}

void server_set_phase(struct server *s, const char *name, size_t index)
{
	free(s->phase);
	s->phase = xstrdup(name);
	s->xenv.phase = s->phase;
	s->xenv.phase_index = index;
}

const char *server_phase(const struct server *s)
{
	return s->phase;
}

unsigned server_suspended(const struct server *s)
{
	unsigned n = 0;
	for (const struct conn *c = s->conns; c != NULL; c = c->next)
		n += c->suspended;
	return n;
}

void server_shed(struct server *s, bool force)
{
	for (struct conn *c = s->conns, *next; c != NULL; c = next) {
		next = c->next; /* conn_shed may end it */
		conn_shed(c, force);
	}
	mhd_loop_wake(&s->driver);
}

static void journal_connection(struct server *s, uint64_t conn, const char *accept,
			       const char *reason, enum outcome how)
{
	struct record r = {
		.kind = RECORD_CONNECTION,
		.conn = conn,
		.scenario = xstrdup(s->behave->scenario->name),
		.upstream = s->xenv.upstream ? xstrdup(s->xenv.upstream) : NULL,
		.phase = xstrdup(s->phase),
		.accept = accept,
		.reason = reason,
		.outcome = how,
		.action = -1,
	};
	journal_add(s->xenv.journal, &r, FAULT_NONE);
}

void server_journal_connection(struct server *s, const char *accept, const char *reason,
			       enum outcome how)
{
	journal_connection(s, journal_next_conn(s->xenv.journal), accept, reason, how);
}

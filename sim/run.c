#include "run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "base/xalloc.h"
#include "control/admin.h"
#include "control/ready.h"
#include "control/upstream.h"
#include "engine/timeline.h"
#include "net/accept_stage.h"
#include "net/dns_server.h"
#include "net/forward.h"
#include "net/listener.h"
#include "net/loop.h"
#include "net/server.h"
#include "net/threads.h"
#include "net/tls_certs.h"
#include "net/tls_session.h"
#include "scenario/dns.h"
#include "scenario/fault.h"
#include "scenario/fleet.h"
#include "scenario/model.h"
#include "scenario/schema.h"

/* Descriptors kept back beyond the connection limit: listener, epoll,
 * signalfd, the reserve, log and journal files, the admin API. */
#define FD_HEADROOM 128

/* Request ids remembered for attempt counting. */
#define ATTEMPTS_WINDOW 65536

/* One upstream to serve, checked before anything starts. */
struct member {
	struct upstream_spec spec;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct scenario *scenario;
};

struct app {
	const struct cli *cli;
	struct member members[FLEET_MAX];
	size_t n_members;
	struct loop *loop;	 /* the control thread's: thread 0 */
	struct threads *threads; /* threads 1 .. --threads - 1 */
	struct fleet fleet;	 /* one control per member */
	struct upstream controls[FLEET_MAX];
	struct dns_server *dns[FLEET_MAX]; /* a scenario's "dns"; NULL: none */
	struct journal *journal;	   /* shared by every member */
	struct attempts *attempts;
	struct admin *admin;
	struct loop_io signals;
	struct loop_timer duration_timer; /* --duration */
	struct tls_certs *certs;	  /* --tls auto, --tls-cert; NULL: plain */
	struct tls_server *tls;
};

void run_print_errors(const struct upsim_err *err)
{
	for (size_t i = 0; i < err->count; i++)
		fprintf(stderr, "%s\n", err->msgs[i]);
}

int run_validate(char **files, int n, const char *forward_to)
{
	int code = 0;
	for (int i = 0; i < n; i++) {
		struct upsim_err err = {0};
		struct scenario *sc = scenario_load_file_to(files[i], forward_to, &err);
		if (sc == NULL) {
			run_print_errors(&err);
			code = 2;
		} else {
			printf("%s: ok (\"%s\", %zu rule%s)\n", files[i], sc->name, sc->n_rules,
			       sc->n_rules == 1 ? "" : "s");
		}
		scenario_unref(sc);
		err_clear(&err);
	}
	return code;
}

static void on_signal(struct loop_io *io, uint32_t events)
{
	struct app *app = container_of(io, struct app, signals);
	struct signalfd_siginfo si;
	(void)events;
	while (read(io->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			for (size_t i = 0; app->cli->scenario_text == NULL && i < app->fleet.n; i++)
				upstream_reload(&app->fleet.members[i]);
			continue;
		}
		log_info("stopping on %s", strsignal((int)si.ssi_signo));
		loop_stop(app->loop);
	}
}

/* Signals are read from a signalfd in the loop, never handled
 * asynchronously; they are blocked before any other thread exists. */
static int watch_signals(struct app *app)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	app->signals.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	app->signals.on_event = on_signal;
	if (app->signals.fd == -1)
		return -1;
	return loop_io_add(app->loop, &app->signals, EPOLLIN);
}

/* Holding many slow connections needs descriptors: take the hard limit. */
static void raise_fd_limit(unsigned want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rlim_t need = (rlim_t)want + FD_HEADROOM;
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
		log_warn("only %llu file descriptors available: fewer than "
			 "--max-connections %u can be held",
			 (unsigned long long)rl.rlim_cur, want);
}

/* The journal and its sinks (--journal, --access-log). */
static int open_journal(struct app *app)
{
	const struct cli *cli = app->cli;
	app->journal = journal_new(cli->journal_size);
	if (cli->journal_file && journal_open_file(app->journal, cli->journal_file) != 0) {
		log_error("cannot open journal %s: %s", cli->journal_file, strerror(errno));
		return -1;
	}
	if (cli->access_log
	    && journal_open_access_log(app->journal, cli->access_log,
				       cli->log_format == CLI_LOG_JSON)
		       != 0) {
		log_error("cannot open access log %s: %s", cli->access_log, strerror(errno));
		return -1;
	}
	if (cli->request_id_header[0] != '\0')
		app->attempts = attempts_new(ATTEMPTS_WINDOW);
	return 0;
}

static void on_duration(struct loop_timer *t)
{
	struct app *app = container_of(t, struct app, duration_timer);
	log_info("stopping: --duration has passed");
	loop_stop(app->loop);
}

/* Thread t's share of member m: its server, accept stage and listener.
 * at is the address to bind: the member's, or for threads after the
 * first the port the first one got. */
static int start_shard(struct app *app, const struct member *m, struct shard *sh,
		       const struct sockaddr *at, socklen_t at_len)
{
	char why[256];
	unsigned threads = app->cli->threads;
	/* The descriptor cap is the process's: each thread gets its share. */
	unsigned cap = (app->cli->max_connections + threads - 1) / threads;
	struct server_config cfg = {
		.max_connections = cap,
		.hang_cap_ns = app->cli->hang_cap_us * 1000,
		.journal = app->journal,
		.attempts = app->attempts,
		.request_id_header = app->attempts ? app->cli->request_id_header : NULL,
		.upstream = m->spec.name,
		.thread = sh->index,
		.connection_memory = app->cli->connection_memory,
		.capture = app->cli->capture,
		.tls = app->tls,
	};
	sh->server = server_new(sh->loop, m->scenario, &cfg, why, sizeof why);
	if (sh->server == NULL) {
		log_error("%s", why);
		return -1;
	}
	sh->accept = accept_stage_new(sh->loop, sh->server, cfg.hang_cap_ns, cap);
	const struct conn_policy *p = scenario_connection(m->scenario, 0);
	int backlog = p->backlog ? (int)p->backlog : SOMAXCONN;
	sh->listener = listener_open(sh->loop, at, at_len, backlog, threads > 1, accept_stage_take,
				     sh->accept, why, sizeof why);
	if (sh->listener == NULL) {
		log_error("cannot listen on %s: %s", m->spec.listen, why);
		return -1;
	}
	accept_stage_attach(sh->accept, sh->listener);
	return 0;
}

/* Member i, one shard per thread, run by control ctl. */
static int start_member(struct app *app, size_t i, struct upstream *ctl)
{
	const struct member *m = &app->members[i];
	*ctl = (struct upstream){
		.name = m->spec.name,
		.loop = app->loop,
		.journal = app->journal,
		.attempts = app->attempts,
		.scenario_file = m->spec.scenario,
		/* not the backup's: upsim check's healthy second upstream */
		.forward_to = m->spec.scenario[0] ? app->cli->forward_to : NULL,
		.aligned = app->cli->has_start_at,
		.start_at_us = app->cli->start_at_us,
		.tls = app->tls != NULL,
	};
	const struct sockaddr *at = (const struct sockaddr *)&m->addr;
	socklen_t at_len = m->addrlen;
	for (unsigned t = 0; t < app->cli->threads; t++) {
		struct shard *sh = &ctl->shards[t];
		*sh = (struct shard){
			.index = t,
			.loop = t ? threads_loop(app->threads, t) : app->loop,
			.inbox = t ? threads_inbox(app->threads, t) : NULL,
		};
		ctl->n_shards = t + 1; /* stop() tears down what was started */
		if (start_shard(app, m, sh, at, at_len) != 0)
			return -1;
		at = listener_bound(ctl->shards[0].listener, &at_len);
	}
	return 0;
}

/* What the DNS server of an upstream answers from: its scenario now. */
static void dns_source(void *arg, struct dns_now *out)
{
	struct upstream *ctl = arg;
	*out = (struct dns_now){
		.scenario = upstream_scenario(ctl),
		.phase = ctl->phase,
		.phase_name = ctl->phase_known ? upstream_phase_name(ctl) : NULL,
		.phase_since_ns = ctl->phase_since_ns,
		.generation = ctl->generation,
	};
}

/* The scenario's DNS server, on the control thread's loop. A scenario
 * swapped in later answers through it; its own "listen" is not reopened.
 * upsim check serves every file's DNS on one address (cli->dns_listen),
 * whether the first file has a "dns" block or not. */
static int start_dns(struct app *app, size_t i, struct upstream *ctl)
{
	const struct dns_config *dns = app->members[i].scenario->dns;
	const char *listen = dns ? dns->listen : NULL;
	if (i == 0 && app->cli->dns_listen != NULL)
		listen = app->cli->dns_listen;
	if (listen == NULL)
		return 0;
	struct sockaddr_storage ss;
	socklen_t len;
	const char *why;
	char err[256];
	if (addr_parse(listen, &ss, &len, &why) != 0) {
		log_error("dns listen %s: %s", listen, why);
		return -1;
	}
	struct dns_server_config cfg = {
		.journal = app->journal,
		.upstream = ctl->name,
		.source = dns_source,
		.arg = ctl,
	};
	app->dns[i] = dns_server_open(app->loop, (struct sockaddr *)&ss, len, &cfg, err,
				      sizeof err);
	if (app->dns[i] == NULL) {
		log_error("cannot serve DNS on %s: %s", listen, err);
		return -1;
	}
	ctl->dns_address = dns_server_address(app->dns[i]);
	return 0;
}

static int start_admin(struct app *app, const struct sockaddr_storage *addr, socklen_t addrlen,
		       const char *token)
{
	char why[256];
	app->admin = admin_start(app->loop, (const struct sockaddr *)addr, addrlen, token,
				 &app->fleet, why, sizeof why);
	if (app->admin == NULL) {
		log_error("--admin %s: %s", app->cli->admin, why);
		return -1;
	}
	for (size_t i = 0; i < app->fleet.n; i++)
		app->fleet.members[i].admin_address = admin_address(app->admin);
	return 0;
}

struct endpoints {
	struct sockaddr_storage admin;
	socklen_t admin_len;
	const char *token; /* NULL: none */
};

static int start(struct app *app, const struct endpoints *ep)
{
	app->loop = loop_new();
	if (app->loop == NULL || watch_signals(app) != 0) {
		log_error("event loop: %s", strerror(errno));
		return -1;
	}
	raise_fd_limit(app->cli->max_connections);
	if (open_journal(app) != 0)
		return -1;
	/* Worker threads inherit the blocked signals: only thread 0 gets them. */
	app->threads = threads_new(app->cli->threads);
	if (app->threads == NULL) {
		log_error("worker loops: %s", strerror(errno));
		return -1;
	}
	app->fleet.members = app->controls;
	for (size_t i = 0; i < app->n_members; i++) {
		app->fleet.n = i + 1; /* stop() tears down what was started */
		if (start_member(app, i, &app->controls[i]) != 0
		    || start_dns(app, i, &app->controls[i]) != 0)
			return -1;
	}
	if (app->cli->admin && start_admin(app, &ep->admin, ep->admin_len, ep->token) != 0)
		return -1;
	if (threads_start(app->threads) != 0) {
		log_error("worker threads: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < app->fleet.n; i++)
		upstream_start(&app->controls[i], app->cli->drill_ttl_us * 1000);
	if (app->cli->duration_us > 0) {
		app->duration_timer.on_fire = on_duration;
		loop_timer_at(app->loop, &app->duration_timer,
			      clock_mono_ns() + app->cli->duration_us * 1000);
	}
	if (app->cli->quiet)
		return 0;
	return ready_announce(&app->fleet, app->admin ? admin_address(app->admin) : NULL,
			      app->cli->ready_file);
}

static void stop(struct app *app)
{
	if (app->loop != NULL)
		loop_timer_cancel(app->loop, &app->duration_timer);
	admin_free(app->admin);
	for (size_t i = 0; i < app->fleet.n; i++)
		dns_server_close(app->dns[i]);
	for (size_t i = 0; i < app->fleet.n; i++)
		upstream_stop(&app->controls[i]);
	/* Joined: every shard is the control thread's to tear down. */
	threads_stop(app->threads);
	for (size_t i = 0; i < app->fleet.n; i++) {
		struct upstream *ctl = &app->controls[i];
		for (size_t t = 0; t < ctl->n_shards; t++) {
			struct shard *sh = &ctl->shards[t];
			listener_close(sh->listener);
			accept_stage_free(sh->accept);
			server_free(sh->server); /* journals what was in flight */
		}
	}
	threads_free(app->threads);
	tls_server_free(app->tls);
	tls_certs_free(app->certs);
	journal_free(app->journal);
	attempts_free(app->attempts);
	if (app->signals.fd > 0) {
		loop_io_del(app->loop, &app->signals);
		close(app->signals.fd);
	}
	loop_free(app->loop);
}

/* "9090" and ":9090" mean loopback, the safe default for a control port. */
static const char *admin_spec(const char *arg, char *buf, size_t n)
{
	if (strchr(arg, ':') == NULL || arg[0] == ':') {
		snprintf(buf, n, "127.0.0.1:%s", arg[0] == ':' ? arg + 1 : arg);
		return buf;
	}
	return arg;
}

/* The admin address and the token, checked before anything starts. */
static int parse_admin(const struct cli *cli, struct endpoints *ep)
{
	const char *why;
	ep->token = cli->admin_token ? cli->admin_token : getenv("UPSIM_ADMIN_TOKEN");
	if (ep->token != NULL && ep->token[0] == '\0')
		ep->token = NULL;
	if (cli->admin == NULL)
		return 0;
	char buf[300];
	const char *spec = admin_spec(cli->admin, buf, sizeof buf);
	if (addr_parse(spec, &ep->admin, &ep->admin_len, &why) != 0) {
		fprintf(stderr, "upsim: --admin %s: %s\n", cli->admin, why);
		return -1;
	}
	if (ep->token == NULL && !addr_is_loopback((struct sockaddr *)&ep->admin)) {
		fprintf(stderr,
			"upsim: --admin %s is not a loopback address: set a token "
			"with --admin-token or UPSIM_ADMIN_TOKEN\n",
			cli->admin);
		return -1;
	}
	return 0;
}

/* What to serve: the one scenario, or the fleet (--upstream, --fleet). */
static int collect_members(struct app *app)
{
	const struct cli *cli = app->cli;
	struct upstream_spec specs[FLEET_MAX] = {{0}};
	size_t n = 0;
	struct upsim_err err = {0};
	int rc = 0;
	if (cli->fleet_file && fleet_load_file(cli->fleet_file, specs, &n, &err) != 0)
		rc = -1;
	for (int i = 0; rc == 0 && i < cli->n_upstreams; i++) {
		const char *why;
		if (n >= FLEET_MAX || fleet_parse_spec(cli->upstreams[i], &specs[n++], &why) != 0) {
			err_addf(&err, "upsim: --upstream %s: %s", cli->upstreams[i],
				 n > FLEET_MAX ? "too many upstreams" : why);
			rc = -1;
		}
	}
	if (n == 0 && rc == 0) {
		specs[0] = (struct upstream_spec){NULL, xstrdup(cli->listen),
						  xstrdup(cli->files[0])};
		n = 1;
	}
	if (cli->backup_listen != NULL && rc == 0) {
		/* upsim check --backup: the gateway's healthy second upstream */
		specs[0].name = specs[0].name ? specs[0].name : xstrdup("primary");
		specs[n++] = (struct upstream_spec){xstrdup("backup"), xstrdup(cli->backup_listen),
						    xstrdup("")};
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; rc == 0 && j < i; j++)
			if (strcmp(specs[i].name, specs[j].name) == 0) {
				err_addf(&err, "upsim: two upstreams are called \"%s\"",
					 specs[i].name);
				rc = -1;
			}
		app->members[i].spec = specs[i];
	}
	app->n_members = n;
	run_print_errors(&err);
	err_clear(&err);
	return rc;
}

/* Every member's address and scenario; every error is reported. */
/* A real service that is down at start is a warning, not a failure: it
 * may come up later, and until then on_upstream_error applies. */
static void warn_unreachable(const struct scenario *sc)
{
	const char *urls[2] = {sc->upstream, scenario_forward_url(sc, &sc->defaults)};
	for (int i = 0; i < 2; i++) {
		char why[256];
		if (urls[i] == NULL || (i == 1 && urls[0] && strcmp(urls[0], urls[1]) == 0))
			continue;
		if (forward_reachable(urls[i], 1000, why, sizeof why) != 0)
			log_warn("upstream %s is not reachable now (%s): forwarded requests "
				 "follow on_upstream_error until it is",
				 urls[i], why);
	}
}

static int prepare_members(struct app *app)
{
	int rc = 0;
	for (size_t i = 0; i < app->n_members; i++) {
		struct member *m = &app->members[i];
		const char *why;
		if (addr_parse(m->spec.listen, &m->addr, &m->addrlen, &why) != 0) {
			fprintf(stderr, "upsim: %s%s%s: %s\n",
				m->spec.name ? "--upstream " : "--listen ",
				m->spec.name ? m->spec.name : m->spec.listen,
				m->spec.name ? " address" : "", why);
			rc = -1;
		}
		struct upsim_err err = {0};
		static const char healthy[] = "{\"upsim\": 1, \"name\": \"healthy\"}";
		if (i == 0 && app->cli->scenario_text != NULL) /* upsim record's */
			m->scenario = scenario_load_buffer(m->spec.scenario,
							   app->cli->scenario_text,
							   strlen(app->cli->scenario_text), &err);
		else if (m->spec.scenario[0] == '\0') /* a backup for upsim check */
			m->scenario = scenario_load_buffer("<healthy>", healthy, sizeof healthy - 1,
							   &err);
		else
			m->scenario = scenario_load_file_to(m->spec.scenario, app->cli->forward_to,
							    &err);
		if (m->scenario == NULL)
			rc = -1;
		else
			warn_unreachable(m->scenario);
		run_print_errors(&err);
		err_clear(&err);
	}
	return rc;
}

/* The name certificates are made for: --tls-name, else the first
 * listen address (a wildcard one means the machine: localhost). */
static const char *tls_name(const struct app *app, char *buf, size_t len)
{
	const struct sockaddr_storage *ss = &app->members[0].addr;
	if (app->cli->tls_name != NULL)
		return app->cli->tls_name;
	const void *ip = ss->ss_family == AF_INET6
				 ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
				 : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
	if (addr_is_any((const struct sockaddr *)ss)
	    || inet_ntop(ss->ss_family, ip, buf, (socklen_t)len) == NULL)
		return "localhost";
	return buf;
}

/* The certificates of a TLS listener, its CA written out for gateways;
 * and every scenario checked against the listener it gets. */
static int prepare_tls(struct app *app)
{
	const struct cli *cli = app->cli;
	char why[512], name[INET6_ADDRSTRLEN];
	if (cli->tls_auto || cli->tls_cert) {
		const char *n = tls_name(app, name, sizeof name);
		app->certs = cli->tls_auto ? tls_certs_auto(n, why, sizeof why)
					   : tls_certs_load(cli->tls_cert, cli->tls_key, n, why,
							    sizeof why);
		if (app->certs == NULL
		    || (cli->tls_ca_out
			&& tls_certs_write_ca(app->certs, cli->tls_ca_out, why, sizeof why) != 0)
		    || (app->tls = tls_server_new(app->certs, why, sizeof why)) == NULL) {
			fprintf(stderr, "upsim: %s\n", why);
			return -1;
		}
	}
	int rc = 0;
	for (size_t i = 0; i < app->n_members; i++) {
		if (upstream_can_serve(app->tls != NULL, app->members[i].scenario, why, sizeof why)
		    != 0) {
			fprintf(stderr, "%s\n", why);
			rc = -1;
		}
	}
	return rc;
}

static void free_members(struct app *app)
{
	for (size_t i = 0; i < app->n_members; i++) {
		scenario_unref(app->members[i].scenario);
		upstream_spec_clear(&app->members[i].spec);
	}
}

struct app *run_app_start(const struct cli *cli, int *code)
{
	struct app *app = xcalloc(1, sizeof *app);
	app->cli = cli;
	struct endpoints ep;
	*code = 2;
	if (parse_admin(cli, &ep) == 0 && collect_members(app) == 0 && prepare_members(app) == 0
	    && prepare_tls(app) == 0) {
		*code = 1;
		if (start(app, &ep) == 0)
			return app;
		stop(app);
	} else {
		tls_server_free(app->tls);
		tls_certs_free(app->certs);
	}
	free_members(app);
	free(app);
	return NULL;
}

struct loop *run_app_loop(struct app *app)
{
	return app->loop;
}

struct fleet *run_app_fleet(struct app *app)
{
	return &app->fleet;
}

void run_app_stop(struct app *app)
{
	stop(app);
	free_members(app);
	free(app);
}

int run_serve(const struct cli *cli)
{
	log_set_level(cli->verbose ? LOG_DEBUG : LOG_INFO);
	log_set_json(cli->log_format == CLI_LOG_JSON);
	int code;
	struct app *app = run_app_start(cli, &code);
	if (app == NULL)
		return code;
	code = loop_run(app->loop) == 0 ? 0 : 1;
	run_app_stop(app);
	return code;
}

static void print_entry(const char *name, const char *stage, const char *summary,
			const char *example)
{
	printf("%-18s %-10s %s\n", name, stage, summary);
	printf("%-18s %-10s e.g. %s\n", "", "", example);
}

int run_faults(void)
{
	printf("Faults (an action's \"fault\"):\n\n");
	for (size_t i = 0; i < fault_table_size; i++) {
		const struct fault_info *f = &fault_table[i];
		print_entry(f->name, fault_stage_name(f->stage), f->summary, f->example);
	}
	printf("\nTiming, connection and timeline:\n\n");
	for (size_t i = 0; i < catalogue_more_size; i++) {
		const struct catalogue_entry *e = &catalogue_more[i];
		print_entry(e->name, e->stage, e->summary, e->example);
	}
	printf("\nEvery field and the exact bytes of each fault: docs/scenarios.md\n");
	return 0;
}

int run_schema(bool fleet)
{
	const char *text = fleet ? schema_fleet_json : schema_scenario_json;
	size_t len = fleet ? schema_fleet_json_len : schema_scenario_json_len;
	return fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
}

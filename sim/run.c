#include "run.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "addr.h"
#include "admin.h"
#include "control.h"
#include "err.h"
#include "fault.h"
#include "gate.h"
#include "listener.h"
#include "log.h"
#include "loop.h"
#include "scenario.h"
#include "server.h"
#include "timeline.h"
#include "util.h"
#include "xalloc.h"

/* Descriptors kept back beyond the connection limit: listener, epoll,
 * signalfd, the reserve, log and journal files, the admin API. */
#define FD_HEADROOM 128

/* Request ids remembered for attempt counting. */
#define ATTEMPTS_WINDOW 65536

struct app {
	const struct cli *cli;
	struct loop *loop;
	struct control ctl;
	struct admin *admin;
	struct loop_io signals;
	struct loop_timer duration_timer; /* --duration */
};

void run_print_errors(const struct upsim_err *err)
{
	for (size_t i = 0; i < err->count; i++)
		fprintf(stderr, "%s\n", err->msgs[i]);
}

int run_validate(char **files, int n)
{
	int code = 0;
	for (int i = 0; i < n; i++) {
		struct upsim_err err = {0};
		struct scenario *sc = scenario_load_file(files[i], &err);
		if (sc == NULL) {
			run_print_errors(&err);
			code = 2;
		} else {
			printf("%s: ok (\"%s\", %zu rule%s)\n", files[i], sc->name,
			       sc->n_rules, sc->n_rules == 1 ? "" : "s");
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
			control_reload(&app->ctl);
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

static char *ready_line(struct app *app)
{
	json_t *o = json_pack("{s:s, s:s, s:s?, s:I, s:s, s:s}",
			      "event", "ready",
			      "listen", listener_address(app->ctl.listener),
			      "admin", app->admin ? admin_address(app->admin) : NULL,
			      "pid", (json_int_t)getpid(),
			      "scenario", server_scenario(app->ctl.server)->name,
			      "version", UPSIM_VERSION);
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return line;
}

/* Write the ready line to a temporary file and rename it in place, so a
 * harness polling for the file never reads half a line. */
static int write_ready_file(const char *path, const char *line)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	int ok = f != NULL && fprintf(f, "%s\n", line) > 0;
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	if (ok && rename(tmp, path) != 0)
		ok = 0;
	if (!ok) {
		log_error("cannot write ready file %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}

static int announce(struct app *app)
{
	char *line = ready_line(app);
	/* The file first: a harness that saw the stdout line may look for it. */
	int rc = app->cli->ready_file ? write_ready_file(app->cli->ready_file, line) : 0;
	if (rc == 0) {
		printf("%s\n", line);
		fflush(stdout);
	}
	log_info("serving \"%s\" on %s%s%s", server_scenario(app->ctl.server)->name,
		 listener_address(app->ctl.listener), app->admin ? ", admin API on " : "",
		 app->admin ? admin_address(app->admin) : "");
	free(line);
	return rc;
}

/* The journal and its sinks (--journal, --access-log). */
static int open_journal(struct app *app)
{
	const struct cli *cli = app->cli;
	app->ctl.journal = journal_new(cli->journal_size);
	if (cli->journal_file && journal_open_file(app->ctl.journal, cli->journal_file) != 0) {
		log_error("cannot open journal %s: %s", cli->journal_file, strerror(errno));
		return -1;
	}
	if (cli->access_log &&
	    journal_open_access_log(app->ctl.journal, cli->access_log,
				    cli->log_format == CLI_LOG_JSON) != 0) {
		log_error("cannot open access log %s: %s", cli->access_log, strerror(errno));
		return -1;
	}
	if (cli->request_id_header[0] != '\0')
		app->ctl.attempts = attempts_new(ATTEMPTS_WINDOW);
	return 0;
}

static void on_duration(struct loop_timer *t)
{
	struct app *app = container_of(t, struct app, duration_timer);
	log_info("stopping: --duration has passed");
	loop_stop(app->loop);
}

static int start_serving(struct app *app, struct scenario *sc,
			 const struct sockaddr_storage *addr, socklen_t addrlen)
{
	char why[256];
	struct control *ctl = &app->ctl;
	struct server_config cfg = {
		.max_connections = app->cli->max_connections,
		.hang_cap_ns = app->cli->hang_cap_us * 1000,
		.journal = ctl->journal,
		.attempts = ctl->attempts,
		.request_id_header = ctl->attempts ? app->cli->request_id_header : NULL,
	};
	ctl->server = server_new(app->loop, sc, &cfg, why, sizeof why);
	if (ctl->server == NULL) {
		log_error("%s", why);
		return -1;
	}
	ctl->gate = gate_new(app->loop, ctl->server, cfg.hang_cap_ns);
	int backlog = sc->connection.backlog ? (int)sc->connection.backlog : SOMAXCONN;
	ctl->listener = listener_open(app->loop, (const struct sockaddr *)addr, addrlen,
				      backlog, gate_accept, ctl->gate, why, sizeof why);
	if (ctl->listener == NULL) {
		log_error("cannot listen on %s: %s", app->cli->listen, why);
		return -1;
	}
	gate_attach(ctl->gate, ctl->listener);
	return 0;
}

static int start_admin(struct app *app, const struct sockaddr_storage *addr,
		       socklen_t addrlen, const char *token)
{
	char why[256];
	app->admin = admin_start(app->loop, (const struct sockaddr *)addr, addrlen, token,
				 &app->ctl, why, sizeof why);
	if (app->admin == NULL) {
		log_error("--admin %s: %s", app->cli->admin, why);
		return -1;
	}
	app->ctl.admin_address = admin_address(app->admin);
	return 0;
}

struct endpoints {
	struct sockaddr_storage listen, admin;
	socklen_t listen_len, admin_len;
	const char *token;              /* NULL: none */
};

static int start(struct app *app, struct scenario *sc, const struct endpoints *ep)
{
	app->loop = loop_new();
	if (app->loop == NULL || watch_signals(app) != 0) {
		log_error("event loop: %s", strerror(errno));
		return -1;
	}
	raise_fd_limit(app->cli->max_connections);
	app->ctl.loop = app->loop;
	app->ctl.scenario_file = app->cli->files[0];
	app->ctl.aligned = app->cli->has_start_at;
	app->ctl.start_at_us = app->cli->start_at_us;
	if (open_journal(app) != 0 || start_serving(app, sc, &ep->listen, ep->listen_len) != 0)
		return -1;
	if (app->cli->admin && start_admin(app, &ep->admin, ep->admin_len, ep->token) != 0)
		return -1;
	control_start(&app->ctl, app->cli->drill_ttl_us * 1000);
	if (app->cli->duration_us > 0) {
		app->duration_timer.on_fire = on_duration;
		loop_timer_at(app->loop, &app->duration_timer,
			      loop_now() + app->cli->duration_us * 1000);
	}
	return announce(app);
}

static void stop(struct app *app)
{
	control_stop(&app->ctl);
	if (app->loop != NULL)
		loop_timer_cancel(app->loop, &app->duration_timer);
	admin_free(app->admin);
	listener_close(app->ctl.listener);
	gate_free(app->ctl.gate);
	server_free(app->ctl.server);   /* journals what was in flight */
	journal_free(app->ctl.journal);
	attempts_free(app->ctl.attempts);
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

/* Addresses and the token, checked before anything starts (exit 2). */
static int parse_endpoints(const struct cli *cli, struct endpoints *ep)
{
	const char *why;
	if (addr_parse(cli->listen, &ep->listen, &ep->listen_len, &why) != 0) {
		fprintf(stderr, "upsim: --listen %s: %s\n", cli->listen, why);
		return -1;
	}
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
		fprintf(stderr, "upsim: --admin %s is not a loopback address: set a token "
			"with --admin-token or UPSIM_ADMIN_TOKEN\n", cli->admin);
		return -1;
	}
	return 0;
}

int run_serve(const struct cli *cli)
{
	struct app app = {.cli = cli};
	log_set_level(cli->verbose ? LOG_DEBUG : LOG_INFO);
	log_set_json(cli->log_format == CLI_LOG_JSON);

	struct endpoints ep;
	if (parse_endpoints(cli, &ep) != 0)
		return 2;
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file(cli->files[0], &err);
	if (sc == NULL) {
		run_print_errors(&err);
		err_clear(&err);
		return 2;
	}
	int code = 1;
	if (start(&app, sc, &ep) == 0)
		code = loop_run(app.loop) == 0 ? 0 : 1;
	stop(&app);
	scenario_unref(sc);
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
		print_entry(f->name, f->stage, f->summary, f->example);
	}
	printf("\nTiming, connection and timeline:\n\n");
	for (size_t i = 0; i < catalogue_more_size; i++) {
		const struct catalogue_entry *e = &catalogue_more[i];
		print_entry(e->name, e->stage, e->summary, e->example);
	}
	printf("\nEvery field and the exact bytes of each fault: docs/scenarios.md\n");
	return 0;
}

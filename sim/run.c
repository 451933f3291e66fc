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
 * signalfd, the reserve, log and journal files. */
#define FD_HEADROOM 64

struct app {
	const struct cli *cli;
	struct loop *loop;
	struct server *server;
	struct listener *listener;
	struct gate *gate;
	struct loop_io signals;
	struct loop_timer phase_timer;  /* the next phase change */
	uint64_t timeline_start;        /* loop_now() when the timeline began */
	size_t phase;                   /* index of the current phase */
	bool phase_known;               /* phase has been entered */
	int exit_code;
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

/* Enter the phase that is current now, and arm the timer for the next
 * change. */
static void play_timeline(struct app *app)
{
	struct scenario *sc = server_scenario(app->server);
	uint64_t now = loop_now(), until;
	size_t i = timeline_at(sc, (now - app->timeline_start) / 1000, &until);
	if (!app->phase_known || i != app->phase) {
		app->phase = i;
		app->phase_known = true;
		bool listens = timeline_listens(sc, i);
		/* Logged once in effect: harnesses may wait for this line. */
		listener_set_listening(app->listener, listens);
		if (sc->n_phases > 0)
			log_info("phase \"%s\" (%zu of %zu)%s", timeline_name(sc, i), i + 1,
				 sc->n_phases, listens ? "" : ": not listening");
	}
	if (until == TIMELINE_NEVER)
		loop_timer_cancel(app->loop, &app->phase_timer);
	else
		loop_timer_at(app->loop, &app->phase_timer, now + until * 1000);
}

static void on_phase_timer(struct loop_timer *t)
{
	play_timeline(container_of(t, struct app, phase_timer));
}

/* The timeline starts now, from the first phase of the scenario served. */
static void start_timeline(struct app *app)
{
	app->phase_timer.on_fire = on_phase_timer;
	app->timeline_start = loop_now();
	app->phase_known = false;
	play_timeline(app);
}

/* SIGHUP: a bad file keeps the old scenario, and says why. */
static void reload(struct app *app)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file(app->cli->files[0], &err);
	if (sc == NULL) {
		for (size_t i = 0; i < err.count; i++)
			log_error("reload refused: %s", err.msgs[i]);
		log_error("reload refused: keeping scenario \"%s\"",
			  server_scenario(app->server)->name);
	} else {
		server_set_scenario(app->server, sc);
		log_info("reloaded scenario \"%s\" from %s", sc->name, sc->file);
		start_timeline(app);
		scenario_unref(sc);
	}
	err_clear(&err);
}

static void on_signal(struct loop_io *io, uint32_t events)
{
	struct app *app = container_of(io, struct app, signals);
	struct signalfd_siginfo si;
	(void)events;
	while (read(io->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			reload(app);
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
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s}",
			      "event", "ready",
			      "listen", listener_address(app->listener),
			      "pid", (json_int_t)getpid(),
			      "scenario", server_scenario(app->server)->name,
			      "version", UPSIM_VERSION);
	char *line = json_dumps(o, JSON_COMPACT);
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
	log_info("serving \"%s\" on %s", server_scenario(app->server)->name,
		 listener_address(app->listener));
	free(line);
	return rc;
}

static int start(struct app *app, struct scenario *sc,
		 const struct sockaddr_storage *addr, socklen_t addrlen)
{
	char why[256];
	app->loop = loop_new();
	if (app->loop == NULL || watch_signals(app) != 0) {
		log_error("event loop: %s", strerror(errno));
		return -1;
	}
	raise_fd_limit(app->cli->max_connections);
	struct server_config cfg = {
		.max_connections = app->cli->max_connections,
		.hang_cap_ns = app->cli->hang_cap_us * 1000,
	};
	app->server = server_new(app->loop, sc, &cfg, why, sizeof why);
	if (app->server == NULL) {
		log_error("%s", why);
		return -1;
	}
	app->gate = gate_new(app->loop, app->server, cfg.hang_cap_ns);
	int backlog = sc->connection.backlog ? (int)sc->connection.backlog : SOMAXCONN;
	app->listener = listener_open(app->loop, (const struct sockaddr *)addr, addrlen,
				      backlog, gate_accept, app->gate,
				      why, sizeof why);
	if (app->listener == NULL) {
		log_error("cannot listen on %s: %s", app->cli->listen, why);
		return -1;
	}
	gate_attach(app->gate, app->listener);
	start_timeline(app);
	return announce(app);
}

static void stop(struct app *app)
{
	if (app->loop != NULL)
		loop_timer_cancel(app->loop, &app->phase_timer);
	listener_close(app->listener);
	gate_free(app->gate);
	server_free(app->server);
	if (app->signals.fd > 0) {
		loop_io_del(app->loop, &app->signals);
		close(app->signals.fd);
	}
	loop_free(app->loop);
}

int run_serve(const struct cli *cli)
{
	struct app app = {.cli = cli};
	log_set_level(cli->verbose ? LOG_DEBUG : LOG_INFO);

	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *why;
	if (addr_parse(cli->listen, &addr, &addrlen, &why) != 0) {
		fprintf(stderr, "upsim: --listen %s: %s\n", cli->listen, why);
		return 2;
	}
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_file(cli->files[0], &err);
	if (sc == NULL) {
		run_print_errors(&err);
		err_clear(&err);
		return 2;
	}
	int code = 1;
	if (start(&app, sc, &addr, addrlen) == 0)
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

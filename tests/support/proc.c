/* proc: start, watch and stop the upsim binary under test; see proc.h.
 *
 * Exits are watched through a pidfd, so waiting for one is a poll() next to
 * the stdout/stderr pipes, with a deadline, and never a sleep loop. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "wire.h"

/* Room for upsim's stderr while a test is busy elsewhere: log lines that
 * fill a 64 KiB pipe would block upsim's event loop mid-test. */
#define PIPE_ROOM (1 << 20)
#define READY_LINE_MAX 65536
/* Reads per drain() call, so a child that writes without pause cannot hold
 * the caller past its deadline. */
#define DRAIN_READS 256

/* Append n bytes to the NUL-terminated string *text (NULL: an empty one). */
static void text_append(char **text, const char *p, size_t n)
{
	size_t len = *text ? strlen(*text) : 0;

	*text = xrealloc(*text, len + n + 1);
	memcpy(*text + len, p, n);
	(*text)[len + n] = '\0';
}

static int ms_left(double deadline)
{
	double left = deadline - wire_now_ms();

	if (left <= 0)
		return 0;
	return left >= INT_MAX ? INT_MAX : (int)left + 1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Read what the nonblocking *fd holds now into *text, or discard it when
 * text is NULL. At EOF (or an error) closes *fd and sets it to -1. */
static void drain(int *fd, char **text)
{
	char chunk[16384];

	for (int i = 0; i < DRAIN_READS && *fd >= 0; i++) {
		ssize_t n = read(*fd, chunk, sizeof chunk);

		if (n > 0 && text != NULL)
			text_append(text, chunk, (size_t)n);
		else if (n == -1 && errno == EAGAIN)
			return;
		else if (n == 0 || (n == -1 && errno != EINTR))
			close_fd(fd);
	}
}

const char *upsim_bin(void)
{
	const char *bin = getenv("UPSIM_BIN");

	return bin != NULL && *bin != '\0' ? bin : "./upsim";
}

/* argv for execvp(): the words of $UPSIM_WRAP, the binary, then args.
 * The words point into *wrap, which the caller frees with the array. */
static const char **build_argv(const char *const *args, char **wrap)
{
	const char *env = getenv("UPSIM_WRAP");
	size_t n = 0, nargs = 0, len;
	const char **argv;
	char *save, *word;

	*wrap = xstrdup(env != NULL ? env : "");
	while (args != NULL && args[nargs] != NULL)
		nargs++;
	len = strlen(*wrap) / 2 + 1 + nargs + 2; /* at most len/2+1 words */
	argv = xrealloc(NULL, len * sizeof *argv);
	for (word = strtok_r(*wrap, " \t", &save); word != NULL;
	     word = strtok_r(NULL, " \t", &save))
		argv[n++] = word;
	argv[n++] = upsim_bin();
	for (size_t i = 0; i < nargs; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return argv;
}

static void say(const char *s)
{
	ssize_t ignored = write(STDERR_FILENO, s, strlen(s));
	(void)ignored;
}

/* In the forked child: only async-signal-safe calls from here to exec. */
static void child_exec(const char **argv, pid_t parent, int in, int out, int err)
{
	sigset_t none;

	/* Die with the test that started us. If that test already died
	 * between fork() and prctl(), we were reparented: give up now. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	if (dup2(in, STDIN_FILENO) == -1 || dup2(out, STDOUT_FILENO) == -1
	    || dup2(err, STDERR_FILENO) == -1)
		_exit(127);
	/* A runner started from a script may ignore or block these; upsim
	 * must see the signals the tests send it. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], (char *const *)argv);
	say("upsim test support: cannot exec ");
	say(argv[0]);
	say("\n");
	_exit(127);
}

/* Fork and exec upsim (wrapped) with args; stdin from /dev/null, stdout and
 * stderr into nonblocking pipes. 0 or -1. */
static int spawn(const char *const *args, pid_t *pid, int *out_fd, int *err_fd)
{
	int out[2] = {-1, -1}, err[2] = {-1, -1}, in = -1, rc = -1;
	char *wrap;
	const char **argv = build_argv(args, &wrap);
	pid_t parent = getpid();

	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1)
		goto done;
	in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in == -1)
		goto done;
	fcntl(out[0], F_SETPIPE_SZ, PIPE_ROOM); /* best effort */
	fcntl(err[0], F_SETPIPE_SZ, PIPE_ROOM);
	*pid = fork();
	if (*pid == 0)
		child_exec(argv, parent, in, out[1], err[1]);
	if (*pid == -1 || fcntl(out[0], F_SETFL, O_NONBLOCK) == -1
	    || fcntl(err[0], F_SETFL, O_NONBLOCK) == -1)
		goto done;
	*out_fd = out[0];
	*err_fd = err[0];
	out[0] = err[0] = -1;
	rc = 0;
done:
	if (rc != 0)
		perror("upsim test support: cannot start upsim");
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&in);
	free(argv);
	free(wrap);
	return rc;
}

/* A pidfd polls readable once pid has exited; -1 where the kernel has none
 * (before 5.3). Close-on-exec always. */
static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* Wait until p's process exits or the deadline passes, collecting stderr
 * into err_text and stdout into *out_text (discarded when NULL). 0 with
 * *status set once reaped, -1 on timeout or if it is not our child. */
static int reap_by(struct upsim_proc *p, double deadline, char **out_text, int *status)
{
	int pidfd = pidfd_of(p->pid), rc = -1;

	for (;;) {
		pid_t r = waitpid(p->pid, status, WNOHANG);
		if (r == p->pid)
			rc = 0;
		if (r == p->pid || (r == -1 && errno != EINTR))
			break;
		int left = ms_left(deadline);
		if (left == 0)
			break;
		/* Without a pidfd only the pipes can wake us: look for the
		 * exit every 20 ms then. Not reached on current kernels. */
		if (pidfd < 0 && left > 20)
			left = 20;
		struct pollfd fds[3] = {{.fd = pidfd, .events = POLLIN},
					{.fd = p->err_fd, .events = POLLIN},
					{.fd = p->out_fd, .events = POLLIN}};
		if (poll(fds, 3, left) <= 0)
			continue;
		if (fds[1].revents)
			drain(&p->err_fd, &p->err_text);
		if (fds[2].revents)
			drain(&p->out_fd, out_text);
	}
	close_fd(&pidfd);
	return rc;
}

/* SIGKILL p's process and reap it; what it wrote last goes to err_text.
 * Only a child still unreaped is killed: a pid reaped elsewhere may
 * already belong to some other process. */
static void kill_and_reap(struct upsim_proc *p)
{
	int status;

	if (p->pid <= 0)
		return;
	if (waitpid(p->pid, &status, WNOHANG) == 0) {
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, &status, 0) == -1 && errno == EINTR)
			;
	}
	p->pid = 0;
	drain(&p->err_fd, &p->err_text);
}

/* The first line of a child's stdout as it arrives. */
struct line {
	char text[READY_LINE_MAX + 1];
	size_t len;
};

/* Read fd one byte at a time up to the first newline, so that nothing
 * after the ready line is taken from out_fd. Returns 1 when l holds the
 * whole line (NUL-terminated, no newline), 0 if it is not complete yet, -1
 * at EOF, -2 when it is too long. */
static int read_line(int fd, struct line *l)
{
	char ch;

	while (l->len < READY_LINE_MAX) {
		ssize_t n = read(fd, &ch, 1);
		if (n == 1 && ch == '\n')
			return 1;
		if (n == 1)
			l->text[l->len++] = ch;
		else if (n == -1 && errno == EAGAIN)
			return 0;
		else if (n == 0 || errno != EINTR)
			return -1;
		l->text[l->len] = '\0';
	}
	return -2;
}

/* Wait for upsim's first stdout line into l. NULL when it is there, else
 * why not. */
static const char *wait_ready_line(struct upsim_proc *p, double deadline, struct line *l)
{
	int pidfd = pidfd_of(p->pid), left, got = 0;
	const char *why = NULL;

	while (got == 0) {
		left = ms_left(deadline);
		if (left == 0) {
			why = "no ready line in time";
			break;
		}
		struct pollfd fds[3] = {{.fd = p->out_fd, .events = POLLIN},
					{.fd = p->err_fd, .events = POLLIN},
					{.fd = pidfd, .events = POLLIN}};
		if (poll(fds, 3, left) <= 0)
			continue;
		if (fds[0].revents)
			got = read_line(p->out_fd, l);
		if (fds[1].revents)
			drain(&p->err_fd, &p->err_text);
		if (got != 1 && fds[2].revents)
			why = "upsim exited before its ready line";
		else if (got == -1)
			why = "upsim closed its stdout (exited?) before a ready line";
		else if (got == -2)
			why = "upsim's first stdout line is too long to be a ready line";
		if (why != NULL)
			break;
	}
	close_fd(&pidfd);
	return why;
}

/* Take host and port from the ready line. NULL, or why not. */
static const char *parse_ready(struct upsim_proc *p, const char *line)
{
	json_t *o = json_loads(line, 0, NULL);
	const char *event = json_string_value(json_object_get(o, "event"));
	const char *listen = json_string_value(json_object_get(o, "listen"));
	const char *why = NULL, *colon = listen ? strrchr(listen, ':') : NULL;
	char *end;

	if (o == NULL || event == NULL || strcmp(event, "ready") != 0)
		why = "the first stdout line is not a ready event";
	else if (colon == NULL || (size_t)(colon - listen) >= sizeof p->host)
		why = "the ready line has no usable \"listen\"";
	if (why != NULL)
		goto done;
	/* "[::1]:8080" names the host without its brackets. */
	size_t skip = *listen == '[' && colon > listen && colon[-1] == ']';
	size_t len = (size_t)(colon - listen) - 2 * skip;
	memcpy(p->host, listen + skip, len);
	p->host[len] = '\0';
	long port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535)
		why = "the ready line's \"listen\" has no port";
	p->port = (int)port;
	const char *admin = json_string_value(json_object_get(o, "admin"));
	snprintf(p->admin, sizeof p->admin, "%s", admin ? admin : "");
done:
	json_decref(o);
	return why;
}

static void report_start_failure(const struct upsim_proc *p, const char *why, const char *line)
{
	fprintf(stderr, "upsim_start: %s (binary %s)\n", why, upsim_bin());
	if (line != NULL)
		fprintf(stderr, "first stdout line: %s\n", line);
	fprintf(stderr, "--- upsim stderr ---\n%s--- end of upsim stderr ---\n",
		p->err_text ? p->err_text : "");
}

int upsim_start(struct upsim_proc *p, const char *const *args, int timeout_ms)
{
	double deadline = wire_now_ms() + timeout_ms;
	const char *why = "cannot start upsim";
	struct line *l = xrealloc(NULL, sizeof *l);

	l->len = 0;
	l->text[0] = '\0';
	*p = (struct upsim_proc){.out_fd = -1, .err_fd = -1};
	p->err_text = xstrdup("");
	if (spawn(args, &p->pid, &p->out_fd, &p->err_fd) != 0)
		goto fail;
	why = wait_ready_line(p, deadline, l);
	if (why == NULL)
		why = parse_ready(p, l->text);
	if (why != NULL)
		goto fail;
	p->ready_line = xstrdup(l->text);
	free(l);
	return 0;
fail:
	kill_and_reap(p);
	report_start_failure(p, why, l->len > 0 ? l->text : NULL);
	free(l);
	upsim_proc_free(p);
	return -1;
}

int upsim_start_scenario(struct upsim_proc *p, const char *scenario_path,
			 const char *const *extra_args, int timeout_ms)
{
	const char *fixed[] = {"run", "--listen", "127.0.0.1:0"};
	size_t nfixed = sizeof fixed / sizeof fixed[0], nextra = 0, n = 0;
	const char **args;
	int rc;

	if (scenario_path == NULL) {
		*p = (struct upsim_proc){.out_fd = -1, .err_fd = -1};
		return -1;
	}
	while (extra_args != NULL && extra_args[nextra] != NULL)
		nextra++;
	args = xrealloc(NULL, (nfixed + nextra + 2) * sizeof *args);
	for (size_t i = 0; i < nfixed; i++)
		args[n++] = fixed[i];
	for (size_t i = 0; i < nextra; i++)
		args[n++] = extra_args[i];
	args[n++] = scenario_path;
	args[n] = NULL;
	rc = upsim_start(p, args, timeout_ms);
	free(args);
	return rc;
}

int upsim_stop(struct upsim_proc *p, int sig, int timeout_ms)
{
	double deadline = wire_now_ms() + timeout_ms;
	int status, rc = -1;

	if (p == NULL || p->pid <= 0)
		return -1;
	kill(p->pid, sig);
	if (reap_by(p, deadline, NULL, &status) == 0) {
		rc = exit_code(status);
		p->pid = 0;
	}
	kill_and_reap(p); /* if it is still there */
	drain(&p->err_fd, &p->err_text);
	/* A leak report from UPSIM_WRAP's valgrind, a crash, or a hang is
	 * only useful if somebody sees it. */
	if (rc != 0 && rc != 128 + sig)
		fprintf(stderr, "upsim_stop: upsim %s %d; its stderr:\n%s\n",
			rc == -1 ? "did not exit on signal" : "ended with", rc == -1 ? sig : rc,
			p->err_text ? p->err_text : "");
	return rc;
}

void upsim_proc_free(struct upsim_proc *p)
{
	if (p == NULL)
		return;
	kill_and_reap(p);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	free(p->ready_line);
	free(p->err_text);
	*p = (struct upsim_proc){.out_fd = -1, .err_fd = -1};
}

int upsim_spawn_capture(struct upsim_proc *p, const char *const *args)
{
	*p = (struct upsim_proc){.out_fd = -1, .err_fd = -1};
	p->err_text = xstrdup("");
	if (spawn(args, &p->pid, &p->out_fd, &p->err_fd) == 0)
		return 0;
	if (p->pid < 0)
		p->pid = 0; /* a child forked before a later step failed stays: joining kills it */
	return -1;
}

int upsim_exited(const struct upsim_proc *p)
{
	siginfo_t info = {0};
	if (p->pid <= 0)
		return 1;
	/* WNOWAIT: look, and leave it for upsim_join_capture to reap. */
	if (waitid(P_PID, (id_t)p->pid, &info, WEXITED | WNOHANG | WNOWAIT) == -1)
		return 1;
	return info.si_pid == p->pid;
}

int upsim_join_capture(struct upsim_proc *p, int timeout_ms, char **out, char **err)
{
	double deadline = wire_now_ms() + timeout_ms;
	char *out_text = xstrdup("");
	int status, rc = -1;

	if (p->pid > 0) {
		if (reap_by(p, deadline, &out_text, &status) == 0) {
			rc = exit_code(status);
			p->pid = 0;
		} else {
			kill_and_reap(p);
			fprintf(stderr, "upsim_run_capture: %s killed after %d ms\n", upsim_bin(),
				timeout_ms);
		}
	}
	/* What it wrote just before exiting is still in the pipes. */
	drain(&p->out_fd, &out_text);
	drain(&p->err_fd, &p->err_text);
	*out = out_text;
	*err = p->err_text ? p->err_text : xstrdup("");
	p->err_text = NULL;
	upsim_proc_free(p);
	return rc;
}

int upsim_run_capture(const char *const *args, int timeout_ms, char **out, char **err)
{
	struct upsim_proc p;
	upsim_spawn_capture(&p, args);
	return upsim_join_capture(&p, timeout_ms, out, err);
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A new string a + b + c. (snprintf() here would trip a false gcc
 * -Wformat-truncation under -fsanitize=undefined.) */
static char *concat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = xrealloc(NULL, la + lb + lc + 1);

	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

char *upsim_write_temp(const char *content, const char *suffix)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if (suffix == NULL)
		suffix = "";
	path = concat3(dir, "/upsim-test-XXXXXX", suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	if (fd == -1)
		goto fail;
	int wrote = write_all(fd, content, strlen(content));
	if (close(fd) != 0 || wrote != 0) {
		int saved = errno;
		unlink(path);
		errno = saved;
		goto fail;
	}
	return path;
fail:
	fprintf(stderr, "upsim_write_temp: %s: %s\n", path, strerror(errno));
	free(path);
	return NULL;
}

int upsim_wait_stderr(struct upsim_proc *p, const char *needle, int timeout_ms)
{
	double deadline = wire_now_ms() + timeout_ms;
	int left;

	for (;;) {
		if (p->err_text != NULL && strstr(p->err_text, needle) != NULL)
			return 0;
		left = ms_left(deadline);
		if (left == 0 || p->err_fd < 0)
			return -1;
		struct pollfd pfd = {.fd = p->err_fd, .events = POLLIN};
		if (poll(&pfd, 1, left) > 0)
			drain(&p->err_fd, &p->err_text);
	}
}

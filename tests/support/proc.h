/* proc: start, watch and stop the upsim binary under test.
 *
 * The binary is $UPSIM_BIN (default ./upsim). $UPSIM_WRAP, if set, is split
 * on spaces and put in front of it, e.g.
 * UPSIM_WRAP="valgrind --error-exitcode=99 -q". Children die with the
 * thread that started them (PR_SET_PDEATHSIG), so a crashed or timed-out
 * test leaves no upsim behind. Every wait is poll() on a CLOCK_MONOTONIC
 * deadline; nothing sleeps. */
#ifndef UPSIM_TEST_PROC_H
#define UPSIM_TEST_PROC_H

#include <signal.h>
#include <sys/types.h>

/* A running upsim. Filled by upsim_start(); released by upsim_proc_free(). */
struct upsim_proc {
	pid_t pid;	    /* 0 once reaped */
	int out_fd, err_fd; /* nonblocking read ends of its stdout and stderr, -1 when closed */
	char host[64];	    /* from the ready line's "listen", without IPv6 brackets */
	int port;
	char admin[96];	  /* the ready line's "admin" (HOST:PORT), or "" */
	char *ready_line; /* the ready line, without its newline */
	char *err_text;	  /* its stderr as collected so far; NUL-terminated, grows */
};

/* Return $UPSIM_BIN if set and non-empty, else "./upsim". Borrowed. */
const char *upsim_bin(void);

/* Start upsim with args (a NULL-terminated argv after the program name)
 * and wait up to timeout_ms for its first stdout line, which must be JSON
 * with "event":"ready" and "listen":"HOST:PORT". stderr is collected into
 * err_text meanwhile. p need not be initialised. Returns 0 when ready; out_fd
 * then still holds whatever upsim prints after the ready line. Returns -1
 * if upsim exits or says something else first, or on timeout: then it is
 * killed and reaped, its stderr is copied to ours for diagnosis, and p is
 * left empty (upsim_proc_free() on it is harmless). */
int upsim_start(struct upsim_proc *p, const char *const *args, int timeout_ms);

/* upsim_start() of: run --listen 127.0.0.1:0 [extra_args...] scenario_path.
 * extra_args may be NULL. */
int upsim_start_scenario(struct upsim_proc *p, const char *scenario_path,
			 const char *const *extra_args, int timeout_ms);

/* Send sig and wait up to timeout_ms for upsim to exit, collecting stderr
 * into err_text and discarding stdout (so a full pipe cannot hold the exit
 * back). Returns the exit status if it exited, 128 + the signal number if a
 * signal killed it, or -1 if it had to be SIGKILLed after the timeout (or p
 * was not running). Sets pid to 0. */
int upsim_stop(struct upsim_proc *p, int sig, int timeout_ms);

/* Close p's fds and free its strings; SIGKILL and reap it first if it is
 * still running. p must have been through upsim_start() (which leaves it
 * freeable even when it fails); NULL is accepted. */
void upsim_proc_free(struct upsim_proc *p);

/* Run upsim with args to completion within timeout_ms, collecting all of
 * its stdout and stderr into *out and *err (new strings the caller frees,
 * set even on failure). Returns the exit status, 128 + signal if a signal
 * killed it, or -1 if it was SIGKILLed on timeout or could not start. */
int upsim_run_capture(const char *const *args, int timeout_ms, char **out, char **err);

/* upsim_run_capture in two halves, for a run that something else must
 * join while it goes (a gateway started once upsim check has written its
 * CA): start it (0; -1 when it could not start, p then empty but
 * joinable), then join it: wait up to timeout_ms, collect, free p and
 * return as upsim_run_capture does. Between the two, its output waits in
 * the pipes (PIPE_ROOM). */
int upsim_spawn_capture(struct upsim_proc *p, const char *const *args);
int upsim_join_capture(struct upsim_proc *p, int timeout_ms, char **out, char **err);

/* Has p's process exited (it stays unreaped)? 1 also when p has none. */
int upsim_exited(const struct upsim_proc *p);

/* Write content to a new file named upsim-test-XXXXXX<suffix> in $TMPDIR
 * (or /tmp). Returns its path, a new string the caller frees (and unlinks);
 * NULL, with a message on stderr, if the file could not be written. */
char *upsim_write_temp(const char *content, const char *suffix);

/* Collect stderr into err_text until needle occurs anywhere in it (text
 * collected earlier counts) or timeout_ms passes. 0 when seen, -1 if not
 * (also when upsim closed its stderr first). */
int upsim_wait_stderr(struct upsim_proc *p, const char *needle, int timeout_ms);

#endif

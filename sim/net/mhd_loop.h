/* mhd_loop: a libmicrohttpd daemon in epoll mode driven by upsim's loop.
 *
 * MHD's epoll fd is one of the loop's fds, and before every wait the loop
 * asks MHD when it next needs to run (MHD_get_timeout) and arms one timer
 * for it. Both the gateway-facing server and the admin API use this. */
#ifndef UPSIM_NET_MHD_LOOP_H
#define UPSIM_NET_MHD_LOOP_H

#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "net/loop.h"

struct mhd_loop {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	struct loop_io io;	 /* MHD's epoll fd */
	struct loop_timer timer; /* MHD's own timeouts */
	struct loop_hook hook;
	bool run_soon; /* a connection was resumed */
	/* With mhd_loop_track_progress: what the daemon's callbacks count
	 * (mhd_loop_progress) plus what moves() says, and whether the last
	 * pass of MHD_run changed their sum. */
	uint64_t (*moves)(void);
	uint64_t progress;
	bool stalled;
};

/* Drive mhd (started with MHD_USE_EPOLL) from loop. Returns 0, or -1
 * with errno set (nothing is left attached). */
int mhd_loop_attach(struct mhd_loop *ml, struct loop *loop, struct MHD_Daemon *mhd);
/* Stop driving the daemon (it is not stopped). Harmless if not attached. */
void mhd_loop_detach(struct mhd_loop *ml);

/* For a TLS daemon, whose handshakes MHD (0.9.75) retries for as long as
 * they wait for the client (see before_wait in mhd_loop.c): from now on a
 * pass of MHD_run that moved no connection on is not followed by another
 * at once. moves() counts the daemon's reads and writes that moved bytes
 * or met a connection's end, in the thread that runs the loop; every
 * callback of the daemon calls mhd_loop_progress. */
void mhd_loop_track_progress(struct mhd_loop *ml, uint64_t (*moves)(void));
static inline void mhd_loop_progress(struct mhd_loop *ml)
{
	ml->progress++;
}

/* Let MHD run now. */
void mhd_loop_run(struct mhd_loop *ml);
/* Let MHD run before the next wait: in external mode a resumed
 * connection is only picked up by the next MHD_run, and nothing else
 * wakes it. */
void mhd_loop_wake(struct mhd_loop *ml);

/* MHD_OPTION_EXTERNAL_LOGGER for every daemon: MHD's messages go to the
 * debug log, each prefixed with the string passed as cls. */
void mhd_loop_log(void *prefix, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif

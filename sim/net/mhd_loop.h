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

#include "net/loop.h"

struct mhd_loop {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	struct loop_io io;	 /* MHD's epoll fd */
	struct loop_timer timer; /* MHD's own timeouts */
	struct loop_hook hook;
	bool run_soon; /* a connection was resumed */
};

/* Drive mhd (started with MHD_USE_EPOLL) from loop. Returns 0, or -1
 * with errno set (nothing is left attached). */
int mhd_loop_attach(struct mhd_loop *ml, struct loop *loop, struct MHD_Daemon *mhd);
/* Stop driving the daemon (it is not stopped). Harmless if not attached. */
void mhd_loop_detach(struct mhd_loop *ml);

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

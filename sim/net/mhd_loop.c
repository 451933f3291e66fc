#include "net/mhd_loop.h"

#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

/* How long a stalled daemon waits for its epoll fd before MHD runs all
 * the same: a bound, should something move that counts no progress. */
#define STALL_RETRY_NS (50 * 1000000ULL)

static uint64_t progress(const struct mhd_loop *ml)
{
	return ml->progress + ml->moves();
}

void mhd_loop_run(struct mhd_loop *ml)
{
	uint64_t before = ml->moves ? progress(ml) : 0;
	ml->run_soon = false;
	if (MHD_run(ml->mhd) != MHD_YES)
		log_warn("MHD_run failed");
	ml->stalled = ml->moves && progress(ml) == before;
}

void mhd_loop_track_progress(struct mhd_loop *ml, uint64_t (*moves)(void))
{
	ml->moves = moves;
}

void mhd_loop_wake(struct mhd_loop *ml)
{
	ml->run_soon = true;
}

static void on_event(struct loop_io *io, uint32_t events)
{
	(void)events;
	mhd_loop_run(container_of(io, struct mhd_loop, io));
}

static void on_timer(struct loop_timer *t)
{
	mhd_loop_run(container_of(t, struct mhd_loop, timer));
}

/* Before each wait, let MHD say when it next needs to run: 0 when it has
 * buffered work (pipelined requests, new connections), else its nearest
 * connection timeout.
 *
 * MHD 0.9.75 says 0 for a TLS connection whose handshake waits for the
 * client, too: GnuTLS reads the socket itself there, and only an EAGAIN
 * from a record read takes a connection off MHD's list of ready ones. So
 * each pass retried the handshake and asked for the next at once: one
 * client that stopped halfway through its handshake kept a CPU busy for
 * as long as it waited. A pass that moved nothing on (a stalled one:
 * every read said EAGAIN, nothing was written, no callback came) cannot
 * have left any other work; the loop then waits for MHD's epoll fd, which
 * fires as soon as any of its sockets has something, or for a new
 * connection or a resume (run_soon), and lets MHD run after
 * STALL_RETRY_NS whatever happens. */
static void before_wait(struct loop_hook *h)
{
	struct mhd_loop *ml = container_of(h, struct mhd_loop, hook);
	MHD_UNSIGNED_LONG_LONG ms;
	if (ml->run_soon)
		loop_timer_at(ml->loop, &ml->timer, clock_mono_ns());
	else if (MHD_get_timeout(ml->mhd, &ms) != MHD_YES)
		loop_timer_cancel(ml->loop, &ml->timer);
	else if (ms == 0 && ml->stalled)
		loop_timer_at(ml->loop, &ml->timer, clock_mono_ns() + STALL_RETRY_NS);
	else
		loop_timer_at(ml->loop, &ml->timer, clock_mono_ns() + ms * 1000000ULL);
}

int mhd_loop_attach(struct mhd_loop *ml, struct loop *loop, struct MHD_Daemon *mhd)
{
	ml->loop = loop;
	ml->mhd = mhd;
	ml->io.fd = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
	ml->io.on_event = on_event;
	ml->timer.on_fire = on_timer;
	ml->hook.before_wait = before_wait;
	if (loop_io_add(loop, &ml->io, EPOLLIN) == -1) {
		ml->loop = NULL;
		return -1;
	}
	loop_add_hook(loop, &ml->hook);
	return 0;
}

void mhd_loop_detach(struct mhd_loop *ml)
{
	if (ml->loop == NULL)
		return;
	loop_io_del(ml->loop, &ml->io);
	loop_remove_hook(ml->loop, &ml->hook);
	loop_timer_cancel(ml->loop, &ml->timer);
	ml->loop = NULL;
}

void mhd_loop_log(void *prefix, const char *fmt, va_list ap)
{
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("%s: %s", (const char *)prefix, line);
}

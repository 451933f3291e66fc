#include "net/mhd_loop.h"

#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"

void mhd_loop_run(struct mhd_loop *ml)
{
	ml->run_soon = false;
	if (MHD_run(ml->mhd) != MHD_YES)
		log_warn("MHD_run failed");
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
 * connection timeout. */
static void before_wait(struct loop_hook *h)
{
	struct mhd_loop *ml = container_of(h, struct mhd_loop, hook);
	MHD_UNSIGNED_LONG_LONG ms;
	if (ml->run_soon)
		loop_timer_at(ml->loop, &ml->timer, clock_mono_ns());
	else if (MHD_get_timeout(ml->mhd, &ms) == MHD_YES)
		loop_timer_at(ml->loop, &ml->timer, clock_mono_ns() + ms * 1000000ULL);
	else
		loop_timer_cancel(ml->loop, &ml->timer);
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

#include "net/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/log.h"
#include "base/xalloc.h"

/* Accept at most this many per wake-up so one listener cannot starve the
 * rest of the loop under a connection flood. */
#define ACCEPT_BATCH 64

struct listener {
	struct loop_io io;
	struct loop *loop;
	listener_accept_fn on_accept;
	void *arg;
	int reserve_fd;	 /* spare fd, given up to shed load at EMFILE */
	bool listening;	 /* false: bound only, connections refused */
	bool accepting;	 /* false: paused, the kernel queue fills */
	bool watched;	 /* in the loop: listening && accepting */
	bool share_port; /* SO_REUSEPORT: one listener per thread */
	int backlog;
	struct sockaddr_storage bound; /* the address, with the real port */
	socklen_t bound_len;
	char address[ADDR_STRLEN];
};

static int open_reserve(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* Out of descriptors: a level-triggered listener would spin. Give up the
 * reserve fd, accept the waiting connection and close it at once (the
 * client sees a clean close, not a hang), then take the reserve back. */
static void shed_one(struct listener *li)
{
	if (li->reserve_fd != -1)
		close(li->reserve_fd);
	int fd = accept4(li->io.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd != -1)
		close(fd);
	li->reserve_fd = open_reserve();
	log_warn("out of file descriptors: shed a connection on %s", li->address);
}

unsigned listener_flush(struct listener *li)
{
	unsigned n = 0;
	int fd;
	/* Accepting, the loop takes the queue itself: nothing stays in it. */
	while (li != NULL && !li->accepting && li->listening
	       && (fd = accept4(li->io.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
		/* Disconnecting makes Linux send a RST and nothing else. */
		struct sockaddr sa = {.sa_family = AF_UNSPEC};
		connect(fd, &sa, sizeof sa);
		close(fd);
		n++;
	}
	return n;
}

static void on_listen_event(struct loop_io *io, uint32_t events)
{
	struct listener *li = (struct listener *)io;
	(void)events;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		int fd = accept4(io->fd, (struct sockaddr *)&ss, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				shed_one(li);
			else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept on %s: %s", li->address, strerror(errno));
			if (errno != ECONNABORTED && errno != EINTR)
				return;
			continue;
		}
		li->on_accept(li->arg, fd, (struct sockaddr *)&ss, len);
	}
}

/* A bound socket; it listens only when backlog >= 0. A bound socket that
 * does not listen keeps the port ours while the kernel refuses every
 * connection to it with a RST. With share_port, each thread's listener
 * binds the same port and the kernel spreads connections between those
 * that listen. */
static int bind_socket(const struct sockaddr *addr, socklen_t len, int backlog, bool share_port,
		       char *errbuf, size_t errlen)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(errbuf, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (share_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == -1) {
		snprintf(errbuf, errlen, "SO_REUSEPORT: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, addr, len) == -1 || (backlog >= 0 && listen(fd, backlog) == -1)) {
		snprintf(errbuf, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Watch the socket exactly when it listens and accepting is wanted. */
static void sync_watch(struct listener *li)
{
	bool want = li->listening && li->accepting;
	if (want == li->watched)
		return;
	if (want && loop_io_add(li->loop, &li->io, EPOLLIN) == -1) {
		log_warn("cannot watch %s: %s", li->address, strerror(errno));
		return;
	}
	if (!want)
		loop_io_del(li->loop, &li->io);
	li->watched = want;
}

struct listener *listener_open(struct loop *loop, const struct sockaddr *addr, socklen_t len,
			       int backlog, bool share_port, listener_accept_fn on_accept,
			       void *arg, char *errbuf, size_t errlen)
{
	int fd = bind_socket(addr, len, backlog, share_port, errbuf, errlen);
	if (fd == -1)
		return NULL;
	struct listener *li = xcalloc(1, sizeof *li);
	li->share_port = share_port;
	li->io.fd = fd;
	li->io.on_event = on_listen_event;
	li->loop = loop;
	li->on_accept = on_accept;
	li->arg = arg;
	li->reserve_fd = open_reserve();
	li->backlog = backlog;
	li->bound_len = sizeof li->bound;
	getsockname(fd, (struct sockaddr *)&li->bound, &li->bound_len);
	addr_format((struct sockaddr *)&li->bound, li->address);
	li->listening = li->accepting = true;
	sync_watch(li);
	if (!li->watched) {
		snprintf(errbuf, errlen, "epoll: %s", strerror(errno));
		listener_close(li);
		return NULL;
	}
	return li;
}

void listener_set_accepting(struct listener *li, bool on)
{
	li->accepting = on;
	sync_watch(li);
}

void listener_set_backlog(struct listener *li, int backlog)
{
	/* Linux applies a new backlog to a listening socket in place. */
	if (backlog == li->backlog)
		return;
	li->backlog = backlog;
	if (li->listening)
		listen(li->io.fd, backlog);
}

/* A listening socket cannot stop listening: close it (connections still
 * in its queue are reset) and hold the port with a bound, silent socket.
 * The port cannot be bound twice while one socket listens, so the close
 * comes first. */
static int unlisten(struct listener *li)
{
	char why[128];
	li->listening = false;
	sync_watch(li);
	close(li->io.fd);
	li->io.fd = bind_socket((struct sockaddr *)&li->bound, li->bound_len, -1, li->share_port,
				why, sizeof why);
	if (li->io.fd == -1) {
		log_error("cannot hold %s: %s", li->address, why);
		return -1;
	}
	return 0;
}

int listener_set_listening(struct listener *li, bool on)
{
	if (on == li->listening)
		return 0;
	if (!on)
		return unlisten(li);
	if (li->io.fd == -1) { /* the port was lost: try to take it back */
		char why[128];
		li->io.fd = bind_socket((struct sockaddr *)&li->bound, li->bound_len, -1,
					li->share_port, why, sizeof why);
	}
	if (li->io.fd == -1 || listen(li->io.fd, li->backlog) == -1) {
		log_error("cannot listen again on %s: %s", li->address, strerror(errno));
		return -1;
	}
	li->listening = true;
	sync_watch(li);
	return 0;
}

void listener_close(struct listener *li)
{
	if (li == NULL)
		return;
	if (li->watched)
		loop_io_del(li->loop, &li->io);
	if (li->io.fd != -1)
		close(li->io.fd);
	if (li->reserve_fd != -1)
		close(li->reserve_fd);
	free(li);
}

const char *listener_address(const struct listener *li)
{
	return li->address;
}

const struct sockaddr *listener_bound(const struct listener *li, socklen_t *len)
{
	*len = li->bound_len;
	return (const struct sockaddr *)&li->bound;
}

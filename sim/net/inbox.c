#include "net/inbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/xalloc.h"

struct inbox {
	struct loop_io io; /* the eventfd; first, for the cast */
	struct loop *loop;
	pthread_mutex_t callers; /* one call at a time */
	pthread_mutex_t lock;	 /* guards the fields below */
	pthread_cond_t finished;
	void (*fn)(void *arg); /* NULL: nothing pending */
	void *arg;
};

static void on_wake(struct loop_io *io, uint32_t events)
{
	struct inbox *ib = (struct inbox *)io;
	uint64_t n;
	(void)events;
	while (read(io->fd, &n, sizeof n) == -1 && errno == EINTR)
		;
	pthread_mutex_lock(&ib->lock);
	if (ib->fn != NULL) {
		/* The caller is blocked until fn is cleared: arg stays valid. */
		ib->fn(ib->arg);
		ib->fn = NULL;
		pthread_cond_signal(&ib->finished);
	}
	pthread_mutex_unlock(&ib->lock);
}

struct inbox *inbox_new(struct loop *loop)
{
	struct inbox *ib = xcalloc(1, sizeof *ib);
	ib->loop = loop;
	ib->io.on_event = on_wake;
	ib->io.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ib->io.fd == -1 || loop_io_add(loop, &ib->io, EPOLLIN) == -1) {
		int e = errno;
		if (ib->io.fd != -1)
			close(ib->io.fd);
		free(ib);
		errno = e;
		return NULL;
	}
	pthread_mutex_init(&ib->callers, NULL);
	pthread_mutex_init(&ib->lock, NULL);
	pthread_cond_init(&ib->finished, NULL);
	return ib;
}

void inbox_free(struct inbox *ib)
{
	if (ib == NULL)
		return;
	loop_io_del(ib->loop, &ib->io);
	close(ib->io.fd);
	pthread_cond_destroy(&ib->finished);
	pthread_mutex_destroy(&ib->lock);
	pthread_mutex_destroy(&ib->callers);
	free(ib);
}

void inbox_call(struct inbox *ib, void (*fn)(void *arg), void *arg)
{
	static const uint64_t one = 1;
	pthread_mutex_lock(&ib->callers);
	pthread_mutex_lock(&ib->lock);
	ib->fn = fn;
	ib->arg = arg;
	/* An eventfd write cannot fail short of overflowing 2^64-1. */
	while (write(ib->io.fd, &one, sizeof one) == -1 && errno == EINTR)
		;
	while (ib->fn != NULL)
		pthread_cond_wait(&ib->finished, &ib->lock);
	pthread_mutex_unlock(&ib->lock);
	pthread_mutex_unlock(&ib->callers);
}

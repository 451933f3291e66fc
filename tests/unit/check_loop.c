#include <check.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <pthread.h>

#include "base/clock.h"
#include "base/util.h"
#include "net/loop.h"
#include "net/threads.h"
#include "suites.h"

struct probe {
	struct loop_timer timer;
	struct loop *loop;
	int id;
	int *order;
	int *n;
};

static void on_fire(struct loop_timer *t)
{
	struct probe *p = container_of(t, struct probe, timer);
	p->order[(*p->n)++] = p->id;
}

static void on_last(struct loop_timer *t)
{
	struct probe *p = container_of(t, struct probe, timer);
	on_fire(t);
	loop_stop(p->loop);
}

START_TEST(test_timers_fire_in_deadline_order)
{
	struct loop *l = loop_new();
	int order[64], n = 0;
	struct probe p[40];
	uint64_t now = clock_mono_ns();
	/* Deadlines 1..40 ms armed in a scrambled order; one re-armed, one
	 * cancelled. */
	for (int i = 0; i < 40; i++) {
		int k = (i * 17) % 40;
		p[k] = (struct probe){.loop = l, .id = k, .order = order, .n = &n};
		p[k].timer.on_fire = k == 39 ? on_last : on_fire;
		loop_timer_at(l, &p[k].timer, now + (uint64_t)(k + 1) * 1000000);
	}
	loop_timer_at(l, &p[0].timer, now + 20500000); /* moves 0 after 19 */
	loop_timer_cancel(l, &p[5].timer);
	ck_assert_uint_eq(loop_timer_count(l), 39);
	ck_assert_int_eq(loop_run(l), 0);
	ck_assert_int_eq(n, 39);
	int prev_deadline_rank = -1;
	for (int i = 0; i < n; i++) {
		int rank = order[i] == 0 ? 19 * 2 + 1 : order[i] * 2;
		ck_assert_int_gt(rank, prev_deadline_rank);
		ck_assert_int_ne(order[i], 5);
		prev_deadline_rank = rank;
	}
	ck_assert(clock_mono_ns() - now >= 40000000ULL);
	loop_free(l);
}
END_TEST

struct pipe_probe {
	struct loop_io io;
	struct loop *loop;
	char got;
};

static void on_readable(struct loop_io *io, uint32_t events)
{
	struct pipe_probe *p = container_of(io, struct pipe_probe, io);
	ck_assert(events & EPOLLIN);
	ck_assert_int_eq(read(io->fd, &p->got, 1), 1);
	loop_stop(p->loop);
}

START_TEST(test_io_dispatch)
{
	struct loop *l = loop_new();
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	struct pipe_probe p = {.io = {.fd = fds[0], .on_event = on_readable}, .loop = l};
	ck_assert_int_eq(loop_io_add(l, &p.io, EPOLLIN), 0);
	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	ck_assert_int_eq(loop_run(l), 0);
	ck_assert_int_eq(p.got, 'x');
	loop_io_del(l, &p.io);
	close(fds[0]);
	close(fds[1]);
	loop_free(l);
}
END_TEST

static void on_quiet_fire(struct loop_timer *t)
{
	(void)t;
}

/* One round at a time: a poll with nothing due dispatches nothing, a due
 * timer and a readable fd count one each, and the wait never outlasts
 * max_wait_ns. */
START_TEST(test_run_once)
{
	struct loop *l = loop_new();
	ck_assert_int_eq(loop_run_once(l, 0), 0);
	uint64_t start = clock_mono_ns();
	ck_assert_int_eq(loop_run_once(l, 2000000), 0);
	ck_assert(clock_mono_ns() - start >= 2000000);

	struct loop_timer t = {.on_fire = on_quiet_fire};
	loop_timer_at(l, &t, clock_mono_ns());
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	struct pipe_probe p = {.io = {.fd = fds[0], .on_event = on_readable}, .loop = l};
	ck_assert_int_eq(loop_io_add(l, &p.io, EPOLLIN), 0);
	ck_assert_int_eq(write(fds[1], "y", 1), 1);
	ck_assert_int_eq(loop_run_once(l, UINT64_MAX), 2);
	ck_assert_int_eq(p.got, 'y');
	ck_assert(!loop_timer_armed(&t));
	ck_assert_int_eq(loop_run_once(l, 0), 0);
	loop_io_del(l, &p.io);
	close(fds[0]);
	close(fds[1]);
	loop_free(l);
}
END_TEST

struct rival {
	struct loop_io io;
	struct loop *loop;
	struct rival *other; /* removed by this one's handler */
	int calls;
};

static void on_rival(struct loop_io *io, uint32_t events)
{
	struct rival *r = container_of(io, struct rival, io);
	(void)events;
	r->calls++;
	if (r->other != NULL) {
		loop_io_del(r->loop, &r->other->io);
		r->other->other = NULL;
		r->other = NULL;
	}
}

/* Two fds ready in one round: whichever handler runs first removes the
 * other, whose pending event must then not be delivered (its owner may
 * have freed it). */
START_TEST(test_removed_io_gets_no_pending_event)
{
	struct loop *l = loop_new();
	int a[2], b[2];
	ck_assert_int_eq(pipe(a), 0);
	ck_assert_int_eq(pipe(b), 0);
	struct rival ra = {.io = {.fd = a[0], .on_event = on_rival}, .loop = l};
	struct rival rb = {.io = {.fd = b[0], .on_event = on_rival}, .loop = l};
	ra.other = &rb;
	rb.other = &ra;
	ck_assert_int_eq(loop_io_add(l, &ra.io, EPOLLIN), 0);
	ck_assert_int_eq(loop_io_add(l, &rb.io, EPOLLIN), 0);
	ck_assert_int_eq(write(a[1], "x", 1), 1);
	ck_assert_int_eq(write(b[1], "x", 1), 1);
	ck_assert_int_eq(loop_run_once(l, 0), 2); /* both were ready */
	ck_assert_int_eq(ra.calls + rb.calls, 1);
	struct rival *left = ra.calls ? &ra : &rb;
	loop_io_del(l, &left->io);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
	loop_free(l);
}
END_TEST

struct errand {
	pthread_t ran_on;
	int runs;
};

static void run_errand(void *arg)
{
	struct errand *e = arg;
	e->ran_on = pthread_self();
	e->runs++;
}

/* A worker's inbox runs the call on the worker's own thread and returns
 * only once it has run; stopping joins every worker. */
START_TEST(test_inbox_runs_on_the_worker_thread)
{
	struct threads *w = threads_new(3);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(threads_start(w), 0);
	struct errand e1 = {0}, e2 = {0};
	for (int i = 0; i < 100; i++) {
		inbox_call(threads_inbox(w, 1), run_errand, &e1);
		inbox_call(threads_inbox(w, 2), run_errand, &e2);
		ck_assert_int_eq(e1.runs, i + 1); /* done when the call returns */
		ck_assert_int_eq(e2.runs, i + 1);
	}
	ck_assert(!pthread_equal(e1.ran_on, pthread_self()));
	ck_assert(!pthread_equal(e2.ran_on, pthread_self()));
	ck_assert(!pthread_equal(e1.ran_on, e2.ran_on));
	threads_stop(w);
	threads_free(w);
}
END_TEST

Suite *loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("timers");
	tcase_add_test(tc, test_timers_fire_in_deadline_order);
	tcase_add_test(tc, test_io_dispatch);
	tcase_add_test(tc, test_run_once);
	tcase_add_test(tc, test_inbox_runs_on_the_worker_thread);
	tcase_add_test(tc, test_removed_io_gets_no_pending_event);
	suite_add_tcase(s, tc);
	return s;
}

/* inbox: run a function on another loop's thread, and wait until it has.
 *
 * With --threads N, each worker thread owns a loop and everything in it;
 * the control thread (the admin API, signals, the timeline) must never
 * touch a worker's server or listener directly. It hands the work to that
 * loop's inbox instead: an eventfd in the worker's loop wakes it, the
 * function runs there between events, and the caller is released. A call
 * is synchronous, so when a scenario swap or a phase change returns, every
 * thread serves it. Workers never call into the control thread, so a call
 * cannot deadlock. */
#ifndef UPSIM_NET_INBOX_H
#define UPSIM_NET_INBOX_H

#include "net/loop.h"

struct inbox;

/* An inbox in loop, created on the thread that owns loop (or before that
 * thread runs it). Returns NULL with errno set. */
struct inbox *inbox_new(struct loop *loop);
/* Remove it from its loop; on the owner thread, or after it has ended. */
void inbox_free(struct inbox *ib);

/* Run fn(arg) on the inbox's loop thread; returns when fn has returned.
 * From any other thread; calls from several threads queue one by one. */
void inbox_call(struct inbox *ib, void (*fn)(void *arg), void *arg);

#endif

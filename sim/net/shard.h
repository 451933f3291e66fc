/* shard: one thread's share of an upstream.
 *
 * With --threads N each upstream has N shards: each its own listening
 * socket on the upstream's port (SO_REUSEPORT, so the kernel spreads new
 * connections between them), its own accept stage and its own HTTP
 * server, all owned by one thread's loop. A connection lives and dies on
 * the shard that accepted it. Shard 0 is on the control thread's loop. */
#ifndef UPSIM_NET_SHARD_H
#define UPSIM_NET_SHARD_H

#include "net/accept_stage.h"
#include "net/inbox.h"
#include "net/listener.h"
#include "net/loop.h"
#include "net/server.h"

struct shard {
	unsigned index; /* its thread: 0 .. --threads - 1 */
	struct loop *loop;
	struct inbox *inbox; /* NULL: the control thread's own loop */
	struct server *server;
	struct accept_stage *accept;
	struct listener *listener;
};

typedef void (*shard_fn)(struct shard *sh, void *arg);

/* Run fn(sh, arg) on sh's thread; returns when it has run. */
void shard_call(struct shard *sh, shard_fn fn, void *arg);

#endif

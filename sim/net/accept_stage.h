/* accept_stage: the accept stage — what becomes of each accepted connection
 * before any byte is read.
 *
 * The listener hands every socket here. The scenario's "connection"
 * policy decides: serve it (hand it to the HTTP server), reset it, close
 * it, hold it unread (hang), or — over max_connections — reset, close or
 * queue it until a slot frees. "accept": "pause" stops accepting so the
 * kernel's backlog fills. Held sockets cost a record and an fd, no thread. */
#ifndef UPSIM_NET_ACCEPT_STAGE_H
#define UPSIM_NET_ACCEPT_STAGE_H

#include <stdint.h>
#include <sys/socket.h>

#include "net/listener.h"
#include "net/loop.h"
#include "net/server.h"

struct accept_stage;

/* An accept stage in front of server; held sockets are let go after hang_cap_ns;
 * past cap connections (open and held together), new ones are reset. */
struct accept_stage *accept_stage_new(struct loop *loop, struct server *server,
				      uint64_t hang_cap_ns, unsigned cap);
/* Let the stage pause and resume li (call once the listener is open). */
void accept_stage_attach(struct accept_stage *g, struct listener *li);
/* Close every held socket and free. NULL accepted. */
void accept_stage_free(struct accept_stage *g);

/* The listener's callback (arg is the stage); the stage owns fd after. */
void accept_stage_take(void *arg, int fd, const struct sockaddr *sa, socklen_t len);

/* Sockets held or queued unread now. */
unsigned accept_stage_held(const struct accept_stage *g);

#endif

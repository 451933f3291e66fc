/* listener: upsim's own listening socket.
 *
 * upsim accepts connections itself rather than letting libmicrohttpd do it,
 * so that accept-stage behaviour (refuse, reset, hang, pause) is exact; a
 * healthy socket is then handed on through on_accept. */
#ifndef UPSIM_NET_LISTENER_H
#define UPSIM_NET_LISTENER_H

#include <stdbool.h>
#include <sys/socket.h>

#include "base/addr.h"
#include "net/loop.h"

struct listener;

/* Called for each accepted socket; the callee owns fd from then on. */
typedef void (*listener_accept_fn)(void *arg, int fd, const struct sockaddr *sa, socklen_t len);

/* Bind and listen on addr (port 0 = a free port), watching it in loop.
 * share_port (--threads): SO_REUSEPORT, so each thread's listener binds
 * the same port; the kernel spreads connections among them. Returns a
 * listener, or NULL with the reason in errbuf (errlen bytes). */
struct listener *listener_open(struct loop *loop, const struct sockaddr *addr, socklen_t len,
			       int backlog, bool share_port, listener_accept_fn on_accept,
			       void *arg, char *errbuf, size_t errlen);
/* Stop (false) or resume (true) accepting. While stopped, the kernel
 * completes handshakes into the backlog, then drops further SYNs. */
void listener_set_accepting(struct listener *li, bool on);
/* Refuse connections (false: the port stays bound, the kernel answers
 * SYNs with RST) or listen again (true). Returns 0, or -1 (logged). */
int listener_set_listening(struct listener *li, bool on);
/* Change the listen() backlog of the open socket. */
void listener_set_backlog(struct listener *li, int backlog);
/* Close the socket (new connections are refused) and free. NULL accepted. */
void listener_close(struct listener *li);
/* While accepting is paused, take every connection waiting in the
 * kernel's queue and end it with a RST, unjournalled: upsim check empties
 * the queue between probes, which a pause leaves full. Returns how many.
 * NULL accepted. */
unsigned listener_flush(struct listener *li);
/* The bound address as "HOST:PORT" (the real port when 0 was asked). */
const char *listener_address(const struct listener *li);
/* The bound address itself (the real port), for the next thread's. */
const struct sockaddr *listener_bound(const struct listener *li, socklen_t *len);

#endif

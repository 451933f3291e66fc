/* stream: a forwarded answer passed on to the gateway as it arrives.
 *
 * A plain pass-through (no fault, no pacing, no body of the action's) need
 * not wait for the whole real answer: its status and headers go out as
 * soon as the service sent them, framed by the service's Content-Length
 * (else chunked), and its body as net/forward's window fills. MHD reads
 * the window through a content reader; an empty window suspends the
 * connection until more arrives, and reading it makes room for libcurl,
 * so a slow gateway slows the service's transfer instead of growing
 * upsim's memory. */
#ifndef UPSIM_NET_STREAM_H
#define UPSIM_NET_STREAM_H

#include <microhttpd.h>

struct exchange;

/* The response for ex's streamed answer (ex->action holds the composed
 * status and headers), for MHD_queue_response; NULL when MHD refused it
 * (logged). The exchange must outlive the response's use by MHD. */
struct MHD_Response *stream_response(struct exchange *ex);

#endif

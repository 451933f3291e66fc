/* respond: turn a resolved action into a libmicrohttpd response. */
#ifndef UPSIM_NET_RESPOND_H
#define UPSIM_NET_RESPOND_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario/model.h"

/* Build the response for a (resolved) action: its headers in order, its
 * body, Content-Length or chunked framing. The body is borrowed from the
 * scenario, which the caller keeps referenced until the request completes.
 * Returns a response for MHD_queue_response (the caller destroys it), or
 * NULL when MHD refused a header (details logged). */
struct MHD_Response *respond_build(const struct action *a);
/* The same with body (len bytes, malloc'd: the response frees it) in
 * place of the action's. */
struct MHD_Response *respond_build_owned(const struct action *a, char *body, size_t len);
/* The same with a body read by read(cls, ...) as MHD sends it: size
 * bytes, or MHD_SIZE_UNKNOWN for a chunked body. */
struct MHD_Response *respond_build_reader(const struct action *a, uint64_t size,
					  MHD_ContentReaderCallback read, void *cls);

#endif

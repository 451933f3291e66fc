#include "net/stream.h"

#include "base/xalloc.h"

#include "net/conn.h"
#include "net/exchange.h"
#include "net/forward.h"
#include "net/respond.h"

/* The service failed after its head went out: the gateway sees the body
 * cut after the bytes that came, as it would from the service itself.
 * on_upstream_error says how (a RST once those bytes have left; a status
 * cannot be sent any more, so that ends with a FIN). */
static ssize_t cut(struct exchange *ex, const char *why)
{
	if (ex->upstream_error == NULL) {
		ex->upstream_error = why;
		conn_end(ex->conn,
			 ex->action.on_error == UPSTREAM_ERROR_RESET ? END_RESET : END_CLOSE);
	}
	/* Suspended while the RST waits for the send queue: called again
	 * once it has gone, with drop set. */
	return ex->drop ? MHD_CONTENT_READER_END_WITH_ERROR : 0;
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct exchange *ex = cls;
	(void)pos;
	if (ex->drop)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = forward_read(ex->fwd, buf, max);
	if (n > 0) {
		ex->streamed += n;
		return (ssize_t)n;
	}
	if (!forward_ended(ex->fwd)) {
		conn_wait_stream(ex->conn); /* resumed by the next bytes */
		return 0;
	}
	const char *why = forward_result(ex->fwd)->error;
	if (why != NULL)
		return cut(ex, why);
	if (ex->stream_size != MHD_SIZE_UNKNOWN)
		return cut(ex, "the upstream's body ended before its Content-Length");
	return MHD_CONTENT_READER_END_OF_STREAM;
}

/* The whole answer came with its head (a small body does): one buffer,
 * which MHD sends with the head in one write where a reader costs a
 * second send — on loopback a third of the CPU a forwarded request
 * takes. The framing is the service's Content-Length either way. */
static bool whole_already(const struct exchange *ex)
{
	const struct forward_result *r = forward_result(ex->fwd);
	return forward_ended(ex->fwd) && r->error == NULL && ex->stream_size != MHD_SIZE_UNKNOWN
	       && forward_pending(ex->fwd) == ex->stream_size;
}

struct MHD_Response *stream_response(struct exchange *ex)
{
	const struct forward_result *r = forward_result(ex->fwd);
	ex->stream_size = MHD_SIZE_UNKNOWN;
	if (!ex->action.chunked && r->content_length >= 0)
		ex->stream_size = (uint64_t)r->content_length;
	ex->streaming = true;
	if (whole_already(ex)) {
		size_t len = (size_t)ex->stream_size;
		char *body = xmalloc(len + 1);
		ex->streamed = forward_read(ex->fwd, body, len);
		ex->stream_whole = true;
		return respond_build_owned(&ex->action, body, len);
	}
	return respond_build_reader(&ex->action, ex->stream_size, read_stream, ex);
}

#include "net/respond.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "engine/body.h"

/* What a streamed body reader needs; freed with the response. */
struct body_source {
	const char *body; /* NULL for a generated body */
	uint64_t len;
	bool chunked;
};

static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct body_source *src = cls;
	if (pos >= src->len)
		return src->chunked ? MHD_CONTENT_READER_END_OF_STREAM
				    : MHD_CONTENT_READER_END_WITH_ERROR;
	uint64_t left = src->len - pos;
	size_t n = left < max ? (size_t)left : max;
	/* Bounded chunks keep chunked framing readable and comparable. */
	if (src->chunked && n > BODY_MAX_CHUNK)
		n = BODY_MAX_CHUNK;
	if (src->body)
		memcpy(buf, src->body + pos, n);
	else
		body_pattern(pos, buf, n);
	return (ssize_t)n;
}

static struct MHD_Response *build_body(const struct action *a)
{
	if (!a->chunked && !a->body_generated)
		return MHD_create_response_from_buffer(a->body_len, a->body,
						       MHD_RESPMEM_PERSISTENT);
	struct body_source *src = xmalloc(sizeof *src);
	src->body = a->body_generated ? NULL : a->body;
	src->len = a->body_len;
	src->chunked = a->chunked;
	uint64_t size = a->chunked ? MHD_SIZE_UNKNOWN : a->body_len;
	struct MHD_Response *r = MHD_create_response_from_callback(size, 64 * 1024, read_body, src,
								   free);
	if (r == NULL)
		free(src);
	return r;
}

/* The action's headers on r (freed on failure). */
static struct MHD_Response *with_headers(struct MHD_Response *r, const struct action *a)
{
	if (r == NULL) {
		log_error("libmicrohttpd could not create a response");
		return NULL;
	}
	for (size_t i = 0; i < a->n_headers; i++) {
		if (MHD_add_response_header(r, a->headers[i].name, a->headers[i].value)
		    != MHD_YES) {
			log_error("libmicrohttpd refused header %s", a->headers[i].name);
			MHD_destroy_response(r);
			return NULL;
		}
	}
	return r;
}

struct MHD_Response *respond_build(const struct action *a)
{
	return with_headers(build_body(a), a);
}

struct MHD_Response *respond_build_owned(const struct action *a, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL)
		free(body);
	return with_headers(r, a);
}

struct MHD_Response *respond_build_reader(const struct action *a, uint64_t size,
					  MHD_ContentReaderCallback read, void *cls)
{
	/* MHD allocates and zeroes the block with every response: sized to a
	 * small body, a pass-through of many small answers costs no 64 KiB
	 * calloc each (measured: a fifth of upsim's time under wrk). */
	size_t block = 16 * 1024;
	if (size != MHD_SIZE_UNKNOWN)
		block = size < 1024 ? 1024 : size > 64 * 1024 ? 64 * 1024 : (size_t)size;
	return with_headers(MHD_create_response_from_callback(size, block, read, cls, NULL), a);
}

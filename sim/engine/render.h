/* render: a response as the exact bytes upsim writes itself.
 *
 * libmicrohttpd sends every well-formed, unpaced response. Anything else —
 * a cut, a defect, another protocol, bytes paced one by one — is rendered
 * here into one buffer and written raw. Pure: no sockets, no clock. */
#ifndef UPSIM_ENGINE_RENDER_H
#define UPSIM_ENGINE_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario/model.h"

struct render {
	char *buf;	   /* owned; free with render_free */
	size_t len;	   /* bytes to send (after any truncation) */
	size_t status_end; /* where the headers part starts */
	size_t head_end;   /* where the body part starts */
	size_t full_len;   /* length before truncation */
};

/* What rendering needs beside the action. */
struct render_opts {
	uint64_t seed;	    /* feeds the garbage fault */
	const char *reason; /* the status line's reason phrase (the caller
				   knows HTTP's table: render stays pure) */
	bool head_request;  /* leave the body out, as HTTP requires */
	bool close_header;  /* add "Connection: close" (a paced healthy
				   response ends its connection) */
};

/* Render resolved action a into out. Offsets past the end of their part
 * are clamped to the part's end. */
void render_response(const struct action *a, const struct render_opts *opts, struct render *out);
void render_free(struct render *r);

/* The offset in r where part starts, and where it ends. */
size_t render_part_start(const struct render *r, enum part part);
size_t render_part_end(const struct render *r, enum part part);

#endif

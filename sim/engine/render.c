#include "engine/render.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "base/xalloc.h"
#include "engine/body.h"
#include "scenario/fault.h"

/* A growing byte buffer. */
struct buf {
	char *data;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 1024;
		b->data = xrealloc(b->data, b->cap);
	}
	if (n == 0)
		return; /* p may be NULL: an action without a body */
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* A short formatted line: anything past 511 bytes is cut. */
__attribute__((format(printf, 2, 3))) static void putf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	put(b, tmp, n < (int)sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* The body bytes of the action (the literal body or the pattern). */
/* The first n body bytes: the literal body, continued by the generated
 * pattern where n is longer (length_mismatch may send more than it has). */
static void put_body(struct buf *b, const struct action *a, uint64_t n)
{
	uint64_t off = 0;
	if (!a->body_generated) {
		off = a->body_len < n ? a->body_len : n;
		put(b, a->body, (size_t)off);
	}
	char chunk[4096];
	while (off < n) {
		size_t k = n - off < sizeof chunk ? (size_t)(n - off) : sizeof chunk;
		body_pattern(off, chunk, k);
		put(b, chunk, k);
		off += k;
	}
}

static void put_chunked_body(struct buf *b, const struct action *a, bool last)
{
	struct buf body = {0};
	put_body(&body, a, a->body_len);
	for (size_t off = 0; off < body.len; off += BODY_MAX_CHUNK) {
		size_t k = body.len - off < BODY_MAX_CHUNK ? body.len - off : BODY_MAX_CHUNK;
		putf(b, "%zx\r\n", k);
		put(b, body.data + off, k);
		put(b, "\r\n", 2);
	}
	if (last)
		put(b, "0\r\n\r\n", 5);
	free(body.data);
}

static void put_status_line(struct buf *b, const struct action *a, const char *reason,
			    const char *eol)
{
	enum malformed_kind m = a->fault.kind == FAULT_MALFORMED ? a->fault.malformed : 0;
	int st = a->status;
	switch (m) {
	case MALFORMED_STATUS_LINE: putf(b, "HTTP/1.1 %d%s%s", st, reason, eol); break;
	case MALFORMED_VERSION: putf(b, "HTTP/1.x %d %s%s", st, reason, eol); break;
	case MALFORMED_STATUS_CODE:
		putf(b, "HTTP/1.1 %dx%d %s%s", st / 100, st % 10, reason, eol);
		break;
	default: putf(b, "HTTP/1.1 %d %s%s", st, reason, eol);
	}
}

/* The one defective header line of a malformed kind, if it has one. */
static void put_defect_header(struct buf *b, enum malformed_kind m)
{
	switch (m) {
	case MALFORMED_NO_COLON:
		putf(b, "X-Upsim-Malformed header line without a colon\r\n");
		break;
	case MALFORMED_SPACE_BEFORE_COLON:
		putf(b, "X-Upsim-Malformed : space before the colon\r\n");
		break;
	case MALFORMED_NUL: put(b, "X-Upsim-Malformed: nul\0byte\r\n", 29); break;
	case MALFORMED_FOLDED:
		putf(b, "X-Upsim-Malformed: folded\r\n onto a continuation line\r\n");
		break;
	default: break;
	}
}

/* One header line that brings the block to size (a huge cookie, a CSP). */
static void put_one_long_line(struct buf *b, size_t head_start, uint64_t size)
{
	static const char name[] = "X-Upsim-Pad: ";
	size_t have = b->len - head_start + 2; /* with the empty line to come */
	size_t fill = have + sizeof name - 1 + 2 < size ? size - have - (sizeof name - 1) - 2 : 1;
	put(b, name, sizeof name - 1);
	char chunk[4096];
	memset(chunk, 'a', sizeof chunk);
	for (size_t k; fill > 0; fill -= k) {
		k = fill < sizeof chunk ? fill : sizeof chunk;
		put(b, chunk, k);
	}
	put(b, "\r\n", 2);
}

/* Padding headers of at most 1 KiB each until the block reaches size. */
static void put_padding(struct buf *b, size_t head_start, uint64_t size)
{
	char line[1100];
	for (int i = 0; b->len - head_start + 2 < size; i++) {
		size_t want = size - (b->len - head_start) - 2;
		size_t fill = want > 1000 ? 1000 : want > 24 ? want - 24 : 1;
		int n = snprintf(line, sizeof line, "X-Upsim-Pad-%04d: ", i);
		memset(line + n, 'a', fill);
		memcpy(line + n + fill, "\r\n", 2);
		put(b, line, (size_t)n + fill + 2);
	}
}

/* Content-Length / Transfer-Encoding lines, per fault. Returns how many
 * body bytes follow and whether they are chunked. */
static void put_framing(struct buf *b, const struct action *a, const char *eol, uint64_t *body_n,
			bool *chunked)
{
	*chunked = a->chunked;
	*body_n = a->body_len;
	switch (a->fault.kind) {
	case FAULT_LENGTH_MISMATCH:
		*chunked = false;
		*body_n = a->fault.sent;
		putf(b, "Content-Length: %llu%s", (unsigned long long)a->fault.declared, eol);
		return;
	case FAULT_DUPLICATE_LENGTH:
		*chunked = false;
		putf(b, "Content-Length: %llu%sContent-Length: %llu%s",
		     (unsigned long long)a->body_len, eol, (unsigned long long)a->body_len + 1,
		     eol);
		return;
	case FAULT_CL_AND_TE:
		*chunked = true;
		putf(b, "Content-Length: %llu%sTransfer-Encoding: chunked%s",
		     (unsigned long long)a->body_len, eol, eol);
		return;
	case FAULT_BAD_CHUNKED: *chunked = true; break;
	default: break;
	}
	if (a->status < 200 || a->status == 204) {
		/* RFC 9110 forbids framing headers here; a framing fault above
		 * still writes them on purpose. */
		*chunked = false;
		*body_n = 0;
		return;
	}
	if (*chunked)
		putf(b, "Transfer-Encoding: chunked%s", eol);
	else
		putf(b, "Content-Length: %llu%s", (unsigned long long)a->body_len, eol);
}

/* The first half of the body as a valid chunk (a streaming gateway has
 * already passed it on), then a chunk whose size line is not hex. */
static void put_broken_mid_body(struct buf *b, const struct action *a)
{
	struct buf body = {0};
	put_body(&body, a, a->body_len);
	size_t first = (body.len + 1) / 2;
	if (first > 0) {
		putf(b, "%zx\r\n", first);
		put(b, body.data, first);
		put(b, "\r\n", 2);
	}
	put(b, "zz\r\n", 4);
	if (body.len > first)
		put(b, body.data + first, body.len - first);
	put(b, "\r\n0\r\n\r\n", 7);
	free(body.data);
}

static void put_body_part(struct buf *b, const struct action *a, uint64_t n, bool chunked)
{
	if (a->fault.kind == FAULT_BAD_CHUNKED && a->fault.chunked == CHUNKED_INVALID_SIZE) {
		put(b, "zz\r\n", 4);
		put_body(b, a, a->body_len);
		put(b, "\r\n0\r\n\r\n", 7);
	} else if (a->fault.kind == FAULT_BAD_CHUNKED
		   && a->fault.chunked == CHUNKED_INVALID_SIZE_MID_BODY) {
		put_broken_mid_body(b, a);
	} else if (chunked) {
		put_chunked_body(b, a,
				 !(a->fault.kind == FAULT_BAD_CHUNKED
				   && a->fault.chunked == CHUNKED_MISSING_LAST_CHUNK));
	} else {
		put_body(b, a, n);
	}
}

static void render_http(const struct action *a, const struct render_opts *opts, struct buf *b,
			struct render *out)
{
	bool bare_lf = a->fault.kind == FAULT_MALFORMED && a->fault.malformed == MALFORMED_BARE_LF;
	const char *eol = bare_lf ? "\n" : "\r\n";
	put_status_line(b, a, opts->reason, eol);
	out->status_end = b->len;
	if (a->fault.kind == FAULT_MALFORMED)
		put_defect_header(b, a->fault.malformed);
	for (size_t i = 0; i < a->n_headers; i++) {
		/* Not putf: a header may be longer than its 512-byte line. */
		const struct header *h = &a->headers[i];
		put(b, h->name, strlen(h->name));
		put(b, ": ", 2);
		put(b, h->value, strlen(h->value));
		put(b, eol, strlen(eol));
	}
	if (opts->close_header)
		putf(b, "Connection: close%s", eol);
	uint64_t body_n;
	bool chunked;
	put_framing(b, a, eol, &body_n, &chunked);
	if (a->fault.kind == FAULT_OVERSIZED_HEADERS && a->fault.oversized == OVERSIZED_ONE_LINE)
		put_one_long_line(b, out->status_end, a->fault.size);
	else if (a->fault.kind == FAULT_OVERSIZED_HEADERS)
		put_padding(b, out->status_end, a->fault.size);
	put(b, eol, strlen(eol));
	out->head_end = b->len;
	if (!opts->head_request)
		put_body_part(b, a, body_n, chunked);
}

/* Seeded bytes that cannot be taken for a status line. */
static void render_garbage(uint64_t size, uint64_t seed, struct buf *b)
{
	struct rng r;
	rng_seed(&r, seed, 0x6761726261676521ULL);
	for (uint64_t i = 0; i < size; i++) {
		unsigned char c = (unsigned char)rng_next(&r);
		if (i == 0 && c == 'H')
			c = 'h';
		put(b, &c, 1);
	}
}

void render_response(const struct action *a, const struct render_opts *opts, struct render *out)
{
	struct buf b = {0};
	memset(out, 0, sizeof *out);
	if (!fault_has(a->fault.kind, FAULT_NOT_HTTP))
		render_http(a, opts, &b, out);
	else if (fault_has(a->fault.kind, FAULT_SEEDED))
		render_garbage(a->fault.size, opts->seed, &b);
	else
		put(&b, a->fault.bytes, a->fault.bytes_len);
	if (b.data == NULL)
		put(&b, "", 0);
	out->buf = b.data;
	out->full_len = out->len = b.len;
	if (out->head_end == 0)
		out->status_end = out->head_end = b.len; /* not HTTP: all one part */
	if (a->fault.kind == FAULT_TRUNCATE) {
		size_t cut = render_part_start(out, a->fault.at) + (size_t)a->fault.offset;
		size_t end = render_part_end(out, a->fault.at);
		out->len = cut < end ? cut : end;
	}
}

size_t render_part_start(const struct render *r, enum part part)
{
	return part == PART_STATUS ? 0 : part == PART_HEADERS ? r->status_end : r->head_end;
}

size_t render_part_end(const struct render *r, enum part part)
{
	return part == PART_STATUS    ? r->status_end
	       : part == PART_HEADERS ? r->head_end
				      : r->full_len;
}

void render_free(struct render *r)
{
	free(r->buf);
	r->buf = NULL;
}

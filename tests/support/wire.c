/* wire: raw-socket test client; see wire.h for the contracts.
 *
 * Sockets stay in blocking mode for the caller's sake (plain close(),
 * plain send() in a test are fine), and every call here uses MSG_DONTWAIT
 * plus poll() against a monotonic deadline, so nothing waits past its
 * timeout however the peer misbehaves. */
#include "wire.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 65536
/* A chunk-size line longer than this is garbage, not a line still arriving. */
#define MAX_CHUNK_LINE 4096

static void *memdup0(const void *p, size_t n)
{
	unsigned char *q = xrealloc(NULL, n + 1);

	if (n > 0)
		memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

double wire_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double deadline_in(int timeout_ms)
{
	return wire_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
}

/* Milliseconds until deadline for poll(), 0 once it has passed. Rounded up
 * so that poll() never wakes just short of the deadline and spins. */
static int ms_left(double deadline)
{
	double left = deadline - wire_now_ms();

	if (left <= 0)
		return 0;
	if (left >= INT_MAX)
		return INT_MAX;
	return (int)left + 1;
}

/* Wait until fd reports one of events (or an error). Returns the revents,
 * 0 once the deadline has passed, -1 if poll() itself failed. Past the
 * deadline it does not even look: a peer that streams without pause must
 * not keep a read loop going forever. */
static int wait_for(int fd, short events, double deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int left, n;

	while ((left = ms_left(deadline)) > 0) {
		n = poll(&pfd, 1, left);
		if (n > 0)
			return pfd.revents;
		if (n == -1 && errno != EINTR)
			return -1;
	}
	return 0;
}

const char *wire_end_name(enum wire_end e)
{
	switch (e) {
	case WIRE_OPEN: return "open";
	case WIRE_FIN: return "fin";
	case WIRE_RST: return "rst";
	case WIRE_ERROR: return "error";
	}
	return "?";
}

static void close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

static int connect_one(const struct addrinfo *ai, double deadline)
{
	int fd, err = 0, one = 1;
	socklen_t len = sizeof err;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		int ev = wait_for(fd, POLLOUT, deadline);
		if (ev == 0)
			errno = ETIMEDOUT;
		if (ev <= 0)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			goto fail;
		if (err != 0) {
			errno = err;
			goto fail;
		}
	}
	/* Small requests go out at once; Nagle would blur the timings. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1
	    || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1)
		goto fail;
	return fd;
fail:
	close_keep_errno(fd);
	return -1;
}

int wire_connect(const char *host, int port, int timeout_ms)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	struct addrinfo *list, *ai;
	double deadline = deadline_in(timeout_ms);
	char service[16];
	int fd = -1;

	if (host == NULL || port <= 0 || port > 65535) {
		errno = EINVAL;
		return -1;
	}
	snprintf(service, sizeof service, "%d", port);
	if (getaddrinfo(host, service, &hints, &list) != 0) {
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = list; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = connect_one(ai, deadline);
	int saved = errno;
	freeaddrinfo(list);
	errno = saved;
	return fd;
}

int wire_send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	const unsigned char *p = buf;
	double deadline = deadline_in(timeout_ms);

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		int ev = wait_for(fd, POLLOUT, deadline);
		if (ev == 0)
			errno = ETIMEDOUT;
		if (ev <= 0)
			return -1;
	}
	return 0;
}

int wire_send_str(int fd, const char *s, int timeout_ms)
{
	return wire_send_all(fd, s, strlen(s), timeout_ms);
}

static void result_append(struct wire_result *r, const unsigned char *p, size_t n, double start_ms)
{
	double now = wire_now_ms() - start_ms;

	r->bytes = xrealloc(r->bytes, r->len + n + 1);
	memcpy(r->bytes + r->len, p, n);
	r->len += n;
	r->bytes[r->len] = '\0';
	if (r->first_ms < 0)
		r->first_ms = now;
	r->last_ms = now;
}

static void result_end(struct wire_result *r, enum wire_end end, int err, double start_ms)
{
	r->end = end;
	r->err = err;
	r->end_ms = wire_now_ms() - start_ms;
}

/* Read into out until it holds want bytes, the connection ends, or the
 * deadline passes (end stays WIRE_OPEN). Never asks recv() for more than
 * want - len bytes, so nothing past want is consumed. */
static void read_loop(int fd, size_t want, double start_ms, double deadline,
		      struct wire_result *out)
{
	unsigned char chunk[READ_CHUNK];

	if (out->bytes == NULL)
		out->bytes = memdup0("", 0);
	if (out->len == 0)
		out->first_ms = out->last_ms = -1;
	out->end = WIRE_OPEN;
	out->err = 0;
	out->end_ms = -1;
	while (out->len < want) {
		int ev = wait_for(fd, POLLIN | POLLRDHUP, deadline);
		if (ev == 0)
			return;
		if (ev == -1) {
			result_end(out, WIRE_ERROR, errno, start_ms);
			return;
		}
		size_t room = want - out->len < sizeof chunk ? want - out->len : sizeof chunk;
		ssize_t n = recv(fd, chunk, room, MSG_DONTWAIT);
		if (n > 0) {
			result_append(out, chunk, (size_t)n, start_ms);
		} else if (n == 0) {
			result_end(out, WIRE_FIN, 0, start_ms);
			return;
		} else if (errno == ECONNRESET) {
			result_end(out, WIRE_RST, errno, start_ms);
			return;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			result_end(out, WIRE_ERROR, errno, start_ms);
			return;
		}
	}
}

int wire_read_until_end(int fd, double start_ms, int timeout_ms, struct wire_result *out)
{
	if (fd < 0 || out == NULL) {
		errno = EINVAL;
		return -1;
	}
	read_loop(fd, SIZE_MAX, start_ms, deadline_in(timeout_ms), out);
	return 0;
}

int wire_read_bytes(int fd, size_t want, double start_ms, int timeout_ms, struct wire_result *out)
{
	if (fd < 0 || out == NULL) {
		errno = EINVAL;
		return -1;
	}
	read_loop(fd, want, start_ms, deadline_in(timeout_ms), out);
	return out->len >= want ? 0 : -1;
}

void wire_result_free(struct wire_result *r)
{
	if (r == NULL)
		return;
	free(r->bytes);
	*r = (struct wire_result){0};
}

void wire_close_rst(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
}

static int is_reset(int err)
{
	return err == ECONNRESET || err == EPIPE;
}

/* After FIN, recv() keeps returning 0 even once an RST has come (Linux
 * reports end of stream before the pending error), so the RST is looked
 * for in SO_ERROR and in a second send instead. */
int wire_rst_follows(int fd, int timeout_ms)
{
	double deadline = deadline_in(timeout_ms);
	int err = 0;
	socklen_t len = sizeof err;

	if (send(fd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		return is_reset(errno) ? 1 : errno == EBADF || errno == ENOTSOCK ? -1 : 0;
	/* With events 0 poll() waits for POLLERR or POLLHUP only: POLLIN is
	 * always set after FIN and would end the wait at once. */
	if (wait_for(fd, 0, deadline) <= 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && is_reset(err))
		return 1;
	if (send(fd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == -1 && is_reset(errno))
		return 1;
	return 0;
}

/* --- HTTP responses ------------------------------------------------- */

/* Read more into c->buf, keeping a NUL after the data. Returns 1 when bytes
 * came, 0 on FIN, -1 on timeout, RST or another error. */
static int conn_fill(struct wire_conn *c, double deadline)
{
	if (c->cap - c->len < READ_CHUNK + 1) {
		size_t cap = c->cap * 2 > c->len + READ_CHUNK + 1 ? c->cap * 2
								  : c->len + READ_CHUNK + 1;
		c->buf = xrealloc(c->buf, cap);
		c->cap = cap;
	}
	for (;;) {
		if (wait_for(c->fd, POLLIN | POLLRDHUP, deadline) <= 0)
			return -1;
		ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, MSG_DONTWAIT);
		if (n > 0) {
			c->len += (size_t)n;
			c->buf[c->len] = '\0';
			return 1;
		}
		if (n == 0)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -1;
	}
}

static void conn_consume(struct wire_conn *c, size_t used)
{
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	c->buf[c->len] = '\0';
}

/* Index of the first '\n' in p[from..n), or n if none. */
static size_t find_lf(const unsigned char *p, size_t n, size_t from)
{
	const unsigned char *lf = from < n ? memchr(p + from, '\n', n - from) : NULL;

	return lf ? (size_t)(lf - p) : n;
}

/* Whether p[from..lf) is an empty line: nothing, or a lone CR. */
static int empty_line(const unsigned char *p, size_t from, size_t lf)
{
	return lf == from || (lf == from + 1 && p[from] == '\r');
}

/* Length of the head (through the empty line that ends it), 0 if the
 * empty line has not arrived yet. */
static size_t head_end(const unsigned char *p, size_t n)
{
	size_t line = 0, lf;

	while ((lf = find_lf(p, n, line)) < n) {
		if (empty_line(p, line, lf))
			return lf + 1;
		line = lf + 1;
	}
	return 0;
}

struct header {
	const char *name, *value;
	size_t name_len, value_len;
};

/* Parse the header line at *at into h and move *at to the next line.
 * Lines without a colon are skipped. Returns 0 at the end of the head. */
static int header_next(const char **at, struct header *h)
{
	for (;;) {
		const char *line = *at;
		const char *eol = line + strcspn(line, "\n");
		const char *end = eol > line && eol[-1] == '\r' ? eol - 1 : eol;
		const char *colon = memchr(line, ':', (size_t)(end - line));

		if (end == line)
			return 0;
		*at = *eol ? eol + 1 : eol;
		if (colon == NULL)
			continue;
		const char *v = colon + 1, *ve = end;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		*h = (struct header){.name = line,
				     .name_len = (size_t)(colon - line),
				     .value = v,
				     .value_len = (size_t)(ve - v)};
		return 1;
	}
}

/* The first header line of a head: the line after the status line. */
static const char *headers_start(const char *head)
{
	const char *lf = strchr(head, '\n');

	return lf ? lf + 1 : head + strlen(head);
}

static int header_is(const struct header *h, const char *name)
{
	return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

char *wire_http_header(const struct wire_http_response *r, const char *name)
{
	struct header h;

	if (r == NULL || r->head == NULL)
		return NULL;
	for (const char *at = headers_start(r->head); header_next(&at, &h);)
		if (header_is(&h, name))
			return memdup0(h.value, h.value_len);
	return NULL;
}

int wire_http_header_count(const struct wire_http_response *r, const char *name)
{
	struct header h;
	int n = 0;

	if (r == NULL || r->head == NULL)
		return 0;
	for (const char *at = headers_start(r->head); header_next(&at, &h);)
		n += header_is(&h, name);
	return n;
}

/* "HTTP/x.y NNN reason": returns NNN, or -1. */
static int parse_status(const char *head)
{
	const char *p = head + 5;

	if (strncmp(head, "HTTP/", 5) != 0)
		return -1;
	p += strcspn(p, " \r\n");
	if (*p++ != ' ')
		return -1;
	for (int i = 0; i < 3; i++)
		if (p[i] < '0' || p[i] > '9')
			return -1;
	if (p[3] != ' ' && p[3] != '\r' && p[3] != '\n')
		return -1;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/* Fill status, content_length and chunked from the head. 0 or -1. */
static int parse_head(struct wire_http_response *r)
{
	char *cl, *end, *te;

	r->status = parse_status(r->head);
	if (r->status < 0)
		return -1;
	r->content_length = -1;
	cl = wire_http_header(r, "Content-Length");
	if (cl != NULL) {
		errno = 0;
		r->content_length = strtoll(cl, &end, 10);
		int bad = *cl < '0' || *cl > '9' || *end != '\0' || errno != 0;
		free(cl);
		if (bad)
			return -1;
	}
	te = wire_http_header(r, "Transfer-Encoding");
	r->chunked = te != NULL && strcasestr(te, "chunked") != NULL;
	free(te);
	return 0;
}

static int hexval(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Parse a chunk-size line p[from..lf) into *size. 0 or -1. */
static int chunk_size(const unsigned char *p, size_t from, size_t lf, size_t *size)
{
	size_t i = from;

	*size = 0;
	for (; i < lf && hexval(p[i]) >= 0; i++) {
		if (*size > SIZE_MAX >> 4)
			return -1;
		*size = *size << 4 | (size_t)hexval(p[i]);
	}
	if (i == from)
		return -1;
	/* Extensions (";name=value") and stray blanks are allowed and ignored. */
	return i == lf || p[i] == ';' || p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ? 0 : -1;
}

/* Walk the chunked body p[0..n), copying the data to body when not NULL.
 * Returns 1 when complete (*used: the bytes of framing, trailers included;
 * *total: the data bytes), 0 when more must arrive, -1 on bad framing. */
static int chunked_walk(const unsigned char *p, size_t n, unsigned char *body, size_t *used,
			size_t *total)
{
	size_t i = 0, lf, size;

	*total = 0;
	for (;;) {
		lf = find_lf(p, n, i);
		if (lf == n)
			return n - i > MAX_CHUNK_LINE ? -1 : 0;
		if (chunk_size(p, i, lf, &size) != 0)
			return -1;
		i = lf + 1;
		if (size == 0)
			break;
		if (n - i <= size) /* the data and at least its LF */
			return 0;
		if (body != NULL)
			memcpy(body + *total, p + i, size);
		*total += size;
		i += size;
		/* The data ends in CRLF, or in a lone LF from a lenient peer. */
		if (p[i] == '\r' && i + 1 == n)
			return 0;
		if (p[i] == '\r')
			i++;
		if (p[i++] != '\n')
			return -1;
	}
	/* Trailer lines, ignored, up to the empty line. */
	while ((lf = find_lf(p, n, i)) < n) {
		if (empty_line(p, i, lf)) {
			*used = lf + 1;
			return 1;
		}
		i = lf + 1;
	}
	return 0;
}

static int has_no_body(const struct wire_http_response *r, int head_request)
{
	return head_request || (r->status >= 100 && r->status < 200) || r->status == 204
	       || r->status == 304;
}

/* Decide whether c->buf holds the whole body after a head of hlen bytes.
 * Returns 1 and sets body and *used when it does, 0 when more must
 * arrive (for a close-delimited body: until FIN), -1 on bad framing. */
static int frame_body(struct wire_conn *c, size_t hlen, int head_request,
		      struct wire_http_response *r, size_t *used)
{
	const unsigned char *p = c->buf + hlen;
	size_t n = c->len - hlen, fl, total;
	int rc;

	if (has_no_body(r, head_request)) {
		*used = hlen;
		r->body = memdup0("", 0);
		return 1;
	}
	if (r->chunked) {
		rc = chunked_walk(p, n, NULL, &fl, &total);
		if (rc != 1)
			return rc;
		r->body = xrealloc(NULL, total + 1);
		chunked_walk(p, n, r->body, &fl, &total);
		r->body[total] = '\0';
		r->body_len = total;
		*used = hlen + fl;
		return 1;
	}
	if (r->content_length >= 0) {
		if ((unsigned long long)r->content_length > SIZE_MAX - hlen - 1)
			return -1;
		if (n < (size_t)r->content_length)
			return 0;
		r->body_len = (size_t)r->content_length;
		r->body = memdup0(p, r->body_len);
		*used = hlen + r->body_len;
		return 1;
	}
	r->close_delimited = 1;
	return 0;
}

int wire_http_read(struct wire_conn *c, int head_request, int timeout_ms,
		   struct wire_http_response *out)
{
	double deadline = deadline_in(timeout_ms);
	size_t hlen, used = 0;
	int rc, got;

	if (out == NULL)
		return -1;
	*out = (struct wire_http_response){0};
	if (c == NULL || c->fd < 0)
		return -1;
	while ((hlen = head_end(c->buf, c->len)) == 0)
		if (conn_fill(c, deadline) != 1)
			goto fail;
	out->head = memdup0(c->buf, hlen);
	out->head_len = hlen;
	if (parse_head(out) != 0)
		goto fail;
	while ((rc = frame_body(c, hlen, head_request, out, &used)) == 0) {
		got = conn_fill(c, deadline);
		if (got == 0 && out->close_delimited) {
			out->body_len = c->len - hlen;
			out->body = memdup0(c->buf + hlen, out->body_len);
			used = c->len;
			rc = 1;
			break;
		}
		if (got != 1)
			goto fail;
	}
	if (rc != 1)
		goto fail;
	conn_consume(c, used);
	return 0;
fail:
	wire_http_response_free(out);
	return -1;
}

void wire_http_response_free(struct wire_http_response *r)
{
	if (r == NULL)
		return;
	free(r->head);
	free(r->body);
	*r = (struct wire_http_response){0};
}

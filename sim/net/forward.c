#include "net/forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/units.h"
#include "base/util.h"
#include "base/window.h"
#include "base/xalloc.h"
#include "net/curl_lib.h"
#include "net/curl_loop.h"

/* Easy handles kept for the next requests: a new one costs libcurl a
 * dozen allocations (its 16 KiB buffer among them), a reset one none. */
#define FORWARD_SPARE_EASY 64

struct forward_pool {
	struct loop *loop;
	const struct curl_lib *lib; /* NULL until the first request */
	struct curl_loop *curl;
	const char *why; /* libcurl could not be loaded */
	bool tried;
	CURL *spare[FORWARD_SPARE_EASY]; /* reset, not in the multi handle */
	unsigned n_spare;
};

struct forward {
	struct forward_pool *pool;
	CURL *easy; /* NULL once ended */
	struct curl_slist *headers;
	char *body; /* the request body, sent from here */
	char *url;
	uint64_t max_body;
	uint64_t start_ns;
	bool over_limit;
	struct forward_result res;
	char errbuf[CURL_ERROR_SIZE];
	char *error;	       /* res.error when built */
	struct loop_timer now; /* a request that could not start */
	const struct forward_events *ev;
	void *arg;
	int head_status; /* of the head being read (a 1xx is not the answer) */
	bool ended;	 /* done was called */
	/* streaming: the window of body bytes not yet read out */
	bool stream;
	bool paused; /* the transfer waits for room in the window */
	struct window down;
	struct loop_timer unpause;
	/* a streamed upload: the request body not yet sent */
	bool upload, upload_done, upload_paused;
	struct window up;
	struct loop_timer up_unpause;
};

/* RFC 9110 section 7.6.1, and the framing upsim redoes itself. */
static const char *const hop_by_hop[] = {
	"Connection",	     "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
	"Transfer-Encoding", "Upgrade",	   "Content-Length",   NULL,
};

bool forward_hop_by_hop(const char *name)
{
	for (size_t i = 0; hop_by_hop[i]; i++)
		if (strcasecmp(name, hop_by_hop[i]) == 0)
			return true;
	return false;
}

/* Is name listed in a Connection header value (connection options are
 * hop-by-hop too)? */
static bool named_in(const char *connection, const char *name)
{
	if (connection == NULL)
		return false;
	size_t n = strlen(name);
	for (const char *p = connection; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *start = p;
		while (*p && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		if ((size_t)(p - start) == n && strncasecmp(start, name, n) == 0)
			return true;
	}
	return false;
}

static bool dropped(const char *name, const char *connection)
{
	return forward_hop_by_hop(name) || named_in(connection, name)
	       || strcasecmp(name, "X-Upsim-Fault") == 0 || strcasecmp(name, "X-Upsim-Delay") == 0;
}

struct forward_pool *forward_pool_new(struct loop *loop)
{
	struct forward_pool *p = xcalloc(1, sizeof *p);
	p->loop = loop;
	return p;
}

void forward_pool_free(struct forward_pool *p)
{
	if (p == NULL)
		return;
	while (p->n_spare > 0)
		p->lib->easy_cleanup(p->spare[--p->n_spare]);
	curl_loop_free(p->curl);
	free(p);
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static const struct curl_lib *global_lib;

static void global_init(void)
{
	global_lib->global_init(CURL_GLOBAL_DEFAULT);
}

/* libcurl and the multi handle, the first time a request forwards. */
static bool pool_ready(struct forward_pool *p)
{
	if (!p->tried) {
		p->tried = true;
		p->lib = curl_lib(&p->why);
		if (p->lib != NULL) {
			global_lib = p->lib;
			pthread_once(&global_once, global_init);
			p->curl = curl_loop_new(p->loop, p->lib);
			if (p->curl == NULL)
				p->why = "curl_multi_init failed";
		}
	}
	return p->curl != NULL;
}

/* The first reason is the one reported; msg is taken. */
static void set_error(struct forward *f, char *msg)
{
	if (f->error != NULL) {
		free(msg);
		return;
	}
	f->error = msg;
	f->res.error = msg;
}

static char *dupn(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static void add_response_header(struct forward *f, const char *name, size_t nlen, const char *value,
				size_t vlen)
{
	struct forward_result *r = &f->res;
	r->headers = xrealloc(r->headers, (r->n_headers + 1) * sizeof *r->headers);
	r->headers[r->n_headers].name = dupn(name, nlen);
	r->headers[r->n_headers].value = dupn(value, vlen);
	r->n_headers++;
}

static void clear_response_headers(struct forward *f)
{
	scenario_headers_free(f->res.headers, f->res.n_headers);
	f->res.headers = NULL;
	f->res.n_headers = 0;
}

/* The service's Content-Length: one field of digits, else -1 (libcurl
 * has framed the body itself; this only tells a streamed answer's size). */
static int64_t content_length(const struct forward_result *r)
{
	int64_t n = -1;
	for (size_t i = 0; i < r->n_headers; i++) {
		const char *v = r->headers[i].value;
		if (strcasecmp(r->headers[i].name, "Content-Length") != 0)
			continue;
		if (n != -1 || (n = units_parse_http_length(v)) == -1)
			return -1;
	}
	return n;
}

/* The final head is in: hop-by-hop fields go (Connection is known now),
 * and a streamed answer reports it. */
static void end_of_head(struct forward *f)
{
	struct forward_result *r = &f->res;
	r->content_length = content_length(r);
	r->status = f->head_status;
	const char *connection = NULL;
	for (size_t i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, "Connection") == 0)
			connection = r->headers[i].value;
	char *keep = connection ? xstrdup(connection) : NULL;
	size_t out = 0;
	for (size_t i = 0; i < r->n_headers; i++) {
		struct header *h = &r->headers[i];
		if (dropped(h->name, keep)) {
			free(h->name);
			free(h->value);
		} else {
			r->headers[out++] = *h;
		}
	}
	r->n_headers = out;
	free(keep);
	if (f->stream && f->ev->head != NULL)
		f->ev->head(f->arg);
}

/* CURLOPT_HEADERFUNCTION: one line of the response head at a time. A
 * status line starts a new head (after a 1xx); hop-by-hop fields are
 * removed once the head is complete, when Connection is known. */
static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct forward *f = arg;
	size_t len = size * n, l = len;
	while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r'))
		l--;
	if (l >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		clear_response_headers(f);
		const char *sp = memchr(line, ' ', l);
		f->head_status = sp ? atoi(sp + 1) : 0;
		return len;
	}
	if (l == 0) {
		if (f->head_status >= 100 && f->head_status < 200)
			return len; /* an interim head: the answer comes after it */
		end_of_head(f);
		return len;
	}
	if ((line[0] == ' ' || line[0] == '\t') && f->res.n_headers > 0) {
		/* obsolete line folding: part of the previous value */
		struct header *h = &f->res.headers[f->res.n_headers - 1];
		char *joined = xasprintf("%s %.*s", h->value, (int)l, line);
		free(h->value);
		h->value = joined;
		return len;
	}
	const char *colon = memchr(line, ':', l);
	if (colon == NULL || colon == line)
		return len; /* not a field: dropped */
	const char *v = colon + 1, *end = line + l;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	add_response_header(f, line, (size_t)(colon - line), v, (size_t)(end - v));
	return len;
}

/* A streamed body's bytes join the window; a full window pauses the
 * transfer (libcurl hands the same bytes again once it resumes). */
static size_t stream_in(struct forward *f, const char *data, size_t len)
{
	if (f->down.len > 0 && f->down.len + len > FORWARD_STREAM_WINDOW) {
		f->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	window_put(&f->down, data, len);
	if (f->ev->more != NULL)
		f->ev->more(f->arg);
	return len;
}

/* CURLOPT_WRITEFUNCTION: body bytes, de-chunked by libcurl. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct forward *f = arg;
	size_t len = size * n;
	if (f->stream)
		return stream_in(f, data, len);
	if (f->res.body_len + len > f->max_body) {
		f->over_limit = true;
		return 0; /* CURLE_WRITE_ERROR: the transfer stops */
	}
	f->res.body = xrealloc(f->res.body, f->res.body_len + len + 1);
	memcpy(f->res.body + f->res.body_len, data, len);
	f->res.body_len += len;
	return len;
}

/* e, out of the multi handle, is kept reset for another request. */
static void keep_easy(struct forward_pool *p, CURL *e)
{
	if (p->n_spare == FORWARD_SPARE_EASY) {
		p->lib->easy_cleanup(e);
		return;
	}
	p->lib->easy_reset(e);
	p->spare[p->n_spare++] = e;
}

/* Out of the multi handle, then kept, reset, for another request (its
 * connection stays in the multi handle's pool either way). */
static void release_easy(struct forward_pool *p, CURL *e)
{
	curl_loop_cancel(p->curl, e);
	keep_easy(p, e);
}

static void finish(struct forward *f)
{
	f->res.time_us = (clock_mono_ns() - f->start_ns) / 1000;
	f->ended = true;
	f->ev->done(f->arg);
}

static void on_done(void *arg, CURL *easy, CURLcode result)
{
	struct forward *f = arg;
	const struct curl_lib *lib = f->pool->lib;
	long status = 0;
	lib->easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	f->easy = NULL;
	if (f->over_limit) {
		set_error(f, xasprintf("the response body is over forwarding.max_body "
				       "(%llu bytes), which a faulted or paced answer is held to",
				       (unsigned long long)f->max_body));
	} else if (result != CURLE_OK) {
		set_error(f, xstrdup(f->errbuf[0] ? f->errbuf : lib->easy_strerror(result)));
	} else {
		f->res.status = (int)status;
	}
	keep_easy(f->pool, easy); /* after the error text is read */
	finish(f);
}

static void on_now(struct loop_timer *t)
{
	struct forward *f = container_of(t, struct forward, now);
	finish(f);
}

/* The window has room again: let libcurl go on (it may call on_body at
 * once, from here rather than from inside the reader). */
static void on_unpause(struct loop_timer *t)
{
	struct forward *f = container_of(t, struct forward, unpause);
	if (f->paused && f->easy != NULL) {
		f->paused = false;
		f->pool->lib->easy_pause(f->easy, CURLPAUSE_CONT);
	}
}

size_t forward_read(struct forward *f, char *buf, size_t max)
{
	size_t n = window_take(&f->down, buf, max);
	if (n > 0 && f->paused && f->down.len <= FORWARD_STREAM_WINDOW / 2)
		loop_timer_at(f->pool->loop, &f->unpause, clock_mono_ns());
	return n;
}

size_t forward_pending(const struct forward *f)
{
	return f->down.len;
}

/* An upload waiting for bytes has some (or its end): let libcurl go on. */
static void on_upload_unpause(struct loop_timer *t)
{
	struct forward *f = container_of(t, struct forward, up_unpause);
	if (f->upload_paused && f->easy != NULL) {
		f->upload_paused = false;
		f->pool->lib->easy_pause(f->easy, CURLPAUSE_CONT);
	}
}

static void wake_upload(struct forward *f)
{
	if (f->upload_paused)
		loop_timer_at(f->pool->loop, &f->up_unpause, clock_mono_ns());
}

size_t forward_upload(struct forward *f, const char *data, size_t n)
{
	if (f->ended)
		return n;
	size_t room = FORWARD_STREAM_WINDOW - f->up.len;
	size_t take = n < room ? n : room;
	window_put(&f->up, data, take);
	if (take > 0)
		wake_upload(f);
	return take;
}

void forward_upload_end(struct forward *f)
{
	f->upload_done = true;
	wake_upload(f);
}

/* CURLOPT_READFUNCTION: the streamed request body, as it has come. An
 * empty window pauses the upload until the client sends more. */
static size_t on_upload(char *buf, size_t size, size_t n, void *arg)
{
	struct forward *f = arg;
	size_t take = window_take(&f->up, buf, size * n);
	if (take == 0) {
		if (f->upload_done)
			return 0;
		f->upload_paused = true;
		return CURL_READFUNC_PAUSE;
	}
	if (f->ev->room != NULL)
		f->ev->room(f->arg);
	return take;
}

bool forward_ended(const struct forward *f)
{
	return f->ended;
}

/* Fail f from the loop, not from inside forward_start. */
static struct forward *fail_soon(struct forward *f, char *msg)
{
	set_error(f, msg);
	loop_timer_at(f->pool->loop, &f->now, clock_mono_ns());
	return f;
}

/* Append "Name: value" to the list. */
static void add_header(struct forward *f, const char *name, const char *value)
{
	char *line = xasprintf("%s: %s", name, value);
	f->headers = f->pool->lib->slist_append(f->headers, line);
	free(line);
}

struct collect {
	struct forward *f;
	const char *connection;
	bool has[4]; /* Content-Type, Accept, Expect, Host seen */
	char *via, *xff;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *name,
				      const char *value)
{
	struct collect *c = cls;
	(void)kind;
	if (value == NULL)
		value = "";
	if (dropped(name, c->connection))
		return MHD_YES;
	static const char *const seen[] = {"Content-Type", "Accept", "Expect", "Host"};
	for (int i = 0; i < 4; i++)
		if (strcasecmp(name, seen[i]) == 0)
			c->has[i] = true;
	if (strcasecmp(name, "Via") == 0 && c->via == NULL) {
		c->via = xstrdup(value);
		return MHD_YES;
	}
	if (strcasecmp(name, "X-Forwarded-For") == 0 && c->xff == NULL) {
		c->xff = xstrdup(value);
		return MHD_YES;
	}
	add_header(c->f, name, value);
	return MHD_YES;
}

static void client_address(struct MHD_Connection *mhd, char *buf, size_t n)
{
	snprintf(buf, n, "unknown");
	const union MHD_ConnectionInfo
		*info = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (info == NULL || info->client_addr == NULL)
		return;
	const struct sockaddr *sa = info->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			  (socklen_t)n);
}

/* The request's header fields as they go on: end-to-end ones in order,
 * Via and X-Forwarded-For extended, and libcurl's own additions
 * (Accept, Expect, a form Content-Type) switched off when the client did
 * not send them. */
static void build_headers(struct forward *f, const struct forward_request *req)
{
	struct collect c = {
		.f = f,
		.connection = MHD_lookup_connection_value(req->mhd, MHD_HEADER_KIND, "Connection"),
	};
	MHD_get_connection_values(req->mhd, MHD_HEADER_KIND, collect_header, &c);
	if (req->opts->via) {
		char *v = c.via ? xasprintf("%s, 1.1 upsim", c.via) : xstrdup("1.1 upsim");
		add_header(f, "Via", v);
		free(v);
	} else if (c.via) {
		add_header(f, "Via", c.via);
	}
	if (req->opts->x_forwarded_for) {
		char addr[INET6_ADDRSTRLEN + 1];
		client_address(req->mhd, addr, sizeof addr);
		char *v = c.xff ? xasprintf("%s, %s", c.xff, addr) : xstrdup(addr);
		add_header(f, "X-Forwarded-For", v);
		free(v);
	} else if (c.xff) {
		add_header(f, "X-Forwarded-For", c.xff);
	}
	free(c.via);
	free(c.xff);
	static const char *const off[] = {"Content-Type:", "Accept:", "Expect:", NULL};
	for (int i = 0; off[i]; i++)
		if (!c.has[i])
			f->headers = f->pool->lib->slist_append(f->headers, off[i]);
}

static void set_method(struct forward *f, const struct forward_request *req)
{
	const struct curl_lib *lib = f->pool->lib;
	CURL *e = f->easy;
	if (req->upload) {
		lib->easy_setopt(e, CURLOPT_POST, 1L);
		lib->easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
		lib->easy_setopt(e, CURLOPT_READDATA, f);
		lib->easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->upload_len);
		if (strcmp(req->method, "POST") != 0)
			lib->easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (req->has_body || req->body_len > 0) {
		lib->easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		lib->easy_setopt(e, CURLOPT_POSTFIELDS, f->body ? f->body : "");
		lib->easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (strcmp(req->method, "HEAD") == 0) {
		lib->easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "GET") != 0) {
		lib->easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
}

struct forward *forward_start(struct forward_pool *p, struct forward_request *req,
			      const struct forward_events *ev, void *arg)
{
	struct forward *f = xcalloc(1, sizeof *f);
	f->pool = p;
	f->ev = ev;
	f->arg = arg;
	f->stream = req->stream;
	f->res.content_length = -1;
	f->unpause.on_fire = on_unpause;
	f->up_unpause.on_fire = on_upload_unpause;
	f->upload = req->upload;
	f->body = req->body;
	req->body = NULL;
	f->max_body = req->opts->max_body;
	f->now.on_fire = on_now;
	f->start_ns = clock_mono_ns();
	if (!pool_ready(p))
		return fail_soon(f, xasprintf("libcurl is not available: %s", p->why));
	if (req->target[0] != '/')
		return fail_soon(f, xasprintf("request-target \"%s\" is not a path", req->target));
	const struct curl_lib *lib = p->lib;
	f->easy = p->n_spare > 0 ? p->spare[--p->n_spare] : lib->easy_init();
	if (f->easy == NULL)
		return fail_soon(f, xstrdup("curl_easy_init failed"));
	f->url = xasprintf("%s%s", req->base, req->target);
	CURL *e = f->easy;
	lib->easy_setopt(e, CURLOPT_URL, f->url);
	lib->easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	lib->easy_setopt(e, CURLOPT_PROXY, ""); /* never an http_proxy of the environment */
	lib->easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	lib->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	lib->easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
	if (req->opts->ca_file != NULL) /* else libcurl's default bundle */
		lib->easy_setopt(e, CURLOPT_CAINFO, req->opts->ca_file);
	lib->easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(req->opts->connect_timeout_us / 1000));
	lib->easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	lib->easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)(req->opts->read_timeout_us / 1000000));
	lib->easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(req->total_timeout_ns / 1000000));
	lib->easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	lib->easy_setopt(e, CURLOPT_HEADERDATA, f);
	lib->easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	lib->easy_setopt(e, CURLOPT_WRITEDATA, f);
	build_headers(f, req);
	lib->easy_setopt(e, CURLOPT_HTTPHEADER, f->headers);
	set_method(f, req);
	if (curl_loop_add(p->curl, e, on_done, f) != 0) {
		release_easy(p, e);
		f->easy = NULL;
		return fail_soon(f, xstrdup("libcurl refused the transfer"));
	}
	return f;
}

const struct forward_result *forward_result(const struct forward *f)
{
	return &f->res;
}

void forward_free(struct forward *f)
{
	if (f == NULL)
		return;
	loop_timer_cancel(f->pool->loop, &f->now);
	loop_timer_cancel(f->pool->loop, &f->unpause);
	loop_timer_cancel(f->pool->loop, &f->up_unpause);
	if (f->easy != NULL)
		release_easy(f->pool, f->easy);
	if (f->headers != NULL)
		f->pool->lib->slist_free_all(f->headers);
	clear_response_headers(f);
	free(f->res.body);
	window_free(&f->down);
	window_free(&f->up);
	free(f->body);
	free(f->url);
	free(f->error);
	free(f);
}

/* One address: a non-blocking connect, waited for with poll. */
static int try_connect(const struct addrinfo *ai, int timeout_ms)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	if (fd == -1)
		return errno;
	int e = 0;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		e = errno;
		if (e == EINPROGRESS) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			socklen_t len = sizeof e;
			if (poll(&pfd, 1, timeout_ms) != 1)
				e = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
				e = errno;
		}
	}
	close(fd);
	return e;
}

int forward_reachable(const char *url, int timeout_ms, char *errbuf, size_t errlen)
{
	bool tls = strncmp(url, "https://", 8) == 0;
	const char *host = url + (tls ? 8 : 7);
	char name[256], port[8];
	const char *end;
	if (*host == '[') {
		end = strchr(host, ']');
		host++;
	} else {
		end = host + strcspn(host, ":/");
	}
	if (end == NULL || (size_t)(end - host) >= sizeof name) {
		snprintf(errbuf, errlen, "cannot read the host of %s", url);
		return -1;
	}
	memcpy(name, host, (size_t)(end - host));
	name[end - host] = '\0';
	const char *colon = strchr(end, ':');
	snprintf(port, sizeof port, "%s", colon ? colon + 1 : tls ? "443" : "80");
	port[strcspn(port, "/")] = '\0';
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	int gai = getaddrinfo(name, port, &hints, &res);
	if (gai != 0) {
		snprintf(errbuf, errlen, "%s: %s", name, gai_strerror(gai));
		return -1;
	}
	int e = ECONNREFUSED;
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
		if ((e = try_connect(ai, timeout_ms)) == 0)
			break;
	freeaddrinfo(res);
	if (e != 0) {
		snprintf(errbuf, errlen, "%s", strerror(e));
		return -1;
	}
	return 0;
}

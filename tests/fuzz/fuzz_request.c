/* fuzz_request: any bytes sent to upsim's HTTP server as one client.
 *
 * In process, as `upsim run` wires it (sim/run.c) but without the gate:
 * a loop, and for each input a fresh server (so sequences and random
 * streams start over and a finding replays exactly) that is handed one end
 * of a loopback TCP connection. TCP rather than a socketpair because the
 * faults are TCP's: a reset is connect(AF_UNSPEC) and a flushed reset
 * polls SIOCOUTQ, which mean nothing on a Unix socket.
 *
 * The client writes the input, reads whatever comes back, and half-closes
 * once the server has gone quiet (a loop round dispatched nothing and no
 * timer is armed), so delays, pacing and pipelined requests play out
 * before the end of input is seen. An input ends when the server has
 * closed the connection, or at a deadline. Then the server is freed, and
 * no timer and no descriptor may outlive it: the set of open descriptors
 * must be the one at start up. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"
#include "engine/journal.h"
#include "net/exchange.h"
#include "net/loop.h"
#include "net/server.h"
#include "scenario/model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* No input may take longer; the slowest rule (read.rate) needs 100 ms a
 * quantum. Reaching it is reported, not fatal: see docs/fuzzing.md. */
#define DEADLINE_NS (1000ULL * 1000000)
#define HANG_CAP_NS (10ULL * 1000000)
/* Descriptors watched for leaks: far more than one input opens. */
#define FD_SET_MAX 1024

/* One rule per kind of work the server does: MHD responses, raw writes,
 * suspensions on a timer, every ending. Delays are short so that an
 * input costs milliseconds. */
static const char scenario_text[] =
	"{\"upsim\": 1, \"name\": \"fuzz-request\", \"seed\": 7,\n"
	" \"defaults\": {\"status\": 200, \"headers\": {\"Content-Type\": \"text/plain\"}, "
	"\"body\": \"default\\n\"},\n"
	" \"connection\": {\"keepalive\": {\"max_requests\": 8}},\n"
	" \"rules\": [\n"
	"  {\"match\": {\"method\": [\"GET\", \"HEAD\"], \"path\": \"/ok\"},\n"
	"   \"respond\": {\"body\": \"hello\\n\", \"headers\": [[\"X-A\", \"1\"], [\"x-a\", "
	"\"2\"]]}},\n"
	"  {\"match\": {\"path\": \"/missing\"}, \"respond\": {\"status\": 404, \"body\": "
	"\"no\\n\"}},\n"
	"  {\"match\": {\"path\": \"/zero\"}, \"respond\": {\"delay\": 0}},\n"
	"  {\"match\": {\"path\": \"/delay/*\"}, \"respond\": {\"delay\": \"1ms\", \"body\": "
	"\"late\\n\"}},\n"
	"  {\"match\": {\"path\": \"/uniform\"}, \"respond\": {\"delay\": {\"uniform\": [\"0ms\", "
	"\"1ms\"]}}},\n"
	"  {\"match\": {\"path\": \"/chunked\"}, \"respond\": {\"chunked\": true, \"body_size\": "
	"9000}},\n"
	"  {\"match\": {\"path\": \"/gen\"}, \"respond\": {\"body_size\": \"8KiB\"}},\n"
	"  {\"match\": {\"path\": \"/status/204\"}, \"respond\": {\"status\": 204}},\n"
	"  {\"match\": {\"path\": \"/status/101\"}, \"respond\": {\"status\": 101}},\n"
	"  {\"match\": {\"path\": \"/status/999\"}, \"respond\": {\"status\": 999}},\n"
	"  {\"match\": {\"path\": \"/truncate/status\"}, \"respond\": {\"fault\": \"truncate\", "
	"\"at\": \"status\", \"offset\": 4}},\n"
	"  {\"match\": {\"path\": \"/truncate/headers\"},\n"
	"   \"respond\": {\"fault\": \"truncate\", \"at\": \"headers\", \"offset\": 10, \"then\": "
	"\"reset\"}},\n"
	"  {\"match\": {\"path\": \"/truncate/body\"},\n"
	"   \"respond\": {\"fault\": \"truncate\", \"at\": \"body\", \"offset\": 2, \"then\": "
	"\"hang\"}},\n"
	"  {\"match\": {\"path\": \"/truncate/stall\"}, \"respond\": {\"fault\": \"truncate\", "
	"\"at\": \"headers\",\n"
	"   \"offset\": 3, \"stall\": {\"at\": \"body\", \"offset\": 1, \"for\": \"1ms\"}}},\n"
	"  {\"match\": {\"path\": \"/garbage\"}, \"respond\": {\"fault\": \"garbage\", \"size\": "
	"64, \"then\": \"reset\"}},\n"
	"  {\"match\": {\"path\": \"/malformed/status_line\"}, \"respond\": {\"fault\": "
	"\"malformed\", \"kind\": \"status_line\"}},\n"
	"  {\"match\": {\"path\": \"/malformed/version\"}, \"respond\": {\"fault\": \"malformed\", "
	"\"kind\": \"version\"}},\n"
	"  {\"match\": {\"path\": \"/malformed/status_code\"}, \"respond\": {\"fault\": "
	"\"malformed\", \"kind\": \"status_code\"}},\n"
	"  {\"match\": {\"path\": \"/malformed/no_colon\"}, \"respond\": {\"fault\": "
	"\"malformed\", \"kind\": \"no_colon\"}},\n"
	"  {\"match\": {\"path\": \"/malformed/space\"}, \"respond\": {\"fault\": \"malformed\", "
	"\"kind\": \"space_before_colon\"}},\n"
	"  {\"match\": {\"path\": \"/malformed/bare_lf\"}, \"respond\": {\"fault\": \"malformed\", "
	"\"kind\": \"bare_lf\"}},\n"
	"  {\"match\": {\"path\": \"/malformed/nul\"}, \"respond\": {\"fault\": \"malformed\", "
	"\"kind\": \"nul\"}},\n"
	"  {\"match\": {\"path\": \"/malformed/folded\"}, \"respond\": {\"fault\": \"malformed\", "
	"\"kind\": \"folded\"}},\n"
	"  {\"match\": {\"path\": \"/framing/length\"}, \"respond\": {\"fault\": "
	"\"length_mismatch\", \"declared\": 10, \"sent\": 3}},\n"
	"  {\"match\": {\"path\": \"/framing/size\"}, \"respond\": {\"fault\": \"bad_chunked\", "
	"\"kind\": \"invalid_size\"}},\n"
	"  {\"match\": {\"path\": \"/framing/last\"}, \"respond\": {\"fault\": \"bad_chunked\", "
	"\"kind\": \"missing_last_chunk\"}},\n"
	"  {\"match\": {\"path\": \"/framing/dup\"}, \"respond\": {\"fault\": "
	"\"duplicate_length\"}},\n"
	"  {\"match\": {\"path\": \"/framing/clte\"}, \"respond\": {\"fault\": \"cl_and_te\"}},\n"
	"  {\"match\": {\"path\": \"/raw\"}, \"respond\": {\"fault\": \"raw\",\n"
	"   \"bytes\": \"HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\nhel\"}},\n"
	"  {\"match\": {\"path\": \"/banner\"}, \"respond\": {\"fault\": \"banner\", \"text\": "
	"\"SSH-2.0-x\\r\\n\"}},\n"
	"  {\"match\": {\"path\": \"/oversized\"}, \"respond\": {\"fault\": \"oversized_headers\", "
	"\"size\": \"4KiB\"}},\n"
	"  {\"match\": {\"method\": \"POST\", \"path\": \"/early\"},\n"
	"   \"respond\": {\"fault\": \"early_response\", \"status\": 413}},\n"
	"  {\"match\": {\"path\": \"/no-continue\"},\n"
	"   \"respond\": {\"fault\": \"no_continue\", \"for\": \"1ms\", \"then\": \"reset\"}},\n"
	"  {\"match\": {\"path\": \"/hang\"}, \"respond\": {\"fault\": \"hang\", \"for\": \"1ms\", "
	"\"then\": \"close\"}},\n"
	"  {\"match\": {\"path\": \"/hang-cap\"}, \"respond\": {\"fault\": \"hang\"}},\n"
	"  {\"match\": {\"path\": \"/close\"}, \"respond\": {\"fault\": \"close\"}},\n"
	"  {\"match\": {\"path\": \"/reset\"}, \"respond\": {\"fault\": \"reset\"}},\n"
	"  {\"match\": {\"path\": \"/drip\"}, \"respond\": {\"drip\": {\"bytes\": 40, \"every\": "
	"\"1ms\"}}},\n"
	"  {\"match\": {\"path\": \"/rate\"}, \"respond\": {\"body_size\": 300, \"rate\": 100000, "
	"\"header_delay\": \"1ms\"}},\n"
	"  {\"match\": {\"path\": \"/stall\"}, \"respond\": {\"after\": \"reset\",\n"
	"   \"stall\": {\"at\": \"headers\", \"offset\": 3, \"for\": \"1ms\"}}},\n"
	"  {\"match\": {\"path\": \"/after/close\"}, \"respond\": {\"after\": \"close\"}},\n"
	"  {\"match\": {\"path\": \"/after/reset\"}, \"respond\": {\"after\": \"reset\"}},\n"
	"  {\"match\": {\"path\": \"/after/idle\"}, \"respond\": {\"after\": {\"close_after\": "
	"\"1ms\"}}},\n"
	"  {\"match\": {\"path\": \"/after/next-close\"}, \"respond\": {\"after\": "
	"{\"on_next_request\": \"close\"}}},\n"
	"  {\"match\": {\"path\": \"/after/next-reset\"}, \"respond\": {\"after\": "
	"{\"on_next_request\": \"reset\"}}},\n"
	"  {\"match\": {\"method\": [\"POST\", \"PUT\"], \"path\": \"/upload\", \"headers\": "
	"{\"X-Mode\": \"slow\"}},\n"
	"   \"respond\": {\"read\": {\"rate\": 10000}}},\n"
	"  {\"match\": {\"path\": \"/q\", \"query\": {\"a\": \"1\"}}, \"respond\": {\"body\": "
	"\"query\\n\"}},\n"
	"  {\"match\": {\"path\": \"/choose\"}, \"choose\": [\n"
	"    {\"weight\": 3}, {\"weight\": 1, \"fault\": \"reset\"},\n"
	"    {\"weight\": 1, \"delay\": {\"lognormal\": {\"median\": \"1ms\", \"sigma\": 0.5}}},\n"
	"    {\"weight\": 0, \"status\": 500}]},\n"
	"  {\"match\": {\"path\": \"/sequence\"}, \"cycle\": true, \"sequence\": [\n"
	"    {\"status\": 201}, {\"status\": 503, \"headers\": {\"Retry-After\": \"1\"}}, "
	"{\"delay\": \"1ms\"}]},\n"
	"  {\"match\": {\"path\": \"*.json\"},\n"
	"   \"respond\": {\"headers\": {\"Content-Type\": \"application/json\"}, \"body\": "
	"\"{}\"}}\n"
	" ]}\n";

static struct {
	struct loop *loop;
	struct scenario *sc;
	int listen_fd;
	struct sockaddr_in addr;
	unsigned char fds[FD_SET_MAX / 8]; /* open at start up */
	bool verbose;			   /* $UPSIM_FUZZ_VERBOSE: a line per input */
	unsigned long inputs, deadlines;
	struct journal *journal; /* every exchange is recorded; a few are kept */
} fz;

struct client {
	struct loop_io io;
	const uint8_t *data;
	size_t len, off;
	bool half_closed; /* our write side is shut */
	bool eof;	  /* the server closed or reset its end */
	bool watched;	  /* io is in the loop */
	size_t got;	  /* response bytes read */
	char head[64];	  /* the first of them, for UPSIM_FUZZ_VERBOSE */
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_request: %s: %s\n", what, strerror(errno));
	abort();
}

/* The descriptors open now, as a bitmap of the first FD_SET_MAX; -1 when
 * /proc/self/fd cannot be read. Its own descriptor is left out. */
static int open_fds(unsigned char set[FD_SET_MAX / 8])
{
	memset(set, 0, FD_SET_MAX / 8);
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd == dirfd(d) || fd >= FD_SET_MAX)
			continue;
		set[fd / 8] |= (unsigned char)(1u << (fd % 8));
	}
	closedir(d);
	return 0;
}

/* Abort naming every descriptor open now that was not at start up. */
static void check_fds(void)
{
	unsigned char now[FD_SET_MAX / 8];
	if (open_fds(now) != 0 || memcmp(now, fz.fds, sizeof now) == 0)
		return;
	for (int fd = 0; fd < FD_SET_MAX; fd++) {
		bool was = fz.fds[fd / 8] & (1u << (fd % 8));
		bool is = now[fd / 8] & (1u << (fd % 8));
		if (was == is)
			continue;
		char link[64], target[256] = "";
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof target - 1);
		fprintf(stderr, "fuzz_request: fd %d %s after input %lu%s%.*s\n", fd,
			is ? "leaked" : "closed", fz.inputs, n > 0 ? ": " : "", n > 0 ? (int)n : 0,
			target);
	}
	abort();
}

static void on_client(struct loop_io *io, uint32_t events)
{
	struct client *c = container_of(io, struct client, io);
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		char buf[16384];
		for (;;) {
			ssize_t n = recv(io->fd, buf, sizeof buf, 0);
			if (n > 0) {
				if (c->got < sizeof c->head - 1) {
					size_t k = sizeof c->head - 1 - c->got;
					memcpy(c->head + c->got, buf,
					       (size_t)n < k ? (size_t)n : k);
				}
				c->got += (size_t)n;
				continue;
			}
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				break;
			c->eof = true; /* 0: FIN; -1: reset */
			break;
		}
	}
	if ((events & EPOLLOUT) && !c->eof && c->off < c->len) {
		ssize_t n = send(io->fd, c->data + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (n > 0)
			c->off += (size_t)n;
		else if (n == -1 && errno != EAGAIN && errno != EINTR)
			c->off = c->len; /* the server is gone: nothing more to send */
	}
	if (c->eof) {
		/* A closed socket reports EPOLLHUP for ever: stop watching. */
		loop_io_del(fz.loop, io);
		c->watched = false;
		return;
	}
	uint32_t want = EPOLLIN | EPOLLRDHUP | (c->off < c->len ? EPOLLOUT : 0);
	if (loop_io_mod(fz.loop, io, want) == -1)
		die("epoll_ctl");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	fz.verbose = getenv("UPSIM_FUZZ_VERBOSE") != NULL;
	/* Warnings are anomalies worth seeing (a suspended connection at
	 * shutdown, MHD refusing a connection); info would be noise. */
	log_set_level(fz.verbose ? LOG_DEBUG : LOG_WARN);
	struct upsim_err err = {0};
	fz.sc = scenario_load_buffer("fuzz_request", scenario_text, sizeof scenario_text - 1, &err);
	if (fz.sc == NULL) {
		for (size_t i = 0; i < err.count; i++)
			fprintf(stderr, "%s\n", err.msgs[i]);
		abort();
	}
	fz.loop = loop_new();
	if (fz.loop == NULL)
		die("loop_new");
	fz.journal = journal_new(16);
	fz.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fz.addr.sin_family = AF_INET;
	fz.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof fz.addr;
	if (fz.listen_fd == -1
	    || bind(fz.listen_fd, (struct sockaddr *)&fz.addr, sizeof fz.addr) == -1
	    || listen(fz.listen_fd, 16) == -1
	    || getsockname(fz.listen_fd, (struct sockaddr *)&fz.addr, &len) == -1)
		die("loopback listener");
	if (open_fds(fz.fds) != 0)
		die("/proc/self/fd");
	return 0;
}

/* A connected pair: our client end and the server's, both nonblocking.
 * libFuzzer's timeout alarm interrupts blocking calls: the connect does
 * not block (the accept below completes it), the accept is retried. */
static void connect_pair(int *client, int *server, struct sockaddr_in *peer, socklen_t *peer_len)
{
	*client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*client == -1
	    || (connect(*client, (struct sockaddr *)&fz.addr, sizeof fz.addr) == -1
		&& errno != EINPROGRESS && errno != EINTR))
		die("connect");
	do {
		*peer_len = sizeof *peer;
		*server = accept4(fz.listen_fd, (struct sockaddr *)peer, peer_len,
				  SOCK_NONBLOCK | SOCK_CLOEXEC);
	} while (*server == -1 && errno == EINTR);
	if (*server == -1)
		die("accept");
}

/* Run the loop until the server has closed our connection or the
 * deadline passes; half-close once the server is quiet. */
static void drive(struct server *s, struct client *c)
{
	uint64_t deadline = clock_mono_ns() + DEADLINE_NS;
	int last = 1;
	for (;;) {
		if (c->eof && server_counters(s)->open == 0)
			return;
		uint64_t now = clock_mono_ns();
		if (now >= deadline) {
			if (fz.deadlines++ < 10)
				fprintf(stderr,
					"fuzz_request: input %lu reached the deadline "
					"(sent %zu of %zu, eof %d, open %llu)\n",
					fz.inputs, c->off, c->len, c->eof,
					(unsigned long long)server_counters(s)->open);
			return;
		}
		if (last == 0 && !c->half_closed && c->off == c->len
		    && loop_timer_count(fz.loop) == 0) {
			shutdown(c->io.fd, SHUT_WR);
			c->half_closed = true;
		}
		last = loop_run_once(fz.loop, last > 0 ? 0 : deadline - now);
		if (last == -1)
			die("loop");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz.inputs++;
	char why[256];
	struct server_config cfg = {.max_connections = 16,
				    .hang_cap_ns = HANG_CAP_NS,
				    .journal = fz.journal};
	struct server *s = server_new(fz.loop, fz.sc, &cfg, why, sizeof why);
	if (s == NULL) {
		fprintf(stderr, "fuzz_request: %s\n", why);
		abort();
	}
	struct client c = {.data = data, .len = size};
	int sfd;
	struct sockaddr_in peer;
	socklen_t peer_len;
	connect_pair(&c.io.fd, &sfd, &peer, &peer_len);
	c.io.on_event = on_client;
	server_add_connection(s, sfd, (struct sockaddr *)&peer, peer_len);
	if (loop_io_add(fz.loop, &c.io, EPOLLIN | EPOLLRDHUP | (size ? EPOLLOUT : 0)) == -1)
		die("epoll_ctl");
	c.watched = true;
	uint64_t start = clock_mono_ns();
	drive(s, &c);
	if (fz.verbose) {
		for (char *p = c.head; *p; p++)
			if (*p < ' ' || *p > '~')
				*p = '.';
		fprintf(stderr,
			"fuzz_request: sent %zu of %zu, got %zu \"%s\", %s, "
			"%llu requests in all, %.1f ms\n",
			c.off, c.len, c.got, c.head, c.eof ? "closed" : "still open",
			(unsigned long long)journal_tally(fz.journal).requests,
			(double)(clock_mono_ns() - start) / 1e6);
	}

	/* A reset, not a FIN: no TIME_WAIT left on our side per input. */
	if (c.watched)
		loop_io_del(fz.loop, &c.io);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(c.io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(c.io.fd);
	server_free(s);
	if (loop_timer_count(fz.loop) != 0) {
		fprintf(stderr, "fuzz_request: %zu timer(s) armed after server_free\n",
			loop_timer_count(fz.loop));
		abort();
	}
	check_fds();
	return 0;
}

/* hold: open many TCP connections, send one request on each and keep them
 * open, to measure what a server pays for the connections it holds (the
 * held-connections row of `make bench`).
 *
 *   hold [-c N] [-p PATH] [-t SECONDS] [-o SECONDS] [-i INFLIGHT] ADDR:PORT
 *   hold --free-port
 *
 * Connects to ADDR:PORT (IPv4) N times with non-blocking sockets on one
 * epoll set, at most INFLIGHT connects pending at once, and writes
 * "GET PATH HTTP/1.1" on each as soon as it is up. When every connection
 * has been tried (or -o SECONDS of opening have passed) it prints
 *   held H N
 * on stdout, H being the connections open with their request written.
 * It then holds them for -t SECONDS (or until SIGTERM/SIGINT) and prints
 *   hold: n=N held=H connect_failed=F answered=A closed=C reset=R open_ms=MS
 * where answered/closed/reset count held connections the server answered,
 * closed (FIN) or reset before the end. Exit 0 when all N were held to the
 * end, 1 otherwise, 2 on a usage or setup error.
 *
 * One loopback address gives about 28k ports towards one server port (the
 * ephemeral range), so with a 127.x.y.z server the connections are spread
 * over source addresses 127.0.0.1, 127.0.0.2, ... 5000 each (all of 127/8
 * is loopback on Linux), the port picked at connect time
 * (IP_BIND_ADDRESS_NO_PORT) so only the 4-tuple has to be unique. Few per
 * address also keeps connect fast: the kernel's search for a free port
 * gets longer as the range fills (19,000 connections opened in 5.8 s with
 * 20,000 per address, 2.1 s with 5,000).
 *
 * --free-port prints a port the kernel picks on 127.0.0.1 and exits: for
 * servers that cannot listen on port 0 and report it (nginx). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define PER_SOURCE 5000
#define MAX_CONNS 1000000
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum state {
	ST_FREE = 0,
	ST_CONNECTING,
	ST_HELD,
	ST_DONE,
};

struct conn {
	int fd;
	enum state state;
};

struct opts {
	long n;
	const char *path;
	double hold_s;
	double open_s;
	long inflight;
	struct sockaddr_in dst;
};

struct tally {
	long held, connect_failed, answered, closed, reset;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fputs("Usage: hold [-c N] [-p PATH] [-t SECONDS] [-o SECONDS] [-i INFLIGHT] ADDR:PORT\n"
	      "       hold --free-port\n"
	      "  -c N         connections to open and hold (default 1000)\n"
	      "  -p PATH      request path (default /)\n"
	      "  -t SECONDS   how long to hold them once open (default 5)\n"
	      "  -o SECONDS   longest time to open them all (default 30)\n"
	      "  -i INFLIGHT  connects pending at once (default 512)\n",
	      stderr);
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&a, sizeof a) == -1
	    || getsockname(fd, (struct sockaddr *)&a, &len) == -1) {
		perror("hold: free port");
		return 2;
	}
	printf("%u\n", ntohs(a.sin_port));
	close(fd);
	return 0;
}

static int parse_addr(const char *s, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return -1;
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -1;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.n = 1000, .path = "/", .hold_s = 5, .open_s = 30, .inflight = 512};
	int i = 1;
	for (; i < argc - 1; i += 2) {
		const char *v = argv[i + 1];
		char *end;
		if (strcmp(argv[i], "-c") == 0)
			o->n = strtol(v, &end, 10);
		else if (strcmp(argv[i], "-i") == 0)
			o->inflight = strtol(v, &end, 10);
		else if (strcmp(argv[i], "-t") == 0)
			o->hold_s = strtod(v, &end);
		else if (strcmp(argv[i], "-o") == 0)
			o->open_s = strtod(v, &end);
		else if (strcmp(argv[i], "-p") == 0)
			end = (char *)v + strlen(v), o->path = v;
		else
			return -1;
		if (*end != '\0' || end == v)
			return -1;
	}
	if (i != argc - 1 || o->n < 1 || o->n > MAX_CONNS || o->inflight < 1 || o->hold_s < 0
	    || o->open_s <= 0 || o->path[0] != '/')
		return -1;
	return parse_addr(argv[i], &o->dst);
}

/* Each connection costs one descriptor here (and one in the server). */
static int raise_fd_limit(long n)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)n + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max < need)
		rl.rlim_max = need; /* only root may; checked below */
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		fprintf(stderr, "hold: cannot raise the descriptor limit to %llu: %s\n",
			(unsigned long long)need, strerror(errno));
		return -1;
	}
	return 0;
}

/* Start connection i; 0 when it is on its way, -1 when it failed at once. */
static int open_one(int ep, const struct opts *o, struct conn *c, long i)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	uint32_t dst = ntohl(o->dst.sin_addr.s_addr);
	if ((dst >> 24) == 127) {
		int one = 1;
		struct sockaddr_in src = {.sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(0x7f000001u
								   + (uint32_t)(i / PER_SOURCE))};
		if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) == -1
		    || bind(fd, (struct sockaddr *)&src, sizeof src) == -1)
			goto fail;
	}
	if (connect(fd, (const struct sockaddr *)&o->dst, sizeof o->dst) == -1
	    && errno != EINPROGRESS)
		goto fail;
	struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)i};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		goto fail;
	c->fd = fd;
	c->state = ST_CONNECTING;
	return 0;
fail:
	close(fd);
	return -1;
}

/* The connect finished: send the request and wait for the server to speak.
 * Returns 0 when the connection is now held. */
static int on_connected(int ep, struct conn *c, uint64_t i, const char *req, size_t reqlen)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0)
		return -1;
	/* A request this small always fits an empty send buffer. */
	if (write(c->fd, req, reqlen) != (ssize_t)reqlen)
		return -1;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = i};
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A held connection became readable: the server answered, closed or reset. */
static void on_lost(struct conn *c, struct tally *t)
{
	char buf[512];
	ssize_t r = read(c->fd, buf, sizeof buf);
	if (r > 0)
		t->answered++;
	else if (r == 0)
		t->closed++;
	else
		t->reset++;
	t->held--;
}

static void finish(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->state = ST_DONE;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--free-port") == 0)
		return free_port();
	struct opts o;
	if (parse_opts(argc, argv, &o) == -1) {
		usage();
		return 2;
	}
	if (raise_fd_limit(o.n) == -1)
		return 2;
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char req[512];
	int reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", o.path);
	if (reqlen < 0 || (size_t)reqlen >= sizeof req) {
		fputs("hold: path too long\n", stderr);
		return 2;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct conn *conns = calloc((size_t)o.n, sizeof *conns);
	if (ep == -1 || conns == NULL) {
		perror("hold");
		return 2;
	}

	struct tally t = {0};
	long next = 0, pending = 0;
	double start = now_s(), open_ms = 0, hold_until = 0;
	bool opening = true;
	struct epoll_event evs[256];
	while (!stop) {
		while (opening && next < o.n && pending < o.inflight) {
			if (open_one(ep, &o, &conns[next], next) == 0)
				pending++;
			else
				t.connect_failed++;
			next++;
		}
		double now = now_s();
		if (opening && ((next == o.n && pending == 0) || now - start > o.open_s)) {
			opening = false;
			open_ms = (now - start) * 1000;
			hold_until = now + o.hold_s;
			printf("held %ld %ld\n", t.held, o.n);
			fflush(stdout);
		}
		if (!opening && now >= hold_until)
			break;
		int k = epoll_wait(ep, evs, (int)ARRAY_LEN(evs), 50);
		if (k == -1 && errno != EINTR) {
			perror("hold: epoll_wait");
			return 2;
		}
		for (int e = 0; e < k; e++) {
			struct conn *c = &conns[evs[e].data.u64];
			if (c->state == ST_CONNECTING) {
				pending--;
				if (on_connected(ep, c, evs[e].data.u64, req, (size_t)reqlen)
				    == 0) {
					c->state = ST_HELD;
					t.held++;
				} else {
					t.connect_failed++;
					finish(c);
				}
			} else if (c->state == ST_HELD) {
				on_lost(c, &t);
				finish(c);
			}
		}
	}
	if (opening) /* stopped by a signal before the end of opening */
		printf("held %ld %ld\n", t.held, o.n);
	/* Connections still pending at the opening deadline count as failed. */
	t.connect_failed += pending;
	printf("hold: n=%ld held=%ld connect_failed=%ld answered=%ld closed=%ld reset=%ld "
	       "open_ms=%.0f\n",
	       o.n, t.held, t.connect_failed, t.answered, t.closed, t.reset, open_ms);
	fflush(stdout);
	for (long i = 0; i < o.n; i++)
		if (conns[i].state == ST_CONNECTING || conns[i].state == ST_HELD)
			close(conns[i].fd);
	free(conns);
	close(ep);
	return t.held == o.n ? 0 : 1;
}

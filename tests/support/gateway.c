#include "gateway.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "wire.h"

const char *const gateway_names[] = {"nginx", "haproxy", "caddy", "varnish", "apache"};
const size_t gateway_count = sizeof gateway_names / sizeof gateway_names[0];

const struct gateway_tls gateway_tls_configs[] = {
	{"nginx", "nginx", "nginx-tls"},
	{"nginx-noverify", "nginx", "nginx-tls-noverify"},
	{"haproxy", "haproxy", "haproxy-tls"},
	{"haproxy-noverify", "haproxy", "haproxy-tls-noverify"},
	{"caddy", "caddy", "caddy-tls"},
	{"apache", "apache", "apache-tls"},
};
const size_t gateway_tls_count = sizeof gateway_tls_configs / sizeof gateway_tls_configs[0];

const struct gateway_tls *gateway_tls_config(const char *name)
{
	for (size_t i = 0; i < gateway_tls_count; i++)
		if (strcmp(gateway_tls_configs[i].name, name) == 0)
			return &gateway_tls_configs[i];
	return NULL;
}

#define GATEWAYS_DIR "tests/gateways"

/* Run argv with stdout/stderr to out_path (or /dev/null), dying with us. */
static pid_t spawn(char *const argv[], const char *out_path)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(126);
	int fd = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(argv[0], argv);
	_exit(127);
}

/* The program each gateway's run script execs. */
static const char *program_of(const char *name)
{
	static const char *const programs[][2] = {
		{"nginx", "nginx"},	 {"haproxy", "haproxy"}, {"caddy", "caddy"},
		{"varnish", "varnishd"}, {"apache", "apache2"},
	};
	for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++)
		if (strcmp(programs[i][0], name) == 0)
			return programs[i][1];
	return name;
}

int gateway_warm_ms(const char *name)
{
	return strcmp(name, "haproxy") == 0 ? 3000 : 0;
}

int gateway_installed(const char *name)
{
	static const char *const dirs[] = {"/usr/sbin/", "/usr/bin/", "/usr/local/sbin/",
					   "/usr/local/bin/"};
	char path[256];
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(path, sizeof path, "%s%s", dirs[i], program_of(name));
		if (access(path, X_OK) == 0)
			return 1;
	}
	return 0;
}

static char *read_file(const char *path, size_t offset)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return xstrdup("");
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	size_t n = size > (long)offset ? (size_t)size - offset : 0;
	char *s = xmalloc(n + 1);
	fseek(f, (long)offset, SEEK_SET);
	n = fread(s, 1, n, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Replace every @KEY@ of the template with its value. A line that starts
 * with @IF_BACKUP@ is kept (without the marker) only when there is a
 * backup upstream. */
static char *render(const char *tmpl, const char *const subst[][2], size_t n, int backup)
{
	size_t cap = strlen(tmpl) * 2 + 1024, len = 0;
	char *out = xmalloc(cap);
	static const char marker[] = "@IF_BACKUP@";
	for (const char *p = tmpl; *p;) {
		if ((p == tmpl || p[-1] == '\n') && strncmp(p, marker, sizeof marker - 1) == 0) {
			if (backup) {
				p += sizeof marker - 1;
			} else {
				const char *eol = strchr(p, '\n');
				p = eol ? eol + 1 : p + strlen(p);
				continue;
			}
		}
		size_t i;
		for (i = 0; i < n; i++)
			if (strncmp(p, subst[i][0], strlen(subst[i][0])) == 0)
				break;
		const char *piece = i < n ? subst[i][1] : p;
		size_t plen = i < n ? strlen(subst[i][1]) : 1;
		if (len + plen + 1 > cap) {
			cap = (len + plen + 1) * 2;
			out = xrealloc(out, cap);
		}
		memcpy(out + len, piece, plen);
		len += plen;
		p += i < n ? strlen(subst[i][0]) : 1;
	}
	out[len] = '\0';
	return out;
}

/* A port the kernel has just handed out; released for the gateway to take. */
int gateway_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0
	    && getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int write_config(struct gateway *g, const struct gateway_setup *setup)
{
	const char *upstream = setup->upstream, *upstream2 = setup->upstream2, *dns = setup->dns;
	char path[256], port[16];
	snprintf(path, sizeof path, GATEWAYS_DIR "/%s/gateway.conf.in", setup->config);
	char *tmpl = read_file(path, 0);
	if (tmpl[0] == '\0') {
		fprintf(stderr, "gateway %s: no template %s\n", g->name, path);
		free(tmpl);
		return -1;
	}
	snprintf(port, sizeof port, "%d", g->port);
	const char *colon = strrchr(upstream, ':');
	const char *const subst[][2] = {
		{"@DNS@", dns ? dns : ""},
		{"@UPSTREAM_PORT@", colon ? colon + 1 : ""},
		{"@PORT@", port},
		{"@UPSTREAM2@", upstream2 ? upstream2 : upstream},
		{"@UPSTREAM@", upstream},
		{"@DIR@", g->dir},
		{"@ERROR_LOG@", g->error_log},
		{"@CA@", setup->ca ? setup->ca : ""},
	};
	char *conf = render(tmpl, subst, sizeof subst / sizeof subst[0], upstream2 != NULL);
	snprintf(path, sizeof path, "%s/gateway.conf", g->dir);
	FILE *f = fopen(path, "w");
	int ok = f != NULL && fputs(conf, f) >= 0;
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	free(tmpl);
	free(conf);
	return ok ? 0 : -1;
}

/* Ready when the port accepts a connection; between attempts wait on the
 * child's exit for a few ms, so a gateway that fails is seen at once. */
static int wait_ready(struct gateway *g, int timeout_ms)
{
	double deadline = wire_now_ms() + timeout_ms;
	while (wire_now_ms() < deadline) {
		int fd = wire_connect("127.0.0.1", g->port, 200);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		int status;
		if (waitpid(g->pid, &status, WNOHANG) == g->pid) {
			g->pid = 0;
			return -1;
		}
		poll(NULL, 0, 10);
	}
	return -1;
}

static void remove_dir(const char *dir)
{
	if (dir[0] == '\0' || strncmp(dir, "/tmp/upsim-gw-", 14) != 0)
		return;
	char *argv[] = {"/bin/rm", "-rf", (char *)dir, NULL};
	pid_t pid = spawn(argv, NULL);
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

int gateway_has_dns_config(const char *name)
{
	char path[256];
	snprintf(path, sizeof path, GATEWAYS_DIR "/%s-dns/gateway.conf.in", name);
	return access(path, R_OK) == 0;
}

int gateway_dns_settle_ms(const char *name)
{
	return strcmp(name, "haproxy") == 0 ? 3000 : 2000;
}

int gateway_prepare(struct gateway *g, const char *name)
{
	memset(g, 0, sizeof *g);
	snprintf(g->name, sizeof g->name, "%s", name);
	snprintf(g->dir, sizeof g->dir, "/tmp/upsim-gw-%s-XXXXXX", name);
	if (mkdtemp(g->dir) == NULL) {
		fprintf(stderr, "gateway %s: mkdtemp: %s\n", name, strerror(errno));
		g->dir[0] = '\0';
		return -1;
	}
	snprintf(g->error_log, sizeof g->error_log, "%s/error.log", g->dir);
	g->port = gateway_free_port();
	if (g->port < 0) {
		gateway_stop(g, 0);
		return -1;
	}
	return 0;
}

int gateway_launch(struct gateway *g, const struct gateway_setup *setup, int timeout_ms)
{
	const char *name = g->name;
	if (write_config(g, setup) != 0) {
		gateway_stop(g, 0);
		return -1;
	}
	char run[256], out[256];
	snprintf(run, sizeof run, GATEWAYS_DIR "/%s/run", name);
	snprintf(out, sizeof out, "%s/run.log", g->dir);
	char *argv[] = {run, g->dir, NULL};
	g->pid = spawn(argv, out);
	if (g->pid > 0 && wait_ready(g, timeout_ms) == 0)
		return 0;
	char *log = read_file(out, 0);
	fprintf(stderr, "gateway %s did not start on port %d:\n%s\n", name, g->port, log);
	free(log);
	gateway_stop(g, 1000);
	return -1;
}

void gateway_stop(struct gateway *g, int timeout_ms)
{
	if (g->pid > 0) {
		kill(g->pid, SIGTERM);
		double deadline = wire_now_ms() + timeout_ms;
		int status;
		while (waitpid(g->pid, &status, WNOHANG) == 0) {
			if (wire_now_ms() >= deadline) {
				kill(g->pid, SIGKILL);
				waitpid(g->pid, &status, 0);
				break;
			}
			poll(NULL, 0, 10);
		}
		g->pid = 0;
	}
	remove_dir(g->dir);
	g->dir[0] = '\0';
}

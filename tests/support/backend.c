#include "backend.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway.h"
#include "wire.h"

#define BACKEND_PREFIX "/tmp/upsim-backend-"

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		fprintf(stderr, "backend: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = fwrite(data, 1, len, f) == len ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

int backend_prepare(struct backend *b)
{
	*b = (struct backend){0};
	strcpy(b->dir, BACKEND_PREFIX "XXXXXX");
	if (mkdtemp(b->dir) == NULL) {
		fprintf(stderr, "backend: mkdtemp: %s\n", strerror(errno));
		b->dir[0] = '\0';
		return -1;
	}
	snprintf(b->www, sizeof b->www, "%s/www", b->dir);
	return mkdir(b->www, 0755);
}

int backend_put(const struct backend *b, const char *rel, const void *data, size_t len)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", b->www, rel);
	for (char *slash = strchr(path + strlen(b->www) + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -1;
		*slash = '/';
	}
	return write_file(path, data, len);
}

/* A throwaway CA, and a certificate it signs for IP 127.0.0.1, in the
 * folder: ca.pem, server.pem, server.key. 0 or -1. */
static int make_certs(const struct backend *b)
{
	char cmd[1536];
	snprintf(cmd, sizeof cmd,
		 "cd %s && exec >openssl.log 2>&1 && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout ca.key -out ca.pem -days 1 -subj '/CN=upsim test CA' "
		 "-addext basicConstraints=critical,CA:TRUE "
		 "-addext keyUsage=critical,keyCertSign && "
		 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
		 "printf 'subjectAltName=IP:127.0.0.1\\n' >san.ext && "
		 "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 "
		 "-days 1 -extfile san.ext -out server.pem",
		 b->dir);
	if (system(cmd) == 0)
		return 0;
	fprintf(stderr, "backend: openssl failed: %s/openssl.log\n", b->dir);
	return -1;
}

/* The https server block, or "" without tls. */
static void tls_server(const struct backend *b, char *out, size_t n)
{
	const char *d = b->dir;
	out[0] = '\0';
	if (b->tls_port != 0)
		snprintf(out, n,
			 "  log_format tls '$ssl_protocol $request';\n"
			 "  server {\n"
			 "    listen 127.0.0.1:%d ssl;\n"
			 "    ssl_certificate %s/server.pem;\n"
			 "    ssl_certificate_key %s/server.key;\n"
			 "    access_log %s/tls_access.log tls;\n"
			 "    root %s;\n"
			 "  }\n",
			 b->tls_port, d, d, d, b->www);
}

static int write_config(const struct backend *b)
{
	const char *d = b->dir;
	char conf[4096], tls[1024], path[128];
	tls_server(b, tls, sizeof tls);
	snprintf(conf, sizeof conf,
		 "worker_processes 1;\n"
		 "pid %s/nginx.pid;\n"
		 "error_log %s/error.log warn;\n"
		 "events { worker_connections 256; }\n"
		 "http {\n"
		 "  default_type application/octet-stream;\n"
		 "  access_log %s/access.log;\n"
		 "  client_body_temp_path %s/t1; proxy_temp_path %s/t2;\n"
		 "  fastcgi_temp_path %s/t3; uwsgi_temp_path %s/t4; scgi_temp_path %s/t5;\n"
		 "  server {\n"
		 "    listen 127.0.0.1:%d;\n"
		 "    root %s;\n"
		 "    location /cookie {\n"
		 "      add_header Set-Cookie \"sid=secret-session\";\n"
		 "      return 200 \"cookie set\\n\";\n"
		 "    }\n"
		 "    location /echo {\n"
		 "      return 200 \"$request_method $request_uri via=$http_via "
		 "xff=$http_x_forwarded_for len=$content_length conn=$http_connection "
		 "te=$http_transfer_encoding\\n\";\n"
		 "    }\n"
		 "  }\n"
		 "%s"
		 "}\n",
		 d, d, d, d, d, d, d, d, b->port, b->www, tls);
	snprintf(path, sizeof path, "%s/gateway.conf", d);
	return write_file(path, conf, strlen(conf));
}

/* The child: nginx through the gateways' run script, output to out.log. */
static void exec_nginx(const struct backend *b, pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(126);
	char path[128];
	snprintf(path, sizeof path, "%s/out.log", b->dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	execl("tests/gateways/nginx/run", "run", b->dir, (char *)NULL);
	_exit(127);
}

/* nginx's own output, before its folder goes. */
static void dump_output(const struct backend *b)
{
	char path[128], line[512];
	snprintf(path, sizeof path, "%s/out.log", b->dir);
	FILE *f = fopen(path, "r");
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		fputs(line, stderr);
	if (f != NULL)
		fclose(f);
}

/* Wait until port accepts connections: 0, or -1 (nginx exited, or the
 * deadline passed). */
static int wait_listening(struct backend *b, int port, double deadline)
{
	for (;;) {
		int fd = wire_connect("127.0.0.1", port, 200);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		int status;
		if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
			b->pid = 0;
			fprintf(stderr, "backend: nginx exited:\n");
			dump_output(b);
			return -1;
		}
		if (wire_now_ms() >= deadline) {
			fprintf(stderr, "backend: nginx did not listen on %d\n", port);
			return -1;
		}
		poll(NULL, 0, 10);
	}
}

int backend_start(struct backend *b, int timeout_ms)
{
	b->port = gateway_free_port();
	snprintf(b->url, sizeof b->url, "http://127.0.0.1:%d", b->port);
	b->tls_port = 0;
	if (b->tls) {
		if (make_certs(b) != 0)
			goto fail;
		b->tls_port = gateway_free_port();
	}
	if (b->port <= 0 || write_config(b) != 0)
		goto fail;
	pid_t parent = getpid();
	b->pid = fork();
	if (b->pid == -1) {
		b->pid = 0;
		goto fail;
	}
	if (b->pid == 0)
		exec_nginx(b, parent);
	double deadline = wire_now_ms() + timeout_ms;
	if (wait_listening(b, b->port, deadline) == 0
	    && (b->tls_port == 0 || wait_listening(b, b->tls_port, deadline) == 0))
		return 0;
fail:
	backend_stop(b);
	return -1;
}

void backend_stop(struct backend *b)
{
	if (b->pid > 0) {
		kill(b->pid, SIGTERM);
		waitpid(b->pid, NULL, 0);
		b->pid = 0;
	}
	if (strncmp(b->dir, BACKEND_PREFIX, strlen(BACKEND_PREFIX)) == 0) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "backend: could not remove %s\n", b->dir);
	}
	b->dir[0] = '\0';
}

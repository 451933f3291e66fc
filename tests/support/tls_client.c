#include "tls_client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

int tls_client_open(struct tls_client *c, int port, const char *ca_file, const char *server_name,
		    const char *priority, int timeout_ms)
{
	memset(c, 0, sizeof *c);
	int fd = wire_connect("127.0.0.1", port, timeout_ms);
	if (fd == -1)
		return -1;
	tls_client_start(c, fd, ca_file, server_name, priority, timeout_ms);
	return 0;
}

void tls_client_start(struct tls_client *c, int fd, const char *ca_file, const char *server_name,
		      const char *priority, int timeout_ms)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	gnutls_certificate_allocate_credentials(&c->cred);
	if (ca_file != NULL)
		gnutls_certificate_set_x509_trust_file(c->cred, ca_file, GNUTLS_X509_FMT_PEM);
	gnutls_init(&c->session, GNUTLS_CLIENT);
	gnutls_priority_set_direct(c->session, priority ? priority : "NORMAL", NULL);
	gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, c->cred);
	if (server_name != NULL)
		gnutls_server_name_set(c->session, GNUTLS_NAME_DNS, server_name,
				       strlen(server_name));
	gnutls_transport_set_int(c->session, c->fd);
	gnutls_handshake_set_timeout(c->session, (unsigned)timeout_ms);
	do {
		c->handshake = gnutls_handshake(c->session);
	} while (c->handshake < 0 && !gnutls_error_is_fatal(c->handshake));
	if (c->handshake == 0 && server_name != NULL)
		gnutls_certificate_verify_peers3(c->session, server_name, &c->verify);
}

int tls_client_send(struct tls_client *c, const char *s)
{
	size_t len = strlen(s), off = 0;
	while (off < len) {
		ssize_t n = gnutls_record_send(c->session, s + off, len - off);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

enum tls_end tls_client_read(struct tls_client *c, size_t want, int timeout_ms, char **buf,
			     size_t *len)
{
	double deadline = wire_now_ms() + timeout_ms;
	for (;;) {
		double left = deadline - wire_now_ms();
		if (left <= 0 || (want > 0 && *len >= want))
			return TLS_END_OPEN;
		gnutls_record_set_timeout(c->session, (unsigned)left + 1);
		char chunk[16384];
		errno = 0;
		ssize_t n = gnutls_record_recv(c->session, chunk, sizeof chunk);
		if (n > 0) {
			*buf = realloc(*buf, *len + (size_t)n + 1);
			memcpy(*buf + *len, chunk, (size_t)n);
			*len += (size_t)n;
			(*buf)[*len] = '\0';
			continue;
		}
		if (n == 0)
			return TLS_END_CLOSE_NOTIFY;
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_TIMEDOUT)
			continue;
		if (n == GNUTLS_E_PREMATURE_TERMINATION)
			return TLS_END_BARE_FIN;
		if (n == GNUTLS_E_PULL_ERROR && errno == ECONNRESET)
			return TLS_END_RST;
		return TLS_END_ERROR;
	}
}

const char *tls_end_name(enum tls_end e)
{
	switch (e) {
	case TLS_END_OPEN: return "open";
	case TLS_END_CLOSE_NOTIFY: return "close_notify";
	case TLS_END_BARE_FIN: return "bare_fin";
	case TLS_END_RST: return "rst";
	case TLS_END_ERROR: return "error";
	}
	return "?";
}

const char *tls_client_version(const struct tls_client *c)
{
	const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(c->session));
	return v ? v : "?";
}

void tls_client_close(struct tls_client *c)
{
	if (c->session != NULL)
		gnutls_deinit(c->session);
	if (c->cred != NULL)
		gnutls_certificate_free_credentials(c->cred);
	if (c->fd > 0)
		close(c->fd);
	memset(c, 0, sizeof *c);
}

size_t tls_client_hello(unsigned char *buf, size_t cap)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		return 0;
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	gnutls_certificate_allocate_credentials(&cred);
	gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", strlen("localhost"));
	gnutls_transport_set_int(s, sv[0]);
	gnutls_handshake(s); /* writes the ClientHello, then wants an answer */
	ssize_t n = read(sv[1], buf, cap);
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(sv[0]);
	close(sv[1]);
	return n > 0 ? (size_t)n : 0;
}

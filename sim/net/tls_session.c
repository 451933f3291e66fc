#include "net/tls_session.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "base/xalloc.h"
#include "net/tls_certs.h"

_Static_assert((int)TLS_CERTIFICATE_UNTRUSTED == (int)TLS_CERT_UNTRUSTED
		       && (int)TLS_CERTIFICATE_EXPIRED == (int)TLS_CERT_EXPIRED,
	       "the scenario's certificate names are tls_certs' kinds");

/* A version limit narrows GnuTLS's defaults to one protocol version. */
static const char *const version_priorities[] = {
	[TLS_VERSIONS_12] = "NORMAL:-VERS-ALL:+VERS-TLS1.2",
	[TLS_VERSIONS_13] = "NORMAL:-VERS-ALL:+VERS-TLS1.3",
};

struct tls_server {
	const struct tls_certs *certs;
	gnutls_priority_t versions[TLS_VERSIONS_13 + 1]; /* [ANY] unused */
};

struct tls_server *tls_server_new(const struct tls_certs *certs, char *err, size_t errlen)
{
	struct tls_server *t = xcalloc(1, sizeof *t);
	t->certs = certs;
	for (int v = TLS_VERSIONS_12; v <= TLS_VERSIONS_13; v++) {
		int rc = gnutls_priority_init(&t->versions[v], version_priorities[v], NULL);
		if (rc != GNUTLS_E_SUCCESS) {
			snprintf(err, errlen, "GnuTLS priority \"%s\": %s", version_priorities[v],
				 gnutls_strerror(rc));
			tls_server_free(t);
			return NULL;
		}
	}
	return t;
}

void tls_server_free(struct tls_server *t)
{
	if (t == NULL)
		return;
	for (int v = TLS_VERSIONS_12; v <= TLS_VERSIONS_13; v++)
		if (t->versions[v] != NULL)
			gnutls_priority_deinit(t->versions[v]);
	free(t);
}

const char *tls_server_cert_pem(const struct tls_server *t)
{
	return tls_certs_leaf_pem(t->certs, TLS_CERT_VALID);
}

const char *tls_server_key_pem(const struct tls_server *t)
{
	return tls_certs_key_pem(t->certs);
}

/* Reads and writes of the sessions this thread runs that moved bytes or
 * met a connection's end. Per thread, as each loop runs its own server;
 * the transport keeps the descriptor MHD gave it, so a session carries
 * nothing of ours that MHD would have to outlive. */
static _Thread_local uint64_t moves;

uint64_t tls_session_moves(void)
{
	return moves;
}

static ssize_t counted(ssize_t n)
{
	if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		moves++;
	return n;
}

/* GnuTLS's default transport, counted. */
static ssize_t io_pull(gnutls_transport_ptr_t ptr, void *data, size_t size)
{
	return counted(recv((int)(intptr_t)ptr, data, size, 0));
}

static ssize_t io_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
	return counted(sendmsg((int)(intptr_t)ptr, &msg, MSG_NOSIGNAL));
}

/* MHD_NOTIFY_CONNECTION_STARTED comes before MHD's first handshake step
 * (measured on 0.9.75), when credentials and priorities may still change. */
void *tls_session_begin(const struct tls_server *t, struct MHD_Connection *mhd,
			const struct tls_policy *p)
{
	const union MHD_ConnectionInfo
		*info = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (info == NULL || info->tls_session == NULL)
		return NULL;
	gnutls_session_t session = info->tls_session;
	/* Always ours, the valid kind's too: it carries its chain, where
	 * MHD's own credentials would hold the leaf alone. */
	gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE,
			       tls_certs_credentials(t->certs, (enum tls_cert_kind)p->certificate));
	if (p->versions != TLS_VERSIONS_ANY)
		gnutls_priority_set(session, t->versions[p->versions]);
	/* MHD gave GnuTLS the descriptor as the transport; only the
	 * functions change. */
	gnutls_transport_set_pull_function(session, io_pull);
	gnutls_transport_set_vec_push_function(session, io_push);
	return session;
}

ssize_t tls_session_send(void *session, const void *buf, size_t len, bool *retry)
{
	/* After GNUTLS_E_AGAIN GnuTLS wants the same record again: NULL, 0
	 * asks it to finish the one it holds. */
	ssize_t n = *retry ? gnutls_record_send(session, NULL, 0)
			   : gnutls_record_send(session, buf, len);
	*retry = n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED;
	if (n >= 0)
		return n;
	errno = *retry ? EAGAIN : EPIPE;
	return -1;
}

void tls_session_cork(void *session)
{
	gnutls_record_cork(session);
}

int tls_session_uncork(void *session)
{
	/* Without GNUTLS_RECORD_WAIT an EAGAIN leaves GnuTLS corked with the
	 * record it was sending pending: the next uncork finishes it first. */
	ssize_t n = gnutls_record_uncork(session, 0);
	if (n >= 0)
		return 1;
	return n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED ? 0 : -1;
}

void tls_session_bye(void *session)
{
	gnutls_bye(session, GNUTLS_SHUT_WR);
}

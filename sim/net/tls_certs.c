#include "net/tls_certs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "base/xalloc.h"

#define HOUR (60 * 60)
#define DAY (24 * HOUR)
/* A PEM chain or key larger than this is not one (and /dev/zero ends). */
#define MAX_PEM_FILE (1024 * 1024)

struct tls_certs {
	gnutls_certificate_credentials_t cred[TLS_CERT_KINDS];
	char *leaf_pem[TLS_CERT_KINDS];
	char *ca_pem;
	char *key_pem; /* the VALID leaf's key: what MHD starts with */
	bool global;   /* holds a reference from gnutls_global_init */
};

/* A CA: its certificate and the key it signs with. */
struct ca {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
};

/* The name a leaf is for, as clients will ask for it. */
struct leaf_name {
	char host[256];	      /* the name or the literal, brackets removed */
	unsigned char ip[16]; /* a literal's address */
	size_t iplen;	      /* 4 or 16 for a literal, 0 for a DNS name */
};

static const char *const kind_names[TLS_CERT_KINDS] = {
	[TLS_CERT_VALID] = "valid",
	[TLS_CERT_EXPIRED] = "expired",
	[TLS_CERT_NOT_YET_VALID] = "not_yet_valid",
	[TLS_CERT_WRONG_NAME] = "wrong_name",
	[TLS_CERT_UNTRUSTED] = "untrusted",
};

const char *tls_certs_kind_name(enum tls_cert_kind kind)
{
	return (unsigned)kind < TLS_CERT_KINDS ? kind_names[kind] : "?";
}

int tls_certs_kind_of(const char *name)
{
	for (int k = 0; name != NULL && k < TLS_CERT_KINDS; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

/* Did a GnuTLS call fail? If so, say which step and why in err. */
static bool failed(int ret, const char *what, char *err, size_t errlen)
{
	if (ret >= 0)
		return false;
	snprintf(err, errlen, "tls: %s: %s", what, gnutls_strerror(ret));
	return true;
}

/* name as a literal or a DNS name. Returns 0, or -1 with the reason. */
static int parse_name(const char *name, struct leaf_name *ln, char *err, size_t errlen)
{
	const char *host = name != NULL ? name : "";
	size_t len = strlen(host);
	bool bracketed = len >= 2 && host[0] == '[' && host[len - 1] == ']';
	memset(ln, 0, sizeof *ln);
	if (bracketed) {
		host++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof ln->host)
		goto bad;
	memcpy(ln->host, host, len);
	if (!bracketed && inet_pton(AF_INET, ln->host, ln->ip) == 1) {
		ln->iplen = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, ln->host, ln->ip) == 1) {
		ln->iplen = 16;
		return 0;
	}
	/* Not a literal: a DNS name's characters only, and no brackets. */
	for (const char *p = ln->host; *p != '\0' && !bracketed; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z')
		    && !(*p >= '0' && *p <= '9') && strchr("-._", *p) == NULL)
			goto bad;
	if (!bracketed)
		return 0;
bad:
	snprintf(err, errlen, "tls: \"%s\": not a DNS name or IP address",
		 name != NULL ? name : "");
	return -1;
}

static void ca_free(struct ca *ca)
{
	if (ca->crt != NULL)
		gnutls_x509_crt_deinit(ca->crt);
	if (ca->key != NULL)
		gnutls_x509_privkey_deinit(ca->key);
}

static int new_key(gnutls_x509_privkey_t *key, char *err, size_t errlen)
{
	if (failed(gnutls_x509_privkey_init(key), "key", err, errlen))
		return -1;
	unsigned bits = GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1);
	return failed(gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA, bits, 0), "ECDSA key",
		      err, errlen)
		       ? -1
		       : 0;
}

/* A random positive serial of 16 bytes, as RFC 5280 asks of a CA. */
static int set_serial(gnutls_x509_crt_t crt)
{
	unsigned char serial[16];
	int ret = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial);
	if (ret < 0)
		return ret;
	serial[0] = (serial[0] & 0x7f) | 0x40; /* positive, and no shorter */
	return gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
}

/* What every certificate has: version, serial, key, dates and CN, and
 * the subject key identifier that chains find issuers by. */
static int set_common(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn, time_t from,
		      time_t until)
{
	unsigned char id[64];
	size_t idlen = sizeof id;
	int ret;
	if ((ret = gnutls_x509_crt_set_version(crt, 3)) < 0 || (ret = set_serial(crt)) < 0
	    || (ret = gnutls_x509_crt_set_key(crt, key)) < 0
	    || (ret = gnutls_x509_crt_set_activation_time(crt, from)) < 0
	    || (ret = gnutls_x509_crt_set_expiration_time(crt, until)) < 0
	    || (ret = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						    (unsigned)strlen(cn)))
		       < 0
	    || (ret = gnutls_x509_crt_get_key_id(crt, 0, id, &idlen)) < 0)
		return ret;
	return gnutls_x509_crt_set_subject_key_id(crt, id, idlen);
}

/* crt as new PEM into *pem. */
static int export_pem(gnutls_x509_crt_t crt, char **pem)
{
	gnutls_datum_t d;
	int ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d);
	if (ret >= 0) {
		*pem = xmemdup(d.data, d.size);
		gnutls_free(d.data);
	}
	return ret;
}

/* GnuTLS: a certificate just signed is "not fully functional until it is
 * exported and re-imported" (gnutls_x509_crt_sign2): parts of it are
 * cached from before the signature. Export it to PEM (into *pem when
 * asked: the caller frees it) and take the re-import in its place. */
static int reimport(gnutls_x509_crt_t *crt, char **pem)
{
	char *text = NULL;
	gnutls_x509_crt_t fresh = NULL;
	int ret;
	if ((ret = export_pem(*crt, &text)) < 0 || (ret = gnutls_x509_crt_init(&fresh)) < 0)
		goto out;
	gnutls_datum_t d = {(unsigned char *)text, (unsigned)strlen(text)};
	if ((ret = gnutls_x509_crt_import(fresh, &d, GNUTLS_X509_FMT_PEM)) < 0) {
		gnutls_x509_crt_deinit(fresh);
		goto out;
	}
	gnutls_x509_crt_deinit(*crt);
	*crt = fresh;
	if (pem != NULL) {
		*pem = text;
		text = NULL;
	}
out:
	free(text);
	return ret;
}

/* A self-signed CA named cn, valid from 2 days ago (before any leaf it
 * signs) for 10 years, that signs leaves only (path length 0). */
static int make_ca(struct ca *ca, const char *cn, time_t now, char **pem, char *err, size_t errlen)
{
	if (new_key(&ca->key, err, errlen) == -1
	    || failed(gnutls_x509_crt_init(&ca->crt), "CA certificate", err, errlen))
		return -1;
	int ret;
	if ((ret = set_common(ca->crt, ca->key, cn, now - 2 * DAY, now + 3650 * DAY)) < 0
	    || (ret = gnutls_x509_crt_set_basic_constraints(ca->crt, 1, 0)) < 0
	    || (ret = gnutls_x509_crt_set_key_usage(ca->crt,
						    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN))
		       < 0
	    || (ret = gnutls_x509_crt_sign2(ca->crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0)) < 0
	    || (ret = reimport(&ca->crt, pem)) < 0) {
		failed(ret, "CA certificate", err, errlen);
		return -1;
	}
	return 0;
}

static int add_dns(gnutls_x509_crt_t crt, const char *name)
{
	return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
						    (unsigned)strlen(name), GNUTLS_FSAN_APPEND);
}

static int add_ip(gnutls_x509_crt_t crt, const void *ip, size_t len)
{
	return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, (unsigned)len,
						    GNUTLS_FSAN_APPEND);
}

/* The names of a leaf for ln: ln itself, then the loopback names it is
 * not already. */
static int add_names(gnutls_x509_crt_t crt, const struct leaf_name *ln)
{
	static const unsigned char v4[4] = {127, 0, 0, 1};
	static const unsigned char v6[16] = {[15] = 1};
	int ret = ln->iplen > 0 ? add_ip(crt, ln->ip, ln->iplen) : add_dns(crt, ln->host);
	if (ret >= 0 && (ln->iplen > 0 || strcasecmp(ln->host, "localhost") != 0))
		ret = add_dns(crt, "localhost");
	if (ret >= 0 && !(ln->iplen == 4 && memcmp(ln->ip, v4, 4) == 0))
		ret = add_ip(crt, v4, 4);
	if (ret >= 0 && !(ln->iplen == 16 && memcmp(ln->ip, v6, 16) == 0))
		ret = add_ip(crt, v6, 16);
	return ret;
}

/* A server's leaf for ln (NULL: for TLS_CERTS_WRONG_NAME alone) with key,
 * valid from..until, signed by ca; into *out, and as PEM into *pem. */
static int make_leaf(gnutls_x509_crt_t *out, char **pem, const struct leaf_name *ln, time_t from,
		     time_t until, gnutls_x509_privkey_t key, const struct ca *ca, char *err,
		     size_t errlen)
{
	unsigned char caid[64];
	size_t caidlen = sizeof caid;
	if (failed(gnutls_x509_crt_init(out), "certificate", err, errlen))
		return -1;
	gnutls_x509_crt_t crt = *out;
	const char *cn = ln != NULL ? ln->host : TLS_CERTS_WRONG_NAME;
	int ret;
	if ((ret = set_common(crt, key, cn, from, until)) < 0
	    || (ret = ln != NULL ? add_names(crt, ln) : add_dns(crt, TLS_CERTS_WRONG_NAME)) < 0
	    || (ret = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0
	    || (ret = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0
	    || (ret = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0
	    || (ret = gnutls_x509_crt_get_subject_key_id(ca->crt, caid, &caidlen, NULL)) < 0
	    || (ret = gnutls_x509_crt_set_authority_key_id(crt, caid, caidlen)) < 0
	    || (ret = gnutls_x509_crt_sign2(crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0)) < 0
	    || (ret = reimport(out, pem)) < 0) {
		failed(ret, "certificate", err, errlen);
		return -1;
	}
	return 0;
}

/* Credentials that send chain (leaf first) and sign with key. */
static int make_cred(gnutls_certificate_credentials_t *cred, gnutls_x509_crt_t *chain, int n,
		     gnutls_x509_privkey_t key)
{
	int ret = gnutls_certificate_allocate_credentials(cred);
	if (ret >= 0)
		ret = gnutls_certificate_set_x509_key(*cred, chain, n, key);
	return ret;
}

/* New, empty certificates, holding GnuTLS initialised. gnutls_global_init
 * is reference-counted, and GnuTLS 3.7 calls it from its constructor
 * already, unless GNUTLS_NO_IMPLICIT_INIT is set: then this one counts. */
static struct tls_certs *certs_new(char *err, size_t errlen)
{
	struct tls_certs *c = xcalloc(1, sizeof *c);
	if (failed(gnutls_global_init(), "initialising GnuTLS", err, errlen)) {
		free(c);
		return NULL;
	}
	c->global = true;
	return c;
}

/* key as PEM into *out (malloc'd, NUL-terminated). */
static int export_key(gnutls_x509_privkey_t key, char **out, char *err, size_t errlen)
{
	/* Unencrypted PKCS#8, not the key's own form: an EC key read from
	 * OpenSSL's PKCS#8 names its curve only in the PKCS#8 wrapping, and
	 * GnuTLS (3.7.9) writes it back as an EC key without its curve,
	 * which nothing can read again. */
	gnutls_datum_t d = {NULL, 0};
	if (failed(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
						     GNUTLS_PKCS_PLAIN, &d),
		   "key", err, errlen))
		return -1;
	*out = strndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	return 0;
}

/* Make upsim's CA, the untrusted CA, and the leaves and credentials of
 * every kind from first on, for name. Returns 0, or -1 with the reason. */
static int make_kinds(struct tls_certs *c, const char *name, enum tls_cert_kind first, char *err,
		      size_t errlen)
{
	struct leaf_name ln;
	if (parse_name(name, &ln, err, errlen) == -1)
		return -1;
	time_t now = time(NULL);
	struct ca ca = {NULL, NULL}, stranger = {NULL, NULL};
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t leaf = NULL;
	int ret = -1;
	if (make_ca(&ca, "upsim test CA", now, &c->ca_pem, err, errlen) == -1
	    || make_ca(&stranger, "upsim untrusted CA", now, NULL, err, errlen) == -1
	    || new_key(&key, err, errlen) == -1
	    || (first == TLS_CERT_VALID && export_key(key, &c->key_pem, err, errlen) == -1))
		goto out;
	for (unsigned kind = first; kind < TLS_CERT_KINDS; kind++) {
		const struct ca *signer = kind == TLS_CERT_UNTRUSTED ? &stranger : &ca;
		time_t from = now - HOUR, until = now + 365 * DAY;
		if (kind == TLS_CERT_EXPIRED) {
			from = now - 2 * DAY;
			until = now - DAY;
		} else if (kind == TLS_CERT_NOT_YET_VALID) {
			from = now + DAY;
			until = now + 366 * DAY;
		}
		if (make_leaf(&leaf, &c->leaf_pem[kind], kind == TLS_CERT_WRONG_NAME ? NULL : &ln,
			      from, until, key, signer, err, errlen)
		    == -1)
			goto out;
		gnutls_x509_crt_t chain[2] = {leaf, signer->crt};
		if (failed(make_cred(&c->cred[kind], chain, 2, key), "credentials", err, errlen))
			goto out;
		gnutls_x509_crt_deinit(leaf);
		leaf = NULL;
	}
	ret = 0;
out:
	if (leaf != NULL)
		gnutls_x509_crt_deinit(leaf);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	ca_free(&ca);
	ca_free(&stranger);
	return ret;
}

struct tls_certs *tls_certs_auto(const char *name, char *err, size_t errlen)
{
	struct tls_certs *c = certs_new(err, errlen);
	if (c != NULL && make_kinds(c, name, TLS_CERT_VALID, err, errlen) == -1) {
		tls_certs_free(c);
		c = NULL;
	}
	return c;
}

/* The whole of path into *d (its data to free()). Returns 0, or -1
 * with "PATH: why" in err. */
static int read_file(const char *path, gnutls_datum_t *d, char *err, size_t errlen)
{
	size_t len = 0, cap = 4096;
	d->data = NULL;
	d->size = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		goto fail;
	unsigned char *buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_PEM_FILE) {
				free(buf);
				close(fd);
				snprintf(err, errlen, "%s: larger than %d bytes", path,
					 MAX_PEM_FILE);
				return -1;
			}
			buf = xrealloc(buf, cap *= 2);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			int saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			goto fail;
		}
		len += (size_t)n;
	}
	close(fd);
	d->data = buf;
	d->size = (unsigned)len;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

struct tls_certs *tls_certs_load(const char *cert_file, const char *key_file, const char *name,
				 char *err, size_t errlen)
{
	gnutls_datum_t cert_pem = {NULL, 0}, key_pem = {NULL, 0};
	gnutls_x509_crt_t *crts = NULL;
	unsigned ncrts = 0;
	gnutls_x509_privkey_t key = NULL;
	struct tls_certs *c = NULL;
	int ret;
	if (cert_file == NULL || key_file == NULL) {
		snprintf(err, errlen, "%s",
			 cert_file != NULL ? "--tls-cert needs --tls-key"
					   : "--tls-key needs --tls-cert");
		return NULL;
	}
	if (read_file(cert_file, &cert_pem, err, errlen) == -1
	    || read_file(key_file, &key_pem, err, errlen) == -1)
		goto fail;
	if (gnutls_x509_crt_list_import2(&crts, &ncrts, &cert_pem, GNUTLS_X509_FMT_PEM, 0) < 0
	    || ncrts == 0) {
		snprintf(err, errlen, "%s: not a PEM certificate", cert_file);
		goto fail;
	}
	if (failed(gnutls_x509_privkey_init(&key), "key", err, errlen))
		goto fail;
	/* GNUTLS_PKCS_PLAIN: without it, GnuTLS tries to decrypt an encrypted
	 * PKCS#8 key with no password and "" (600000 rounds of PBKDF2 each,
	 * 0.1 s) before it fails. It has no reader for OpenSSL's legacy
	 * encrypted PEM ("Proc-Type: 4,ENCRYPTED"), which we name too. */
	ret = gnutls_x509_privkey_import2(key, &key_pem, GNUTLS_X509_FMT_PEM, NULL,
					  GNUTLS_PKCS_PLAIN);
	if (ret == GNUTLS_E_DECRYPTION_FAILED
	    || (ret < 0
		&& memmem(key_pem.data, key_pem.size, "Proc-Type: 4,ENCRYPTED", 22) != NULL)) {
		snprintf(err, errlen, "%s: an encrypted private key (give it unencrypted)",
			 key_file);
		goto fail;
	} else if (ret < 0) {
		snprintf(err, errlen, "%s: not a PEM private key", key_file);
		goto fail;
	}
	c = certs_new(err, errlen);
	if (c == NULL)
		goto fail;
	ret = make_cred(&c->cred[TLS_CERT_VALID], crts, (int)ncrts, key);
	if (ret == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		snprintf(err, errlen, "the key in %s does not match the first certificate in %s",
			 key_file, cert_file);
		goto fail;
	}
	if (failed(ret, cert_file, err, errlen)
	    || failed(export_pem(crts[0], &c->leaf_pem[TLS_CERT_VALID]), cert_file, err, errlen)
	    || export_key(key, &c->key_pem, err, errlen) == -1
	    || make_kinds(c, name, TLS_CERT_EXPIRED, err, errlen) == -1)
		goto fail;
	goto out;
fail:
	tls_certs_free(c);
	c = NULL;
out:
	for (unsigned i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	free(cert_pem.data);
	free(key_pem.data);
	return c;
}

void tls_certs_free(struct tls_certs *c)
{
	if (c == NULL)
		return;
	for (int k = 0; k < TLS_CERT_KINDS; k++) {
		if (c->cred[k] != NULL)
			gnutls_certificate_free_credentials(c->cred[k]);
		free(c->leaf_pem[k]);
	}
	free(c->ca_pem);
	free(c->key_pem);
	if (c->global)
		gnutls_global_deinit();
	free(c);
}

gnutls_certificate_credentials_t tls_certs_credentials(const struct tls_certs *c,
						       enum tls_cert_kind kind)
{
	return c->cred[kind];
}

const char *tls_certs_ca_pem(const struct tls_certs *c)
{
	return c->ca_pem;
}

const char *tls_certs_leaf_pem(const struct tls_certs *c, enum tls_cert_kind kind)
{
	return c->leaf_pem[kind];
}

/* All of data into a new path, created 0644. 0, or -1 with "PATH: why". */
static int write_file(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		goto fail;
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			int saved = errno;
			close(fd);
			errno = saved;
			goto fail;
		}
		data += n;
		len -= (size_t)n;
	}
	if (close(fd) == 0)
		return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

/* Through PATH.tmp, renamed: a gateway (re)loading the file never reads
 * half of it. */
int tls_certs_write_ca(const struct tls_certs *c, const char *path, char *err, size_t errlen)
{
	char *tmp = xasprintf("%s.tmp", path);
	int ret = write_file(tmp, c->ca_pem, strlen(c->ca_pem), err, errlen);
	if (ret == 0 && rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		ret = -1;
	}
	free(tmp);
	return ret;
}

const char *tls_certs_key_pem(const struct tls_certs *c)
{
	return c->key_pem;
}

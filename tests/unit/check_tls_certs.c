/* tls_certs: every kind judged by GnuTLS's own verification, the user's
 * files and their errors, and real handshakes over a socketpair. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base/xalloc.h"
#include "net/tls_certs.h"
#include "suites.h"

/* Long enough for valgrind, short enough that a stuck handshake fails. */
#define HANDSHAKE_MS 10000

static gnutls_x509_crt_t import(const char *pem)
{
	gnutls_x509_crt_t crt;
	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
	ck_assert_int_eq(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
	return crt;
}

/* The status GnuTLS gives the leaf alone, trusting ca_pem only. */
static unsigned verify(const char *ca_pem, const char *leaf_pem)
{
	gnutls_x509_trust_list_t tl;
	ck_assert_int_eq(gnutls_x509_trust_list_init(&tl, 0), 0);
	gnutls_datum_t ca = {(unsigned char *)ca_pem, (unsigned)strlen(ca_pem)};
	ck_assert_int_eq(gnutls_x509_trust_list_add_trust_mem(tl, &ca, NULL, GNUTLS_X509_FMT_PEM, 0,
							      0),
			 1);
	gnutls_x509_crt_t leaf = import(leaf_pem);
	unsigned status = ~0u;
	ck_assert_int_eq(gnutls_x509_trust_list_verify_crt2(tl, &leaf, 1, NULL, 0, 0, &status,
							    NULL),
			 0);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_trust_list_deinit(tl, 1);
	return status;
}

static bool names(const char *leaf_pem, const char *host)
{
	gnutls_x509_crt_t leaf = import(leaf_pem);
	bool ok = gnutls_x509_crt_check_hostname(leaf, host) != 0;
	gnutls_x509_crt_deinit(leaf);
	return ok;
}

/* The certificate's subject CN (new). */
static char *cn_of(const char *pem)
{
	gnutls_x509_crt_t crt = import(pem);
	char cn[256];
	size_t len = sizeof cn;
	ck_assert_int_eq(gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn,
						       &len),
			 0);
	gnutls_x509_crt_deinit(crt);
	return xstrdup(cn);
}

static struct tls_certs *must_auto(const char *name)
{
	char err[256] = "";
	struct tls_certs *c = tls_certs_auto(name, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	return c;
}

START_TEST(test_kind_names)
{
	static const char *const want[TLS_CERT_KINDS] = {"valid", "expired", "not_yet_valid",
							 "wrong_name", "untrusted"};
	for (int k = 0; k < TLS_CERT_KINDS; k++) {
		ck_assert_str_eq(tls_certs_kind_name(k), want[k]);
		ck_assert_int_eq(tls_certs_kind_of(want[k]), k);
	}
	ck_assert_str_eq(tls_certs_kind_name(TLS_CERT_KINDS), "?");
	ck_assert_int_eq(tls_certs_kind_of("Valid"), -1);
	ck_assert_int_eq(tls_certs_kind_of("self_signed"), -1);
	ck_assert_int_eq(tls_certs_kind_of(""), -1);
	ck_assert_int_eq(tls_certs_kind_of(NULL), -1);
}
END_TEST

/* What GnuTLS makes of each kind's leaf, trusting upsim's CA (in the
 * order of enum tls_cert_kind: judged[kind] is kind's). */
static const struct {
	enum tls_cert_kind kind;
	unsigned status;
	bool names_it; /* check_hostname of the name given */
} judged[] = {
	{TLS_CERT_VALID, 0, true},
	{TLS_CERT_EXPIRED, GNUTLS_CERT_INVALID | GNUTLS_CERT_EXPIRED, true},
	{TLS_CERT_NOT_YET_VALID, GNUTLS_CERT_INVALID | GNUTLS_CERT_NOT_ACTIVATED, true},
	{TLS_CERT_WRONG_NAME, 0, false},
	{TLS_CERT_UNTRUSTED, GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND, true},
};

START_TEST(test_kind_verifies_as_meant)
{
	struct tls_certs *c = must_auto("upstream.test");
	const char *leaf = tls_certs_leaf_pem(c, judged[_i].kind);
	ck_assert_uint_eq(verify(tls_certs_ca_pem(c), leaf), judged[_i].status);
	ck_assert_int_eq(names(leaf, "upstream.test"), judged[_i].names_it);
	ck_assert_int_eq(names(leaf, "localhost"), judged[_i].names_it);
	ck_assert_int_eq(names(leaf, "127.0.0.1"), judged[_i].names_it);
	ck_assert_int_eq(names(leaf, "::1"), judged[_i].names_it);
	ck_assert_int_eq(names(leaf, TLS_CERTS_WRONG_NAME), !judged[_i].names_it);
	ck_assert(!names(leaf, "other.test"));
	ck_assert_ptr_nonnull(tls_certs_credentials(c, judged[_i].kind));
	tls_certs_free(c);
}
END_TEST

/* The hostname given with the chain: GnuTLS's verdict as a client's. */
START_TEST(test_wrong_name_is_an_unexpected_owner)
{
	struct tls_certs *c = must_auto("upstream.test");
	gnutls_x509_trust_list_t tl;
	ck_assert_int_eq(gnutls_x509_trust_list_init(&tl, 0), 0);
	gnutls_datum_t ca = {(unsigned char *)tls_certs_ca_pem(c),
			     (unsigned)strlen(tls_certs_ca_pem(c))};
	ck_assert_int_eq(gnutls_x509_trust_list_add_trust_mem(tl, &ca, NULL, GNUTLS_X509_FMT_PEM, 0,
							      0),
			 1);
	gnutls_typed_vdata_st host = {GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)"upstream.test", 0};
	for (int k = TLS_CERT_VALID; k <= TLS_CERT_WRONG_NAME; k += TLS_CERT_WRONG_NAME) {
		gnutls_x509_crt_t leaf = import(tls_certs_leaf_pem(c, k));
		unsigned status = ~0u;
		ck_assert_int_eq(gnutls_x509_trust_list_verify_crt2(tl, &leaf, 1, &host, 1, 0,
								    &status, NULL),
				 0);
		ck_assert_uint_eq(status,
				  k == TLS_CERT_VALID
					  ? 0
					  : GNUTLS_CERT_INVALID | GNUTLS_CERT_UNEXPECTED_OWNER);
		gnutls_x509_crt_deinit(leaf);
	}
	gnutls_x509_trust_list_deinit(tl, 1);
	tls_certs_free(c);
}
END_TEST

/* Each run is a new CA: a leaf of one run is nobody's in another. */
START_TEST(test_each_run_its_own_ca)
{
	struct tls_certs *a = must_auto("upstream.test"), *b = must_auto("upstream.test");
	ck_assert_str_ne(tls_certs_ca_pem(a), tls_certs_ca_pem(b));
	ck_assert_uint_eq(verify(tls_certs_ca_pem(b), tls_certs_leaf_pem(a, TLS_CERT_VALID)),
			  GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND);
	tls_certs_free(a);
	tls_certs_free(b);
}
END_TEST

/* The leaves are for serving TLS, and nothing else. */
START_TEST(test_leaf_is_a_server_leaf)
{
	struct tls_certs *c = must_auto("upstream.test");
	gnutls_x509_crt_t leaf = import(tls_certs_leaf_pem(c, TLS_CERT_VALID));
	unsigned critical = 0;
	ck_assert_int_eq(gnutls_x509_crt_get_ca_status(leaf, &critical), 0);
	unsigned usage = 0;
	ck_assert_int_eq(gnutls_x509_crt_get_key_usage(leaf, &usage, &critical), 0);
	ck_assert_uint_eq(usage, GNUTLS_KEY_DIGITAL_SIGNATURE);
	ck_assert(gnutls_x509_crt_check_key_purpose(leaf, GNUTLS_KP_TLS_WWW_SERVER, 0));
	ck_assert(!gnutls_x509_crt_check_key_purpose(leaf, GNUTLS_KP_TLS_WWW_CLIENT, 0));
	ck_assert_int_eq(gnutls_x509_crt_get_pk_algorithm(leaf, NULL), GNUTLS_PK_ECDSA);
	char *cn = cn_of(tls_certs_leaf_pem(c, TLS_CERT_VALID));
	ck_assert_str_eq(cn, "upstream.test");
	free(cn);
	cn = cn_of(tls_certs_ca_pem(c));
	ck_assert_str_eq(cn, "upsim test CA");
	free(cn);
	gnutls_x509_crt_t ca = import(tls_certs_ca_pem(c));
	ck_assert_int_eq(gnutls_x509_crt_get_ca_status(ca, &critical), 1);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(leaf);
	tls_certs_free(c);
}
END_TEST

/* Literals go in IP SANs, names in DNS SANs; loopback names once. */
static const struct {
	const char *name;
	const char *host; /* what a client asks for */
	unsigned sans;	  /* how many subject alt names */
} literals[] = {
	{"2001:db8::5", "2001:db8::5", 4},     {"[2001:db8::5]", "2001:db8::5", 4},
	{"192.0.2.7", "192.0.2.7", 4},	       {"::1", "::1", 3},
	{"127.0.0.1", "127.0.0.1", 3},	       {"localhost", "localhost", 3},
	{"Upstream.Test", "upstream.test", 4},
};

START_TEST(test_name_kinds)
{
	struct tls_certs *c = must_auto(literals[_i].name);
	for (int k = 0; k < TLS_CERT_KINDS; k++) {
		const char *leaf = tls_certs_leaf_pem(c, k);
		ck_assert_int_eq(names(leaf, literals[_i].host), k != TLS_CERT_WRONG_NAME);
		ck_assert_int_eq(names(leaf, "::1"), k != TLS_CERT_WRONG_NAME);
	}
	gnutls_x509_crt_t leaf = import(tls_certs_leaf_pem(c, TLS_CERT_VALID));
	unsigned n = 0;
	char buf[64];
	size_t len = sizeof buf;
	while (gnutls_x509_crt_get_subject_alt_name(leaf, n, buf, &len, NULL) >= 0) {
		n++;
		len = sizeof buf;
	}
	ck_assert_uint_eq(n, literals[_i].sans);
	unsigned char ip[16];
	int v6 = strchr(literals[_i].host, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, literals[_i].host, ip) == 1)
		ck_assert(gnutls_x509_crt_check_ip(leaf, ip, v6 ? 16 : 4, 0));
	gnutls_x509_crt_deinit(leaf);
	tls_certs_free(c);
}
END_TEST

START_TEST(test_bad_names)
{
	static const char *const bad[] = {"", "[]", "two words", "a/b", "[upstream.test]"};
	char err[256];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_ptr_null(tls_certs_auto(bad[i], err, sizeof err));
		char *want = xasprintf("tls: \"%s\": not a DNS name or IP address", bad[i]);
		ck_assert_str_eq(err, want);
		free(want);
	}
	ck_assert_ptr_null(tls_certs_auto(NULL, err, sizeof err));
	ck_assert_str_eq(err, "tls: \"\": not a DNS name or IP address");
	ck_assert_ptr_null(tls_certs_auto("", NULL, 0)); /* no room for a reason */
}
END_TEST

/* --- the user's files --- */

/* A user's own PKI, made here with GnuTLS: a CA and a leaf for cn on a
 * P-384 key, so they differ from anything upsim makes. */
struct user_pair {
	char *chain; /* the leaf's PEM, then the CA's */
	char *leaf;
	char *ca;
	char *key;	/* the leaf's key, PKCS#8 */
	char *key_sec1; /* the same as "EC PRIVATE KEY" */
};

static char *pem_of(gnutls_x509_crt_t crt)
{
	gnutls_datum_t d;
	ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), 0);
	char *s = xmemdup(d.data, d.size);
	gnutls_free(d.data);
	return s;
}

static gnutls_x509_privkey_t p384(void)
{
	gnutls_x509_privkey_t key;
	ck_assert_int_eq(gnutls_x509_privkey_init(&key), 0);
	ck_assert_int_eq(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
						      GNUTLS_CURVE_TO_BITS(
							      GNUTLS_ECC_CURVE_SECP384R1),
						      0),
			 0);
	return key;
}

static gnutls_x509_crt_t user_crt(gnutls_x509_privkey_t key, const char *cn, bool ca)
{
	gnutls_x509_crt_t crt;
	time_t now = time(NULL);
	unsigned char serial[] = {0x01, 0x02, ca};
	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_version(crt, 3), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_serial(crt, serial, sizeof serial), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key(crt, key), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_activation_time(crt, now - 3600), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(crt, now + 86400), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						       (unsigned)strlen(cn)),
			 0);
	ck_assert_int_eq(gnutls_x509_crt_set_basic_constraints(crt, ca, -1), 0);
	if (!ca)
		ck_assert_int_eq(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, cn,
								      (unsigned)strlen(cn), 0),
				 0);
	return crt;
}

static struct user_pair user_pair(const char *cn)
{
	struct user_pair p;
	gnutls_x509_privkey_t ca_key = p384(), key = p384();
	gnutls_x509_crt_t ca = user_crt(ca_key, "user CA", true);
	ck_assert_int_eq(gnutls_x509_crt_sign2(ca, ca, ca_key, GNUTLS_DIG_SHA384, 0), 0);
	gnutls_x509_crt_t leaf = user_crt(key, cn, false);
	ck_assert_int_eq(gnutls_x509_crt_sign2(leaf, ca, ca_key, GNUTLS_DIG_SHA384, 0), 0);
	p.leaf = pem_of(leaf);
	p.ca = pem_of(ca);
	p.chain = xasprintf("%s%s", p.leaf, p.ca);
	gnutls_datum_t d;
	ck_assert_int_eq(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
							   GNUTLS_PKCS_PLAIN, &d),
			 0);
	p.key = xmemdup(d.data, d.size);
	gnutls_free(d.data);
	ck_assert_int_eq(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d), 0);
	p.key_sec1 = xmemdup(d.data, d.size);
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(ca_key);
	return p;
}

static void user_pair_free(struct user_pair *p)
{
	free(p->chain);
	free(p->leaf);
	free(p->ca);
	free(p->key);
	free(p->key_sec1);
}

/* An encrypted key, made once with gnutls_x509_privkey_export2_pkcs8
 * (password "secret"): made here, its 600000 rounds of PBKDF2 would cost
 * 70 ms, and seconds under valgrind. */
static const char encrypted_key[] =
	"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
	"MIIBADBbBgkqhkiG9w0BBQ0wTjAtBgkqhkiG9w0BBQwwIAQNK5IZFMCUZmQMBRQK\n"
	"HQIDCSfAMAoGCCqGSIb3DQIJMB0GCWCGSAFlAwQBAgQQhYQLbDR2KfPh8bjwpySL\n"
	"pQSBoAX/9DZfM0RBWht74jqMUji3LsfBWYxkJbwmb/TGDe5IAzi1q8J4N5ehYpov\n"
	"AxE7UJciinzVaawxre0XyREE8ANRlkr0GZaIx9/cJsYX+VhJ2wgVmqonVseXfDDx\n"
	"YvEr7Y7ECGKCmh3giOteuQpb15PKjAjD0/IFy8G0mQ81JbSbgcMtzPJSCWugrQhS\n"
	"+XYxZjJ4dWfO3jViAmF3vTVZsVQ=\n"
	"-----END ENCRYPTED PRIVATE KEY-----\n";

/* OpenSSL's legacy encryption, which GnuTLS cannot read at all. */
static const char legacy_encrypted_key[] =
	"-----BEGIN EC PRIVATE KEY-----\n"
	"Proc-Type: 4,ENCRYPTED\n"
	"DEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n"
	"\n"
	"AAAA\n"
	"-----END EC PRIVATE KEY-----\n";

/* A P-256 key as openssl genpkey (and openssl req) writes it, made once
 * for these tests. */
static const char openssl_p256_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgT73eRjTc1yXZ3K+d\n"
	"GrFlv2blalaWvfKtnZuGV2V6f8uhRANCAASJenP102Hb+WtcEf3OCutTNAsDruxN\n"
	"e+t6TSuEkQhZhYlibMlUEEhPh0NB/6KfHVV3/MdA48Vh7Ht6iRQjbG5t\n"
	"-----END PRIVATE KEY-----\n";

/* A new temporary file holding text; the caller unlinks and frees. */
static char *temp_file(const char *text)
{
	char *path = xstrdup("/tmp/upsim-tls-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	size_t len = strlen(text);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

static void drop_file(char *path)
{
	ck_assert_int_eq(unlink(path), 0);
	free(path);
}

START_TEST(test_load_serves_the_user_chain)
{
	struct user_pair u = user_pair("user.test");
	char *cert = temp_file(u.chain);
	char *keys[] = {temp_file(u.key), temp_file(u.key_sec1)};
	for (int i = 0; i < 2; i++) {
		char err[256] = "";
		struct tls_certs *c = tls_certs_load(cert, keys[i], "upstream.test", err,
						     sizeof err);
		ck_assert_msg(c != NULL, "%s", err);
		ck_assert_str_eq(tls_certs_leaf_pem(c, TLS_CERT_VALID), u.leaf);
		ck_assert_uint_eq(verify(u.ca, tls_certs_leaf_pem(c, TLS_CERT_VALID)), 0);
		/* The faulty kinds are still upsim's, for the name given. */
		for (int k = TLS_CERT_EXPIRED; k < TLS_CERT_KINDS; k++)
			ck_assert_uint_eq(verify(tls_certs_ca_pem(c), tls_certs_leaf_pem(c, k)),
					  judged[k].status);
		ck_assert(names(tls_certs_leaf_pem(c, TLS_CERT_EXPIRED), "upstream.test"));
		/* ...and so untrusted where only the user's CA is. */
		ck_assert_uint_eq(verify(u.ca, tls_certs_leaf_pem(c, TLS_CERT_WRONG_NAME)),
				  GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND);
		ck_assert_uint_eq(verify(u.ca, tls_certs_leaf_pem(c, TLS_CERT_EXPIRED)),
				  GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND
					  | GNUTLS_CERT_EXPIRED);
		tls_certs_free(c);
	}
	drop_file(cert);
	drop_file(keys[0]);
	drop_file(keys[1]);
	user_pair_free(&u);
}
END_TEST

/* The leaf and key PEM a server starts with must be a pair, for upsim's
 * own leaf and for the user's (whose key file may hold the chain too). */
static void assert_start_pair(const struct tls_certs *c)
{
	const char *cert = tls_certs_leaf_pem(c, TLS_CERT_VALID), *key = tls_certs_key_pem(c);
	ck_assert_ptr_nonnull(key);
	ck_assert_ptr_nonnull(strstr(key, "PRIVATE KEY-----"));
	ck_assert_ptr_null(strstr(key, "CERTIFICATE"));
	gnutls_certificate_credentials_t cred;
	gnutls_certificate_allocate_credentials(&cred);
	gnutls_datum_t dc = {(unsigned char *)cert, (unsigned)strlen(cert)};
	gnutls_datum_t dk = {(unsigned char *)key, (unsigned)strlen(key)};
	ck_assert_int_ge(gnutls_certificate_set_x509_key_mem(cred, &dc, &dk, GNUTLS_X509_FMT_PEM),
			 0);
	gnutls_certificate_free_credentials(cred);
}

START_TEST(test_start_pair)
{
	char err[256] = "";
	struct tls_certs *c = tls_certs_auto("upstream.test", err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	assert_start_pair(c);
	tls_certs_free(c);
	struct user_pair u = user_pair("user.test");
	char *both = xasprintf("%s%s", u.chain, u.key_sec1);
	char *path = temp_file(both);
	c = tls_certs_load(path, path, "upstream.test", err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	assert_start_pair(c);
	tls_certs_free(c);
	drop_file(path);
	free(both);
	user_pair_free(&u);
	/* OpenSSL's PKCS#8 EC key names the curve only in the algorithm
	 * around the EC key (GnuTLS's names it inside too). */
	gnutls_x509_privkey_t key;
	gnutls_datum_t dk = {(unsigned char *)openssl_p256_key, sizeof openssl_p256_key - 1};
	ck_assert_int_eq(gnutls_x509_privkey_init(&key), 0);
	ck_assert_int_eq(gnutls_x509_privkey_import(key, &dk, GNUTLS_X509_FMT_PEM), 0);
	gnutls_x509_crt_t crt = user_crt(key, "user.test", false);
	ck_assert_int_eq(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	char *leaf = pem_of(crt), *cert_path = temp_file(leaf),
	     *key_path = temp_file(openssl_p256_key);
	c = tls_certs_load(cert_path, key_path, "upstream.test", err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	assert_start_pair(c);
	tls_certs_free(c);
	drop_file(cert_path);
	drop_file(key_path);
	free(leaf);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}
END_TEST

/* One file with the chain and the key, as HAProxy takes them: named by
 * both options. */
START_TEST(test_load_one_combined_file)
{
	struct user_pair u = user_pair("user.test");
	char *both = xasprintf("%s%s", u.chain, u.key_sec1);
	char *path = temp_file(both);
	char err[256] = "";
	struct tls_certs *c = tls_certs_load(path, path, "upstream.test", err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(tls_certs_leaf_pem(c, TLS_CERT_VALID), u.leaf);
	tls_certs_free(c);
	drop_file(path);
	free(both);
	user_pair_free(&u);
}
END_TEST

START_TEST(test_load_errors)
{
	struct user_pair u = user_pair("user.test"), other = user_pair("user.test");
	char *cert = temp_file(u.chain), *key = temp_file(u.key);
	char *not_pem = temp_file("hello, not a certificate\n");
	char *other_key = temp_file(other.key), *enc_key = temp_file(encrypted_key);
	char *legacy_key = temp_file(legacy_encrypted_key);
	char *ca_first = xasprintf("%s%s", u.ca, u.leaf);
	char *unsorted = temp_file(ca_first);
	char err[512], want[512];

	ck_assert_ptr_null(tls_certs_load("/nonexistent/cert.pem", key, "u.test", err, sizeof err));
	ck_assert_str_eq(err, "/nonexistent/cert.pem: No such file or directory");
	ck_assert_ptr_null(tls_certs_load(cert, "/nonexistent/key.pem", "u.test", err, sizeof err));
	ck_assert_str_eq(err, "/nonexistent/key.pem: No such file or directory");
	ck_assert_ptr_null(tls_certs_load("/tmp", key, "u.test", err, sizeof err));
	ck_assert_str_eq(err, "/tmp: Is a directory");
	ck_assert_ptr_null(tls_certs_load("/dev/zero", key, "u.test", err, sizeof err));
	ck_assert_str_eq(err, "/dev/zero: larger than 1048576 bytes");

	ck_assert_ptr_null(tls_certs_load(not_pem, key, "u.test", err, sizeof err));
	snprintf(want, sizeof want, "%s: not a PEM certificate", not_pem);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(tls_certs_load(key, key, "u.test", err, sizeof err));
	snprintf(want, sizeof want, "%s: not a PEM certificate", key);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(tls_certs_load(cert, not_pem, "u.test", err, sizeof err));
	snprintf(want, sizeof want, "%s: not a PEM private key", not_pem);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(tls_certs_load(cert, cert, "u.test", err, sizeof err));
	snprintf(want, sizeof want, "%s: not a PEM private key", cert);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(tls_certs_load(cert, enc_key, "u.test", err, sizeof err));
	snprintf(want, sizeof want, "%s: an encrypted private key (give it unencrypted)", enc_key);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(tls_certs_load(cert, legacy_key, "u.test", err, sizeof err));
	snprintf(want, sizeof want, "%s: an encrypted private key (give it unencrypted)",
		 legacy_key);
	ck_assert_str_eq(err, want);

	ck_assert_ptr_null(tls_certs_load(cert, other_key, "u.test", err, sizeof err));
	snprintf(want, sizeof want, "the key in %s does not match the first certificate in %s",
		 other_key, cert);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(tls_certs_load(unsorted, key, "u.test", err, sizeof err));
	snprintf(want, sizeof want, "the key in %s does not match the first certificate in %s", key,
		 unsorted);
	ck_assert_str_eq(err, want);

	ck_assert_ptr_null(tls_certs_load(NULL, key, "u.test", err, sizeof err));
	ck_assert_str_eq(err, "--tls-key needs --tls-cert");
	ck_assert_ptr_null(tls_certs_load(cert, NULL, "u.test", err, sizeof err));
	ck_assert_str_eq(err, "--tls-cert needs --tls-key");
	ck_assert_ptr_null(tls_certs_load(cert, key, "two words", err, sizeof err));
	ck_assert_str_eq(err, "tls: \"two words\": not a DNS name or IP address");

	free(ca_first);
	drop_file(unsorted);
	drop_file(cert);
	drop_file(key);
	drop_file(not_pem);
	drop_file(other_key);
	drop_file(enc_key);
	drop_file(legacy_key);
	user_pair_free(&u);
	user_pair_free(&other);
}
END_TEST

START_TEST(test_write_ca)
{
	struct tls_certs *c = must_auto("upstream.test");
	char dir[] = "/tmp/upsim-tls-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *path = xasprintf("%s/ca.pem", dir);
	char err[256] = "";
	for (int pass = 0; pass < 2; pass++) { /* made, then replaced */
		ck_assert_int_eq(tls_certs_write_ca(c, path, err, sizeof err), 0);
		FILE *f = fopen(path, "rb");
		ck_assert_ptr_nonnull(f);
		char buf[8192];
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		ck_assert_str_eq(buf, tls_certs_ca_pem(c));
	}
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(tls_certs_write_ca(c, path, err, sizeof err), -1);
	char *want = xasprintf("%s.tmp: No such file or directory", path);
	ck_assert_str_eq(err, want);
	free(want);
	free(path);
	tls_certs_free(c);
}
END_TEST

/* --- handshakes over a socketpair, the server in a thread --- */

struct server {
	int fd;
	gnutls_certificate_credentials_t cred;
	int ret; /* the server's gnutls_handshake */
};

static int handshake_on(gnutls_session_t s, int fd)
{
	int ret;
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, HANDSHAKE_MS);
	do
		ret = gnutls_handshake(s);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	return ret;
}

static void *serve(void *arg)
{
	struct server *sv = arg;
	gnutls_session_t s;
	/* No ck_assert here: Check's failures belong to the test's thread. */
	sv->ret = gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NO_SIGNAL);
	if (sv->ret != 0)
		return NULL;
	sv->ret = gnutls_set_default_priority(s);
	if (sv->ret == 0)
		sv->ret = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, sv->cred);
	if (sv->ret == 0)
		sv->ret = handshake_on(s, sv->fd);
	gnutls_deinit(s);
	return NULL;
}

/* What the client saw. */
struct seen {
	int client; /* the client's gnutls_handshake */
	int server;
	unsigned status; /* gnutls_session_get_verify_cert_status */
	gnutls_protocol_t version;
	unsigned n_peers;
	char *peers[2]; /* the certificates the server sent, as PEM */
};

static char *der_to_pem(const gnutls_datum_t *der)
{
	gnutls_x509_crt_t crt;
	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER), 0);
	char *pem = pem_of(crt);
	gnutls_x509_crt_deinit(crt);
	return pem;
}

/* What a client trusting ca_pem and asking for host sees of a server
 * with server_cred; priority NULL: GnuTLS's default (TLS 1.3 here). */
static struct seen handshake(gnutls_certificate_credentials_t server_cred, const char *ca_pem,
			     const char *host, const char *priority)
{
	struct seen seen = {0};
	int pair[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
	struct server sv = {pair[1], server_cred, 0};
	pthread_t thread;
	ck_assert_int_eq(pthread_create(&thread, NULL, serve, &sv), 0);

	gnutls_certificate_credentials_t cred;
	ck_assert_int_eq(gnutls_certificate_allocate_credentials(&cred), 0);
	gnutls_datum_t ca = {(unsigned char *)ca_pem, (unsigned)strlen(ca_pem)};
	ck_assert_int_eq(gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM), 1);
	gnutls_session_t s;
	ck_assert_int_eq(gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL), 0);
	if (priority != NULL)
		ck_assert_int_eq(gnutls_priority_set_direct(s, priority, NULL), 0);
	else
		ck_assert_int_eq(gnutls_set_default_priority(s), 0);
	ck_assert_int_eq(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred), 0);
	ck_assert_int_eq(gnutls_server_name_set(s, GNUTLS_NAME_DNS, host, strlen(host)), 0);
	/* The name and serverAuth, as OpenSSL checks them: GnuTLS's own
	 * gnutls_session_set_verify_cert checks the name alone. */
	gnutls_typed_vdata_st want[] = {
		{GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)host, 0},
		{GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0},
	};
	gnutls_session_set_verify_cert2(s, want, 2, 0);
	seen.client = handshake_on(s, pair[0]);
	seen.status = gnutls_session_get_verify_cert_status(s);
	seen.version = gnutls_protocol_get_version(s);
	const gnutls_datum_t *peers = gnutls_certificate_get_peers(s, &seen.n_peers);
	for (unsigned i = 0; i < seen.n_peers && i < 2; i++)
		seen.peers[i] = der_to_pem(&peers[i]);
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(pair[0]); /* a server still waiting sees the end */
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	close(pair[1]);
	seen.server = sv.ret;
	return seen;
}

static void seen_free(struct seen *seen)
{
	free(seen->peers[0]);
	free(seen->peers[1]);
}

/* Every kind's credentials in a real handshake: what the client's
 * verification says, and the chain sent (the leaf, then its CA). */
START_TEST(test_handshake_per_kind)
{
	struct tls_certs *c = must_auto("upstream.test");
	enum tls_cert_kind kind = judged[_i].kind;
	unsigned want = judged[_i].status;
	if (kind == TLS_CERT_WRONG_NAME)
		want = GNUTLS_CERT_INVALID | GNUTLS_CERT_UNEXPECTED_OWNER;
	struct seen seen = handshake(tls_certs_credentials(c, kind), tls_certs_ca_pem(c),
				     "upstream.test", NULL);
	ck_assert_uint_eq(seen.status, want);
	if (want == 0) {
		ck_assert_int_eq(seen.client, 0);
		ck_assert_int_eq(seen.server, 0);
	} else {
		ck_assert_int_eq(seen.client, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
		ck_assert_int_lt(seen.server, 0);
	}
	ck_assert_uint_eq(seen.n_peers, 2);
	ck_assert_str_eq(seen.peers[0], tls_certs_leaf_pem(c, kind));
	if (kind == TLS_CERT_UNTRUSTED) {
		char *cn = cn_of(seen.peers[1]);
		ck_assert_str_eq(cn, "upsim untrusted CA");
		free(cn);
	} else {
		ck_assert_str_eq(seen.peers[1], tls_certs_ca_pem(c));
	}
	seen_free(&seen);
	tls_certs_free(c);
}
END_TEST

/* Loopback clients verify whatever name upsim was given. */
START_TEST(test_handshake_localhost)
{
	struct tls_certs *c = must_auto("upstream.test");
	struct seen seen = handshake(tls_certs_credentials(c, TLS_CERT_VALID), tls_certs_ca_pem(c),
				     "localhost", NULL);
	ck_assert_int_eq(seen.client, 0);
	ck_assert_uint_eq(seen.status, 0);
	ck_assert_int_eq(seen.version, GNUTLS_TLS1_3);
	seen_free(&seen);
	tls_certs_free(c);
}
END_TEST

/* A gateway that speaks TLS 1.2 at most gets the same chain and verdicts. */
START_TEST(test_handshake_tls12)
{
	struct tls_certs *c = must_auto("upstream.test");
	for (int k = 0; k < TLS_CERT_KINDS; k++) {
		struct seen seen = handshake(tls_certs_credentials(c, k), tls_certs_ca_pem(c),
					     "upstream.test", "NORMAL:-VERS-ALL:+VERS-TLS1.2");
		unsigned want = k == TLS_CERT_WRONG_NAME
					? GNUTLS_CERT_INVALID | GNUTLS_CERT_UNEXPECTED_OWNER
					: judged[k].status;
		ck_assert_uint_eq(seen.status, want);
		ck_assert_int_eq(seen.client,
				 want == 0 ? 0 : GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
		ck_assert_int_eq(seen.version, GNUTLS_TLS1_2);
		ck_assert_uint_eq(seen.n_peers, 2);
		seen_free(&seen);
	}
	tls_certs_free(c);
}
END_TEST

START_TEST(test_handshake_user_chain)
{
	struct user_pair u = user_pair("user.test");
	char *cert = temp_file(u.chain), *key = temp_file(u.key);
	char err[256] = "";
	struct tls_certs *c = tls_certs_load(cert, key, "upstream.test", err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	struct seen seen = handshake(tls_certs_credentials(c, TLS_CERT_VALID), u.ca, "user.test",
				     NULL);
	ck_assert_int_eq(seen.client, 0);
	ck_assert_uint_eq(seen.status, 0);
	ck_assert_uint_eq(seen.n_peers, 2);
	ck_assert_str_eq(seen.peers[0], u.leaf);
	ck_assert_str_eq(seen.peers[1], u.ca);
	seen_free(&seen);
	seen = handshake(tls_certs_credentials(c, TLS_CERT_EXPIRED), tls_certs_ca_pem(c),
			 "upstream.test", NULL);
	ck_assert_uint_eq(seen.status, GNUTLS_CERT_INVALID | GNUTLS_CERT_EXPIRED);
	seen_free(&seen);
	tls_certs_free(c);
	drop_file(cert);
	drop_file(key);
	user_pair_free(&u);
}
END_TEST

Suite *tls_certs_suite(void)
{
	Suite *s = suite_create("tls_certs");
	TCase *tc = tcase_create("kinds");
	tcase_add_test(tc, test_kind_names);
	tcase_add_loop_test(tc, test_kind_verifies_as_meant, 0, TLS_CERT_KINDS);
	tcase_add_test(tc, test_wrong_name_is_an_unexpected_owner);
	tcase_add_test(tc, test_each_run_its_own_ca);
	tcase_add_test(tc, test_leaf_is_a_server_leaf);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_loop_test(tc, test_name_kinds, 0, (int)(sizeof literals / sizeof literals[0]));
	tcase_add_test(tc, test_bad_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, test_load_serves_the_user_chain);
	tcase_add_test(tc, test_load_one_combined_file);
	tcase_add_test(tc, test_start_pair);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_write_ca);
	suite_add_tcase(s, tc);

	tc = tcase_create("handshake");
	tcase_set_timeout(tc, 30); /* each handshake is bounded by HANDSHAKE_MS */
	tcase_add_loop_test(tc, test_handshake_per_kind, 0, TLS_CERT_KINDS);
	tcase_add_test(tc, test_handshake_localhost);
	tcase_add_test(tc, test_handshake_tls12);
	tcase_add_test(tc, test_handshake_user_chain);
	suite_add_tcase(s, tc);
	return s;
}

/* curl_lib: libcurl, loaded the first time `upsim ctl`, `upsim check` (or
 * a test's admin client) needs it, never at start-up.
 *
 * libcurl brings some twenty shared libraries with it (OpenSSL, Kerberos,
 * LDAP, SSH, HTTP/2...). Linked into upsim they cost every `upsim run` 8
 * ms of dynamic loading before main, on a machine where harnesses start
 * upsim for every test; the server never uses any of them. */
#ifndef UPSIM_NET_CURL_LIB_H
#define UPSIM_NET_CURL_LIB_H

#include <curl/curl.h>

/* The libcurl functions upsim calls, with libcurl's own types. */
struct curl_lib {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_global_cleanup) *global_cleanup;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_easy_escape) *easy_escape;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_reset) *easy_reset;
	__typeof__(curl_easy_pause) *easy_pause;
	__typeof__(curl_free) *free;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	/* the multi interface, driven by upsim's loop (net/curl_loop) */
	__typeof__(curl_multi_init) *multi_init;
	__typeof__(curl_multi_setopt) *multi_setopt;
	__typeof__(curl_multi_add_handle) *multi_add_handle;
	__typeof__(curl_multi_remove_handle) *multi_remove_handle;
	__typeof__(curl_multi_socket_action) *multi_socket_action;
	__typeof__(curl_multi_info_read) *multi_info_read;
	__typeof__(curl_multi_assign) *multi_assign;
	__typeof__(curl_multi_cleanup) *multi_cleanup;
};

/* libcurl (libcurl.so.4), loaded once from any thread. NULL when it cannot
 * be loaded, with the loader's reason in *why. */
const struct curl_lib *curl_lib(const char **why);

#endif

/* curl_loop: libcurl's multi interface driven by upsim's event loop.
 *
 * libcurl says which sockets to watch and for what (CURLMOPT_SOCKETFUNCTION)
 * and when it next needs a call (CURLMOPT_TIMERFUNCTION); this module keeps
 * a loop_io per socket and one loop_timer, and hands every event back with
 * curl_multi_socket_action. No thread, no poll of its own: transfers run
 * beside the servers on the same loop, and each ends in a callback there. */
#ifndef UPSIM_NET_CURL_LOOP_H
#define UPSIM_NET_CURL_LOOP_H

#include <curl/curl.h>

#include "net/curl_lib.h"
#include "net/loop.h"

struct curl_loop;

/* A transfer ended (result: CURLE_OK or why not). The callee owns easy
 * again (and may reuse or clean it up, or add new transfers). */
typedef void (*curl_loop_done_fn)(void *arg, CURL *easy, CURLcode result);

/* A multi handle on loop, using lib (from curl_lib()). NULL when libcurl
 * refuses (logged). */
struct curl_loop *curl_loop_new(struct loop *loop, const struct curl_lib *lib);
/* Abandon every transfer still running (no callback) and free. NULL
 * accepted. The easy handles of abandoned transfers are cleaned up. */
void curl_loop_free(struct curl_loop *cl);

/* Start easy (set up by the caller; CURLOPT_PRIVATE is this module's);
 * done(arg, easy, result) is called from the loop when it ends. Returns 0,
 * or -1 when libcurl refuses the handle. */
int curl_loop_add(struct curl_loop *cl, CURL *easy, curl_loop_done_fn done, void *arg);

/* Stop easy's transfer (added with curl_loop_add, not yet ended) without
 * calling its done; the caller owns easy again. */
void curl_loop_cancel(struct curl_loop *cl, CURL *easy);

/* Transfers running now. */
unsigned curl_loop_running(const struct curl_loop *cl);

#endif

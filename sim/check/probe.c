#include "check/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "engine/body.h"

/* One transfer in flight. */
struct transfer {
	const struct probe_target *target;
	probe_done_fn done;
	void *arg;
	struct probe_answer answer;
	struct curl_slist *headers;
	char *url;
	char *body; /* a generated body, owned */
	uint64_t start_ns;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	(void)data;
	t->answer.body_bytes += size * n;
	return size * n;
}

static void clear_headers(struct probe_answer *a)
{
	scenario_headers_free(a->headers, a->n_headers);
	a->headers = NULL;
	a->n_headers = 0;
}

/* Header lines of every response on the way (1xx, redirects are not
 * followed): a status line starts the list over, so the final one stays. */
static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		clear_headers(&t->answer);
		return size * n;
	}
	const char *colon = memchr(line, ':', len);
	if (colon == NULL || colon == line)
		return size * n;
	const char *value = colon + 1;
	while (value < line + len && (*value == ' ' || *value == '\t'))
		value++;
	struct probe_answer *a = &t->answer;
	a->headers = xrealloc(a->headers, (a->n_headers + 1) * sizeof *a->headers);
	a->headers[a->n_headers++] = (struct header){
		xmemdup(line, (size_t)(colon - line)),
		xmemdup(value, (size_t)(line + len - value)),
	};
	return size * n;
}

static bool has_header(const struct probe_request *rq, const char *name)
{
	for (size_t i = 0; i < rq->n_headers; i++)
		if (strcasecmp(rq->headers[i].name, name) == 0)
			return true;
	return false;
}

static struct curl_slist *request_headers(const struct curl_lib *lib,
					  const struct probe_request *rq, const char *id_header,
					  const char *id)
{
	struct curl_slist *list = NULL;
	char line[1024];
	for (size_t i = 0; i < rq->n_headers; i++) {
		snprintf(line, sizeof line, "%s: %s", rq->headers[i].name, rq->headers[i].value);
		list = lib->slist_append(list, line);
	}
	snprintf(line, sizeof line, "%s: %s", id_header, id);
	list = lib->slist_append(list, line);
	/* A new client connection every time, said so to the gateway too. */
	if (!has_header(rq, "Connection"))
		list = lib->slist_append(list, "Connection: close");
	/* libcurl would wait for 100-continue before a larger body: only when
	 * the probe asks for it. */
	if (!has_header(rq, "Expect"))
		list = lib->slist_append(list, "Expect:");
	return list;
}

static void set_body(struct transfer *t, CURL *easy, const struct probe_request *rq)
{
	const struct curl_lib *lib = t->target->lib;
	if (rq->body == NULL && !rq->body_generated)
		return;
	const char *bytes = rq->body;
	if (rq->body_generated) {
		t->body = xmalloc(rq->body_len);
		body_pattern(0, t->body, rq->body_len);
		bytes = t->body;
	}
	lib->easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	lib->easy_setopt(easy, CURLOPT_POSTFIELDS, bytes);
}

static void set_method(const struct curl_lib *lib, CURL *easy, const struct probe_request *rq)
{
	bool has_body = rq->body != NULL || rq->body_generated;
	if (strcmp(rq->method, "HEAD") == 0 && !has_body)
		lib->easy_setopt(easy, CURLOPT_NOBODY, 1L);
	else if (strcmp(rq->method, "GET") != 0 || has_body)
		lib->easy_setopt(easy, CURLOPT_CUSTOMREQUEST, rq->method);
}

static void free_transfer(struct transfer *t)
{
	t->target->lib->slist_free_all(t->headers);
	clear_headers(&t->answer);
	free(t->answer.error);
	free(t->url);
	free(t->body);
	free(t);
}

static void on_done(void *arg, CURL *easy, CURLcode result)
{
	struct transfer *t = arg;
	const struct curl_lib *lib = t->target->lib;
	struct probe_answer *a = &t->answer;
	long code = 0;
	lib->easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	a->status = (int)code;
	a->time_us = (clock_mono_ns() - t->start_ns) / 1000;
	a->complete = result == CURLE_OK;
	a->capped = result == CURLE_OPERATION_TIMEDOUT;
	if (result != CURLE_OK)
		a->error = xstrdup(t->errbuf[0] ? t->errbuf : lib->easy_strerror(result));
	lib->easy_cleanup(easy);
	t->done(t->arg, a);
	free_transfer(t);
}

int probe_send(const struct probe_target *target, const struct probe_request *rq, const char *id,
	       probe_done_fn done, void *arg)
{
	const struct curl_lib *lib = target->lib;
	CURL *easy = lib->easy_init();
	if (easy == NULL) {
		log_error("check: curl_easy_init failed");
		return -1;
	}
	struct transfer *t = xcalloc(1, sizeof *t);
	*t = (struct transfer){.target = target, .done = done, .arg = arg};
	size_t base = strlen(target->through);
	while (base > 0 && target->through[base - 1] == '/')
		base--;
	t->url = xasprintf("%.*s%s", (int)base, target->through, rq->path);
	t->headers = request_headers(lib, rq, target->id_header, id);
	lib->easy_setopt(easy, CURLOPT_URL, t->url);
	lib->easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
	lib->easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
	lib->easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
	lib->easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)target->cap_ms);
	lib->easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	lib->easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf);
	lib->easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	lib->easy_setopt(easy, CURLOPT_WRITEDATA, t);
	lib->easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	lib->easy_setopt(easy, CURLOPT_HEADERDATA, t);
	set_method(lib, easy, rq);
	set_body(t, easy, rq);
	t->start_ns = clock_mono_ns();
	if (curl_loop_add(target->curl, easy, on_done, t) != 0) {
		log_error("check: libcurl refused a transfer to %s", t->url);
		lib->easy_cleanup(easy);
		free_transfer(t);
		return -1;
	}
	return 0;
}

const char *probe_answer_header(const struct probe_answer *a, const char *name)
{
	for (size_t i = 0; i < a->n_headers; i++)
		if (strcasecmp(a->headers[i].name, name) == 0)
			return a->headers[i].value;
	return NULL;
}

int probe_reachable(const struct curl_lib *lib, const char *through, char *why, size_t len)
{
	CURL *easy = lib->easy_init();
	if (easy == NULL) {
		snprintf(why, len, "curl_easy_init failed");
		return -1;
	}
	char errbuf[CURL_ERROR_SIZE] = "";
	lib->easy_setopt(easy, CURLOPT_URL, through);
	lib->easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L);
	lib->easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	lib->easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	lib->easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode rc = lib->easy_perform(easy);
	if (rc != CURLE_OK)
		snprintf(why, len, "%s", errbuf[0] ? errbuf : lib->easy_strerror(rc));
	lib->easy_cleanup(easy);
	return rc == CURLE_OK ? 0 : -1;
}

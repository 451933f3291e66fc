/* engine/render: the exact bytes of a raw response. Actions come from
 * JSON (scenario_parse_action) resolved against a scenario whose default
 * body is "hello\n", as the server resolves them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"
#include "engine/body.h"
#include "engine/render.h"
#include "scenario/model.h"
#include "suites.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char defaults_json[] = "{\"upsim\":1,\"defaults\":{\"body\":\"hello\\n\"}}";

/* Render the action text with opts into out (render_free it). */
static void render_json(const char *json, const struct render_opts *opts, struct render *out)
{
	struct upsim_err err = {0};
	struct scenario *sc = scenario_load_buffer("t", defaults_json, strlen(defaults_json), &err);
	ck_assert_msg(sc != NULL, "defaults: %s", err.count ? err.msgs[0] : "?");
	struct action a, resolved;
	int rc = scenario_parse_action("t", json, &a, &err);
	ck_assert_msg(rc == 0, "%s: %s", json, err.count ? err.msgs[0] : "?");
	scenario_resolve(sc, &a, &resolved);
	render_response(&resolved, opts, out);
	scenario_action_clear(&a);
	scenario_unref(sc);
	err_clear(&err);
}

/* Bytes as C source, for failure messages (NUL and CR/LF visible). */
static char *escaped(const char *p, size_t n)
{
	char *s = malloc(n * 4 + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r')
			k += (size_t)sprintf(s + k, "\\r");
		else if (c == '\n')
			k += (size_t)sprintf(s + k, "\\n");
		else if (c >= 0x20 && c < 0x7f && c != '\\')
			s[k++] = (char)c;
		else
			k += (size_t)sprintf(s + k, "\\x%02x", c);
	}
	s[k] = '\0';
	return s;
}

static void assert_bytes(const char *what, const struct render *r, const char *want, size_t len)
{
	if (r->len == len && memcmp(r->buf, want, len) == 0)
		return;
	char *got = escaped(r->buf, r->len), *exp = escaped(want, len);
	ck_abort_msg("%s: bytes differ:\n  got  \"%s\"\n  want \"%s\"", what, got, exp);
}

#define B(lit) lit, sizeof(lit) - 1
#define HEALTHY "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"

/* ---- whole responses: bytes and the part boundaries ---- */

static const struct {
	const char *what, *json, *reason;
	bool head, close_header;
	const char *want;
	size_t want_len;
	size_t status_end, head_end; /* 0: not checked */
} exact[] = {
	{"healthy", "{}", "OK", false, false, B(HEALTHY), 17, 38},
	{"status, reason, headers in file order",
	 "{\"status\":404,\"headers\":{\"X-A\":\"1\",\"x-b\":\"2\"},\"body\":\"nope\"}",
	 "Not Found", false, false,
	 B("HTTP/1.1 404 Not Found\r\nX-A: 1\r\nx-b: 2\r\nContent-Length: 4\r\n\r\nnope"), 24, 61},
	{"header pairs keep duplicates and case", "{\"headers\":[[\"A\",\"1\"],[\"a\",\"2\"]]}",
	 "OK", false, false,
	 B("HTTP/1.1 200 OK\r\nA: 1\r\na: 2\r\nContent-Length: 6\r\n\r\nhello\n"), 17, 50},
	{"HEAD: framing kept, body left out", "{}", "OK", true, false,
	 B("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"), 17, 38},
	{"close_header before the framing", "{}", "OK", false, true,
	 B("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 6\r\n\r\nhello\n"), 17, 57},
	{"chunked", "{\"chunked\":true}", "OK", false, false,
	 B("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello\n\r\n0\r\n\r\n"), 17,
	 47},
	{"HEAD chunked", "{\"chunked\":true}", "OK", true, false,
	 B("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), 17, 47},
	{"204: no framing, no body", "{\"status\":204}", "No Content", false, false,
	 B("HTTP/1.1 204 No Content\r\n\r\n"), 25, 27},
	{"generated body", "{\"body_size\":10}", "OK", false, false,
	 B("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"), 17, 39},
	{"empty body", "{\"body\":\"\"}", "OK", false, false,
	 B("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 17, 38},

	/* malformed: one defect each, the rest intact */
	{"malformed status_line", "{\"fault\":\"malformed\",\"kind\":\"status_line\"}", "OK", false,
	 false, B("HTTP/1.1 200OK\r\nContent-Length: 6\r\n\r\nhello\n"), 16, 37},
	{"malformed version", "{\"fault\":\"malformed\",\"kind\":\"version\"}", "OK", false, false,
	 B("HTTP/1.x 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"), 17, 38},
	{"malformed status_code",
	 "{\"fault\":\"malformed\",\"kind\":\"status_code\",\"status\":503}", "Service Unavailable",
	 false, false, B("HTTP/1.1 5x3 Service Unavailable\r\nContent-Length: 6\r\n\r\nhello\n"),
	 34, 55},
	{"malformed no_colon", "{\"fault\":\"malformed\",\"kind\":\"no_colon\"}", "OK", false,
	 false,
	 B("HTTP/1.1 200 OK\r\nX-Upsim-Malformed header line without a colon\r\n"
	   "Content-Length: 6\r\n\r\nhello\n"),
	 17, 85},
	{"malformed space_before_colon",
	 "{\"fault\":\"malformed\",\"kind\":\"space_before_colon\"}", "OK", false, false,
	 B("HTTP/1.1 200 OK\r\nX-Upsim-Malformed : space before the colon\r\n"
	   "Content-Length: 6\r\n\r\nhello\n"),
	 17, 82},
	{"malformed bare_lf: every line",
	 "{\"fault\":\"malformed\",\"kind\":\"bare_lf\",\"headers\":{\"X-A\":\"1\"}}", "OK", false,
	 true, B("HTTP/1.1 200 OK\nX-A: 1\nConnection: close\nContent-Length: 6\n\nhello\n"), 16,
	 60},
	{"malformed nul", "{\"fault\":\"malformed\",\"kind\":\"nul\"}", "OK", false, false,
	 B("HTTP/1.1 200 OK\r\nX-Upsim-Malformed: nul\0byte\r\nContent-Length: 6\r\n\r\nhello\n"),
	 17, 67},
	{"malformed folded", "{\"fault\":\"malformed\",\"kind\":\"folded\"}", "OK", false, false,
	 B("HTTP/1.1 200 OK\r\nX-Upsim-Malformed: folded\r\n onto a continuation line\r\n"
	   "Content-Length: 6\r\n\r\nhello\n"),
	 17, 92},

	/* framing faults */
	{"length_mismatch: fewer sent",
	 "{\"fault\":\"length_mismatch\",\"declared\":1000,\"sent\":3}", "OK", false, false,
	 B("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nhel"), 17, 41},
	{"length_mismatch: more sent, the pattern continues the body",
	 "{\"fault\":\"length_mismatch\",\"declared\":2,\"sent\":10}", "OK", false, false,
	 B("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello\n6789"), 17, 38},
	{"length_mismatch on a chunked action is not chunked",
	 "{\"fault\":\"length_mismatch\",\"declared\":9,\"sent\":6,\"chunked\":true}", "OK", false,
	 false, B("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello\n"), 17, 38},
	{"duplicate_length", "{\"fault\":\"duplicate_length\"}", "OK", false, false,
	 B("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Length: 7\r\n\r\nhello\n"), 17, 57},
	{"cl_and_te", "{\"fault\":\"cl_and_te\"}", "OK", false, false,
	 B("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
	   "6\r\nhello\n\r\n0\r\n\r\n"),
	 17, 66},
	{"bad_chunked invalid_size", "{\"fault\":\"bad_chunked\",\"kind\":\"invalid_size\"}", "OK",
	 false, false,
	 B("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\n\r\n0\r\n\r\n"), 17,
	 47},
	{"bad_chunked missing_last_chunk",
	 "{\"fault\":\"bad_chunked\",\"kind\":\"missing_last_chunk\"}", "OK", false, false,
	 B("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello\n\r\n"), 17, 47},
	/* A framing fault writes its headers even where HTTP forbids them
	 * (a 204 resolves to no body: the lengths count from 0). */
	{"duplicate_length on a 204", "{\"fault\":\"duplicate_length\",\"status\":204}",
	 "No Content", false, false,
	 B("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n"), 25, 65},

	/* not HTTP: verbatim, one part */
	{"banner", "{\"fault\":\"banner\",\"text\":\"SSH-2.0-OpenSSH_9.6\\r\\n\"}", "OK", false,
	 false, B("SSH-2.0-OpenSSH_9.6\r\n"), 21, 21},
	{"raw bytes with a NUL (base64)", "{\"fault\":\"raw\",\"base64\":\"YWIAYw0K\"}", "OK",
	 false, false, B("ab\0c\r\n"), 6, 6},
	{"raw bytes ignore HEAD and close_header",
	 "{\"fault\":\"raw\",\"bytes\":\"HTTP/1.1 200 OK\\r\\n\"}", "OK", true, true,
	 B("HTTP/1.1 200 OK\r\n"), 17, 17},
};

START_TEST(test_exact_bytes)
{
	struct render_opts o = {.seed = 1,
				.reason = exact[_i].reason,
				.head_request = exact[_i].head,
				.close_header = exact[_i].close_header};
	struct render r;
	render_json(exact[_i].json, &o, &r);
	assert_bytes(exact[_i].what, &r, exact[_i].want, exact[_i].want_len);
	ck_assert_uint_eq(r.full_len, r.len);
	ck_assert_msg(r.status_end == exact[_i].status_end, "%s: status_end %zu, expected %zu",
		      exact[_i].what, r.status_end, exact[_i].status_end);
	ck_assert_msg(r.head_end == exact[_i].head_end, "%s: head_end %zu, expected %zu",
		      exact[_i].what, r.head_end, exact[_i].head_end);
	render_free(&r);
	ck_assert_ptr_null(r.buf);
}
END_TEST

/* The chunked body is cut into chunks of at most BODY_MAX_CHUNK. */
START_TEST(test_chunked_large_body_in_max_chunks)
{
	struct render_opts o = {.reason = "OK"};
	struct render r;
	char json[64];
	snprintf(json, sizeof json, "{\"chunked\":true,\"body_size\":%d}", BODY_MAX_CHUNK + 10);
	render_json(json, &o, &r);
	const char *p = r.buf + r.head_end;
	char head[16];
	int n = snprintf(head, sizeof head, "%x\r\n", BODY_MAX_CHUNK);
	ck_assert_int_eq(memcmp(p, head, (size_t)n), 0);
	char pattern[BODY_MAX_CHUNK + 10];
	body_pattern(0, pattern, sizeof pattern);
	ck_assert_int_eq(memcmp(p + n, pattern, BODY_MAX_CHUNK), 0);
	p += n + BODY_MAX_CHUNK;
	ck_assert_int_eq(memcmp(p, "\r\na\r\n", 5), 0);
	ck_assert_int_eq(memcmp(p + 5, pattern + BODY_MAX_CHUNK, 10), 0);
	ck_assert_int_eq(memcmp(p + 15, "\r\n0\r\n\r\n", 7), 0);
	ck_assert_uint_eq((size_t)(p + 22 - r.buf), r.len);
	render_free(&r);
}
END_TEST

/* ---- oversized_headers: a header block of at least size bytes ---- */

static const unsigned oversized_sizes[] = {1, 30, 100, 1000, 1500, 65536, 1u << 20};

START_TEST(test_oversized_headers_size_bound)
{
	unsigned size = oversized_sizes[_i];
	char json[96];
	snprintf(json, sizeof json, "{\"fault\":\"oversized_headers\",\"size\":%u}", size);
	struct render_opts o = {.reason = "OK"};
	struct render r;
	render_json(json, &o, &r);
	/* From after the status line to the blank line, both included. */
	size_t block = r.head_end - r.status_end;
	ck_assert_msg(block >= size, "size %u: block %zu", size, block);
	ck_assert_msg(block <= size + 64, "size %u: block %zu", size, block);
	ck_assert_int_eq(memcmp(r.buf, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n", 36), 0);
	ck_assert_int_eq(memcmp(r.buf + r.head_end - 2, "\r\n", 2), 0);
	ck_assert_int_eq(memcmp(r.buf + r.head_end, "hello\n", 6), 0);
	/* Every padding line is a well-formed header of at most 1 KiB + name. */
	const char *p = r.buf + 36, *end = r.buf + r.head_end - 2;
	int lines = 0;
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		ck_assert_ptr_nonnull(eol);
		char name[32];
		snprintf(name, sizeof name, "X-Upsim-Pad-%04d: ", lines);
		ck_assert_int_eq(strncmp(p, name, strlen(name)), 0);
		ck_assert_int_le(eol - p, 1000 + 18);
		size_t not_a = 0;
		for (const char *q = p + strlen(name); q < eol; q++)
			not_a += *q != 'a';
		ck_assert_uint_eq(not_a, 0);
		p = eol + 2;
		lines++;
	}
	ck_assert_int_eq(lines > 0, size > 21); /* 21: the block without padding */
	render_free(&r);
}
END_TEST

/* ---- truncate: cut at an offset into a part, clamped to its end ---- */

static const struct {
	const char *at;
	unsigned offset;
	size_t want_len; /* into HEALTHY (status 0..17, headers ..38, body ..44) */
} cuts[] = {
	{"status", 0, 0},   {"status", 4, 4},	{"status", 17, 17},  {"status", 999, 17},
	{"headers", 0, 17}, {"headers", 5, 22}, {"headers", 21, 38}, {"headers", 999, 38},
	{"body", 0, 38},    {"body", 2, 40},	{"body", 6, 44},     {"body", 999, 44},
};

START_TEST(test_truncate_offsets_and_clamping)
{
	char json[96];
	snprintf(json, sizeof json, "{\"fault\":\"truncate\",\"at\":\"%s\",\"offset\":%u}",
		 cuts[_i].at, cuts[_i].offset);
	struct render_opts o = {.reason = "OK"};
	struct render r;
	render_json(json, &o, &r);
	ck_assert_msg(r.len == cuts[_i].want_len, "%s: len %zu, expected %zu", json, r.len,
		      cuts[_i].want_len);
	ck_assert_uint_eq(r.full_len, sizeof HEALTHY - 1);
	ck_assert_int_eq(memcmp(r.buf, HEALTHY, r.full_len), 0); /* whole, then cut */
	ck_assert_uint_eq(r.status_end, 17);
	ck_assert_uint_eq(r.head_end, 38);
	render_free(&r);
}
END_TEST

START_TEST(test_part_start_and_end)
{
	struct render_opts o = {.reason = "OK"};
	struct render r;
	render_json("{}", &o, &r);
	ck_assert_uint_eq(render_part_start(&r, PART_STATUS), 0);
	ck_assert_uint_eq(render_part_end(&r, PART_STATUS), 17);
	ck_assert_uint_eq(render_part_start(&r, PART_HEADERS), 17);
	ck_assert_uint_eq(render_part_end(&r, PART_HEADERS), 38);
	ck_assert_uint_eq(render_part_start(&r, PART_BODY), 38);
	ck_assert_uint_eq(render_part_end(&r, PART_BODY), 44);
	render_free(&r);
	/* A truncated body still ends, as a part, at the full length. */
	render_json("{\"fault\":\"truncate\",\"at\":\"body\",\"offset\":1}", &o, &r);
	ck_assert_uint_eq(r.len, 39);
	ck_assert_uint_eq(render_part_end(&r, PART_BODY), 44);
	render_free(&r);
	/* Not HTTP: one part; headers and body are empty at its end. */
	render_json("{\"fault\":\"banner\",\"text\":\"220 ftp\\r\\n\"}", &o, &r);
	ck_assert_uint_eq(render_part_start(&r, PART_STATUS), 0);
	ck_assert_uint_eq(render_part_end(&r, PART_STATUS), 9);
	ck_assert_uint_eq(render_part_start(&r, PART_HEADERS), 9);
	ck_assert_uint_eq(render_part_end(&r, PART_HEADERS), 9);
	ck_assert_uint_eq(render_part_start(&r, PART_BODY), 9);
	ck_assert_uint_eq(render_part_end(&r, PART_BODY), 9);
	render_free(&r);
}
END_TEST

/* ---- garbage: seeded, sized, never a status line ---- */

static void garbage(uint64_t seed, unsigned size, struct render *r)
{
	char json[64];
	snprintf(json, sizeof json, "{\"fault\":\"garbage\",\"size\":%u}", size);
	struct render_opts o = {.seed = seed, .reason = "OK"};
	render_json(json, &o, r);
	ck_assert_uint_eq(r->len, size);
	ck_assert_uint_eq(r->full_len, size);
}

START_TEST(test_garbage_same_seed_same_bytes)
{
	struct render a, b, c;
	garbage(42, 512, &a);
	garbage(42, 512, &b);
	garbage(43, 512, &c);
	ck_assert_int_eq(memcmp(a.buf, b.buf, 512), 0);
	ck_assert_int_ne(memcmp(a.buf, c.buf, 512), 0);
	/* A shorter run is a prefix of a longer one with the same seed. */
	struct render d;
	garbage(42, 7, &d);
	ck_assert_int_eq(memcmp(a.buf, d.buf, 7), 0);
	render_free(&a);
	render_free(&b);
	render_free(&c);
	render_free(&d);
}
END_TEST

START_TEST(test_garbage_never_starts_with_H)
{
	/* Find seeds whose stream does start with 'H', so the check bites. */
	int bitten = 0;
	for (uint64_t seed = 0; seed < 4096; seed++) {
		struct rng g;
		rng_seed(&g, seed, 0x6761726261676521ULL);
		unsigned char first = (unsigned char)rng_next(&g);
		struct render r;
		garbage(seed, 2, &r);
		ck_assert_int_ne(r.buf[0], 'H');
		if (first == 'H') {
			ck_assert_int_eq(r.buf[0], 'h');
			bitten++;
		} else {
			ck_assert_int_eq((unsigned char)r.buf[0], first);
		}
		render_free(&r);
	}
	ck_assert_int_ge(bitten, 1);
}
END_TEST

START_TEST(test_garbage_size_zero)
{
	struct render r;
	garbage(1, 0, &r);
	ck_assert_ptr_nonnull(r.buf); /* an empty buffer, not NULL */
	render_free(&r);
}
END_TEST

Suite *render_suite(void)
{
	Suite *s = suite_create("render");
	TCase *tc = tcase_create("bytes");
	tcase_add_loop_test(tc, test_exact_bytes, 0, COUNT(exact));
	tcase_add_test(tc, test_chunked_large_body_in_max_chunks);
	tcase_add_loop_test(tc, test_oversized_headers_size_bound, 0, COUNT(oversized_sizes));
	suite_add_tcase(s, tc);
	tc = tcase_create("truncate");
	tcase_add_loop_test(tc, test_truncate_offsets_and_clamping, 0, COUNT(cuts));
	tcase_add_test(tc, test_part_start_and_end);
	suite_add_tcase(s, tc);
	tc = tcase_create("garbage");
	tcase_add_test(tc, test_garbage_same_seed_same_bytes);
	tcase_add_test(tc, test_garbage_never_starts_with_H);
	tcase_add_test(tc, test_garbage_size_zero);
	suite_add_tcase(s, tc);
	return s;
}

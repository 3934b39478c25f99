/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the proxy writes: the origin request head (hop-by-hop fields and
 * the ones Connection names dropped, one framing field from the parse,
 * forwarding fields the viewer cannot forge), the viewer response head
 * (security headers with and without override, re-framing), the edge's
 * own answers, chunk framing, and the access-log ring and JSON lines.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "proxy/px_hdr.h"
#include "proxy/px_log.h"

static struct h1_field fields[64];
static char out[8192];

static struct cfg_origin origin = {
	.id = "web",
	.domain = "origin.example.com",
	.has_address = true,
};
static struct cfg_dist dist = { .name = "shop", .mtls = CFG_MTLS_OFF };

static void
parse_req(const char *raw, struct h1_request *req)
{
	memset(req, 0, sizeof(*req));
	req->fields = fields;
	req->fields_cap = 64;
	assert_int_equal(h1_parse_request(raw, strlen(raw), 0, NULL, req),
			 (int)strlen(raw));
}

static void
parse_res(const char *raw, enum h1_method m, struct h1_response *res)
{
	memset(res, 0, sizeof(*res));
	res->fields = fields;
	res->fields_cap = 64;
	assert_int_equal(h1_parse_response(raw, strlen(raw), 0, m, NULL, res),
			 (int)strlen(raw));
}

static int
build_req(const char *raw, int *len)
{
	struct h1_request req;
	struct http_fwd fwd;

	parse_req(raw, &req);
	memset(&fwd, 0, sizeof(fwd));
	fwd.dist = &dist;
	fwd.origin = &origin;
	fwd.client.s_addr = htonl(0xc6336407);  /* 198.51.100.7 */
	fwd.host = req.authority.p;
	fwd.host_len = req.authority.len;
	*len = px_hdr_request(&req, &fwd, out, sizeof(out) - 1);
	if (*len >= 0)
		out[*len] = '\0';
	return *len;
}

static void
has(const char *line)
{
	if (strstr(out, line) == NULL)
		fail_msg("missing '%s' in:\n%s", line, out);
}

static void
lacks(const char *what)
{
	if (strcasestr(out, what) != NULL)
		fail_msg("unexpected '%s' in:\n%s", what, out);
}

static void
test_request_hop_by_hop(void **state)
{
	int len;

	(void)state;
	build_req("POST /a/b?c=d HTTP/1.1\r\n"
		  "Host: shop.example.com\r\n"
		  "Connection: keep-alive, X-Secret\r\n"
		  "Connection: Upgrade\r\n"
		  "x-secret: 1\r\n"
		  "Keep-Alive: timeout=5\r\n"
		  "TE: trailers\r\n"
		  "Upgrade: websocket\r\n"
		  "Proxy-Authorization: Basic Zm9v\r\n"
		  "Expect: 100-continue\r\n"
		  "Accept: */*\r\n"
		  "X-Forwarded-For: 203.0.113.9\r\n"
		  "X-Forwarded-Proto: https\r\n"
		  "Content-Length: 5\r\n"
		  "\r\n", &len);
	assert_true(len > 0);
	assert_int_equal(strncmp(out, "POST /a/b?c=d HTTP/1.1\r\n", 24), 0);
	has("\r\nAccept: */*\r\n");
	has("\r\nHost: origin.example.com\r\n");
	has("\r\nX-Forwarded-For: 203.0.113.9, 198.51.100.7\r\n");
	has("\r\nX-Forwarded-Proto: http\r\n");
	has("\r\nVia: 1.1 rampart\r\n");
	has("\r\nContent-Length: 5\r\n\r\n");
	lacks("x-secret");
	lacks("keep-alive");
	lacks("\r\nTE:");
	lacks("upgrade");
	lacks("proxy-authorization");
	lacks("expect");
	lacks("connection");
	lacks("shop.example.com");
	assert_int_equal(strlen(out), (size_t)len);
	assert_int_equal(strcmp(out + len - 4, "\r\n\r\n"), 0);
}

static void
test_request_framing(void **state)
{
	const char *p;
	int len;

	(void)state;
	/* Chunked stays chunked, written once by us. */
	build_req("PUT /up HTTP/1.1\r\nHost: a.example.com\r\n"
		  "Transfer-Encoding: Chunked\r\n\r\n", &len);
	has("\r\nTransfer-Encoding: chunked\r\n");
	p = strcasestr(out, "transfer-encoding");
	assert_null(strcasestr(p + 1, "transfer-encoding"));
	lacks("content-length");
	/* No body: no framing field at all. */
	build_req("GET / HTTP/1.1\r\nHost: a.example.com\r\n\r\n", &len);
	lacks("content-length");
	lacks("transfer-encoding");
	/* An HTTP/1.0 request goes out as 1.1 with its origin-form. */
	build_req("GET http://a.example.com/x?y HTTP/1.0\r\n\r\n", &len);
	assert_int_equal(strncmp(out, "GET /x?y HTTP/1.1\r\n", 19), 0);
}

static void
test_request_limits(void **state)
{
	char raw[2048];
	size_t n;
	int i, len;

	(void)state;
	n = (size_t)snprintf(raw, sizeof(raw),
			     "GET / HTTP/1.1\r\nHost: a.example.com\r\n");
	for (i = 0; i < 9; i++)
		n += (size_t)snprintf(raw + n, sizeof(raw) - n,
				      "X-Forwarded-For: 10.0.0.%d\r\n", i);
	snprintf(raw + n, sizeof(raw) - n, "\r\n");
	assert_int_equal(build_req(raw, &len), -E2BIG);

	/* A buffer too small for the rebuilt head. */
	{
		struct h1_request req;
		struct http_fwd fwd;
		char small[40];

		parse_req("GET /abc HTTP/1.1\r\nHost: a.example.com\r\n"
			  "Accept: text/html\r\n\r\n", &req);
		memset(&fwd, 0, sizeof(fwd));
		fwd.dist = &dist;
		fwd.origin = &origin;
		assert_int_equal(px_hdr_request(&req, &fwd, small,
						sizeof(small)), -ENOSPC);
	}
}

static struct http_sec_hdrs
sec_policy(bool override)
{
	struct http_sec_hdrs s = { .n = 2, .override = override };

	s.h[0] = (struct http_hdr){ "X-Frame-Options", 15, "DENY", 4 };
	s.h[1] = (struct http_hdr){ "X-Content-Type-Options", 22,
				    "nosniff", 7 };
	return s;
}

static void
test_response(void **state)
{
	struct h1_response res;
	struct http_sec_hdrs sec = sec_policy(true);
	int len;

	(void)state;
	parse_res("HTTP/1.1 200 OK\r\n"
		  "Connection: close, X-Hop\r\n"
		  "X-Hop: 1\r\n"
		  "Keep-Alive: timeout=5\r\n"
		  "Transfer-Encoding: chunked\r\n"
		  "x-frame-options: SAMEORIGIN\r\n"
		  "Content-Type: text/plain\r\n\r\n", H1_METHOD_GET, &res);
	len = px_hdr_response(&res, PX_OUT_CHUNKED, false, 1, &sec, out,
			      sizeof(out) - 1);
	assert_true(len > 0);
	out[len] = '\0';
	assert_int_equal(strncmp(out, "HTTP/1.1 200 OK\r\n", 17), 0);
	has("\r\nContent-Type: text/plain\r\n");
	has("\r\nX-Frame-Options: DENY\r\n");
	has("\r\nX-Content-Type-Options: nosniff\r\n");
	has("\r\nTransfer-Encoding: chunked\r\n");
	lacks("sameorigin");
	lacks("x-hop");
	lacks("keep-alive");
	lacks("connection");

	/* override off: the origin's value stays and ours is not added. */
	sec = sec_policy(false);
	len = px_hdr_response(&res, PX_OUT_CLOSE, false, 0, &sec, out,
			      sizeof(out) - 1);
	out[len] = '\0';
	has("\r\nx-frame-options: SAMEORIGIN\r\n");
	lacks("DENY");
	has("\r\nX-Content-Type-Options: nosniff\r\n");
	has("\r\nConnection: close\r\n");
	lacks("transfer-encoding");

	/* HEAD: the representation's Content-Length passes, no framing of
	 * our own; an HTTP/1.0 viewer kept open is told so. */
	parse_res("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n",
		  H1_METHOD_HEAD, &res);
	len = px_hdr_response(&res, PX_OUT_NONE, false, 0, NULL, out,
			      sizeof(out) - 1);
	out[len] = '\0';
	has("\r\nContent-Length: 1234\r\n");
	has("\r\nConnection: keep-alive\r\n");
	/* Content-Length framing is ours, from the parse. */
	parse_res("HTTP/1.0 404 Not Found\r\ncontent-length: 7\r\n\r\n",
		  H1_METHOD_GET, &res);
	len = px_hdr_response(&res, PX_OUT_LENGTH, true, 1, NULL, out,
			      sizeof(out) - 1);
	out[len] = '\0';
	assert_int_equal(strncmp(out, "HTTP/1.1 404 Not Found\r\n", 24), 0);
	has("\r\nContent-Length: 7\r\n");
	assert_null(strstr(out, "content-length: 7"));
	has("\r\nConnection: close\r\n\r\n");
}

static void
test_edge(void **state)
{
	struct http_sec_hdrs sec = sec_policy(true);
	char small[64];
	int len;

	(void)state;
	len = px_hdr_edge(301, "redirected", "https://a.example.com/x?y", 25,
			  false, 1, false, &sec, out, sizeof(out) - 1);
	assert_true(len > 0);
	out[len] = '\0';
	assert_int_equal(strncmp(out, "HTTP/1.1 301 Moved Permanently\r\n",
				 32), 0);
	has("\r\nLocation: https://a.example.com/x?y\r\n");
	has("\r\nX-Frame-Options: DENY\r\n");
	lacks("x-cache");
	lacks("connection");
	has("\r\n\r\n301 Moved Permanently: redirected\n");

	len = px_hdr_edge(502, "origin down", NULL, 0, true, 1, false, NULL,
			  out, sizeof(out) - 1);
	out[len] = '\0';
	has("\r\nX-Cache: Error from rampart\r\n");
	has("\r\nConnection: close\r\n");
	has("\r\nContent-Length: 29\r\n");
	has("\r\n\r\n502 Bad Gateway: origin down\n");

	/* HEAD: same Content-Length, no body. */
	len = px_hdr_edge(502, "origin down", NULL, 0, true, 1, true, NULL,
			  out, sizeof(out) - 1);
	out[len] = '\0';
	has("\r\nContent-Length: 29\r\n");
	assert_int_equal(strcmp(out + len - 4, "\r\n\r\n"), 0);

	assert_int_equal(px_hdr_edge(400, "x", NULL, 0, true, 1, false, NULL,
				     small, sizeof(small)), -ENOSPC);
	assert_string_equal(px_status_phrase(421), "Misdirected Request");
	assert_string_equal(px_status_phrase(299), "Unknown");
}

static void
test_chunk_hdr(void **state)
{
	char b[PX_CHUNK_HDR_MAX];
	size_t n;

	(void)state;
	n = px_chunk_hdr(0, b);
	assert_int_equal(n, 3);
	assert_memory_equal(b, "0\r\n", 3);
	n = px_chunk_hdr(0x1f40, b);
	assert_memory_equal(b, "1f40\r\n", n);
	n = px_chunk_hdr(UINT64_MAX, b);
	assert_int_equal(n, 18);
	assert_memory_equal(b, "ffffffffffffffff\r\n", n);
}

static void
test_hop_named(void **state)
{
	struct h1_request req;

	(void)state;
	parse_req("GET / HTTP/1.1\r\nHost: a.example.com\r\n"
		  "Connection: , x-a ,X-B\r\nX-A: 1\r\nx-b: 2\r\nX-AB: 3\r\n"
		  "Proxy-Foo: 4\r\n\r\n", &req);
	assert_true(px_hdr_hop(req.fields, req.nfields, &req.fields[1]));
	assert_true(px_hdr_hop(req.fields, req.nfields, &req.fields[2]));
	assert_true(px_hdr_hop(req.fields, req.nfields, &req.fields[3]));
	assert_false(px_hdr_hop(req.fields, req.nfields, &req.fields[4]));
	assert_true(px_hdr_hop(req.fields, req.nfields, &req.fields[5]));
	assert_false(px_hdr_hop(req.fields, req.nfields, &req.fields[0]));
}

static void
test_log_ring(void **state)
{
	struct px_log_ring r;
	struct px_log_rec rec, got;
	uint32_t i;

	(void)state;
	assert_int_equal(px_log_ring_init(&r, 3), 0);  /* rounded to 4 */
	memset(&rec, 0, sizeof(rec));
	for (i = 0; i < 4; i++) {
		rec.status = (uint16_t)(200 + i);
		assert_true(px_log_push(&r, &rec));
	}
	assert_false(px_log_push(&r, &rec));    /* full: dropped */
	/* Wrap around the end of the array twice, in order. */
	for (i = 0; i < 10; i++) {
		assert_true(px_log_pop(&r, &got));
		assert_int_equal(got.status, 200 + i);
		rec.status = (uint16_t)(204 + i);
		assert_true(px_log_push(&r, &rec));
	}
	for (i = 0; i < 4; i++)
		assert_true(px_log_pop(&r, &got));
	assert_int_equal(got.status, 213);
	assert_false(px_log_pop(&r, &got));
	px_log_ring_fini(&r);
}

static void
test_log_format(void **state)
{
	struct px_log_rec rec;
	json_t *j;
	char line[2048];
	size_t n;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.start_tsc = 1000;
	rec.end_tsc = 1000 + 2500;          /* 2.5 ms at 1 MHz */
	rec.client = htonl(0xc0000201);
	rec.client_port = 5555;
	rec.status = 502;
	rec.edge = true;
	rec.reason = "the origin \"refused\"";
	strcpy(rec.method, "GET");
	strcpy(rec.host, "a.example.com");
	strcpy(rec.path, "/q?\"x\\y\x01");
	strcpy(rec.dist, "shop");
	n = px_log_format(&rec, 1000, 1700000000ull * 1000000000ull, 1000000,
			  line, sizeof(line));
	assert_int_equal(n, strlen(line));
	assert_int_equal(line[n - 1], '\n');
	j = json_loads(line, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "path")),
			    "/q?\"x\\y\x01");
	assert_string_equal(json_string_value(json_object_get(j, "client")),
			    "192.0.2.1:5555");
	assert_string_equal(json_string_value(json_object_get(j, "time")),
			    "2023-11-14T22:13:20.000000Z");
	assert_int_equal(json_integer_value(json_object_get(j, "status")),
			 502);
	assert_int_equal(json_integer_value(json_object_get(j,
							    "duration_us")),
			 2500);
	assert_string_equal(json_string_value(json_object_get(j, "reason")),
			    "the origin \"refused\"");
	assert_true(json_is_true(json_object_get(j, "edge")));
	json_decref(j);

	/* A path of escapes in a small buffer: cut, still one JSON line. */
	memset(rec.path, 1, sizeof(rec.path) - 1);
	rec.path[sizeof(rec.path) - 1] = '\0';
	n = px_log_format(&rec, 0, 0, 1, line, 600);
	assert_true(n < 600);
	j = json_loads(line, 0, NULL);
	assert_non_null(j);
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_hop_by_hop),
		cmocka_unit_test(test_request_framing),
		cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_edge),
		cmocka_unit_test(test_chunk_hdr),
		cmocka_unit_test(test_hop_named),
		cmocka_unit_test(test_log_ring),
		cmocka_unit_test(test_log_format),
	};

	return cmocka_run_group_tests_name("px_hdr", tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The strict HTTP/1.1 parser against good requests (whole, every prefix,
 * byte by byte), every request-smuggling vector we know of (each must get
 * its exact status), the chunked decoder under arbitrary splits, origin
 * response framing, and a seeded mutation loop. Every parse runs on an
 * exact-size heap copy so ASan catches any read past the caller's bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/h1.h"

#define NFIELDS 128

struct parsed {
	char *copy;
	int rc;
	struct h1_request req;
	struct h1_field fields[NFIELDS];
};

static char *
dup_exact(const char *s, size_t n)
{
	char *c = malloc(n ? n : 1);

	assert_non_null(c);
	memcpy(c, s, n);
	return c;
}

static int
parse_req(const char *s, size_t n, size_t last_len,
	  const struct h1_limits *lim, struct parsed *out)
{
	memset(&out->req, 0, sizeof(out->req));
	out->req.fields = out->fields;
	out->req.fields_cap = NFIELDS;
	out->copy = dup_exact(s, n);
	out->rc = h1_parse_request(out->copy, n, last_len, lim, &out->req);
	return out->rc;
}

static void
parsed_free(struct parsed *p)
{
	free(p->copy);
	p->copy = NULL;
}

static bool
span_is(struct h1_str s, const char *lit)
{
	assert_non_null(s.p);
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

#define assert_span(s, lit) do { \
	if (!span_is((s), (lit))) \
		fail_msg("span '%.*s' != '%s'", (int)(s).len, (s).p, (lit)); \
} while (0)

/* ---- good requests ------------------------------------------------------ */

struct good {
	const char *raw;        /* head, then possibly a body or next request */
	size_t head_len;        /* 0: strlen(raw) */
	enum h1_method method;
	const char *path;
	const char *query;      /* NULL: no '?' */
	const char *host;
	uint16_t port;
	enum h1_framing framing;
	uint64_t cl;
	bool keep_alive;
	bool expect;
	int minor;
	size_t nfields;
};

static const struct good goods[] = {
	{ "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 0,
	  H1_METHOD_GET, "/", NULL, "example.com", 0, H1_FRAMING_NONE, 0,
	  true, false, 1, 1 },
	{ "GET /a/b?x=1&y=%20z HTTP/1.1\r\nHost: Example.COM:8443\r\n"
	  "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n", 0,
	  H1_METHOD_GET, "/a/b", "x=1&y=%20z", "Example.COM", 8443,
	  H1_FRAMING_NONE, 0, true, false, 1, 3 },
	{ "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	  49, H1_METHOD_POST, "/up", NULL, "a", 0, H1_FRAMING_LENGTH, 5,
	  true, false, 1, 2 },
	{ "PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	  "Expect: 100-continue\r\n\r\n", 0,
	  H1_METHOD_PUT, "/x", NULL, "a", 0, H1_FRAMING_CHUNKED, 0,
	  true, true, 1, 3 },
	/* HTAB as OWS, case-insensitive coding name */
	{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tChunked\t\r\n\r\n",
	  0, H1_METHOD_POST, "/", NULL, "a", 0, H1_FRAMING_CHUNKED, 0,
	  true, false, 1, 2 },
	/* identical Content-Length values merge (RFC 9110 8.6) */
	{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n"
	  "Content-Length: 7, 7\r\n\r\n", 0,
	  H1_METHOD_POST, "/", NULL, "a", 0, H1_FRAMING_LENGTH, 7,
	  true, false, 1, 3 },
	{ "GET / HTTP/1.0\r\n\r\n", 0,
	  H1_METHOD_GET, "/", NULL, "", 0, H1_FRAMING_NONE, 0,
	  false, false, 0, 0 },
	{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: h\r\n\r\n", 0,
	  H1_METHOD_GET, "/", NULL, "h", 0, H1_FRAMING_NONE, 0,
	  true, false, 0, 2 },
	/* Expect on 1.0 is ignored, even an unknown one */
	{ "GET / HTTP/1.0\r\nExpect: 100-continue\r\nExpect: x\r\n\r\n", 0,
	  H1_METHOD_GET, "/", NULL, "", 0, H1_FRAMING_NONE, 0,
	  false, false, 0, 2 },
	{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n",
	  0, H1_METHOD_GET, "/", NULL, "a", 0, H1_FRAMING_NONE, 0,
	  false, false, 1, 2 },
	{ "HEAD /?q HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n", 0,
	  H1_METHOD_HEAD, "/", "q", "[2001:db8::1]", 8080, H1_FRAMING_NONE,
	  0, true, false, 1, 1 },
	{ "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0,
	  H1_METHOD_OPTIONS, "*", NULL, "a", 0, H1_FRAMING_NONE, 0,
	  true, false, 1, 1 },
	/* absolute-form: authority from the target, Host must agree */
	{ "GET http://WWW.example.com/p?x HTTP/1.1\r\n"
	  "Host: www.example.com:80\r\n\r\n", 0,
	  H1_METHOD_GET, "/p", "x", "WWW.example.com", 0, H1_FRAMING_NONE,
	  0, true, false, 1, 1 },
	{ "GET https://a.example:8443 HTTP/1.1\r\nHost: a.example:8443\r\n\r\n",
	  0, H1_METHOD_GET, "/", NULL, "a.example", 8443, H1_FRAMING_NONE, 0,
	  true, false, 1, 1 },
	{ "GET http://a.example/ HTTP/1.0\r\n\r\n", 0,
	  H1_METHOD_GET, "/", NULL, "a.example", 0, H1_FRAMING_NONE, 0,
	  false, false, 0, 0 },
	/* RFC 9112 2.2: empty lines before the request line are skipped */
	{ "\r\n\r\nDELETE /r HTTP/1.1\r\nHost: a\r\n\r\n", 0,
	  H1_METHOD_DELETE, "/r", NULL, "a", 0, H1_FRAMING_NONE, 0,
	  true, false, 1, 1 },
	/* unknown method tokens pass; obs-text and empty values are fine */
	{ "PROPFIND /d HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n"
	  "X-Latin: caf\xc3\xa9\r\n\r\n", 0,
	  H1_METHOD_OTHER, "/d", NULL, "a", 0, H1_FRAMING_NONE, 0,
	  true, false, 1, 3 },
	/* pipelined: the head ends before the next request */
	{ "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
	  28, H1_METHOD_GET, "/1", NULL, "a", 0, H1_FRAMING_NONE, 0,
	  true, false, 1, 1 },
};

static void
check_good(const struct good *g, const struct parsed *p)
{
	const struct h1_request *r = &p->req;

	assert_int_equal(r->method_id, g->method);
	assert_span(r->path, g->path);
	assert_int_equal(r->has_query, g->query != NULL);
	if (g->query)
		assert_span(r->query, g->query);
	assert_span(r->host, g->host);
	assert_int_equal(r->port, g->port);
	assert_int_equal(r->framing, g->framing);
	assert_int_equal(r->content_length, g->cl);
	assert_int_equal(r->keep_alive, g->keep_alive);
	assert_int_equal(r->expect_continue, g->expect);
	assert_int_equal(r->minor_version, g->minor);
	assert_int_equal(r->nfields, g->nfields);
}

static void
test_good_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		size_t n = strlen(g->raw);
		size_t hl = g->head_len ? g->head_len : n;
		struct parsed p;

		if (parse_req(g->raw, n, 0, NULL, &p) != (int)hl)
			fail_msg("good %zu: rc %d (%s)", i, p.rc,
				 p.req.err.reason ? p.req.err.reason : "");
		check_good(g, &p);
		parsed_free(&p);

		/* Every strict prefix of the head needs more. */
		for (size_t k = 0; k < hl; k++) {
			if (parse_req(g->raw, k, 0, NULL, &p) != -2)
				fail_msg("good %zu prefix %zu: rc %d (%s)", i,
					 k, p.rc, p.req.err.reason);
			parsed_free(&p);
		}

		/* Byte by byte with last_len: the quick path agrees. */
		for (size_t k = 1; k <= hl; k++) {
			int rc = parse_req(g->raw, k, k - 1, NULL, &p);

			if (k < hl)
				assert_int_equal(rc, -2);
			else
				assert_int_equal(rc, (int)hl);
			if (k == hl)
				check_good(g, &p);
			parsed_free(&p);
		}
	}
}

static void
test_origin_form(void **state)
{
	static const struct {
		const char *raw;
		const char *origin;
		enum h1_target_form form;
	} cases[] = {
		{ "GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n", "/a?b",
		  H1_TARGET_ORIGIN },
		{ "GET http://h/a?b HTTP/1.1\r\nHost: h\r\n\r\n", "/a?b",
		  H1_TARGET_ABSOLUTE },
		{ "GET HTTPS://h:443 HTTP/1.1\r\nHost: h\r\n\r\n", "/",
		  H1_TARGET_ABSOLUTE },
		{ "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "*",
		  H1_TARGET_ASTERISK },
	};
	struct parsed p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].raw);

		assert_int_equal(parse_req(cases[i].raw, n, 0, NULL, &p),
				 (int)n);
		assert_span(p.req.origin, cases[i].origin);
		assert_int_equal(p.req.form, cases[i].form);
		assert_span(p.req.host, "h");
		parsed_free(&p);
	}
	/* absolute-form: the authority as the target spells it */
	assert_int_equal(parse_req("GET http://h:8080/ HTTP/1.1\r\n"
				   "Host: H:8080\r\n\r\n", 45, 0, NULL, &p),
			 45);
	assert_span(p.req.authority, "h:8080");
	assert_span(p.req.scheme, "http");
	parsed_free(&p);
}

static void
test_fields_and_spans(void **state)
{
	static const char raw[] =
		"GET /x HTTP/1.1\r\nHost: a\r\nX-A:  one two \t\r\n"
		"x-b:\r\nCookie: c=1\r\n\r\n";
	struct parsed p;
	const struct h1_field *f;

	(void)state;
	assert_int_equal(parse_req(raw, sizeof(raw) - 1, 0, NULL, &p),
			 (int)sizeof(raw) - 1);
	assert_int_equal(p.req.nfields, 4);
	assert_span(p.req.method, "GET");
	assert_span(p.req.target, "/x");
	f = h1_field_find(p.req.fields, p.req.nfields, "x-a");
	assert_non_null(f);
	assert_span(f->name, "X-A");
	assert_span(f->value, "one two");
	f = h1_field_find(p.req.fields, p.req.nfields, "X-B");
	assert_non_null(f);
	assert_int_equal(f->value.len, 0);
	assert_null(h1_field_find(p.req.fields, p.req.nfields, "x-c"));
	/* zero-copy: spans point into the caller's buffer */
	assert_ptr_equal(p.req.fields[0].name.p, p.copy + 17);
	parsed_free(&p);
}

/* ---- refused requests --------------------------------------------------- */

struct bad {
	const char *raw;
	uint16_t status;
	size_t len;             /* 0: strlen(raw); set for embedded NULs */
};

#define H "GET / HTTP/1.1\r\nHost: a\r\n"
#define P "POST / HTTP/1.1\r\nHost: a\r\n"

static const struct bad bads[] = {
	/* CL.TE and TE.CL: both framings present */
	{ P "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
	{ P "Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n", 400 },
	{ P "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", 400 },
	/* TE.TE: codings a peer might read differently */
	{ P "Transfer-Encoding: xchunked\r\n\r\n", 400 },
	{ P "Transfer-Encoding: chunked, identity\r\n\r\n", 400 },
	{ P "Transfer-Encoding: identity\r\n\r\n", 400 },
	{ P "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n", 400 },
	{ P "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	  400 },
	{ P "Transfer-Encoding: chunked, chunked\r\n\r\n", 400 },
	{ P "Transfer-Encoding: chunked;q=1\r\n\r\n", 400 },
	{ P "Transfer-Encoding: ,chunked\r\n\r\n", 400 },
	{ P "Transfer-Encoding: chunked,\r\n\r\n", 400 },
	{ P "Transfer-Encoding:\r\n\r\n", 400 },
	{ P "Transfer-Encoding: \"chunked\"\r\n\r\n", 400 },
	{ P "Transfer-Encoding: \x0b" "chunked\r\n\r\n", 400 },
	{ P "Transfer-Encoding : chunked\r\n\r\n", 400 },
	{ P "Transfer-Encoding\t: chunked\r\n\r\n", 400 },
	{ "POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: a\r\n\r\n",
	  400 },
	{ P " Transfer-Encoding: chunked\r\n\r\n", 400 },      /* obs-fold */
	{ P "Transfer_Encoding: chunked\r\n\r\n", 400 },
	{ P "Content_Length: 5\r\n\r\n", 400 },
	{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
	{ P "Transfer-Encoding: gzip, chunked\r\n\r\n", 501 },
	{ P "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
	  501 },
	/* Content-Length */
	{ P "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400 },
	{ P "Content-Length: 5, 6\r\n\r\n", 400 },
	{ P "Content-Length: +5\r\n\r\n", 400 },
	{ P "Content-Length: -1\r\n\r\n", 400 },
	{ P "Content-Length: 0x5\r\n\r\n", 400 },
	{ P "Content-Length: 5 5\r\n\r\n", 400 },
	{ P "Content-Length: 5,\r\n\r\n", 400 },
	{ P "Content-Length:\r\n\r\n", 400 },
	{ P "Content-Length: 1.0\r\n\r\n", 400 },
	{ P "Content-Length: 99999999999999999999\r\n\r\n", 400 },
	{ P "Content-Length: 9223372036854775808\r\n\r\n", 400 },
	/* field syntax */
	{ H "X-A: 1\r\n continued\r\n\r\n", 400 },              /* obs-fold */
	{ H "X-A: 1\r\n\tcontinued\r\n\r\n", 400 },
	{ H "X-A: a\0b\r\n\r\n", 400,
	  sizeof(H "X-A: a\0b\r\n\r\n") - 1 },                  /* NUL */
	{ H "X-A: a\rb\r\n\r\n", 400 },                          /* bare CR */
	{ H "X-A: a\nX-B: b\r\n\r\n", 400 },                     /* LF */
	{ H "X-A: a\x7f\r\n\r\n", 400 },
	{ H "X-A: a\x01\r\n\r\n", 400 },
	{ H "X (A): a\r\n\r\n", 400 },
	{ H ": a\r\n\r\n", 400 },
	{ H "X-A\r\n\r\n", 400 },
	{ H "X@A: a\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\nHost: a\n\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\n\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400 },
	{ "\n" "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	/* request line */
	{ "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400 },
	{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET / http/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400 },
	{ "GET /\r\n\r\n", 400 },
	{ " GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET /a%2 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET http://a?x HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
	{ "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505 },
	{ "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505 },
	{ "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 501 },
	/* Host */
	{ "GET / HTTP/1.1\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", 400 },
	{ H "Host: a\r\n\r\n", 400 },
	{ H "Host: b\r\n\r\n", 400 },
	{ "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a:0\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: a:80:80\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: [zz::1]\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400 },
	{ "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400 },
	{ "GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n", 400 },
	{ "GET http://a.example/ HTTP/1.1\r\nHost: a.example:8080\r\n\r\n",
	  400 },
	{ "GET http://a.example/ HTTP/1.1\r\n\r\n", 400 },
	/* Expect */
	{ H "Expect: 200-ok\r\n\r\n", 417 },
};

static void
test_refused_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		size_t n = b->len ? b->len : strlen(b->raw);
		struct parsed p;
		int rc = -2;

		if (parse_req(b->raw, n, 0, NULL, &p) != -1 ||
		    p.req.err.status != b->status)
			fail_msg("bad %zu (%.40s): rc %d status %u (%s)", i,
				 b->raw + 17, p.rc, p.req.err.status,
				 p.req.err.reason ? p.req.err.reason : "-");
		assert_non_null(p.req.err.reason);
		parsed_free(&p);

		/* Dribbled one byte at a time, the same answer. */
		for (size_t k = 1; k <= n && rc == -2; k++) {
			rc = parse_req(b->raw, k, k - 1, NULL, &p);
			if (rc == -1 && p.req.err.status != b->status)
				fail_msg("bad %zu dribbled: status %u at %zu",
					 i, p.req.err.status, k);
			parsed_free(&p);
		}
		assert_int_equal(rc, -1);
	}
}

/* ---- size limits -------------------------------------------------------- */

static char *
build(size_t cap, const char *head, size_t fill, char ch, const char *tail)
{
	char *s = malloc(cap);
	size_t n = strlen(head);

	assert_non_null(s);
	memcpy(s, head, n);
	memset(s + n, ch, fill);
	strcpy(s + n + fill, tail);
	return s;
}

static void
test_limits(void **state)
{
	struct parsed p;
	char *s;
	size_t n;

	(void)state;
	/* A target at the line limit passes, one byte more is 414. */
	n = H1_DEFAULT_MAX_REQUEST_LINE - strlen("GET / HTTP/1.1");
	s = build(20000, "GET /", n, 'a', " HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(parse_req(s, strlen(s), 0, NULL, &p),
			 (int)strlen(s));
	parsed_free(&p);
	free(s);
	s = build(20000, "GET /", n + 1, 'a', " HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(parse_req(s, strlen(s), 0, NULL, &p), -1);
	assert_int_equal(p.req.err.status, 414);
	parsed_free(&p);
	/* ... and is refused before the line ends. */
	assert_int_equal(parse_req(s, 9000, 0, NULL, &p), -1);
	assert_int_equal(p.req.err.status, 414);
	parsed_free(&p);
	assert_int_equal(parse_req(s, 9000, 8999, NULL, &p), -1);
	assert_int_equal(p.req.err.status, 414);
	parsed_free(&p);
	free(s);

	/* A method that never ends is a 400, not a 414. */
	s = build(20000, "", 9000, 'G', "");
	assert_int_equal(parse_req(s, strlen(s), 0, NULL, &p), -1);
	assert_int_equal(p.req.err.status, 400);
	parsed_free(&p);
	free(s);

	/* Header section: 32 KiB exactly passes, one more byte is 431. */
	n = H1_DEFAULT_MAX_HEAD - strlen(H "X: \r\n\r\n");
	s = build(40000, H "X: ", n, 'v', "\r\n\r\n");
	assert_int_equal(strlen(s), H1_DEFAULT_MAX_HEAD);
	assert_int_equal(parse_req(s, strlen(s), 0, NULL, &p),
			 H1_DEFAULT_MAX_HEAD);
	parsed_free(&p);
	free(s);
	s = build(40000, H "X: ", n + 1, 'v', "\r\n\r\n");
	assert_int_equal(parse_req(s, strlen(s), 0, NULL, &p), -1);
	assert_int_equal(p.req.err.status, 431);
	parsed_free(&p);
	/* A head that never ends is refused at the limit, not buffered. */
	assert_int_equal(parse_req(s, H1_DEFAULT_MAX_HEAD, 0, NULL, &p), -2);
	parsed_free(&p);
	assert_int_equal(parse_req(s, H1_DEFAULT_MAX_HEAD + 1,
				   H1_DEFAULT_MAX_HEAD, NULL, &p), -1);
	assert_int_equal(p.req.err.status, 431);
	parsed_free(&p);
	free(s);

	/* 100 fields pass, 101 are 431. */
	{
		char buf[4096];
		size_t o = 0;

		o += sprintf(buf + o, "GET / HTTP/1.1\r\nHost: a\r\n");
		for (int i = 1; i < 100; i++)
			o += sprintf(buf + o, "X%d: %d\r\n", i, i);
		strcpy(buf + o, "\r\n");
		assert_int_equal(parse_req(buf, o + 2, 0, NULL, &p),
				 (int)o + 2);
		assert_int_equal(p.req.nfields, 100);
		parsed_free(&p);
		o += sprintf(buf + o, "X100: 100\r\n\r\n");
		assert_int_equal(parse_req(buf, o, 0, NULL, &p), -1);
		assert_int_equal(p.req.err.status, 431);
		parsed_free(&p);
	}

	/* Configured limits, and the 413 on a declared length. */
	{
		struct h1_limits lim = { .max_fields = 2, .max_body = 10,
					 .max_request_line = 20 };
		static const char two[] = H "X: 1\r\nY: 2\r\n\r\n";
		static const char big[] = P "Content-Length: 11\r\n\r\n";
		static const char ok[] = P "Content-Length: 10\r\n\r\n";
		static const char longl[] = "GET /123456789 HTTP/1.1\r\n";

		assert_int_equal(parse_req(two, sizeof(two) - 1, 0, &lim, &p),
				 -1);
		assert_int_equal(p.req.err.status, 431);
		parsed_free(&p);
		assert_int_equal(parse_req(big, sizeof(big) - 1, 0, &lim, &p),
				 -1);
		assert_int_equal(p.req.err.status, 413);
		parsed_free(&p);
		assert_int_equal(parse_req(ok, sizeof(ok) - 1, 0, &lim, &p),
				 (int)sizeof(ok) - 1);
		parsed_free(&p);
		assert_int_equal(parse_req(longl, sizeof(longl) - 1, 0, &lim,
					   &p), -1);
		assert_int_equal(p.req.err.status, 414);
		parsed_free(&p);
	}
	/* fields_cap below max_fields is the effective limit. */
	{
		static const char three[] = H "X: 1\r\nY: 2\r\n\r\n";
		struct h1_field f[2];
		struct h1_request r = { .fields = f, .fields_cap = 2 };

		assert_int_equal(h1_parse_request(three, sizeof(three) - 1, 0,
						  NULL, &r), -1);
		assert_int_equal(r.err.status, 431);
	}
}

/* ---- chunked bodies ----------------------------------------------------- */

/* Decode s[0..n) fed in pieces of `step` bytes (0: random pieces). Returns
 * the bytes used, or -1 with *status; body collects the data. */
static long
decode(const char *s, size_t n, size_t step, const struct h1_limits *lim,
       char *body, size_t *body_len, uint16_t *status, bool *done)
{
	struct h1_chunked d;
	char *copy = dup_exact(s, n);
	size_t off = 0;
	unsigned int seed = (unsigned int)n;

	h1_chunked_init(&d, lim);
	*body_len = 0;
	while (off < n && !d.done) {
		size_t piece = step ? step : 1 + (size_t)(rand_r(&seed) % 7);
		size_t avail = n - off < piece ? n - off : piece;
		/* Each piece is its own exact allocation: any read past it
		 * is an ASan error. */
		char *pc = dup_exact(copy + off, avail);
		size_t used = 0;

		while (used < avail && !d.done) {
			struct h1_str data;
			ssize_t r = h1_chunked_decode(&d, pc + used,
						      avail - used, &data);

			if (r < 0) {
				*status = d.err.status;
				assert_non_null(d.err.reason);
				free(pc);
				free(copy);
				return -1;
			}
			assert_true(r > 0);
			assert_true(data.len <= (size_t)r);
			if (data.len) {
				assert_true(data.p >= pc + used &&
					    data.p + data.len <= pc + used + r);
				memcpy(body + *body_len, data.p, data.len);
				*body_len += data.len;
			}
			used += (size_t)r;
		}
		free(pc);
		off += used;
	}
	free(copy);
	*done = d.done;
	return (long)off;
}

static void
test_chunked_good(void **state)
{
	static const struct {
		const char *raw;
		const char *body;
		size_t used;    /* 0: strlen(raw) */
	} cases[] = {
		{ "5\r\nhello\r\n0\r\n\r\n", "hello", 0 },
		{ "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", 0 },
		{ "A\r\n0123456789\r\n00\r\n\r\n", "0123456789", 0 },
		{ "0000000000000003\r\nabc\r\n0\r\n\r\n", "abc", 0 },
		{ "3;name\r\nabc\r\n0;last=\"q\\\"x;y\"\r\n\r\n", "abc", 0 },
		{ "3 ; a = b ; c=\"\" \r\nabc\r\n0\r\n\r\n", NULL, 0 },
		{ "3;a=b;c\r\nabc\r\n0\r\nX-Trailer: v\r\n"
		  "Another:\r\n\r\n", "abc", 0 },
		{ "0\r\n\r\n", "", 0 },
		/* a pipelined request after the body is not consumed */
		{ "2\r\nhi\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "hi", 12 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *raw = cases[i].raw;
		size_t n = strlen(raw);
		size_t want = cases[i].used ? cases[i].used : n;
		static const size_t steps[] = { 0, 1, 2, 3, 5, 1000 };

		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			char body[256];
			size_t bl;
			uint16_t st = 0;
			bool done = false;
			long used = decode(raw, n, steps[k], NULL, body, &bl,
					   &st, &done);

			if (cases[i].body == NULL) {
				/* BWS before ';' then trailing BWS before
				 * CRLF: the latter is refused. */
				assert_int_equal(used, -1);
				assert_int_equal(st, 400);
				continue;
			}
			if (used != (long)want || !done)
				fail_msg("chunked %zu step %zu: used %ld st %u",
					 i, steps[k], used, st);
			assert_int_equal(bl, strlen(cases[i].body));
			assert_memory_equal(body, cases[i].body, bl);
		}
	}
}

static void
test_chunked_refused(void **state)
{
	static const struct {
		const char *raw;
		uint16_t status;
		size_t len;
	} cases[] = {
		{ "\r\n", 400 },                         /* empty size */
		{ " 5\r\nhello\r\n0\r\n\r\n", 400 },     /* leading SP */
		{ "5 \r\nhello\r\n0\r\n\r\n", 400 },     /* trailing SP */
		{ "5\t\r\nhello\r\n0\r\n\r\n", 400 },
		{ "0x5\r\nhello\r\n0\r\n\r\n", 400 },
		{ "+5\r\nhello\r\n0\r\n\r\n", 400 },
		{ "-1\r\n", 400 },
		{ "g\r\n", 400 },
		{ "5g\r\n", 400 },
		{ "00000000000000005\r\nhello\r\n", 400 }, /* 17 digits */
		{ "8000000000000000\r\n", 400 },          /* >= 2^63 */
		{ "ffffffffffffffffff\r\n", 400 },
		{ "5\nhello\r\n0\r\n\r\n", 400 },         /* bare LF */
		{ "5\rhello\r\n", 400 },                  /* bare CR */
		{ "5\r\nhelloX\r\n0\r\n\r\n", 400 },      /* data longer */
		{ "5\r\nhello\n0\r\n\r\n", 400 },
		{ "5\r\nhello\r0\r\n\r\n", 400 },
		{ "5;\r\nhello\r\n", 400 },               /* empty ext name */
		{ "5;a=\r\nhello\r\n", 400 },
		{ "5;a b\r\nhello\r\n", 400 },
		{ "5;a=\"x\r\nhello\r\n", 400 },          /* open quote */
		{ "5;a=\"\x01\"\r\nhello\r\n", 400 },
		{ "5;a=b c\r\nhello\r\n", 400 },
		{ "0\r\nX : v\r\n\r\n", 400 },            /* trailer rules */
		{ "0\r\nX: v\r\n folded\r\n\r\n", 400 },
		{ "0\r\nX: a\0b\r\n\r\n", 400,
		  sizeof("0\r\nX: a\0b\r\n\r\n") - 1 },
		{ "0\r\nX: v\n\r\n", 400 },
		{ "0\r\nX: v\r\n\n", 400 },
		{ "0\r\n: v\r\n\r\n", 400 },
		{ "0\r\n\n", 400 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *raw = cases[i].raw;
		size_t n = cases[i].len ? cases[i].len : strlen(raw);
		char body[64];
		size_t bl;
		uint16_t st = 0;
		bool done;

		for (size_t step = 0; step < 3; step++) {
			long used = decode(raw, n, step, NULL, body, &bl, &st,
					   &done);

			if (used != -1 || st != cases[i].status)
				fail_msg("chunked bad %zu step %zu: used %ld "
					 "st %u", i, step, used, st);
		}
	}
}

static void
test_chunked_bounds(void **state)
{
	char *s = malloc(20000);
	char body[64];
	size_t bl, n;
	uint16_t st = 0;
	bool done;
	struct h1_limits lim = { .max_body = 8 };

	(void)state;
	/* Extensions: 4 KiB per chunk passes, one byte more is 400. The
	 * bound counts from the ';' to the CR. */
	strcpy(s, "1;");
	n = 2;
	memset(s + n, 'e', H1_DEFAULT_MAX_CHUNK_EXT - 2);
	n += H1_DEFAULT_MAX_CHUNK_EXT - 2;
	strcpy(s + n, "\r\nx\r\n0\r\n\r\n");
	assert_int_equal(decode(s, strlen(s), 0, NULL, body, &bl, &st, &done),
			 (long)strlen(s));
	s[1] = ';';
	memmove(s + 3, s + 2, strlen(s + 2) + 1);
	s[2] = 'e';
	assert_int_equal(decode(s, strlen(s), 0, NULL, body, &bl, &st, &done),
			 -1);
	assert_int_equal(st, 400);

	/* Trailers are bounded too: 431. */
	strcpy(s, "0\r\nX: ");
	n = strlen(s);
	memset(s + n, 't', H1_DEFAULT_MAX_TRAILER);
	strcpy(s + n + H1_DEFAULT_MAX_TRAILER, "\r\n\r\n");
	assert_int_equal(decode(s, strlen(s), 1000, NULL, body, &bl, &st,
				&done), -1);
	assert_int_equal(st, 431);

	/* And the number of trailer fields. */
	strcpy(s, "0\r\n");
	for (int i = 0; i <= (int)H1_DEFAULT_MAX_FIELDS; i++)
		strcat(s, "T: v\r\n");
	strcat(s, "\r\n");
	assert_int_equal(decode(s, strlen(s), 0, NULL, body, &bl, &st, &done),
			 -1);
	assert_int_equal(st, 431);

	/* max_body across chunks: 8 bytes pass, 9 are 413 before any
	 * byte of the offending chunk is handed out. */
	strcpy(s, "4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n");
	assert_int_equal(decode(s, strlen(s), 1, &lim, body, &bl, &st, &done),
			 (long)strlen(s));
	assert_int_equal(bl, 8);
	strcpy(s, "4\r\nabcd\r\n5\r\nefghi\r\n0\r\n\r\n");
	assert_int_equal(decode(s, strlen(s), 1, &lim, body, &bl, &st, &done),
			 -1);
	assert_int_equal(st, 413);

	/* A huge (valid) size: the decoder hands out what is there. */
	{
		struct h1_chunked d;
		struct h1_str data;
		static const char big[] = "7fffffffffffffff\r\nabc";

		h1_chunked_init(&d, NULL);
		assert_int_equal(h1_chunked_decode(&d, big, 18, &data), 18);
		assert_int_equal(data.len, 0);
		assert_int_equal(h1_chunked_decode(&d, big + 18, 3, &data), 3);
		assert_int_equal(data.len, 3);
		assert_ptr_equal(data.p, big + 18);
		assert_false(d.done);
		/* After an error the decoder stays refused. */
		assert_int_equal(h1_chunked_decode(&d, "", 0, &data), 0);
	}
	{
		struct h1_chunked d;
		struct h1_str data;

		h1_chunked_init(&d, NULL);
		assert_int_equal(h1_chunked_decode(&d, "x", 1, &data), -1);
		assert_int_equal(h1_chunked_decode(&d, "0\r\n\r\n", 5, &data),
				 -1);
	}
	free(s);
}

/* ---- responses ---------------------------------------------------------- */

struct rparsed {
	char *copy;
	int rc;
	struct h1_response res;
	struct h1_field fields[NFIELDS];
};

static int
parse_res(const char *s, size_t n, size_t last_len, enum h1_method m,
	  struct rparsed *out)
{
	memset(&out->res, 0, sizeof(out->res));
	out->res.fields = out->fields;
	out->res.fields_cap = NFIELDS;
	out->copy = dup_exact(s, n);
	out->rc = h1_parse_response(out->copy, n, last_len, m, NULL,
				    &out->res);
	return out->rc;
}

static void
test_responses(void **state)
{
	static const struct {
		const char *raw;
		enum h1_method m;
		uint16_t status;
		enum h1_framing framing;
		uint64_t cl;
		bool keep_alive;
		bool informational;
		const char *reason;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", H1_METHOD_GET,
		  200, H1_FRAMING_LENGTH, 5, true, false, "OK" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		  H1_METHOD_GET, 200, H1_FRAMING_CHUNKED, 0, true, false, "OK" },
		{ "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", H1_METHOD_GET,
		  200, H1_FRAMING_CLOSE, 0, false, false, "OK" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close"
		  "\r\n\r\n", H1_METHOD_GET, 200, H1_FRAMING_LENGTH, 5, false,
		  false, "OK" },
		{ "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n", H1_METHOD_GET,
		  200, H1_FRAMING_LENGTH, 5, false, false, "OK" },
		{ "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: "
		  "keep-alive\r\n\r\n", H1_METHOD_GET, 200, H1_FRAMING_LENGTH,
		  5, true, false, "OK" },
		{ "HTTP/1.1 204 No Content\r\n\r\n", H1_METHOD_DELETE,
		  204, H1_FRAMING_NONE, 0, true, false, "No Content" },
		{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
		  H1_METHOD_GET, 304, H1_FRAMING_NONE, 0, true, false,
		  "Not Modified" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
		  H1_METHOD_HEAD, 200, H1_FRAMING_NONE, 0, true, false, "OK" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		  H1_METHOD_HEAD, 200, H1_FRAMING_NONE, 0, true, false, "OK" },
		{ "HTTP/1.1 100 Continue\r\n\r\n", H1_METHOD_POST,
		  100, H1_FRAMING_NONE, 0, true, true, "Continue" },
		{ "HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n",
		  H1_METHOD_GET, 103, H1_FRAMING_NONE, 0, true, true,
		  "Early Hints" },
		{ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		  "Connection: upgrade\r\n\r\n", H1_METHOD_GET, 101,
		  H1_FRAMING_NONE, 0, false, false, "Switching Protocols" },
		{ "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", H1_METHOD_GET,
		  404, H1_FRAMING_LENGTH, 0, true, false, "" },
		{ "HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n", H1_METHOD_GET,
		  500, H1_FRAMING_LENGTH, 0, true, false, "" },
	};
	static const char *bad[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		"Transfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/2.0 200 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 600 High\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX : a\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
		"HTTP/1.1 200 O\x01K\r\n\r\n",
		"http/1.1 200 OK\r\n\r\n",
		"ICY 200 OK\r\n\r\n",
	};
	struct rparsed p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].raw);

		if (parse_res(cases[i].raw, n, 0, cases[i].m, &p) != (int)n)
			fail_msg("response %zu: rc %d (%s)", i, p.rc,
				 p.res.err.reason);
		assert_int_equal(p.res.status, cases[i].status);
		assert_int_equal(p.res.framing, cases[i].framing);
		assert_int_equal(p.res.content_length, cases[i].cl);
		assert_int_equal(p.res.keep_alive, cases[i].keep_alive);
		assert_int_equal(p.res.informational, cases[i].informational);
		assert_span(p.res.reason, cases[i].reason);
		free(p.copy);
		for (size_t k = 0; k < n; k++) {
			assert_int_equal(parse_res(cases[i].raw, k, 0,
						   cases[i].m, &p), -2);
			free(p.copy);
			assert_int_equal(parse_res(cases[i].raw, k + 1, k,
						   cases[i].m, &p),
					 k + 1 == n ? (int)n : -2);
			free(p.copy);
		}
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_res(bad[i], strlen(bad[i]), 0, H1_METHOD_GET, &p) != -1
		    || p.res.err.status != 502)
			fail_msg("bad response %zu: rc %d status %u", i, p.rc,
				 p.res.err.status);
		assert_non_null(p.res.err.reason);
		free(p.copy);
	}

	/* 100 Continue then the final response, in one buffer. */
	{
		static const char two[] = "HTTP/1.1 100 Continue\r\n\r\n"
			"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
		int rc = parse_res(two, sizeof(two) - 1, 0, H1_METHOD_POST, &p);

		assert_int_equal(rc, 25);
		assert_true(p.res.informational);
		free(p.copy);
		assert_int_equal(parse_res(two + 25, sizeof(two) - 1 - 25, 0,
					   H1_METHOD_POST, &p), 43);
		assert_int_equal(p.res.status, 201);
		assert_int_equal(p.res.framing, H1_FRAMING_LENGTH);
		free(p.copy);
	}
}

/* ---- seeded mutations --------------------------------------------------- */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static size_t
mutate(char *b, size_t n, size_t cap)
{
	static const char special[] = "\r\n\0 \t:;,\"=%#?/[]@\x7f\x80\xff";
	unsigned int ops = 1 + rng() % 4;

	for (unsigned int k = 0; k < ops && n > 0; k++) {
		size_t at = rng() % n, m;

		switch (rng() % 6) {
		case 0:
			b[at] = (char)rng();
			break;
		case 1:
			b[at] = special[rng() % (sizeof(special) - 1)];
			break;
		case 2:
			n = at;
			break;
		case 3:
			m = rng() % 8;
			if (m > n - at)
				m = n - at;
			memmove(b + at, b + at + m, n - at - m);
			n -= m;
			break;
		case 4:
			if (n + 1 > cap)
				break;
			memmove(b + at + 1, b + at, n - at);
			b[at] = special[rng() % (sizeof(special) - 1)];
			n++;
			break;
		default:
			m = rng() % 32;
			if (m > n - at || n + m > cap)
				break;
			memmove(b + at + m, b + at, n - at);
			n += m;
			break;
		}
	}
	return n;
}

static void
check_request_spans(const struct parsed *p, size_t n)
{
	const char *lo = p->copy, *hi = p->copy + n;
	const struct h1_request *r = &p->req;

	assert_true(r->nfields <= NFIELDS);
	for (size_t i = 0; i < r->nfields; i++) {
		assert_true(r->fields[i].name.p >= lo &&
			    r->fields[i].name.p + r->fields[i].name.len <= hi);
		assert_true(r->fields[i].value.p >= lo &&
			    r->fields[i].value.p + r->fields[i].value.len <= hi);
	}
	assert_true(r->target.p >= lo && r->target.p + r->target.len <= hi);
	assert_true(r->minor_version == 0 || r->minor_version == 1);
	if (r->minor_version == 1)
		assert_true(r->host.len > 0);
}

static bool
known_status(uint16_t s)
{
	return s == 400 || s == 413 || s == 414 || s == 417 || s == 431 ||
	       s == 501 || s == 505;
}

static void
test_mutations(void **state)
{
	static const uint64_t seed = 0x68317061727365ull;
	static const char *chunked_seeds[] = {
		"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
		"3;a=b;c=\"x y\"\r\nabc\r\n0\r\nT: v\r\n\r\n",
	};
	static const char *resp_seeds[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	unsigned int ok = 0, refused = 0, partial = 0;
	char b[512];

	(void)state;
	rng_state = seed;
	for (unsigned int it = 0; it < 6000; it++) {
		size_t n;
		struct parsed p;
		int rc;

		switch (it % 4) {
		case 0:
		case 1: {
			const char *src = it % 8 < 4 ?
				goods[rng() % (sizeof(goods) / sizeof(goods[0]))].raw :
				bads[rng() % (sizeof(bads) / sizeof(bads[0]))].raw;

			n = strlen(src);
			memcpy(b, src, n);
			n = mutate(b, n, sizeof(b));
			rc = parse_req(b, n, 0, NULL, &p);
			if (rc > 0) {
				ok++;
				assert_true((size_t)rc <= n);
				check_request_spans(&p, n);
				/* A complete head: the same answer dribbled. */
				parsed_free(&p);
				for (size_t k = 1; k <= (size_t)rc; k++) {
					int r2 = parse_req(b, k, k - 1, NULL, &p);

					parsed_free(&p);
					if (k < (size_t)rc)
						assert_int_equal(r2, -2);
					else
						assert_int_equal(r2, rc);
				}
				break;
			}
			if (rc == -1) {
				refused++;
				if (!known_status(p.req.err.status))
					fail_msg("it %u: status %u", it,
						 p.req.err.status);
				assert_non_null(p.req.err.reason);
			} else {
				assert_int_equal(rc, -2);
				partial++;
			}
			parsed_free(&p);
			break;
		}
		case 2: {
			const char *src = chunked_seeds[rng() % 2];
			char body[1024];
			size_t bl;
			uint16_t st = 0;
			bool done;
			long used;

			n = strlen(src);
			memcpy(b, src, n);
			n = mutate(b, n, sizeof(b));
			used = decode(b, n, rng() % 4, NULL, body, &bl, &st,
				      &done);
			if (used < 0)
				assert_true(st == 400 || st == 431 || st == 413);
			else
				assert_true((size_t)used <= n && bl <= n);
			break;
		}
		default: {
			const char *src = resp_seeds[rng() % 2];
			struct rparsed rp;

			n = strlen(src);
			memcpy(b, src, n);
			n = mutate(b, n, sizeof(b));
			rc = parse_res(b, n, 0, H1_METHOD_GET, &rp);
			if (rc == -1)
				assert_int_equal(rp.res.err.status, 502);
			else
				assert_true(rc == -2 ||
					    (rc > 0 && (size_t)rc <= n));
			free(rp.copy);
			break;
		}
		}
	}
	print_message("mutations: %u parsed, %u refused, %u partial\n", ok,
		      refused, partial);
	/* The loop must exercise every outcome to mean anything. */
	assert_true(ok > 100 && refused > 100 && partial > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_requests),
		cmocka_unit_test(test_origin_form),
		cmocka_unit_test(test_fields_and_spans),
		cmocka_unit_test(test_refused_requests),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_chunked_good),
		cmocka_unit_test(test_chunked_refused),
		cmocka_unit_test(test_chunked_bounds),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests_name("h1_parse", tests, NULL, NULL);
}

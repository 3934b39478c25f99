/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The edge's request policies over a real snapshot built from JSON: the
 * CloudFront path matcher (including patterns that make a backtracking
 * matcher explode), ordered behaviors, every routing outcome a viewer can
 * meet (421, 301/308, 403, 404, 400, 503), the security headers with and
 * without override and HSTS only over HTTPS, and the forwarding headers
 * an origin receives, with forged ones removed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "http/route.h"

#define FP "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char certs_json[] =
	"{\"ec\": {\"chain_pem\": \"-----BEGIN CERTIFICATE-----\\nMIIB\\n"
	"-----END CERTIFICATE-----\\n\", \"key_pem\": \"-----BEGIN PRIVATE "
	"KEY-----\\nMIGH\\n-----END PRIVATE KEY-----\\n\", \"key_type\": "
	"\"ECDSA P-256\", \"fingerprint\": \"" FP "\"}}";

static const char stores_json[] =
	"{\"partners\": {\"ca_pem\": \"-----BEGIN CERTIFICATE-----\\nMIIC\\n"
	"-----END CERTIFICATE-----\\n\"}}";

/* "shop": ordered behaviors, every security header, mTLS optional.
 * "blog": allow-all, override off. "off": disabled. "bare": no origins
 * (pushed straight to the dataplane). */
static const char dists_json[] =
	"{\"shop\": {\"name\": \"shop\", \"aliases\": [\"shop.example.com\", "
	"  \"*.cdn.example.com\"], \"certificates\": {\"ecdsa\": \"ec\"},"
	"  \"tls\": {\"mtls\": {\"mode\": \"optional\", \"trust_store\": "
	"  \"partners\"}},"
	"  \"origins\": [{\"id\": \"web\", \"domain\": \"Origin.Example.com\"},"
	"    {\"id\": \"api\", \"domain\": \"api.internal\", "
	"     \"forward_host\": true}],"
	"  \"behaviors\": ["
	"    {\"path_pattern\": \"/api/*\", \"origin\": \"api\","
	"     \"viewer_protocol_policy\": \"https-only\"},"
	"    {\"path_pattern\": \"/api/public/*\", \"origin\": \"web\","
	"     \"viewer_protocol_policy\": \"allow-all\"},"
	"    {\"path_pattern\": \"/*.png\", \"origin\": \"web\","
	"     \"viewer_protocol_policy\": \"allow-all\"},"
	"    {\"path_pattern\": \"/v?/item\", \"origin\": \"api\","
	"     \"viewer_protocol_policy\": \"allow-all\"}],"
	"  \"default_behavior\": {\"origin\": \"web\"},"
	"  \"response_headers\": {\"hsts\": {\"max_age\": 31536000,"
	"    \"include_subdomains\": true, \"preload\": true},"
	"    \"content_type_options\": true, \"frame_options\": \"DENY\","
	"    \"referrer_policy\": \"no-referrer\","
	"    \"content_security_policy\": \"default-src 'self'\"}},"
	" \"blog\": {\"name\": \"blog\", \"aliases\": [\"blog.example.com\"],"
	"  \"certificates\": {\"ecdsa\": \"ec\"},"
	"  \"origins\": [{\"id\": \"b\", \"domain\": \"blog-origin.example.com\"}],"
	"  \"default_behavior\": {\"origin\": \"b\","
	"    \"viewer_protocol_policy\": \"allow-all\"},"
	"  \"response_headers\": {\"hsts\": {\"max_age\": 600},"
	"    \"frame_options\": \"SAMEORIGIN\", \"override\": false}},"
	" \"off\": {\"name\": \"off\", \"enabled\": false,"
	"  \"aliases\": [\"off.example.com\"], \"certificates\": {\"ecdsa\": \"ec\"},"
	"  \"origins\": [{\"id\": \"o\", \"domain\": \"o.example.com\"}],"
	"  \"default_behavior\": {\"origin\": \"o\","
	"    \"viewer_protocol_policy\": \"allow-all\"}},"
	" \"bare\": {\"name\": \"bare\", \"aliases\": [\"bare.example.com\"],"
	"  \"certificates\": {\"ecdsa\": \"ec\"}}}";

static char err[512];

static struct cfg_snapshot *
snap(const char *dists, const char *extra_name, const char *extra)
{
	json_t *c = json_loads(certs_json, 0, NULL);
	json_t *t = json_loads(stores_json, 0, NULL);
	json_t *d = json_loads(dists, 0, NULL);
	struct cfg_snapshot *s;

	assert_non_null(c);
	assert_non_null(t);
	assert_non_null(d);
	if (extra != NULL)
		json_object_set_new(d, extra_name, json_loads(extra, 0, NULL));
	s = cfg_snapshot_build(1, c, t, d, err, sizeof(err));
	if (s == NULL)
		fail_msg("snapshot refused: %s", err);
	json_decref(c);
	json_decref(t);
	json_decref(d);
	return s;
}

static int
setup(void **state)
{
	*state = snap(dists_json, NULL, NULL);
	return 0;
}

static int
teardown(void **state)
{
	cfg_snapshot_put(*state);
	return 0;
}

/* ---------------------------------------------------------------- matcher */

static bool
match(const char *pat, const char *path)
{
	return http_path_match(pat, strlen(pat), path, strlen(path));
}

static void
test_match_table(void **state)
{
	static const struct {
		const char *pat, *path;
		bool want;
	} t[] = {
		{ "/", "/", true },
		{ "/", "/a", false },
		{ "*", "", true },
		{ "*", "/anything/at/all", true },
		{ "/api/*", "/api/", true },
		{ "/api/*", "/api/v1/users", true },     /* '*' crosses '/' */
		{ "/api/*", "/api", false },
		{ "/api/*", "/API/x", false },            /* case-sensitive */
		{ "/api/*", "/apix/y", false },
		{ "*.jpg", "/a/b/c.jpg", true },
		{ "*.jpg", "/a/b/c.jpeg", false },
		{ "*.jpg", "/a/b/c.JPG", false },
		{ "/images/*.jpg", "/images/x.jpg", true },
		{ "/images/*.jpg", "/images/sub/x.jpg", true },
		{ "/images/*.jpg", "/img/x.jpg", false },
		{ "/v?/x", "/v1/x", true },
		{ "/v?/x", "/v/x", false },               /* '?' is one byte */
		{ "/v?/x", "/v12/x", false },
		{ "/v?/x", "/v//x", true },               /* ... any byte */
		{ "/a*b*c", "/abc", true },
		{ "/a*b*c", "/aXbYc", true },
		{ "/a*b*c", "/aXbYcZ", false },
		{ "/a*b*c", "/acb", false },
		{ "**", "/x", true },
		{ "/*?", "/", false },
		{ "/*?", "/x", true },
		{ "/x*", "/x", true },
		{ "/a*a", "/a", false },
		{ "/ab*ba", "/aba", false },
		{ "/ab*ba", "/abba", true },
		{ "/%7e*", "/%7euser", true },            /* raw, not decoded */
		{ "/~*", "/%7euser", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (match(t[i].pat, t[i].path) != t[i].want)
			fail_msg("pattern '%s' against '%s': expected %s",
				 t[i].pat, t[i].path,
				 t[i].want ? "a match" : "no match");
	/* Lengths are honoured: bytes past path_len are not the path. */
	assert_true(http_path_match("/a", 2, "/ab", 2));
	assert_false(http_path_match("/a", 2, "/ab", 3));
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A recursive or naively backtracking matcher takes exponential time on
 * these; the iterative one is O(pattern * path). */
static void
test_match_pathological(void **state)
{
	static const char *const pats[] = {
		"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
		"*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*b",
		"/*aa*aa*aa*aa*aa*aa*aa*aa*aa*aa*aa*aa*aa*aa*aa*aa*aa*aab",
	};
	size_t n = 64 * 1024, i;
	char *path = malloc(n + 1);
	double t0, spent;

	(void)state;
	assert_non_null(path);
	memset(path, 'a', n);
	path[0] = '/';
	path[n] = '\0';
	t0 = now_s();
	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		assert_false(http_path_match(pats[i], strlen(pats[i]), path,
					     n));
	/* Make the last one match: the answer is still right. */
	path[n - 1] = 'b';
	assert_true(http_path_match(pats[0], strlen(pats[0]), path, n));
	assert_true(http_path_match(pats[1], strlen(pats[1]), path, n));
	spent = now_s() - t0;
	free(path);
	/* About 10 M steps in all; seconds would mean blow-up. The bound
	 * leaves room for sanitizers on a loaded 2-core machine. */
	if (spent > 5.0)
		fail_msg("pathological patterns took %.2f s", spent);
}

static void
test_behaviors_ordered(void **state)
{
	const struct cfg_dist *d = cfg_snapshot_find_dist(*state, "shop");
	const struct cfg_behavior *b;

	assert_non_null(d);
	assert_int_equal(d->nb_behaviors, 4);
	/* "/api/public/x" matches two patterns; the first listed wins. */
	b = http_behavior_find(d, "/api/public/x", 13);
	assert_ptr_equal(b, &d->behaviors[0]);
	assert_string_equal(b->origin->id, "api");
	b = http_behavior_find(d, "/api/logo.png", 13);
	assert_ptr_equal(b, &d->behaviors[0]);
	b = http_behavior_find(d, "/img/logo.png", 13);
	assert_ptr_equal(b, &d->behaviors[2]);
	b = http_behavior_find(d, "/v2/item", 8);
	assert_ptr_equal(b, &d->behaviors[3]);
	b = http_behavior_find(d, "/index.html", 11);
	assert_ptr_equal(b, &d->default_behavior);
	assert_string_equal(b->origin->id, "web");
	assert_int_equal(b->viewer_policy, CFG_VIEWER_REDIRECT_TO_HTTPS);
}

/* ---------------------------------------------------------------- routing */

struct rq {
	bool https;
	const char *sni;                /* distribution name or NULL */
	const char *host;               /* NULL: no Host header */
	const char *method;
	const char *target;
};

static char loc[512];

static struct http_route
route(const struct cfg_snapshot *s, struct rq q, uint16_t https_port)
{
	struct http_route_req req = {
		.https = q.https,
		.sni_dist = q.sni != NULL ? cfg_snapshot_find_dist(s, q.sni) :
					    NULL,
		.host = q.host,
		.host_len = q.host != NULL ? strlen(q.host) : 0,
		.method = q.method != NULL ? q.method : "GET",
		.method_len = strlen(q.method != NULL ? q.method : "GET"),
		.target = q.target != NULL ? q.target : "/",
		.target_len = strlen(q.target != NULL ? q.target : "/"),
		.https_port = https_port,
	};
	struct http_route r;

	memset(loc, 0x5a, sizeof(loc));
	http_route(s, &req, loc, sizeof(loc), &r);
	return r;
}

static void
expect_proceed(const struct cfg_snapshot *s, struct rq q, const char *dist,
	       const char *origin)
{
	struct http_route r = route(s, q, 443);

	if (r.kind != HTTP_ROUTE_PROCEED)
		fail_msg("%s %s Host %s: expected proceed, got kind %d status "
			 "%u (%s)", q.method ? q.method : "GET",
			 q.target ? q.target : "/", q.host ? q.host : "(none)",
			 r.kind, r.status, r.reason ? r.reason : "");
	assert_string_equal(r.dist->name, dist);
	assert_string_equal(r.origin->id, origin);
	assert_non_null(r.behavior);
	assert_ptr_equal(r.behavior->origin, r.origin);
}

static void
expect_refuse(const struct cfg_snapshot *s, struct rq q, unsigned int status)
{
	struct http_route r = route(s, q, 443);

	if (r.kind != HTTP_ROUTE_REFUSE || r.status != status)
		fail_msg("Host %s target %s: expected refusal %u, got kind %d "
			 "status %u", q.host ? q.host : "(none)",
			 q.target ? q.target : "/", status, r.kind, r.status);
	assert_non_null(r.reason);
}

static void
test_route_https(void **state)
{
	const struct cfg_snapshot *s = *state;

	expect_proceed(s, (struct rq){ .https = true, .sni = "shop",
		       .host = "shop.example.com" }, "shop", "web");
	/* Case, port, trailing dot and a wildcard alias. */
	expect_proceed(s, (struct rq){ .https = true, .sni = "shop",
		       .host = "SHOP.Example.COM:443" }, "shop", "web");
	expect_proceed(s, (struct rq){ .https = true, .sni = "shop",
		       .host = "shop.example.com.:8443" }, "shop", "web");
	expect_proceed(s, (struct rq){ .https = true, .sni = "shop",
		       .host = "img.cdn.example.com", .target = "/api/x?y=1" },
		       "shop", "api");
	/* Every viewer policy proceeds over HTTPS. */
	expect_proceed(s, (struct rq){ .https = true, .sni = "shop",
		       .host = "shop.example.com", .method = "POST",
		       .target = "/cart" }, "shop", "web");
	/* HTTP/1.0 without Host: the handshake's distribution. */
	expect_proceed(s, (struct rq){ .https = true, .sni = "blog" },
		       "blog", "b");

	/* Host of another distribution than the SNI answered: 421. */
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "blog.example.com" }, 421);
	/* A name nobody serves, a disabled distribution's name and an
	 * address: no default distribution here, so 421 as well. */
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "nobody.example.org" }, 421);
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "off.example.com" }, 421);
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "192.0.2.1" }, 421);
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "[2001:db8::1]:443" }, 421);
	/* The one-label wildcard does not cover deeper names. */
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "a.b.cdn.example.com" }, 421);

	/* Malformed Host or target: 400. */
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "shop.example.com:44x3" }, 400);
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "shop.example.com:123456" }, 400);
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "shop.example.com/x" }, 400);
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "" }, 400);
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "[zz::1]" }, 400);
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "shop.example.com", .target = "api/x" }, 400);
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "shop.example.com", .target = "/a b" }, 400);

	/* A distribution pushed without origins cannot proxy. */
	expect_refuse(s, (struct rq){ .https = true, .sni = "bare",
		      .host = "bare.example.com" }, 503);
}

static void
test_route_http(void **state)
{
	const struct cfg_snapshot *s = *state;
	struct http_route r;

	/* redirect-to-https: 301 for GET and HEAD, same host (port and
	 * trailing dot dropped, lower-cased), path and query. */
	r = route(s, (struct rq){ .host = "Shop.Example.com.:80",
		  .target = "/cart/view?id=7&x=%20" }, 443);
	assert_int_equal(r.kind, HTTP_ROUTE_REDIRECT);
	assert_int_equal(r.status, 301);
	assert_string_equal(r.location,
			    "https://shop.example.com/cart/view?id=7&x=%20");
	assert_int_equal(r.location_len, strlen(r.location));
	assert_string_equal(r.dist->name, "shop");
	r = route(s, (struct rq){ .host = "shop.example.com", .method = "HEAD",
		  .target = "/" }, 443);
	assert_int_equal(r.status, 301);
	/* Other methods: 308, which keeps the method and the body. */
	r = route(s, (struct rq){ .host = "shop.example.com", .method = "POST",
		  .target = "/cart" }, 443);
	assert_int_equal(r.kind, HTTP_ROUTE_REDIRECT);
	assert_int_equal(r.status, 308);
	assert_string_equal(r.location, "https://shop.example.com/cart");
	r = route(s, (struct rq){ .host = "shop.example.com", .method = "get",
		  .target = "/" }, 443);
	assert_int_equal(r.status, 308);        /* methods are case-sensitive */
	/* A listener on another port is named in the Location. */
	r = route(s, (struct rq){ .host = "shop.example.com:8080",
		  .target = "/x" }, 8443);
	assert_string_equal(r.location, "https://shop.example.com:8443/x");
	/* A buffer that cannot hold the Location: 414, nothing written
	 * past it. */
	{
		struct http_route_req req = {
			.host = "shop.example.com", .host_len = 16,
			.method = "GET", .method_len = 3,
			.target = "/0123456789", .target_len = 11,
			.https_port = 443,
		};
		char small[40];

		memset(small, 0x5a, sizeof(small));
		http_route(s, &req, small, 35, &r);
		assert_int_equal(r.kind, HTTP_ROUTE_REFUSE);
		assert_int_equal(r.status, 414);
		assert_int_equal(small[0], 0x5a);
		http_route(s, &req, small, 36, &r);
		assert_int_equal(r.kind, HTTP_ROUTE_REDIRECT);
		assert_string_equal(small, "https://shop.example.com/0123456789");
	}

	/* https-only over HTTP: 403, whatever the method. */
	expect_refuse(s, (struct rq){ .host = "shop.example.com",
		      .target = "/api/users?x=1" }, 403);
	expect_refuse(s, (struct rq){ .host = "shop.example.com",
		      .method = "POST", .target = "/api/users" }, 403);
	/* allow-all proceeds, query not part of the match. */
	expect_proceed(s, (struct rq){ .host = "shop.example.com",
		       .target = "/logo.png?v=3" }, "shop", "web");
	expect_proceed(s, (struct rq){ .host = "blog.example.com",
		       .method = "DELETE", .target = "/post/1" }, "blog", "b");

	/* Unknown host, disabled distribution, IPv4 literal: 404. */
	expect_refuse(s, (struct rq){ .host = "nobody.example.org" }, 404);
	expect_refuse(s, (struct rq){ .host = "off.example.com" }, 404);
	expect_refuse(s, (struct rq){ .host = "192.0.2.1:80" }, 404);
	/* No Host over plain HTTP: nothing to route on. */
	expect_refuse(s, (struct rq){ .host = NULL }, 400);
}

/* A default distribution answers names nobody claims (and addresses),
 * over HTTP and on its own TLS connections; a connection to another
 * distribution still gets 421 for them. */
static void
test_route_default(void **state)
{
	struct cfg_snapshot *s = snap(dists_json, "any",
		"{\"name\": \"any\", \"default\": true, "
		" \"aliases\": [\"any.example.net\"],"
		" \"certificates\": {\"ecdsa\": \"ec\"},"
		" \"origins\": [{\"id\": \"z\", \"domain\": \"z.example.net\"}],"
		" \"default_behavior\": {\"origin\": \"z\","
		"   \"viewer_protocol_policy\": \"allow-all\"}}");

	(void)state;
	expect_proceed(s, (struct rq){ .host = "nobody.example.org" },
		       "any", "z");
	expect_proceed(s, (struct rq){ .host = "192.0.2.1" }, "any", "z");
	expect_proceed(s, (struct rq){ .https = true, .sni = "any",
		       .host = "192.0.2.1:443" }, "any", "z");
	expect_refuse(s, (struct rq){ .https = true, .sni = "shop",
		      .host = "nobody.example.org" }, 421);
	/* A claimed name still goes to its own distribution. */
	expect_proceed(s, (struct rq){ .host = "blog.example.com" },
		       "blog", "b");
	cfg_snapshot_put(s);
}

/* ---------------------------------------------------------------- responses */

static const struct http_hdr *
find_hdr(const struct http_sec_hdrs *p, const char *name)
{
	unsigned int i;

	for (i = 0; i < p->n; i++)
		if (p->h[i].name_len == strlen(name) &&
		    memcmp(p->h[i].name, name, p->h[i].name_len) == 0)
			return &p->h[i];
	return NULL;
}

static void
assert_hdr(const struct http_sec_hdrs *p, const char *name, const char *value)
{
	const struct http_hdr *h = find_hdr(p, name);

	if (h == NULL)
		fail_msg("no %s header", name);
	if (h->value_len != strlen(value) ||
	    memcmp(h->value, value, h->value_len) != 0)
		fail_msg("%s: '%.*s', expected '%s'", name, (int)h->value_len,
			 h->value, value);
}

static void
test_security_headers(void **state)
{
	const struct cfg_dist *shop = cfg_snapshot_find_dist(*state, "shop");
	const struct cfg_dist *blog = cfg_snapshot_find_dist(*state, "blog");
	const struct cfg_dist *bare = cfg_snapshot_find_dist(*state, "bare");
	struct http_sec_hdrs p;
	unsigned int present = 0, i;

	http_sec_headers(shop, true, &p);
	assert_int_equal(p.n, 5);
	assert_true(p.override);
	assert_hdr(&p, "Strict-Transport-Security",
		   "max-age=31536000; includeSubDomains; preload");
	assert_hdr(&p, "X-Content-Type-Options", "nosniff");
	assert_hdr(&p, "X-Frame-Options", "DENY");
	assert_hdr(&p, "Referrer-Policy", "no-referrer");
	assert_hdr(&p, "Content-Security-Policy", "default-src 'self'");
	/* Override: the origin's copies go, whatever their case; other
	 * headers stay. */
	assert_false(http_sec_keep_origin(&p, "x-frame-options", 15,
					  &present));
	assert_false(http_sec_keep_origin(&p, "STRICT-TRANSPORT-SECURITY", 25,
					  &present));
	assert_true(http_sec_keep_origin(&p, "Content-Type", 12, &present));
	assert_true(http_sec_keep_origin(&p, "X-Frame", 7, &present));
	assert_int_equal(present, 0);

	/* Never HSTS over plain HTTP (RFC 6797 section 7.2). */
	http_sec_headers(shop, false, &p);
	assert_int_equal(p.n, 4);
	assert_null(find_hdr(&p, "Strict-Transport-Security"));
	/* ... and the origin's own HSTS is not ours to judge there. */
	assert_true(http_sec_keep_origin(&p, "Strict-Transport-Security", 25,
					 &present));

	/* No override: the origin's header is kept and ours not added. */
	http_sec_headers(blog, true, &p);
	assert_int_equal(p.n, 2);
	assert_false(p.override);
	assert_hdr(&p, "Strict-Transport-Security", "max-age=600");
	assert_hdr(&p, "X-Frame-Options", "SAMEORIGIN");
	present = 0;
	assert_true(http_sec_keep_origin(&p, "X-Frame-Options", 15, &present));
	for (i = 0; i < p.n; i++) {
		bool origin_had = present & (1u << i);

		if (memcmp(p.h[i].name, "X-Frame-Options", 15) == 0)
			assert_true(origin_had);
		else
			assert_false(origin_had);
	}

	/* Nothing configured: nothing added. */
	http_sec_headers(bare, true, &p);
	assert_int_equal(p.n, 0);
}

/* ---------------------------------------------------------------- origin request */

struct hdr_in {
	const char *name, *value;
};

static int
fwd(struct http_fwd *f, const struct hdr_in *in, size_t n, char *kept,
    size_t kept_size, char *out, size_t out_size)
{
	size_t i, k = 0;
	int rc;

	kept[0] = '\0';
	for (i = 0; i < n; i++) {
		rc = http_fwd_filter(f, in[i].name, strlen(in[i].name),
				     in[i].value, strlen(in[i].value));
		if (rc < 0)
			return rc;
		if (rc == 1)
			k += (size_t)snprintf(kept + k, kept_size - k,
					      "%s: %s\n", in[i].name,
					      in[i].value);
	}
	rc = http_fwd_write(f, out, out_size);
	if (rc >= 0)
		out[rc] = '\0';
	return rc;
}

static void
test_forwarding(void **state)
{
	const struct cfg_dist *shop = cfg_snapshot_find_dist(*state, "shop");
	const struct cfg_dist *blog = cfg_snapshot_find_dist(*state, "blog");
	static const struct hdr_in forged[] = {
		{ "Host", "shop.example.com:443" },
		{ "User-Agent", "curl/7.88" },
		{ "X-Forwarded-For", " 203.0.113.9 " },
		{ "x-client-verify", "SUCCESS" },
		{ "X-Client-Subject", "CN=admin" },
		{ "X_Client_Verify", "SUCCESS" },
		{ "X-Forwarded-Proto", "https" },
		{ "Via", "1.0 corp-proxy" },
		{ "X-Forwarded-For", "10.0.0.1, 10.0.0.2" },
		{ "X_Forwarded_For", "6.6.6.6" },
		{ "X-Rampart-Viewer-TLS", "TLSv1.3:NULL:fullHandshake" },
		{ "x_rampart_distribution", "admin" },
		{ "Accept", "*/*" },
	};
	char kept[512], out[512];
	struct http_fwd f;
	int rc;

	/* HTTPS to "web" (no forward_host), mTLS optional, no client
	 * certificate: every forged header replaced, prior XFF and Via
	 * kept in order. */
	memset(&f, 0, sizeof(f));
	f.dist = shop;
	f.origin = cfg_dist_find_origin(shop, "web");
	f.https = true;
	inet_pton(AF_INET, "198.51.100.7", &f.client);
	f.host = "shop.example.com:443";
	f.host_len = strlen(f.host);
	f.mtls = HTTP_MTLS_NONE;
	f.tls_protocol = "TLSv1.3";
	f.tls_cipher = "TLS13-AES128-GCM-SHA256";
	rc = fwd(&f, forged, sizeof(forged) / sizeof(forged[0]), kept,
		 sizeof(kept), out, sizeof(out));
	assert_true(rc > 0);
	assert_string_equal(kept, "User-Agent: curl/7.88\nAccept: */*\n");
	assert_string_equal(out,
		"Host: origin.example.com\r\n"
		"X-Forwarded-For: 203.0.113.9, 10.0.0.1, 10.0.0.2, "
		"198.51.100.7\r\n"
		"X-Forwarded-Proto: https\r\n"
		"Via: 1.0 corp-proxy, 1.1 rampart\r\n"
		"X-Client-Verify: NONE\r\n"
		"X-Rampart-Distribution: shop\r\n"
		"X-Rampart-Viewer-TLS: TLSv1.3:TLS13-AES128-GCM-SHA256:"
		"fullHandshake\r\n");
	assert_int_equal(rc, (int)strlen(out));

	/* forward_host, a verified client certificate whose subject holds
	 * bytes that must not reach a header raw. */
	memset(&f, 0, sizeof(f));
	f.dist = shop;
	f.origin = cfg_dist_find_origin(shop, "api");
	f.https = true;
	inet_pton(AF_INET, "192.0.2.10", &f.client);
	f.host = "img.cdn.example.com";
	f.host_len = strlen(f.host);
	f.mtls = HTTP_MTLS_SUCCESS;
	f.subject = "CN=a\r\nX-Evil: 1%";
	f.subject_len = strlen(f.subject);
	f.tls_protocol = "TLSv1.2";
	f.tls_cipher = "ECDHE-ECDSA-AES256-GCM-SHA384";
	f.tls_resumed = true;
	rc = fwd(&f, forged, 2, kept, sizeof(kept), out, sizeof(out));
	assert_true(rc > 0);
	assert_string_equal(out,
		"Host: img.cdn.example.com\r\n"
		"X-Forwarded-For: 192.0.2.10\r\n"
		"X-Forwarded-Proto: https\r\n"
		"Via: 1.1 rampart\r\n"
		"X-Client-Verify: SUCCESS\r\n"
		"X-Client-Subject: CN=a%0D%0AX-Evil: 1%25\r\n"
		"X-Rampart-Distribution: shop\r\n"
		"X-Rampart-Viewer-TLS: TLSv1.2:ECDHE-ECDSA-AES256-GCM-SHA384:"
		"sessionResumed\r\n");
	/* Too small a buffer: -ENOSPC, never a truncated header block. */
	assert_int_equal(http_fwd_write(&f, out, (size_t)rc - 1), -ENOSPC);
	assert_int_equal(http_fwd_write(&f, out, (size_t)rc), rc);

	f.mtls = HTTP_MTLS_FAILED;
	rc = http_fwd_write(&f, out, sizeof(out));
	out[rc] = '\0';
	assert_non_null(strstr(out, "X-Client-Verify: FAILED\r\n"));
	assert_null(strstr(out, "X-Client-Subject"));

	/* mTLS off: no verification headers, but a viewer's are still
	 * removed; plain HTTP says so. */
	memset(&f, 0, sizeof(f));
	f.dist = blog;
	f.origin = &blog->origins[0];
	inet_pton(AF_INET, "10.1.2.3", &f.client);
	rc = fwd(&f, forged, sizeof(forged) / sizeof(forged[0]), kept,
		 sizeof(kept), out, sizeof(out));
	assert_true(rc > 0);
	assert_null(strstr(out, "X-Client"));
	assert_null(strstr(kept, "Client"));
	assert_null(strstr(kept, "ampart"));
	assert_null(strstr(out, "X-Rampart-Viewer-TLS"));
	assert_non_null(strstr(out, "X-Rampart-Distribution: blog\r\n"));
	assert_non_null(strstr(out, "Host: blog-origin.example.com\r\n"));
	assert_non_null(strstr(out, "X-Forwarded-Proto: http\r\n"));

	/* More X-Forwarded-For lines than the edge keeps track of. */
	memset(&f, 0, sizeof(f));
	f.dist = blog;
	f.origin = &blog->origins[0];
	{
		unsigned int i;

		for (i = 0; i < HTTP_FWD_PRIOR_MAX; i++)
			assert_int_equal(http_fwd_filter(&f, "X-Forwarded-For",
							 15, "1.1.1.1", 7), 0);
		assert_int_equal(http_fwd_filter(&f, "X-Forwarded-For", 15,
						 "1.1.1.1", 7), -E2BIG);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_match_pathological),
		cmocka_unit_test_setup_teardown(test_behaviors_ordered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_route_https, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_route_http, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_route_default, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_security_headers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forwarding, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("http_route", tests, NULL, NULL);
}

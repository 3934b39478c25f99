/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The edge's request policies, as pure functions over the configuration
 * snapshot: which distribution, cache behavior and origin a request goes
 * to (or the redirect or refusal the edge answers itself), which security
 * headers a response gets, and which forwarding headers the origin request
 * carries. docs/HTTP.md, "Routing and policies", describes the behaviour
 * and every status generated here.
 *
 * Thread rules, for every function below: any worker (or any thread)
 * holding the snapshot the distributions come from; no allocation, no
 * locks, no syscalls. Inputs are byte ranges (not NUL-terminated) into the
 * caller's request buffer; results point into the snapshot, into static
 * strings, or into a buffer the caller passes, and live as long as those.
 */
#ifndef RAMPART_HTTP_ROUTE_H
#define RAMPART_HTTP_ROUTE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg/snapshot.h"

/* ---------------------------------------------------------------- paths */

/*
 * CloudFront's path-pattern match: '*' matches any sequence of bytes
 * (including '/' and the empty one), '?' exactly one byte, every other
 * byte itself, case-sensitively; the whole path must match. path is the
 * raw request path without the query string (no percent-decoding, no
 * dot-segment removal: the pattern sees what the origin is sent).
 * Iterative, O(pattern_len * path_len) at worst, no recursion.
 */
bool http_path_match(const char *pattern, size_t pattern_len,
		     const char *path, size_t path_len);

/* The first of d's behaviors whose pattern matches path, else
 * &d->default_behavior (whose origin is NULL when d has no origins). */
const struct cfg_behavior *http_behavior_find(const struct cfg_dist *d,
					      const char *path,
					      size_t path_len);

/* ---------------------------------------------------------------- routing */

struct http_route_req {
	bool https;                     /* arrived over TLS */
	/* The distribution the TLS handshake selected (SNI, dedicated
	 * address or default), from the same snapshot; NULL over plain
	 * HTTP. */
	const struct cfg_dist *sni_dist;
	const char *host;               /* the Host field value; NULL when */
	size_t host_len;                /* the request has none (HTTP/1.0) */
	const char *method;
	size_t method_len;
	const char *target;             /* origin-form "/path?query", or "*" */
	size_t target_len;
	/* The port of the HTTPS listener, written into redirects when it
	 * is not 443. */
	uint16_t https_port;
};

enum http_route_kind {
	HTTP_ROUTE_PROCEED,             /* forward to origin */
	HTTP_ROUTE_REDIRECT,            /* answer status with Location */
	HTTP_ROUTE_REFUSE,              /* answer status, close or not as
					 * the HTTP layer decides */
};

struct http_route {
	enum http_route_kind kind;
	const struct cfg_dist *dist;    /* PROCEED; set for REDIRECT and
					 * for refusals made after the
					 * distribution was known */
	const struct cfg_behavior *behavior;    /* PROCEED, REDIRECT */
	const struct cfg_origin *origin;        /* PROCEED */
	unsigned int status;            /* REDIRECT: 301/308; REFUSE: 4xx/5xx */
	const char *reason;             /* REFUSE, REDIRECT: a static sentence
					 * for the body and the access log */
	const char *location;           /* REDIRECT: in the caller's buffer, */
	size_t location_len;            /* NUL-terminated */
};

/* Bytes a Location buffer needs beyond target_len: "https://", a host of
 * at most 253 bytes or a bracketed IPv6 literal, ":65535", the NUL. */
#define HTTP_ROUTE_LOCATION_EXTRA  (8 + 256 + 6 + 1)

/*
 * Decide what to do with one request (docs/HTTP.md, "Routing and
 * policies"):
 *  - the Host (port, case and a trailing dot ignored) selects an enabled
 *    distribution through its aliases; an IP-literal Host names none; a
 *    Host no distribution claims falls to the default distribution when
 *    there is one;
 *  - over HTTPS the distribution must be the one the handshake selected,
 *    else 421; over HTTP no distribution → 404;
 *  - the first behavior matching the path (query excluded), else the
 *    default behavior, gives the origin and the viewer protocol policy:
 *    over HTTP, redirect-to-https → 301 (GET, HEAD) or 308 (other
 *    methods) to https://host[:https_port]/path?query, https-only → 403.
 * A malformed Host or target → 400; no Host over HTTP → 400; a
 * distribution without origins → 503. loc (loc_size bytes) receives the
 * Location of a redirect; loc_size >= target_len +
 * HTTP_ROUTE_LOCATION_EXTRA always suffices (a smaller one that cannot
 * hold it gives 414). out is always filled in.
 */
void http_route(const struct cfg_snapshot *s, const struct http_route_req *req,
		char *loc, size_t loc_size, struct http_route *out);

/* ---------------------------------------------------------------- responses */

#define HTTP_SEC_HDR_MAX 5

struct http_hdr {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* The security headers of one response: pointers into the snapshot. */
struct http_sec_hdrs {
	struct http_hdr h[HTTP_SEC_HDR_MAX];
	unsigned int n;
	bool override;                  /* the distribution's override flag */
};

/*
 * The response headers policy of d for a response sent over https or not:
 * Strict-Transport-Security (only over HTTPS: RFC 6797 section 7.2 forbids
 * it over plain HTTP), X-Content-Type-Options: nosniff, X-Frame-Options,
 * Referrer-Policy, Content-Security-Policy, each when configured.
 */
void http_sec_headers(const struct cfg_dist *d, bool https,
		      struct http_sec_hdrs *out);

/*
 * Whether an origin response header (name, any case) is forwarded to the
 * viewer. A header the policy sets is dropped when the distribution
 * overrides (the policy's value replaces it); otherwise it is kept and its
 * bit (1 << index in p->h) is set in *present, so the policy's own value
 * is not added as well. Any other header is kept. Call it for every
 * origin header with *present starting at 0, then write each p->h[i]
 * whose bit is clear.
 */
bool http_sec_keep_origin(const struct http_sec_hdrs *p, const char *name,
			  size_t name_len, unsigned int *present);

/* ---------------------------------------------------------------- origin request */

enum http_mtls_result {
	HTTP_MTLS_NONE,                 /* no client certificate */
	HTTP_MTLS_SUCCESS,              /* one was presented and verified */
	HTTP_MTLS_FAILED,               /* one was presented and refused
					 * (only reaches here with mtls
					 * optional) */
};

#define HTTP_FWD_PRIOR_MAX 8

struct http_fwd_value {
	const char *v;
	size_t len;
};

struct http_fwd {
	/* Set by the caller. */
	const struct cfg_dist *dist;
	const struct cfg_origin *origin;
	bool https;
	struct in_addr client;          /* the viewer's address */
	const char *host;               /* the viewer's Host as received */
	size_t host_len;
	enum http_mtls_result mtls;
	const char *subject;            /* the client certificate's subject */
	size_t subject_len;             /* (SUCCESS only), any bytes */
	/* HTTPS: the viewer session's protocol and suite names (NULL: no
	 * X-Rampart-Viewer-TLS) and whether it was resumed. */
	const char *tls_protocol;
	const char *tls_cipher;
	bool tls_resumed;
	/* Collected by http_fwd_filter, zero them first. */
	struct http_fwd_value xff[HTTP_FWD_PRIOR_MAX];
	unsigned int nb_xff;
	struct http_fwd_value via[HTTP_FWD_PRIOR_MAX];
	unsigned int nb_via;
};

/*
 * Pass every viewer request header through here. Returns 1 when the
 * header is forwarded as is; 0 when it is not: Host, X-Forwarded-Proto,
 * X-Client-Verify, X-Client-Subject, X-Rampart-Viewer-TLS and
 * X-Rampart-Distribution (the edge writes its own; a viewer can never
 * forge them), X-Forwarded-For and Via (their values are kept
 * in f and written back, with the edge's entry appended, by
 * http_fwd_write); -E2BIG when a request carries more than
 * HTTP_FWD_PRIOR_MAX X-Forwarded-For or Via lines (answer 400).
 * Hop-by-hop and framing headers are the HTTP layer's business.
 */
int http_fwd_filter(struct http_fwd *f, const char *name, size_t name_len,
		    const char *value, size_t value_len);

/*
 * Write the edge's header lines for the origin request into buf, each
 * ending in CRLF: Host (the origin's domain, or the viewer's Host when
 * the origin has forward_host), X-Forwarded-For (the viewer's values,
 * then the client address), X-Forwarded-Proto (http or https), Via (the
 * viewer's values, then "1.1 rampart") and, when the distribution's mTLS
 * is optional or required, X-Client-Verify (SUCCESS, NONE or FAILED) and,
 * on SUCCESS, X-Client-Subject with bytes outside printable ASCII and '%'
 * percent-encoded; X-Rampart-Distribution (the distribution's name) and,
 * over HTTPS, X-Rampart-Viewer-TLS: "protocol:suite:fullHandshake" or
 * "...:sessionResumed" (after CloudFront's CloudFront-Viewer-TLS).
 * Returns the length written (no NUL), or -ENOSPC when
 * size is too small.
 */
int http_fwd_write(const struct http_fwd *f, char *buf, size_t size);

#endif /* RAMPART_HTTP_ROUTE_H */

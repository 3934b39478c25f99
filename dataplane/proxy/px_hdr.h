/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The heads the proxy writes, as pure functions over parsed messages: the
 * request head sent to the origin, the response head sent to the viewer,
 * the edge's own responses, and chunk framing. No DPDK, no I/O, no
 * allocation: unit-tested plainly (tests/unit/proxy). Any thread, on its
 * own buffers; the workers call them on the hot path.
 */
#ifndef RAMPART_PROXY_PX_HDR_H
#define RAMPART_PROXY_PX_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/h1.h"
#include "http/route.h"

/*
 * Whether field f of a message whose fields are fields[0..n) is not
 * forwarded to the next hop: hop-by-hop fields (Connection and every field
 * it names, Keep-Alive, TE, Trailer, Upgrade, Proxy-*) and the framing
 * fields the proxy writes itself (Content-Length, Transfer-Encoding).
 */
bool px_hdr_hop(const struct h1_field *fields, size_t n,
		const struct h1_field *f);

/*
 * The origin request head for req into buf: "METHOD origin-form HTTP/1.1",
 * the viewer's end-to-end fields (hop-by-hop, framing, Expect and what
 * http_fwd_filter withholds removed), the edge's forwarding fields
 * (http_fwd_write; fwd's caller fields set, its collected ones zeroed),
 * one framing field from the parsed result (Content-Length: N or
 * Transfer-Encoding: chunked; none without a body), the final CRLF.
 * Returns the length, -ENOSPC when cap is too small, -E2BIG when the
 * viewer sent too many X-Forwarded-For or Via lines (answer 400).
 */
int px_hdr_request(const struct h1_request *req, struct http_fwd *fwd,
		   char *buf, size_t cap);

/* How the viewer's copy of a response body is framed. */
enum px_out_framing {
	PX_OUT_NONE,            /* no body (HEAD, 1xx, 204, 304) */
	PX_OUT_LENGTH,          /* Content-Length: the origin's */
	PX_OUT_CHUNKED,         /* Transfer-Encoding: chunked (re-encoded) */
	PX_OUT_CLOSE,           /* until the connection closes (HTTP/1.0) */
};

/*
 * The viewer response head for res into buf: "HTTP/1.1 status reason",
 * the origin's end-to-end fields with sec's policy applied
 * (http_sec_keep_origin, then the policy's missing headers), the framing
 * field for out (a body-less response keeps the origin's Content-Length),
 * "Connection: close" when close, "Connection: keep-alive" for an
 * HTTP/1.0 viewer kept open (viewer_minor 0), the final CRLF. sec may be
 * NULL. Returns the length or -ENOSPC.
 */
int px_hdr_response(const struct h1_response *res, enum px_out_framing out,
		    bool close, int viewer_minor,
		    const struct http_sec_hdrs *sec, char *buf, size_t cap);

/*
 * A response the edge generates itself: status and a one-line text body
 * ("<status> <phrase>: <reason>"), Location when location is not NULL,
 * "X-Cache: Error from rampart" for statuses >= 400, the security headers
 * of sec (may be NULL), Connection: close when close (keep-alive for an
 * HTTP/1.0 viewer kept open). head: the request was HEAD (no body, same
 * Content-Length). Returns the length or -ENOSPC.
 */
int px_hdr_edge(unsigned int status, const char *reason,
		const char *location, size_t location_len, bool close,
		int viewer_minor, bool head, const struct http_sec_hdrs *sec,
		char *buf, size_t cap);

/* The standard reason phrase of status ("Bad Gateway"); "Unknown" for
 * codes it does not know. */
const char *px_status_phrase(unsigned int status);

/* A chunk-size line for len data bytes ("1f40\r\n") into buf (at least
 * PX_CHUNK_HDR_MAX bytes); returns its length. */
#define PX_CHUNK_HDR_MAX 20
size_t px_chunk_hdr(uint64_t len, char *buf);

#endif /* RAMPART_PROXY_PX_HDR_H */

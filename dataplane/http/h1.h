/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Strict HTTP/1.1 message parsing (RFC 9110, RFC 9112) for the edge: the
 * viewer's request head, the chunked body decoder, and the origin's
 * response head. Built against request smuggling: anything two HTTP
 * implementations could frame differently is refused, never repaired
 * (docs/HTTP.md "Request parsing" lists every rule and status).
 *
 * Head parsers are stateless and zero-copy in the picohttpparser manner:
 * the caller owns the buffer, keeps it unchanged while it uses the result
 * (every struct h1_str points into it) and calls again with the same bytes
 * plus more. They return the head length (> 0, final empty line included),
 * -2 when more bytes are needed, or -1 when the message is invalid, with
 * err.status and err.reason set. The chunked decoder keeps a small state
 * across calls because a body is not buffered whole; it still never copies
 * and hands back spans of the caller's buffer.
 *
 * Everything here is pure computation on caller memory: no allocation, no
 * I/O, no global state. Any thread may call any function on its own
 * objects; the workers call them on the hot path.
 */
#ifndef RAMPART_HTTP_H1_H
#define RAMPART_HTTP_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Configurable bounds. A zero field means "use the default". */
struct h1_limits {
	uint32_t max_request_line;      /* request line without CRLF: 414 */
	uint32_t max_head;              /* head incl. final CRLF: 431 */
	uint32_t max_fields;            /* header (and trailer) fields: 431 */
	uint32_t max_chunk_ext;         /* extension bytes per chunk: 400 */
	uint32_t max_trailer;           /* trailer section bytes: 431 */
	uint64_t max_body;              /* body bytes, 0 = unlimited: 413 */
};

#define H1_DEFAULT_MAX_REQUEST_LINE     (8u << 10)
#define H1_DEFAULT_MAX_HEAD             (32u << 10)
#define H1_DEFAULT_MAX_FIELDS           100u
#define H1_DEFAULT_MAX_CHUNK_EXT        (4u << 10)
#define H1_DEFAULT_MAX_TRAILER          (8u << 10)

extern const struct h1_limits h1_limits_default;

/* A span of the caller's buffer; not NUL-terminated. */
struct h1_str {
	const char *p;
	size_t len;
};

struct h1_field {
	struct h1_str name;     /* a token, case as sent */
	struct h1_str value;    /* leading and trailing OWS removed */
};

/* Why a message was refused: the status the edge answers with (400, 413,
 * 414, 417, 431, 501, 505 for requests; 502 for origin responses) and a
 * short constant reason for the access log. */
struct h1_error {
	uint16_t status;
	const char *reason;
};

enum h1_method {
	H1_METHOD_OTHER = 0,    /* a valid token we do not interpret */
	H1_METHOD_GET,
	H1_METHOD_HEAD,
	H1_METHOD_POST,
	H1_METHOD_PUT,
	H1_METHOD_DELETE,
	H1_METHOD_OPTIONS,
	H1_METHOD_TRACE,
	H1_METHOD_PATCH,
	H1_METHOD_CONNECT,      /* never in a parsed request: refused (501) */
};

enum h1_target_form {
	H1_TARGET_ORIGIN,       /* "/path?query" */
	H1_TARGET_ABSOLUTE,     /* "http://host:port/path?query" */
	H1_TARGET_ASTERISK,     /* "*", OPTIONS only */
};

/* How the body that follows the head is delimited (RFC 9112 6.3). */
enum h1_framing {
	H1_FRAMING_NONE,        /* no body */
	H1_FRAMING_LENGTH,      /* content_length bytes (possibly 0) */
	H1_FRAMING_CHUNKED,     /* decode with struct h1_chunked */
	H1_FRAMING_CLOSE,       /* responses only: until the origin closes */
};

struct h1_request {
	/* Set by the caller before parsing: room for the fields. At most
	 * min(fields_cap, max_fields) fields are accepted (431 beyond). */
	struct h1_field *fields;
	size_t fields_cap;

	/* Filled by a successful parse. */
	struct h1_str method;
	enum h1_method method_id;
	struct h1_str target;           /* request-target exactly as sent */
	enum h1_target_form form;
	struct h1_str scheme;           /* absolute-form only: "http"/"https" */
	/* The target as origin-form would carry it ("/p?q", or "*"): the
	 * target itself, or the path and query of an absolute-form one
	 * ("/" when both are empty). What a router or origin is given. */
	struct h1_str origin;
	struct h1_str path;             /* "/..." before '?' ("*" asterisk) */
	struct h1_str query;            /* after '?', without it */
	bool has_query;
	/* The authority the request is for: from the absolute-form target
	 * when there is one (RFC 9112 3.2.2), else from Host. host keeps the
	 * brackets of an IPv6 literal and the case as sent; port is 0 when
	 * absent. Empty only for an HTTP/1.0 request without Host. */
	struct h1_str authority;
	struct h1_str host;
	uint16_t port;
	int minor_version;              /* 0 or 1 */
	size_t nfields;
	enum h1_framing framing;        /* NONE, LENGTH or CHUNKED */
	uint64_t content_length;        /* when framing == H1_FRAMING_LENGTH */
	bool keep_alive;                /* version default and Connection */
	bool expect_continue;           /* "Expect: 100-continue" on 1.1 */
	bool upgrade;                   /* an Upgrade field is present */

	struct h1_error err;            /* after -1 */
};

struct h1_response {
	struct h1_field *fields;        /* as in struct h1_request */
	size_t fields_cap;

	int minor_version;
	uint16_t status;                /* 100..599 */
	struct h1_str reason;
	size_t nfields;
	enum h1_framing framing;
	uint64_t content_length;
	bool informational;             /* 1xx: another response follows,
					 * except after 101 */
	bool keep_alive;                /* the origin connection may be reused */

	struct h1_error err;            /* after -1; status is always 502 */
};

/*
 * Parse a request head at the start of buf[0..len). Leading empty lines
 * (CRLF) are skipped and counted in the result. Returns the head length,
 * -2 (need more) or -1 (req->err set). On -2 and -1 the other outputs are
 * unspecified. lim may be NULL for the defaults.
 *
 * last_len is the len of the previous call for this same head that
 * returned -2, or 0. With it, a call whose new bytes hold no line end only
 * re-checks the size limits: a client dribbling its head byte by byte
 * costs O(lines * head) instead of O(head^2). Errors in an unfinished line
 * are then reported when the line ends (or at the size limit).
 */
int h1_parse_request(const char *buf, size_t len, size_t last_len,
		     const struct h1_limits *lim, struct h1_request *req);

/*
 * Parse an origin's response head. req_method is the method of the request
 * it answers (HEAD responses have no body). A 1xx head is returned like any
 * other with informational set; the caller parses the next head after it.
 * Same returns and last_len as h1_parse_request; res->err.status is 502.
 */
int h1_parse_response(const char *buf, size_t len, size_t last_len,
		      enum h1_method req_method, const struct h1_limits *lim,
		      struct h1_response *res);

/* The first field named name (ASCII case-insensitive), or NULL. */
const struct h1_field *h1_field_find(const struct h1_field *fields, size_t n,
				     const char *name);

/* ASCII case-insensitive equality of a span and a C string. */
bool h1_str_ieq(struct h1_str s, const char *lit);

/*
 * Chunked body decoder (RFC 9112 7.1). One per body, owned by the
 * connection's lcore; initialise it after the head said CHUNKED.
 */
struct h1_chunked {
	uint64_t remaining;             /* data bytes left in this chunk */
	uint64_t total;                 /* body bytes so far */
	uint64_t max_body;
	uint32_t max_ext;
	uint32_t max_trailer;
	uint32_t max_fields;
	uint32_t count;                 /* digits, ext bytes or trailer bytes */
	uint32_t nfields;               /* trailer fields */
	uint8_t state;
	bool done;                      /* the last byte of the body was used */
	struct h1_error err;            /* after -1 */
};

/* lim may be NULL for the defaults. */
void h1_chunked_init(struct h1_chunked *d, const struct h1_limits *lim);

/*
 * Decode from buf[0..len). Returns how many bytes were used (0 only when
 * len is 0 or the body is already done) or -1 (d->err set: 400 for bad
 * framing, 413 past max_body, 431 for oversized trailers). *data is set to
 * the chunk data among the used bytes (data->len 0: framing only); at most
 * one span per call, so the caller loops until it has used its bytes or
 * d->done. Bytes after the body (a pipelined request) are never used.
 * Trailer fields are checked with the head's field rules and dropped.
 */
ssize_t h1_chunked_decode(struct h1_chunked *d, const char *buf, size_t len,
			  struct h1_str *data);

#endif /* RAMPART_HTTP_H1_H */

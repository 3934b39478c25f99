/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 head parsing (RFC 9112 2-6, RFC 9110 5-7). One pass over the
 * bytes validates the syntax and records spans; a second pass over the
 * recorded fields derives the framing. The syntax pass stops at the first
 * byte that cannot start a valid continuation, so a bad prefix is refused
 * as soon as it is seen, not when the head completes.
 *
 * Deliberately stricter than RFC 9112 where two implementations could
 * disagree about where a message ends (the request-smuggling surface):
 *   - lines end in CRLF only: a bare LF is refused, not accepted as 2.2
 *     permits, since an origin behind us might not accept it the same way;
 *     a bare CR is refused (2.2 allows replacing it with SP);
 *   - empty list elements in Content-Length and Transfer-Encoding are
 *     refused rather than ignored (RFC 9110 5.6.1);
 *   - field names that spell Content-Length or Transfer-Encoding with '_'
 *     are refused: CGI-style origins fold '_' into '-';
 *   - only "chunked" is implemented as a transfer coding (501 otherwise).
 * docs/HTTP.md lists every rule with its status.
 */
#include <arpa/inet.h>
#include <string.h>

#include "h1.h"
#include "h1_chars.h"

const struct h1_limits h1_limits_default = {
	.max_request_line = H1_DEFAULT_MAX_REQUEST_LINE,
	.max_head = H1_DEFAULT_MAX_HEAD,
	.max_fields = H1_DEFAULT_MAX_FIELDS,
	.max_chunk_ext = H1_DEFAULT_MAX_CHUNK_EXT,
	.max_trailer = H1_DEFAULT_MAX_TRAILER,
	.max_body = 0,
};

#define NEED_MORE       (-2)
#define INVALID         (-1)

static void
resolve_limits(const struct h1_limits *lim, struct h1_limits *out)
{
	const struct h1_limits *d = &h1_limits_default;

	if (lim == NULL)
		lim = d;
	out->max_request_line = lim->max_request_line ? lim->max_request_line
						       : d->max_request_line;
	out->max_head = lim->max_head ? lim->max_head : d->max_head;
	out->max_fields = lim->max_fields ? lim->max_fields : d->max_fields;
	out->max_chunk_ext = lim->max_chunk_ext ? lim->max_chunk_ext
						: d->max_chunk_ext;
	out->max_trailer = lim->max_trailer ? lim->max_trailer
					    : d->max_trailer;
	out->max_body = lim->max_body;
}

static int
fail(struct h1_error *e, uint16_t status, const char *reason)
{
	e->status = status;
	e->reason = reason;
	return INVALID;
}

/* field-vchar / SP / HTAB (RFC 9110 5.5): obs-text allowed, CTLs not. */
static inline bool
is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static inline unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

bool
h1_str_ieq(struct h1_str s, const char *lit)
{
	size_t n = strlen(lit);

	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)s.p[i]) != lower((unsigned char)lit[i]))
			return false;
	return true;
}

static bool
str_ieq(struct h1_str a, struct h1_str b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (lower((unsigned char)a.p[i]) != lower((unsigned char)b.p[i]))
			return false;
	return true;
}

const struct h1_field *
h1_field_find(const struct h1_field *fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (h1_str_ieq(fields[i].name, name))
			return &fields[i];
	return NULL;
}

/* Ran out of bytes: wait for more, unless the head limit is what cut us. */
static int
out_of_bytes(size_t len, size_t max_head, struct h1_error *e)
{
	if (len > max_head)
		return fail(e, 431, "header section too large");
	return NEED_MORE;
}

/*
 * Cheap re-check for a caller that already got -2 for buf[0..last_len): if
 * the new bytes end no line, the full parse could only change its answer
 * through a size limit, and those are checked here.
 */
static bool
still_incomplete(const char *buf, size_t len, size_t last_len,
		 size_t max_head, size_t max_line)
{
	if (last_len == 0 || last_len >= len || len > max_head)
		return false;
	if (memchr(buf + last_len, '\n', len - last_len) != NULL)
		return false;
	if (len > max_line) {
		/* The request line may be over its limit: a full parse
		 * says so. (Leading empty lines make this check pass
		 * early; the line's own LF then triggers the full parse.) */
		const char *nl = memchr(buf, '\n', len);

		if (nl == NULL || (size_t)(nl - buf) > max_line + 1)
			return false;
	}
	return true;
}

/* "HTTP/x.y" at b[p..p+8): 1 complete, 0 a valid prefix, -1 not. */
static int
match_version(const unsigned char *b, size_t p, size_t end, int *major,
	      int *minor)
{
	static const char pat[] = "HTTP/";

	for (size_t i = 0; i < 8; i++) {
		unsigned char c;

		if (p + i >= end)
			return 0;
		c = b[p + i];
		if (i < 5 && c != (unsigned char)pat[i])
			return -1;
		if ((i == 5 || i == 7) && !(c >= '0' && c <= '9'))
			return -1;
		if (i == 6 && c != '.')
			return -1;
	}
	*major = b[p + 5] - '0';
	*minor = b[p + 7] - '0';
	return 1;
}

/*
 * Header fields from *posp up to and including the empty line. Returns 0
 * (*posp after the empty line), NEED_MORE or INVALID.
 */
static int
parse_fields(const unsigned char *b, size_t len, size_t max_head,
	     size_t *posp, struct h1_field *fields, size_t maxf, size_t *nfp,
	     struct h1_error *e)
{
	size_t end = len < max_head ? len : max_head;
	size_t p = *posp, nf = 0;

	for (;;) {
		size_t ns, vs, ve;
		unsigned char c;

		if (p >= end)
			return out_of_bytes(len, max_head, e);
		c = b[p];
		if (c == '\r') {
			if (p + 1 >= end)
				return out_of_bytes(len, max_head, e);
			if (b[p + 1] != '\n')
				return fail(e, 400, "bare CR");
			*posp = p + 2;
			*nfp = nf;
			return 0;
		}
		if (c == '\n')
			return fail(e, 400, "bare LF");
		if (is_ws(c))
			return fail(e, 400, nf ? "obs-fold" :
				    "whitespace before first field");
		ns = p;
		while (p < end && is_tchar(b[p]))
			p++;
		if (p >= end)
			return out_of_bytes(len, max_head, e);
		if (b[p] != ':') {
			if (is_ws(b[p]) && p > ns)
				return fail(e, 400, "whitespace before colon");
			return fail(e, 400, "invalid field name");
		}
		if (p == ns)
			return fail(e, 400, "empty field name");
		if (nf >= maxf)
			return fail(e, 431, "too many header fields");
		fields[nf].name.p = (const char *)b + ns;
		fields[nf].name.len = p - ns;
		p++;
		while (p < end && is_ws(b[p]))
			p++;
		vs = ve = p;
		for (;; p++) {
			if (p >= end)
				return out_of_bytes(len, max_head, e);
			c = b[p];
			if (c == '\r')
				break;
			if (is_value_char(c)) {
				if (!is_ws(c))
					ve = p + 1;
				continue;
			}
			if (c == '\n')
				return fail(e, 400, "bare LF");
			if (c == 0)
				return fail(e, 400, "NUL in field value");
			return fail(e, 400, "control character in field value");
		}
		if (p + 1 >= end)
			return out_of_bytes(len, max_head, e);
		if (b[p + 1] != '\n')
			return fail(e, 400, "bare CR");
		fields[nf].value.p = (const char *)b + vs;
		fields[nf].value.len = ve - vs;
		nf++;
		p += 2;
	}
}

/* One element of a comma-separated list, OWS trimmed. */
struct list_iter {
	const char *p;
	const char *end;
	bool done;
};

static void
list_init(struct list_iter *it, struct h1_str v)
{
	it->p = v.p;
	it->end = v.p + v.len;
	it->done = false;
}

static bool
list_next(struct list_iter *it, struct h1_str *el)
{
	const char *c, *s, *e;

	if (it->done)
		return false;
	c = memchr(it->p, ',', (size_t)(it->end - it->p));
	s = it->p;
	e = c ? c : it->end;
	while (s < e && is_ws((unsigned char)*s))
		s++;
	while (e > s && is_ws((unsigned char)e[-1]))
		e--;
	el->p = s;
	el->len = (size_t)(e - s);
	if (c)
		it->p = c + 1;
	else
		it->done = true;
	return true;
}

static bool
is_token(struct h1_str s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!is_tchar((unsigned char)s.p[i]))
			return false;
	return true;
}

/* name equals lit, or would after '_' -> '-' (then *folded is set). */
static bool
name_is(struct h1_str name, const char *lit, bool *folded)
{
	size_t n = strlen(lit);
	bool f = false;

	if (name.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = lower((unsigned char)name.p[i]);

		if (c == '_' && lit[i] == '-') {
			f = true;
			continue;
		}
		if (c != (unsigned char)lit[i])
			return false;
	}
	*folded = f;
	return true;
}

/* What the fields say about framing and the connection. */
struct head_info {
	bool has_cl;
	uint64_t cl;
	bool has_te;
	unsigned int te_codings;
	unsigned int te_chunked;
	bool te_last_chunked;
	bool te_chunked_params;
	unsigned int hosts;
	struct h1_str host;
	bool conn_close;
	bool conn_keep_alive;
	bool expect_continue;
	bool expect_other;
	bool upgrade;
};

/* 1*DIGIT, at most INT64_MAX. */
static bool
parse_decimal(struct h1_str s, uint64_t *out)
{
	uint64_t v = 0;

	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c < '0' || c > '9')
			return false;
		if (v > (UINT64_C(0x7fffffffffffffff) - (c - '0')) / 10)
			return false;
		v = v * 10 + (c - '0');
	}
	*out = v;
	return true;
}

static int
scan_content_length(struct h1_str v, struct head_info *hi, struct h1_error *e)
{
	struct list_iter it;
	struct h1_str el;

	list_init(&it, v);
	while (list_next(&it, &el)) {
		uint64_t n;

		if (!parse_decimal(el, &n))
			return fail(e, 400, "invalid Content-Length");
		/* RFC 9110 8.6: a list of one repeated value may be taken
		 * as that value; anything else is two framings. */
		if (hi->has_cl && hi->cl != n)
			return fail(e, 400, "conflicting Content-Length");
		hi->has_cl = true;
		hi->cl = n;
	}
	return 0;
}

static int
scan_transfer_encoding(struct h1_str v, struct head_info *hi,
		       struct h1_error *e)
{
	struct list_iter it;
	struct h1_str el;

	hi->has_te = true;
	list_init(&it, v);
	while (list_next(&it, &el)) {
		struct h1_str coding = el;
		const char *semi = memchr(el.p, ';', el.len);
		bool params = semi != NULL;

		if (params) {
			coding.len = (size_t)(semi - el.p);
			while (coding.len &&
			       is_ws((unsigned char)coding.p[coding.len - 1]))
				coding.len--;
		}
		if (!is_token(coding))
			return fail(e, 400, "invalid Transfer-Encoding");
		hi->te_codings++;
		hi->te_last_chunked = h1_str_ieq(coding, "chunked");
		if (hi->te_last_chunked) {
			hi->te_chunked++;
			if (params)
				hi->te_chunked_params = true;
		}
	}
	return 0;
}

static int
scan_connection(struct h1_str v, struct head_info *hi, struct h1_error *e)
{
	struct list_iter it;
	struct h1_str el;

	list_init(&it, v);
	while (list_next(&it, &el)) {
		if (el.len == 0)
			continue;
		if (!is_token(el))
			return fail(e, 400, "invalid Connection");
		if (h1_str_ieq(el, "close"))
			hi->conn_close = true;
		else if (h1_str_ieq(el, "keep-alive"))
			hi->conn_keep_alive = true;
	}
	return 0;
}

static int
scan_fields(const struct h1_field *f, size_t n, struct head_info *hi,
	    struct h1_error *e)
{
	memset(hi, 0, sizeof(*hi));
	for (size_t i = 0; i < n; i++) {
		struct h1_str name = f[i].name;
		bool folded = false;
		int rc = 0;

		switch (name.len) {
		case 4:
			if (h1_str_ieq(name, "host")) {
				hi->hosts++;
				hi->host = f[i].value;
			}
			break;
		case 6:
			if (h1_str_ieq(name, "expect")) {
				if (h1_str_ieq(f[i].value, "100-continue"))
					hi->expect_continue = true;
				else
					hi->expect_other = true;
			}
			break;
		case 7:
			if (h1_str_ieq(name, "upgrade"))
				hi->upgrade = true;
			break;
		case 10:
			if (h1_str_ieq(name, "connection"))
				rc = scan_connection(f[i].value, hi, e);
			break;
		case 14:
			if (name_is(name, "content-length", &folded)) {
				if (folded)
					return fail(e, 400,
						    "'_' in framing field name");
				rc = scan_content_length(f[i].value, hi, e);
			}
			break;
		case 17:
			if (name_is(name, "transfer-encoding", &folded)) {
				if (folded)
					return fail(e, 400,
						    "'_' in framing field name");
				rc = scan_transfer_encoding(f[i].value, hi, e);
			}
			break;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * host [ ":" port ] with host an IPv6 literal in brackets or a DNS-style
 * name (letters, digits, '-', '.', '_'; an IPv4 address fits). RFC 3986
 * also allows sub-delims and %-escapes in reg-name; no distribution can be
 * named that way, and such bytes only help confuse logs and origins.
 */
static bool
parse_authority(struct h1_str a, struct h1_str *host, uint16_t *port)
{
	size_t i = 0, hl;

	if (a.len == 0)
		return false;
	if (a.p[0] == '[') {
		char tmp[INET6_ADDRSTRLEN];
		unsigned char addr[16];
		const char *rb = memchr(a.p, ']', a.len);

		if (rb == NULL)
			return false;
		hl = (size_t)(rb - a.p) + 1;
		if (hl - 2 == 0 || hl - 2 >= sizeof(tmp))
			return false;
		memcpy(tmp, a.p + 1, hl - 2);
		tmp[hl - 2] = '\0';
		if (inet_pton(AF_INET6, tmp, addr) != 1)
			return false;
		i = hl;
	} else {
		while (i < a.len && a.p[i] != ':') {
			unsigned char c = (unsigned char)a.p[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-' || c == '.' ||
			      c == '_'))
				return false;
			i++;
		}
		hl = i;
		if (hl == 0 || hl > 253)
			return false;
	}
	host->p = a.p;
	host->len = hl;
	*port = 0;
	if (i == a.len)
		return true;
	if (a.p[i] != ':' || a.len - i - 1 == 0 || a.len - i - 1 > 5)
		return false;
	{
		uint32_t v = 0;

		for (i++; i < a.len; i++) {
			unsigned char c = (unsigned char)a.p[i];

			if (c < '0' || c > '9')
				return false;
			v = v * 10 + (c - '0');
		}
		if (v == 0 || v > 65535)
			return false;
		*port = (uint16_t)v;
	}
	return true;
}

static enum h1_method
method_id(struct h1_str m)
{
	static const struct {
		const char *name;
		enum h1_method id;
	} tab[] = {
		{ "GET", H1_METHOD_GET }, { "HEAD", H1_METHOD_HEAD },
		{ "POST", H1_METHOD_POST }, { "PUT", H1_METHOD_PUT },
		{ "DELETE", H1_METHOD_DELETE },
		{ "OPTIONS", H1_METHOD_OPTIONS },
		{ "TRACE", H1_METHOD_TRACE }, { "PATCH", H1_METHOD_PATCH },
		{ "CONNECT", H1_METHOD_CONNECT },
	};

	/* Methods are case-sensitive (RFC 9110 9.1). */
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].name) == m.len &&
		    memcmp(tab[i].name, m.p, m.len) == 0)
			return tab[i].id;
	return H1_METHOD_OTHER;
}

static void
split_path(const char *p, size_t len, struct h1_request *r)
{
	const char *q = memchr(p, '?', len);

	r->has_query = q != NULL;
	if (q) {
		r->path.p = p;
		r->path.len = (size_t)(q - p);
		r->query.p = q + 1;
		r->query.len = len - r->path.len - 1;
	} else {
		r->path.p = p;
		r->path.len = len;
		r->query.p = p + len;
		r->query.len = 0;
	}
	if (r->path.len == 0) {
		r->path.p = "/";
		r->path.len = 1;
	}
}

static int
parse_target(struct h1_request *r, struct h1_error *e)
{
	const char *t = r->target.p;
	size_t n = r->target.len, i;

	for (i = 0; i < n; i++) {
		if (t[i] == '#')
			return fail(e, 400, "fragment in request target");
		if (t[i] == '%' && (i + 2 >= n || hexval(t[i + 1]) < 0 ||
				    hexval(t[i + 2]) < 0))
			return fail(e, 400, "invalid percent-encoding");
	}
	r->scheme.p = t;
	r->scheme.len = 0;
	r->origin = r->target;
	if (t[0] == '/') {
		r->form = H1_TARGET_ORIGIN;
		split_path(t, n, r);
		return 0;
	}
	if (n == 1 && t[0] == '*') {
		if (r->method_id != H1_METHOD_OPTIONS)
			return fail(e, 400, "asterisk-form outside OPTIONS");
		r->form = H1_TARGET_ASTERISK;
		r->path = r->target;
		r->query.p = t + 1;
		r->query.len = 0;
		r->has_query = false;
		return 0;
	}

	/* absolute-form: scheme "://" authority path-abempty [ "?" query ] */
	{
		const char *sep = NULL, *a, *ae, *end = t + n;

		for (i = 0; i + 2 < n; i++) {
			if (t[i] == ':') {
				if (t[i + 1] == '/' && t[i + 2] == '/')
					sep = t + i;
				break;
			}
		}
		if (sep == NULL)
			return fail(e, 400, "invalid request target");
		r->scheme.len = (size_t)(sep - t);
		if (!h1_str_ieq(r->scheme, "http") &&
		    !h1_str_ieq(r->scheme, "https"))
			return fail(e, 400, "unsupported scheme in target");
		a = sep + 3;
		ae = a;
		while (ae < end && *ae != '/' && *ae != '?')
			ae++;
		if (memchr(a, '@', (size_t)(ae - a)) != NULL)
			return fail(e, 400, "userinfo in request target");
		r->authority.p = a;
		r->authority.len = (size_t)(ae - a);
		if (!parse_authority(r->authority, &r->host, &r->port))
			return fail(e, 400, "invalid authority in target");
		r->form = H1_TARGET_ABSOLUTE;
		/* "http://a?q" has no origin-form spelling without a copy;
		 * no client sends it. */
		if (ae < end && *ae == '?')
			return fail(e, 400, "empty path before query");
		split_path(ae, (size_t)(end - ae), r);
		r->origin.p = ae < end ? ae : "/";
		r->origin.len = ae < end ? (size_t)(end - ae) : 1;
		return 0;
	}
}

static uint16_t
default_port(const struct h1_request *r)
{
	return h1_str_ieq(r->scheme, "https") ? 443 : 80;
}

int
h1_parse_request(const char *buf, size_t len, size_t last_len,
		 const struct h1_limits *lim, struct h1_request *req)
{
	const unsigned char *b = (const unsigned char *)buf;
	struct h1_limits L;
	struct head_info hi;
	struct h1_error *e = &req->err;
	size_t p = 0, end, ls, ts, maxf;
	int major, minor, rc;

	resolve_limits(lim, &L);
	if (still_incomplete(buf, len, last_len, L.max_head,
			     L.max_request_line))
		return NEED_MORE;
	end = len < L.max_head ? len : L.max_head;

	/* RFC 9112 2.2: ignore empty lines before the request line. */
	while (p < end && b[p] == '\r') {
		if (p + 1 >= end)
			return out_of_bytes(len, L.max_head, e);
		if (b[p + 1] != '\n')
			return fail(e, 400, "bare CR");
		p += 2;
	}
	if (p < end && b[p] == '\n')
		return fail(e, 400, "bare LF");

	ls = p;
	while (p < end && is_tchar(b[p]))
		p++;
	if (p - ls > L.max_request_line)
		return fail(e, 400, "method too long");
	if (p >= end)
		return out_of_bytes(len, L.max_head, e);
	if (p == ls || b[p] != ' ')
		return fail(e, 400, "invalid method");
	req->method.p = buf + ls;
	req->method.len = p - ls;
	req->method_id = method_id(req->method);
	if (req->method_id == H1_METHOD_CONNECT)
		return fail(e, 501, "CONNECT not supported");

	ts = ++p;
	while (p < end && b[p] > 0x20 && b[p] < 0x7f)
		p++;
	if (p - ls > L.max_request_line)
		return fail(e, 414, "request target too long");
	if (p >= end)
		return out_of_bytes(len, L.max_head, e);
	if (b[p] != ' ') {
		if (b[p] == '\r' || b[p] == '\n')
			return fail(e, 400, "missing HTTP version");
		return fail(e, 400, "invalid character in request target");
	}
	if (p == ts)
		return fail(e, 400, "empty request target");
	req->target.p = buf + ts;
	req->target.len = p - ts;
	p++;

	rc = match_version(b, p, end, &major, &minor);
	if (rc < 0)
		return fail(e, 400, "invalid HTTP version");
	if (rc == 0)
		return out_of_bytes(len, L.max_head, e);
	p += 8;
	if (p - ls > L.max_request_line)
		return fail(e, 414, "request line too long");
	if (p >= end)
		return out_of_bytes(len, L.max_head, e);
	if (b[p] != '\r')
		return fail(e, 400, b[p] == '\n' ? "bare LF" :
			    "invalid request line");
	if (p + 1 >= end)
		return out_of_bytes(len, L.max_head, e);
	if (b[p + 1] != '\n')
		return fail(e, 400, "bare CR");
	p += 2;
	if (major != 1 || minor > 1)
		return fail(e, 505, "HTTP version not supported");
	req->minor_version = minor;

	/* Never NULL: callers may hand spans to memcmp(). */
	req->authority.p = "";
	req->authority.len = 0;
	req->host = req->authority;
	req->port = 0;
	if (parse_target(req, e) < 0)
		return INVALID;

	maxf = req->fields_cap < L.max_fields ? req->fields_cap : L.max_fields;
	rc = parse_fields(b, len, L.max_head, &p, req->fields, maxf,
			  &req->nfields, e);
	if (rc < 0)
		return rc;

	if (scan_fields(req->fields, req->nfields, &hi, e) < 0)
		return INVALID;

	/* Host (RFC 9112 3.2): exactly one on 1.1, at most one on 1.0. */
	if (hi.hosts > 1)
		return fail(e, 400, "duplicate Host");
	if (hi.hosts == 0 && minor == 1)
		return fail(e, 400, "missing Host");
	if (hi.hosts == 1) {
		struct h1_str h;
		uint16_t port;

		if (!parse_authority(hi.host, &h, &port))
			return fail(e, 400, hi.host.len ? "invalid Host" :
				    "empty Host");
		if (req->form == H1_TARGET_ABSOLUTE) {
			/* 3.2: the client sends Host identical to the
			 * target's authority. A mismatch means two
			 * routing answers for one request: refuse. */
			uint16_t a = req->port ? req->port : default_port(req);
			uint16_t b2 = port ? port : default_port(req);

			if (!str_ieq(h, req->host) || a != b2)
				return fail(e, 400,
					    "Host does not match request target");
		} else {
			req->authority = hi.host;
			req->host = h;
			req->port = port;
		}
	}

	/* Framing, RFC 9112 6.1-6.3. */
	if (hi.has_te) {
		if (minor == 0)
			return fail(e, 400, "Transfer-Encoding in HTTP/1.0");
		if (hi.has_cl)
			return fail(e, 400,
				    "both Content-Length and Transfer-Encoding");
		if (hi.te_chunked > 1)
			return fail(e, 400, "chunked applied twice");
		if (!hi.te_last_chunked)
			return fail(e, 400, "final transfer coding not chunked");
		if (hi.te_chunked_params)
			return fail(e, 400, "parameters on chunked");
		if (hi.te_codings > 1)
			return fail(e, 501, "transfer coding not implemented");
		req->framing = H1_FRAMING_CHUNKED;
		req->content_length = 0;
	} else if (hi.has_cl) {
		if (L.max_body && hi.cl > L.max_body)
			return fail(e, 413, "content too large");
		req->framing = H1_FRAMING_LENGTH;
		req->content_length = hi.cl;
	} else {
		req->framing = H1_FRAMING_NONE;
		req->content_length = 0;
	}

	if (minor == 1)
		req->keep_alive = !hi.conn_close;
	else
		req->keep_alive = hi.conn_keep_alive && !hi.conn_close;
	/* RFC 9110 10.1.1: expectations are a 1.1 feature (a 1.0 one is
	 * ignored); we know only 100-continue, and say so (417) rather than
	 * forward one the origin might act on differently. */
	if (minor == 1 && hi.expect_other)
		return fail(e, 417, "unsupported expectation");
	req->expect_continue = minor == 1 && hi.expect_continue;
	req->upgrade = hi.upgrade;
	return (int)p;
}

int
h1_parse_response(const char *buf, size_t len, size_t last_len,
		  enum h1_method req_method, const struct h1_limits *lim,
		  struct h1_response *res)
{
	const unsigned char *b = (const unsigned char *)buf;
	struct h1_limits L;
	struct head_info hi;
	struct h1_error *e = &res->err;
	size_t p = 0, end, rs, maxf;
	int major, minor, rc;
	unsigned int st = 0;
	bool no_body;

	resolve_limits(lim, &L);
	if (still_incomplete(buf, len, last_len, L.max_head, SIZE_MAX))
		return NEED_MORE;
	end = len < L.max_head ? len : L.max_head;

	rc = match_version(b, p, end, &major, &minor);
	if (rc < 0) {
		rc = fail(e, 502, "invalid status line");
		goto out;
	}
	if (rc == 0) {
		rc = out_of_bytes(len, L.max_head, e);
		goto out;
	}
	p = 8;
	for (size_t i = 0; i < 5; i++, p++) {
		if (p >= end) {
			rc = out_of_bytes(len, L.max_head, e);
			goto out;
		}
		if ((i == 0 && b[p] != ' ') ||
		    (i > 0 && i < 4 && !(b[p] >= '0' && b[p] <= '9'))) {
			rc = fail(e, 502, "invalid status line");
			goto out;
		}
		if (i > 0 && i < 4)
			st = st * 10 + (b[p] - '0');
		if (i == 4 && b[p] != ' ') {
			/* "HTTP/1.1 204\r\n": the reason's SP omitted
			 * along with the reason, which servers do. */
			if (b[p] != '\r') {
				rc = fail(e, 502, "invalid status line");
				goto out;
			}
			break;
		}
	}
	rs = p;
	while (p < end && b[p] != '\r') {
		if (!is_value_char(b[p])) {
			rc = fail(e, 502, "invalid reason phrase");
			goto out;
		}
		p++;
	}
	if (p + 1 >= end) {
		rc = out_of_bytes(len, L.max_head, e);
		goto out;
	}
	if (b[p + 1] != '\n') {
		rc = fail(e, 502, "bare CR");
		goto out;
	}
	res->reason.p = buf + rs;
	res->reason.len = p - rs;
	p += 2;
	if (major != 1 || minor > 1) {
		rc = fail(e, 502, "unsupported HTTP version");
		goto out;
	}
	if (st < 100 || st > 599) {
		rc = fail(e, 502, "invalid status code");
		goto out;
	}
	res->minor_version = minor;
	res->status = (uint16_t)st;

	maxf = res->fields_cap < L.max_fields ? res->fields_cap : L.max_fields;
	rc = parse_fields(b, len, L.max_head, &p, res->fields, maxf,
			  &res->nfields, e);
	if (rc < 0)
		goto out;
	rc = scan_fields(res->fields, res->nfields, &hi, e);
	if (rc < 0)
		goto out;

	rc = INVALID;
	if (hi.has_te && hi.has_cl) {
		fail(e, 502, "both Content-Length and Transfer-Encoding");
		goto out;
	}
	if (hi.has_te && minor == 0) {
		fail(e, 502, "Transfer-Encoding in HTTP/1.0");
		goto out;
	}
	no_body = st < 200 || st == 204 || st == 304 ||
		  req_method == H1_METHOD_HEAD;
	res->informational = st < 200 && st != 101;
	res->content_length = 0;
	if (no_body) {
		res->framing = H1_FRAMING_NONE;
	} else if (hi.has_te) {
		/* A coding under chunked would have to be forwarded as is;
		 * close-delimited codings are a 1.0 relic. Neither is
		 * worth the ambiguity. */
		if (hi.te_codings != 1 || !hi.te_last_chunked ||
		    hi.te_chunked_params) {
			fail(e, 502, "unsupported transfer coding");
			goto out;
		}
		res->framing = H1_FRAMING_CHUNKED;
	} else if (hi.has_cl) {
		res->framing = H1_FRAMING_LENGTH;
		res->content_length = hi.cl;
	} else {
		res->framing = H1_FRAMING_CLOSE;
	}
	if (minor == 1)
		res->keep_alive = !hi.conn_close;
	else
		res->keep_alive = hi.conn_keep_alive && !hi.conn_close;
	if (res->framing == H1_FRAMING_CLOSE || st == 101)
		res->keep_alive = false;
	return (int)p;

out:
	/* Whatever the origin got wrong, the viewer sees a bad gateway. */
	if (rc == INVALID)
		e->status = 502;
	return rc;
}

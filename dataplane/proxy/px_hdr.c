/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "px_hdr.h"

/* A bounded writer: once something does not fit, everything after it is
 * refused and the caller gets -ENOSPC. */
struct wbuf {
	char *p;
	size_t cap;
	size_t len;
	bool full;
};

static void
put(struct wbuf *w, const void *s, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void
puts_(struct wbuf *w, const char *s)
{
	put(w, s, strlen(s));
}

static void
put_u64(struct wbuf *w, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);

	put(w, tmp, (size_t)n);
}

static void
put_field(struct wbuf *w, const char *name, size_t nlen, const char *value,
	  size_t vlen)
{
	put(w, name, nlen);
	put(w, ": ", 2);
	put(w, value, vlen);
	put(w, "\r\n", 2);
}

static int
finish(const struct wbuf *w)
{
	return w->full ? -ENOSPC : (int)w->len;
}

static bool
ieq(const char *a, size_t alen, const char *lit)
{
	size_t i, n = strlen(lit);
	char c;

	if (alen != n)
		return false;
	for (i = 0; i < n; i++) {
		c = a[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c != lit[i])
			return false;
	}
	return true;
}

/* Two spans of equal length, ASCII case-insensitively. */
static bool
ieq2(const char *a, const char *b, size_t n)
{
	size_t i;
	char x, y;

	for (i = 0; i < n; i++) {
		x = a[i];
		y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (char)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

static bool
iprefix(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);

	return alen >= n && ieq(a, n, lit);
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Does some Connection field list the token name? The parser already
 * refused non-token elements, so splitting on commas is enough. */
static bool
connection_names(const struct h1_field *fields, size_t n, const char *name,
		  size_t nlen)
{
	size_t i, a, b;

	for (i = 0; i < n; i++) {
		const struct h1_str v = fields[i].value;

		if (!ieq(fields[i].name.p, fields[i].name.len, "connection"))
			continue;
		a = 0;
		while (a < v.len) {
			while (a < v.len && (is_ows(v.p[a]) || v.p[a] == ','))
				a++;
			b = a;
			while (b < v.len && v.p[b] != ',' && !is_ows(v.p[b]))
				b++;
			if (b - a == nlen && ieq2(v.p + a, name, nlen))
				return true;
			a = b;
		}
	}
	return false;
}

bool
px_hdr_hop(const struct h1_field *fields, size_t n, const struct h1_field *f)
{
	const char *nm = f->name.p;
	size_t len = f->name.len;

	if (ieq(nm, len, "connection") || ieq(nm, len, "keep-alive") ||
	    ieq(nm, len, "te") || ieq(nm, len, "trailer") ||
	    ieq(nm, len, "upgrade") || iprefix(nm, len, "proxy-") ||
	    ieq(nm, len, "content-length") ||
	    ieq(nm, len, "transfer-encoding"))
		return true;
	return connection_names(fields, n, nm, len);
}

int
px_hdr_request(const struct h1_request *req, struct http_fwd *fwd,
	       char *buf, size_t cap)
{
	struct wbuf w = { buf, cap, 0, false };
	const struct h1_field *f;
	size_t i;
	int rc;

	put(&w, req->method.p, req->method.len);
	put(&w, " ", 1);
	put(&w, req->origin.p, req->origin.len);
	puts_(&w, " HTTP/1.1\r\n");
	for (i = 0; i < req->nfields; i++) {
		f = &req->fields[i];
		if (px_hdr_hop(req->fields, req->nfields, f))
			continue;
		/* The edge answers 100-continue itself once the origin
		 * leg is ready; the origin sees a plain body. */
		if (ieq(f->name.p, f->name.len, "expect"))
			continue;
		rc = http_fwd_filter(fwd, f->name.p, f->name.len, f->value.p,
				     f->value.len);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		put_field(&w, f->name.p, f->name.len, f->value.p,
			  f->value.len);
	}
	if (!w.full) {
		rc = http_fwd_write(fwd, w.p + w.len, w.cap - w.len);
		if (rc < 0)
			return rc;
		w.len += (size_t)rc;
	}
	if (req->framing == H1_FRAMING_LENGTH) {
		puts_(&w, "Content-Length: ");
		put_u64(&w, req->content_length);
		put(&w, "\r\n", 2);
	} else if (req->framing == H1_FRAMING_CHUNKED) {
		puts_(&w, "Transfer-Encoding: chunked\r\n");
	}
	put(&w, "\r\n", 2);
	return finish(&w);
}

static void
put_conn(struct wbuf *w, bool close, int viewer_minor)
{
	if (close)
		puts_(w, "Connection: close\r\n");
	else if (viewer_minor == 0)
		puts_(w, "Connection: keep-alive\r\n");
}

int
px_hdr_response(const struct h1_response *res, enum px_out_framing out,
		bool close, int viewer_minor, const struct http_sec_hdrs *sec,
		char *buf, size_t cap)
{
	struct wbuf w = { buf, cap, 0, false };
	const struct h1_field *f;
	unsigned int present = 0, i;
	size_t k;

	puts_(&w, "HTTP/1.1 ");
	put_u64(&w, res->status);
	put(&w, " ", 1);
	if (res->reason.len > 0)
		put(&w, res->reason.p, res->reason.len);
	else
		puts_(&w, px_status_phrase(res->status));
	put(&w, "\r\n", 2);
	for (k = 0; k < res->nfields; k++) {
		f = &res->fields[k];
		/* A body-less response's Content-Length describes the
		 * representation (HEAD, 304): the parser checked it, pass
		 * it on. */
		if (out == PX_OUT_NONE &&
		    ieq(f->name.p, f->name.len, "content-length")) {
			put_field(&w, f->name.p, f->name.len, f->value.p,
				  f->value.len);
			continue;
		}
		if (px_hdr_hop(res->fields, res->nfields, f))
			continue;
		if (sec != NULL && !http_sec_keep_origin(sec, f->name.p,
							 f->name.len,
							 &present))
			continue;
		put_field(&w, f->name.p, f->name.len, f->value.p,
			  f->value.len);
	}
	for (i = 0; sec != NULL && i < sec->n; i++)
		if (!(present & (1u << i)))
			put_field(&w, sec->h[i].name, sec->h[i].name_len,
				  sec->h[i].value, sec->h[i].value_len);
	if (out == PX_OUT_LENGTH) {
		puts_(&w, "Content-Length: ");
		put_u64(&w, res->content_length);
		put(&w, "\r\n", 2);
	} else if (out == PX_OUT_CHUNKED) {
		puts_(&w, "Transfer-Encoding: chunked\r\n");
	}
	put_conn(&w, close || out == PX_OUT_CLOSE, viewer_minor);
	put(&w, "\r\n", 2);
	return finish(&w);
}

const char *
px_status_phrase(unsigned int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

int
px_hdr_edge(unsigned int status, const char *reason, const char *location,
	    size_t location_len, bool close, int viewer_minor, bool head,
	    const struct http_sec_hdrs *sec, char *buf, size_t cap)
{
	struct wbuf w = { buf, cap, 0, false };
	const char *phrase = px_status_phrase(status);
	char body[512];
	unsigned int i;
	int blen;

	blen = snprintf(body, sizeof(body), "%u %s%s%s\n", status, phrase,
			reason != NULL ? ": " : "",
			reason != NULL ? reason : "");
	if (blen < 0 || (size_t)blen >= sizeof(body))
		blen = (int)sizeof(body) - 1;
	puts_(&w, "HTTP/1.1 ");
	put_u64(&w, status);
	put(&w, " ", 1);
	puts_(&w, phrase);
	puts_(&w, "\r\nServer: rampart\r\n"
		  "Content-Type: text/plain; charset=utf-8\r\n"
		  "Content-Length: ");
	put_u64(&w, (uint64_t)blen);
	put(&w, "\r\n", 2);
	if (location != NULL)
		put_field(&w, "Location", 8, location, location_len);
	if (status >= 400)
		puts_(&w, "X-Cache: Error from rampart\r\n");
	for (i = 0; sec != NULL && i < sec->n; i++)
		put_field(&w, sec->h[i].name, sec->h[i].name_len,
			  sec->h[i].value, sec->h[i].value_len);
	put_conn(&w, close, viewer_minor);
	put(&w, "\r\n", 2);
	if (!head)
		put(&w, body, (size_t)blen);
	return finish(&w);
}

size_t
px_chunk_hdr(uint64_t len, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0, i;

	do {
		tmp[n++] = hex[len & 0xf];
		len >>= 4;
	} while (len != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n++] = '\r';
	buf[n++] = '\n';
	return n;
}

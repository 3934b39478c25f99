/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "http/route.h"

#define HOST_BUF (CFG_HOST_MAX + 3)     /* a name, or "[v6]", and the NUL */

/* ---------------------------------------------------------------- helpers */

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Field names compare case-insensitively (RFC 9110 section 5.1). '_'
 * also equals '-' here: CGI-style origins (FastCGI, WSGI, Rack) map both
 * to '_', so a viewer's "X_Client_Verify" would reach the application as
 * the same variable as the edge's X-Client-Verify.
 */
static bool
name_is(const char *name, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char a = lower(name[i]), b = lit[i];

		if (b == '\0')
			return false;
		if (a == '_')
			a = '-';
		if (a != b)
			return false;
	}
	return lit[len] == '\0';
}

static bool
name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* ---------------------------------------------------------------- paths */

bool
http_path_match(const char *pat, size_t plen, const char *path, size_t slen)
{
	size_t p = 0, s = 0, star = SIZE_MAX, mark = 0;

	/*
	 * Greedy with one backtrack point: on a mismatch only the most
	 * recent '*' needs to absorb one more byte, because whatever an
	 * earlier '*' would have absorbed the later one can absorb as
	 * well. Each byte of the path is revisited at most once per
	 * pattern byte: O(plen * slen), no recursion.
	 */
	while (s < slen) {
		if (p < plen && pat[p] == '*') {
			star = p++;
			mark = s;
		} else if (p < plen && (pat[p] == '?' || pat[p] == path[s])) {
			p++;
			s++;
		} else if (star != SIZE_MAX) {
			p = star + 1;
			s = ++mark;
		} else {
			return false;
		}
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

const struct cfg_behavior *
http_behavior_find(const struct cfg_dist *d, const char *path,
		   size_t path_len)
{
	unsigned int i;

	for (i = 0; i < d->nb_behaviors; i++)
		if (http_path_match(d->behaviors[i].path_pattern,
				    d->behaviors[i].pattern_len, path,
				    path_len))
			return &d->behaviors[i];
	return &d->default_behavior;
}

/* ---------------------------------------------------------------- routing */

/*
 * Host = uri-host [ ":" port ] (RFC 9110 section 7.2). The name is copied
 * lower-case without port or trailing dot into out; *ip is set for an IP
 * literal. Only bytes that can appear in a DNS name or an IP literal are
 * accepted, so the copy is safe to echo in a Location header.
 */
static bool
host_parse(const char *h, size_t n, char *out, size_t *out_len, bool *ip)
{
	size_t i = 0, o = 0, port = 0;
	bool digits_dots = true;

	*ip = false;
	if (n == 0)
		return false;
	if (h[0] == '[') {
		/* IPv6 (IPvFuture is not accepted). */
		for (i = 1; i < n && h[i] != ']'; i++) {
			char c = lower(h[i]);

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			      c == ':' || c == '.'))
				return false;
		}
		if (i == n || i == 1 || i + 2 > HOST_BUF)
			return false;
		for (o = 0; o <= i; o++)
			out[o] = lower(h[o]);
		i++;
		*ip = true;
	} else {
		for (; i < n && h[i] != ':'; i++) {
			char c = lower(h[i]);

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			      c == '-' || c == '.' || c == '_'))
				return false;
			if (!(c >= '0' && c <= '9') && c != '.')
				digits_dots = false;
			if (o == HOST_BUF - 1)
				return false;
			out[o++] = c;
		}
		if (o > 0 && out[o - 1] == '.')
			o--;
		if (o == 0 || o > CFG_HOST_MAX)
			return false;
		*ip = digits_dots;
	}
	if (i < n) {
		if (h[i] != ':')
			return false;
		for (i++; i < n; i++)
			if (h[i] < '0' || h[i] > '9' || ++port > 5)
				return false;
	}
	out[o] = '\0';
	*out_len = o;
	return true;
}

static bool
target_valid(const char *t, size_t n)
{
	size_t i;

	if (n == 0 || (t[0] != '/' && !(n == 1 && t[0] == '*')))
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return false;
	return true;
}

static void
refuse(struct http_route *out, unsigned int status, const char *reason)
{
	out->kind = HTTP_ROUTE_REFUSE;
	out->status = status;
	out->reason = reason;
}

static size_t
put_u16(char *p, unsigned int v)
{
	char tmp[5];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

static void
redirect(const struct http_route_req *req, const char *host, size_t host_len,
	 char *loc, size_t loc_size, struct http_route *out)
{
	/* An asterisk-form target ("OPTIONS *") has no path to keep. */
	bool star = req->target[0] == '*';
	size_t tlen = star ? 1 : req->target_len, o = 0;
	char port[8];
	size_t plen = 0;

	if (req->https_port != 0 && req->https_port != 443) {
		port[0] = ':';
		plen = 1 + put_u16(port + 1, req->https_port);
	}
	if (loc == NULL || 8 + host_len + plen + tlen + 1 > loc_size) {
		refuse(out, 414, "the request target is too long to redirect");
		return;
	}
	memcpy(loc, "https://", 8);
	o = 8;
	memcpy(loc + o, host, host_len);
	o += host_len;
	memcpy(loc + o, port, plen);
	o += plen;
	memcpy(loc + o, star ? "/" : req->target, tlen);
	o += tlen;
	loc[o] = '\0';
	out->kind = HTTP_ROUTE_REDIRECT;
	/* 301 lets clients turn a POST into a GET (RFC 9110 section
	 * 15.4.2); 308 keeps the method and body. */
	out->status = (req->method_len == 3 &&
		       memcmp(req->method, "GET", 3) == 0) ||
		      (req->method_len == 4 &&
		       memcmp(req->method, "HEAD", 4) == 0) ? 301 : 308;
	out->reason = "this distribution redirects HTTP to HTTPS";
	out->location = loc;
	out->location_len = o;
}

void
http_route(const struct cfg_snapshot *s, const struct http_route_req *req,
	   char *loc, size_t loc_size, struct http_route *out)
{
	const struct cfg_dist *d = NULL;
	const struct cfg_behavior *b;
	char host[HOST_BUF];
	size_t host_len = 0, plen;
	bool ip = false;

	memset(out, 0, sizeof(*out));
	if (!target_valid(req->target, req->target_len)) {
		refuse(out, 400, "malformed request target");
		return;
	}
	if (req->host != NULL) {
		if (!host_parse(req->host, req->host_len, host, &host_len, &ip)) {
			refuse(out, 400, "malformed Host header");
			return;
		}
		/* Like CloudFront, a request names an alias: an address is
		 * no name, and only the default distribution (which
		 * answers unknown names) takes it. */
		if (!ip)
			d = cfg_snapshot_find_host(s, host);
		if (d == NULL)
			d = cfg_snapshot_default(s);
	} else if (req->https) {
		/* HTTP/1.0 without Host: the handshake already chose. */
		d = req->sni_dist != NULL && req->sni_dist->enabled ?
		    req->sni_dist : NULL;
	} else {
		refuse(out, 400, "the request has no Host header");
		return;
	}

	if (req->https && (d == NULL || d != req->sni_dist)) {
		/* RFC 9110 section 15.5.20: this connection cannot answer
		 * for that authority; a client may retry on a new one,
		 * whose SNI will select the right certificate. */
		refuse(out, 421, d == NULL ?
		       "no distribution serves this Host" :
		       "the Host belongs to another distribution than the "
		       "TLS server name");
		return;
	}
	if (d == NULL) {
		refuse(out, 404, "no distribution serves this Host");
		return;
	}
	out->dist = d;
	if (d->default_behavior.origin == NULL) {
		refuse(out, 503, "the distribution has no origin configured");
		return;
	}

	plen = 0;
	while (plen < req->target_len && req->target[plen] != '?')
		plen++;
	b = http_behavior_find(d, req->target, plen);
	out->behavior = b;
	if (!req->https) {
		if (b->viewer_policy == CFG_VIEWER_HTTPS_ONLY) {
			refuse(out, 403, "this path is served over HTTPS only");
			return;
		}
		if (b->viewer_policy == CFG_VIEWER_REDIRECT_TO_HTTPS) {
			/* Over HTTP a Host was required above. */
			redirect(req, host, host_len, loc, loc_size, out);
			return;
		}
	}
	out->kind = HTTP_ROUTE_PROCEED;
	out->origin = b->origin;
}

/* ---------------------------------------------------------------- responses */

#define HDR(n) n, sizeof(n) - 1

static void
sec_add(struct http_sec_hdrs *out, const char *name, size_t name_len,
	const char *value)
{
	struct http_hdr *h = &out->h[out->n++];

	h->name = name;
	h->name_len = name_len;
	h->value = value;
	h->value_len = strlen(value);
}

void
http_sec_headers(const struct cfg_dist *d, bool https,
		 struct http_sec_hdrs *out)
{
	const struct cfg_resp_headers *rh = &d->resp_headers;

	out->n = 0;
	out->override = rh->override;
	if (https && rh->hsts != NULL)
		sec_add(out, HDR("Strict-Transport-Security"), rh->hsts);
	if (rh->content_type_options)
		sec_add(out, HDR("X-Content-Type-Options"), "nosniff");
	if (rh->frame_options != NULL)
		sec_add(out, HDR("X-Frame-Options"), rh->frame_options);
	if (rh->referrer_policy != NULL)
		sec_add(out, HDR("Referrer-Policy"), rh->referrer_policy);
	if (rh->content_security_policy != NULL)
		sec_add(out, HDR("Content-Security-Policy"),
			rh->content_security_policy);
}

bool
http_sec_keep_origin(const struct http_sec_hdrs *p, const char *name,
		     size_t name_len, unsigned int *present)
{
	unsigned int i;

	for (i = 0; i < p->n; i++) {
		if (!name_eq(name, name_len, p->h[i].name, p->h[i].name_len))
			continue;
		if (p->override)
			return false;
		*present |= 1u << i;
		return true;
	}
	return true;
}

/* ---------------------------------------------------------------- origin request */

struct wbuf {
	char *p;
	size_t len;
	size_t size;
};

static void
put(struct wbuf *w, const char *s, size_t n)
{
	if (w->len + n <= w->size)
		memcpy(w->p + w->len, s, n);
	w->len += n;        /* keeps counting past the end: -ENOSPC */
}

#define PUTS(w, lit) put(w, lit, sizeof(lit) - 1)

static void
put_list(struct wbuf *w, const struct http_fwd_value *v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		put(w, v[i].v, v[i].len);
		PUTS(w, ", ");
	}
}

static void
put_ipv4(struct wbuf *w, struct in_addr a)
{
	const uint8_t *b = (const uint8_t *)&a.s_addr;   /* network order */
	char tmp[16];
	size_t n = 0;
	int i;

	for (i = 0; i < 4; i++) {
		n += put_u16(tmp + n, b[i]);
		if (i < 3)
			tmp[n++] = '.';
	}
	put(w, tmp, n);
}

/* The subject comes from the certificate, which the viewer wrote: only
 * printable ASCII goes through as is. */
static void
put_escaped(struct wbuf *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	char e[3];

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '%') {
			put(w, s + i, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 0xf];
		put(w, e, 3);
	}
}

static void
trim(const char **v, size_t *n)
{
	while (*n > 0 && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

static int
note(struct http_fwd_value *list, unsigned int *nb, const char *name,
     size_t name_len, const char *v, size_t n)
{
	/* Only the exact spelling is merged; "X_Forwarded_For" is dropped
	 * like any other look-alike. */
	if (memchr(name, '_', name_len) != NULL)
		return 0;
	trim(&v, &n);
	if (n == 0)
		return 0;
	if (*nb == HTTP_FWD_PRIOR_MAX)
		return -E2BIG;
	list[*nb].v = v;
	list[*nb].len = n;
	(*nb)++;
	return 0;
}

int
http_fwd_filter(struct http_fwd *f, const char *name, size_t name_len,
		const char *value, size_t value_len)
{
	if (name_is(name, name_len, "x-forwarded-for"))
		return note(f->xff, &f->nb_xff, name, name_len, value,
			    value_len);
	if (name_is(name, name_len, "via"))
		return note(f->via, &f->nb_via, name, name_len, value,
			    value_len);
	if (name_is(name, name_len, "host") ||
	    name_is(name, name_len, "x-forwarded-proto") ||
	    name_is(name, name_len, "x-client-verify") ||
	    name_is(name, name_len, "x-client-subject") ||
	    name_is(name, name_len, "x-rampart-viewer-tls") ||
	    name_is(name, name_len, "x-rampart-distribution"))
		return 0;
	return 1;
}

int
http_fwd_write(const struct http_fwd *f, char *buf, size_t size)
{
	static const char *const verify[] = {
		[HTTP_MTLS_NONE] = "NONE",
		[HTTP_MTLS_SUCCESS] = "SUCCESS",
		[HTTP_MTLS_FAILED] = "FAILED",
	};
	struct wbuf w = { .p = buf, .size = size };

	PUTS(&w, "Host: ");
	if (f->origin->forward_host && f->host != NULL)
		put(&w, f->host, f->host_len);
	else
		put(&w, f->origin->domain, strlen(f->origin->domain));
	PUTS(&w, "\r\nX-Forwarded-For: ");
	put_list(&w, f->xff, f->nb_xff);
	put_ipv4(&w, f->client);
	PUTS(&w, "\r\nX-Forwarded-Proto: ");
	if (f->https)
		PUTS(&w, "https");
	else
		PUTS(&w, "http");
	PUTS(&w, "\r\nVia: ");
	put_list(&w, f->via, f->nb_via);
	PUTS(&w, "1.1 rampart\r\n");
	if (f->dist->mtls != CFG_MTLS_OFF) {
		PUTS(&w, "X-Client-Verify: ");
		put(&w, verify[f->mtls], strlen(verify[f->mtls]));
		PUTS(&w, "\r\n");
		if (f->mtls == HTTP_MTLS_SUCCESS && f->subject_len > 0) {
			PUTS(&w, "X-Client-Subject: ");
			put_escaped(&w, f->subject, f->subject_len);
			PUTS(&w, "\r\n");
		}
	}
	PUTS(&w, "X-Rampart-Distribution: ");
	put(&w, f->dist->name, strlen(f->dist->name));
	PUTS(&w, "\r\n");
	if (f->https && f->tls_protocol != NULL && f->tls_cipher != NULL) {
		PUTS(&w, "X-Rampart-Viewer-TLS: ");
		put(&w, f->tls_protocol, strlen(f->tls_protocol));
		PUTS(&w, ":");
		put(&w, f->tls_cipher, strlen(f->tls_cipher));
		if (f->tls_resumed)
			PUTS(&w, ":sessionResumed\r\n");
		else
			PUTS(&w, ":fullHandshake\r\n");
	}
	if (w.len > size)
		return -ENOSPC;
	return (int)w.len;
}

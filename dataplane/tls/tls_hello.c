/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ClientHello peek (RFC 8446 4.1.2, RFC 5246 7.4.1.2). Two passes over the
 * caller's bytes, no copy of the message:
 *   1. walk the record headers until the handshake message is complete,
 *      deciding "need more", "garbage" or "too big" from the headers alone;
 *   2. once every byte is there, read the message through a cursor that
 *      steps over the record headers, with each length checked against the
 *      enclosing one before anything is read.
 * Body errors are therefore reported only when the whole message has
 * arrived, while framing errors (not a handshake record, SSLv2 framing, a
 * record over 2^14, not a ClientHello, too large) are reported from the
 * first bytes that show them.
 *
 * Size limit: the ClientHello's records, headers included, up to the end of
 * the record that completes the message, must fit in TLS_HELLO_MAX, so the
 * caller's peek buffer can be exactly TLS_HELLO_MAX bytes.
 *
 * Server names follow the control plane's alias rule
 * (controlplane/dist/dist.c dist_host_problem): 1-253 bytes after
 * lower-casing, dot-separated labels of 1-63 [a-z0-9-] not starting or
 * ending with '-', the last label not all digits (so no IPv4 literal, which
 * RFC 6066 3 forbids; IPv6 literals fail on ':'), no trailing dot (RFC 6066
 * 3). '_' and '*' are refused: no alias can hold them, so such a name could
 * never select a distribution. A name breaking the rule sets sni_invalid
 * (sni left ""); the message itself is still well-formed.
 */
#include <errno.h>
#include <string.h>

#include "tls_hello.h"

#define REC_HANDSHAKE       22
#define REC_HDR_LEN         5
#define REC_MAX_PLAIN       (1u << 14)          /* RFC 8446 5.1 */
#define HS_HDR_LEN          4
#define HS_CLIENT_HELLO     1
/* version, random, empty session id, one suite, one compression method */
#define HELLO_BODY_MIN      (2 + 32 + 1 + 2 + 2 + 1 + 1)

#define EXT_SERVER_NAME         0
#define EXT_STATUS_REQUEST      5
#define EXT_SIGNATURE_ALGS      13
#define EXT_ALPN                16
#define EXT_EARLY_DATA          42
#define EXT_SUPPORTED_VERSIONS  43

#define SNI_HOST_NAME       0
#define STATUS_TYPE_OCSP    1
#define DNS_NAME_MAX        253
#define DNS_LABEL_MAX       63

/*
 * A cursor over the handshake message inside its records. Pass 1 has
 * checked every record header up to the message end and that each record
 * holds at least one byte, so the cursor only has to skip them; callers
 * check logical bounds (off against an end) before each read.
 */
struct hello_rd {
	const uint8_t *p;       /* next stream byte (a header when in_rec is 0) */
	size_t in_rec;          /* payload bytes left in the current record */
	size_t off;             /* offset in the handshake message */
};

static uint8_t
rd_u8(struct hello_rd *r)
{
	if (r->in_rec == 0) {
		r->in_rec = ((size_t)r->p[3] << 8) | r->p[4];
		r->p += REC_HDR_LEN;
	}
	r->in_rec--;
	r->off++;
	return *r->p++;
}

static unsigned int
rd_u16(struct hello_rd *r)
{
	unsigned int v = rd_u8(r);

	return (v << 8) | rd_u8(r);
}

static void
rd_skip(struct hello_rd *r, size_t n)
{
	while (n > 0) {
		size_t step;

		if (r->in_rec == 0) {
			r->in_rec = ((size_t)r->p[3] << 8) | r->p[4];
			r->p += REC_HDR_LEN;
		}
		step = n < r->in_rec ? n : r->in_rec;
		r->p += step;
		r->in_rec -= step;
		r->off += step;
		n -= step;
	}
}

static bool
rd_has(const struct hello_rd *r, size_t end, size_t n)
{
	return r->off <= end && end - r->off >= n;
}

/* An 8- or 16-bit length prefix whose vector must fit before end. */
static bool
rd_vec(struct hello_rd *r, size_t end, unsigned int width, size_t *vlen)
{
	if (!rd_has(r, end, width))
		return false;
	*vlen = width == 1 ? rd_u8(r) : rd_u16(r);
	return rd_has(r, end, *vlen);
}

/*
 * Pass 1. Returns 1 with *msg_len (the handshake body length) when the
 * ClientHello is complete in buf, else 0 / -EBADMSG / -EMSGSIZE.
 */
static int
hello_frame(const uint8_t *buf, size_t len, size_t *msg_len)
{
	uint8_t hs_hdr[HS_HDR_LEN];
	size_t nb_hdr = 0, hs_have = 0, total = 0, pos = 0;

	for (;;) {
		size_t rlen, data, i;

		/* Judge a partial record header on what is there already:
		 * "GET /" or an SSLv2 hello (high bit set) need no more. */
		if (pos < len && buf[pos] != REC_HANDSHAKE)
			return -EBADMSG;
		if (pos + 1 < len && buf[pos + 1] != 3)
			return -EBADMSG;
		if (len - pos < REC_HDR_LEN)
			return 0;
		rlen = ((size_t)buf[pos + 3] << 8) | buf[pos + 4];
		if (rlen == 0 || rlen > REC_MAX_PLAIN)
			return -EBADMSG;
		data = pos + REC_HDR_LEN;

		for (i = 0; nb_hdr < HS_HDR_LEN && i < rlen && data + i < len;
		     i++)
			hs_hdr[nb_hdr++] = buf[data + i];
		if (nb_hdr >= 1 && hs_hdr[0] != HS_CLIENT_HELLO)
			return -EBADMSG;
		if (nb_hdr == HS_HDR_LEN && total == 0) {
			*msg_len = ((size_t)hs_hdr[1] << 16) |
				   ((size_t)hs_hdr[2] << 8) | hs_hdr[3];
			if (*msg_len < HELLO_BODY_MIN)
				return -EBADMSG;
			total = HS_HDR_LEN + *msg_len;
			if (total + REC_HDR_LEN > TLS_HELLO_MAX)
				return -EMSGSIZE;
		}

		pos = data + rlen;
		if (pos > TLS_HELLO_MAX)
			return -EMSGSIZE;
		if (total != 0 && hs_have + rlen >= total) {
			/* Nothing may follow the hello inside the record
			 * that ends it: a client sends no other handshake
			 * message before the server answers. */
			if (hs_have + rlen > total)
				return -EBADMSG;
			return pos <= len ? 1 : 0;
		}
		hs_have += rlen;
		if (pos > len)
			return 0;
	}
}

static bool
sni_valid(const char *s, size_t n)
{
	size_t i, label = 0, label_start = 0;
	bool all_digits = true;

	if (n == 0 || n > DNS_NAME_MAX)
		return false;
	for (i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';

		if (c == '.') {
			if (label == 0 || label > DNS_LABEL_MAX ||
			    s[label_start] == '-' || s[i - 1] == '-')
				return false;
			if (i == n && all_digits)
				return false;
			label = 0;
			label_start = i + 1;
			all_digits = true;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
		if (c < '0' || c > '9')
			all_digits = false;
		label++;
	}
	return true;
}

/* RFC 6066 3: a ServerNameList holding one host_name. */
static int
parse_sni(struct hello_rd *r, size_t end, struct tls_hello *h)
{
	char name[DNS_NAME_MAX + 1];
	size_t list_len, name_len, i;

	if (!rd_vec(r, end, 2, &list_len) || r->off + list_len != end ||
	    list_len == 0)
		return -EBADMSG;
	/* RFC 6066 left room for other name types, but none was ever
	 * defined and their encoding is unknown: like OpenSSL, accept only
	 * host_name, and only one (one per type, and there is one type). */
	if (!rd_has(r, end, 1) || rd_u8(r) != SNI_HOST_NAME)
		return -EBADMSG;
	if (!rd_vec(r, end, 2, &name_len) || name_len == 0 ||
	    r->off + name_len != end)
		return -EBADMSG;
	h->has_sni = true;
	if (name_len > DNS_NAME_MAX) {
		h->sni_invalid = true;
		rd_skip(r, name_len);
		return 0;
	}
	for (i = 0; i < name_len; i++) {
		char c = (char)rd_u8(r);

		name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	name[name_len] = '\0';
	if (!sni_valid(name, name_len)) {
		h->sni_invalid = true;
		return 0;
	}
	memcpy(h->sni, name, name_len + 1);
	return 0;
}

static int
parse_sigalgs(struct hello_rd *r, size_t end, struct tls_hello *h)
{
	size_t list_len;

	if (!rd_vec(r, end, 2, &list_len) || r->off + list_len != end ||
	    list_len == 0 || list_len % 2 != 0)
		return -EBADMSG;
	while (r->off < end) {
		switch (rd_u16(r)) {
		case 0x0403:    /* ecdsa_secp256r1_sha256 */
		case 0x0503:    /* ecdsa_secp384r1_sha384 */
		case 0x0603:    /* ecdsa_secp521r1_sha512 */
		case 0x0203:    /* ecdsa_sha1 (TLS 1.2) */
			h->ecdsa_ok = true;
			break;
		case 0x0401:    /* rsa_pkcs1_sha256 */
		case 0x0501:    /* rsa_pkcs1_sha384 */
		case 0x0601:    /* rsa_pkcs1_sha512 */
		case 0x0201:    /* rsa_pkcs1_sha1 */
		case 0x0804:    /* rsa_pss_rsae_sha256 */
		case 0x0805:    /* rsa_pss_rsae_sha384 */
		case 0x0806:    /* rsa_pss_rsae_sha512 */
			h->rsa_ok = true;
			break;
		default:        /* rsa_pss_pss_* need an RSA-PSS key: not ours */
			break;
		}
	}
	return 0;
}

static int
parse_versions(struct hello_rd *r, size_t end, struct tls_hello *h)
{
	size_t list_len;

	if (!rd_vec(r, end, 1, &list_len) || r->off + list_len != end ||
	    list_len < 2 || list_len % 2 != 0)
		return -EBADMSG;
	while (r->off < end)
		if (rd_u16(r) == 0x0304)
			h->offers_tls13 = true;
	return 0;
}

/* RFC 6066 8. Only the OCSP type is understood; another type's body is
 * opaque to us and simply not a request for a staple. */
static int
parse_status_request(struct hello_rd *r, size_t end, struct tls_hello *h)
{
	size_t n;

	if (!rd_has(r, end, 1))
		return -EBADMSG;
	if (rd_u8(r) != STATUS_TYPE_OCSP) {
		rd_skip(r, end - r->off);
		return 0;
	}
	/* responder_id_list, then request_extensions */
	if (!rd_vec(r, end, 2, &n))
		return -EBADMSG;
	rd_skip(r, n);
	if (!rd_vec(r, end, 2, &n) || r->off + n != end)
		return -EBADMSG;
	rd_skip(r, n);
	h->status_request = true;
	return 0;
}

/* Compare the next n bytes with lit without consuming more than n. */
static bool
rd_equals(struct hello_rd *r, size_t n, const char *lit)
{
	size_t lit_len = strlen(lit), i;
	bool same = n == lit_len;

	for (i = 0; i < n; i++) {
		uint8_t c = rd_u8(r);

		if (same && c != (uint8_t)lit[i])
			same = false;
	}
	return same;
}

/* RFC 7301 3.1: a non-empty list of non-empty names. */
static int
parse_alpn(struct hello_rd *r, size_t end, struct tls_hello *h)
{
	size_t list_len, n;

	if (!rd_vec(r, end, 2, &list_len) || r->off + list_len != end ||
	    list_len == 0)
		return -EBADMSG;
	while (r->off < end) {
		if (!rd_vec(r, end, 1, &n) || n == 0)
			return -EBADMSG;
		if (n == 8) {
			if (rd_equals(r, n, "http/1.1"))
				h->alpn_http11 = true;
		} else if (n == 2) {
			if (rd_equals(r, n, "h2"))
				h->alpn_h2 = true;
		} else {
			rd_skip(r, n);
		}
	}
	h->has_alpn = true;
	return 0;
}

/* Any extension type at most once (RFC 8446 4.2, RFC 5246 7.4.1.4). */
static bool
ext_seen_before(uint64_t *seen, unsigned int type)
{
	uint64_t bit = (uint64_t)1 << (type % 64);

	if (seen[type / 64] & bit)
		return true;
	seen[type / 64] |= bit;
	return false;
}

static int
parse_extensions(struct hello_rd *r, size_t end, struct tls_hello *h,
		 bool *has_sigalgs)
{
	uint64_t seen[65536 / 64];
	size_t list_len;
	int rc = 0;

	if (!rd_vec(r, end, 2, &list_len) || r->off + list_len != end)
		return -EBADMSG;
	memset(seen, 0, sizeof(seen));
	while (r->off < end) {
		unsigned int type;
		size_t ext_len, ext_end;

		if (!rd_has(r, end, 4))
			return -EBADMSG;
		type = rd_u16(r);
		if (!rd_vec(r, end, 2, &ext_len))
			return -EBADMSG;
		if (ext_seen_before(seen, type))
			return -EBADMSG;
		ext_end = r->off + ext_len;
		switch (type) {
		case EXT_SERVER_NAME:
			rc = parse_sni(r, ext_end, h);
			break;
		case EXT_SIGNATURE_ALGS:
			*has_sigalgs = true;
			rc = parse_sigalgs(r, ext_end, h);
			break;
		case EXT_SUPPORTED_VERSIONS:
			rc = parse_versions(r, ext_end, h);
			break;
		case EXT_STATUS_REQUEST:
			rc = parse_status_request(r, ext_end, h);
			break;
		case EXT_ALPN:
			rc = parse_alpn(r, ext_end, h);
			break;
		case EXT_EARLY_DATA:
			/* RFC 8446 4.2.10: empty in a ClientHello. */
			if (ext_len != 0)
				return -EBADMSG;
			h->early_data = true;
			break;
		default:
			rd_skip(r, ext_len);
			break;
		}
		if (rc != 0)
			return rc;
		if (r->off != ext_end)
			return -EBADMSG;
	}
	return 0;
}

/* ECDHE_ECDSA suites (RFC 8422, 5289, 6367, 7251, 7905, 6209), for the
 * RFC 5246 7.4.1.4.1 default when signature_algorithms is absent. */
static bool
suite_is_ecdhe_ecdsa(unsigned int s)
{
	return (s >= 0xc006 && s <= 0xc00a) || s == 0xc023 || s == 0xc024 ||
	       s == 0xc02b || s == 0xc02c || s == 0xc048 || s == 0xc049 ||
	       s == 0xc05c || s == 0xc05d || s == 0xc072 || s == 0xc073 ||
	       s == 0xc086 || s == 0xc087 || (s >= 0xc0ac && s <= 0xc0af) ||
	       s == 0xcca9;
}

static int
parse_body(const uint8_t *buf, size_t msg_len, struct tls_hello *h)
{
	struct hello_rd r = { .p = buf, .in_rec = 0, .off = 0 };
	size_t end = HS_HDR_LEN + msg_len, n;
	bool ecdhe_ecdsa_suite = false, has_sigalgs = false;
	int rc;

	rd_skip(&r, HS_HDR_LEN);
	h->legacy_version = (uint16_t)rd_u16(&r);
	if (h->legacy_version >> 8 != 3)
		return -EBADMSG;
	rd_skip(&r, 32);                                /* random */
	if (!rd_vec(&r, end, 1, &n) || n > 32)          /* session id */
		return -EBADMSG;
	rd_skip(&r, n);
	if (!rd_vec(&r, end, 2, &n) || n == 0 || n % 2 != 0)
		return -EBADMSG;
	while (n > 0) {
		if (suite_is_ecdhe_ecdsa(rd_u16(&r)))
			ecdhe_ecdsa_suite = true;
		n -= 2;
	}
	if (!rd_vec(&r, end, 1, &n) || n == 0)          /* compression */
		return -EBADMSG;
	rd_skip(&r, n);
	/* Extensions are optional before TLS 1.3 (RFC 5246 7.4.1.2). */
	if (r.off != end) {
		rc = parse_extensions(&r, end, h, &has_sigalgs);
		if (rc != 0)
			return rc;
	}
	if (!has_sigalgs) {
		h->rsa_ok = true;
		h->ecdsa_ok = ecdhe_ecdsa_suite;
	}
	return 0;
}

int
tls_hello_parse(const uint8_t *buf, size_t len, struct tls_hello *h)
{
	struct tls_hello tmp;
	size_t msg_len = 0;
	int rc;

	rc = hello_frame(buf, len, &msg_len);
	if (rc != 1)
		return rc;
	memset(&tmp, 0, sizeof(tmp));
	rc = parse_body(buf, msg_len, &tmp);
	if (rc != 0)
		return rc;
	*h = tmp;
	return 1;
}

/* SPDX-License-Identifier: BSD-3-Clause */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/signature.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/der.h"

static const uint8_t oid_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
static const uint8_t oid_rsa_pss[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a };
static const uint8_t oid_sha1_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05 };
static const uint8_t oid_sha256_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b };
static const uint8_t oid_sha384_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c };
static const uint8_t oid_sha512_rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d };
static const uint8_t oid_ec[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const uint8_t oid_ecdsa_sha1[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01 };
static const uint8_t oid_ecdsa_sha256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const uint8_t oid_ecdsa_sha384[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 };
static const uint8_t oid_ecdsa_sha512[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04 };
static const uint8_t oid_p256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_p521[] = { 0x2b, 0x81, 0x04, 0x00, 0x23 };
static const uint8_t oid_ed25519[] = { 0x2b, 0x65, 0x70 };
static const uint8_t oid_ed448[] = { 0x2b, 0x65, 0x71 };
static const uint8_t oid_dsa[] = { 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01 };
static const uint8_t oid_ext_bc[] = { 0x55, 0x1d, 0x13 };
static const uint8_t oid_ext_san[] = { 0x55, 0x1d, 0x11 };
static const uint8_t oid_ext_eku[] = { 0x55, 0x1d, 0x25 };
static const uint8_t oid_ext_aia[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01 };
const uint8_t der_oid_ocsp_signing[8] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09 };
const uint8_t der_oid_ocsp_basic[9] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01 };
const uint8_t der_oid_sha1[5] = { 0x2b, 0x0e, 0x03, 0x02, 0x1a };

int
der_next(struct der *d, struct der_tlv *t)
{
	size_t i = 2, l;

	if (d->len < 2 || (d->p[0] & 0x1f) == 0x1f)
		return -EINVAL;
	l = d->p[1];
	if (l & 0x80) {
		size_t n = l & 0x7f;

		/* DER: no indefinite length, at most 4 length bytes, and the
		 * shortest form (a second encoding of the same bytes would let
		 * two parsers disagree about where an element ends) */
		if (n == 0 || n > 4 || d->len < 2 + n || d->p[2] == 0)
			return -EINVAL;
		l = 0;
		while (n--)
			l = (l << 8) | d->p[i++];
		if (l < 0x80)
			return -EINVAL;
	}
	if (l > d->len - i)
		return -EINVAL;
	t->tag = d->p[0];
	t->hdr = d->p;
	t->val = d->p + i;
	t->len = l;
	t->tlv_len = i + l;
	d->p += t->tlv_len;
	d->len -= t->tlv_len;
	return 0;
}

int
der_expect(struct der *d, unsigned int tag, struct der_tlv *t)
{
	int ret = der_next(d, t);

	if (ret == 0 && t->tag != tag)
		return -EINVAL;
	return ret;
}

bool
der_peek(const struct der *d, unsigned int tag)
{
	return d->len > 0 && d->p[0] == tag;
}

bool
der_oid_is(struct der_bytes oid, const uint8_t *ref, size_t ref_len)
{
	return oid.len == ref_len && memcmp(oid.p, ref, ref_len) == 0;
}

static int
digits(const uint8_t *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static bool
leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Fractional seconds of a GeneralizedTime: ".d+" before the 'Z', without
 * the trailing zeros DER forbids. */
static bool
fraction_ok(const uint8_t *p, size_t n)
{
	if (n < 2 || p[0] != '.' || p[n - 1] == '0')
		return false;
	for (size_t i = 1; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

int
der_time(const struct der_tlv *t, time_t *out)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30,
				       31, 31, 30, 31, 30, 31 };
	const uint8_t *p = t->val;
	size_t n = t->len, yl;
	struct tm tm = { 0 };
	int year;

	if (t->tag == DER_UTCTIME)
		yl = 2;
	else if (t->tag == DER_GENTIME)
		yl = 4;
	else
		return -EINVAL;
	if (n < yl + 11 || p[n - 1] != 'Z')
		return -EINVAL;
	year = digits(p, (int)yl);
	if (year < 0)
		return -EINVAL;
	if (yl == 2)
		year += year < 50 ? 2000 : 1900;	/* RFC 5280 4.1.2.5.1 */
	p += yl;
	tm.tm_year = year - 1900;
	tm.tm_mon = digits(p, 2) - 1;
	tm.tm_mday = digits(p + 2, 2);
	tm.tm_hour = digits(p + 4, 2);
	tm.tm_min = digits(p + 6, 2);
	tm.tm_sec = digits(p + 8, 2);
	/* GeneralizedTime may carry fractional seconds; they do not matter */
	if (n != yl + 11 && !(yl == 4 && fraction_ok(p + 10, n - yl - 11)))
		return -EINVAL;
	/* timegm() would quietly turn February 30 into March 2 */
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > mdays[tm.tm_mon] +
			 (tm.tm_mon == 1 && leap_year(year)) ||
	    tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
	    tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return -EINVAL;
	*out = timegm(&tm);
	return 0;
}

void
der_time_format(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

static struct der_bytes
bytes_of(const struct der_tlv *t)
{
	return (struct der_bytes){ .p = t->val, .len = t->len };
}

static struct der_bytes
whole(const struct der_tlv *t)
{
	return (struct der_bytes){ .p = t->hdr, .len = t->tlv_len };
}

/* BIT STRING contents without the unused-bits byte (always 0 for keys and
 * signatures). */
static int
bit_string(const struct der_tlv *t, struct der_bytes *out)
{
	if (t->tag != DER_BIT_STRING || t->len < 1 || t->val[0] != 0)
		return -EINVAL;
	out->p = t->val + 1;
	out->len = t->len - 1;
	return 0;
}

static unsigned int
integer_bits(const struct der_tlv *t)
{
	const uint8_t *p = t->val;
	size_t n = t->len;
	unsigned int bits;

	while (n > 0 && *p == 0) {
		p++;
		n--;
	}
	if (n == 0)
		return 0;
	bits = (unsigned int)(n - 1) * 8;
	for (uint8_t b = *p; b; b >>= 1)
		bits++;
	return bits;
}

static int
parse_spki(struct der_tlv *spki, struct der_cert *c)
{
	struct der d = der_in(spki), a;
	struct der_tlv alg, oid, key;

	c->spki = whole(spki);
	if (der_expect(&d, DER_SEQUENCE, &alg) ||
	    der_expect(&d, DER_BIT_STRING, &key) ||
	    bit_string(&key, &c->spki_key))
		return -EINVAL;
	a = der_in(&alg);
	if (der_expect(&a, DER_OID, &oid))
		return -EINVAL;

	struct der_bytes o = bytes_of(&oid);

	if (DER_OID_IS(o, oid_rsa) || DER_OID_IS(o, oid_rsa_pss)) {
		struct der k = { c->spki_key.p, c->spki_key.len }, kk;
		struct der_tlv seq, n;

		c->key_alg = DER_OID_IS(o, oid_rsa) ? DER_KEY_RSA :
						      DER_KEY_RSA_PSS;
		if (der_expect(&k, DER_SEQUENCE, &seq))
			return -EINVAL;
		kk = der_in(&seq);
		if (der_expect(&kk, DER_INTEGER, &n))
			return -EINVAL;
		c->key_bits = integer_bits(&n);
	} else if (DER_OID_IS(o, oid_ec)) {
		struct der_tlv curve;

		c->key_alg = DER_KEY_EC;
		if (der_peek(&a, DER_OID) && der_next(&a, &curve) == 0) {
			struct der_bytes cv = bytes_of(&curve);

			if (DER_OID_IS(cv, oid_p256)) {
				c->curve = "P-256";
				c->key_bits = 256;
			} else if (DER_OID_IS(cv, oid_p384)) {
				c->curve = "P-384";
				c->key_bits = 384;
			} else if (DER_OID_IS(cv, oid_p521)) {
				c->curve = "P-521";
				c->key_bits = 521;
			}
		}
	} else if (DER_OID_IS(o, oid_ed25519)) {
		c->key_alg = DER_KEY_ED25519;
		c->key_bits = 256;
	} else if (DER_OID_IS(o, oid_ed448)) {
		c->key_alg = DER_KEY_ED448;
		c->key_bits = 456;
	} else if (DER_OID_IS(o, oid_dsa)) {
		c->key_alg = DER_KEY_DSA;
	}
	return 0;
}

static int
parse_extension(struct der_tlv *ext, struct der_cert *c)
{
	struct der d = der_in(ext), v;
	struct der_tlv oid, crit, val, in;

	if (der_expect(&d, DER_OID, &oid))
		return -EINVAL;
	if (der_peek(&d, DER_BOOLEAN) && der_next(&d, &crit))
		return -EINVAL;
	if (der_expect(&d, DER_OCTET, &val))
		return -EINVAL;
	v = der_in(&val);

	struct der_bytes o = bytes_of(&oid);

	if (DER_OID_IS(o, oid_ext_bc)) {
		struct der_tlv ca;

		if (der_expect(&v, DER_SEQUENCE, &in))
			return -EINVAL;
		v = der_in(&in);
		if (der_peek(&v, DER_BOOLEAN) && der_next(&v, &ca) == 0)
			c->is_ca = ca.len == 1 && ca.val[0] != 0;
	} else if (DER_OID_IS(o, oid_ext_eku)) {
		struct der_tlv kp;

		if (der_expect(&v, DER_SEQUENCE, &in))
			return -EINVAL;
		v = der_in(&in);
		while (v.len > 0) {
			if (der_expect(&v, DER_OID, &kp))
				return -EINVAL;
			if (DER_OID_IS(bytes_of(&kp), der_oid_ocsp_signing))
				c->ocsp_signing = true;
		}
	} else if (DER_OID_IS(o, oid_ext_san)) {
		if (der_expect(&v, DER_SEQUENCE, &in))
			return -EINVAL;
		c->san = bytes_of(&in);
	} else if (DER_OID_IS(o, oid_ext_aia)) {
		if (der_expect(&v, DER_SEQUENCE, &in))
			return -EINVAL;
		c->aia = bytes_of(&in);
	}
	return 0;
}

int
der_cert_parse(const uint8_t *der, size_t len, struct der_cert *c)
{
	struct der d = { der, len }, cert, tbs;
	struct der_tlv t_cert, t_tbs, t, alg, sig;

	memset(c, 0, sizeof(*c));
	c->der = der;
	c->der_len = len;
	if (der_expect(&d, DER_SEQUENCE, &t_cert) || d.len != 0)
		return -EINVAL;
	c->der_len = t_cert.tlv_len;
	cert = der_in(&t_cert);
	if (der_expect(&cert, DER_SEQUENCE, &t_tbs) ||
	    der_expect(&cert, DER_SEQUENCE, &alg) ||
	    der_expect(&cert, DER_BIT_STRING, &sig) || bit_string(&sig, &c->sig) ||
	    cert.len != 0)
		return -EINVAL;
	c->tbs = whole(&t_tbs);
	{
		struct der a = der_in(&alg);
		struct der_tlv oid;

		if (der_expect(&a, DER_OID, &oid))
			return -EINVAL;
		c->sig_alg = bytes_of(&oid);
	}

	tbs = der_in(&t_tbs);
	if (der_peek(&tbs, DER_CTX(0))) {
		struct der v;
		struct der_tlv ver;

		if (der_next(&tbs, &t))
			return -EINVAL;
		v = der_in(&t);
		if (der_expect(&v, DER_INTEGER, &ver) || ver.len != 1 ||
		    ver.val[0] > 2 || v.len != 0)
			return -EINVAL;
		c->version = ver.val[0];
	}
	if (der_expect(&tbs, DER_INTEGER, &t) || t.len == 0)
		return -EINVAL;
	c->serial = bytes_of(&t);
	/* The signed copy of the algorithm must be the unsigned one (RFC 5280
	 * 4.1.1.2), or the outer one could be swapped at will. */
	if (der_expect(&tbs, DER_SEQUENCE, &t) ||
	    !der_bytes_eq(whole(&t), whole(&alg)))
		return -EINVAL;
	if (der_expect(&tbs, DER_SEQUENCE, &t))
		return -EINVAL;
	c->issuer = whole(&t);
	if (der_expect(&tbs, DER_SEQUENCE, &t))
		return -EINVAL;
	{
		struct der v = der_in(&t);
		struct der_tlv nb, na;

		if (der_next(&v, &nb) || der_time(&nb, &c->not_before) ||
		    der_next(&v, &na) || der_time(&na, &c->not_after))
			return -EINVAL;
	}
	if (der_expect(&tbs, DER_SEQUENCE, &t))
		return -EINVAL;
	c->subject = whole(&t);
	if (der_expect(&tbs, DER_SEQUENCE, &t) || parse_spki(&t, c))
		return -EINVAL;
	while (tbs.len > 0) {
		if (der_next(&tbs, &t))
			return -EINVAL;
		if (t.tag == DER_CTX(3)) {
			struct der e = der_in(&t), exts;
			struct der_tlv seq, ext;

			if (der_expect(&e, DER_SEQUENCE, &seq))
				return -EINVAL;
			exts = der_in(&seq);
			while (exts.len > 0) {
				if (der_expect(&exts, DER_SEQUENCE, &ext) ||
				    parse_extension(&ext, c))
					return -EINVAL;
			}
		}
	}
	return 0;
}

bool
der_name_eq(struct der_bytes a, struct der_bytes b)
{
	return der_bytes_eq(a, b);
}

static const struct {
	uint8_t oid[10];
	size_t len;
	const char *sn;
} name_attrs[] = {
	{ { 0x55, 0x04, 0x03 }, 3, "CN" },
	{ { 0x55, 0x04, 0x0a }, 3, "O" },
	{ { 0x55, 0x04, 0x0b }, 3, "OU" },
	{ { 0x55, 0x04, 0x06 }, 3, "C" },
	{ { 0x55, 0x04, 0x07 }, 3, "L" },
	{ { 0x55, 0x04, 0x08 }, 3, "ST" },
	{ { 0x55, 0x04, 0x05 }, 3, "serialNumber" },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01 }, 9, "emailAddress" },
	{ { 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19 }, 10, "DC" },
};

struct strbuf {
	char *p;
	size_t cap, len;
};

static void
sb_putc(struct strbuf *sb, char ch)
{
	if (sb->len + 1 < sb->cap)
		sb->p[sb->len++] = ch;
	sb->p[sb->len < sb->cap ? sb->len : sb->cap - 1] = '\0';
}

static void
sb_puts(struct strbuf *sb, const char *s)
{
	while (*s)
		sb_putc(sb, *s++);
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629), 0 if none:
 * names end up in JSON, which refuses anything else. */
static size_t
utf8_len(const uint8_t *p, size_t n)
{
	size_t len;
	uint8_t lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)	/* no surrogates */
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	/* C1 controls are as unprintable as C0 ones */
	if (p[0] == 0xc2 && p[1] < 0xa0)
		return 0;
	return len;
}

static void
sb_oid(struct strbuf *sb, struct der_bytes oid)
{
	char tmp[16];
	unsigned long v = 0;
	bool first = true;

	for (size_t i = 0; i < oid.len; i++) {
		v = (v << 7) | (oid.p[i] & 0x7f);
		if (oid.p[i] & 0x80)
			continue;
		if (first) {
			unsigned long top = v < 80 ? v / 40 : 2;

			snprintf(tmp, sizeof(tmp), "%lu.%lu", top, v - top * 40);
			first = false;
		} else {
			snprintf(tmp, sizeof(tmp), ".%lu", v);
		}
		sb_puts(sb, tmp);
		v = 0;
	}
}

static void
sb_attr(struct strbuf *sb, struct der_tlv *atv)
{
	struct der d = der_in(atv);
	struct der_tlv oid, val;
	const char *sn = NULL;

	if (der_expect(&d, DER_OID, &oid) || der_next(&d, &val))
		return;
	for (size_t i = 0; i < sizeof(name_attrs) / sizeof(name_attrs[0]); i++)
		if (der_oid_is(bytes_of(&oid), name_attrs[i].oid, name_attrs[i].len))
			sn = name_attrs[i].sn;
	if (sn)
		sb_puts(sb, sn);
	else
		sb_oid(sb, bytes_of(&oid));
	sb_putc(sb, '=');
	for (size_t i = 0; i < val.len; i++) {
		uint8_t ch = val.val[i];
		size_t ul;

		/* BMPString: UCS-2 big endian; keep the ASCII subset */
		if (val.tag == 0x1e) {
			if (i % 2 == 0)
				continue;
			if (val.val[i - 1] != 0 || ch >= 0x80)
				ch = '?';
		}
		if (ch < 0x80 || val.tag == 0x1e) {
			sb_putc(sb, ch < 0x20 || ch == 0x7f ? '?' : (char)ch);
			continue;
		}
		ul = utf8_len(val.val + i, val.len - i);
		if (ul == 0) {
			sb_putc(sb, '?');
			continue;
		}
		/* all of the character or none of it */
		if (sb->len + ul >= sb->cap) {
			sb->len = sb->cap - 1;
			return;
		}
		memcpy(sb->p + sb->len, val.val + i, ul);
		sb->len += ul;
		sb->p[sb->len] = '\0';
		i += ul - 1;
	}
}

/* Visit the RDNs of name from the most specific (last) to the first. */
static void
name_walk(struct der_bytes name, struct strbuf *sb, bool cn_only)
{
	struct der d = { name.p, name.len }, rdns;
	struct der_tlv seq, rdn[32], atv;
	unsigned int n = 0;
	bool any = false;

	if (der_expect(&d, DER_SEQUENCE, &seq))
		return;
	rdns = der_in(&seq);
	while (rdns.len > 0 && n < 32)
		if (der_expect(&rdns, DER_SET, &rdn[n++]))
			return;
	while (n-- > 0) {
		struct der set = der_in(&rdn[n]);
		bool first = true;

		while (set.len > 0 && der_expect(&set, DER_SEQUENCE, &atv) == 0) {
			if (cn_only) {
				struct der a = der_in(&atv);
				struct der_tlv oid;

				if (der_expect(&a, DER_OID, &oid) ||
				    !der_oid_is(bytes_of(&oid), name_attrs[0].oid, 3))
					continue;
				sb_attr(sb, &atv);
				return;
			}
			if (!first)
				sb_putc(sb, '+');
			else if (any)
				sb_puts(sb, ", ");
			sb_attr(sb, &atv);
			first = false;
			any = true;
		}
	}
}

void
der_name_format(struct der_bytes name, char *out, size_t outlen)
{
	struct strbuf sb = { out, outlen, 0 };

	if (outlen == 0)
		return;
	out[0] = '\0';
	name_walk(name, &sb, false);
}

void
der_name_short(struct der_bytes name, char *out, size_t outlen)
{
	struct strbuf sb = { out, outlen, 0 };

	if (outlen == 0)
		return;
	out[0] = '\0';
	name_walk(name, &sb, true);
	if (sb.len == 0)
		name_walk(name, &sb, false);
	if (sb.len == 0)
		snprintf(out, outlen, "(empty name)");
}

void
der_key_describe(const struct der_cert *c, char *out, size_t outlen)
{
	switch (c->key_alg) {
	case DER_KEY_RSA:
		snprintf(out, outlen, "RSA %u", c->key_bits);
		break;
	case DER_KEY_RSA_PSS:
		snprintf(out, outlen, "RSA-PSS %u", c->key_bits);
		break;
	case DER_KEY_EC:
		if (c->curve)
			snprintf(out, outlen, "ECDSA %s", c->curve);
		else
			snprintf(out, outlen, "ECDSA on an unnamed curve");
		break;
	case DER_KEY_ED25519:
		snprintf(out, outlen, "Ed25519");
		break;
	case DER_KEY_ED448:
		snprintf(out, outlen, "Ed448");
		break;
	case DER_KEY_DSA:
		snprintf(out, outlen, "DSA");
		break;
	default:
		snprintf(out, outlen, "of an unknown type");
		break;
	}
}

int
der_verify(struct der_bytes data, struct der_bytes alg,
	   struct der_bytes sig, struct der_bytes signer_spki)
{
	enum wc_HashType hash;
	bool rsa;
	int ret;
	word32 idx = 0;

	if (DER_OID_IS(alg, oid_sha256_rsa)) {
		hash = WC_HASH_TYPE_SHA256;
		rsa = true;
	} else if (DER_OID_IS(alg, oid_sha384_rsa)) {
		hash = WC_HASH_TYPE_SHA384;
		rsa = true;
	} else if (DER_OID_IS(alg, oid_sha512_rsa)) {
		hash = WC_HASH_TYPE_SHA512;
		rsa = true;
	} else if (DER_OID_IS(alg, oid_sha1_rsa)) {
		hash = WC_HASH_TYPE_SHA;
		rsa = true;
	} else if (DER_OID_IS(alg, oid_ecdsa_sha256)) {
		hash = WC_HASH_TYPE_SHA256;
		rsa = false;
	} else if (DER_OID_IS(alg, oid_ecdsa_sha384)) {
		hash = WC_HASH_TYPE_SHA384;
		rsa = false;
	} else if (DER_OID_IS(alg, oid_ecdsa_sha512)) {
		hash = WC_HASH_TYPE_SHA512;
		rsa = false;
	} else if (DER_OID_IS(alg, oid_ecdsa_sha1)) {
		hash = WC_HASH_TYPE_SHA;
		rsa = false;
	} else {
		return -ENOTSUP;
	}
	if (data.len > UINT32_MAX || sig.len > UINT32_MAX)
		return -EINVAL;

	if (rsa) {
		RsaKey key;

		if (wc_InitRsaKey(&key, NULL) != 0)
			return -ENOMEM;
		ret = wc_RsaPublicKeyDecode(signer_spki.p, &idx, &key,
					    (word32)signer_spki.len);
		if (ret == 0)
			ret = wc_SignatureVerify(hash, WC_SIGNATURE_TYPE_RSA_W_ENC,
						 data.p, (word32)data.len,
						 sig.p, (word32)sig.len,
						 &key, sizeof(key));
		wc_FreeRsaKey(&key);
	} else {
		ecc_key key;

		if (wc_ecc_init(&key) != 0)
			return -ENOMEM;
		ret = wc_EccPublicKeyDecode(signer_spki.p, &idx, &key,
					    (word32)signer_spki.len);
		if (ret == 0)
			ret = wc_SignatureVerify(hash, WC_SIGNATURE_TYPE_ECC,
						 data.p, (word32)data.len,
						 sig.p, (word32)sig.len,
						 &key, sizeof(key));
		wc_ecc_free(&key);
	}
	/* A key of the wrong family fails to decode: not this signer either */
	return ret == 0 ? 0 : -EBADMSG;
}

int
der_pem_decode(const char *pem, const char *label, struct der_blobs *out)
{
	char begin[64], end[64];
	const char *p = pem;

	out->v = NULL;
	out->n = 0;
	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	while ((p = strstr(p, begin)) != NULL) {
		const char *b = p + strlen(begin), *e = strstr(b, end);
		size_t n = 0;
		char *clean;
		uint8_t *der;
		word32 dlen;
		struct der_blob *v;

		if (e == NULL || (size_t)(e - b) > UINT32_MAX / 2)
			goto bad;
		clean = malloc((size_t)(e - b) + 1);
		if (clean == NULL)
			goto nomem;
		for (const char *q = b; q < e; q++)
			if (*q != '\n' && *q != '\r' && *q != ' ' && *q != '\t')
				clean[n++] = *q;
		dlen = (word32)(n / 4 * 3 + 3);
		der = malloc(dlen);
		if (der == NULL) {
			free(clean);
			goto nomem;
		}
		if (n == 0 || Base64_Decode((const byte *)clean, (word32)n, der,
					    &dlen) != 0) {
			free(clean);
			free(der);
			goto bad;
		}
		free(clean);
		v = realloc(out->v, (out->n + 1) * sizeof(*v));
		if (v == NULL) {
			free(der);
			goto nomem;
		}
		out->v = v;
		out->v[out->n].p = der;
		out->v[out->n].len = dlen;
		out->n++;
		p = e + strlen(end);
	}
	return 0;
bad:
	der_blobs_free(out);
	return -EINVAL;
nomem:
	der_blobs_free(out);
	return -ENOMEM;
}

void
der_blobs_free(struct der_blobs *b)
{
	for (unsigned int i = 0; i < b->n; i++)
		free(b->v[i].p);
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

int
der_chain_load(const char *pem, struct der_chain *ch)
{
	int ret;

	memset(ch, 0, sizeof(*ch));
	ch->bad = -1;
	ret = der_pem_decode(pem, "CERTIFICATE", &ch->blobs);
	if (ret < 0)
		return ret;
	if (ch->blobs.n == 0)
		return 0;
	ch->certs = calloc(ch->blobs.n, sizeof(*ch->certs));
	if (ch->certs == NULL) {
		der_blobs_free(&ch->blobs);
		return -ENOMEM;
	}
	ch->n = ch->blobs.n;
	for (unsigned int i = 0; i < ch->n; i++) {
		if (der_cert_parse(ch->blobs.v[i].p, ch->blobs.v[i].len,
				   &ch->certs[i]) == 0)
			continue;
		/* a zeroed view matches no name and verifies nothing */
		memset(&ch->certs[i], 0, sizeof(ch->certs[i]));
		if (ch->bad < 0)
			ch->bad = (int)i;
	}
	return 0;
}

void
der_chain_free(struct der_chain *ch)
{
	free(ch->certs);
	der_blobs_free(&ch->blobs);
	ch->certs = NULL;
	ch->n = 0;
}

int
der_refuse(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

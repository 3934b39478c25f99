/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OCSP (RFC 6960) request encoding and response checking on the DER
 * directly: wolfSSL 5.5.4's OCSP_basic_verify does not verify the response
 * signature and its decoder checks dates against the wall clock rather
 * than the time we are given.
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/cert.h"
#include "crypto/der.h"
#include "crypto/ocsp.h"

/* Clocks of responders and of this node disagree a little. */
#define OCSP_SKEW_S 300

static const uint8_t oid_sha256[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };


/* The leaf and the certificate that issued it, both from chain_pem. */
struct ocsp_pair {
	struct der_chain ch;
	const struct der_cert *leaf, *issuer;
	char leaf_name[CERT_NAME_MAX];
};

static int
load_pair(const char *chain_pem, struct ocsp_pair *p, char *err,
	  size_t errlen)
{
	int ret;

	memset(p, 0, sizeof(*p));
	if (chain_pem == NULL)
		return der_refuse(err, errlen, "no certificate found in the PEM");
	ret = der_chain_load(chain_pem, &p->ch);
	if (ret == -ENOMEM) {
		der_refuse(err, errlen, "out of memory while reading the certificate PEM");
		return ret;
	}
	if (ret < 0 || p->ch.n == 0 || p->ch.bad == 0) {
		der_chain_free(&p->ch);
		return der_refuse(err, errlen, "no certificate found in the PEM");
	}
	p->leaf = &p->ch.certs[0];
	der_name_short(p->leaf->subject, p->leaf_name, sizeof(p->leaf_name));
	/* normally the second certificate; otherwise wherever it is */
	for (unsigned int i = 1; i < p->ch.n; i++) {
		const struct der_cert *c = &p->ch.certs[i];

		if (c->tbs.p != NULL && der_name_eq(c->subject, p->leaf->issuer) &&
		    der_cert_signed_by(p->leaf, c->spki) == 0) {
			p->issuer = c;
			return 0;
		}
	}
	der_chain_free(&p->ch);
	return der_refuse(err, errlen,
		      "the chain has no issuer certificate for %s; list the intermediate after the leaf",
		      p->leaf_name);
}

/* CertID hashes for hash algorithm alg (SHA-1 or SHA-256). */
static int
cert_id_hashes(const struct ocsp_pair *p, struct der_bytes alg,
	       uint8_t name_hash[32], uint8_t key_hash[32],
	       size_t *hlen)
{
	enum wc_HashType h;

	if (DER_OID_IS(alg, der_oid_sha1))
		h = WC_HASH_TYPE_SHA;
	else if (DER_OID_IS(alg, oid_sha256))
		h = WC_HASH_TYPE_SHA256;
	else
		return -ENOTSUP;
	*hlen = (size_t)wc_HashGetDigestSize(h);
	/* RFC 6960 4.1.1: the issuer's DN as in the leaf, and the issuer's
	 * key without the BIT STRING framing */
	if (wc_Hash(h, p->leaf->issuer.p, (word32)p->leaf->issuer.len,
		    name_hash, 32) != 0 ||
	    wc_Hash(h, p->issuer->spki_key.p, (word32)p->issuer->spki_key.len,
		    key_hash, 32) != 0)
		return -EIO;
	return 0;
}

/* Minimal DER writer: content is built inside out, each layer prefixed. */
struct dbuf {
	uint8_t *p;
	size_t len;
};

static int
dbuf_wrap(struct dbuf *b, unsigned int tag)
{
	uint8_t hdr[6];
	size_t h = 0, l = b->len;
	uint8_t *n;

	hdr[h++] = (uint8_t)tag;
	if (l < 0x80) {
		hdr[h++] = (uint8_t)l;
	} else if (l < 0x100) {
		hdr[h++] = 0x81;
		hdr[h++] = (uint8_t)l;
	} else if (l < 0x10000) {
		hdr[h++] = 0x82;
		hdr[h++] = (uint8_t)(l >> 8);
		hdr[h++] = (uint8_t)l;
	} else {
		return -EINVAL;
	}
	n = malloc(h + l);
	if (n == NULL)
		return -ENOMEM;
	memcpy(n, hdr, h);
	if (l)
		memcpy(n + h, b->p, l);
	free(b->p);
	b->p = n;
	b->len = h + l;
	return 0;
}

static int
dbuf_append_tlv(struct dbuf *b, unsigned int tag,
		const uint8_t *val, size_t len)
{
	struct dbuf t = { NULL, 0 };
	uint8_t *n;
	int ret;

	if (len) {
		t.p = malloc(len);
		if (t.p == NULL)
			return -ENOMEM;
		memcpy(t.p, val, len);
		t.len = len;
	}
	ret = dbuf_wrap(&t, tag);
	if (ret != 0) {
		free(t.p);
		return ret;
	}
	n = realloc(b->p, b->len + t.len);
	if (n == NULL) {
		free(t.p);
		return -ENOMEM;
	}
	memcpy(n + b->len, t.p, t.len);
	b->p = n;
	b->len += t.len;
	free(t.p);
	return 0;
}

int
ocsp_build_request(const char *chain_pem, uint8_t **der, size_t *len,
		   char *err, size_t errlen)
{
	struct ocsp_pair p;
	struct dbuf alg = { NULL, 0 }, b = { NULL, 0 };
	uint8_t nh[32], kh[32];
	size_t hlen;
	int ret;

	if (der == NULL || len == NULL)
		return der_refuse(err, errlen, "no output buffer for the OCSP request");
	ret = load_pair(chain_pem, &p, err, errlen);
	if (ret != 0)
		return ret;
	ret = cert_id_hashes(&p, (struct der_bytes){ der_oid_sha1,
						     sizeof(der_oid_sha1) },
			     nh, kh, &hlen);
	if (ret != 0) {
		der_refuse(err, errlen, "the OCSP certificate ID could not be hashed");
		goto out;
	}

	/* CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash,
	 *                       issuerKeyHash, serialNumber } */
	ret = dbuf_append_tlv(&alg, DER_OID, der_oid_sha1, sizeof(der_oid_sha1));
	if (ret == 0)
		ret = dbuf_append_tlv(&alg, DER_NULL, NULL, 0);
	if (ret == 0)
		ret = dbuf_append_tlv(&b, DER_SEQUENCE, alg.p, alg.len);
	if (ret == 0)
		ret = dbuf_append_tlv(&b, DER_OCTET, nh, hlen);
	if (ret == 0)
		ret = dbuf_append_tlv(&b, DER_OCTET, kh, hlen);
	if (ret == 0)
		ret = dbuf_append_tlv(&b, DER_INTEGER, p.leaf->serial.p,
				      p.leaf->serial.len);
	/* CertID, Request, requestList, TBSRequest, OCSPRequest */
	for (int i = 0; ret == 0 && i < 5; i++)
		ret = dbuf_wrap(&b, DER_SEQUENCE);
	if (ret != 0) {
		free(b.p);
		if (ret == -EINVAL)
			der_refuse(err, errlen, "the certificate's serial number is too long");
		else
			der_refuse(err, errlen, "out of memory while encoding the OCSP request");
		goto out;
	}
	*der = b.p;
	*len = b.len;
out:
	free(alg.p);
	der_chain_free(&p.ch);
	return ret;
}

static const char *
resp_status_name(unsigned int s)
{
	switch (s) {
	case 1: return "malformedRequest";
	case 2: return "internalError";
	case 3: return "tryLater";
	case 5: return "sigRequired";
	case 6: return "unauthorized";
	default: return "an unknown status";
	}
}

struct basic_resp {
	struct der_bytes tbs, sig_alg, sig;
	struct der certs;               /* SEQUENCE OF Certificate contents */
	struct der responses;           /* SEQUENCE OF SingleResponse contents */
};

static int
parse_basic(const uint8_t *resp, size_t len, struct basic_resp *br,
	    char *err, size_t errlen)
{
	struct der d = { resp, len }, r, rb, b, a;
	struct der_tlv t, status, type, octet, tbs, alg, sig, oid;

	memset(br, 0, sizeof(*br));
	if (der_expect(&d, DER_SEQUENCE, &t) || d.len != 0)
		return der_refuse(err, errlen, "the OCSP response is not valid DER");
	r = der_in(&t);
	if (der_expect(&r, DER_ENUMERATED, &status) || status.len != 1)
		return der_refuse(err, errlen, "the OCSP response is not valid DER");
	if (status.val[0] != 0)
		return der_refuse(err, errlen, "the OCSP responder answered %s (%u)",
			      resp_status_name(status.val[0]), status.val[0]);
	if (der_expect(&r, DER_CTX(0), &t))
		return der_refuse(err, errlen, "the OCSP response carries no response");
	rb = der_in(&t);
	if (der_expect(&rb, DER_SEQUENCE, &t) || rb.len != 0 || r.len != 0)
		return der_refuse(err, errlen, "the OCSP response is not valid DER");
	rb = der_in(&t);
	if (der_expect(&rb, DER_OID, &type) ||
	    der_expect(&rb, DER_OCTET, &octet) || rb.len != 0)
		return der_refuse(err, errlen, "the OCSP response is not valid DER");
	if (!DER_OID_IS(((struct der_bytes){ type.val, type.len }),
			der_oid_ocsp_basic))
		return der_refuse(err, errlen, "the OCSP response is not a basic OCSP response");

	b = der_in(&octet);
	if (der_expect(&b, DER_SEQUENCE, &t) || b.len != 0)
		return der_refuse(err, errlen, "the OCSP response is not valid DER");
	b = der_in(&t);
	if (der_expect(&b, DER_SEQUENCE, &tbs) ||
	    der_expect(&b, DER_SEQUENCE, &alg) ||
	    der_expect(&b, DER_BIT_STRING, &sig) || sig.len < 1 ||
	    sig.val[0] != 0)
		return der_refuse(err, errlen, "the OCSP response is not valid DER");
	br->tbs = (struct der_bytes){ tbs.hdr, tbs.tlv_len };
	br->sig = (struct der_bytes){ sig.val + 1, sig.len - 1 };
	a = der_in(&alg);
	if (der_expect(&a, DER_OID, &oid))
		return der_refuse(err, errlen, "the OCSP response is not valid DER");
	br->sig_alg = (struct der_bytes){ oid.val, oid.len };
	if (der_peek(&b, DER_CTX(0))) {
		struct der c;

		if (der_next(&b, &t))
			return der_refuse(err, errlen, "the OCSP response is not valid DER");
		c = der_in(&t);
		if (der_expect(&c, DER_SEQUENCE, &t) || c.len != 0)
			return der_refuse(err, errlen, "the OCSP response is not valid DER");
		br->certs = der_in(&t);
	}
	if (b.len != 0)
		return der_refuse(err, errlen, "the OCSP response is not valid DER");

	/* ResponseData ::= SEQUENCE { [0] version OPTIONAL, responderID,
	 *     producedAt, responses, [1] extensions OPTIONAL } */
	r = der_in(&tbs);
	if (der_peek(&r, DER_CTX(0)) && der_next(&r, &t))
		return der_refuse(err, errlen, "the OCSP response is not valid DER");
	if (der_next(&r, &t) || (t.tag != DER_CTX(1) && t.tag != DER_CTX(2)) ||
	    der_expect(&r, DER_GENTIME, &t) ||
	    der_expect(&r, DER_SEQUENCE, &t))
		return der_refuse(err, errlen, "the OCSP response is not valid DER");
	br->responses = der_in(&t);
	return 0;
}

/* Who may sign: the issuer itself, or a certificate the issuer issued for
 * OCSP signing (RFC 6960 4.2.2.2) that is valid now. */
static int
check_signer(const struct ocsp_pair *p, const struct basic_resp *br,
	     time_t now, char *err, size_t errlen)
{
	struct der certs = br->certs;
	struct der_tlv t;
	char issuer[CERT_NAME_MAX], name[CERT_NAME_MAX], when[32];
	int ret;

	ret = der_verify(br->tbs, br->sig_alg, br->sig, p->issuer->spki);
	if (ret == 0)
		return 0;
	if (ret == -ENOTSUP)
		return der_refuse(err, errlen,
			      "the OCSP response is signed with an algorithm that cannot be verified here");
	der_name_short(p->issuer->subject, issuer, sizeof(issuer));
	name[0] = '\0';
	while (certs.len > 0 && der_expect(&certs, DER_SEQUENCE, &t) == 0) {
		struct der_cert rc;

		if (der_cert_parse(t.hdr, t.tlv_len, &rc) != 0 ||
		    der_verify(br->tbs, br->sig_alg, br->sig, rc.spki) != 0)
			continue;
		/* this certificate holds the signing key; may it sign? */
		der_name_short(rc.subject, name, sizeof(name));
		if (!der_name_eq(rc.issuer, p->issuer->subject) ||
		    der_cert_signed_by(&rc, p->issuer->spki) != 0)
			return der_refuse(err, errlen,
				      "the OCSP response is signed by %s, which %s did not issue; only the issuer or its delegated responder may sign",
				      name, issuer);
		if (!rc.ocsp_signing)
			return der_refuse(err, errlen,
				      "the OCSP response is signed by %s, which %s issued without the OCSPSigning extended key usage",
				      name, issuer);
		if (now < rc.not_before || now > rc.not_after) {
			der_time_format(now > rc.not_after ? rc.not_after :
							     rc.not_before,
					when, sizeof(when));
			return der_refuse(err, errlen,
				      "the OCSP responder certificate %s %s %s",
				      name,
				      now > rc.not_after ? "expired on" :
							   "is not valid before",
				      when);
		}
		return 0;
	}
	return der_refuse(err, errlen,
		      "the OCSP response is not signed by the issuer (%s) or by a responder it authorised",
		      issuer);
}

/* Next SingleResponse: 1 when it is about our leaf (res filled), 0 when
 * it is about another certificate, -EINVAL when malformed. */
static int
parse_single(const struct ocsp_pair *p, struct der *responses,
	     struct ocsp_result *res)
{
	struct der s, id, a;
	struct der_tlv sr, cid, alg, oid, nh, kh, serial, st, t;
	uint8_t want_nh[32], want_kh[32];
	size_t hlen;

	if (der_expect(responses, DER_SEQUENCE, &sr))
		return -EINVAL;
	s = der_in(&sr);
	if (der_expect(&s, DER_SEQUENCE, &cid))
		return -EINVAL;
	id = der_in(&cid);
	if (der_expect(&id, DER_SEQUENCE, &alg) ||
	    der_expect(&id, DER_OCTET, &nh) ||
	    der_expect(&id, DER_OCTET, &kh) ||
	    der_expect(&id, DER_INTEGER, &serial))
		return -EINVAL;
	a = der_in(&alg);
	if (der_expect(&a, DER_OID, &oid))
		return -EINVAL;
	if (cert_id_hashes(p, (struct der_bytes){ oid.val, oid.len },
			   want_nh, want_kh, &hlen) != 0)
		return 0;
	if (nh.len != hlen || kh.len != hlen ||
	    memcmp(nh.val, want_nh, hlen) != 0 ||
	    memcmp(kh.val, want_kh, hlen) != 0 ||
	    serial.len != p->leaf->serial.len ||
	    memcmp(serial.val, p->leaf->serial.p, serial.len) != 0)
		return 0;

	/* CertStatus ::= CHOICE { good [0] IMPLICIT NULL,
	 *     revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL } */
	if (der_next(&s, &st))
		return -EINVAL;
	if ((st.tag == DER_CTX_PRIM(0) || st.tag == DER_CTX_PRIM(2)) &&
	    st.len != 0)	/* IMPLICIT NULL */
		return -EINVAL;
	if (st.tag == DER_CTX_PRIM(0)) {
		res->status = OCSP_STATUS_GOOD;
	} else if (st.tag == DER_CTX(1)) {
		struct der ri = der_in(&st);

		res->status = OCSP_STATUS_REVOKED;
		if (der_expect(&ri, DER_GENTIME, &t) ||
		    der_time(&t, &res->revoked_at))
			return -EINVAL;
	} else if (st.tag == DER_CTX_PRIM(2)) {
		res->status = OCSP_STATUS_UNKNOWN;
	} else {
		return -EINVAL;
	}
	if (der_expect(&s, DER_GENTIME, &t) || der_time(&t, &res->this_update))
		return -EINVAL;
	res->next_update = 0;
	if (der_peek(&s, DER_CTX(0))) {
		struct der nu;

		if (der_next(&s, &t))
			return -EINVAL;
		nu = der_in(&t);
		if (der_expect(&nu, DER_GENTIME, &t) ||
		    der_time(&t, &res->next_update) ||
		    res->next_update < res->this_update)
			return -EINVAL;
	}
	return 1;
}

int
ocsp_check_response(const char *chain_pem, const uint8_t *resp,
		    size_t len, time_t now, struct ocsp_result *res,
		    char *err, size_t errlen)
{
	struct ocsp_pair p;
	struct basic_resp br;
	char when[32];
	bool found = false;
	int ret;

	if (resp == NULL || len == 0 || res == NULL)
		return der_refuse(err, errlen, "the OCSP response is empty");
	ret = load_pair(chain_pem, &p, err, errlen);
	if (ret != 0)
		return ret;
	ret = parse_basic(resp, len, &br, err, errlen);
	if (ret == 0)
		ret = check_signer(&p, &br, now, err, errlen);
	if (ret != 0)
		goto out;

	memset(res, 0, sizeof(*res));
	while (ret == 0 && !found && br.responses.len > 0) {
		ret = parse_single(&p, &br.responses, res);
		found = ret == 1;
		ret = ret < 0 ? ret : 0;
	}
	if (ret != 0) {
		ret = der_refuse(err, errlen, "the OCSP response is not valid DER");
		goto out;
	}
	if (!found) {
		ret = der_refuse(err, errlen,
			     "the OCSP response does not cover %s (no single response for its serial number and issuer)",
			     p.leaf_name);
		goto out;
	}
	if (res->this_update > now + OCSP_SKEW_S) {
		der_time_format(res->this_update, when, sizeof(when));
		ret = der_refuse(err, errlen,
			     "the OCSP response for %s is not valid before %s (thisUpdate in the future; check the clocks)",
			     p.leaf_name, when);
		goto out;
	}
	if (res->next_update != 0 && res->next_update < now) {
		der_time_format(res->next_update, when, sizeof(when));
		ret = der_refuse(err, errlen,
			     "the OCSP response for %s is stale: its nextUpdate %s has passed",
			     p.leaf_name, when);
		goto out;
	}
out:
	der_chain_free(&p.ch);
	return ret;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to crypto/: a strict DER reader and an X.509 / CRL view built on
 * it, plus signature verification with wolfCrypt. wolfSSL 5.5.4's
 * OpenSSL-compatible layer cannot be relied on here (X509_CRL_verify and
 * X509_CRL_get_REVOKED are stubs, OCSP_basic_verify never checks the
 * response signature, the PEM reader rejects Ed25519 certificates we must
 * name in a refusal), so the facts a refusal depends on come from the DER
 * itself. Every pointer in the parsed views points into the caller's
 * buffer, which must outlive them. Reentrant.
 */
#ifndef RAMPART_CRYPTO_DER_H
#define RAMPART_CRYPTO_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define DER_SEQUENCE    0x30
#define DER_SET         0x31
#define DER_INTEGER     0x02
#define DER_BIT_STRING  0x03
#define DER_OCTET       0x04
#define DER_NULL        0x05
#define DER_OID         0x06
#define DER_ENUMERATED  0x0a
#define DER_UTCTIME     0x17
#define DER_GENTIME     0x18
#define DER_BOOLEAN     0x01
#define DER_CTX(n)      (0xa0 | (n))	/* [n] constructed */
#define DER_CTX_PRIM(n) (0x80 | (n))	/* [n] primitive */

/* A cursor over the bytes still to read. */
struct der {
	const uint8_t *p;
	size_t len;
};

/* One element: hdr..hdr+tlv_len is the whole TLV, val..val+len its value. */
struct der_tlv {
	unsigned int tag;
	const uint8_t *hdr;
	size_t tlv_len;
	const uint8_t *val;
	size_t len;
};

/* A byte string (OID value, key bits, serial) inside some buffer. */
struct der_bytes {
	const uint8_t *p;
	size_t len;
};

static inline struct der
der_in(const struct der_tlv *t)
{
	return (struct der){ .p = t->val, .len = t->len };
}

int der_next(struct der *d, struct der_tlv *t);
int der_expect(struct der *d, unsigned int tag, struct der_tlv *t);
bool der_peek(const struct der *d, unsigned int tag);
bool der_oid_is(struct der_bytes oid, const uint8_t *ref, size_t ref_len);
#define DER_OID_IS(o, ref) der_oid_is((o), (ref), sizeof(ref))
/* UTCTime or GeneralizedTime ("Z" only) to time_t. */
int der_time(const struct der_tlv *t, time_t *out);

extern const uint8_t der_oid_ocsp_signing[8];
extern const uint8_t der_oid_ocsp_basic[9];
extern const uint8_t der_oid_sha1[5];

enum der_key_alg {
	DER_KEY_UNKNOWN,
	DER_KEY_RSA,
	DER_KEY_EC,
	DER_KEY_ED25519,
	DER_KEY_ED448,
	DER_KEY_DSA,
	DER_KEY_RSA_PSS,
};

struct der_cert {
	const uint8_t *der;
	size_t der_len;
	struct der_bytes tbs;           /* the signed bytes, whole TLV */
	struct der_bytes sig_alg;       /* OID value */
	struct der_bytes sig;           /* BIT STRING without the pad byte */
	unsigned int version;           /* 0 = v1 .. 2 = v3 */
	struct der_bytes serial;        /* INTEGER value bytes */
	struct der_bytes issuer;        /* Name, whole TLV */
	struct der_bytes subject;       /* Name, whole TLV */
	time_t not_before, not_after;
	struct der_bytes spki;          /* SubjectPublicKeyInfo, whole TLV */
	struct der_bytes spki_key;      /* subjectPublicKey without pad byte */
	enum der_key_alg key_alg;
	unsigned int key_bits;          /* RSA modulus bits or curve bits */
	const char *curve;              /* "P-256", "P-384", "P-521" or NULL */
	bool is_ca;                     /* basicConstraints cA TRUE */
	bool ocsp_signing;              /* EKU id-kp-OCSPSigning */
	struct der_bytes san;           /* GeneralNames value, or empty */
	struct der_bytes aia;           /* AuthorityInfoAccess value, or empty */
};

int der_cert_parse(const uint8_t *der, size_t len, struct der_cert *c);

static inline bool
der_bytes_eq(struct der_bytes a, struct der_bytes b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Same name, byte for byte (what issuers and subjects use in practice). */
bool der_name_eq(struct der_bytes a, struct der_bytes b);
/* RFC 4514-like one line, most specific first: "CN=a, O=b, C=c". */
void der_name_format(struct der_bytes name, char *out, size_t outlen);
/* "CN=..." when the name has a common name, else the whole line. */
void der_name_short(struct der_bytes name, char *out, size_t outlen);

/* "RSA 2048", "ECDSA P-256", "Ed25519" ... */
void der_key_describe(const struct der_cert *c, char *out, size_t outlen);

/*
 * Verify sig over data with alg (a signatureAlgorithm OID value) and the
 * signer's SubjectPublicKeyInfo. Returns 0, -EBADMSG when the signature
 * does not verify, -ENOTSUP for an algorithm we do not handle.
 */
int
der_verify(struct der_bytes data, struct der_bytes alg,
	   struct der_bytes sig, struct der_bytes signer_spki);

/* Certificate signed by the holder of issuer_spki. */
static inline int
der_cert_signed_by(const struct der_cert *c, struct der_bytes issuer_spki)
{
	return der_verify(c->tbs, c->sig_alg, c->sig, issuer_spki);
}

/* PEM blocks with the given label ("CERTIFICATE", "X509 CRL") decoded to
 * DER, in order. */
struct der_blob {
	uint8_t *p;
	size_t len;
};

struct der_blobs {
	struct der_blob *v;
	unsigned int n;
};

int der_pem_decode(const char *pem, const char *label, struct der_blobs *out);
void der_blobs_free(struct der_blobs *b);

/* A PEM file of certificates, parsed. certs[i] points into blobs. */
struct der_chain {
	struct der_blobs blobs;
	struct der_cert *certs;
	unsigned int n;
	int bad;        /* index of the first unparsable block, or -1 */
};

int der_chain_load(const char *pem, struct der_chain *ch);
void der_chain_free(struct der_chain *ch);

/* 2026-01-01T00:00:00Z */
void der_time_format(time_t t, char *out, size_t outlen);

/* Write the sentence into err (when there is room) and return -EINVAL:
 * every refusal of the crypto module goes through here. */
int der_refuse(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* RAMPART_CRYPTO_DER_H */

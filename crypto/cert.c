/* SPDX-License-Identifier: BSD-3-Clause */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/signature.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/cert.h"
#include "crypto/chain.h"
#include "crypto/der.h"

#define DEFAULT_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
/* id-ad-ocsp 1.3.6.1.5.5.7.48.1 */
static const uint8_t oid_ad_ocsp[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01 };

int
crypto_init(void)
{
	return wolfSSL_Init() == WOLFSSL_SUCCESS ? 0 : -EIO;
}

void
crypto_fini(void)
{
	wolfSSL_Cleanup();
}


/* The file's text, or NULL when it cannot be read. */
static char *
slurp(const char *path)
{
	char *pem;

	return chain_read_file(path, &pem) == 0 ? pem : NULL;
}

static bool
self_signed(const struct der_cert *c)
{
	return der_name_eq(c->issuer, c->subject) &&
	       der_cert_signed_by(c, c->spki) == 0;
}

/* Is there an anchor in pem that issued c? */
static bool
anchored_in(const char *pem, const struct der_cert *c)
{
	struct der_chain anchors;
	bool found = false;

	if (pem == NULL || der_chain_load(pem, &anchors) != 0)
		return false;
	for (unsigned int i = 0; i < anchors.n && !found; i++) {
		const struct der_cert *a = &anchors.certs[i];

		if (a->tbs.p == NULL ||	/* did not parse */
		    !(a->is_ca || (a->version == 0 && self_signed(a))))
			continue;
		found = der_name_eq(a->subject, c->issuer) &&
			der_cert_signed_by(c, a->spki) == 0;
	}
	der_chain_free(&anchors);
	return found;
}

static bool
key_supported(const struct der_cert *c)
{
	if (c->key_alg == DER_KEY_RSA)
		return c->key_bits >= 2048 && c->key_bits <= 4096;
	if (c->key_alg == DER_KEY_EC && c->curve != NULL)
		return c->key_bits == 256 || c->key_bits == 384;
	return false;
}

/* PKCS#8 wraps the traditional (PKCS#1 / SEC1) encoding; wolfCrypt's
 * decoders want the latter. */
static void
strip_pkcs8(uint8_t *der, word32 len, word32 *idx)
{
	word32 i = 0;

	*idx = 0;
	if (wc_GetPkcs8TraditionalOffset(der, &i, len) > 0)
		*idx = i;
}

/*
 * Comparing public halves is not enough: a PKCS#1 or SEC1 file carries the
 * public key next to the private one, and nothing ties them together until
 * something is signed. Sign a fixed message with the private key and check
 * it with the leaf's public key, as the TLS handshake will.
 */
static int
proves_possession(enum wc_SignatureType type, void *priv, word32 priv_size,
		  void *pub, word32 pub_size)
{
	static const uint8_t msg[] = "rampart private key possession check";
	uint8_t sig[1024];
	word32 slen = sizeof(sig);
	WC_RNG rng;
	int ret;

	if (wc_InitRng(&rng) != 0)
		return -ENOMEM;
	ret = wc_SignatureGenerate(WC_HASH_TYPE_SHA256, type, msg,
				   sizeof(msg) - 1, sig, &slen, priv,
				   priv_size, &rng);
	wc_FreeRng(&rng);
	if (ret == 0)
		ret = wc_SignatureVerify(WC_HASH_TYPE_SHA256, type, msg,
					 sizeof(msg) - 1, sig, slen, pub,
					 pub_size);
	return ret == 0 ? 0 : -EBADMSG;
}

static int
rsa_matches(const uint8_t *der, word32 len,
	    const struct der_cert *leaf)
{
	RsaKey priv, pub;
	uint8_t n1[512], e1[16], n2[512], e2[16];
	word32 n1l = sizeof(n1), e1l = sizeof(e1), n2l = sizeof(n2),
	       e2l = sizeof(e2), idx = 0, pidx = 0;
	int ret = -EINVAL;

	if (wc_InitRsaKey(&priv, NULL) != 0)
		return -ENOMEM;
	if (wc_InitRsaKey(&pub, NULL) != 0) {
		wc_FreeRsaKey(&priv);
		return -ENOMEM;
	}
	strip_pkcs8((uint8_t *)der, len, &idx);
	if (wc_RsaPrivateKeyDecode(der, &idx, &priv, len) != 0)
		goto out;
	ret = -EBADMSG;
	if (wc_RsaPublicKeyDecode(leaf->spki.p, &pidx, &pub,
				  (word32)leaf->spki.len) == 0 &&
	    wc_RsaFlattenPublicKey(&priv, e1, &e1l, n1, &n1l) == 0 &&
	    wc_RsaFlattenPublicKey(&pub, e2, &e2l, n2, &n2l) == 0 &&
	    n1l == n2l && e1l == e2l && memcmp(n1, n2, n1l) == 0 &&
	    memcmp(e1, e2, e1l) == 0)
		ret = proves_possession(WC_SIGNATURE_TYPE_RSA_W_ENC, &priv,
					sizeof(priv), &pub, sizeof(pub));
out:
	wc_FreeRsaKey(&pub);
	wc_FreeRsaKey(&priv);
	return ret;
}

static int
ec_matches(const uint8_t *der, word32 len,
	   const struct der_cert *leaf)
{
	ecc_key priv, pub;
	uint8_t p1[160], p2[160];
	word32 p1l = sizeof(p1), p2l = sizeof(p2), idx = 0, pidx = 0;
	int ret = -EINVAL;

	if (wc_ecc_init(&priv) != 0)
		return -ENOMEM;
	if (wc_ecc_init(&pub) != 0) {
		wc_ecc_free(&priv);
		return -ENOMEM;
	}
	/* wolfCrypt reads the curve from a PKCS#8 wrapper itself; stripping
	 * it would lose the curve when SEC1 omits the parameters */
	if (wc_EccPrivateKeyDecode(der, &idx, &priv, len) != 0) {
		idx = 0;
		strip_pkcs8((uint8_t *)der, len, &idx);
		wc_ecc_free(&priv);
		wc_ecc_init(&priv);
		if (wc_EccPrivateKeyDecode(der, &idx, &priv, len) != 0)
			goto out;
	}
	ret = -EBADMSG;
	/* SEC1 makes the public point optional */
	if (priv.type == ECC_PRIVATEKEY_ONLY &&
	    wc_ecc_make_pub(&priv, NULL) != 0)
		goto out;
	if (wc_EccPublicKeyDecode(leaf->spki.p, &pidx, &pub,
				  (word32)leaf->spki.len) == 0 &&
	    wc_ecc_export_x963(&priv, p1, &p1l) == 0 &&
	    wc_ecc_export_x963(&pub, p2, &p2l) == 0 &&
	    p1l == p2l && memcmp(p1, p2, p1l) == 0)
		ret = proves_possession(WC_SIGNATURE_TYPE_ECC, &priv,
					sizeof(priv), &pub, sizeof(pub));
out:
	wc_ecc_free(&pub);
	wc_ecc_free(&priv);
	return ret;
}

/* 0: matches; -EBADMSG: a key, but not the leaf's; -EINVAL: not a key. */
static int
key_matches(const char *key_pem, const struct der_cert *leaf)
{
	size_t plen = strlen(key_pem);
	uint8_t *der;
	int len, ret;

	if (plen == 0 || plen > (1 << 20))
		return -EINVAL;
	der = malloc(plen);
	if (der == NULL)
		return -ENOMEM;
	len = wc_KeyPemToDer((const unsigned char *)key_pem, (int)plen, der,
			     (int)plen, NULL);
	if (len <= 0) {
		ret = -EINVAL;
	} else if (leaf->key_alg == DER_KEY_RSA) {
		ret = rsa_matches(der, (word32)len, leaf);
		/* a parsable key of another family is a mismatch */
		if (ret == -EINVAL && ec_matches(der, (word32)len, leaf) != -EINVAL)
			ret = -EBADMSG;
	} else {
		ret = ec_matches(der, (word32)len, leaf);
		if (ret == -EINVAL && rsa_matches(der, (word32)len, leaf) != -EINVAL)
			ret = -EBADMSG;
	}
	explicit_bzero(der, plen);
	free(der);
	return ret;
}

static int
check_dates(const struct der_cert *c, unsigned int pos,
	    time_t now, char *err, size_t errlen)
{
	char who[CERT_NAME_MAX + 32], name[CERT_NAME_MAX], when[32];

	der_name_short(c->subject, name, sizeof(name));
	if (pos == 0)
		snprintf(who, sizeof(who), "the leaf %s", name);
	else
		snprintf(who, sizeof(who), "certificate %u (%s)", pos + 1, name);
	if (now < c->not_before) {
		der_time_format(c->not_before, when, sizeof(when));
		return der_refuse(err, errlen, "%s is not valid before %s", who, when);
	}
	if (now > c->not_after) {
		der_time_format(c->not_after, when, sizeof(when));
		return der_refuse(err, errlen, "%s expired on %s", who, when);
	}
	return 0;
}

static void
fill_sans(const struct der_cert *c, struct cert_info *info)
{
	struct der d = { c->san.p, c->san.len };
	struct der_tlv gn;

	while (d.len > 0 && der_next(&d, &gn) == 0 &&
	       info->n_sans < CERT_MAX_SANS) {
		char *s;
		bool ok = gn.len > 0 && gn.len <= 253;

		if (gn.tag != DER_CTX_PRIM(2))	/* dNSName */
			continue;
		for (size_t i = 0; ok && i < gn.len; i++)
			ok = isgraph(gn.val[i]);
		if (!ok)
			continue;
		s = malloc(gn.len + 1);
		if (s == NULL)
			return;
		for (size_t i = 0; i < gn.len; i++)
			s[i] = (char)tolower(gn.val[i]);
		s[gn.len] = '\0';
		info->sans[info->n_sans++] = s;
	}
}

/* What is handed to libcurl and shown to users must be one visible word. */
static bool
printable(const uint8_t *p, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return false;
	return true;
}

static void
fill_ocsp_url(const struct der_cert *c, struct cert_info *info)
{
	struct der d = { c->aia.p, c->aia.len }, ad;
	struct der_tlv seq, method, loc;

	while (d.len > 0 && der_expect(&d, DER_SEQUENCE, &seq) == 0) {
		ad = der_in(&seq);
		if (der_expect(&ad, DER_OID, &method) ||
		    der_next(&ad, &loc) ||
		    !der_oid_is((struct der_bytes){ method.val, method.len },
				oid_ad_ocsp, sizeof(oid_ad_ocsp)) ||
		    loc.tag != DER_CTX_PRIM(6) || loc.len >= CERT_URL_MAX ||
		    !printable(loc.val, loc.len))
			continue;
		memcpy(info->ocsp_url, loc.val, loc.len);
		info->ocsp_url[loc.len] = '\0';
		return;
	}
}

static int
fill_info(const struct der_chain *ch, struct cert_info *info)
{
	const struct der_cert *leaf = &ch->certs[0];
	uint8_t digest[32];

	memset(info, 0, sizeof(*info));
	info->key_kind = leaf->key_alg == DER_KEY_RSA ? CERT_KEY_RSA :
							CERT_KEY_ECDSA;
	info->key_bits = leaf->key_bits;
	der_key_describe(leaf, info->key_type, sizeof(info->key_type));
	der_name_format(leaf->subject, info->subject, sizeof(info->subject));
	der_name_format(leaf->issuer, info->issuer, sizeof(info->issuer));
	info->not_before = leaf->not_before;
	info->not_after = leaf->not_after;
	if (wc_Sha256Hash(leaf->der, (word32)leaf->der_len, digest) != 0)
		return -EIO;
	for (int i = 0; i < 32; i++)
		snprintf(info->fingerprint + 2 * i, 3, "%02x", digest[i]);
	fill_ocsp_url(leaf, info);
	info->chain_len = ch->n;
	fill_sans(leaf, info);
	return 0;
}

int
cert_validate(const char *chain_pem, const char *key_pem,
	      const char *extra_ca_pem, const char *ca_bundle_path,
	      time_t now, struct cert_info *info, char *err, size_t errlen)
{
	struct der_chain ch;
	const struct der_cert *leaf, *last;
	char a[CERT_NAME_MAX], b[CERT_NAME_MAX], kt[32];
	int ret;

	if (chain_pem == NULL || key_pem == NULL || info == NULL)
		return der_refuse(err, errlen, "a certificate and a private key are required");
	memset(info, 0, sizeof(*info));
	ret = der_chain_load(chain_pem, &ch);
	if (ret == -ENOMEM) {
		der_refuse(err, errlen, "out of memory while reading the certificate PEM");
		return -ENOMEM;
	}
	if (ret < 0 || ch.n == 0) {
		der_chain_free(&ch);
		return der_refuse(err, errlen, "no certificate found in the PEM");
	}
	if (ch.bad >= 0) {
		ret = der_refuse(err, errlen,
			     "certificate %d in the PEM could not be parsed as X.509",
			     ch.bad + 1);
		goto out;
	}
	leaf = &ch.certs[0];
	der_name_short(leaf->subject, a, sizeof(a));

	if (!key_supported(leaf)) {
		der_key_describe(leaf, kt, sizeof(kt));
		ret = der_refuse(err, errlen,
			     "unsupported key %s; use RSA 2048-4096 or ECDSA P-256/P-384",
			     kt);
		goto out;
	}

	if (strstr(key_pem, "ENCRYPTED") != NULL) {
		ret = der_refuse(err, errlen,
			     "the private key could not be parsed (encrypted keys are not supported)");
		goto out;
	}
	ret = key_matches(key_pem, leaf);
	if (ret == -ENOMEM) {
		der_refuse(err, errlen, "out of memory while checking the private key");
		goto out;
	}
	if (ret == -EINVAL) {
		ret = der_refuse(err, errlen,
			     "the private key could not be parsed (encrypted keys are not supported)");
		goto out;
	}
	if (ret != 0) {
		ret = der_refuse(err, errlen,
			     "the private key does not match the leaf certificate (%s)",
			     a);
		goto out;
	}

	for (unsigned int i = 0; i + 1 < ch.n; i++) {
		const struct der_cert *c = &ch.certs[i], *up = &ch.certs[i + 1];

		der_name_short(c->subject, a, sizeof(a));
		der_name_short(up->subject, b, sizeof(b));
		ret = der_name_eq(c->issuer, up->subject) ?
			      der_cert_signed_by(c, up->spki) : -EBADMSG;
		if (ret == -ENOTSUP) {
			ret = der_refuse(err, errlen,
				     "certificate %u (%s) is signed with an algorithm that cannot be verified here (RSA PKCS#1 v1.5 or ECDSA with SHA-1/2 are)",
				     i + 1, a);
			goto out;
		}
		if (ret != 0) {
			ret = der_refuse(err, errlen,
				     "chain out of order: certificate %u (%s) did not issue certificate %u (%s); list the leaf first, then each issuer",
				     i + 2, b, i + 1, a);
			goto out;
		}
		/* a v1 certificate predates basicConstraints; only a
		 * self-signed one (a root) may be taken for a CA */
		if (!up->is_ca && !(up->version == 0 && self_signed(up))) {
			ret = der_refuse(err, errlen,
				     "certificate %u (%s) is not a CA (basicConstraints CA:TRUE) and cannot issue certificate %u (%s)",
				     i + 2, b, i + 1, a);
			goto out;
		}
	}

	last = &ch.certs[ch.n - 1];
	if (!self_signed(last) && !anchored_in(extra_ca_pem, last)) {
		char *bundle = slurp(ca_bundle_path ? ca_bundle_path :
						      DEFAULT_CA_BUNDLE);
		bool ok = anchored_in(bundle, last);

		free(bundle);
		if (!ok) {
			der_name_short(last->subject, a, sizeof(a));
			der_name_short(last->issuer, b, sizeof(b));
			ret = der_refuse(err, errlen,
				     "missing intermediate: the issuer of %s (%s) is neither in the chain nor a trusted root",
				     a, b);
			goto out;
		}
	}

	for (unsigned int i = 0; i < ch.n; i++) {
		ret = check_dates(&ch.certs[i], i, now, err, errlen);
		if (ret != 0)
			goto out;
	}

	ret = fill_info(&ch, info);
	if (ret != 0) {
		der_refuse(err, errlen, "the leaf certificate could not be fingerprinted");
		cert_info_free(info);
	}
out:
	der_chain_free(&ch);
	return ret;
}

void
cert_info_free(struct cert_info *info)
{
	if (info == NULL)
		return;
	for (unsigned int i = 0; i < info->n_sans && i < CERT_MAX_SANS; i++)
		free(info->sans[i]);
	memset(info, 0, sizeof(*info));
}

bool
cert_covers_host(const struct cert_info *info, const char *host)
{
	const char *rest;

	if (info == NULL || host == NULL || *host == '\0')
		return false;
	rest = strchr(host, '.');
	for (unsigned int i = 0; i < info->n_sans; i++) {
		const char *san = info->sans[i];

		/* also covers the alias "*.example.com" written as a host */
		if (strcasecmp(san, host) == 0)
			return true;
		if (san[0] != '*' || san[1] != '.')
			continue;
		/* RFC 6125 6.4.3: the wildcard is the whole left-most label,
		 * stands for exactly one non-empty label, and never for a
		 * public suffix-like single label ("*.com") */
		if (rest == NULL || rest == host || strchr(san + 2, '.') == NULL)
			continue;
		if (memchr(host, '*', (size_t)(rest - host)) != NULL)
			continue;
		if (strcasecmp(rest + 1, san + 2) == 0)
			return true;
	}
	return false;
}

/* CertificateList, the parts a trust store cares about. */
struct crl_view {
	struct der_bytes tbs, sig_alg, sig, issuer;
	time_t this_update, next_update;	/* next_update 0: absent */
	unsigned int n_revoked;
};

static int
crl_parse(const uint8_t *der, size_t len, struct crl_view *v)
{
	struct der d = { der, len }, cl, tbs, a;
	struct der_tlv t_cl, t_tbs, alg, sig, t, oid;

	memset(v, 0, sizeof(*v));
	if (der_expect(&d, DER_SEQUENCE, &t_cl) || d.len != 0)
		return -EINVAL;
	cl = der_in(&t_cl);
	if (der_expect(&cl, DER_SEQUENCE, &t_tbs) ||
	    der_expect(&cl, DER_SEQUENCE, &alg) ||
	    der_expect(&cl, DER_BIT_STRING, &sig) || sig.len < 1 ||
	    sig.val[0] != 0 || cl.len != 0)
		return -EINVAL;
	v->tbs = (struct der_bytes){ t_tbs.hdr, t_tbs.tlv_len };
	v->sig = (struct der_bytes){ sig.val + 1, sig.len - 1 };
	a = der_in(&alg);
	if (der_expect(&a, DER_OID, &oid))
		return -EINVAL;
	v->sig_alg = (struct der_bytes){ oid.val, oid.len };

	tbs = der_in(&t_tbs);
	if (der_peek(&tbs, DER_INTEGER) &&
	    (der_next(&tbs, &t) || t.len != 1 || t.val[0] != 1))
		return -EINVAL;
	/* the signed algorithm must be the unsigned one (RFC 5280 5.1.1.2) */
	if (der_expect(&tbs, DER_SEQUENCE, &t) ||
	    !der_bytes_eq((struct der_bytes){ t.hdr, t.tlv_len },
			  (struct der_bytes){ alg.hdr, alg.tlv_len }) ||
	    der_expect(&tbs, DER_SEQUENCE, &t))
		return -EINVAL;
	v->issuer = (struct der_bytes){ t.hdr, t.tlv_len };
	if (der_next(&tbs, &t) || der_time(&t, &v->this_update))
		return -EINVAL;
	if ((der_peek(&tbs, DER_UTCTIME) || der_peek(&tbs, DER_GENTIME)) &&
	    (der_next(&tbs, &t) || der_time(&t, &v->next_update) ||
	     v->next_update < v->this_update))
		return -EINVAL;
	if (der_peek(&tbs, DER_SEQUENCE)) {
		struct der r;
		struct der_tlv entry;

		if (der_next(&tbs, &t))
			return -EINVAL;
		r = der_in(&t);
		while (r.len > 0) {
			if (der_expect(&r, DER_SEQUENCE, &entry))
				return -EINVAL;
			v->n_revoked++;
		}
	}
	return 0;
}

int
truststore_validate(const char *ca_pem, const char *crl_pem, time_t now,
		    unsigned int *n_cas, unsigned int *n_revoked,
		    char *err, size_t errlen)
{
	struct der_chain ch;
	struct der_blobs crls = { 0 };
	char name[CERT_NAME_MAX], when[32];
	unsigned int revoked = 0;
	int ret;

	if (ca_pem == NULL)
		return der_refuse(err, errlen, "no CA certificate found in the PEM");
	ret = der_chain_load(ca_pem, &ch);
	if (ret == -ENOMEM) {
		der_refuse(err, errlen, "out of memory while reading the CA PEM");
		return ret;
	}
	if (ret < 0 || ch.n == 0) {
		der_chain_free(&ch);
		return der_refuse(err, errlen, "no CA certificate found in the PEM");
	}
	if (ch.bad >= 0) {
		ret = der_refuse(err, errlen,
			     "certificate %d in the PEM could not be parsed as X.509",
			     ch.bad + 1);
		goto out;
	}
	for (unsigned int i = 0; i < ch.n; i++) {
		const struct der_cert *c = &ch.certs[i];

		/* v1 roots predate basicConstraints */
		if (c->is_ca || (c->version == 0 && self_signed(c)))
			continue;
		der_name_short(c->subject, name, sizeof(name));
		ret = der_refuse(err, errlen,
			     "certificate %u (%s) is not a CA certificate (no basicConstraints CA:TRUE); a trust store holds only CAs",
			     i + 1, name);
		goto out;
	}

	if (crl_pem != NULL && *crl_pem != '\0') {
		ret = der_pem_decode(crl_pem, "X509 CRL", &crls);
		if (ret == -ENOMEM) {
			der_refuse(err, errlen, "out of memory while reading the CRL PEM");
			goto out;
		}
		if (ret < 0 || crls.n == 0) {
			ret = der_refuse(err, errlen,
				     "no CRL found in the PEM (expected -----BEGIN X509 CRL-----)");
			goto out;
		}
	}
	for (unsigned int i = 0; i < crls.n; i++) {
		struct crl_view v;
		bool signed_ok = false;

		if (crl_parse(crls.v[i].p, crls.v[i].len, &v) != 0) {
			ret = der_refuse(err, errlen, "the CRL could not be parsed");
			goto out;
		}
		der_name_short(v.issuer, name, sizeof(name));
		for (unsigned int j = 0; j < ch.n && !signed_ok; j++)
			signed_ok = der_name_eq(ch.certs[j].subject, v.issuer) &&
				    der_verify(v.tbs, v.sig_alg, v.sig,
					       ch.certs[j].spki) == 0;
		if (!signed_ok) {
			ret = der_refuse(err, errlen,
				     "the CRL (issuer %s) is not signed by any CA in the trust store",
				     name);
			goto out;
		}
		if (v.next_update != 0 && now > v.next_update) {
			der_time_format(v.next_update, when, sizeof(when));
			ret = der_refuse(err, errlen,
				     "the CRL (issuer %s) is past its nextUpdate %s; fetch a current CRL",
				     name, when);
			goto out;
		}
		revoked += v.n_revoked;
	}
	if (n_cas != NULL)
		*n_cas = ch.n;
	if (n_revoked != NULL)
		*n_revoked = revoked;
	ret = 0;
out:
	der_blobs_free(&crls);
	der_chain_free(&ch);
	return ret;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Certificate and trust-store validation for the control plane (wolfSSL's
 * OpenSSL-compatible X.509 layer lives behind this header; callers see
 * plain C types). Every refusal comes back as one sentence a CLI user can
 * act on, prefixed with the object's name by the caller.
 *
 * Thread-safety: reentrant, no global state beyond wolfSSL_Init (call
 * crypto_init() once per process first).
 */
#ifndef RAMPART_CRYPTO_CERT_H
#define RAMPART_CRYPTO_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CERT_MAX_SANS      100
#define CERT_NAME_MAX      256
#define CERT_URL_MAX       256

enum cert_key_kind { CERT_KEY_RSA, CERT_KEY_ECDSA };

/* What `rampartctl get certs` shows, derived from the validated chain. */
struct cert_info {
	enum cert_key_kind key_kind;
	unsigned int key_bits;          /* 2048..4096, or 256/384 */
	char key_type[32];              /* "RSA 2048", "ECDSA P-256" */
	char subject[CERT_NAME_MAX];    /* leaf subject, one line "CN=..., O=..." */
	char issuer[CERT_NAME_MAX];     /* leaf issuer, same format */
	char *sans[CERT_MAX_SANS];      /* DNS SANs, lower-case, malloc'd */
	unsigned int n_sans;
	time_t not_before, not_after;   /* leaf validity */
	char fingerprint[65];           /* SHA-256 of the leaf DER, lower hex */
	char ocsp_url[CERT_URL_MAX];    /* AIA OCSP responder, "" when none */
	unsigned int chain_len;         /* certificates in the PEM chain */
};

/* Once per process, before any other crypto_* call. Returns 0 or -EIO. */
int crypto_init(void);
void crypto_fini(void);

/*
 * Validate a certificate import: chain_pem (leaf first, then issuers,
 * optionally the root), key_pem (PKCS#1, SEC1 or PKCS#8, unencrypted),
 * extra_ca_pem (optional anchors, may be NULL), trusted roots from
 * ca_bundle_path (NULL: /etc/ssl/certs/ca-certificates.crt; a missing file
 * means no system roots), at time now. Refuses (returns -EINVAL with the
 * sentence in err) when: no certificate or no key parses; the key does not
 * match the leaf; a certificate is not issued by the next one (out of
 * order); the last certificate is not self-signed and its issuer is
 * neither in extra_ca_pem nor in the bundle (missing intermediate); any
 * certificate in the chain is expired or not yet valid; the key is not RSA
 * 2048-4096 or ECDSA P-256/P-384. Signatures along the chain are verified.
 * On success fills *info (release with cert_info_free) and returns 0.
 */
int cert_validate(const char *chain_pem, const char *key_pem,
		  const char *extra_ca_pem, const char *ca_bundle_path,
		  time_t now, struct cert_info *info, char *err, size_t errlen);

void cert_info_free(struct cert_info *info);

/* True when host (lower-case) is covered by one of info's SANs, with RFC
 * 6125 wildcard rules (one left-most label; "*.example.com" also covers the
 * alias "*.example.com" itself). */
bool cert_covers_host(const struct cert_info *info, const char *host);

/*
 * Validate a trust store: ca_pem holds at least one CA certificate
 * (basicConstraints CA:TRUE or a self-signed v1 root); crl_pem (may be
 * NULL) must parse, be signed by one of them and not be past nextUpdate at
 * now. Returns 0 with the number of CAs in *n_cas and revoked entries in
 * *n_revoked, or -EINVAL with a sentence.
 */
int truststore_validate(const char *ca_pem, const char *crl_pem, time_t now,
			unsigned int *n_cas, unsigned int *n_revoked,
			char *err, size_t errlen);

#endif /* RAMPART_CRYPTO_CERT_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OCSP for stapling: build a request for a leaf, check a responder's
 * answer. The HTTP fetch itself (libcurl) is the control plane's; this
 * module only does the ASN.1 and signatures (wolfSSL). Reentrant.
 */
#ifndef RAMPART_CRYPTO_OCSP_H
#define RAMPART_CRYPTO_OCSP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum ocsp_cert_status {
	OCSP_STATUS_GOOD,
	OCSP_STATUS_REVOKED,
	OCSP_STATUS_UNKNOWN,
};

struct ocsp_result {
	enum ocsp_cert_status status;
	time_t this_update;
	time_t next_update;     /* 0 when the response has none */
	time_t revoked_at;      /* for OCSP_STATUS_REVOKED */
};

/*
 * DER OCSP request (SHA-1 cert ID, no nonce, as responders cache) for the
 * leaf of chain_pem, whose issuer must be the chain's second certificate
 * (or found in the chain). *der is malloc'd. Returns 0 or -EINVAL with a
 * sentence in err (e.g. "the chain has no issuer certificate").
 */
int ocsp_build_request(const char *chain_pem, uint8_t **der, size_t *len,
		       char *err, size_t errlen);

/*
 * Check resp (DER) for the leaf of chain_pem at time now: response status
 * successful; a single response whose cert ID matches the leaf; signed by
 * the issuer or by a responder certificate the issuer issued with the
 * OCSPSigning extended key usage; thisUpdate not in the future (5 min
 * skew allowed); nextUpdate, when present, not in the past. Returns 0 with
 * *res filled (status may be revoked or unknown: the caller decides), or
 * -EINVAL with a sentence naming what failed.
 */
int ocsp_check_response(const char *chain_pem, const uint8_t *resp,
			size_t len, time_t now, struct ocsp_result *res,
			char *err, size_t errlen);

#endif /* RAMPART_CRYPTO_OCSP_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks of a certificate chain as a TLS peer presented it (DER, leaf
 * first), for the dataplane's origin leg (docs/HTTP.md, "Origin TLS"):
 * wolfSSL verifies a chain to its anchors but builds the path from
 * whatever order the peer sent; these add what `strict` and `pinned`
 * require on top. Reentrant, no allocation; callable from a worker (the
 * cost is a few name comparisons, plus one signature check per link for
 * an intermediate pin).
 */
#ifndef RAMPART_CRYPTO_CHAIN_H
#define RAMPART_CRYPTO_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHAIN_PIN_LEN   32      /* SHA-256 of a SubjectPublicKeyInfo */
#define CHAIN_MAX       10      /* certificates looked at, leaf first */

struct chain_cert {
	const uint8_t *der;
	size_t len;
};

/*
 * Is every certificate issued by the next one (its issuer name is the
 * next one's subject)? Returns 0; -EBADMSG with the 0-based index of the
 * first certificate whose issuer does not follow in *bad; -EINVAL when a
 * certificate does not parse (index in *bad). A single certificate is in
 * order. Signatures are not checked here (wolfSSL has verified the path).
 */
int chain_in_order(const struct chain_cert *certs, unsigned int n,
		   unsigned int *bad);

/*
 * Does the chain carry one of pins? 0 when the leaf's key is pinned, or
 * when certificate k's key is pinned and, for every i < k, certificate i
 * is signed by certificate i + 1 (so a pinned intermediate vouches for
 * this leaf, not merely appears next to it). -EPERM otherwise; -EINVAL
 * when a certificate on the way does not parse. Names and dates are not
 * looked at: a pin trusts a key.
 */
int chain_pinned(const struct chain_cert *certs, unsigned int n,
		 const uint8_t (*pins)[CHAIN_PIN_LEN], unsigned int nb_pins);

/*
 * The subject names of a set of trust anchors, to tell a complete chain
 * from one wolfSSL accepts only because an earlier chain taught it the
 * missing intermediate (wolfSSL 5.5.4 keeps every verified intermediate
 * in the context's CA store). Built from PEM (a trust store, the CA
 * bundle), read-only afterwards: any thread.
 */
struct chain_anchors;

/* NULL when out of memory; certificates that do not parse are skipped. */
struct chain_anchors *chain_anchors_load(const char *pem);
void chain_anchors_free(struct chain_anchors *a);
/* The anchors in a PEM file into *pem (malloc'd, NUL-terminated; the
 * caller frees it): 0, or -errno when it cannot be read. */
int chain_read_file(const char *path, char **pem);

/*
 * Does the presented chain reach an anchor by itself: its last
 * certificate is an anchor (same subject, self-issued) or names one as
 * its issuer? A chain in order that does not is missing an intermediate.
 * false when the last certificate does not parse.
 */
bool chain_reaches_anchor(const struct chain_cert *certs, unsigned int n,
			  const struct chain_anchors *a);

/* Is cert its own issuer (issuer name = subject name)? false when it
 * does not parse. */
bool chain_self_issued(const struct chain_cert *cert);

/* SHA-256 of der's SubjectPublicKeyInfo into out. 0 or -EINVAL. */
int chain_spki_pin(const uint8_t *der, size_t len,
		   uint8_t out[CHAIN_PIN_LEN]);

#endif /* RAMPART_CRYPTO_CHAIN_H */

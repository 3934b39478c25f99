/* SPDX-License-Identifier: BSD-3-Clause */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/chain.h"
#include "crypto/der.h"

int
chain_in_order(const struct chain_cert *certs, unsigned int n,
	       unsigned int *bad)
{
	struct der_cert c, up;
	unsigned int i;

	if (n == 0)
		return 0;
	if (n > CHAIN_MAX)
		n = CHAIN_MAX;
	if (der_cert_parse(certs[0].der, certs[0].len, &c) != 0) {
		*bad = 0;
		return -EINVAL;
	}
	for (i = 0; i + 1 < n; i++) {
		if (der_cert_parse(certs[i + 1].der, certs[i + 1].len,
				   &up) != 0) {
			*bad = i + 1;
			return -EINVAL;
		}
		if (!der_name_eq(c.issuer, up.subject)) {
			*bad = i;
			return -EBADMSG;
		}
		c = up;
	}
	return 0;
}

bool
chain_self_issued(const struct chain_cert *cert)
{
	struct der_cert c;

	return der_cert_parse(cert->der, cert->len, &c) == 0 &&
	       der_name_eq(c.issuer, c.subject);
}

int
chain_spki_pin(const uint8_t *der, size_t len, uint8_t out[CHAIN_PIN_LEN])
{
	struct der_cert c;

	if (der_cert_parse(der, len, &c) != 0)
		return -EINVAL;
	return wc_Sha256Hash(c.spki.p, (word32)c.spki.len, out) == 0 ?
	       0 : -EINVAL;
}

static bool
pinned(const struct der_cert *c, const uint8_t (*pins)[CHAIN_PIN_LEN],
       unsigned int nb_pins)
{
	uint8_t h[CHAIN_PIN_LEN];
	unsigned int i;

	if (wc_Sha256Hash(c->spki.p, (word32)c->spki.len, h) != 0)
		return false;
	for (i = 0; i < nb_pins; i++)
		if (memcmp(h, pins[i], CHAIN_PIN_LEN) == 0)
			return true;
	return false;
}

int
chain_pinned(const struct chain_cert *certs, unsigned int n,
	     const uint8_t (*pins)[CHAIN_PIN_LEN], unsigned int nb_pins)
{
	struct der_cert c, up;
	unsigned int i;

	if (n == 0)
		return -EPERM;
	if (n > CHAIN_MAX)
		n = CHAIN_MAX;
	if (der_cert_parse(certs[0].der, certs[0].len, &c) != 0)
		return -EINVAL;
	if (pinned(&c, pins, nb_pins))
		return 0;
	/* Walk up while each link is a real signature: the first pinned
	 * certificate reached this way vouches for the leaf. */
	for (i = 0; i + 1 < n; i++) {
		if (der_cert_parse(certs[i + 1].der, certs[i + 1].len,
				   &up) != 0)
			return -EINVAL;
		if (!der_name_eq(c.issuer, up.subject) ||
		    der_cert_signed_by(&c, up.spki) != 0)
			return -EPERM;
		if (pinned(&up, pins, nb_pins))
			return 0;
		c = up;
	}
	return -EPERM;
}

struct chain_anchors {
	unsigned int n;
	struct der_blob names[];        /* subject Names, whole TLVs */
};

struct chain_anchors *
chain_anchors_load(const char *pem)
{
	struct chain_anchors *a;
	struct der_blobs blobs = { 0 };
	struct der_cert c;
	unsigned int i;

	if (pem != NULL && der_pem_decode(pem, "CERTIFICATE", &blobs) == -ENOMEM)
		return NULL;
	a = calloc(1, sizeof(*a) + blobs.n * sizeof(a->names[0]));
	if (a == NULL)
		goto out;
	for (i = 0; i < blobs.n; i++) {
		if (der_cert_parse(blobs.v[i].p, blobs.v[i].len, &c) != 0)
			continue;
		a->names[a->n].p = malloc(c.subject.len);
		if (a->names[a->n].p == NULL) {
			chain_anchors_free(a);
			a = NULL;
			goto out;
		}
		memcpy(a->names[a->n].p, c.subject.p, c.subject.len);
		a->names[a->n].len = c.subject.len;
		a->n++;
	}
out:
	der_blobs_free(&blobs);
	return a;
}

void
chain_anchors_free(struct chain_anchors *a)
{
	unsigned int i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		free(a->names[i].p);
	free(a);
}

int
chain_read_file(const char *path, char **pem)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, k;
	int rc = 0;

	*pem = NULL;
	if (f == NULL)
		return -errno;
	for (;;) {
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap + 262144);

			if (nb == NULL) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
			cap += 262144;
		}
		k = fread(buf + len, 1, cap - len - 1, f);
		len += k;
		if (k == 0) {
			if (ferror(f))
				rc = -EIO;
			break;
		}
	}
	fclose(f);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*pem = buf;
	return 0;
}

static bool
is_anchor_name(const struct chain_anchors *a, struct der_bytes name)
{
	unsigned int i;

	for (i = 0; i < a->n; i++)
		if (der_name_eq((struct der_bytes){ a->names[i].p,
						    a->names[i].len }, name))
			return true;
	return false;
}

bool
chain_reaches_anchor(const struct chain_cert *certs, unsigned int n,
		     const struct chain_anchors *a)
{
	struct der_cert c;

	if (n == 0 || a == NULL)
		return false;
	if (n > CHAIN_MAX)
		n = CHAIN_MAX;
	if (der_cert_parse(certs[n - 1].der, certs[n - 1].len, &c) != 0)
		return false;
	/* A root sent along: wolfSSL verified it is one of the anchors. */
	return is_anchor_name(a, c.issuer);
}

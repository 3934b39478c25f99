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

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END   "-----END CERTIFICATE-----"

/* Add the subject of the one certificate in block[0..len) (a PEM block):
 * 0, also when it does not decode or parse (skipped, as wolfSSL skips it
 * when loading the same bundle), or -ENOMEM. */
static int
anchor_add(struct chain_anchors *a, const char *block, size_t len)
{
	struct der_blobs blobs = { 0 };
	struct der_cert c;
	char *one = strndup(block, len);
	int rc = 0;

	if (one == NULL)
		return -ENOMEM;
	if (der_pem_decode(one, "CERTIFICATE", &blobs) == -ENOMEM)
		rc = -ENOMEM;
	else if (blobs.n == 1 &&
		 der_cert_parse(blobs.v[0].p, blobs.v[0].len, &c) == 0) {
		a->names[a->n].p = malloc(c.subject.len);
		if (a->names[a->n].p == NULL) {
			rc = -ENOMEM;
		} else {
			memcpy(a->names[a->n].p, c.subject.p, c.subject.len);
			a->names[a->n].len = c.subject.len;
			a->n++;
		}
	}
	der_blobs_free(&blobs);
	free(one);
	return rc;
}

/* Block by block: one damaged block (bad base64, a bundle cut short)
 * must not take the good ones with it. */
struct chain_anchors *
chain_anchors_load(const char *pem)
{
	struct chain_anchors *a;
	const char *p, *end;
	unsigned int cap = 0;

	for (p = pem; p != NULL && (p = strstr(p, PEM_BEGIN)) != NULL;
	     p += sizeof(PEM_BEGIN) - 1)
		cap++;
	a = calloc(1, sizeof(*a) + cap * sizeof(a->names[0]));
	if (a == NULL)
		return NULL;
	for (p = pem; p != NULL && a->n < cap &&
	     (p = strstr(p, PEM_BEGIN)) != NULL; p = end) {
		const char *next = strstr(p + sizeof(PEM_BEGIN) - 1,
					  PEM_BEGIN);

		end = strstr(p + sizeof(PEM_BEGIN) - 1, PEM_END);
		if (end == NULL)
			break;          /* cut short: nothing after it */
		if (next != NULL && next < end) {
			end = next;     /* a block without its END line */
			continue;
		}
		end += sizeof(PEM_END) - 1;
		if (anchor_add(a, p, (size_t)(end - p)) != 0) {
			chain_anchors_free(a);
			return NULL;
		}
	}
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

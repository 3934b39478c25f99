/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crypto/chain.h, the checks the origin leg adds on top of wolfSSL,
 * against chains the openssl CLI made (mkcerts.sh setup, then chain):
 * issuing order, SPKI pins of the leaf or of an intermediate that really
 * signs the path to it (a forged leaf carrying the intermediate's name is
 * not vouched for), a chain that reaches an anchor by itself, anchors read
 * from a PEM bundle with noise in it, pins equal to what openssl computes,
 * whole files read past 256 KiB, and CHAIN_MAX.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/cert.h"
#include "crypto/chain.h"
#include "pki.h"

/* The certificates of DIR/chain (mkcerts.sh chains()). */
enum {
	EC_ROOT, EC_INTER, EC_LEAF, EC_ED25519, EVIL, RSA_ROOT, RSA_INTER,
	RSA_LEAF, C_ROOT, C_I1, C_I2, C_LEAF, FORGED,
	D0, D1, D2, D3, D4, D5, D6, D7, D8, D9, DLEAF,
	JUNK, NB_CERTS, END = -1
};

static const char *const files[NB_CERTS] = {
	[EC_ROOT] = "ec-root", [EC_INTER] = "ec-inter", [EC_LEAF] = "ec-leaf",
	[EC_ED25519] = "ec-ed25519", [EVIL] = "ec-evil-root",
	[RSA_ROOT] = "rsa-root", [RSA_INTER] = "rsa-inter",
	[RSA_LEAF] = "rsa-leaf", [C_ROOT] = "root", [C_I1] = "i1",
	[C_I2] = "i2", [C_LEAF] = "leaf", [FORGED] = "forged",
	[D0] = "deep0", [D1] = "deep1", [D2] = "deep2", [D3] = "deep3",
	[D4] = "deep4", [D5] = "deep5", [D6] = "deep6", [D7] = "deep7",
	[D8] = "deep8", [D9] = "deep9", [DLEAF] = "deepleaf",
};

struct cert {
	uint8_t *der;
	size_t len;
	uint8_t pin[CHAIN_PIN_LEN];     /* as openssl computed it */
};

static char dir[64];
static struct cert certs[NB_CERTS];

static char *
path(const char *rel)
{
	static char buf[4][256];
	static int n;
	char *p = buf[n++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, rel);
	return p;
}

/* Whole file; *len without the NUL added after it. NULL when missing. */
static uint8_t *
slurp(const char *file, size_t *len)
{
	FILE *f = fopen(file, "rb");
	uint8_t *buf;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		fclose(f);
		return NULL;
	}
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int
load_cert(unsigned int i)
{
	char rel[64];
	size_t len;
	uint8_t *hex;
	unsigned int k;

	snprintf(rel, sizeof(rel), "chain/%s.der", files[i]);
	certs[i].der = slurp(path(rel), &certs[i].len);
	snprintf(rel, sizeof(rel), "chain/%s.spki", files[i]);
	hex = slurp(path(rel), &len);
	if (certs[i].der == NULL || hex == NULL || len < 2 * CHAIN_PIN_LEN) {
		fprintf(stderr, "mkcerts.sh chain made no %s\n", files[i]);
		free(hex);
		return -1;
	}
	for (k = 0; k < CHAIN_PIN_LEN; k++) {
		int hi = hexval((char)hex[2 * k]), lo = hexval((char)hex[2 * k + 1]);

		if (hi < 0 || lo < 0) {
			free(hex);
			return -1;
		}
		certs[i].pin[k] = (uint8_t)(hi << 4 | lo);
	}
	free(hex);
	return 0;
}

static int
group_setup(void **state)
{
	static const char junk[] = "\x30\x82\x01\x00 not a certificate";
	const char *mkcerts;
	unsigned int i;

	(void)state;
	mkcerts = pki_make(dir, sizeof(dir), "rampart-chain");
	if (mkcerts == NULL)
		return -1;
	if (pki_run("sh %s chain %s", mkcerts, dir) != 0) {
		fprintf(stderr, "mkcerts.sh chain failed\n");
		return -1;
	}
	for (i = 0; i < NB_CERTS; i++)
		if (i != JUNK && load_cert(i) != 0)
			return -1;
	certs[JUNK].der = malloc(sizeof(junk));
	if (certs[JUNK].der == NULL)
		return -1;
	memcpy(certs[JUNK].der, junk, sizeof(junk));
	certs[JUNK].len = sizeof(junk);
	return crypto_init();
}

static int
group_teardown(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < NB_CERTS; i++)
		free(certs[i].der);
	crypto_fini();
	pki_remove(dir);
	return 0;
}

/* out[] = the certificates named by the END-terminated indices; the
 * count. */
static unsigned int
chain(struct chain_cert *out, int first, ...)
{
	unsigned int n = 0;
	va_list ap;
	int i;

	va_start(ap, first);
	for (i = first; i != END; i = va_arg(ap, int)) {
		assert_true(n < 16);
		out[n].der = certs[i].der;
		out[n].len = certs[i].len;
		n++;
	}
	va_end(ap);
	return n;
}

/* chain_pinned of the listed certificates against the pin of one. */
static int
pinned_by(int pin_of, int first, ...)
{
	struct chain_cert c[16];
	unsigned int n = 0;
	va_list ap;
	int i;

	va_start(ap, first);
	for (i = first; i != END; i = va_arg(ap, int)) {
		assert_true(n < 16);
		c[n].der = certs[i].der;
		c[n].len = certs[i].len;
		n++;
	}
	va_end(ap);
	return chain_pinned(c, n,
			    (const uint8_t (*)[CHAIN_PIN_LEN])certs[pin_of].pin,
			    1);
}

/* ---------------------------------------------------------------- order */

static void
test_in_order(void **state)
{
	struct chain_cert c[16];
	unsigned int n, bad;

	(void)state;
	n = chain(c, EC_LEAF, EC_INTER, EC_ROOT, END);
	bad = 99;
	assert_int_equal(chain_in_order(c, n, &bad), 0);
	n = chain(c, EC_LEAF, EC_INTER, END);
	assert_int_equal(chain_in_order(c, n, &bad), 0);
	n = chain(c, C_LEAF, C_I2, C_I1, C_ROOT, END);
	assert_int_equal(chain_in_order(c, n, &bad), 0);
	n = chain(c, RSA_LEAF, RSA_INTER, RSA_ROOT, END);
	assert_int_equal(chain_in_order(c, n, &bad), 0);
	/* A single certificate, even one issued by somebody absent. */
	n = chain(c, EC_LEAF, END);
	assert_int_equal(chain_in_order(c, n, &bad), 0);
	n = chain(c, EC_ROOT, END);
	assert_int_equal(chain_in_order(c, n, &bad), 0);
	assert_int_equal(chain_in_order(c, 0, &bad), 0);
}

static void
test_out_of_order(void **state)
{
	static const struct {
		int c[5];
		unsigned int bad;
	} t[] = {
		/* The spec's misordered chain: int-2 issued the leaf,
		 * int-1 issued int-2, sent as leaf, int-1, int-2. */
		{ { C_LEAF, C_I1, C_I2, END }, 0 },
		{ { EC_LEAF, EC_ROOT, EC_INTER, END }, 0 },
		{ { EC_INTER, EC_LEAF, END }, 0 },
		{ { EC_LEAF, EC_INTER, RSA_ROOT, END }, 1 },
		{ { C_LEAF, C_I2, C_ROOT, C_I1, END }, 1 },
		{ { C_LEAF, C_I2, C_I1, EC_ROOT, END }, 2 },
		{ { EC_LEAF, EC_INTER, EC_ROOT, C_ROOT, END }, 2 },
		{ { RSA_LEAF, EC_INTER, EC_ROOT, END }, 0 },
	};
	struct chain_cert c[16];
	unsigned int i, n, bad;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (n = 0; t[i].c[n] != END; n++) {
			c[n].der = certs[t[i].c[n]].der;
			c[n].len = certs[t[i].c[n]].len;
		}
		bad = 99;
		if (chain_in_order(c, n, &bad) != -EBADMSG || bad != t[i].bad)
			fail_msg("case %u: want -EBADMSG at %u, got %d at %u",
				 i, t[i].bad, chain_in_order(c, n, &bad), bad);
	}
}

static void
test_in_order_unparsable(void **state)
{
	struct chain_cert c[16];
	unsigned int n, bad;
	uint8_t half[64];

	(void)state;
	n = chain(c, JUNK, EC_INTER, END);
	bad = 99;
	assert_int_equal(chain_in_order(c, n, &bad), -EINVAL);
	assert_int_equal(bad, 0);
	n = chain(c, JUNK, END);
	bad = 99;
	assert_int_equal(chain_in_order(c, n, &bad), -EINVAL);
	assert_int_equal(bad, 0);
	n = chain(c, EC_LEAF, EC_INTER, JUNK, END);
	assert_int_equal(chain_in_order(c, n, &bad), -EINVAL);
	assert_int_equal(bad, 2);
	/* A real certificate cut short. */
	memcpy(half, certs[EC_INTER].der, sizeof(half));
	n = chain(c, EC_LEAF, EC_INTER, END);
	c[1].der = half;
	c[1].len = sizeof(half);
	assert_int_equal(chain_in_order(c, n, &bad), -EINVAL);
	assert_int_equal(bad, 1);
}

/* ----------------------------------------------------------------- pins */

static void
test_pinned_leaf(void **state)
{
	(void)state;
	assert_int_equal(pinned_by(EC_LEAF, EC_LEAF, EC_INTER, EC_ROOT, END), 0);
	assert_int_equal(pinned_by(EC_LEAF, EC_LEAF, END), 0);
	assert_int_equal(pinned_by(RSA_LEAF, RSA_LEAF, END), 0);
	assert_int_equal(pinned_by(EC_ED25519, EC_ED25519, END), 0);
	/* A leaf pin trusts the key whatever follows it: out of order,
	 * unrelated, even unparsable. */
	assert_int_equal(pinned_by(C_LEAF, C_LEAF, C_I1, C_I2, END), 0);
	assert_int_equal(pinned_by(EC_LEAF, EC_LEAF, RSA_ROOT, END), 0);
	assert_int_equal(pinned_by(EC_LEAF, EC_LEAF, JUNK, END), 0);
	/* Self-signed: its own key is the leaf's. */
	assert_int_equal(pinned_by(EVIL, EVIL, END), 0);
}

static void
test_pinned_intermediate(void **state)
{
	(void)state;
	assert_int_equal(pinned_by(EC_INTER, EC_LEAF, EC_INTER, END), 0);
	assert_int_equal(pinned_by(EC_INTER, EC_LEAF, EC_INTER, EC_ROOT, END),
			 0);
	assert_int_equal(pinned_by(EC_ROOT, EC_LEAF, EC_INTER, EC_ROOT, END),
			 0);
	assert_int_equal(pinned_by(RSA_INTER, RSA_LEAF, RSA_INTER, END), 0);
	/* Two levels: each pin is reached through real signatures. */
	assert_int_equal(pinned_by(C_I2, C_LEAF, C_I2, C_I1, END), 0);
	assert_int_equal(pinned_by(C_I1, C_LEAF, C_I2, C_I1, END), 0);
	assert_int_equal(pinned_by(C_ROOT, C_LEAF, C_I2, C_I1, C_ROOT, END), 0);
	/* The forged leaf's real issuer, pinned, vouches for it. */
	assert_int_equal(pinned_by(EVIL, FORGED, EVIL, END), 0);
}

/* An intermediate pin vouches for a leaf it signed, not for one that only
 * sits in front of it. */
static void
test_pinned_not_signed(void **state)
{
	(void)state;
	/* Issuer name is the pinned intermediate's, the signature is
	 * ec/evil's: the names line up, the keys do not. */
	assert_int_equal(pinned_by(EC_INTER, FORGED, EC_INTER, END), -EPERM);
	assert_int_equal(pinned_by(EC_INTER, FORGED, EC_INTER, EC_ROOT, END),
			 -EPERM);
	assert_int_equal(pinned_by(EC_ROOT, FORGED, EC_INTER, EC_ROOT, END),
			 -EPERM);
	/* The same the other way round: a real leaf, an impostor CA of the
	 * same name pinned. */
	assert_int_equal(pinned_by(EVIL, EC_LEAF, EVIL, END), -EPERM);
	/* An unrelated leaf followed by a real intermediate. */
	assert_int_equal(pinned_by(EC_INTER, RSA_LEAF, EC_INTER, END), -EPERM);
	assert_int_equal(pinned_by(EC_INTER, C_LEAF, EC_INTER, EC_ROOT, END),
			 -EPERM);
	/* Misordered: int-2 signed the leaf but int-1 comes first. */
	assert_int_equal(pinned_by(C_I2, C_LEAF, C_I1, C_I2, END), -EPERM);
	assert_int_equal(pinned_by(C_I1, C_LEAF, C_I1, C_I2, END), -EPERM);
	/* A break lower down the path: the root is not reached. */
	assert_int_equal(pinned_by(C_ROOT, C_LEAF, C_I2, EC_INTER, C_ROOT, END),
			 -EPERM);
	/* The leaf alone: its issuer's pin is not in the chain. */
	assert_int_equal(pinned_by(EC_INTER, EC_LEAF, END), -EPERM);
}

static void
test_pinned_nothing(void **state)
{
	uint8_t pins[3][CHAIN_PIN_LEN];
	struct chain_cert c[16];
	unsigned int n;

	(void)state;
	/* A pin of some other key. */
	assert_int_equal(pinned_by(RSA_LEAF, EC_LEAF, EC_INTER, EC_ROOT, END),
			 -EPERM);
	assert_int_equal(pinned_by(C_ROOT, EC_LEAF, EC_INTER, EC_ROOT, END),
			 -EPERM);
	n = chain(c, EC_LEAF, EC_INTER, EC_ROOT, END);
	/* No pins at all. */
	assert_int_equal(chain_pinned(c, n, NULL, 0), -EPERM);
	/* Several pins, the matching one last. */
	memset(pins, 0, sizeof(pins));
	memcpy(pins[1], certs[RSA_ROOT].pin, CHAIN_PIN_LEN);
	assert_int_equal(chain_pinned(c, n, (const uint8_t (*)[CHAIN_PIN_LEN])
				      pins, 2), -EPERM);
	memcpy(pins[2], certs[EC_INTER].pin, CHAIN_PIN_LEN);
	assert_int_equal(chain_pinned(c, n, (const uint8_t (*)[CHAIN_PIN_LEN])
				      pins, 3), 0);
	/* An empty chain carries nothing. */
	assert_int_equal(chain_pinned(c, 0, (const uint8_t (*)[CHAIN_PIN_LEN])
				      pins, 3), -EPERM);
	/* Unparsable on the way to the pin. */
	assert_int_equal(pinned_by(EC_INTER, JUNK, EC_INTER, END), -EINVAL);
	assert_int_equal(pinned_by(EC_ROOT, EC_LEAF, JUNK, EC_ROOT, END),
			 -EINVAL);
}

/* -------------------------------------------------------------- anchors */

static struct chain_anchors *
anchors_of(const char *rel)
{
	size_t len;
	char *pem = (char *)slurp(path(rel), &len);
	struct chain_anchors *a;

	assert_non_null(pem);
	a = chain_anchors_load(pem);
	free(pem);
	assert_non_null(a);
	return a;
}

static bool
reaches(const struct chain_anchors *a, int first, ...)
{
	struct chain_cert c[16];
	unsigned int n = 0;
	va_list ap;
	int i;

	va_start(ap, first);
	for (i = first; i != END; i = va_arg(ap, int)) {
		c[n].der = certs[i].der;
		c[n].len = certs[i].len;
		n++;
	}
	va_end(ap);
	return chain_reaches_anchor(c, n, a);
}

static void
test_reaches_anchor(void **state)
{
	struct chain_anchors *ec = anchors_of("chain/ec-root.pem");
	struct chain_anchors *c = anchors_of("chain/root.pem");
	struct chain_anchors *none = chain_anchors_load(NULL);
	struct chain_cert one[1];

	(void)state;
	/* The root sent along, or the last certificate issued by it. */
	assert_true(reaches(ec, EC_LEAF, EC_INTER, EC_ROOT, END));
	assert_true(reaches(ec, EC_LEAF, EC_INTER, END));
	assert_true(reaches(ec, EC_INTER, END));
	assert_true(reaches(ec, EC_ROOT, END));
	assert_true(reaches(c, C_LEAF, C_I2, C_I1, END));
	assert_true(reaches(c, C_LEAF, C_I2, C_I1, C_ROOT, END));
	/* Missing an intermediate: the leaf's issuer is no anchor. */
	assert_false(reaches(ec, EC_LEAF, END));
	assert_false(reaches(c, C_LEAF, C_I2, END));
	assert_false(reaches(c, C_LEAF, END));
	/* Another PKI, or its root that is no anchor here. */
	assert_false(reaches(ec, RSA_LEAF, RSA_INTER, END));
	assert_false(reaches(ec, C_LEAF, C_I2, C_I1, C_ROOT, END));
	assert_false(reaches(c, EC_LEAF, EC_INTER, EC_ROOT, END));
	/* Nothing to reach, or nothing to reach it with. */
	assert_non_null(none);
	assert_false(reaches(none, EC_LEAF, EC_INTER, EC_ROOT, END));
	assert_false(reaches(NULL, EC_LEAF, EC_INTER, EC_ROOT, END));
	assert_false(chain_reaches_anchor(one, 0, ec));
	assert_false(reaches(ec, EC_LEAF, EC_INTER, JUNK, END));
	chain_anchors_free(ec);
	chain_anchors_free(c);
	chain_anchors_free(none);
	chain_anchors_free(NULL);
}

static char *
catf(char *out, const char *rel)
{
	size_t len, have = out != NULL ? strlen(out) : 0;
	char *part = (char *)slurp(path(rel), &len);

	assert_non_null(part);
	out = realloc(out, have + len + 1);
	assert_non_null(out);
	memcpy(out + have, part, len + 1);
	free(part);
	return out;
}

static char *
cats(char *out, const char *s)
{
	size_t have = out != NULL ? strlen(out) : 0;

	out = realloc(out, have + strlen(s) + 1);
	assert_non_null(out);
	strcpy(out + have, s);
	return out;
}

/* A CA bundle as distributions ship it, with whatever sits between the
 * certificates: comments, other PEM blocks, a CERTIFICATE block holding
 * something else than a certificate. */
static void
test_anchors_bundle(void **state)
{
	struct chain_anchors *a;
	char *pem = NULL;

	(void)state;
	pem = cats(pem, "# Mozilla roots, more or less\n\n");
	pem = catf(pem, "chain/rsa-root.pem");
	pem = cats(pem, "junk between\r\n"
		   "-----BEGIN PRIVATE KEY-----\nAAAA\n"
		   "-----END PRIVATE KEY-----\n"
		   "-----BEGIN CERTIFICATE-----\n"
		   "aGVsbG8sIEkgYW0gbm90IGEgY2VydGlmaWNhdGU=\n"
		   "-----END CERTIFICATE-----\n");
	pem = catf(pem, "chain/ec-evil-root.pem");
	pem = cats(pem, "\n\n");
	pem = catf(pem, "chain/root.pem");
	pem = cats(pem, "trailing text, no newline");
	a = chain_anchors_load(pem);
	free(pem);
	assert_non_null(a);
	assert_true(reaches(a, RSA_LEAF, RSA_INTER, END));
	assert_true(reaches(a, C_LEAF, C_I2, C_I1, END));
	assert_true(reaches(a, C_LEAF, C_I2, C_I1, C_ROOT, END));
	assert_true(reaches(a, FORGED, END));
	assert_false(reaches(a, C_LEAF, C_I2, END));
	assert_false(reaches(a, EC_INTER, EC_ROOT, END));
	chain_anchors_free(a);
}

/* One damaged block in a bundle (bad base64, or a file cut short inside
 * its last block): that certificate is lost, the others still anchor
 * ("certificates that do not parse are skipped"). wolfSSL loads such a
 * bundle, so anchors that came out empty would refuse every strict chain
 * that wolfSSL verified. */
static void
test_anchors_bundle_damaged_block(void **state)
{
	static const struct {
		const char *what, *pem;
	} damage[] = {
		{ "a block of bad base64", "-----BEGIN CERTIFICATE-----\n"
		  "MIIB!!!! this line is not base64 ****\n"
		  "-----END CERTIFICATE-----\n" },
		{ "a bundle cut short", "-----BEGIN CERTIFICATE-----\n"
		  "MIIBqTCCAVCgAwIBAgIUSFF66Pg5" },
	};
	char failed[256] = "";
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		struct chain_anchors *a;
		char *pem = NULL;
		bool ok;

		pem = catf(pem, "chain/rsa-root.pem");
		pem = catf(pem, "chain/ec-root.pem");
		pem = cats(pem, damage[i].pem);
		a = chain_anchors_load(pem);
		free(pem);
		assert_non_null(a);
		ok = reaches(a, EC_LEAF, EC_INTER, END) &&
		     reaches(a, RSA_LEAF, RSA_INTER, END);
		chain_anchors_free(a);
		if (!ok)
			snprintf(failed + strlen(failed),
				 sizeof(failed) - strlen(failed), "%s%s",
				 failed[0] != '\0' ? ", " : "", damage[i].what);
	}
	if (failed[0] != '\0')
		fail_msg("the good roots of a bundle with damage anchor "
			 "nothing: %s", failed);
}

/* ---------------------------------------------------------- self-issued */

static void
test_self_issued(void **state)
{
	static const struct {
		int i;
		bool self;
	} t[] = {
		{ EC_ROOT, true }, { RSA_ROOT, true }, { C_ROOT, true },
		{ EVIL, true }, { EC_INTER, false }, { EC_LEAF, false },
		{ C_I1, false }, { C_LEAF, false }, { FORGED, false },
		{ JUNK, false },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct chain_cert c = { certs[t[i].i].der, certs[t[i].i].len };

		if (chain_self_issued(&c) != t[i].self)
			fail_msg("%s: self-issued should be %d",
				 t[i].i == JUNK ? "junk" : files[t[i].i],
				 t[i].self);
	}
}

/* ----------------------------------------------------------------- SPKI */

/* The pin is what `openssl x509 -pubkey | openssl pkey -pubin -outform
 * der | sha256` gives, for every key type. */
static void
test_spki_pin(void **state)
{
	uint8_t out[CHAIN_PIN_LEN];
	unsigned int i;

	(void)state;
	for (i = 0; i < NB_CERTS; i++) {
		if (i == JUNK)
			continue;
		memset(out, 0xa5, sizeof(out));
		assert_int_equal(chain_spki_pin(certs[i].der, certs[i].len,
						out), 0);
		if (memcmp(out, certs[i].pin, CHAIN_PIN_LEN) != 0)
			fail_msg("%s: SPKI pin differs from openssl's",
				 files[i]);
	}
	/* Distinct keys, distinct pins (the leaf is not its issuer). */
	assert_memory_not_equal(certs[EC_LEAF].pin, certs[EC_INTER].pin,
				CHAIN_PIN_LEN);
	assert_memory_not_equal(certs[FORGED].pin, certs[EVIL].pin,
				CHAIN_PIN_LEN);
	assert_int_equal(chain_spki_pin(certs[JUNK].der, certs[JUNK].len, out),
			 -EINVAL);
	assert_int_equal(chain_spki_pin(certs[EC_LEAF].der, 40, out), -EINVAL);
}

/* ---------------------------------------------------------------- files */

static void
test_read_file_missing(void **state)
{
	char *pem = (char *)"untouched";

	(void)state;
	assert_int_equal(chain_read_file(path("no/such/bundle.crt"), &pem),
			 -ENOENT);
	assert_null(pem);
	pem = (char *)"untouched";
	/* A directory opens but does not read. */
	assert_true(chain_read_file(dir, &pem) < 0);
	assert_null(pem);
}

/* Files of every size around the reader's 256 KiB steps come back whole,
 * byte for byte, NUL-terminated. */
static void
test_read_file_sizes(void **state)
{
	static const size_t sizes[] = {
		0, 1, 65535, 196607, 196608, 262143, 262144, 262145, 600001,
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *want = malloc(sizes[i] + 1), *got = NULL;
		const char *p = path("chain/sized.txt");
		FILE *f;
		size_t k;

		assert_non_null(want);
		for (k = 0; k < sizes[i]; k++)
			want[k] = k % 64 == 63 ? '\n' : (char)('A' + k % 26);
		want[sizes[i]] = '\0';
		f = fopen(p, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(want, 1, sizes[i], f), sizes[i]);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(chain_read_file(p, &got), 0);
		assert_non_null(got);
		if (strlen(got) != sizes[i] || memcmp(got, want, sizes[i]) != 0)
			fail_msg("a %zu-byte file came back as %zu bytes",
				 sizes[i], strlen(got));
		free(got);
		free(want);
	}
}

/* A bundle whose only root sits past the first 256 KiB (Debian's is
 * about 200 KiB and growing): read whole, it still anchors. */
static void
test_read_file_big_bundle(void **state)
{
	const char *p = path("chain/big-bundle.crt");
	struct chain_anchors *a;
	char *root, *pem = NULL;
	size_t len, k;
	FILE *f;

	(void)state;
	root = (char *)slurp(path("chain/ec-root.pem"), &len);
	assert_non_null(root);
	f = fopen(p, "wb");
	assert_non_null(f);
	for (k = 0; k < 6000; k++)
		fprintf(f, "# filler line %05zu, not a certificate at all\n", k);
	assert_int_equal(fwrite(root, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(root);

	assert_int_equal(chain_read_file(p, &pem), 0);
	assert_non_null(pem);
	assert_true(strlen(pem) > 256 * 1024);
	assert_non_null(strstr(pem, "-----END CERTIFICATE-----"));
	a = chain_anchors_load(pem);
	free(pem);
	assert_non_null(a);
	assert_true(reaches(a, EC_LEAF, EC_INTER, END));
	chain_anchors_free(a);
}

/* ------------------------------------------------------------ CHAIN_MAX */

/* Only the first CHAIN_MAX certificates are looked at: deepleaf, deep9
 * .. deep1 fill them, deep0 (the root) is the eleventh. */
static void
test_chain_max(void **state)
{
	struct chain_anchors *d0 = anchors_of("chain/deep0.pem");
	struct chain_cert c[CHAIN_MAX + 1];
	unsigned int bad, n;

	(void)state;
	n = chain(c, DLEAF, D9, D8, D7, D6, D5, D4, D3, D2, D1, D0, END);
	assert_int_equal(n, CHAIN_MAX + 1);
	assert_int_equal(chain_in_order(c, n, &bad), 0);
	/* The last certificate looked at, deep1, is issued by an anchor. */
	assert_true(chain_reaches_anchor(c, n, d0));
	assert_true(chain_reaches_anchor(c, n - 1, d0));
	assert_false(chain_reaches_anchor(c, n - 2, d0));

	/* Out of order, or not a certificate, past CHAIN_MAX: not looked
	 * at. */
	chain(&c[CHAIN_MAX], RSA_ROOT, END);
	assert_int_equal(chain_in_order(c, n, &bad), 0);
	chain(&c[CHAIN_MAX], JUNK, END);
	assert_int_equal(chain_in_order(c, n, &bad), 0);
	assert_true(chain_reaches_anchor(c, n, d0));

	/* The last place inside is checked. */
	chain(&c[CHAIN_MAX], D0, END);
	chain(&c[CHAIN_MAX - 1], RSA_ROOT, END);
	bad = 99;
	assert_int_equal(chain_in_order(c, n, &bad), -EBADMSG);
	assert_int_equal(bad, CHAIN_MAX - 2);
	chain(&c[CHAIN_MAX - 1], JUNK, END);
	bad = 99;
	assert_int_equal(chain_in_order(c, n, &bad), -EINVAL);
	assert_int_equal(bad, CHAIN_MAX - 1);
	assert_false(chain_reaches_anchor(c, n, d0));
	chain(&c[CHAIN_MAX - 1], D1, END);

	/* A pin on the last certificate looked at vouches through nine real
	 * signatures; one on the root, just past CHAIN_MAX, does not,
	 * though it would in a shorter chain. */
	assert_int_equal(chain_pinned(c, n,
			 (const uint8_t (*)[CHAIN_PIN_LEN])certs[D1].pin, 1), 0);
	assert_int_equal(chain_pinned(c, n,
			 (const uint8_t (*)[CHAIN_PIN_LEN])certs[D0].pin, 1),
			 -EPERM);
	assert_int_equal(pinned_by(D0, D3, D2, D1, D0, END), 0);
	chain_anchors_free(d0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_in_order_unparsable),
		cmocka_unit_test(test_pinned_leaf),
		cmocka_unit_test(test_pinned_intermediate),
		cmocka_unit_test(test_pinned_not_signed),
		cmocka_unit_test(test_pinned_nothing),
		cmocka_unit_test(test_reaches_anchor),
		cmocka_unit_test(test_anchors_bundle),
		cmocka_unit_test(test_anchors_bundle_damaged_block),
		cmocka_unit_test(test_self_issued),
		cmocka_unit_test(test_spki_pin),
		cmocka_unit_test(test_read_file_missing),
		cmocka_unit_test(test_read_file_sizes),
		cmocka_unit_test(test_read_file_big_bundle),
		cmocka_unit_test(test_chain_max),
	};

	return cmocka_run_group_tests_name("crypto_chain", tests, group_setup,
					   group_teardown);
}

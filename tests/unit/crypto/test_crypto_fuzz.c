/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seeded mutation test of the hand-written DER parsing behind
 * cert_validate, truststore_validate, ocsp_check_response and
 * ocsp_build_request. Real inputs from mkcerts.sh (a chain, its key, a
 * CRL, OCSP responses) are mutated a few thousand times with a fixed seed:
 * bit flips, bytes set to 0x00/0x80/0xff, truncations, inflated length
 * bytes, duplicated and deleted chunks. Every call must answer 0 or -errno
 * with a printable sentence, and a mutation of signed bytes must never be
 * accepted. FUZZ_SEED and FUZZ_ROUNDS (a multiplier) widen a local run;
 * the default run is the same every time.
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
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "crypto/cert.h"
#include "crypto/ocsp.h"
#include "pki.h"

#define NO_BUNDLE "/nonexistent/ca-bundle.crt"
#define MAX_BLOBS 4
#define MAX_HDRS 512

static char dir[64];
static time_t now;
static uint64_t seed = 0x5eed0fda7ab1e5ULL;
static unsigned int rounds = 1;
static char err[512];

/* splitmix64: small, and the same sequence on every platform */
static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
rnd_below(size_t n)
{
	return n == 0 ? 0 : (size_t)(rnd() % n);
}

struct buf {
	uint8_t *p;
	size_t len;
};

/* One DER input: the original, where its TLV headers are, and the range
 * of bytes a signature covers (the part no mutation may get past). */
struct input {
	struct buf der;
	size_t hdrs[MAX_HDRS];
	unsigned int n_hdrs;
	size_t signed_off, signed_len;
};

static char *
slurp(const char *rel, size_t *len)
{
	char p[256];
	FILE *f;
	char *buf;
	long n;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

/* The DER of each "-----BEGIN label-----" block of pem, in order. */
static unsigned int
pem_blocks(const char *pem, const char *label, struct buf *out,
	   unsigned int max)
{
	char begin[64], end[64];
	unsigned int n = 0;
	const char *p = pem;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	while (n < max && (p = strstr(p, begin)) != NULL) {
		const char *e = strstr(p, end);
		uint32_t acc = 0;
		int bits = 0;

		assert_non_null(e);
		out[n].p = malloc((size_t)(e - p));
		assert_non_null(out[n].p);
		out[n].len = 0;
		for (p += strlen(begin); p < e; p++) {
			int v = b64_val(*p);

			if (v < 0)
				continue;
			acc = (acc << 6) | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				out[n].p[out[n].len++] = (uint8_t)(acc >> bits);
			}
		}
		n++;
		p = e;
	}
	return n;
}

/* Append blob as a PEM block to *pem (NUL-terminated, grown). */
static void
pem_append(char **pem, size_t *len, const char *label, const struct buf *b)
{
	size_t cap = *len + b->len / 3 * 4 + b->len / 48 + 128 + 2 * strlen(label);
	char *o = realloc(*pem, cap), *w;
	size_t col = 0;

	assert_non_null(o);
	w = o + *len;
	w += sprintf(w, "-----BEGIN %s-----\n", label);
	for (size_t i = 0; i < b->len; i += 3) {
		uint32_t v = (uint32_t)b->p[i] << 16;
		size_t left = b->len - i;

		if (left > 1)
			v |= (uint32_t)b->p[i + 1] << 8;
		if (left > 2)
			v |= b->p[i + 2];
		*w++ = b64[(v >> 18) & 63];
		*w++ = b64[(v >> 12) & 63];
		*w++ = left > 1 ? b64[(v >> 6) & 63] : '=';
		*w++ = left > 2 ? b64[v & 63] : '=';
		if ((col += 4) == 64) {
			*w++ = '\n';
			col = 0;
		}
	}
	if (col)
		*w++ = '\n';
	w += sprintf(w, "-----END %s-----\n", label);
	*len = (size_t)(w - o);
	*pem = o;
}

/* Header offsets of every TLV inside [p, p+len), descending into
 * constructed elements and into OCTET/BIT STRINGs that hold DER. */
static bool
walk(struct input *in, size_t off, size_t len, int depth)
{
	const uint8_t *p = in->der.p;
	size_t end = off + len;

	while (off < end) {
		size_t l, h = 2;

		if (end - off < 2 || depth > 16)
			return false;
		l = p[off + 1];
		if (l & 0x80) {
			size_t nb = l & 0x7f;

			if (nb == 0 || nb > 4 || end - off < 2 + nb)
				return false;
			l = 0;
			for (size_t i = 0; i < nb; i++)
				l = (l << 8) | p[off + 2 + i];
			h += nb;
		}
		if (l > end - off - h)
			return false;
		if (in->n_hdrs < MAX_HDRS)
			in->hdrs[in->n_hdrs++] = off;
		if (p[off] & 0x20) {
			if (!walk(in, off + h, l, depth + 1))
				return false;
		} else if (p[off] == 0x04 && l > 2) {
			unsigned int saved = in->n_hdrs;

			if (!walk(in, off + h, l, depth + 1))
				in->n_hdrs = saved;
		}
		off += h + l;
	}
	return true;
}

/* Offset and length (whole TLV) of the element reached by following
 * path: each step is the index of the child to enter, the last one the
 * element itself. Steps past an OCTET STRING look inside it. */
static void
locate(const struct buf *d, const unsigned int *path, unsigned int n,
       size_t *out_off, size_t *out_len)
{
	size_t off = 0, end = d->len;

	for (unsigned int s = 0; s < n; s++) {
		for (unsigned int i = 0;; i++) {
			size_t l = d->p[off + 1], h = 2;

			if (l & 0x80) {
				size_t nb = l & 0x7f;

				l = 0;
				for (size_t k = 0; k < nb; k++)
					l = (l << 8) | d->p[off + 2 + k];
				h += nb;
			}
			assert_true(off + h + l <= end);
			if (i == path[s]) {
				if (s + 1 == n) {
					*out_off = off;
					*out_len = h + l;
					return;
				}
				end = off + h + l;
				off += h;
				break;
			}
			off += h + l;
		}
	}
}

static void
input_init(struct input *in, struct buf der, const unsigned int *signed_path,
	   unsigned int n)
{
	memset(in, 0, sizeof(*in));
	in->der = der;
	assert_true(walk(in, 0, der.len, 0));
	assert_true(in->n_hdrs > 4);
	if (n > 0)
		locate(&der, signed_path, n, &in->signed_off, &in->signed_len);
}

static void
buf_insert(struct buf *b, size_t at, const uint8_t *src, size_t n)
{
	uint8_t *p = realloc(b->p, b->len + n + 1);

	assert_non_null(p);
	memmove(p + at + n, p + at, b->len - at);
	memcpy(p + at, src, n);
	b->p = p;
	b->len += n;
}

/* One mutation of b, whose TLV headers the original had at in->hdrs. */
static void
mutate_once(struct buf *b, const struct input *in)
{
	static const uint8_t special[] = { 0x00, 0x80, 0xff };
	size_t i, k;

	if (b->len == 0)
		return;
	i = rnd_below(b->len);
	switch (rnd_below(8)) {
	case 0:
		b->p[i] ^= (uint8_t)(1u << rnd_below(8));
		break;
	case 1:
		b->p[i] = special[rnd_below(3)];
		break;
	case 2:
		b->len = i;
		break;
	case 3:
	case 4: {
		/* a length byte inflated, made indefinite or over-long */
		size_t h = in->hdrs[rnd_below(in->n_hdrs)] + 1;
		uint8_t l;

		if (h >= b->len)
			break;
		l = b->p[h];
		switch (rnd_below(4)) {
		case 0:
			if (l < 0x80)
				b->p[h] = (uint8_t)(l + 1 + rnd_below(4));
			else if (h + 1 < b->len)
				b->p[h + 1]++;
			break;
		case 1:
			b->p[h] = 0x80;
			break;
		case 2:
			b->p[h] = (uint8_t)(0x85 + rnd_below(3));
			break;
		default:
			if (l & 0x80 && h + 1 < b->len)
				b->p[h + 1] = 0xff;
			else
				b->p[h] = 0x7f;
			break;
		}
		break;
	}
	case 5:
	case 6: {
		uint8_t chunk[64];

		k = 1 + rnd_below(b->len - i < 64 ? b->len - i : 64);
		memcpy(chunk, b->p + i, k);
		buf_insert(b, i + k, chunk, k);
		break;
	}
	default:
		k = 1 + rnd_below(b->len - i < 64 ? b->len - i : 64);
		memmove(b->p + i, b->p + i + k, b->len - i - k);
		b->len -= k;
		break;
	}
}

static struct buf
mutant(const struct input *in)
{
	struct buf b = { malloc(in->der.len + 1), in->der.len };
	unsigned int n = 1 + (unsigned int)rnd_below(3);

	assert_non_null(b.p);
	memcpy(b.p, in->der.p, in->der.len);
	while (n--)
		mutate_once(&b, in);
	return b;
}

/* Are the signed bytes still there, unchanged? (A deletion in front of
 * them may move them and still leave something that parses: a PKCS#8
 * key that lost its wrapper is a SEC1 key.) */
static bool
signed_intact(const struct input *in, const struct buf *b)
{
	return memmem(b->p, b->len, in->der.p + in->signed_off,
		      in->signed_len) != NULL;
}

/* Printable, valid UTF-8, one line: what reaches JSON and a terminal. */
static bool
clean_text(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;

	while (*p) {
		size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 :
			   (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;

		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)) ||
		    (n == 2 && *p < 0xc2))
			return false;
		for (size_t i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += n;
	}
	return true;
}

/* The contract every call keeps, whatever it was given. */
static void
check_answer(const char *what, int rc, unsigned long iter)
{
	if (rc == 0)
		return;
	if (rc >= 0 || rc < -4095)
		fail_msg("%s iteration %lu: returned %d", what, iter, rc);
	if (err[0] == '\0')
		fail_msg("%s iteration %lu: returned %d without a sentence",
			 what, iter, rc);
	if (!clean_text(err))
		fail_msg("%s iteration %lu: unprintable sentence \"%s\"", what,
			 iter, err);
}

static char *
chain_pem(const struct buf *blobs, unsigned int n, const char *label)
{
	char *pem = calloc(1, 1);
	size_t len = 0;

	assert_non_null(pem);
	for (unsigned int i = 0; i < n; i++)
		pem_append(&pem, &len, label, &blobs[i]);
	return pem;
}

/* Shared state: the PKI's inputs, parsed once. */
struct corpus {
	char *ec_chain_pem, *rsa_chain_pem, *ca_pem;
	struct buf ec_blobs[MAX_BLOBS], rsa_blobs[MAX_BLOBS], ca_blobs[MAX_BLOBS];
	unsigned int n_ec, n_rsa, n_ca;
	struct input ec_certs[MAX_BLOBS], rsa_certs[MAX_BLOBS];
	struct input ec_key, rsa_key, crl, ocsp_good, ocsp_delegated;
	struct ocsp_result good_res, delegated_res;
};

static struct corpus cp;

static void
rng_reset(unsigned int stream)
{
	rng_state = seed ^ ((uint64_t)stream << 48);
}

static unsigned long
iters(unsigned long base)
{
	return base * rounds;
}

static struct buf
file_der(const char *rel)
{
	struct buf b;
	char *raw = slurp(rel, &b.len);

	b.p = (uint8_t *)raw;
	return b;
}

static struct buf
pem_file_der(const char *rel, const char *label)
{
	struct buf b;
	char *pem = slurp(rel, NULL);

	assert_int_equal(pem_blocks(pem, label, &b, 1), 1);
	free(pem);
	return b;
}

static int
group_setup(void **state)
{
	/* Certificate: SEQ { tbs, alg, sig }; the tbs is child 0 of 0 */
	static const unsigned int cert_tbs[] = { 0, 0 };
	/* OCSPResponse: SEQ { status, [0] { SEQ { oid, OCTET { SEQ {
	 * tbsResponseData ... } } } } } */
	static const unsigned int ocsp_tbs[] = { 0, 1, 0, 1, 0, 0 };
	/* PKCS#8: SEQ { 0, alg, OCTET { SEQ { 1, OCTET d, ... } } } */
	static const unsigned int ec_scalar[] = { 0, 2, 0, 1 };
	static const unsigned int crl_tbs[] = { 0, 0 };
	const char *e;
	char *pem;

	(void)state;
	if ((e = getenv("FUZZ_SEED")) != NULL)
		seed = strtoull(e, NULL, 0);
	if ((e = getenv("FUZZ_ROUNDS")) != NULL && atoi(e) > 0)
		rounds = (unsigned int)atoi(e);
	if (pki_make(dir, sizeof(dir), "rampart-fuzz") == NULL)
		return -1;
	if (crypto_init() != 0)
		return -1;
	now = time(NULL);

	cp.ec_chain_pem = slurp("ec/leaf-chain.pem", NULL);
	cp.n_ec = pem_blocks(cp.ec_chain_pem, "CERTIFICATE", cp.ec_blobs, MAX_BLOBS);
	for (unsigned int i = 0; i < cp.n_ec; i++)
		input_init(&cp.ec_certs[i], cp.ec_blobs[i], cert_tbs, 2);
	cp.rsa_chain_pem = slurp("rsa/leaf-chain.pem", NULL);
	cp.n_rsa = pem_blocks(cp.rsa_chain_pem, "CERTIFICATE", cp.rsa_blobs, MAX_BLOBS);
	for (unsigned int i = 0; i < cp.n_rsa; i++)
		input_init(&cp.rsa_certs[i], cp.rsa_blobs[i], cert_tbs, 2);
	/* the trust store: the EC intermediate and root */
	cp.n_ca = cp.n_ec - 1;
	memcpy(cp.ca_blobs, cp.ec_blobs + 1, cp.n_ca * sizeof(cp.ca_blobs[0]));
	cp.ca_pem = chain_pem(cp.ca_blobs, cp.n_ca, "CERTIFICATE");

	input_init(&cp.ec_key, pem_file_der("ec/leaf.key", "PRIVATE KEY"),
		   ec_scalar, 4);
	/* the scalar's value, not its OCTET STRING header */
	assert_int_equal(cp.ec_key.signed_len, 2 + 32);
	cp.ec_key.signed_off += 2;
	cp.ec_key.signed_len -= 2;
	input_init(&cp.rsa_key, pem_file_der("rsa/leaf-pkcs1.key",
					     "RSA PRIVATE KEY"), NULL, 0);
	input_init(&cp.crl, pem_file_der("ec/crl.pem", "X509 CRL"), crl_tbs, 2);
	input_init(&cp.ocsp_good, file_der("ec/leaf-good.resp"), ocsp_tbs, 6);
	input_init(&cp.ocsp_delegated, file_der("ec/leaf-delegated.resp"),
		   ocsp_tbs, 6);
	pem = cp.ec_chain_pem;
	if (cp.n_ec != 3 || cp.n_rsa != 3 ||
	    ocsp_check_response(pem, cp.ocsp_good.der.p, cp.ocsp_good.der.len,
				now, &cp.good_res, err, sizeof(err)) != 0 ||
	    ocsp_check_response(pem, cp.ocsp_delegated.der.p,
				cp.ocsp_delegated.der.len, now,
				&cp.delegated_res, err, sizeof(err)) != 0) {
		fprintf(stderr, "the unmutated inputs are refused: %s\n", err);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < cp.n_ec; i++)
		free(cp.ec_blobs[i].p);
	for (unsigned int i = 0; i < cp.n_rsa; i++)
		free(cp.rsa_blobs[i].p);
	free(cp.ec_chain_pem);
	free(cp.rsa_chain_pem);
	free(cp.ca_pem);
	free(cp.ec_key.der.p);
	free(cp.rsa_key.der.p);
	free(cp.crl.der.p);
	free(cp.ocsp_good.der.p);
	free(cp.ocsp_delegated.der.p);
	crypto_fini();
	pki_remove(dir);
	return 0;
}

static int
validate(const char *chain, const char *key, unsigned long iter)
{
	struct cert_info info;
	int rc;

	err[0] = '\0';
	rc = cert_validate(chain, key, NULL, NO_BUNDLE, now, &info, err,
			   sizeof(err));
	check_answer("cert_validate", rc, iter);
	if (rc == 0) {
		if (strlen(info.fingerprint) != 64 || !clean_text(info.subject) ||
		    !clean_text(info.issuer) || !clean_text(info.ocsp_url))
			fail_msg("cert_validate iteration %lu: accepted with a broken summary",
				 iter);
		cert_info_free(&info);
	}
	return rc;
}

/* A chain with one certificate mutated (sometimes its PEM text instead):
 * cert_validate, and the OCSP request and check that read the same PEM. */
static void
fuzz_chain(const struct input *certs, unsigned int n, const char *key_rel,
	   unsigned int stream, unsigned long count)
{
	char *key = slurp(key_rel, NULL);

	rng_reset(stream);
	for (unsigned long it = 0; it < count; it++) {
		struct buf blobs[MAX_BLOBS];
		unsigned int victim = (unsigned int)rnd_below(n);
		bool intact = true, leaf_intact, pem_level = false;
		uint8_t *req = NULL;
		size_t req_len = 0;
		struct ocsp_result res;
		char *pem;
		int rc;

		for (unsigned int i = 0; i < n; i++)
			blobs[i] = certs[i].der;
		blobs[victim] = mutant(&certs[victim]);
		intact = signed_intact(&certs[victim], &blobs[victim]);
		leaf_intact = victim != 0 || intact;
		pem = chain_pem(blobs, n, "CERTIFICATE");
		if (rnd_below(8) == 0) {
			/* the PEM framing itself */
			struct buf t = { (uint8_t *)pem, strlen(pem) };
			struct input ti = { .der = t, .n_hdrs = 1 };

			mutate_once(&t, &ti);
			t.p[t.len] = '\0';
			pem = (char *)t.p;
			pem_level = true;
		}

		rc = validate(pem, key, it);
		/* a PEM-level mutation may change nothing that decodes */
		if (rc == 0 && !pem_level && !intact)
			fail_msg("cert_validate iteration %lu: accepted certificate %u with its signed bytes changed",
				 it, victim + 1);

		err[0] = '\0';
		rc = ocsp_build_request(pem, &req, &req_len, err, sizeof(err));
		check_answer("ocsp_build_request", rc, it);
		if (rc == 0)
			assert_true(req != NULL && req_len > 0);
		free(req);

		if (certs == cp.ec_certs) {
			err[0] = '\0';
			rc = ocsp_check_response(pem, cp.ocsp_good.der.p,
						 cp.ocsp_good.der.len, now, &res,
						 err, sizeof(err));
			check_answer("ocsp_check_response", rc, it);
			if (rc == 0 && !pem_level && !leaf_intact)
				fail_msg("ocsp_check_response iteration %lu: vouched for a leaf whose signed bytes changed",
					 it);
		}
		free(pem);
		free(blobs[victim].p);
	}
	free(key);
}

static void
test_fuzz_ec_chain(void **state)
{
	(void)state;
	fuzz_chain(cp.ec_certs, cp.n_ec, "ec/leaf.key", 1, iters(900));
}

static void
test_fuzz_rsa_chain(void **state)
{
	(void)state;
	fuzz_chain(cp.rsa_certs, cp.n_rsa, "rsa/leaf.key", 2, iters(250));
}

static void
fuzz_key(const struct input *key, const char *label, const char *chain,
	 unsigned int stream, unsigned long count)
{
	rng_reset(stream);
	for (unsigned long it = 0; it < count; it++) {
		struct buf m = mutant(key);
		char *pem = calloc(1, 1);
		size_t len = 0;
		int rc;

		assert_non_null(pem);
		pem_append(&pem, &len, label, &m);
		rc = validate(chain, pem, it);
		/* the private scalar is what the key is; the rest is framing */
		if (rc == 0 && key->signed_len > 0 && !signed_intact(key, &m))
			fail_msg("cert_validate iteration %lu: accepted a private key whose scalar changed",
				 it);
		free(pem);
		free(m.p);
	}
}

static void
test_fuzz_keys(void **state)
{
	(void)state;
	fuzz_key(&cp.ec_key, "PRIVATE KEY", cp.ec_chain_pem, 3, iters(500));
	fuzz_key(&cp.rsa_key, "RSA PRIVATE KEY", cp.rsa_chain_pem, 4,
		 iters(150));
}

/*
 * A key file that carries the leaf's public key next to a private scalar
 * that is not its own: the public halves agree, only a signature shows the
 * key cannot serve the certificate.
 */
static void
test_key_with_borrowed_public_key(void **state)
{
	struct buf m = { malloc(cp.ec_key.der.len), cp.ec_key.der.len };
	char *pem = calloc(1, 1);
	size_t len = 0;

	(void)state;
	assert_non_null(m.p);
	assert_non_null(pem);
	memcpy(m.p, cp.ec_key.der.p, m.len);
	/* last byte of the 32-byte scalar: still a valid P-256 scalar */
	m.p[cp.ec_key.signed_off + cp.ec_key.signed_len - 1] ^= 0x01;
	pem_append(&pem, &len, "PRIVATE KEY", &m);
	assert_int_equal(validate(cp.ec_chain_pem, pem, 0), -EINVAL);
	if (strstr(err, "does not match the leaf certificate") == NULL)
		fail_msg("unexpected refusal \"%s\"", err);
	free(pem);
	free(m.p);
}

static void
test_fuzz_truststore(void **state)
{
	(void)state;
	rng_reset(5);
	for (unsigned long it = 0; it < iters(700); it++) {
		struct buf m = mutant(&cp.crl);
		char *pem = calloc(1, 1);
		unsigned int n_cas = 0, n_revoked = 0;
		size_t len = 0;
		int rc;

		assert_non_null(pem);
		pem_append(&pem, &len, "X509 CRL", &m);
		err[0] = '\0';
		rc = truststore_validate(cp.ca_pem, pem, now, &n_cas, &n_revoked,
					 err, sizeof(err));
		check_answer("truststore_validate", rc, it);
		if (rc == 0 && !signed_intact(&cp.crl, &m))
			fail_msg("truststore_validate iteration %lu: accepted a CRL whose signed bytes changed",
				 it);
		if (rc == 0 && (n_cas != 2 || n_revoked != 1))
			fail_msg("truststore_validate iteration %lu: %u CAs, %u revoked",
				 it, n_cas, n_revoked);
		free(pem);
		free(m.p);
	}
	/* and the CA certificates themselves */
	rng_reset(6);
	for (unsigned long it = 0; it < iters(300); it++) {
		struct buf blobs[MAX_BLOBS];
		unsigned int victim = (unsigned int)rnd_below(cp.n_ca);
		const struct input *in = &cp.ec_certs[victim + 1];
		char *pem, *crl = slurp("ec/crl.pem", NULL);
		int rc;

		memcpy(blobs, cp.ca_blobs, sizeof(blobs[0]) * cp.n_ca);
		blobs[victim] = mutant(in);
		pem = chain_pem(blobs, cp.n_ca, "CERTIFICATE");
		err[0] = '\0';
		rc = truststore_validate(pem, rnd_below(2) ? crl : NULL, now,
					 NULL, NULL, err, sizeof(err));
		check_answer("truststore_validate", rc, it);
		free(crl);
		free(pem);
		free(blobs[victim].p);
	}
}

static void
fuzz_ocsp(const struct input *in, const struct ocsp_result *want,
	  unsigned int stream, unsigned long count)
{
	rng_reset(stream);
	for (unsigned long it = 0; it < count; it++) {
		struct buf m = mutant(in);
		struct ocsp_result res;
		int rc;

		err[0] = '\0';
		rc = ocsp_check_response(cp.ec_chain_pem, m.p, m.len, now, &res,
					 err, sizeof(err));
		check_answer("ocsp_check_response", rc, it);
		if (rc == 0 && !signed_intact(in, &m))
			fail_msg("ocsp_check_response iteration %lu: accepted a response whose tbsResponseData changed",
				 it);
		if (rc == 0 && memcmp(&res, want, sizeof(res)) != 0)
			fail_msg("ocsp_check_response iteration %lu: accepted with another verdict",
				 it);
		free(m.p);
	}
}

static void
test_fuzz_ocsp_issuer_signed(void **state)
{
	(void)state;
	fuzz_ocsp(&cp.ocsp_good, &cp.good_res, 7, iters(1500));
}

static void
test_fuzz_ocsp_delegated(void **state)
{
	(void)state;
	fuzz_ocsp(&cp.ocsp_delegated, &cp.delegated_res, 8, iters(700));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_ec_chain),
		cmocka_unit_test(test_fuzz_rsa_chain),
		cmocka_unit_test(test_fuzz_keys),
		cmocka_unit_test(test_key_with_borrowed_public_key),
		cmocka_unit_test(test_fuzz_truststore),
		cmocka_unit_test(test_fuzz_ocsp_issuer_signed),
		cmocka_unit_test(test_fuzz_ocsp_delegated),
	};

	return cmocka_run_group_tests_name("crypto_fuzz", tests, group_setup,
					   group_teardown);
}

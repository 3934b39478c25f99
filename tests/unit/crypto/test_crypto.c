/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The crypto module against a real PKI made by the openssl CLI in a fresh
 * temporary directory (mkcerts.sh): certificate import checks and their
 * sentences, SAN wildcard rules, trust stores with CRLs, sealing secrets
 * and the master key file, OCSP requests answered by `openssl ocsp` and
 * responses from the issuer, a delegated responder and impostors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/cert.h"
#include "crypto/ocsp.h"
#include "crypto/seal.h"
#include "pki.h"

#define DAY (24 * 3600)
#define NO_BUNDLE "/nonexistent/ca-bundle.crt"

static char dir[64];
static const char *mkcerts;
static char err[512];

static char *
path(const char *rel)
{
	static char buf[4][256];
	static int n;
	char *p = buf[n++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, rel);
	return p;
}

/* Whole file, NUL-terminated; *len without the NUL. */
static char *
slurp_len(const char *rel, size_t *len)
{
	FILE *f = fopen(path(rel), "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
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

static char *
slurp(const char *rel)
{
	return slurp_len(rel, NULL);
}

/* Concatenate PEM files into one chain. */
static char *
cat(int n, ...)
{
	va_list ap;
	char *out = calloc(1, 1);
	size_t len = 0;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		char *part = slurp(va_arg(ap, const char *));
		size_t pl = strlen(part);

		out = realloc(out, len + pl + 1);
		assert_non_null(out);
		memcpy(out + len, part, pl + 1);
		len += pl;
		free(part);
	}
	va_end(ap);
	return out;
}

static int
group_setup(void **state)
{
	(void)state;
	mkcerts = pki_make(dir, sizeof(dir), "rampart-crypto");
	if (mkcerts == NULL)
		return -1;
	return crypto_init();
}

static int
group_teardown(void **state)
{
	(void)state;
	crypto_fini();
	pki_remove(dir);
	return 0;
}

/* cert_validate with files from the PKI; returns its result, sentence in
 * err, info released unless keep. */
static int
validate(const char *chain, const char *key, const char *extra,
	 const char *bundle, time_t now, struct cert_info *keep)
{
	struct cert_info info;
	char *c = slurp(chain), *k = slurp(key), *x = extra ? slurp(extra) : NULL;
	int ret;

	err[0] = '\0';
	ret = cert_validate(c, k, x, bundle ? bundle : NO_BUNDLE, now, &info,
			    err, sizeof(err));
	if (ret == 0 && keep)
		*keep = info;
	else if (ret == 0)
		cert_info_free(&info);
	free(c);
	free(k);
	free(x);
	return ret;
}

static void
assert_err_has(const char *words)
{
	if (strstr(err, words) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", words, err);
}

static void
test_ec_chain_accepted(void **state)
{
	struct cert_info info;
	char fp[128], *p;
	FILE *f;
	size_t n = 0;

	(void)state;
	assert_int_equal(validate("ec/leaf-chain.pem", "ec/leaf.key", NULL,
				  NULL, time(NULL), &info), 0);
	assert_int_equal(info.key_kind, CERT_KEY_ECDSA);
	assert_int_equal(info.key_bits, 256);
	assert_string_equal(info.key_type, "ECDSA P-256");
	assert_string_equal(info.subject, "CN=shop.example.com, O=Rampart Test");
	assert_string_equal(info.issuer, "CN=Test EC Intermediate, O=Rampart Test");
	/* DNS names only (the IP and e-mail SANs are not hosts), lower-case */
	assert_int_equal(info.n_sans, 2);
	assert_string_equal(info.sans[0], "shop.example.com");
	assert_string_equal(info.sans[1], "*.cdn.example.com");
	assert_string_equal(info.ocsp_url, "http://127.0.0.1:8888/ocsp");
	assert_int_equal(info.chain_len, 3);
	assert_int_equal(info.not_after - info.not_before, 30 * DAY);
	assert_true(info.not_before <= time(NULL));

	/* the fingerprint users compare with `openssl x509 -fingerprint` */
	snprintf(fp, sizeof(fp),
		 "openssl x509 -in %s -noout -fingerprint -sha256 | "
		 "sed 's/.*=//; s/://g' | tr A-F a-f", path("ec/leaf.pem"));
	f = popen(fp, "r");
	assert_non_null(f);
	assert_non_null(fgets(fp, sizeof(fp), f));
	pclose(f);
	p = strchr(fp, '\n');
	if (p)
		*p = '\0';
	assert_string_equal(info.fingerprint, fp);
	for (p = info.fingerprint; *p; p++)
		n++;
	assert_int_equal(n, 64);
	cert_info_free(&info);
	assert_int_equal(info.n_sans, 0);
}

static void
test_key_types_and_formats(void **state)
{
	struct cert_info info;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(validate("rsa/leaf-chain.pem", "rsa/leaf.key", NULL,
				  NULL, now, &info), 0);
	assert_int_equal(info.key_kind, CERT_KEY_RSA);
	assert_int_equal(info.key_bits, 2048);
	assert_string_equal(info.key_type, "RSA 2048");
	assert_string_equal(info.issuer, "CN=Test RSA Intermediate, O=Rampart Test");
	cert_info_free(&info);

	/* PKCS#1 and SEC1 as well as PKCS#8 */
	assert_int_equal(validate("rsa/leaf-chain.pem", "rsa/leaf-pkcs1.key",
				  NULL, NULL, now, NULL), 0);
	assert_int_equal(validate("ec/leaf-chain.pem", "ec/leaf-sec1.key",
				  NULL, NULL, now, NULL), 0);

	assert_int_equal(validate("rsa/rsa4096-chain.pem", "rsa/rsa4096.key",
				  NULL, NULL, now, &info), 0);
	assert_string_equal(info.key_type, "RSA 4096");
	assert_int_equal(info.key_bits, 4096);
	cert_info_free(&info);

	assert_int_equal(validate("ec/p384-chain.pem", "ec/p384.key", NULL,
				  NULL, now, &info), 0);
	assert_string_equal(info.key_type, "ECDSA P-384");
	assert_int_equal(info.key_bits, 384);
	cert_info_free(&info);
}

static void
test_unsupported_keys(void **state)
{
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(validate("rsa/rsa1024-chain.pem", "rsa/rsa1024.key",
				  NULL, NULL, now, NULL), -EINVAL);
	assert_string_equal(err, "unsupported key RSA 1024; use RSA 2048-4096 or ECDSA P-256/P-384");
	assert_int_equal(validate("ec/p521-chain.pem", "ec/p521.key", NULL,
				  NULL, now, NULL), -EINVAL);
	assert_string_equal(err, "unsupported key ECDSA P-521; use RSA 2048-4096 or ECDSA P-256/P-384");
	assert_int_equal(validate("ec/ed25519-chain.pem", "ec/ed25519.key",
				  NULL, NULL, now, NULL), -EINVAL);
	assert_string_equal(err, "unsupported key Ed25519; use RSA 2048-4096 or ECDSA P-256/P-384");
}

static void
test_key_mismatch(void **state)
{
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(validate("ec/leaf-chain.pem", "ec/other.key", NULL,
				  NULL, now, NULL), -EINVAL);
	assert_string_equal(err, "the private key does not match the leaf certificate (CN=shop.example.com)");
	/* a key of the other family */
	assert_int_equal(validate("ec/leaf-chain.pem", "rsa/leaf.key", NULL,
				  NULL, now, NULL), -EINVAL);
	assert_err_has("does not match the leaf certificate (CN=shop.example.com)");
	assert_int_equal(validate("rsa/leaf-chain.pem", "rsa/rsa4096.key",
				  NULL, NULL, now, NULL), -EINVAL);
	assert_err_has("does not match the leaf certificate (CN=rsa.example.com)");
}

static void
test_unparsable_input(void **state)
{
	struct cert_info info;
	char *chain = slurp("ec/leaf-chain.pem");
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(validate("ec/leaf-chain.pem", "ec/leaf-enc.key", NULL,
				  NULL, now, NULL), -EINVAL);
	assert_string_equal(err, "the private key could not be parsed (encrypted keys are not supported)");
	assert_int_equal(cert_validate(chain, "not a key", NULL, NO_BUNDLE, now,
				       &info, err, sizeof(err)), -EINVAL);
	assert_err_has("the private key could not be parsed");
	assert_int_equal(cert_validate("", "x", NULL, NO_BUNDLE, now, &info,
				       err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "no certificate found in the PEM");
	/* a key is not a certificate */
	assert_int_equal(cert_validate("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
				       "x", NULL, NO_BUNDLE, now, &info, err,
				       sizeof(err)), -EINVAL);
	assert_string_equal(err, "no certificate found in the PEM");
	assert_int_equal(cert_validate("-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n",
				       "x", NULL, NO_BUNDLE, now, &info, err,
				       sizeof(err)), -EINVAL);
	assert_err_has("certificate 1 in the PEM could not be parsed");
	free(chain);
}

static void
test_chain_out_of_order(void **state)
{
	struct cert_info info;
	char *chain = cat(3, "ec/leaf.pem", "ec/root.pem", "ec/inter.pem");
	char *key = slurp("ec/leaf.key");

	(void)state;
	assert_int_equal(cert_validate(chain, key, NULL, NO_BUNDLE, time(NULL),
				       &info, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "chain out of order: certificate 2 (CN=Test EC Root) did not issue certificate 1 (CN=shop.example.com); list the leaf first, then each issuer");
	free(chain);

	/* same issuer name, different key: signatures decide, not names */
	chain = cat(2, "ec/leaf.pem", "ec/evil/root.pem");
	assert_int_equal(cert_validate(chain, key, NULL, NO_BUNDLE, time(NULL),
				       &info, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "chain out of order: certificate 2 (CN=Test EC Intermediate) did not issue certificate 1 (CN=shop.example.com); list the leaf first, then each issuer");
	free(chain);
	free(key);
}

static void
test_missing_intermediate(void **state)
{
	time_t now = time(NULL);
	char *bundle;

	(void)state;
	assert_int_equal(validate("ec/leaf.pem", "ec/leaf.key", NULL, NULL,
				  now, NULL), -EINVAL);
	assert_string_equal(err, "missing intermediate: the issuer of CN=shop.example.com (CN=Test EC Intermediate) is neither in the chain nor a trusted root");

	/* leaf + intermediate needs the root from somewhere */
	{
		struct cert_info info;
		char *chain = cat(2, "ec/leaf.pem", "ec/inter.pem");
		char *key = slurp("ec/leaf.key"), *root = slurp("ec/root.pem");

		assert_int_equal(cert_validate(chain, key, NULL, NO_BUNDLE, now,
					       &info, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "missing intermediate: the issuer of CN=Test EC Intermediate (CN=Test EC Root) is neither in the chain nor a trusted root");
		/* the system bundle does not know our test root either */
		assert_int_equal(cert_validate(chain, key, NULL, NULL, now,
					       &info, err, sizeof(err)), -EINVAL);
		assert_err_has("missing intermediate");
		/* extra anchors given at import */
		assert_int_equal(cert_validate(chain, key, root, NO_BUNDLE, now,
					       &info, err, sizeof(err)), 0);
		assert_int_equal(info.chain_len, 2);
		cert_info_free(&info);
		/* a bundle file holding the root */
		bundle = path("ec/root.pem");
		assert_int_equal(cert_validate(chain, key, NULL, bundle, now,
					       &info, err, sizeof(err)), 0);
		cert_info_free(&info);
		/* an anchor with the intermediate's name but another key
		 * does not anchor the leaf */
		free(root);
		root = slurp("ec/evil/root.pem");
		free(chain);
		chain = slurp("ec/leaf.pem");
		assert_int_equal(cert_validate(chain, key, root, NO_BUNDLE, now,
					       &info, err, sizeof(err)), -EINVAL);
		assert_err_has("missing intermediate");
		free(root);
		free(key);
		free(chain);
	}
	/* the intermediate as an extra anchor is enough */
	assert_int_equal(validate("ec/leaf.pem", "ec/leaf.key", "ec/inter.pem",
				  NULL, now, NULL), 0);
}

static void
test_validity_period(void **state)
{
	time_t now = time(NULL);

	(void)state;
	/* really expired, as made by openssl ca -enddate */
	assert_int_equal(validate("ec/expired-chain.pem", "ec/expired.key",
				  NULL, NULL, now, NULL), -EINVAL);
	assert_string_equal(err, "the leaf CN=expired.example.com expired on 2021-01-01T00:00:00Z");
	assert_int_equal(validate("ec/future-chain.pem", "ec/future.key", NULL,
				  NULL, now, NULL), -EINVAL);
	assert_string_equal(err, "the leaf CN=future.example.com is not valid before 2040-01-01T00:00:00Z");
	/* the clock decides: the good leaf two months from now */
	assert_int_equal(validate("ec/leaf-chain.pem", "ec/leaf.key", NULL,
				  NULL, now + 60 * DAY, NULL), -EINVAL);
	assert_err_has("the leaf CN=shop.example.com expired on ");
	/* nor before it was issued */
	assert_int_equal(validate("ec/leaf-chain.pem", "ec/leaf.key", NULL,
				  NULL, now - 2 * DAY, NULL), -EINVAL);
	assert_err_has("is not valid before");
}

static void
test_covers_host(void **state)
{
	char *sans[] = { "shop.example.com", "*.cdn.example.com", "*.com" };
	struct cert_info info = { 0 };

	(void)state;
	for (unsigned int i = 0; i < 3; i++)
		info.sans[i] = sans[i];
	info.n_sans = 3;
	assert_true(cert_covers_host(&info, "shop.example.com"));
	assert_true(cert_covers_host(&info, "img.cdn.example.com"));
	/* the alias itself */
	assert_true(cert_covers_host(&info, "*.cdn.example.com"));
	/* one label only, never zero or two */
	assert_false(cert_covers_host(&info, "cdn.example.com"));
	assert_false(cert_covers_host(&info, "a.b.cdn.example.com"));
	assert_false(cert_covers_host(&info, ".cdn.example.com"));
	/* a wildcard over a single label covers nothing */
	assert_false(cert_covers_host(&info, "example.com"));
	assert_false(cert_covers_host(&info, "x.com"));
	assert_false(cert_covers_host(&info, "www.example.com"));
	assert_false(cert_covers_host(&info, "*.example.com"));
	assert_false(cert_covers_host(&info, "shop.example.com.evil.net"));
	assert_false(cert_covers_host(&info, ""));
	assert_false(cert_covers_host(&info, NULL));
}

static void
test_truststore(void **state)
{
	char *cas = cat(2, "ec/root.pem", "ec/inter.pem");
	char *crl = slurp("ec/crl.pem"), *rsa_crl = slurp("rsa/crl.pem");
	char *with_leaf = cat(2, "ec/root.pem", "ec/leaf.pem");
	unsigned int n_cas = 0, n_revoked = 99;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(truststore_validate(cas, NULL, now, &n_cas, &n_revoked,
					     err, sizeof(err)), 0);
	assert_int_equal(n_cas, 2);
	assert_int_equal(n_revoked, 0);
	/* the intermediate's CRL lists the one certificate it revoked */
	assert_int_equal(truststore_validate(cas, crl, now, &n_cas, &n_revoked,
					     err, sizeof(err)), 0);
	assert_int_equal(n_revoked, 1);
	/* a CRL from a CA outside the store */
	assert_int_equal(truststore_validate(cas, rsa_crl, now, &n_cas,
					     &n_revoked, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "the CRL (issuer CN=Test RSA Intermediate) is not signed by any CA in the trust store");
	/* past nextUpdate (30 days) */
	assert_int_equal(truststore_validate(cas, crl, now + 31 * DAY, &n_cas,
					     &n_revoked, err, sizeof(err)),
			 -EINVAL);
	assert_err_has("is past its nextUpdate");
	assert_err_has("CN=Test EC Intermediate");
	/* a tampered CRL no longer verifies */
	{
		char *bad = strdup(crl);
		char *mid = strstr(bad, "-----END") - 10;

		*mid = *mid == 'A' ? 'B' : 'A';
		assert_int_equal(truststore_validate(cas, bad, now, &n_cas,
						     &n_revoked, err,
						     sizeof(err)), -EINVAL);
		free(bad);
	}
	assert_int_equal(truststore_validate(cas, "junk", now, &n_cas,
					     &n_revoked, err, sizeof(err)),
			 -EINVAL);
	assert_err_has("no CRL found in the PEM");
	assert_int_equal(truststore_validate(with_leaf, NULL, now, &n_cas,
					     &n_revoked, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "certificate 2 (CN=shop.example.com) is not a CA certificate (no basicConstraints CA:TRUE); a trust store holds only CAs");
	assert_int_equal(truststore_validate("", NULL, now, &n_cas, &n_revoked,
					     err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "no CA certificate found in the PEM");
	free(cas);
	free(crl);
	free(rsa_crl);
	free(with_leaf);
}

static void
test_seal_round_trip(void **state)
{
	uint8_t key[SEAL_KEY_LEN], other[SEAL_KEY_LEN];
	const char *secret = "-----BEGIN PRIVATE KEY-----\nsecret\n";
	char *a, *b;
	uint8_t *plain;
	size_t len = 0;

	(void)state;
	assert_int_equal(seal_random(key, sizeof(key)), 0);
	assert_int_equal(seal_random(other, sizeof(other)), 0);
	assert_memory_not_equal(key, other, sizeof(key));
	a = seal_encrypt(key, "cert-key:shop", (const uint8_t *)secret,
			 strlen(secret));
	b = seal_encrypt(key, "cert-key:shop", (const uint8_t *)secret,
			 strlen(secret));
	assert_non_null(a);
	assert_non_null(b);
	assert_memory_equal(a, "v1:", 3);
	/* fresh nonce each time */
	assert_string_not_equal(a, b);
	assert_null(strstr(a, "secret"));
	/* nonce + ciphertext + tag, base64 */
	assert_int_equal(strlen(a), 3 + (12 + strlen(secret) + 16 + 2) / 3 * 4);

	plain = seal_decrypt(key, "cert-key:shop", a, &len, err, sizeof(err));
	assert_non_null(plain);
	assert_int_equal(len, strlen(secret));
	assert_string_equal((char *)plain, secret);
	seal_wipe(plain, len);
	free(plain);

	/* empty secrets seal too */
	free(b);
	b = seal_encrypt(key, "x", (const uint8_t *)"", 0);
	assert_non_null(b);
	plain = seal_decrypt(key, "x", b, &len, err, sizeof(err));
	assert_non_null(plain);
	assert_int_equal(len, 0);
	free(plain);
	free(a);
	free(b);
}

static void
test_seal_refusals(void **state)
{
	uint8_t key[SEAL_KEY_LEN], other[SEAL_KEY_LEN];
	char *a, *t;
	size_t len;

	(void)state;
	assert_int_equal(seal_random(key, sizeof(key)), 0);
	memcpy(other, key, sizeof(key));
	other[31] ^= 1;
	a = seal_encrypt(key, "cert-key:shop", (const uint8_t *)"secret", 6);
	assert_non_null(a);

	/* moved to another object */
	assert_null(seal_decrypt(key, "cert-key:blog", a, &len, err, sizeof(err)));
	assert_err_has("failed authentication");
	/* another node's key */
	err[0] = '\0';
	assert_null(seal_decrypt(other, "cert-key:shop", a, &len, err, sizeof(err)));
	assert_err_has("failed authentication");
	/* one bit of the ciphertext flipped (base64 char 20 is in it) */
	t = strdup(a);
	t[3 + 20] = t[3 + 20] == 'A' ? 'B' : 'A';
	err[0] = '\0';
	assert_null(seal_decrypt(key, "cert-key:shop", t, &len, err, sizeof(err)));
	assert_err_has("failed authentication");
	free(t);
	assert_null(seal_decrypt(key, "cert-key:shop", "v1:AAAA", &len, err,
				 sizeof(err)));
	assert_err_has("truncated");
	assert_null(seal_decrypt(key, "cert-key:shop", "v1:!!!!", &len, err,
				 sizeof(err)));
	assert_err_has("truncated or not valid base64");
	assert_null(seal_decrypt(key, "cert-key:shop", "secret", &len, err,
				 sizeof(err)));
	assert_err_has("not in a known format");
	free(a);
}

static void
test_master_key_file(void **state)
{
	uint8_t k1[SEAL_KEY_LEN], k2[SEAL_KEY_LEN];
	char *mk = path("state/master.key");
	struct stat st;
	FILE *f;

	(void)state;
	assert_int_equal(mkdir(path("state"), 0700), 0);
	/* created on first use, 0600, 32 bytes */
	assert_int_equal(seal_master_key_load(mk, k1, err, sizeof(err)), 0);
	assert_int_equal(stat(mk, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, SEAL_KEY_LEN);
	/* and the same key afterwards */
	assert_int_equal(seal_master_key_load(mk, k2, err, sizeof(err)), 0);
	assert_memory_equal(k1, k2, SEAL_KEY_LEN);
	/* no temporary files left behind */
	assert_int_equal(pki_run("test $(ls %s | wc -l) -eq 1", path("state")), 0);

	assert_int_equal(chmod(mk, 0644), 0);
	assert_int_equal(seal_master_key_load(mk, k2, err, sizeof(err)), -EPERM);
	assert_err_has(mk);
	assert_err_has("chmod 600");
	assert_int_equal(chmod(mk, 0640), 0);
	assert_int_equal(seal_master_key_load(mk, k2, err, sizeof(err)), -EPERM);
	assert_int_equal(chmod(mk, 0600), 0);

	/* a truncated key must not be replaced by a new one silently */
	f = fopen(mk, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(k1, 1, 31, f), 31);
	fclose(f);
	assert_int_equal(seal_master_key_load(mk, k2, err, sizeof(err)), -EINVAL);
	assert_err_has("31 bytes");
	assert_err_has(mk);

	assert_true(seal_master_key_load(path("nodir/master.key"), k2, err,
					 sizeof(err)) < 0);
	assert_err_has("cannot create master key");
}

static uint8_t *
resp_file(const char *rel, size_t *len)
{
	return (uint8_t *)slurp_len(rel, len);
}

/* ocsp_check_response for the chain and response files. */
static int
check(const char *chain, const char *resp, time_t now, struct ocsp_result *res)
{
	char *c = slurp(chain);
	size_t len;
	uint8_t *r = resp_file(resp, &len);
	int ret;

	err[0] = '\0';
	memset(res, 0xa5, sizeof(*res));
	ret = ocsp_check_response(c, r, len, now, res, err, sizeof(err));
	free(c);
	free(r);
	return ret;
}

static void
test_ocsp_issuer_signed(void **state)
{
	struct ocsp_result res;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(check("ec/leaf-chain.pem", "ec/leaf-good.resp", now,
			       &res), 0);
	assert_int_equal(res.status, OCSP_STATUS_GOOD);
	assert_true(res.this_update <= now && res.this_update > now - 3600);
	assert_int_equal(res.next_update - res.this_update, DAY);
	/* without the signer's certificate in the response */
	assert_int_equal(check("ec/leaf-chain.pem", "ec/leaf-nocerts.resp", now,
			       &res), 0);
	assert_int_equal(res.status, OCSP_STATUS_GOOD);

	assert_int_equal(check("ec/revoked-chain.pem", "ec/revoked.resp", now,
			       &res), 0);
	assert_int_equal(res.status, OCSP_STATUS_REVOKED);
	assert_true(res.revoked_at > now - 3600 && res.revoked_at <= now);
}

static void
test_ocsp_delegated(void **state)
{
	struct ocsp_result res;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(check("ec/leaf-chain.pem", "ec/leaf-delegated.resp",
			       now, &res), 0);
	assert_int_equal(res.status, OCSP_STATUS_GOOD);
	/* issued by the issuer, but not for OCSP signing */
	assert_int_equal(check("ec/leaf-chain.pem", "ec/leaf-noeku.resp", now,
			       &res), -EINVAL);
	assert_string_equal(err, "the OCSP response is signed by CN=Test Not A Responder, which CN=Test EC Intermediate issued without the OCSPSigning extended key usage");
	/* the delegated responder's certificate must come with the response */
	assert_int_equal(check("ec/leaf-chain.pem",
			       "ec/leaf-delegated-nocerts.resp", now, &res),
			 -EINVAL);
	assert_err_has("not signed by the issuer (CN=Test EC Intermediate)");
	/* the responder certificate's own validity counts */
	assert_int_equal(check("ec/leaf-chain.pem", "ec/leaf-delegated.resp",
			       now + 40 * DAY, &res), -EINVAL);
	assert_err_has("the OCSP responder certificate CN=Test OCSP Responder expired on");
}

static void
test_ocsp_impostors(void **state)
{
	struct ocsp_result res;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(check("ec/leaf-chain.pem", "ec/leaf-rogue.resp", now,
			       &res), -EINVAL);
	assert_string_equal(err, "the OCSP response is signed by CN=Rogue Responder, which CN=Test EC Intermediate did not issue; only the issuer or its delegated responder may sign");
	assert_int_equal(check("ec/leaf-chain.pem", "ec/leaf-rogue-nocerts.resp",
			       now, &res), -EINVAL);
	assert_string_equal(err, "the OCSP response is not signed by the issuer (CN=Test EC Intermediate) or by a responder it authorised");
	/* a genuine response about another certificate */
	assert_int_equal(check("ec/leaf-chain.pem", "ec/revoked.resp", now,
			       &res), -EINVAL);
	assert_string_equal(err, "the OCSP response does not cover CN=shop.example.com (no single response for its serial number and issuer)");
	/* checked against another issuer's chain */
	assert_int_equal(check("rsa/leaf-chain.pem", "ec/leaf-good.resp", now,
			       &res), -EINVAL);
	assert_string_equal(err, "the OCSP response is signed by CN=Test EC Intermediate, which CN=Test RSA Intermediate did not issue; only the issuer or its delegated responder may sign");
}

static void
test_ocsp_times(void **state)
{
	struct ocsp_result res;
	time_t now = time(NULL);

	(void)state;
	/* nextUpdate is a day away */
	assert_int_equal(check("ec/leaf-chain.pem", "ec/leaf-good.resp",
			       now + 2 * DAY, &res), -EINVAL);
	assert_err_has("is stale: its nextUpdate");
	assert_err_has("has passed");
	/* thisUpdate ahead of our clock by more than the skew */
	assert_int_equal(check("ec/leaf-chain.pem", "ec/leaf-good.resp",
			       now - 3600, &res), -EINVAL);
	assert_err_has("thisUpdate in the future");
	/* but a little skew is fine */
	assert_int_equal(check("ec/leaf-chain.pem", "ec/leaf-good.resp",
			       now - 60, &res), 0);
}

static void
test_ocsp_malformed(void **state)
{
	static const uint8_t try_later[] = { 0x30, 0x03, 0x0a, 0x01, 0x03 };
	static const uint8_t junk[] = { 0x30, 0x82, 0xff, 0xff, 0x00 };
	struct ocsp_result res;
	char *chain = slurp("ec/leaf-chain.pem"), *leaf = slurp("ec/leaf.pem");
	size_t len;
	uint8_t *good = resp_file("ec/leaf-good.resp", &len);

	(void)state;
	assert_int_equal(ocsp_check_response(chain, try_later, sizeof(try_later),
					     time(NULL), &res, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "the OCSP responder answered tryLater (3)");
	assert_int_equal(ocsp_check_response(chain, junk, sizeof(junk),
					     time(NULL), &res, err, sizeof(err)),
			 -EINVAL);
	assert_err_has("not valid DER");
	/* every truncation is refused, none crashes */
	for (size_t n = 0; n < len; n++)
		assert_int_equal(ocsp_check_response(chain, good, n, time(NULL),
						     &res, err, sizeof(err)),
				 -EINVAL);
	/* a bit of the signature flipped (it ends the response when no
	 * certificate follows) */
	{
		size_t nlen;
		uint8_t *nocerts = resp_file("ec/leaf-nocerts.resp", &nlen);

		nocerts[nlen - 5] ^= 0x01;
		assert_int_equal(ocsp_check_response(chain, nocerts, nlen,
						     time(NULL), &res, err,
						     sizeof(err)), -EINVAL);
		assert_err_has("not signed by the issuer");
		free(nocerts);
	}
	/* no issuer to check against */
	assert_int_equal(ocsp_check_response(leaf, good, len, time(NULL), &res,
					     err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "the chain has no issuer certificate for CN=shop.example.com; list the intermediate after the leaf");
	free(chain);
	free(leaf);
	free(good);
}

/* Our request, answered by `openssl ocsp` as a responder, checked by us. */
static void
ask_openssl(const char *chain_rel, enum ocsp_cert_status want)
{
	struct ocsp_result res;
	char *chain = slurp(chain_rel), *req = path("ask.req"),
	     *resp = path("ask.resp");
	uint8_t *der = NULL, *r;
	size_t len = 0, rlen;
	FILE *f;

	assert_int_equal(ocsp_build_request(chain, &der, &len, err, sizeof(err)), 0);
	f = fopen(req, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(der, 1, len, f), len);
	fclose(f);
	unlink(resp);
	assert_int_equal(pki_run("sh %s respond %s %s %s issuer", mkcerts,
			     path("ec"), req, resp), 0);
	r = resp_file("ask.resp", &rlen);
	assert_int_equal(ocsp_check_response(chain, r, rlen, time(NULL), &res,
					     err, sizeof(err)), 0);
	assert_int_equal(res.status, want);
	free(r);
	free(der);
	free(chain);
}

static void
test_ocsp_request(void **state)
{
	char *chain = slurp("ec/leaf-chain.pem"), *leaf = slurp("ec/leaf.pem");
	uint8_t *der = NULL;
	size_t len = 0, olen;
	char *theirs;

	(void)state;
	ask_openssl("ec/leaf-chain.pem", OCSP_STATUS_GOOD);
	ask_openssl("ec/revoked-chain.pem", OCSP_STATUS_REVOKED);
	ask_openssl("ec/stray-chain.pem", OCSP_STATUS_UNKNOWN);

	/* byte for byte what `openssl ocsp -no_nonce` sends */
	assert_int_equal(ocsp_build_request(chain, &der, &len, err, sizeof(err)), 0);
	theirs = slurp_len("ec/leaf.req", &olen);
	assert_int_equal(len, olen);
	assert_memory_equal(der, theirs, len);
	free(theirs);
	free(der);

	der = NULL;
	assert_int_equal(ocsp_build_request(leaf, &der, &len, err, sizeof(err)),
			 -EINVAL);
	assert_null(der);
	assert_string_equal(err, "the chain has no issuer certificate for CN=shop.example.com; list the intermediate after the leaf");
	assert_int_equal(ocsp_build_request("", &der, &len, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "no certificate found in the PEM");
	free(chain);
	free(leaf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_chain_accepted),
		cmocka_unit_test(test_key_types_and_formats),
		cmocka_unit_test(test_unsupported_keys),
		cmocka_unit_test(test_key_mismatch),
		cmocka_unit_test(test_unparsable_input),
		cmocka_unit_test(test_chain_out_of_order),
		cmocka_unit_test(test_missing_intermediate),
		cmocka_unit_test(test_validity_period),
		cmocka_unit_test(test_covers_host),
		cmocka_unit_test(test_truststore),
		cmocka_unit_test(test_seal_round_trip),
		cmocka_unit_test(test_seal_refusals),
		cmocka_unit_test(test_master_key_file),
		cmocka_unit_test(test_ocsp_issuer_signed),
		cmocka_unit_test(test_ocsp_delegated),
		cmocka_unit_test(test_ocsp_impostors),
		cmocka_unit_test(test_ocsp_times),
		cmocka_unit_test(test_ocsp_malformed),
		cmocka_unit_test(test_ocsp_request),
	};

	return cmocka_run_group_tests_name("crypto", tests, group_setup,
					   group_teardown);
}

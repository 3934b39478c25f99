/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TLS side of a snapshot (dataplane/tls/tls_ctx.h): one context per
 * worker and certificate of every enabled distribution; a certificate
 * wolfSSL refuses refuses the whole build with a sentence naming it, and
 * nothing is attached; the contexts go with the snapshot.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cfg/live.h"
#include "cfg/snapshot.h"
#include "tls/tls_ctx.h"

/* A self-signed ECDSA P-256 certificate for unit.example.com (valid
 * until 2126), its key, and an unrelated key. */
static const char unit_cert[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBqTCCAVCgAwIBAgIUSFF66Pg5BYGUQKNsKgUiEI/7MjwwCgYIKoZIzj0EAwIw\n"
	"GzEZMBcGA1UEAwwQdW5pdC5leGFtcGxlLmNvbTAgFw0yNjExMjMwMDI3MzVaGA8y\n"
	"MTI2MTAzMDAwMjczNVowGzEZMBcGA1UEAwwQdW5pdC5leGFtcGxlLmNvbTBZMBMG\n"
	"ByqGSM49AgEGCCqGSM49AwEHA0IABNzR3AKRz0G1WHmscxAonu5dGNywppyg/kGW\n"
	"10vduSakJPcrtZsxacr4AyWKACeZGGJNPVOlu3XpA7LB3lHIvoOjcDBuMB0GA1Ud\n"
	"DgQWBBS8QLZUqW+FIBPuZ4nd9/lbuGSqejAfBgNVHSMEGDAWgBS8QLZUqW+FIBPu\n"
	"Z4nd9/lbuGSqejAPBgNVHRMBAf8EBTADAQH/MBsGA1UdEQQUMBKCEHVuaXQuZXhh\n"
	"bXBsZS5jb20wCgYIKoZIzj0EAwIDRwAwRAIgIlIzrvUtAsw1+sNX0MT4gBjMEGW6\n"
	"zPg45NwSM5MA5pUCIBRr3Dl2Hb08IcTk0L2LqDUnAfsVfMWtxoGPVMl5oWfG\n"
	"-----END CERTIFICATE-----\n";
static const char unit_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgsrs02dKdbMDypDLv\n"
	"Ce18Kwf5y7RI9v7CZY7jw3NYQw6hRANCAATc0dwCkc9BtVh5rHMQKJ7uXRjcsKac\n"
	"oP5BltdL3bkmpCT3K7WbMWnK+AMligAnmRhiTT1Tpbt16QOywd5RyL6D\n"
	"-----END PRIVATE KEY-----\n";
static const char other_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRMJZ5gneVbrGO2vq\n"
	"q3h9CSeUaN4NPjftE0LJj2aXcpuhRANCAATdvsQy6nbgzLXxXeb4C9IOA4La0Ecg\n"
	"MZG0RaqEsilHSEZSlithEdQGcC94hFAGTsLpd9w/qsM/L7iL/WuxA5rU\n"
	"-----END PRIVATE KEY-----\n";

#define FP "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static char err[512];
static struct cfg_live live;

static struct cfg_snapshot *
build(const char *key, const char *policy, bool enabled)
{
	json_t *certs = json_pack("{s:{s:s, s:s, s:s, s:s}}", "unit-ec",
				  "chain_pem", unit_cert, "key_pem", key,
				  "key_type", "ECDSA P-256", "fingerprint", FP);
	json_t *dists = json_pack("{s:{s:s, s:b, s:[s], s:{s:s}, s:{s:s}}}",
				  "unit", "name", "unit", "enabled", enabled,
				  "aliases", "unit.example.com",
				  "certificates", "ecdsa", "unit-ec",
				  "tls", "security_policy", policy);
	struct cfg_snapshot *s;

	assert_non_null(certs);
	assert_non_null(dists);
	s = cfg_snapshot_build(1, certs, NULL, dists, err, sizeof(err));
	json_decref(certs);
	json_decref(dists);
	assert_non_null(s);
	return s;
}

static void
test_contexts_per_worker(void **state)
{
	const char *pols[] = { "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.3_2025" };
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct cfg_snapshot *s = build(unit_key, pols[i], true);
		const struct cfg_dist *d = cfg_snapshot_find_dist(s, "unit");
		struct WOLFSSL_CTX *c0, *c1;

		assert_int_equal(tls_snapshot_build(s, 2, &live, NULL, err,
						    sizeof(err)), 0);
		c0 = tls_snapshot_ctx(s, d, CFG_KEY_ECDSA, 0);
		c1 = tls_snapshot_ctx(s, d, CFG_KEY_ECDSA, 1);
		assert_non_null(c0);
		assert_non_null(c1);
		assert_ptr_not_equal(c0, c1);   /* nothing shared */
		assert_null(tls_snapshot_ctx(s, d, CFG_KEY_ECDSA, 2));
		assert_null(tls_snapshot_ctx(s, d, CFG_KEY_RSA, 0));
		assert_int_equal(tls_policy_of(d), i == 0 ? TLS_POLICY_2019 :
				 i == 1 ? TLS_POLICY_2021 :
				 TLS_POLICY_13_2025);
		cfg_snapshot_put(s);            /* frees the contexts */
	}
}

static void
test_refused_key(void **state)
{
	struct cfg_snapshot *s = build(other_key, "TLSv1.2_2021", true);
	const struct cfg_dist *d = cfg_snapshot_find_dist(s, "unit");

	(void)state;
	err[0] = '\0';
	assert_int_equal(tls_snapshot_build(s, 1, &live, NULL, err, sizeof(err)),
			 -EINVAL);
	if (strstr(err, "distribution \"unit\": certificate \"unit-ec\"") ==
	    NULL || strstr(err, "private key") == NULL)
		fail_msg("refusal '%s' names neither the certificate nor "
			 "the key", err);
	assert_null(cfg_snapshot_tls(s));
	assert_null(tls_snapshot_ctx(s, d, CFG_KEY_ECDSA, 0));
	cfg_snapshot_put(s);
}

static void
test_disabled_has_none(void **state)
{
	struct cfg_snapshot *s = build(unit_key, "TLSv1.2_2021", false);

	(void)state;
	assert_int_equal(tls_snapshot_build(s, 1, &live, NULL, err, sizeof(err)),
			 0);
	assert_null(tls_snapshot_ctx(s, cfg_snapshot_find_dist(s, "unit"),
				     CFG_KEY_ECDSA, 0));
	cfg_snapshot_put(s);
}

static int
group_setup(void **state)
{
	(void)state;
	return tls_lib_init() == 0 && cfg_live_init(&live) == 0 ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	cfg_live_fini(&live);
	tls_lib_fini();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contexts_per_worker),
		cmocka_unit_test(test_refused_key),
		cmocka_unit_test(test_disabled_has_none),
	};

	return cmocka_run_group_tests_name("cfg_snapshot_tls", tests,
					   group_setup, group_teardown);
}

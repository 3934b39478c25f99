/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TLS side of a snapshot (dataplane/tls/tls_ctx.h): one context per
 * worker and certificate of every enabled distribution; a certificate
 * wolfSSL refuses refuses the whole build with a sentence naming it, and
 * nothing is attached; the contexts go with the snapshot. Origins reached
 * over TLS get a client context each (shared by origins configured alike)
 * and an identity of their own; strict ones without a trust store need
 * the CA bundle.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg/live.h"
#include "cfg/snapshot.h"
#include "tls/tls_ctx.h"
#include "tls/tls_origin.h"

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

/* ---------------------------------------------------------- origins */

#define NO_BUNDLE "/nonexistent/rampart-test/ca-certificates.crt"
#define PIN "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

/* Distribution "unit" with the origins of origins_json (a JSON array),
 * the first one as default behavior, and trust store "origin-ca" holding
 * unit_cert (a CA). NULL with the sentence in err when refused. */
static struct cfg_snapshot *
build_origins(const char *origins_json)
{
	json_t *certs = json_pack("{s:{s:s, s:s, s:s, s:s}}", "unit-ec",
				  "chain_pem", unit_cert, "key_pem", unit_key,
				  "key_type", "ECDSA P-256", "fingerprint", FP);
	json_t *stores = json_pack("{s:{s:s}}", "origin-ca", "ca_pem",
				   unit_cert);
	json_t *origins = json_loads(origins_json, 0, NULL);
	json_t *dists;
	struct cfg_snapshot *s;

	assert_non_null(origins);
	dists = json_pack("{s:{s:s, s:b, s:[s], s:{s:s}, s:{s:s}, s:o, "
			  "s:{s:s}}}", "unit", "name", "unit", "enabled", 1,
			  "aliases", "unit.example.com",
			  "certificates", "ecdsa", "unit-ec",
			  "tls", "security_policy", "TLSv1.2_2021",
			  "origins", origins, "default_behavior", "origin",
			  json_string_value(json_object_get(
				  json_array_get(origins, 0), "id")));
	assert_non_null(certs);
	assert_non_null(stores);
	assert_non_null(dists);
	err[0] = '\0';
	s = cfg_snapshot_build(1, certs, stores, dists, err, sizeof(err));
	json_decref(certs);
	json_decref(stores);
	json_decref(dists);
	if (s == NULL)
		fail_msg("snapshot refused: %s", err);
	return s;
}

static const struct cfg_origin *
origin(const struct cfg_snapshot *s, const char *id)
{
	const struct cfg_origin *o = cfg_dist_find_origin(
		cfg_snapshot_find_dist(s, "unit"), id);

	assert_non_null(o);
	return o;
}

static uint64_t
origin_id(const struct cfg_snapshot *s, const char *id)
{
	return tls_origin_id(s, cfg_snapshot_find_dist(s, "unit"),
			     origin(s, id));
}

static char tmpdir[64];

/* A file in a fresh directory holding text; the path (static). */
static const char *
write_file(const char *text)
{
	static char file[96];
	FILE *f;

	if (tmpdir[0] == '\0') {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/rampart-snaptls-XXXXXX");
		assert_non_null(mkdtemp(tmpdir));
	}
	snprintf(file, sizeof(file), "%s/bundle.crt", tmpdir);
	f = fopen(file, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return file;
}

static void
remove_file(const char *file)
{
	unlink(file);
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

/* https-only, strict, anchored by a pushed trust store: the CA bundle is
 * not needed (it does not even exist here). */
static void
test_origin_strict_trust_store(void **state)
{
	struct cfg_snapshot *s = build_origins(
		"[{\"id\": \"web\", \"domain\": \"origin.test\","
		"  \"protocol_policy\": \"https-only\","
		"  \"verify\": {\"mode\": \"strict\","
		"              \"trust_store\": \"origin-ca\"}}]");

	(void)state;
	assert_non_null(origin(s, "web")->trust_store);
	assert_string_equal(origin(s, "web")->trust_store->name, "origin-ca");
	assert_int_equal(origin_id(s, "web"), 0);       /* no TLS built yet */
	if (tls_snapshot_build(s, 2, &live, NO_BUNDLE, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	assert_int_not_equal(origin_id(s, "web"), 0);
	cfg_snapshot_put(s);
}

/* strict without a trust store reads the CA bundle: a bundle that cannot
 * be read, or holds no certificate, refuses the build with a sentence
 * naming the bundle and the origin, and attaches nothing. */
static void
test_origin_strict_needs_bundle(void **state)
{
	static const char origins[] =
		"[{\"id\": \"plain\", \"domain\": \"plain.test\","
		"  \"protocol_policy\": \"http-only\"},"
		" {\"id\": \"web\", \"domain\": \"origin.test\","
		"  \"protocol_policy\": \"match-viewer\"}]";
	struct cfg_snapshot *s = build_origins(origins);
	const char *junk;

	(void)state;
	assert_null(origin(s, "web")->trust_store);
	err[0] = '\0';
	assert_int_equal(tls_snapshot_build(s, 1, &live, NO_BUNDLE, err,
					    sizeof(err)), -EINVAL);
	if (strstr(err, NO_BUNDLE) == NULL ||
	    strstr(err, "distribution \"unit\": origin \"web\"") == NULL)
		fail_msg("refusal '%s' names neither the bundle nor the "
			 "origin", err);
	assert_null(cfg_snapshot_tls(s));
	assert_int_equal(origin_id(s, "web"), 0);

	junk = write_file("# no certificate in here\n");
	err[0] = '\0';
	assert_int_equal(tls_snapshot_build(s, 1, &live, junk, err,
					    sizeof(err)), -EINVAL);
	if (strstr(err, junk) == NULL ||
	    strstr(err, "origin \"web\"") == NULL)
		fail_msg("refusal '%s' names neither the bundle nor the "
			 "origin", err);
	assert_null(cfg_snapshot_tls(s));

	/* A bundle with a CA in it. */
	junk = write_file(unit_cert);
	if (tls_snapshot_build(s, 1, &live, junk, err, sizeof(err)) != 0)
		fail_msg("refused with a good bundle: %s", err);
	assert_int_not_equal(origin_id(s, "web"), 0);
	assert_int_equal(origin_id(s, "plain"), 0);     /* never TLS */
	remove_file(junk);
	cfg_snapshot_put(s);
}

/* full and pinned verify nothing against anchors, and the protocol lists
 * TLSv1.2 alone and TLSv1.3 alone are accepted: none of them reads the
 * bundle. */
static void
test_origin_modes_and_versions(void **state)
{
	struct cfg_snapshot *s = build_origins(
		"[{\"id\": \"full\", \"domain\": \"full.test\","
		"  \"verify\": {\"mode\": \"full\"}},"
		" {\"id\": \"pinned\", \"domain\": \"pinned.test\","
		"  \"verify\": {\"mode\": \"pinned\", \"pins\": [\"" PIN "\"]}},"
		" {\"id\": \"tls12\", \"domain\": \"tls12.test\","
		"  \"tls_protocols\": [\"TLSv1.2\"],"
		"  \"verify\": {\"mode\": \"full\"}},"
		" {\"id\": \"tls13\", \"domain\": \"tls13.test\","
		"  \"tls_protocols\": [\"TLSv1.3\"],"
		"  \"verify\": {\"mode\": \"pinned\", \"pins\": [\"" PIN "\"]}},"
		" {\"id\": \"strict12\", \"domain\": \"s12.test\","
		"  \"tls_protocols\": [\"TLSv1.2\"],"
		"  \"verify\": {\"trust_store\": \"origin-ca\"}},"
		" {\"id\": \"strict13\", \"domain\": \"s13.test\","
		"  \"tls_protocols\": [\"TLSv1.3\"],"
		"  \"verify\": {\"trust_store\": \"origin-ca\"}}]");
	static const char *const ids[] = {
		"full", "pinned", "tls12", "tls13", "strict12", "strict13",
	};
	unsigned int i;

	(void)state;
	assert_int_equal(origin(s, "tls12")->tls_protocols, CFG_ORIGIN_TLS12);
	assert_int_equal(origin(s, "tls13")->tls_protocols, CFG_ORIGIN_TLS13);
	if (tls_snapshot_build(s, 2, &live, NO_BUNDLE, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (origin_id(s, ids[i]) == 0)
			fail_msg("origin %s has no TLS identity", ids[i]);
	cfg_snapshot_put(s);
}

/* Origins configured alike may share a client context, never an
 * identity (pooled connections and sessions are keyed by it): each
 * origin's is nonzero and its own, in this snapshot and the next. */
static void
test_origin_ids_distinct(void **state)
{
	static const char origins[] =
		"[{\"id\": \"a\", \"domain\": \"origin.test\","
		"  \"verify\": {\"trust_store\": \"origin-ca\"}},"
		" {\"id\": \"b\", \"domain\": \"origin.test\","
		"  \"verify\": {\"trust_store\": \"origin-ca\"}},"
		" {\"id\": \"c\", \"domain\": \"origin.test\","
		"  \"verify\": {\"mode\": \"full\"}},"
		" {\"id\": \"d\", \"domain\": \"origin.test\","
		"  \"verify\": {\"mode\": \"full\"}}]";
	static const char *const ids[] = { "a", "b", "c", "d" };
	struct cfg_snapshot *s1 = build_origins(origins);
	struct cfg_snapshot *s2 = build_origins(origins);
	uint64_t id[2][4];
	unsigned int i, j;

	(void)state;
	assert_int_equal(tls_snapshot_build(s1, 1, &live, NO_BUNDLE, err,
					    sizeof(err)), 0);
	assert_int_equal(tls_snapshot_build(s2, 1, &live, NO_BUNDLE, err,
					    sizeof(err)), 0);
	for (i = 0; i < 4; i++) {
		id[0][i] = origin_id(s1, ids[i]);
		id[1][i] = origin_id(s2, ids[i]);
	}
	for (i = 0; i < 8; i++) {
		assert_int_not_equal(id[i / 4][i % 4], 0);
		for (j = 0; j < i; j++)
			if (id[i / 4][i % 4] == id[j / 4][j % 4])
				fail_msg("origins %s (snapshot %u) and %s "
					 "(snapshot %u) share identity %llu",
					 ids[i % 4], i / 4 + 1, ids[j % 4],
					 j / 4 + 1,
					 (unsigned long long)id[i / 4][i % 4]);
	}
	/* An origin of another snapshot's distribution is not this one's. */
	assert_int_equal(tls_origin_id(s1, cfg_snapshot_find_dist(s1, "unit"),
				       origin(s2, "a")), 0);
	cfg_snapshot_put(s1);
	cfg_snapshot_put(s2);
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
		cmocka_unit_test(test_origin_strict_trust_store),
		cmocka_unit_test(test_origin_strict_needs_bundle),
		cmocka_unit_test(test_origin_modes_and_versions),
		cmocka_unit_test(test_origin_ids_distinct),
	};

	return cmocka_run_group_tests_name("cfg_snapshot_tls", tests,
					   group_setup, group_teardown);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's side of origin addresses: the "resolved" member the
 * control plane adds to an origin named by domain only is parsed into
 * struct cfg_origin (so the proxy never does DNS), an origin without it
 * keeps the behaviour it had, and a malformed member refuses the
 * generation with the JSON path.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cfg/snapshot.h"

#define FP "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static char err[512];

static struct cfg_snapshot *
build(json_t *origins)
{
	json_t *certs, *dists;
	struct cfg_snapshot *s;

	certs = json_pack("{s:{s:s, s:s, s:s, s:s, s:[s]}}", "shop-ec",
		"chain_pem", "-----BEGIN CERTIFICATE-----\nMIIB\n"
			     "-----END CERTIFICATE-----\n",
		"key_pem", "-----BEGIN PRIVATE KEY-----\nMIGH\n"
			   "-----END PRIVATE KEY-----\n",
		"key_type", "ECDSA P-256", "fingerprint", FP,
		"sans", "shop.example.com");
	dists = json_pack("{s:{s:s, s:[s], s:{s:s}, s:o, s:{s:s}}}", "shop",
		"name", "shop", "aliases", "shop.example.com",
		"certificates", "ecdsa", "shop-ec", "origins", origins,
		"default_behavior", "origin", "web");
	assert_non_null(certs);
	assert_non_null(dists);
	err[0] = '\0';
	s = cfg_snapshot_build(1, certs, NULL, dists, err, sizeof(err));
	json_decref(certs);
	json_decref(dists);
	return s;
}

static const char *
ip(const struct in_addr *a)
{
	static char buf[2][INET_ADDRSTRLEN];
	static unsigned int i;

	i ^= 1;
	return inet_ntop(AF_INET, a, buf[i], sizeof(buf[0]));
}

static void
test_resolved_parsed(void **state)
{
	const struct cfg_origin *web, *plain, *fixed;
	const struct cfg_dist *d;
	struct cfg_snapshot *s;

	(void)state;
	s = build(json_pack("[{s:s, s:s, s:{s:[s, s], s:i, s:I}},"
			    " {s:s, s:s},"
			    " {s:s, s:s, s:s}]",
			    "id", "web", "domain", "origin.example.com",
			    "resolved", "addresses", "192.0.2.7", "192.0.2.80",
			    "ttl", 30, "resolved_at", (json_int_t)1700000000,
			    "id", "plain", "domain", "plain.example.com",
			    "id", "fixed", "domain", "fixed.example.com",
			    "address", "203.0.113.5"));
	assert_non_null(s);
	assert_string_equal(err, "");
	d = cfg_snapshot_find_dist(s, "shop");
	assert_non_null(d);

	web = cfg_dist_find_origin(d, "web");
	assert_non_null(web);
	assert_false(web->has_address);
	assert_int_equal(web->nb_resolved, 2);
	assert_string_equal(ip(&web->resolved[0]), "192.0.2.7");
	assert_string_equal(ip(&web->resolved[1]), "192.0.2.80");
	assert_int_equal(web->resolved_ttl, 30);
	assert_int_equal(web->resolved_at, 1700000000);
	assert_ptr_equal(d->default_behavior.origin, web);

	/* Not resolved (yet): no address at all, as before. */
	plain = cfg_dist_find_origin(d, "plain");
	assert_non_null(plain);
	assert_false(plain->has_address);
	assert_int_equal(plain->nb_resolved, 0);

	fixed = cfg_dist_find_origin(d, "fixed");
	assert_non_null(fixed);
	assert_true(fixed->has_address);
	assert_string_equal(ip(&fixed->address), "203.0.113.5");
	assert_int_equal(fixed->nb_resolved, 0);
	cfg_snapshot_put(s);
}

static void
expect_refused(json_t *resolved, const char *what)
{
	json_t *origins = json_pack("[{s:s, s:s, s:o}]", "id", "web",
				    "domain", "origin.example.com",
				    "resolved", resolved);

	assert_null(build(origins));
	if (strstr(err, what) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, what);
}

static void
test_resolved_malformed(void **state)
{
	json_t *nine = json_array();
	int i;

	(void)state;
	expect_refused(json_pack("{s:[s], s:i, s:i}", "addresses", "300.1.2.3",
				 "ttl", 5, "resolved_at", 1),
		       "distribution \"shop\": origins[0].resolved.addresses "
		       "item 0 is not an IPv4 address");
	expect_refused(json_pack("{s:[s], s:i, s:i}", "addresses", "2001:db8::1",
				 "ttl", 5, "resolved_at", 1),
		       "origins[0].resolved.addresses item 0");
	expect_refused(json_pack("{s:[], s:i, s:i}", "addresses", "ttl", 5,
				 "resolved_at", 1),
		       "origins[0].resolved.addresses must be an array of 1 "
		       "to 8");
	for (i = 1; i <= 9; i++) {
		char a[16];

		snprintf(a, sizeof(a), "192.0.2.%d", i);
		json_array_append_new(nine, json_string(a));
	}
	expect_refused(json_pack("{s:o, s:i, s:i}", "addresses", nine, "ttl", 5,
				 "resolved_at", 1),
		       "origins[0].resolved.addresses must be an array");
	expect_refused(json_pack("{s:[s], s:i, s:i}", "addresses", "192.0.2.1",
				 "ttl", -1, "resolved_at", 1),
		       "origins[0].resolved.ttl must be an integer");
	expect_refused(json_string("192.0.2.1"),
		       "origins[0].resolved must be an object");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolved_parsed),
		cmocka_unit_test(test_resolved_malformed),
	};

	return cmocka_run_group_tests_name("cfg_origin_resolved", tests, NULL,
					   NULL);
}

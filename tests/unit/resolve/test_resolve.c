/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's origin-address table: TTLs are bounded, a failure
 * keeps the last good addresses and backs off, only a different set of
 * addresses counts as a change (so a re-resolution that answers the same
 * set pushes nothing), the table follows the configuration, and what is
 * persisted loads back due for an immediate re-resolution.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "controlplane/resolve/resolve.h"

static const struct rs_policy pol = RS_POLICY_DEFAULT;

static void
answer_of(struct rs_answer *a, uint32_t ttl, const char *const *addrs)
{
	memset(a, 0, sizeof(*a));
	a->ttl = ttl;
	for (; *addrs != NULL; addrs++)
		assert_int_equal(inet_pton(AF_INET, *addrs,
					   &a->addrs[a->n++]), 1);
}

static void
failure_of(struct rs_answer *a, int rc, const char *why)
{
	memset(a, 0, sizeof(*a));
	a->rc = rc;
	snprintf(a->err, sizeof(a->err), "%s", why);
}

static const char *
addr_at(const struct rs_entry *e, unsigned int i)
{
	static char buf[4][INET_ADDRSTRLEN];

	return inet_ntop(AF_INET, &e->addrs[i], buf[i % 4], sizeof(buf[0]));
}

static struct rs_entry *
one_entry(struct rs_table *t, const char *domain)
{
	rs_table_init(t);
	assert_int_equal(rs_table_want(t, domain), 0);
	return rs_table_find(t, domain);
}

static void
test_ttl_bounds(void **state)
{
	struct rs_policy p = { .min_ttl_s = 5, .max_ttl_s = 3600 };

	(void)state;
	assert_int_equal(rs_clamp_ttl(&p, 0), 5);
	assert_int_equal(rs_clamp_ttl(&p, 4), 5);
	assert_int_equal(rs_clamp_ttl(&p, 60), 60);
	assert_int_equal(rs_clamp_ttl(&p, 86400), 3600);
}

static void
test_retry_backoff(void **state)
{
	struct rs_policy p = { .min_ttl_s = 5, .max_ttl_s = 3600 };
	struct rs_policy low = { .min_ttl_s = 5, .max_ttl_s = 60 };

	(void)state;
	assert_int_equal(rs_retry_delay(&p, 1), 5);
	assert_int_equal(rs_retry_delay(&p, 2), 10);
	assert_int_equal(rs_retry_delay(&p, 3), 20);
	assert_int_equal(rs_retry_delay(&p, 6), 160);
	assert_int_equal(rs_retry_delay(&p, 7), RS_RETRY_MAX_S);
	assert_int_equal(rs_retry_delay(&p, 1000), RS_RETRY_MAX_S);
	assert_int_equal(rs_retry_delay(&low, 10), 60);
}

static void
test_answer_sorted_unique_and_change(void **state)
{
	static const char *const first[] = { "192.0.2.9", "192.0.2.80",
					     "192.0.2.9", "10.0.0.1", NULL };
	static const char *const shuffled[] = { "192.0.2.80", "10.0.0.1",
						"192.0.2.9", NULL };
	static const char *const other[] = { "192.0.2.80", "10.0.0.1", NULL };
	struct rs_table t;
	struct rs_entry *e = one_entry(&t, "origin.example.com");
	struct rs_answer a;

	(void)state;
	assert_true(rs_entry_due(e, 0));
	e->in_flight = true;
	assert_false(rs_entry_due(e, 1000));
	answer_of(&a, 60, first);
	assert_true(rs_entry_answer(e, &a, 1000, &pol));
	assert_false(e->in_flight);
	assert_int_equal(e->n, 3);
	assert_string_equal(addr_at(e, 0), "10.0.0.1");
	assert_string_equal(addr_at(e, 1), "192.0.2.9");
	assert_string_equal(addr_at(e, 2), "192.0.2.80");
	assert_int_equal(e->ttl, 60);
	assert_int_equal(e->resolved_at, 1000);
	assert_int_equal(e->next_try, 1060);
	assert_false(rs_entry_due(e, 1059));
	assert_true(rs_entry_due(e, 1060));

	/* Round-robin order and a new TTL are not a change. */
	answer_of(&a, 1, shuffled);
	assert_false(rs_entry_answer(e, &a, 1060, &pol));
	assert_int_equal(e->ttl, pol.min_ttl_s);
	assert_int_equal(e->next_try, 1060 + pol.min_ttl_s);

	answer_of(&a, 30, other);
	assert_true(rs_entry_answer(e, &a, 1070, &pol));
	assert_int_equal(e->n, 2);
	rs_table_fini(&t);
}

static void
test_answer_keeps_lowest_eight(void **state)
{
	static const char *const many[] = {
		"192.0.2.10", "192.0.2.9", "192.0.2.8", "192.0.2.7",
		"192.0.2.6", "192.0.2.5", "192.0.2.4", "192.0.2.3",
		"192.0.2.2", "192.0.2.1", NULL,
	};
	struct rs_table t;
	struct rs_entry *e = one_entry(&t, "big.example.com");
	struct rs_answer a;

	(void)state;
	answer_of(&a, 300, many);
	assert_true(rs_entry_answer(e, &a, 1, &pol));
	assert_int_equal(e->n, RS_ADDRS_MAX);
	assert_string_equal(addr_at(e, 0), "192.0.2.1");
	assert_string_equal(addr_at(e, RS_ADDRS_MAX - 1), "192.0.2.8");
	rs_table_fini(&t);
}

static void
test_failure_keeps_last_good(void **state)
{
	static const char *const good[] = { "198.51.100.7", NULL };
	static const char *const none[] = { NULL };
	struct rs_table t;
	struct rs_entry *e = one_entry(&t, "origin.example.com");
	struct rs_answer a;

	(void)state;
	/* A failure before any success: nothing to push, a retry soon. */
	failure_of(&a, -ETIMEDOUT, "cannot resolve origin.example.com: "
		   "Timeout while contacting DNS servers");
	assert_false(rs_entry_answer(e, &a, 100, &pol));
	assert_int_equal(e->n, 0);
	assert_int_equal(e->failures, 1);
	assert_int_equal(e->next_try, 100 + pol.min_ttl_s);
	assert_null(rs_entry_json(e));

	answer_of(&a, 3600, good);
	assert_true(rs_entry_answer(e, &a, 105, &pol));
	assert_int_equal(e->failures, 0);
	assert_string_equal(e->last_error, "");

	failure_of(&a, -EAGAIN, "cannot resolve origin.example.com: "
		   "Server failed");
	assert_false(rs_entry_answer(e, &a, 3705, &pol));
	failure_of(&a, -EAGAIN, "cannot resolve origin.example.com: "
		   "Server failed");
	assert_false(rs_entry_answer(e, &a, 3710, &pol));
	assert_int_equal(e->failures, 2);
	assert_int_equal(e->failed_at, 3710);
	assert_int_equal(e->next_try, 3710 + 2 * pol.min_ttl_s);
	assert_string_equal(e->last_error,
			    "cannot resolve origin.example.com: Server failed");
	/* The last good answer is still what is pushed. */
	assert_int_equal(e->n, 1);
	assert_string_equal(addr_at(e, 0), "198.51.100.7");
	assert_int_equal(e->resolved_at, 105);

	/* An answer without an IPv4 address is a failure too. */
	answer_of(&a, 60, none);
	assert_false(rs_entry_answer(e, &a, 3720, &pol));
	assert_int_equal(e->failures, 3);
	assert_non_null(strstr(e->last_error, "no IPv4 address"));
	assert_int_equal(e->n, 1);

	/* Recovery with the same set: no push, the error is cleared. */
	answer_of(&a, 60, good);
	assert_false(rs_entry_answer(e, &a, 3750, &pol));
	assert_int_equal(e->failures, 0);
	assert_string_equal(e->last_error, "");
	rs_table_fini(&t);
}

static void
test_table_follows_configuration(void **state)
{
	struct rs_table t;
	char longname[RS_DOMAIN_MAX + 2];

	(void)state;
	rs_table_init(&t);
	assert_int_equal(rs_table_want(&t, "a.example.com"), 0);
	assert_int_equal(rs_table_want(&t, "b.example.com"), 0);
	assert_int_equal(rs_table_want(&t, "a.example.com"), 0);
	assert_int_equal(t.n, 2);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(rs_table_want(&t, longname), -EINVAL);
	assert_int_equal(rs_table_want(&t, ""), -EINVAL);

	rs_table_mark(&t);
	assert_int_equal(rs_table_want(&t, "b.example.com"), 0);
	assert_int_equal(rs_table_want(&t, "c.example.com"), 0);
	assert_int_equal(rs_table_sweep(&t), 1);
	assert_null(rs_table_find(&t, "a.example.com"));
	assert_non_null(rs_table_find(&t, "b.example.com"));
	assert_non_null(rs_table_find(&t, "c.example.com"));
	rs_table_fini(&t);
}

static void
test_persist_round_trip(void **state)
{
	static const char *const good[] = { "192.0.2.80", "192.0.2.7", NULL };
	struct rs_table t, u;
	struct rs_entry *e = one_entry(&t, "origin.example.com");
	struct rs_answer a;
	json_t *j, *pushed, *bad;
	char err[256];

	(void)state;
	assert_int_equal(rs_table_want(&t, "never.example.com"), 0);
	e = rs_table_find(&t, "origin.example.com");
	answer_of(&a, 120, good);
	rs_entry_answer(e, &a, 5000, &pol);

	pushed = rs_entry_json(e);
	assert_non_null(pushed);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(pushed, "addresses"), 0)), "192.0.2.7");
	assert_int_equal(json_integer_value(json_object_get(pushed, "ttl")),
			 120);
	assert_int_equal(json_integer_value(json_object_get(pushed,
			 "resolved_at")), 5000);
	json_decref(pushed);

	j = rs_table_save(&t);
	assert_non_null(j);
	/* A domain with no address yet is not worth keeping. */
	assert_int_equal(json_object_size(json_object_get(j, "domains")), 1);
	rs_table_init(&u);
	assert_int_equal(rs_table_load(&u, j, err, sizeof(err)), 0);
	e = rs_table_find(&u, "origin.example.com");
	assert_non_null(e);
	assert_int_equal(e->n, 2);
	assert_string_equal(addr_at(e, 1), "192.0.2.80");
	assert_int_equal(e->ttl, 120);
	assert_int_equal(e->resolved_at, 5000);
	assert_true(rs_entry_due(e, 0));
	/* Loaded, not yet wanted: a sweep before any reconcile drops it. */
	rs_table_mark(&u);
	assert_int_equal(rs_table_sweep(&u), 1);
	rs_table_fini(&u);
	json_decref(j);

	bad = json_pack("{s:{s:{s:[s], s:i, s:i}}}", "domains", "x.example.com",
			"addresses", "not-an-address", "ttl", 5,
			"resolved_at", 1);
	rs_table_init(&u);
	assert_int_equal(rs_table_load(&u, bad, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "x.example.com"));
	assert_int_equal(u.n, 0);
	rs_table_fini(&u);
	json_decref(bad);
	rs_table_fini(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_bounds),
		cmocka_unit_test(test_retry_backoff),
		cmocka_unit_test(test_answer_sorted_unique_and_change),
		cmocka_unit_test(test_answer_keeps_lowest_eight),
		cmocka_unit_test(test_failure_keeps_last_good),
		cmocka_unit_test(test_table_follows_configuration),
		cmocka_unit_test(test_persist_round_trip),
	};

	return cmocka_run_group_tests_name("resolve", tests, NULL, NULL);
}

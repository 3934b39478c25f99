/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * When the control plane refetches an OCSP response and how long it may
 * staple one: a table of validity windows against the default policy
 * (min 5 min, max 1 h, retry 5 min) and a lowered minimum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "controlplane/ocsp/ocsp_policy.h"

#define F       1700000000ull   /* fetched at */
#define MINUTE  60ull
#define HOUR    3600ull
#define DAY     86400ull

struct refresh_case {
	const char *what;
	uint64_t this_update, next_update;
	uint64_t want;          /* next refresh */
};

static void
test_refresh_table(void **state)
{
	const struct ocsp_policy p = OCSP_POLICY_DEFAULT;
	const struct refresh_case cases[] = {
		{ "7-day validity: hourly",
		  F - MINUTE, F - MINUTE + 7 * DAY, F + HOUR },
		{ "1-hour validity: at half",
		  F, F + HOUR, F + HOUR / 2 },
		{ "40-minute validity issued 30 min ago: midpoint passed",
		  F - 30 * MINUTE, F + 10 * MINUTE, F + 5 * MINUTE },
		{ "2-hour validity issued 1 h ago: at the midpoint, now+0",
		  F - HOUR, F + HOUR, F + 5 * MINUTE },
		{ "3-hour validity issued 1 h ago: midpoint 30 min ahead",
		  F - HOUR, F + 2 * HOUR, F + 30 * MINUTE },
		{ "1-minute validity: floor wins",
		  F, F + MINUTE, F + 5 * MINUTE },
		{ "no nextUpdate: hourly",
		  F - MINUTE, 0, F + HOUR },
		{ "already expired: as soon as allowed",
		  F - 2 * DAY, F - DAY, F + 5 * MINUTE },
		{ "nextUpdate before thisUpdate: as soon as allowed",
		  F, F - HOUR, F + 5 * MINUTE },
		{ "thisUpdate in the future (skew): hourly",
		  F + DAY, F + 3 * DAY, F + HOUR },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = ocsp_next_refresh(&p, F, cases[i].this_update,
						 cases[i].next_update);

		if (got != cases[i].want)
			fail_msg("%s: refresh at F%+lld, want F%+lld",
				 cases[i].what, (long long)(got - F),
				 (long long)(cases[i].want - F));
	}
}

/* A responder issuing 1-minute responses: with the default floor the
 * staple expires 4 minutes before the refetch (documented); lowering
 * --ocsp-min-refresh closes the gap. */
static void
test_short_validity(void **state)
{
	const struct ocsp_policy def = OCSP_POLICY_DEFAULT;
	const struct ocsp_policy low = { .min_refresh_s = 10,
					 .max_refresh_s = HOUR,
					 .retry_s = 10 };
	uint64_t next_update = F + MINUTE, t;

	(void)state;
	t = ocsp_next_refresh(&def, F, F, next_update);
	assert_int_equal(t, F + 300);
	assert_false(ocsp_staple_usable(next_update, t));

	t = ocsp_next_refresh(&low, F, F, next_update);
	assert_int_equal(t, F + 30);
	assert_true(ocsp_staple_usable(next_update, t));
}

static void
test_refresh_bounds(void **state)
{
	const struct ocsp_policy odd = { .min_refresh_s = 2 * HOUR,
					 .max_refresh_s = HOUR,
					 .retry_s = 0 };
	const struct ocsp_policy p = OCSP_POLICY_DEFAULT;
	uint64_t late = UINT64_MAX - 100;

	(void)state;
	/* min above max (misconfigured): the rate limit wins. */
	assert_int_equal(ocsp_next_refresh(&odd, F, F, F + 7 * DAY),
			 F + 2 * HOUR);
	/* Near the end of time the sums saturate instead of wrapping into
	 * the past (which would refetch in a loop). */
	assert_int_equal(ocsp_next_refresh(&p, late, late, 0), UINT64_MAX);
	assert_int_equal(ocsp_next_retry(&p, late, 0), UINT64_MAX);
}

static void
test_retry(void **state)
{
	const struct ocsp_policy p = OCSP_POLICY_DEFAULT;
	const struct ocsp_policy fast = { .min_refresh_s = 10,
					   .max_refresh_s = HOUR,
					   .retry_s = 30 };
	const struct ocsp_policy below = { .min_refresh_s = 300,
					   .max_refresh_s = HOUR,
					   .retry_s = 5 };
	const struct ocsp_policy zero = { 0 };

	(void)state;
	assert_int_equal(ocsp_next_retry(&p, F, F + DAY), F + 300);
	assert_int_equal(ocsp_next_retry(&p, F, 0), F + 300);
	assert_int_equal(ocsp_next_retry(&fast, F, F + DAY), F + 30);
	/* A retry faster than the rate limit is held to it. */
	assert_int_equal(ocsp_next_retry(&below, F, F + DAY), F + 300);
	/* Never a retry on every loop turn. */
	assert_int_equal(ocsp_next_retry(&zero, F, 0), F + 1);
}

static void
test_usable(void **state)
{
	const struct ocsp_policy p = OCSP_POLICY_DEFAULT;

	(void)state;
	assert_true(ocsp_staple_usable(F + HOUR, F));
	assert_true(ocsp_staple_usable(F + HOUR, F + HOUR - 1));
	assert_false(ocsp_staple_usable(F + HOUR, F + HOUR));
	assert_false(ocsp_staple_usable(F + HOUR, F + DAY));
	/* No nextUpdate: served for max_refresh_s after the fetch, as the
	 * header tells the caller to pass; a raw 0 is never served. */
	assert_false(ocsp_staple_usable(0, F));
	assert_true(ocsp_staple_usable(F + p.max_refresh_s, F + HOUR - 1));
	assert_false(ocsp_staple_usable(F + p.max_refresh_s, F + HOUR));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refresh_table),
		cmocka_unit_test(test_short_validity),
		cmocka_unit_test(test_refresh_bounds),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_usable),
	};

	return cmocka_run_group_tests_name("ocsp_policy", tests, NULL, NULL);
}

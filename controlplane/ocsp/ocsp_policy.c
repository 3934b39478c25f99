/* SPDX-License-Identifier: BSD-3-Clause */
#include "ocsp_policy.h"

static uint64_t
ocsp_add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t
ocsp_next_refresh(const struct ocsp_policy *p, uint64_t fetched_at,
		  uint64_t this_update, uint64_t next_update)
{
	uint64_t t = ocsp_add_sat(fetched_at, p->max_refresh_s);
	uint64_t earliest = ocsp_add_sat(fetched_at, p->min_refresh_s);
	uint64_t mid;

	if (next_update != 0) {
		/* A nextUpdate not after thisUpdate is a broken response:
		 * its "midpoint" is thisUpdate, so the clamp below asks for
		 * a new one as soon as the rate limit allows. */
		mid = next_update > this_update ?
		      this_update + (next_update - this_update) / 2 :
		      this_update;
		if (mid < t)
			t = mid;
	}
	return t < earliest ? earliest : t;
}

uint64_t
ocsp_next_retry(const struct ocsp_policy *p, uint64_t failed_at,
		uint64_t next_update)
{
	uint64_t delay = p->retry_s;

	(void)next_update;
	/* min_refresh_s is the responder's rate limit and holds for retries
	 * too; a zero delay would refetch on every loop turn. */
	if (delay < p->min_refresh_s)
		delay = p->min_refresh_s;
	if (delay == 0)
		delay = 1;
	return ocsp_add_sat(failed_at, delay);
}

bool
ocsp_staple_usable(uint64_t next_update, uint64_t now)
{
	return now < next_update;
}

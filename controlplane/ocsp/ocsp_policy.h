/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * When to fetch the next OCSP response, and whether a held staple may still
 * be served: pure functions of the times involved (unit-tested with an
 * injected clock).
 */
#ifndef RAMPART_OCSP_POLICY_H
#define RAMPART_OCSP_POLICY_H

#include <stdbool.h>
#include <stdint.h>

struct ocsp_policy {
	uint64_t min_refresh_s;   /* never refetch sooner (default 300) */
	uint64_t max_refresh_s;   /* refetch at least this often (default 3600) */
	uint64_t retry_s;         /* after a failed fetch (default 300, >= min) */
};

#define OCSP_POLICY_DEFAULT { .min_refresh_s = 300, .max_refresh_s = 3600, \
			      .retry_s = 300 }

/*
 * Next fetch after a successful one at fetched_at for a response valid
 * from this_update to next_update (0: no nextUpdate): the earlier of
 * fetched_at + max_refresh_s and the midpoint of the validity, but never
 * before fetched_at + min_refresh_s.
 *
 * The floor wins over the midpoint: a responder whose answers are valid
 * for less than min_refresh_s (some issue 1-minute responses) is
 * refetched only at fetched_at + min_refresh_s, after the staple has
 * expired, so it goes unstapled for part of each cycle. Lower
 * --ocsp-min-refresh for such responders.
 */
uint64_t ocsp_next_refresh(const struct ocsp_policy *p, uint64_t fetched_at,
			   uint64_t this_update, uint64_t next_update);

/* Next fetch after a failure at failed_at: failed_at + retry_s, where a
 * retry_s below min_refresh_s counts as min_refresh_s (the rate limit
 * holds for retries too). (A held staple stays served until its
 * next_update whatever the retries do.) */
uint64_t ocsp_next_retry(const struct ocsp_policy *p, uint64_t failed_at,
			 uint64_t next_update);

/*
 * True while a staple with this next_update may be served at now, that is
 * now < next_update.
 *
 * A response without nextUpdate (RFC 6960 2.4: newer information is
 * always available) is served for at most max_refresh_s: the caller
 * passes fetched_at + max_refresh_s as its next_update. A raw 0 means "no
 * known end" and is never usable, so such a staple is not served forever
 * when refreshes keep failing.
 */
bool ocsp_staple_usable(uint64_t next_update, uint64_t now);

#endif /* RAMPART_OCSP_POLICY_H */

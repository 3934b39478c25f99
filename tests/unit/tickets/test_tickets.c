/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session-ticket key schedule driven by an injected clock and random
 * source: two days of rotations the way the daemon runs them (tick, push,
 * promote after the dataplane's acknowledgement), with the guarantees a
 * client would notice checked at every minute: one encrypting key, a
 * ticket stays decryptable for kept * period, unique ids, distinct secrets.
 * Then the edges: clock steps back, a daemon off for days, forced
 * rotations, a failing or colliding random source, wiping.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "controlplane/tickets/tickets.h"

#define T0      1700000000ull          /* some unix time */
#define MINUTE  60ull
#define HOUR    3600ull
#define DAY     86400ull

/* A deterministic random stream (splitmix64), failure and collision
 * injection. */
static struct {
	uint64_t state;
	unsigned int calls;
	int fail_at;            /* call number that fails, 0: none */
	int fail_rc;
	const uint8_t *force;   /* bytes returned instead of the stream */
	int force_calls;        /* for this many calls */
} rs;

static uint64_t
splitmix(void)
{
	uint64_t z = (rs.state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int
test_rnd(uint8_t *buf, size_t len)
{
	uint64_t v;

	rs.calls++;
	if (rs.fail_at != 0 && rs.calls == (unsigned int)rs.fail_at)
		return rs.fail_rc;
	if (rs.force != NULL && rs.force_calls > 0) {
		rs.force_calls--;
		memcpy(buf, rs.force, len);
		return 0;
	}
	for (size_t i = 0; i < len; i += sizeof(v)) {
		v = splitmix();
		memcpy(buf + i, &v, len - i < sizeof(v) ? len - i : sizeof(v));
	}
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	memset(&rs, 0, sizeof(rs));
	rs.state = 42;
	return 0;
}

static unsigned int
count_role(const struct tk_ring *r, enum tk_role role)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < r->n; i++)
		n += r->keys[i].role == role;
	return n;
}

static bool
has_id(const struct tk_ring *r, const uint8_t id[TK_ID_LEN])
{
	for (unsigned int i = 0; i < r->n; i++)
		if (memcmp(r->keys[i].id, id, TK_ID_LEN) == 0)
			return true;
	return false;
}

static const struct tk_key *
encrypting(const struct tk_ring *r)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (r->keys[i].role == TK_ENCRYPT)
			return &r->keys[i];
	return NULL;
}

static bool
all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* Invariants that hold after every step the daemon takes. */
static void
check_ring(const struct tk_ring *r)
{
	assert_int_equal(count_role(r, TK_ENCRYPT), 1);
	assert_true(count_role(r, TK_DECRYPT) <= r->kept);
	assert_true(count_role(r, TK_PENDING) <= 1);
	assert_true(r->n <= TK_RING_MAX);
	for (unsigned int i = 0; i < r->n; i++) {
		for (unsigned int j = i + 1; j < r->n; j++) {
			assert_memory_not_equal(r->keys[i].id, r->keys[j].id,
						TK_ID_LEN);
			assert_memory_not_equal(r->keys[i].secret,
						r->keys[j].secret,
						TK_SECRET_LEN);
		}
		assert_false(all_zero(r->keys[i].secret, TK_SECRET_LEN));
	}
	/* Dropped keys leave no secret behind in the unused slots. */
	for (unsigned int i = r->n; i < TK_RING_MAX; i++)
		assert_true(all_zero(&r->keys[i], sizeof(r->keys[i])));
}

/* A ticket issued at `at` under key `id`. */
struct issued {
	uint64_t at;
	uint8_t id[TK_ID_LEN];
};

/*
 * Walk `duration` seconds in 1-minute steps as the daemon would: the
 * dataplane acknowledges a pending key `ack_steps` minutes after the
 * push, then tk_promote runs. A ticket is issued every minute with the
 * encrypting key of the moment. Returns the number of promotions.
 */
static unsigned int
walk(uint64_t period, unsigned int kept, unsigned int ack_steps,
     uint64_t duration)
{
	static struct issued tickets[3 * 24 * 60 + 1];
	struct tk_ring r;
	unsigned int nt = 0, promotions = 0, wait = 0;
	bool pending = false;
	uint64_t now;
	int rc;

	assert_true(duration / MINUTE < sizeof(tickets) / sizeof(tickets[0]));
	tk_ring_init(&r, period, kept);
	for (now = T0; now <= T0 + duration; now += MINUTE) {
		if (pending && --wait == 0) {
			tk_promote(&r, now);
			pending = false;
			promotions++;
			assert_int_equal(r.next_rotation, now + period);
		}
		rc = tk_tick(&r, now, test_rnd);
		assert_true(rc >= 0);
		if (now == T0)
			assert_int_equal(rc, TK_PUSH_PROMOTED);
		else
			assert_int_not_equal(rc, TK_PUSH_PROMOTED);
		if (rc == TK_PUSH_PENDING) {
			assert_false(pending);
			pending = true;
			wait = ack_steps;
			if (ack_steps == 0) {
				tk_promote(&r, now);
				pending = false;
				promotions++;
			}
		}
		check_ring(&r);

		memcpy(tickets[nt].id, encrypting(&r)->id, TK_ID_LEN);
		tickets[nt++].at = now;
		/* Every ticket issued in the last kept periods still opens. */
		for (unsigned int i = 0; i < nt; i++)
			if (now - tickets[i].at <= kept * period)
				assert_true(has_id(&r, tickets[i].id));
	}
	return promotions;
}

static void
test_walk_two_days(void **state)
{
	unsigned int p;

	(void)state;
	/* Defaults, the dataplane acknowledging a minute later: one rotation
	 * per period plus the acknowledgement delay. */
	p = walk(HOUR, 2, 1, 2 * DAY);
	assert_true(p >= 2 * DAY / (HOUR + MINUTE) - 1);
	assert_true(p <= 2 * DAY / HOUR);
	/* Acknowledged within the same minute: exactly one per hour. */
	assert_int_equal(walk(HOUR, 2, 0, 2 * DAY), 48);
	/* A slow acknowledgement (10 minutes) changes nothing for clients. */
	assert_true(walk(HOUR, 2, 10, 2 * DAY) >= 40);
	/* The largest ring, rotated every 10 minutes. */
	assert_true(walk(10 * MINUTE, TK_MAX_KEPT, 1, 2 * DAY) >= 2 * DAY /
		    (11 * MINUTE) - 1);
	/* No decrypt-only keys: the old key goes at once. */
	assert_int_equal(walk(HOUR, 0, 0, DAY), 24);
}

static void
test_first_tick(void **state)
{
	struct tk_ring r;

	(void)state;
	tk_ring_init(&r, HOUR, 2);
	assert_int_equal(r.n, 0);
	assert_int_equal(tk_tick(&r, T0, test_rnd), TK_PUSH_PROMOTED);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.keys[0].role, TK_ENCRYPT);
	assert_int_equal(r.keys[0].created, T0);
	assert_int_equal(r.next_rotation, T0 + HOUR);
	assert_int_equal(tk_tick(&r, T0, test_rnd), TK_NOTHING);
	assert_int_equal(tk_tick(&r, T0 + HOUR - 1, test_rnd), TK_NOTHING);
	assert_int_equal(r.n, 1);
}

static void
test_two_phase(void **state)
{
	struct tk_ring r, before;
	uint8_t old_id[TK_ID_LEN], new_id[TK_ID_LEN];

	(void)state;
	tk_ring_init(&r, HOUR, 2);
	tk_tick(&r, T0, test_rnd);
	memcpy(old_id, r.keys[0].id, TK_ID_LEN);

	assert_int_equal(tk_tick(&r, T0 + HOUR, test_rnd), TK_PUSH_PENDING);
	assert_int_equal(r.n, 2);
	/* The new key does not encrypt until the dataplane has it. */
	assert_int_equal(r.keys[0].role, TK_PENDING);
	assert_int_equal(r.keys[1].role, TK_ENCRYPT);
	assert_memory_equal(r.keys[1].id, old_id, TK_ID_LEN);
	memcpy(new_id, r.keys[0].id, TK_ID_LEN);

	/* Waiting for the acknowledgement: no second pending key, however
	 * late it is. */
	assert_int_equal(tk_tick(&r, T0 + 5 * HOUR, test_rnd), TK_NOTHING);
	assert_int_equal(tk_rotate_now(&r, T0 + 5 * HOUR, test_rnd),
			 TK_NOTHING);
	assert_int_equal(r.n, 2);

	tk_promote(&r, T0 + HOUR + 5);
	assert_int_equal(r.keys[0].role, TK_ENCRYPT);
	assert_memory_equal(r.keys[0].id, new_id, TK_ID_LEN);
	assert_int_equal(r.keys[1].role, TK_DECRYPT);
	assert_int_equal(r.next_rotation, T0 + 2 * HOUR + 5);

	/* Nothing pending: promote changes nothing. */
	before = r;
	tk_promote(&r, T0 + 3 * HOUR);
	assert_memory_equal(&r, &before, sizeof(r));
}

static void
test_kept_drops_oldest(void **state)
{
	uint8_t ids[4][TK_ID_LEN];
	struct tk_ring r;
	uint64_t now = T0;

	(void)state;
	tk_ring_init(&r, HOUR, 2);
	tk_tick(&r, now, test_rnd);
	memcpy(ids[0], r.keys[0].id, TK_ID_LEN);
	for (int i = 1; i < 4; i++) {
		now += HOUR;
		assert_int_equal(tk_tick(&r, now, test_rnd), TK_PUSH_PENDING);
		tk_promote(&r, now);
		memcpy(ids[i], r.keys[0].id, TK_ID_LEN);
	}
	/* newest encrypts, the two before decrypt, the first is gone */
	assert_int_equal(r.n, 3);
	assert_memory_equal(r.keys[0].id, ids[3], TK_ID_LEN);
	assert_memory_equal(r.keys[1].id, ids[2], TK_ID_LEN);
	assert_memory_equal(r.keys[2].id, ids[1], TK_ID_LEN);
	assert_false(has_id(&r, ids[0]));
	assert_true(all_zero(&r.keys[3], sizeof(r.keys[3])));
}

static void
test_kept_clamped(void **state)
{
	struct tk_ring r;
	uint64_t now = T0;

	(void)state;
	tk_ring_init(&r, HOUR, 1000);
	assert_int_equal(r.kept, TK_MAX_KEPT);
	/* Even a caller that raises kept afterwards cannot overflow. */
	r.kept = 1000;
	tk_tick(&r, now, test_rnd);
	for (int i = 0; i < 3 * TK_RING_MAX; i++) {
		now += HOUR;
		assert_int_equal(tk_tick(&r, now, test_rnd), TK_PUSH_PENDING);
		assert_true(r.n <= TK_RING_MAX);
		tk_promote(&r, now);
		assert_int_equal(count_role(&r, TK_ENCRYPT), 1);
		assert_true(count_role(&r, TK_DECRYPT) <= TK_MAX_KEPT);
	}
	assert_int_equal(r.n, TK_MAX_KEPT + 1);
}

static void
test_clock_backwards(void **state)
{
	struct tk_ring r;
	unsigned int rotations = 0;
	uint64_t now, back;

	(void)state;
	tk_ring_init(&r, HOUR, 2);
	tk_tick(&r, T0, test_rnd);

	/* A small step back (NTP correction): no rotation, and the key
	 * still encrypts for one period of real time, not one plus the
	 * step. A smaller step back changes nothing. */
	assert_int_equal(tk_tick(&r, T0 - 600, test_rnd), TK_NOTHING);
	assert_int_equal(r.next_rotation, T0 - 600 + HOUR);
	assert_int_equal(r.n, 1);
	assert_int_equal(tk_tick(&r, T0 + 600, test_rnd), TK_NOTHING);
	assert_int_equal(tk_tick(&r, T0 - 100, test_rnd), TK_NOTHING);
	assert_int_equal(r.next_rotation, T0 - 600 + HOUR);

	/* A big step back (bad RTC date corrected): no burst of rotations,
	 * and the key does not keep encrypting for 30 days either; the next
	 * rotation comes one period after the new time. */
	back = T0 - 30 * DAY;
	for (now = back; now < back + 3 * HOUR; now += MINUTE) {
		if (tk_tick(&r, now, test_rnd) == TK_PUSH_PENDING) {
			rotations++;
			tk_promote(&r, now);
		}
		assert_true(r.next_rotation <= now + HOUR);
	}
	assert_int_equal(rotations, 2);
	check_ring(&r);
}

static void
test_long_downtime(void **state)
{
	struct tk_ring r;
	uint64_t now = T0 + 10 * DAY;

	(void)state;
	tk_ring_init(&r, HOUR, 2);
	tk_tick(&r, T0, test_rnd);
	/* Off for ten days: one rotation, not 240. */
	assert_int_equal(tk_tick(&r, now, test_rnd), TK_PUSH_PENDING);
	tk_promote(&r, now);
	assert_int_equal(r.next_rotation, now + HOUR);
	for (now += MINUTE; now < T0 + 10 * DAY + HOUR; now += MINUTE)
		assert_int_equal(tk_tick(&r, now, test_rnd), TK_NOTHING);
	assert_int_equal(tk_tick(&r, now, test_rnd), TK_PUSH_PENDING);
	assert_int_equal(r.n, 3);
}

static void
test_rotate_now(void **state)
{
	struct tk_ring r;
	uint8_t first[TK_ID_LEN];

	(void)state;
	tk_ring_init(&r, HOUR, 2);
	/* On an empty ring it creates the first key. */
	assert_int_equal(tk_rotate_now(&r, T0, test_rnd), TK_PUSH_PROMOTED);
	memcpy(first, r.keys[0].id, TK_ID_LEN);
	/* Long before it is due. */
	assert_int_equal(tk_rotate_now(&r, T0 + 10, test_rnd),
			 TK_PUSH_PENDING);
	assert_int_equal(r.keys[0].role, TK_PENDING);
	tk_promote(&r, T0 + 11);
	assert_memory_not_equal(encrypting(&r)->id, first, TK_ID_LEN);
	assert_int_equal(r.keys[1].role, TK_DECRYPT);
	assert_memory_equal(r.keys[1].id, first, TK_ID_LEN);
	/* The schedule restarts from the forced rotation. */
	assert_int_equal(r.next_rotation, T0 + 11 + HOUR);
	assert_int_equal(tk_tick(&r, T0 + HOUR, test_rnd), TK_NOTHING);
	check_ring(&r);
}

static void
test_rnd_failure(void **state)
{
	struct tk_ring r, before;

	(void)state;
	tk_ring_init(&r, HOUR, 2);
	rs.fail_at = 1;
	rs.fail_rc = -ENOSYS;
	assert_int_equal(tk_tick(&r, T0, test_rnd), -ENOSYS);
	assert_int_equal(r.n, 0);

	rs.fail_at = 0;
	assert_int_equal(tk_tick(&r, T0, test_rnd), TK_PUSH_PROMOTED);
	before = r;
	/* Failing on the id, then on the secret: the ring is untouched. */
	rs.calls = 0;
	rs.fail_at = 1;
	assert_int_equal(tk_tick(&r, T0 + HOUR, test_rnd), -ENOSYS);
	assert_memory_equal(&r, &before, sizeof(r));
	rs.calls = 0;
	rs.fail_at = 2;
	assert_int_equal(tk_rotate_now(&r, T0 + 10, test_rnd), -ENOSYS);
	assert_memory_equal(&r, &before, sizeof(r));
	/* A source that reports failure without an errno. */
	rs.calls = 0;
	rs.fail_at = 1;
	rs.fail_rc = 1;
	assert_int_equal(tk_tick(&r, T0 + HOUR, test_rnd), -EIO);
	assert_memory_equal(&r, &before, sizeof(r));
	/* Recovered: the next tick rotates. */
	rs.fail_at = 0;
	assert_int_equal(tk_tick(&r, T0 + HOUR, test_rnd), TK_PUSH_PENDING);
}

static void
test_id_collision(void **state)
{
	struct tk_ring r, before;

	(void)state;
	tk_ring_init(&r, HOUR, 2);
	tk_tick(&r, T0, test_rnd);
	/* The next id drawn repeats the existing one: drawn again. */
	rs.force = r.keys[0].id;
	rs.force_calls = 1;
	rs.calls = 0;
	assert_int_equal(tk_tick(&r, T0 + HOUR, test_rnd), TK_PUSH_PENDING);
	assert_int_equal(rs.calls, 3);          /* id, id again, secret */
	assert_memory_not_equal(r.keys[0].id, r.keys[1].id, TK_ID_LEN);
	tk_promote(&r, T0 + HOUR);

	/* A source stuck on one value never yields a duplicate id. */
	before = r;
	rs.force = r.keys[1].id;
	rs.force_calls = 1000;
	assert_int_equal(tk_rotate_now(&r, T0 + HOUR + 1, test_rnd), -EAGAIN);
	assert_memory_equal(&r, &before, sizeof(r));
}

static void
test_wipe(void **state)
{
	struct tk_ring r;

	(void)state;
	tk_ring_init(&r, HOUR, 2);
	tk_tick(&r, T0, test_rnd);
	tk_rotate_now(&r, T0 + 1, test_rnd);
	tk_promote(&r, T0 + 1);
	tk_rotate_now(&r, T0 + 2, test_rnd);
	assert_int_equal(r.n, 3);
	tk_ring_wipe(&r);
	assert_int_equal(r.n, 0);
	assert_true(all_zero(r.keys, sizeof(r.keys)));
	/* The schedule survives; the next tick starts a fresh ring. */
	assert_int_equal(r.period_s, HOUR);
	assert_int_equal(tk_tick(&r, T0 + 3, test_rnd), TK_PUSH_PROMOTED);
}

static void
test_id_hex(void **state)
{
	const uint8_t id[TK_ID_LEN] = {
		0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
		0xef, 0xff, 0x10, 0x20, 0x30, 0x40, 0x50, 0x9a,
	};
	char hex[2 * TK_ID_LEN + 1];

	(void)state;
	memset(hex, 'x', sizeof(hex));
	tk_id_hex(id, hex);
	assert_string_equal(hex, "000123456789abcdefff10203040509a");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_walk_two_days, setup),
		cmocka_unit_test_setup(test_first_tick, setup),
		cmocka_unit_test_setup(test_two_phase, setup),
		cmocka_unit_test_setup(test_kept_drops_oldest, setup),
		cmocka_unit_test_setup(test_kept_clamped, setup),
		cmocka_unit_test_setup(test_clock_backwards, setup),
		cmocka_unit_test_setup(test_long_downtime, setup),
		cmocka_unit_test_setup(test_rotate_now, setup),
		cmocka_unit_test_setup(test_rnd_failure, setup),
		cmocka_unit_test_setup(test_id_collision, setup),
		cmocka_unit_test_setup(test_wipe, setup),
		cmocka_unit_test_setup(test_id_hex, setup),
	};

	return cmocka_run_group_tests_name("tickets", tests, NULL, NULL);
}

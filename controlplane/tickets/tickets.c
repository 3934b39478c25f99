/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "tickets.h"

/* Key ids are 128 random bits; a collision means a broken random source
 * far more likely than bad luck, so a few retries are plenty. */
#define TK_ID_TRIES  8

static unsigned int
tk_kept(const struct tk_ring *r)
{
	return r->kept > TK_MAX_KEPT ? TK_MAX_KEPT : r->kept;
}

static uint64_t
tk_add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void
tk_key_wipe(struct tk_key *k)
{
	explicit_bzero(k, sizeof(*k));
}

static bool
tk_id_in_ring(const struct tk_ring *r, const uint8_t id[TK_ID_LEN])
{
	for (unsigned int i = 0; i < r->n; i++)
		if (memcmp(r->keys[i].id, id, TK_ID_LEN) == 0)
			return true;
	return false;
}

static bool
tk_has_pending(const struct tk_ring *r)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (r->keys[i].role == TK_PENDING)
			return true;
	return false;
}

/* Drop the key at index i, keeping the rest in order. */
static void
tk_remove(struct tk_ring *r, unsigned int i)
{
	tk_key_wipe(&r->keys[i]);
	memmove(&r->keys[i], &r->keys[i + 1],
		(r->n - i - 1) * sizeof(r->keys[0]));
	r->n--;
	tk_key_wipe(&r->keys[r->n]);
}

/* Fill a fresh key from rnd. The ring is untouched on failure, and the
 * half-made key never outlives this function. */
static int
tk_make_key(const struct tk_ring *r, struct tk_key *k, uint64_t now,
	    enum tk_role role, tk_random_fn rnd)
{
	int rc, tries;

	memset(k, 0, sizeof(*k));
	for (tries = 0; tries < TK_ID_TRIES; tries++) {
		rc = rnd(k->id, TK_ID_LEN);
		if (rc != 0)
			goto fail;
		if (!tk_id_in_ring(r, k->id))
			break;
	}
	if (tries == TK_ID_TRIES) {
		rc = -EAGAIN;
		goto fail;
	}
	rc = rnd(k->secret, TK_SECRET_LEN);
	if (rc != 0)
		goto fail;
	k->role = role;
	k->created = now;
	return 0;
fail:
	tk_key_wipe(k);
	return rc < 0 ? rc : -EIO;
}

void
tk_ring_init(struct tk_ring *r, uint64_t period_s, unsigned int kept)
{
	memset(r, 0, sizeof(*r));
	/* A zero period would rotate on every tick. */
	r->period_s = period_s > 0 ? period_s : 1;
	r->kept = kept > TK_MAX_KEPT ? TK_MAX_KEPT : kept;
}

static int
tk_first_key(struct tk_ring *r, uint64_t now, tk_random_fn rnd)
{
	struct tk_key k;
	int rc;

	rc = tk_make_key(r, &k, now, TK_ENCRYPT, rnd);
	if (rc != 0)
		return rc;
	r->keys[0] = k;
	tk_key_wipe(&k);
	r->n = 1;
	r->next_rotation = tk_add_sat(now, r->period_s);
	return TK_PUSH_PROMOTED;
}

static int
tk_add_pending(struct tk_ring *r, uint64_t now, tk_random_fn rnd)
{
	struct tk_key k;
	int rc;

	rc = tk_make_key(r, &k, now, TK_PENDING, rnd);
	if (rc != 0)
		return rc;
	/* Cannot happen while kept <= TK_MAX_KEPT (promote trims to
	 * 1 + kept); if a caller raised r->kept past the bound, the oldest
	 * decrypt-only key makes room rather than the ring overflowing. */
	if (r->n == TK_RING_MAX)
		tk_remove(r, r->n - 1);
	memmove(&r->keys[1], &r->keys[0], r->n * sizeof(r->keys[0]));
	r->keys[0] = k;
	r->n++;
	tk_key_wipe(&k);
	return TK_PUSH_PENDING;
}

int
tk_tick(struct tk_ring *r, uint64_t now, tk_random_fn rnd)
{
	if (r->n == 0)
		return tk_first_key(r, now, rnd);
	if (tk_has_pending(r))
		return TK_NOTHING;
	/*
	 * After the clock steps back, the deadline may lie more than a period
	 * ahead, and the key would keep encrypting until the clock caught up
	 * again (years, after a bad RTC date is fixed). Keep it within one
	 * period of now: no burst of rotations, and no key encrypts for
	 * longer than a period of real time. A step back no larger than the
	 * time since the deadline was set leaves it alone.
	 */
	if (r->next_rotation > tk_add_sat(now, r->period_s))
		r->next_rotation = tk_add_sat(now, r->period_s);
	/* However long the daemon was off, one rotation: tk_promote then
	 * schedules the next one a full period from now. */
	if (now < r->next_rotation)
		return TK_NOTHING;
	return tk_add_pending(r, now, rnd);
}

int
tk_rotate_now(struct tk_ring *r, uint64_t now, tk_random_fn rnd)
{
	if (r->n == 0 || tk_has_pending(r))
		return tk_tick(r, now, rnd);
	return tk_add_pending(r, now, rnd);
}

void
tk_promote(struct tk_ring *r, uint64_t now)
{
	unsigned int i, decrypt = 0;

	if (!tk_has_pending(r))
		return;
	for (i = 0; i < r->n; i++) {
		if (r->keys[i].role == TK_PENDING)
			r->keys[i].role = TK_ENCRYPT;
		else if (r->keys[i].role == TK_ENCRYPT)
			r->keys[i].role = TK_DECRYPT;
	}
	/* Newest first: the first `kept` decrypt-only keys stay. */
	i = 0;
	while (i < r->n) {
		if (r->keys[i].role == TK_DECRYPT && ++decrypt > tk_kept(r)) {
			tk_remove(r, i);
			continue;
		}
		i++;
	}
	r->next_rotation = tk_add_sat(now, r->period_s);
}

void
tk_id_hex(const uint8_t id[TK_ID_LEN], char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (unsigned int i = 0; i < TK_ID_LEN; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 0xf];
	}
	out[2 * TK_ID_LEN] = '\0';
}

void
tk_ring_wipe(struct tk_ring *r)
{
	explicit_bzero(r->keys, sizeof(r->keys));
	r->n = 0;
}

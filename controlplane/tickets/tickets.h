/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session-ticket key schedule. The ring is plain data; the schedule is a
 * pure function of the ring and an injected clock, so unit tests can walk
 * days of rotations in microseconds. The daemon applies what tk_tick()
 * asks for and pushes the ring to the dataplane after each change.
 *
 * Rotation is two-phase so no worker meets a ticket it cannot open:
 *   1. tk_tick() (at next_rotation) or tk_rotate_now() adds a fresh key as
 *      decrypt-only (state TK_PENDING) → push → dataplane acknowledges;
 *   2. tk_promote() makes the pending key the encrypting one, demotes the
 *      old, drops keys beyond `kept` decrypt-only ones → push.
 */
#ifndef RAMPART_TICKETS_H
#define RAMPART_TICKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TK_ID_LEN      16
#define TK_SECRET_LEN  64
#define TK_MAX_KEPT    8
#define TK_RING_MAX    (TK_MAX_KEPT + 2)

enum tk_role { TK_ENCRYPT, TK_DECRYPT, TK_PENDING };

struct tk_key {
	uint8_t id[TK_ID_LEN];
	uint8_t secret[TK_SECRET_LEN];
	enum tk_role role;
	uint64_t created;               /* unix seconds */
};

struct tk_ring {
	struct tk_key keys[TK_RING_MAX];  /* newest first */
	unsigned int n;
	uint64_t period_s;                /* rotation period (default 3600) */
	unsigned int kept;                /* decrypt-only keys kept (default 2) */
	uint64_t next_rotation;           /* unix seconds */
};

/* Random bytes source (seal_random in the daemon; a counter in tests). */
typedef int (*tk_random_fn)(uint8_t *buf, size_t len);

/* Empty ring with the schedule set; tk_tick at `now` then creates the
 * first key (it is promoted at once: nothing can hold tickets yet). */
void tk_ring_init(struct tk_ring *r, uint64_t period_s, unsigned int kept);

enum tk_action { TK_NOTHING, TK_PUSH_PENDING, TK_PUSH_PROMOTED };

/*
 * Advance the schedule to now. Returns TK_PUSH_PENDING when a new
 * decrypt-only key was added (push, then call tk_promote after the
 * acknowledgement), TK_PUSH_PROMOTED when the ring was created (first key,
 * already encrypting), or TK_NOTHING. If a pending key is already waiting,
 * it does nothing (the caller must promote first). Returns a negative errno
 * when rnd fails.
 */
int tk_tick(struct tk_ring *r, uint64_t now, tk_random_fn rnd);

/* Force a rotation now (rampartctl tickets rotate): as tk_tick when due. */
int tk_rotate_now(struct tk_ring *r, uint64_t now, tk_random_fn rnd);

/* Phase 2: the pending key encrypts, the previous encrypting key becomes
 * decrypt-only, decrypt-only keys beyond r->kept are wiped and dropped,
 * next_rotation = now + period. No-op when nothing is pending. */
void tk_promote(struct tk_ring *r, uint64_t now);

/* Lower-hex of id into out[2*TK_ID_LEN+1]. */
void tk_id_hex(const uint8_t id[TK_ID_LEN], char *out);

/* Wipe all secrets. */
void tk_ring_wipe(struct tk_ring *r);

#endif /* RAMPART_TICKETS_H */

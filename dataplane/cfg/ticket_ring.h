/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session-ticket key ring as the workers see it: an immutable array of
 * up to CFG_TICKET_KEYS_MAX keys, exactly one of which encrypts new
 * tickets; the others only decrypt. The control thread builds a new ring
 * for each tickets_set and swaps it in with RCU; the old ring is wiped
 * after the grace period. The control plane's two-phase rotation
 * (docs/CONTROL.md) relies on cfg_ticket_ring_publish returning only after
 * that grace period: once the dataplane answers, every worker sees the new
 * key.
 */
#ifndef RAMPART_CFG_TICKET_RING_H
#define RAMPART_CFG_TICKET_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CFG_TICKET_ID_LEN     16
#define CFG_TICKET_SECRET_LEN 64
#define CFG_TICKET_KEYS_MAX   10

struct cfg_ticket_key {
	uint8_t id[CFG_TICKET_ID_LEN];          /* the ticket's key name */
	uint8_t secret[CFG_TICKET_SECRET_LEN];
	bool encrypt;
};

struct cfg_ticket_ring {
	unsigned int nb_keys;
	unsigned int encrypt;           /* index of the encrypting key */
	struct cfg_ticket_key keys[CFG_TICKET_KEYS_MAX];
};

/*
 * Build a ring from the `keys` argument of tickets_set: an array of 1 to
 * CFG_TICKET_KEYS_MAX objects {"id": 32 hex, "secret": 128 hex, "encrypt":
 * bool}, exactly one encrypting, ids unique. Returns a new ring (free with
 * cfg_ticket_ring_free) or NULL with a sentence in err. Any thread.
 */
struct cfg_ticket_ring *cfg_ticket_ring_from_json(const json_t *keys,
						  char *err, size_t errlen);

/* Wipe the secrets and free r (NULL is ignored). Once no reader can
 * hold r. */
void cfg_ticket_ring_free(struct cfg_ticket_ring *r);

/* The key that encrypts new tickets. r not NULL. */
const struct cfg_ticket_key *
cfg_ticket_ring_encrypt_key(const struct cfg_ticket_ring *r);

/* The key named id (to decrypt a ticket), or NULL. */
const struct cfg_ticket_key *
cfg_ticket_ring_find(const struct cfg_ticket_ring *r,
		     const uint8_t id[CFG_TICKET_ID_LEN]);

/*
 * Store r in *slot (taking ownership; NULL withdraws the ring), wait for an
 * RCU grace period, then wipe and free the previous ring. Returns only when
 * every worker has passed a quiescent state. Control thread (a registered
 * QSBR thread), one publisher at a time.
 */
void cfg_ticket_ring_publish(struct cfg_ticket_ring **slot,
			     struct cfg_ticket_ring *r);

/* The published ring or NULL, valid until the caller's next quiescent
 * state; copy a key to keep it longer. Registered, online threads. */
const struct cfg_ticket_ring *
cfg_ticket_ring_current(struct cfg_ticket_ring *const *slot);

#endif /* RAMPART_CFG_TICKET_RING_H */

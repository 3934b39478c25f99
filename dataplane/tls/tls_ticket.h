/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session-ticket protection with the ring the control plane rotates
 * (dataplane/cfg/ticket_ring.h). wolfSSL's ticket callback hands us the
 * ticket's key-name, IV and MAC fields and the state to seal in place; this
 * module is that callback's body without wolfSSL types, so the rotation
 * rules are unit-tested directly:
 *   - seal with the ring's encrypting key (AES-256-GCM, key from the key's
 *     secret, the caller's random IV, the tag in mac, the key name as
 *     AAD);
 *   - open with whichever ring key the name designates; a ticket opened
 *     with a key that no longer encrypts is accepted and flagged so the
 *     server issues a fresh one (*renew);
 *   - an unknown name, a bad tag or a short ticket: rejected WITHOUT
 *     touching the ticket bytes, cheaply (wolfSSL may try the same ticket
 *     once per candidate suite).
 * Any worker; no locks, no allocation. The ring pointer is the caller's
 * rcu_dereference'd view.
 */
#ifndef RAMPART_TLS_TICKET_H
#define RAMPART_TLS_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg/ticket_ring.h"

#define TLS_TICKET_NAME_LEN 16
#define TLS_TICKET_IV_LEN   16  /* of which 12 are used as the GCM nonce */
#define TLS_TICKET_MAC_LEN  32  /* of which 16 carry the GCM tag */

enum tls_ticket_rc {
	TLS_TICKET_OK,          /* sealed, or opened with the encrypting key */
	TLS_TICKET_RENEW,       /* opened with an older key: issue a new one */
	TLS_TICKET_REJECT,      /* unknown key, bad tag, malformed: full handshake */
	TLS_TICKET_FATAL,       /* no ring, buffer too small, RNG failure */
};

/* Seal ticket[0..in_len) in place (ciphertext has the same length).
 * iv holds random bytes from the caller (the session's DRBG: no syscall
 * here); fills name and mac; *out_len = in_len. */
enum tls_ticket_rc tls_ticket_seal(const struct cfg_ticket_ring *ring,
				   uint8_t name[TLS_TICKET_NAME_LEN],
				   const uint8_t iv[TLS_TICKET_IV_LEN],
				   uint8_t mac[TLS_TICKET_MAC_LEN],
				   uint8_t *ticket, size_t in_len,
				   size_t *out_len);

/* Open ticket[0..in_len) in place; on anything but OK/RENEW the bytes are
 * unchanged. */
enum tls_ticket_rc tls_ticket_open(const struct cfg_ticket_ring *ring,
				   const uint8_t name[TLS_TICKET_NAME_LEN],
				   const uint8_t iv[TLS_TICKET_IV_LEN],
				   const uint8_t mac[TLS_TICKET_MAC_LEN],
				   uint8_t *ticket, size_t in_len,
				   size_t *out_len);

#endif /* RAMPART_TLS_TICKET_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ticket sealing with the rotated ring. Format decisions:
 *   - AES-256-GCM key: the first 32 bytes of the ring key's 64-byte secret.
 *     The secret is uniform CSPRNG output (docs/CONTROL.md), so its first
 *     half is already a uniform AES key; a per-call HKDF would only add two
 *     HMACs to a callback wolfSSL may run once per candidate suite. The
 *     second half is unused and reserved.
 *   - nonce: iv[0..12). The caller draws the IV from its DRBG for every
 *     seal; nonce uniqueness under one key is the caller's duty (96 random
 *     bits: far beyond the number of tickets one key encrypts in its
 *     lifetime).
 *   - AAD: the key name followed by the whole 16-byte IV, so that no byte
 *     of the ticket wolfSSL sends (name, IV, state, MAC) can be altered
 *     without failing the tag; mac[0..16) is the tag and mac[16..32) is
 *     zero, checked on open for the same reason.
 * Opening decrypts into a stack buffer and copies back only once the tag
 * has verified, because wolfCrypt's AES-NI GCM decrypts before it compares
 * the tag: a rejected ticket is never modified, and wolfSSL can offer the
 * same bytes to the callback again.
 */
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>

#include "tls_ticket.h"

/*
 * Largest state sealed or opened. wolfSSL 5.5.4 hands the callback
 * sizeof(InternalTicket) bytes to seal (108 with our build options) and
 * accepts up to WOLFSSL_TICKET_ENC_SZ (that plus 32 bytes of padding, 140)
 * back; internal.h is not installed, so the bound is ours, with room for
 * option changes. Anything longer is not one of our tickets.
 */
#define TLS_TICKET_STATE_MAX    256

#define GCM_KEY_LEN     32
#define GCM_NONCE_LEN   12
#define GCM_TAG_LEN     16
#define AAD_LEN         (TLS_TICKET_NAME_LEN + TLS_TICKET_IV_LEN)

_Static_assert(GCM_KEY_LEN <= CFG_TICKET_SECRET_LEN,
	       "the AES key is taken from the ring key's secret");
_Static_assert(GCM_TAG_LEN <= TLS_TICKET_MAC_LEN, "the tag fits in mac");
_Static_assert(CFG_TICKET_ID_LEN == TLS_TICKET_NAME_LEN,
	       "a ticket's key name is a ring key id");

static void
make_aad(uint8_t aad[AAD_LEN], const uint8_t name[TLS_TICKET_NAME_LEN],
	 const uint8_t iv[TLS_TICKET_IV_LEN])
{
	memcpy(aad, name, TLS_TICKET_NAME_LEN);
	memcpy(aad + TLS_TICKET_NAME_LEN, iv, TLS_TICKET_IV_LEN);
}

enum tls_ticket_rc
tls_ticket_seal(const struct cfg_ticket_ring *ring,
		uint8_t name[TLS_TICKET_NAME_LEN],
		const uint8_t iv[TLS_TICKET_IV_LEN],
		uint8_t mac[TLS_TICKET_MAC_LEN],
		uint8_t *ticket, size_t in_len, size_t *out_len)
{
	const struct cfg_ticket_key *key;
	uint8_t aad[AAD_LEN];
	Aes aes;
	int ret;

	if (ring == NULL || ring->nb_keys == 0 || name == NULL ||
	    iv == NULL || mac == NULL || ticket == NULL || out_len == NULL ||
	    in_len == 0 || in_len > TLS_TICKET_STATE_MAX)
		return TLS_TICKET_FATAL;
	key = cfg_ticket_ring_encrypt_key(ring);
	if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0)
		return TLS_TICKET_FATAL;
	memcpy(name, key->id, TLS_TICKET_NAME_LEN);
	make_aad(aad, name, iv);
	memset(mac, 0, TLS_TICKET_MAC_LEN);
	ret = wc_AesGcmSetKey(&aes, key->secret, GCM_KEY_LEN);
	if (ret == 0)
		ret = wc_AesGcmEncrypt(&aes, ticket, ticket, (word32)in_len,
				       iv, GCM_NONCE_LEN, mac, GCM_TAG_LEN,
				       aad, sizeof(aad));
	wc_AesFree(&aes);
	explicit_bzero(&aes, sizeof(aes));
	if (ret != 0)
		return TLS_TICKET_FATAL;
	*out_len = in_len;
	return TLS_TICKET_OK;
}

static bool
mac_tail_zero(const uint8_t mac[TLS_TICKET_MAC_LEN])
{
	uint8_t acc = 0;
	size_t i;

	for (i = GCM_TAG_LEN; i < TLS_TICKET_MAC_LEN; i++)
		acc |= mac[i];
	return acc == 0;
}

enum tls_ticket_rc
tls_ticket_open(const struct cfg_ticket_ring *ring,
		const uint8_t name[TLS_TICKET_NAME_LEN],
		const uint8_t iv[TLS_TICKET_IV_LEN],
		const uint8_t mac[TLS_TICKET_MAC_LEN],
		uint8_t *ticket, size_t in_len, size_t *out_len)
{
	uint8_t plain[TLS_TICKET_STATE_MAX];
	const struct cfg_ticket_key *key;
	uint8_t aad[AAD_LEN];
	Aes aes;
	int ret;

	if (ring == NULL || ring->nb_keys == 0 || name == NULL ||
	    iv == NULL || mac == NULL || ticket == NULL || out_len == NULL)
		return TLS_TICKET_FATAL;
	/* The cheap refusals first: no AES work for a ticket that cannot
	 * be ours. */
	if (in_len == 0 || in_len > TLS_TICKET_STATE_MAX ||
	    !mac_tail_zero(mac))
		return TLS_TICKET_REJECT;
	key = cfg_ticket_ring_find(ring, name);
	if (key == NULL)
		return TLS_TICKET_REJECT;
	if (wc_AesInit(&aes, NULL, INVALID_DEVID) != 0)
		return TLS_TICKET_FATAL;
	make_aad(aad, name, iv);
	if (wc_AesGcmSetKey(&aes, key->secret, GCM_KEY_LEN) != 0) {
		wc_AesFree(&aes);
		explicit_bzero(&aes, sizeof(aes));
		return TLS_TICKET_FATAL;
	}
	ret = wc_AesGcmDecrypt(&aes, plain, ticket, (word32)in_len, iv,
			       GCM_NONCE_LEN, mac, GCM_TAG_LEN, aad,
			       sizeof(aad));
	wc_AesFree(&aes);
	explicit_bzero(&aes, sizeof(aes));
	if (ret == 0)
		memcpy(ticket, plain, in_len);
	/* Session secrets (or a forger's garbage) must not linger on the
	 * worker's stack. */
	explicit_bzero(plain, in_len);
	if (ret != 0)
		return TLS_TICKET_REJECT;
	*out_len = in_len;
	return key == cfg_ticket_ring_encrypt_key(ring) ? TLS_TICKET_OK :
							  TLS_TICKET_RENEW;
}

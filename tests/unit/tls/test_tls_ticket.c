/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ticket sealing under rotation: a sealed ticket opens with the same
 * ring; after a rotation it still opens but asks for renewal; once its
 * key has left the ring, or when any byte of name, IV, state or MAC was
 * changed, it is rejected and its bytes are left exactly as they were
 * (wolfSSL may offer the same ticket again). The format is pinned by a
 * vector computed with an independent AES-GCM (python3-cryptography).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tls/tls_ticket.h"

/* wolfSSL 5.5.4 seals sizeof(InternalTicket) bytes: 108 in our build. */
#define STATE_LEN 108

struct ticket {
	uint8_t name[TLS_TICKET_NAME_LEN];
	uint8_t iv[TLS_TICKET_IV_LEN];
	uint8_t mac[TLS_TICKET_MAC_LEN];
	uint8_t state[300];
	size_t len;
};

static void
hex_of(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* Key id: 16 bytes of id_byte; secret: secret_byte + i. */
static json_t *
key_json(uint8_t id_byte, uint8_t secret_byte, int encrypt)
{
	uint8_t id[CFG_TICKET_ID_LEN], secret[CFG_TICKET_SECRET_LEN];
	char id_hex[2 * sizeof(id) + 1], secret_hex[2 * sizeof(secret) + 1];

	memset(id, id_byte, sizeof(id));
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(secret_byte + i);
	hex_of(id_hex, id, sizeof(id));
	hex_of(secret_hex, secret, sizeof(secret));
	return json_pack("{s:s, s:s, s:b}", "id", id_hex, "secret",
			 secret_hex, "encrypt", encrypt);
}

/* A ring from (id byte, encrypt) pairs; the secret follows the id. */
static struct cfg_ticket_ring *
ring_of(unsigned int n, const uint8_t *ids, unsigned int enc)
{
	json_t *keys = json_array();
	struct cfg_ticket_ring *r;
	char err[256];

	for (unsigned int i = 0; i < n; i++)
		json_array_append_new(keys, key_json(ids[i],
						     (uint8_t)(ids[i] * 3),
						     i == enc));
	r = cfg_ticket_ring_from_json(keys, err, sizeof(err));
	json_decref(keys);
	if (r == NULL)
		fail_msg("ring: %s", err);
	return r;
}

static void
new_ticket(struct ticket *t, uint8_t seed)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < STATE_LEN; i++)
		t->state[i] = (uint8_t)(seed + 7 * i);
	for (size_t i = 0; i < TLS_TICKET_IV_LEN; i++)
		t->iv[i] = (uint8_t)(seed * 31 + i);
	memset(t->name, 0xee, sizeof(t->name));
	memset(t->mac, 0xee, sizeof(t->mac));
	t->len = STATE_LEN;
}

static enum tls_ticket_rc
seal(const struct cfg_ticket_ring *r, struct ticket *t)
{
	size_t out = 0;
	enum tls_ticket_rc rc;

	rc = tls_ticket_seal(r, t->name, t->iv, t->mac, t->state, t->len,
			     &out);
	if (rc == TLS_TICKET_OK)
		assert_int_equal(out, t->len);
	return rc;
}

static enum tls_ticket_rc
open_t(const struct cfg_ticket_ring *r, struct ticket *t)
{
	size_t out = 0;
	enum tls_ticket_rc rc;

	rc = tls_ticket_open(r, t->name, t->iv, t->mac, t->state, t->len,
			     &out);
	if (rc == TLS_TICKET_OK || rc == TLS_TICKET_RENEW)
		assert_int_equal(out, t->len);
	return rc;
}

/* Rejected, and not one byte of the ticket changed. */
static void
assert_rejected_untouched(const struct cfg_ticket_ring *r,
			  struct ticket *t, const char *what)
{
	struct ticket before = *t;
	enum tls_ticket_rc rc = open_t(r, t);

	if (rc != TLS_TICKET_REJECT)
		fail_msg("%s: rc %d, expected REJECT", what, rc);
	if (memcmp(&before, t, sizeof(*t)) != 0)
		fail_msg("%s: ticket modified by a failed open", what);
}

static void
test_round_trip(void **state)
{
	static const uint8_t ids[] = { 0x11, 0x22, 0x33 };
	struct cfg_ticket_ring *r = ring_of(3, ids, 1);
	struct ticket t, plain, other;

	(void)state;
	new_ticket(&t, 1);
	plain = t;
	assert_int_equal(seal(r, &t), TLS_TICKET_OK);
	/* Named after the encrypting key, encrypted, tag in mac[0..16). */
	assert_memory_equal(t.name, r->keys[1].id, TLS_TICKET_NAME_LEN);
	assert_memory_not_equal(t.state, plain.state, STATE_LEN);
	for (size_t i = 16; i < TLS_TICKET_MAC_LEN; i++)
		assert_int_equal(t.mac[i], 0);
	assert_memory_equal(t.iv, plain.iv, TLS_TICKET_IV_LEN);
	/* Another IV, another ciphertext for the same state. */
	new_ticket(&other, 1);
	other.iv[0] ^= 1;
	assert_int_equal(seal(r, &other), TLS_TICKET_OK);
	assert_memory_not_equal(other.state, t.state, STATE_LEN);

	assert_int_equal(open_t(r, &t), TLS_TICKET_OK);
	assert_memory_equal(t.state, plain.state, STATE_LEN);
	/* Opening is repeatable on the sealed bytes (wolfSSL may ask once
	 * per suite): seal again and open twice from copies. */
	t = plain;
	assert_int_equal(seal(r, &t), TLS_TICKET_OK);
	other = t;
	assert_int_equal(open_t(r, &t), TLS_TICKET_OK);
	assert_int_equal(open_t(r, &other), TLS_TICKET_OK);
	assert_memory_equal(other.state, plain.state, STATE_LEN);
	cfg_ticket_ring_free(r);
}

/* Every length wolfSSL could use, up to the documented bound. */
static void
test_lengths(void **state)
{
	static const uint8_t ids[] = { 0x11 };
	struct cfg_ticket_ring *r = ring_of(1, ids, 0);
	struct ticket t, plain;

	(void)state;
	for (size_t n = 1; n <= 256; n += (n < 20 ? 1 : 17)) {
		new_ticket(&t, (uint8_t)n);
		t.len = n;
		plain = t;
		assert_int_equal(seal(r, &t), TLS_TICKET_OK);
		assert_int_equal(open_t(r, &t), TLS_TICKET_OK);
		assert_memory_equal(t.state, plain.state, n);
	}
	/* Longer than any wolfSSL ticket: not ours to seal or open. */
	new_ticket(&t, 3);
	t.len = 257;
	assert_int_equal(seal(r, &t), TLS_TICKET_FATAL);
	assert_rejected_untouched(r, &t, "257-byte ticket");
	t.len = 0;
	assert_int_equal(seal(r, &t), TLS_TICKET_FATAL);
	assert_rejected_untouched(r, &t, "empty ticket");
	/* Cut short: the tag no longer matches. */
	new_ticket(&t, 4);
	assert_int_equal(seal(r, &t), TLS_TICKET_OK);
	t.len--;
	assert_rejected_untouched(r, &t, "truncated ticket");
	t.len++;
	assert_int_equal(open_t(r, &t), TLS_TICKET_OK);
	cfg_ticket_ring_free(r);
}

/* The control plane's two-phase rotation (docs/CONTROL.md): B joins
 * decrypt-only, is promoted, A is kept to decrypt, then A leaves. */
static void
test_rotation(void **state)
{
	static const uint8_t a_only[] = { 0xaa };
	static const uint8_t b_joined[] = { 0xaa, 0xbb };
	static const uint8_t b_only[] = { 0xbb };
	struct cfg_ticket_ring *r1 = ring_of(1, a_only, 0);
	struct cfg_ticket_ring *r2 = ring_of(2, b_joined, 0);
	struct cfg_ticket_ring *r3 = ring_of(2, b_joined, 1);
	struct cfg_ticket_ring *r4 = ring_of(1, b_only, 0);
	struct ticket ta, tb, plain, copy;

	(void)state;
	new_ticket(&ta, 9);
	plain = ta;
	assert_int_equal(seal(r1, &ta), TLS_TICKET_OK);
	/* Phase one: A still encrypts, so nothing to renew. */
	copy = ta;
	assert_int_equal(open_t(r2, &copy), TLS_TICKET_OK);
	new_ticket(&tb, 10);
	assert_int_equal(seal(r2, &tb), TLS_TICKET_OK);
	assert_memory_equal(tb.name, r1->keys[0].id, TLS_TICKET_NAME_LEN);
	/* Phase two: B encrypts; A's tickets open and ask for renewal. */
	copy = ta;
	assert_int_equal(open_t(r3, &copy), TLS_TICKET_RENEW);
	assert_memory_equal(copy.state, plain.state, STATE_LEN);
	new_ticket(&tb, 10);
	assert_int_equal(seal(r3, &tb), TLS_TICKET_OK);
	assert_memory_equal(tb.name, r3->keys[1].id, TLS_TICKET_NAME_LEN);
	copy = tb;
	assert_int_equal(open_t(r3, &copy), TLS_TICKET_OK);
	/* A left the ring: its tickets are rejected, untouched; B's open. */
	assert_rejected_untouched(r4, &ta, "ticket of a retired key");
	copy = tb;
	assert_int_equal(open_t(r4, &copy), TLS_TICKET_OK);
	/* Same id, different secret (a key replaced under its name). */
	cfg_ticket_ring_free(r1);
	{
		json_t *keys = json_array();
		char err[256];

		json_array_append_new(keys, key_json(0xbb, 0x01, 1));
		r1 = cfg_ticket_ring_from_json(keys, err, sizeof(err));
		json_decref(keys);
		assert_non_null(r1);
	}
	assert_rejected_untouched(r1, &tb, "same name, other secret");
	cfg_ticket_ring_free(r1);
	cfg_ticket_ring_free(r2);
	cfg_ticket_ring_free(r3);
	cfg_ticket_ring_free(r4);
}

static void
test_tampering(void **state)
{
	static const uint8_t ids[] = { 0x10, 0x20 };
	struct cfg_ticket_ring *r = ring_of(2, ids, 0);
	struct ticket sealed, t;
	char what[64];

	(void)state;
	new_ticket(&sealed, 5);
	assert_int_equal(seal(r, &sealed), TLS_TICKET_OK);
	for (size_t i = 0; i < STATE_LEN; i++) {
		t = sealed;
		t.state[i] ^= 0x01;
		snprintf(what, sizeof(what), "state byte %zu", i);
		assert_rejected_untouched(r, &t, what);
	}
	for (size_t i = 0; i < TLS_TICKET_MAC_LEN; i++) {
		t = sealed;
		t.mac[i] ^= 0x80;
		snprintf(what, sizeof(what), "mac byte %zu", i);
		assert_rejected_untouched(r, &t, what);
	}
	for (size_t i = 0; i < TLS_TICKET_IV_LEN; i++) {
		t = sealed;
		t.iv[i] ^= 0x04;
		snprintf(what, sizeof(what), "iv byte %zu", i);
		assert_rejected_untouched(r, &t, what);
	}
	/* Renamed to another key of the ring, or to no key at all. */
	t = sealed;
	memcpy(t.name, r->keys[1].id, TLS_TICKET_NAME_LEN);
	assert_rejected_untouched(r, &t, "renamed to the other key");
	for (size_t i = 0; i < TLS_TICKET_NAME_LEN; i++) {
		t = sealed;
		t.name[i] ^= 0x40;
		snprintf(what, sizeof(what), "name byte %zu", i);
		assert_rejected_untouched(r, &t, what);
	}
	t = sealed;
	assert_int_equal(open_t(r, &t), TLS_TICKET_OK);
	cfg_ticket_ring_free(r);
}

static void
test_no_ring(void **state)
{
	static const uint8_t ids[] = { 0x10 };
	struct cfg_ticket_ring *r = ring_of(1, ids, 0);
	struct ticket t, before;

	(void)state;
	new_ticket(&t, 6);
	before = t;
	assert_int_equal(seal(NULL, &t), TLS_TICKET_FATAL);
	assert_memory_equal(&t, &before, sizeof(t));
	assert_int_equal(seal(r, &t), TLS_TICKET_OK);
	before = t;
	assert_int_equal(open_t(NULL, &t), TLS_TICKET_FATAL);
	assert_memory_equal(&t, &before, sizeof(t));
	cfg_ticket_ring_free(r);
}

/*
 * The sealed format, computed independently with python3-cryptography:
 *   secret = bytes(range(64)); name = bytes(range(0xa0, 0xb0));
 *   iv = bytes(range(0x10, 0x20)); pt = b"rampart ticket state, 40 bytes long...!!"
 *   AESGCM(secret[:32]).encrypt(iv[:12], pt, name + iv)
 * A change here breaks every ticket in the field at upgrade time.
 */
static void
test_known_answer(void **state)
{
	static const char pt[] = "rampart ticket state, 40 bytes long...!!";
	static const uint8_t ct[] = {
		0x0f, 0x9f, 0xf5, 0x66, 0x28, 0xbb, 0x4e, 0x93, 0xbe, 0x1c,
		0x6b, 0x76, 0x6a, 0x0d, 0x49, 0x20, 0xa3, 0x31, 0x3a, 0x6b,
		0x37, 0xe2, 0x63, 0x81, 0xc7, 0x9b, 0x9b, 0x13, 0x3b, 0x27,
		0x74, 0xb7, 0x3f, 0x87, 0x30, 0x2d, 0xdb, 0x88, 0x4f, 0xce,
	};
	static const uint8_t tag[] = {
		0xe3, 0xe5, 0x25, 0x1a, 0xa3, 0x98, 0x97, 0x60, 0x13, 0x2d,
		0x27, 0xe2, 0x3d, 0x31, 0x06, 0x48,
	};
	struct cfg_ticket_ring r;
	struct ticket t;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.nb_keys = 1;
	r.encrypt = 0;
	r.keys[0].encrypt = true;
	for (size_t i = 0; i < CFG_TICKET_SECRET_LEN; i++)
		r.keys[0].secret[i] = (uint8_t)i;
	for (size_t i = 0; i < CFG_TICKET_ID_LEN; i++)
		r.keys[0].id[i] = (uint8_t)(0xa0 + i);
	memset(&t, 0, sizeof(t));
	for (size_t i = 0; i < TLS_TICKET_IV_LEN; i++)
		t.iv[i] = (uint8_t)(0x10 + i);
	memcpy(t.state, pt, 40);
	t.len = 40;
	assert_int_equal(seal(&r, &t), TLS_TICKET_OK);
	assert_memory_equal(t.name, r.keys[0].id, TLS_TICKET_NAME_LEN);
	assert_memory_equal(t.state, ct, sizeof(ct));
	assert_memory_equal(t.mac, tag, sizeof(tag));
	assert_int_equal(open_t(&r, &t), TLS_TICKET_OK);
	assert_memory_equal(t.state, pt, 40);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_no_ring),
		cmocka_unit_test(test_known_answer),
	};

	return cmocka_run_group_tests_name("tls_ticket", tests, NULL, NULL);
}

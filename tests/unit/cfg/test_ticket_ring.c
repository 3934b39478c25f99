/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ticket ring: tickets_set's keys are validated (hex, one encrypting
 * key, unique ids, 1-10 keys); the reader API finds the encrypting key
 * and any key by id; publication returns only after a reader that was
 * using the old ring has let go of it, which is the acknowledgement the
 * control plane's two-phase rotation relies on.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <urcu-qsbr.h>

#include "cfg/ticket_ring.h"

static char err[256];

/* Key n: id = 32 hex digits of n, secret = 128 hex digits of n+1. */
static json_t *
key(unsigned int n, int encrypt)
{
	char id[33], secret[129];

	memset(id, '0' + (char)(n % 10), 32);
	id[32] = '\0';
	memset(secret, 'a' + (char)(n % 6), 128);
	secret[128] = '\0';
	return json_pack("{s:s, s:s, s:b}", "id", id, "secret", secret,
			 "encrypt", encrypt);
}

static struct cfg_ticket_ring *
parse(json_t *keys)
{
	struct cfg_ticket_ring *r;

	err[0] = '\0';
	r = cfg_ticket_ring_from_json(keys, err, sizeof(err));
	json_decref(keys);
	return r;
}

static void
expect_refused(json_t *keys, const char *needle)
{
	struct cfg_ticket_ring *r = parse(keys);

	if (r != NULL) {
		cfg_ticket_ring_free(r);
		fail_msg("ring accepted; expected '%s'", needle);
	}
	if (strstr(err, needle) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void
test_good(void **state)
{
	struct cfg_ticket_ring *r;
	const struct cfg_ticket_key *k;
	uint8_t id[CFG_TICKET_ID_LEN];

	(void)state;
	r = parse(json_pack("[o, o, o]", key(1, 0), key(2, 1), key(3, 0)));
	assert_non_null(r);
	assert_int_equal(r->nb_keys, 3);
	k = cfg_ticket_ring_encrypt_key(r);
	assert_true(k->encrypt);
	assert_int_equal(k->id[0], 0x22);
	assert_int_equal(k->secret[0], 0xcc);
	assert_int_equal(k->secret[63], 0xcc);

	memset(id, 0x33, sizeof(id));
	k = cfg_ticket_ring_find(r, id);
	assert_non_null(k);
	assert_false(k->encrypt);
	assert_int_equal(k->secret[10], 0xdd);
	memset(id, 0x44, sizeof(id));
	assert_null(cfg_ticket_ring_find(r, id));
	cfg_ticket_ring_free(r);

	/* A single key that encrypts is the ring of a fresh node. */
	r = parse(json_pack("[o]", key(5, 1)));
	assert_non_null(r);
	assert_int_equal(cfg_ticket_ring_encrypt_key(r)->id[15], 0x55);
	cfg_ticket_ring_free(r);
}

static void
test_bad(void **state)
{
	json_t *k, *keys;
	unsigned int i;

	(void)state;
	expect_refused(json_array(), "1 to 10");
	expect_refused(json_object(), "1 to 10");
	keys = json_array();
	for (i = 0; i < 11; i++)
		json_array_append_new(keys, key(i, i == 0));
	expect_refused(keys, "1 to 10");

	expect_refused(json_pack("[o, o]", key(1, 0), key(2, 0)),
		       "exactly one key must encrypt; 0 of 2");
	expect_refused(json_pack("[o, o]", key(1, 1), key(2, 1)),
		       "exactly one key must encrypt; 2 of 2");
	expect_refused(json_pack("[o, o]", key(1, 1), key(1, 0)),
		       "keys[0] and keys[1] have the same id");

	k = key(1, 1);
	json_object_set_new(k, "id", json_string("0123"));
	expect_refused(json_pack("[o]", k), "keys[0].id must be 32 hex");
	k = key(1, 1);
	json_object_set_new(k, "id", json_string(
		"0123456789abcdef0123456789abcdeg"));
	expect_refused(json_pack("[o]", k), "keys[0].id");
	k = key(1, 1);
	json_object_set_new(k, "secret", json_string("zz"));
	expect_refused(json_pack("[o]", k), "keys[0].secret must be 128 hex");
	/* The secret never appears in an error. */
	assert_null(strstr(err, "zz"));
	k = key(1, 1);
	json_object_set_new(k, "encrypt", json_string("yes"));
	expect_refused(json_pack("[o]", k), "keys[0].encrypt");
	expect_refused(json_pack("[s]", "x"), "keys[0] is not an object");
}

struct reader {
	struct cfg_ticket_ring **slot;
	uint8_t secret0;                /* first byte read after the pause */
	int in_use;                     /* atomic: holding the ring */
	int stop;                       /* atomic */
};

/* Picks up the ring, signals it holds it, keeps using it for 300 ms
 * without a quiescent state, then lets go. */
static void *
slow_reader(void *arg)
{
	struct reader *rd = arg;
	const struct cfg_ticket_ring *r;

	rcu_register_thread();
	r = cfg_ticket_ring_current(rd->slot);
	__atomic_store_n(&rd->in_use, 1, __ATOMIC_RELEASE);
	usleep(300 * 1000);
	rd->secret0 = cfg_ticket_ring_encrypt_key(r)->secret[0];
	rcu_quiescent_state();
	rcu_unregister_thread();
	return NULL;
}

static double
elapsed_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 +
	       (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

static void
test_publish_waits_for_readers(void **state)
{
	struct cfg_ticket_ring *slot = NULL;
	struct reader rd = { .slot = &slot };
	struct timespec t0;
	pthread_t th;

	(void)state;
	rcu_register_thread();
	cfg_ticket_ring_publish(&slot, parse(json_pack("[o]", key(1, 1))));
	assert_non_null(cfg_ticket_ring_current(&slot));

	assert_int_equal(pthread_create(&th, NULL, slow_reader, &rd), 0);
	while (!__atomic_load_n(&rd.in_use, __ATOMIC_ACQUIRE))
		usleep(100);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cfg_ticket_ring_publish(&slot, parse(json_pack("[o, o]", key(2, 1),
						       key(1, 0))));
	/* The old ring was wiped only after the reader was done with it:
	 * it read the intact secret, and publish waited for it. */
	assert_true(elapsed_ms(&t0) >= 250.0);
	assert_int_equal(rd.secret0, 0xbb);
	assert_int_equal(cfg_ticket_ring_current(&slot)->nb_keys, 2);
	assert_int_equal(cfg_ticket_ring_encrypt_key(
				cfg_ticket_ring_current(&slot))->id[0], 0x22);
	rcu_thread_offline();
	assert_int_equal(pthread_join(th, NULL), 0);
	rcu_thread_online();

	cfg_ticket_ring_publish(&slot, NULL);
	assert_null(cfg_ticket_ring_current(&slot));
	rcu_unregister_thread();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_publish_waits_for_readers),
	};

	return cmocka_run_group_tests_name("cfg_ticket_ring", tests, NULL,
					   NULL);
}

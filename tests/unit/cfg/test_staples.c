/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The staple cache: set, replace, delete, expiry at next_update, listing;
 * and a reader thread looking staples up while they are replaced never
 * sees a freed or torn staple (ASan watches the call_rcu frees).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg/staples.h"

static uint8_t fp_a[CFG_FINGERPRINT_LEN] = { 0xaa, 1, 2, 3 };
static uint8_t fp_b[CFG_FINGERPRINT_LEN] = { 0xbb, 1, 2, 3 };

static int
setup(void **state)
{
	rcu_register_thread();
	*state = cfg_staples_new();
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	rcu_thread_offline();
	rcu_barrier();
	rcu_unregister_thread();
	cfg_staples_free(*state);
	return 0;
}

static void
test_set_replace_del(void **state)
{
	struct cfg_staples *st = *state;
	const struct cfg_staple *s;
	const uint8_t der1[] = { 0x30, 0x03, 0x0a, 0x01, 0x00 };
	const uint8_t der2[] = { 0x30, 0x01, 0x00 };

	assert_null(cfg_staples_lookup(st, fp_a, 100));
	assert_int_equal(cfg_staples_set(st, fp_a, "shop", der1, sizeof(der1),
					 1000), 0);
	assert_int_equal(cfg_staples_count(st), 1);
	s = cfg_staples_lookup(st, fp_a, 100);
	assert_non_null(s);
	assert_string_equal(s->cert, "shop");
	assert_int_equal(s->len, sizeof(der1));
	assert_memory_equal(s->der, der1, sizeof(der1));
	assert_null(cfg_staples_lookup(st, fp_b, 100));

	/* Replace: same key, new contents, still one entry. */
	assert_int_equal(cfg_staples_set(st, fp_a, "shop", der2, sizeof(der2),
					 2000), 0);
	assert_int_equal(cfg_staples_count(st), 1);
	s = cfg_staples_lookup(st, fp_a, 1500);
	assert_non_null(s);
	assert_int_equal(s->len, sizeof(der2));
	assert_int_equal(s->next_update, 2000);

	assert_int_equal(cfg_staples_set(st, fp_b, "blog", der1, sizeof(der1),
					 3000), 0);
	assert_int_equal(cfg_staples_count(st), 2);
	assert_int_equal(cfg_staples_del(st, fp_a), 0);
	assert_int_equal(cfg_staples_del(st, fp_a), -ENOENT);
	assert_null(cfg_staples_lookup(st, fp_a, 100));
	assert_non_null(cfg_staples_lookup(st, fp_b, 100));
	assert_int_equal(cfg_staples_count(st), 1);

	assert_int_equal(cfg_staples_set(st, fp_a, "x", der1, 0, 10), -EINVAL);
}

static void
test_expiry(void **state)
{
	struct cfg_staples *st = *state;
	const uint8_t der[] = { 0x30, 0x00 };

	assert_int_equal(cfg_staples_set(st, fp_a, "shop", der, sizeof(der),
					 1000), 0);
	assert_non_null(cfg_staples_lookup(st, fp_a, 999));
	/* At nextUpdate the response is no longer good to staple. */
	assert_null(cfg_staples_lookup(st, fp_a, 1000));
	assert_null(cfg_staples_lookup(st, fp_a, 5000));
	/* It is still held (and listed) until the control plane acts. */
	assert_int_equal(cfg_staples_count(st), 1);
}

static int
collect(const struct cfg_staple *s, void *arg)
{
	unsigned int *seen = arg;

	if (s->fingerprint[0] == 0xaa)
		*seen |= 1;
	else if (s->fingerprint[0] == 0xbb)
		*seen |= 2;
	return 0;
}

static void
test_foreach(void **state)
{
	struct cfg_staples *st = *state;
	const uint8_t der[] = { 0x30, 0x00 };
	unsigned int seen = 0;

	assert_int_equal(cfg_staples_set(st, fp_a, "a", der, sizeof(der), 10),
			 0);
	assert_int_equal(cfg_staples_set(st, fp_b, "b", der, sizeof(der), 10),
			 0);
	assert_int_equal(cfg_staples_foreach(st, collect, &seen), 0);
	assert_int_equal(seen, 3);
}

struct reader {
	struct cfg_staples *st;
	unsigned long lookups, torn;
	int stop;
};

/* Each staple's bytes all equal its next_update mod 256: a torn or freed
 * staple shows up as a mismatch (or an ASan report). */
static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	const struct cfg_staple *s;
	size_t i;

	rcu_register_thread();
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		s = cfg_staples_lookup(r->st, fp_a, 0);
		if (s != NULL) {
			for (i = 0; i < s->len; i++)
				if (s->der[i] != (uint8_t)s->next_update)
					r->torn++;
			r->lookups++;
		}
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

static void
test_concurrent_replace(void **state)
{
	struct reader r = { .st = *state };
	uint8_t der[512];
	pthread_t th;
	int i;

	assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);
	for (i = 1; i <= 2000; i++) {
		memset(der, (uint8_t)i, sizeof(der));
		assert_int_equal(cfg_staples_set(r.st, fp_a, "shop", der,
						 (size_t)(i % 500) + 1, i), 0);
		if (i % 100 == 0)
			usleep(1000);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	rcu_thread_offline();
	assert_int_equal(pthread_join(th, NULL), 0);
	rcu_thread_online();
	assert_true(r.lookups > 0);
	assert_int_equal(r.torn, 0);
	assert_int_equal(cfg_staples_count(r.st), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_replace_del, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_replace, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("cfg_staples", tests, NULL, NULL);
}

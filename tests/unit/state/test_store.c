/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's store: what a restart finds after a clean save, after
 * a crash in the middle of a write, and after corruption; that secrets
 * never reach the disk in clear; and that every file is 0600.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "controlplane/state/store.h"

/* Not a real key: the store seals whatever it is given. */
static const char key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETSECRETSECRET\n"
	"-----END PRIVATE KEY-----\n";
static const char chain_pem[] =
	"-----BEGIN CERTIFICATE-----\nMIIBchain\n-----END CERTIFICATE-----\n";

struct fx {
	char dir[64];
	uint8_t mk[SEAL_KEY_LEN];
};

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	unsigned int i;

	if (fx == NULL)
		return -1;
	strcpy(fx->dir, "/tmp/rampart-test-store.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	for (i = 0; i < SEAL_KEY_LEN; i++)
		fx->mk[i] = (uint8_t)(i * 7 + 1);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	nftw(fx->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static void
path_of(const struct fx *fx, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", fx->dir, name);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static void
spit(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
fake_info(struct cert_info *info, const char *fp)
{
	memset(info, 0, sizeof(*info));
	info->key_kind = CERT_KEY_ECDSA;
	info->key_bits = 256;
	strcpy(info->key_type, "ECDSA P-256");
	strcpy(info->subject, "CN=shop.example.com");
	strcpy(info->issuer, "CN=Example CA");
	info->sans[0] = strdup("shop.example.com");
	info->sans[1] = strdup("*.cdn.example.com");
	info->n_sans = 2;
	info->not_before = 1700000000;
	info->not_after = 1900000000;
	strcpy(info->fingerprint, fp);
	strcpy(info->ocsp_url, "http://ocsp.example.com/");
	info->chain_len = 2;
}

/* A state with one of each object, generation gen. */
static struct store *
sample(const struct fx *fx, uint64_t gen, const char *comment)
{
	struct store *s = store_new();
	struct cert_info info;
	json_t *d;

	assert_non_null(s);
	s->generation = gen;
	fake_info(&info, "ab01");
	assert_int_equal(store_cert_put(s, fx->mk, "shop-ec", chain_pem,
					key_pem, &info, 1234), 0);
	cert_info_free(&info);
	assert_int_equal(store_ts_put(s, "partners", "CA PEM", NULL, 1, 0), 0);
	d = json_pack("{s:s, s:s, s:[s], s:{s:s}, s:{s:{s:s, s:s}}}",
		      "name", "shop", "comment", comment,
		      "aliases", "shop.example.com",
		      "certificates", "ecdsa", "shop-ec",
		      "tls", "mtls", "mode", "optional",
		      "trust_store", "partners");
	assert_int_equal(store_dist_put(s, "shop", d), 0);
	json_decref(d);
	return s;
}

static void
test_round_trip(void **state)
{
	struct fx *fx = *state;
	struct store *s = sample(fx, 7, "v7"), *l = NULL;
	const struct store_cert *c;
	char err[512];
	size_t klen;
	char *key;
	json_t *users;

	assert_int_equal(store_save(s, fx->dir, err, sizeof(err)), 0);
	assert_int_equal(store_load(fx->dir, fx->mk, &l, err, sizeof(err)), 0);
	assert_int_equal(l->generation, 7);
	assert_int_equal(l->n_certs, 1);
	c = store_cert_find(l, "shop-ec");
	assert_non_null(c);
	assert_string_equal(c->chain_pem, chain_pem);
	assert_string_equal(c->info.key_type, "ECDSA P-256");
	assert_int_equal(c->info.key_kind, CERT_KEY_ECDSA);
	assert_int_equal(c->info.n_sans, 2);
	assert_string_equal(c->info.sans[1], "*.cdn.example.com");
	assert_int_equal(c->info.not_after, 1900000000);
	assert_string_equal(c->info.ocsp_url, "http://ocsp.example.com/");
	assert_int_equal(c->imported, 1234);
	key = store_cert_key(c, fx->mk, &klen, err, sizeof(err));
	assert_non_null(key);
	assert_int_equal(klen, strlen(key_pem));
	assert_memory_equal(key, key_pem, klen);
	free(key);
	assert_non_null(store_ts_find(l, "partners"));
	assert_null(store_ts_find(l, "partners")->crl_pem);
	assert_true(json_equal(store_dist_find(l, "shop")->obj,
			       store_dist_find(s, "shop")->obj));
	/* References survive the trip. */
	users = store_cert_users(l, "shop-ec");
	assert_int_equal(json_array_size(users), 1);
	json_decref(users);
	users = store_ts_users(l, "partners");
	assert_int_equal(json_array_size(users), 1);
	json_decref(users);
	store_free(s);
	store_free(l);
}

static void
test_missing_is_empty(void **state)
{
	struct fx *fx = *state;
	struct store *l = NULL;
	char err[512];

	assert_int_equal(store_load(fx->dir, fx->mk, &l, err, sizeof(err)), 0);
	assert_int_equal(l->generation, 0);
	assert_int_equal(l->n_certs + l->n_tss + l->n_dists, 0);
	store_free(l);
}

/* A kill -9 before the rename leaves a .tmp (complete or cut short): the
 * previous commit is what loads, and the leftover goes away. */
static void
test_crash_leaves_previous(void **state)
{
	struct fx *fx = *state;
	struct store *s1 = sample(fx, 1, "one"), *s2 = sample(fx, 2, "two");
	struct store *l = NULL;
	char err[512], path[128], tmp[160], *full;
	size_t len;

	assert_int_equal(store_save(s2, fx->dir, err, sizeof(err)), 0);
	path_of(fx, STORE_STATE_FILE, path, sizeof(path));
	full = slurp(path, &len);
	assert_int_equal(store_save(s1, fx->dir, err, sizeof(err)), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	/* Truncated temp file: the crash hit mid-write. */
	spit(tmp, full, len / 2);
	assert_int_equal(store_load(fx->dir, fx->mk, &l, err, sizeof(err)), 0);
	assert_int_equal(l->generation, 1);
	assert_string_equal(json_string_value(json_object_get(
		store_dist_find(l, "shop")->obj, "comment")), "one");
	assert_int_equal(access(tmp, F_OK), -1);
	store_free(l);

	/* Complete temp file: the crash hit between fsync and rename. */
	spit(tmp, full, len);
	assert_int_equal(store_load(fx->dir, fx->mk, &l, err, sizeof(err)), 0);
	assert_int_equal(l->generation, 1);
	assert_int_equal(access(tmp, F_OK), -1);
	store_free(l);

	/* A later save still commits over the leftover's name. */
	spit(tmp, "garbage", 7);
	assert_int_equal(store_save(s2, fx->dir, err, sizeof(err)), 0);
	assert_int_equal(store_load(fx->dir, fx->mk, &l, err, sizeof(err)), 0);
	assert_int_equal(l->generation, 2);
	store_free(l);
	free(full);
	store_free(s1);
	store_free(s2);
}

static void
expect_refused(const struct fx *fx, const char *content, const char *why)
{
	struct store *l = NULL;
	char err[512], path[128];

	path_of(fx, STORE_STATE_FILE, path, sizeof(path));
	spit(path, content, strlen(content));
	assert_int_equal(store_load(fx->dir, fx->mk, &l, err, sizeof(err)),
			 -EINVAL);
	assert_null(l);
	if (strstr(err, path) == NULL || strstr(err, why) == NULL)
		fail_msg("error \"%s\" should name %s and say %s", err, path,
			 why);
}

static void
test_corrupt_refused(void **state)
{
	struct fx *fx = *state;
	struct store *s = sample(fx, 3, "x");
	char err[512], path[128], *full;
	size_t len;

	expect_refused(fx, "{\"version\": 1, \"generation\": ", "line");
	expect_refused(fx, "[1, 2]", "not a JSON object");
	expect_refused(fx, "{\"version\": 1, \"generation\": -4, "
		       "\"certificates\": [], \"truststores\": [], "
		       "\"distributions\": []}", "$.generation");
	expect_refused(fx, "{\"version\": 1, \"generation\": 4, "
		       "\"certificates\": [{\"name\": \"x\"}], "
		       "\"truststores\": [], \"distributions\": []}",
		       "$.certificates[0]");

	/* A real file cut short, as a disk that lost the tail would. */
	assert_int_equal(store_save(s, fx->dir, err, sizeof(err)), 0);
	path_of(fx, STORE_STATE_FILE, path, sizeof(path));
	full = slurp(path, &len);
	full[len - len / 3] = '\0';
	expect_refused(fx, full, "line");
	free(full);
	store_free(s);
}

/* A master.key from another node must not quietly start empty or push
 * keys it cannot open. */
static void
test_wrong_master_key_refused(void **state)
{
	struct fx *fx = *state;
	struct store *s = sample(fx, 3, "x"), *l = NULL;
	uint8_t other[SEAL_KEY_LEN] = { 9 };
	char err[512];

	assert_int_equal(store_save(s, fx->dir, err, sizeof(err)), 0);
	assert_int_equal(store_load(fx->dir, other, &l, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "key_sealed"));
	assert_non_null(strstr(err, STORE_STATE_FILE));
	store_free(s);
}

static void
test_no_plaintext_key(void **state)
{
	struct fx *fx = *state;
	struct store *s = sample(fx, 1, "x");
	char err[512], path[128], *text;

	assert_int_equal(store_save(s, fx->dir, err, sizeof(err)), 0);
	path_of(fx, STORE_STATE_FILE, path, sizeof(path));
	text = slurp(path, NULL);
	assert_null(strstr(text, "PRIVATE KEY"));
	assert_null(strstr(text, "SECRETSECRET"));
	assert_non_null(strstr(text, "\"key_sealed\": \"v1:"));
	/* The certificate itself is public and stays readable. */
	assert_non_null(strstr(text, "MIIBchain"));
	free(text);
	store_free(s);
}

/* A sealed key is bound to its certificate's name: moving it to another
 * entry makes the load fail rather than serve the wrong key. */
static void
test_sealed_key_bound_to_name(void **state)
{
	struct fx *fx = *state;
	struct store *s = sample(fx, 1, "x"), *l = NULL;
	char err[512], path[128], *text, *p;

	assert_int_equal(store_save(s, fx->dir, err, sizeof(err)), 0);
	path_of(fx, STORE_STATE_FILE, path, sizeof(path));
	text = slurp(path, NULL);
	p = strstr(text, "\"name\": \"shop-ec\"");
	assert_non_null(p);
	memcpy(p + 9, "shop-xx", 7);
	spit(path, text, strlen(text));
	assert_int_equal(store_load(fx->dir, fx->mk, &l, err, sizeof(err)),
			 -EINVAL);
	free(text);
	store_free(s);
}

static void
assert_mode_0600(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	if ((sb.st_mode & 07777) != 0600)
		fail_msg("%s has mode %04o, want 0600", path,
			 (unsigned int)(sb.st_mode & 07777));
}

static void
test_modes(void **state)
{
	struct fx *fx = *state;
	struct store *s = sample(fx, 1, "x");
	struct store_staple st = { .der = (uint8_t *)"\x30\x03\x0a\x01\x00",
				   .len = 5, .fetched_at = 10,
				   .this_update = 5, .next_update = 99 };
	struct tk_ring r;
	char err[512], path[160];
	mode_t old = umask(0);

	tk_ring_init(&r, 3600, 2);
	assert_int_equal(store_save(s, fx->dir, err, sizeof(err)), 0);
	assert_int_equal(store_tickets_save(fx->dir, fx->mk, &r, err,
					    sizeof(err)), 0);
	assert_int_equal(store_staple_save(fx->dir, "ab01", &st, err,
					   sizeof(err)), 0);
	umask(old);
	path_of(fx, STORE_STATE_FILE, path, sizeof(path));
	assert_mode_0600(path);
	path_of(fx, STORE_TICKETS_FILE, path, sizeof(path));
	assert_mode_0600(path);
	path_of(fx, "ocsp/ab01.der", path, sizeof(path));
	assert_mode_0600(path);
	path_of(fx, "ocsp/ab01.json", path, sizeof(path));
	assert_mode_0600(path);
	store_free(s);
}

static int
counter_rnd(uint8_t *buf, size_t len)
{
	static unsigned int n;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(0x5A ^ n++ * 7);
	return 0;
}

static void
test_tickets_sealed_round_trip(void **state)
{
	struct fx *fx = *state;
	struct tk_ring r, l;
	char err[512], path[128], hex[2 * TK_SECRET_LEN + 1], *text;
	unsigned int i;
	uint8_t other[SEAL_KEY_LEN] = { 1 };

	assert_int_equal(store_tickets_load(fx->dir, fx->mk, &l, err,
					    sizeof(err)), -ENOENT);
	tk_ring_init(&r, 600, 2);
	assert_int_equal(tk_tick(&r, 1000, counter_rnd), TK_PUSH_PROMOTED);
	assert_int_equal(tk_rotate_now(&r, 1100, counter_rnd),
			 TK_PUSH_PENDING);
	assert_int_equal(store_tickets_save(fx->dir, fx->mk, &r, err,
					    sizeof(err)), 0);
	assert_int_equal(store_tickets_load(fx->dir, fx->mk, &l, err,
					    sizeof(err)), 0);
	assert_int_equal(l.n, r.n);
	assert_int_equal(l.period_s, 600);
	assert_int_equal(l.next_rotation, r.next_rotation);
	for (i = 0; i < r.n; i++) {
		assert_memory_equal(l.keys[i].id, r.keys[i].id, TK_ID_LEN);
		assert_memory_equal(l.keys[i].secret, r.keys[i].secret,
				    TK_SECRET_LEN);
		assert_int_equal(l.keys[i].role, r.keys[i].role);
		assert_int_equal(l.keys[i].created, r.keys[i].created);
	}
	assert_int_equal(l.keys[0].role, TK_PENDING);

	/* Neither the secrets nor their hex appear in the file. */
	path_of(fx, STORE_TICKETS_FILE, path, sizeof(path));
	text = slurp(path, NULL);
	for (i = 0; i < 16; i++)
		sprintf(hex + 2 * i, "%02x", r.keys[0].secret[i]);
	assert_null(strstr(text, hex));
	assert_null(memmem(text, strlen(text), r.keys[0].secret, 16));
	free(text);

	assert_int_equal(store_tickets_load(fx->dir, other, &l, err,
					    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, STORE_TICKETS_FILE));
}

static void
test_staple_round_trip(void **state)
{
	struct fx *fx = *state;
	struct store_staple st = { .der = (uint8_t *)"\x30\x03\x0a\x01\x00",
				   .len = 5, .fetched_at = 10,
				   .this_update = 5, .next_update = 99 }, l;
	char err[512], path[160];

	assert_int_equal(store_staple_load(fx->dir, "ab01", &l, err,
					   sizeof(err)), -ENOENT);
	assert_int_equal(store_staple_save(fx->dir, "ab01", &st, err,
					   sizeof(err)), 0);
	assert_int_equal(store_staple_load(fx->dir, "ab01", &l, err,
					   sizeof(err)), 0);
	assert_int_equal(l.len, 5);
	assert_memory_equal(l.der, st.der, 5);
	assert_int_equal(l.next_update, 99);
	assert_int_equal(l.this_update, 5);
	free(l.der);

	/* A DER cut short is not served. */
	path_of(fx, "ocsp/ab01.der", path, sizeof(path));
	spit(path, "\x30\x03", 2);
	assert_int_equal(store_staple_load(fx->dir, "ab01", &l, err,
					   sizeof(err)), -EINVAL);
	store_staple_del(fx->dir, "ab01");
	assert_int_equal(store_staple_load(fx->dir, "ab01", &l, err,
					   sizeof(err)), -ENOENT);
}

/* A change is built on a copy: the committed value must not move. */
static void
test_dup_is_independent(void **state)
{
	struct fx *fx = *state;
	struct store *s = sample(fx, 4, "x"), *d;
	json_t *users;

	d = store_dup(s);
	assert_non_null(d);
	assert_int_equal(store_dist_del(d, "shop"), 0);
	assert_int_equal(store_cert_del(d, "shop-ec"), 0);
	assert_int_equal(store_cert_del(d, "shop-ec"), -ENOENT);
	assert_non_null(store_dist_find(s, "shop"));
	assert_non_null(store_cert_find(s, "shop-ec"));
	users = store_cert_users(d, "shop-ec");
	assert_int_equal(json_array_size(users), 0);
	json_decref(users);
	store_free(d);
	store_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_is_empty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_leaves_previous,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_master_key_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_plaintext_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sealed_key_bound_to_name,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tickets_sealed_round_trip,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_staple_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dup_is_independent, setup,
						teardown),
	};

	if (crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}

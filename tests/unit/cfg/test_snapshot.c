/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration snapshot: a consistent transaction builds and answers
 * SNI lookups; every inconsistent reference is refused with a sentence
 * naming the object; a snapshot swapped out stays alive while a reader
 * holds a reference, and publication waits for the readers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <urcu-qsbr.h>

#include "cfg/snapshot.h"

#define FP_EC  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define FP_RSA "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static char err[512];

struct objs {
	json_t *certs, *stores, *dists;
};

static json_t *
cert(const char *type, const char *fp)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:[s]}",
		"chain_pem", "-----BEGIN CERTIFICATE-----\nMIIB\n"
			     "-----END CERTIFICATE-----\n",
		"key_pem", "-----BEGIN PRIVATE KEY-----\nMIGH\n"
			   "-----END PRIVATE KEY-----\n",
		"key_type", type, "fingerprint", fp,
		"sans", "shop.example.com");
}

static json_t *
dist(const char *name, const char *alias1, const char *alias2,
     const char *ec, const char *rsa)
{
	json_t *d = json_pack("{s:s, s:b, s:[s], s:{}, s:{s:s}, s:{s:s, "
			      "s:{s:s}}}",
			      "name", name, "enabled", 1, "aliases", alias1,
			      "certificates", "listen", "address",
			      "198.51.100.10", "tls", "security_policy",
			      "TLSv1.2_2021", "mtls", "mode", "off");
	json_t *certs = json_object_get(d, "certificates");

	assert_non_null(d);
	if (alias2 != NULL)
		json_array_append_new(json_object_get(d, "aliases"),
				      json_string(alias2));
	if (ec != NULL)
		json_object_set_new(certs, "ecdsa", json_string(ec));
	if (rsa != NULL)
		json_object_set_new(certs, "rsa", json_string(rsa));
	return d;
}

/* Two certificates, one trust store, distribution "shop" with an exact
 * and a wildcard alias. */
static int
setup(void **state)
{
	struct objs *o = calloc(1, sizeof(*o));

	assert_non_null(o);
	o->certs = json_object();
	o->stores = json_object();
	o->dists = json_object();
	json_object_set_new(o->certs, "shop-ec", cert("ECDSA P-256", FP_EC));
	json_object_set_new(o->certs, "shop-rsa", cert("RSA 2048", FP_RSA));
	json_object_set_new(o->stores, "partners", json_pack("{s:s}",
		"ca_pem", "-----BEGIN CERTIFICATE-----\nMIIC\n"
			  "-----END CERTIFICATE-----\n"));
	json_object_set_new(o->dists, "shop",
			    dist("shop", "shop.example.com", "*.cdn.example.com",
				 "shop-ec", "shop-rsa"));
	*state = o;
	return 0;
}

static int
teardown(void **state)
{
	struct objs *o = *state;

	json_decref(o->certs);
	json_decref(o->stores);
	json_decref(o->dists);
	free(o);
	return 0;
}

static struct cfg_snapshot *
build(struct objs *o, uint64_t gen)
{
	err[0] = '\0';
	return cfg_snapshot_build(gen, o->certs, o->stores, o->dists, err,
				  sizeof(err));
}

static void
expect_refused(struct objs *o, const char *needle1, const char *needle2)
{
	struct cfg_snapshot *s = build(o, 2);

	if (s != NULL) {
		cfg_snapshot_put(s);
		fail_msg("snapshot built; expected a refusal mentioning '%s'",
			 needle1);
	}
	if (strstr(err, needle1) == NULL ||
	    (needle2 != NULL && strstr(err, needle2) == NULL))
		fail_msg("error '%s' does not mention '%s' and '%s'", err,
			 needle1, needle2 ? needle2 : "");
}

static void
test_build_good(void **state)
{
	struct objs *o = *state;
	const struct cfg_dist *d;
	const struct cfg_cert *c;
	struct cfg_snapshot *s = build(o, 7);

	assert_non_null(s);
	assert_int_equal(cfg_snapshot_generation(s), 7);
	assert_int_equal(cfg_snapshot_nb_certs(s), 2);
	assert_int_equal(cfg_snapshot_nb_dists(s), 1);
	assert_int_equal(cfg_snapshot_nb_truststores(s), 1);
	d = cfg_snapshot_find_dist(s, "shop");
	assert_non_null(d);
	assert_true(d->enabled);
	assert_int_equal(d->nb_aliases, 2);
	assert_non_null(d->ecdsa);
	assert_string_equal(d->ecdsa->name, "shop-ec");
	assert_int_equal(d->ecdsa->key_kind, CFG_KEY_ECDSA);
	assert_string_equal(d->rsa->name, "shop-rsa");
	assert_true(d->has_listen);
	assert_int_equal(d->listen.s_addr, htonl(0xc633640a));
	assert_string_equal(d->security_policy, "TLSv1.2_2021");
	assert_int_equal(d->mtls, CFG_MTLS_OFF);
	assert_null(d->trust_store);
	assert_non_null(d->json);
	c = cfg_snapshot_find_cert(s, "shop-rsa");
	assert_non_null(c);
	assert_int_equal(c->fingerprint[0], 0xff);
	assert_int_equal(c->fingerprint[31], 0x00);
	assert_int_equal(c->nb_sans, 1);
	assert_string_equal(c->sans[0], "shop.example.com");
	assert_null(cfg_snapshot_find_cert(s, "nope"));
	cfg_snapshot_put(s);

	/* An empty transaction is a valid (empty) configuration. */
	s = cfg_snapshot_build(1, NULL, NULL, NULL, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(cfg_snapshot_nb_dists(s), 0);
	assert_null(cfg_snapshot_find_host(s, "shop.example.com"));
	cfg_snapshot_put(s);
}

static void
test_sni(void **state)
{
	struct objs *o = *state;
	struct cfg_snapshot *s;
	const struct cfg_dist *d;

	json_object_set_new(o->dists, "blog",
			    dist("blog", "www.cdn.example.com", "Blog.Example.ORG",
				 "shop-ec", NULL));
	json_object_set_new(o->dists, "off",
			    dist("off", "off.example.net", NULL, NULL,
				 "shop-rsa"));
	json_object_del(json_object_get(o->dists, "blog"), "listen");
	json_object_del(json_object_get(o->dists, "off"), "listen");
	json_object_set(json_object_get(o->dists, "off"), "enabled",
			json_false());
	s = build(o, 3);
	assert_non_null(s);

	d = cfg_snapshot_find_host(s, "shop.example.com");
	assert_non_null(d);
	assert_string_equal(d->name, "shop");
	/* Case and a trailing dot do not matter. */
	d = cfg_snapshot_find_host(s, "SHOP.Example.com.");
	assert_non_null(d);
	assert_string_equal(d->name, "shop");
	/* Wildcard: exactly one label. */
	d = cfg_snapshot_find_host(s, "img.cdn.example.com");
	assert_non_null(d);
	assert_string_equal(d->name, "shop");
	assert_null(cfg_snapshot_find_host(s, "cdn.example.com"));
	assert_null(cfg_snapshot_find_host(s, "a.b.cdn.example.com"));
	/* The exact alias wins over the wildcard covering it. */
	d = cfg_snapshot_find_host(s, "www.cdn.example.com");
	assert_non_null(d);
	assert_string_equal(d->name, "blog");
	/* Aliases were lower-cased when built. */
	d = cfg_snapshot_find_host(s, "blog.example.org");
	assert_non_null(d);
	assert_string_equal(d->name, "blog");
	/* A disabled distribution does not serve its names. */
	assert_non_null(cfg_snapshot_find_dist(s, "off"));
	assert_null(cfg_snapshot_find_host(s, "off.example.net"));
	assert_null(cfg_snapshot_find_host(s, "example.com"));
	assert_null(cfg_snapshot_find_host(s, ""));
	assert_null(cfg_snapshot_find_host(s, "nothing.example"));
	cfg_snapshot_put(s);
}

static void
test_missing_cert(void **state)
{
	struct objs *o = *state;

	json_object_del(o->certs, "shop-rsa");
	expect_refused(o, "distribution \"shop\"", "\"shop-rsa\"");
	assert_non_null(strstr(err, "not in the transaction"));
}

static void
test_wrong_key_type(void **state)
{
	struct objs *o = *state;

	json_object_set_new(o->dists, "shop",
			    dist("shop", "shop.example.com", NULL, "shop-rsa",
				 NULL));
	expect_refused(o, "certificates.ecdsa", "RSA 2048");
}

static void
test_missing_truststore(void **state)
{
	struct objs *o = *state;
	json_t *mtls = json_object_get(json_object_get(json_object_get(
			o->dists, "shop"), "tls"), "mtls");
	struct cfg_snapshot *s;

	json_object_set_new(mtls, "mode", json_string("required"));
	expect_refused(o, "trust_store", "no tls.mtls.trust_store");
	json_object_set_new(mtls, "trust_store", json_string("suppliers"));
	expect_refused(o, "trust store \"suppliers\"", "not in the transaction");
	json_object_set_new(mtls, "trust_store", json_string("partners"));
	s = build(o, 2);
	assert_non_null(s);
	assert_int_equal(cfg_snapshot_find_dist(s, "shop")->mtls,
			 CFG_MTLS_REQUIRED);
	assert_string_equal(cfg_snapshot_find_dist(s, "shop")->trust_store->name,
			    "partners");
	cfg_snapshot_put(s);
}

static void
test_alias_twice(void **state)
{
	struct objs *o = *state;
	json_t *d = dist("other", "SHOP.example.com", NULL, "shop-ec", NULL);

	json_object_del(d, "listen");
	json_object_set_new(o->dists, "other", d);
	expect_refused(o, "\"shop.example.com\"",
		       "already claimed by distribution \"shop\"");
	json_object_set_new(o->dists, "other",
			    dist("other", "x.example.com", "x.example.com",
				 "shop-ec", NULL));
	json_object_del(json_object_get(o->dists, "other"), "listen");
	expect_refused(o, "distribution \"other\"", "listed twice");
	/* Same dedicated listen address twice. */
	json_object_set_new(o->dists, "other",
			    dist("other", "x.example.com", NULL, "shop-ec",
				 NULL));
	expect_refused(o, "198.51.100.10", "distribution \"shop\"");
}

static void
test_malformed(void **state)
{
	struct objs *o = *state;
	json_t *shop = json_object_get(o->dists, "shop");
	struct cfg_snapshot *s;

	json_object_set_new(shop, "aliases", json_pack("[s]", "bad host!"));
	expect_refused(o, "aliases[0]", "bad host!");
	json_object_set_new(shop, "aliases", json_array());
	expect_refused(o, "aliases must be an array", NULL);
	json_object_set_new(shop, "aliases", json_pack("[s]", "a.example.com"));
	json_object_set_new(shop, "certificates", json_object());
	expect_refused(o, "neither an ecdsa nor an rsa", NULL);
	json_object_set_new(shop, "certificates",
			    json_pack("{s:s}", "ecdsa", "shop-ec"));
	json_object_set_new(json_object_get(shop, "listen"), "address",
			    json_string("300.1.1.1"));
	expect_refused(o, "listen.address", NULL);
	json_object_del(shop, "listen");
	json_object_set_new(json_object_get(shop, "tls"), "security_policy",
			    json_string("SSLv3"));
	expect_refused(o, "tls.security_policy", NULL);
	json_object_del(json_object_get(shop, "tls"), "security_policy");
	s = build(o, 2);
	assert_non_null(s);
	/* The default policy is filled in. */
	assert_string_equal(cfg_snapshot_find_dist(s, "shop")->security_policy,
			    "TLSv1.2_2021");
	cfg_snapshot_put(s);

	json_object_set_new(o->dists, "nope", json_string("x"));
	expect_refused(o, "distribution \"nope\"", "not a JSON object");
	json_object_del(o->dists, "nope");
	json_object_set_new(o->dists, "-bad", dist("-bad", "b.example.com",
						   NULL, "shop-ec", NULL));
	expect_refused(o, "\"-bad\"", "a name is");
	json_object_del(o->dists, "-bad");

	json_object_set_new(json_object_get(o->certs, "shop-ec"), "fingerprint",
			    json_string("abc"));
	expect_refused(o, "certificate \"shop-ec\"", "fingerprint");
	json_object_set_new(json_object_get(o->certs, "shop-ec"), "fingerprint",
			    json_string(FP_EC));
	json_object_set_new(json_object_get(o->certs, "shop-ec"), "key_type",
			    json_string("DSA 1024"));
	expect_refused(o, "certificate \"shop-ec\"", "DSA 1024");
	json_object_set_new(json_object_get(o->certs, "shop-ec"), "key_type",
			    json_string("ECDSA P-256"));
	json_object_del(json_object_get(o->certs, "shop-ec"), "key_pem");
	expect_refused(o, "certificate \"shop-ec\"", "key_pem");

	assert_null(cfg_snapshot_build(0, NULL, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "generation"));
}

/* ---------------------------------------------------------------- publication */

struct reader {
	struct cfg_snapshot **slot;
	struct cfg_snapshot *held;      /* a reference kept past the loop */
	uint64_t seen_gen;
	int misses;                     /* lookups that failed */
	int stop;                       /* atomic */
};

/* A worker-shaped reader: online, one quiescent state per iteration, and
 * one reference taken on the first snapshot it saw. */
static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct cfg_snapshot *s;

	rcu_register_thread();
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		s = cfg_snapshot_current(r->slot);
		if (s != NULL) {
			if (r->held == NULL)
				r->held = cfg_snapshot_get(s);
			__atomic_store_n(&r->seen_gen,
					 cfg_snapshot_generation(s),
					 __ATOMIC_RELEASE);
			/* Reading through the pointer is safe until the
			 * quiescent state below. */
			if (cfg_snapshot_find_host(s, "shop.example.com") ==
			    NULL)
				__atomic_add_fetch(&r->misses, 1,
						   __ATOMIC_RELAXED);
		}
		rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

static void
test_publish_refcount(void **state)
{
	struct objs *o = *state;
	struct cfg_snapshot *slot = NULL, *s1, *s2;
	struct reader r = { .slot = &slot };
	pthread_t th;

	rcu_register_thread();
	s1 = build(o, 1);
	assert_non_null(s1);
	cfg_snapshot_publish(&slot, s1);
	assert_ptr_equal(cfg_snapshot_current(&slot), s1);

	assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);
	while (__atomic_load_n(&r.seen_gen, __ATOMIC_ACQUIRE) != 1)
		usleep(100);

	json_object_set_new(json_object_get(o->dists, "shop"), "aliases",
			    json_pack("[s]", "shop.example.com"));
	s2 = build(o, 2);
	assert_non_null(s2);
	/* Returns only after the reader passed a quiescent state. */
	cfg_snapshot_publish(&slot, s2);
	assert_ptr_equal(cfg_snapshot_current(&slot), s2);
	while (__atomic_load_n(&r.seen_gen, __ATOMIC_ACQUIRE) != 2)
		usleep(100);

	/* The slot's reference on s1 is gone, the reader's keeps it: still
	 * whole, wildcard alias and all. */
	assert_ptr_equal(r.held, s1);
	assert_int_equal(cfg_snapshot_generation(r.held), 1);
	assert_non_null(cfg_snapshot_find_host(r.held, "x.cdn.example.com"));
	assert_null(cfg_snapshot_find_host(s2, "x.cdn.example.com"));

	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	rcu_thread_offline();
	assert_int_equal(pthread_join(th, NULL), 0);
	rcu_thread_online();
	assert_int_equal(r.misses, 0);
	cfg_snapshot_put(r.held);       /* frees s1 (ASan checks) */

	cfg_snapshot_publish(&slot, NULL);
	assert_null(cfg_snapshot_current(&slot));
	rcu_unregister_thread();
}

/* "default": true marks the distribution for clients without SNI or with
 * unknown names; at most one; the dedicated-address lookup finds the
 * distribution listening there; both skip a disabled distribution. */
static void
test_default_and_listen(void **state)
{
	struct objs *o = *state;
	json_t *other = dist("other", "other.example.com", NULL, "shop-ec",
			     NULL);
	struct cfg_snapshot *s;

	json_object_del(other, "listen");
	json_object_set_new(o->dists, "other", other);
	s = build(o, 3);
	assert_non_null(s);
	assert_null(cfg_snapshot_default(s));
	assert_string_equal(cfg_snapshot_find_listen(s,
				htonl(0xc633640a))->name, "shop");
	assert_null(cfg_snapshot_find_listen(s, htonl(0xc633640b)));
	/* Positions are what the TLS contexts are indexed by. */
	assert_ptr_equal(cfg_snapshot_dist(s, cfg_snapshot_find_dist(s,
				"other")->index),
			 cfg_snapshot_find_dist(s, "other"));
	cfg_snapshot_put(s);

	json_object_set_new(other, "default", json_true());
	s = build(o, 4);
	assert_non_null(s);
	assert_string_equal(cfg_snapshot_default(s)->name, "other");
	assert_true(cfg_snapshot_find_dist(s, "other")->is_default);
	assert_false(cfg_snapshot_find_dist(s, "shop")->is_default);
	cfg_snapshot_put(s);

	json_object_set_new(other, "enabled", json_false());
	s = build(o, 5);
	assert_non_null(s);
	assert_null(cfg_snapshot_default(s));
	cfg_snapshot_put(s);
	json_object_set_new(other, "enabled", json_true());

	json_object_set_new(json_object_get(o->dists, "shop"), "default",
			    json_true());
	expect_refused(o, "is already the default", "at most one");
	json_object_set_new(other, "default", json_string("yes"));
	expect_refused(o, "distribution \"other\": default must be", NULL);
}

/* ---------------------------------------------------------------- routing */

#define PIN "sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

/* Origins, behaviors and response headers as the control plane pushes
 * them (normalised, every default present) or as a hand-written push
 * leaves them (defaults absent). */
static void
set_routing(struct objs *o, const char *routing)
{
	json_t *shop = json_object_get(o->dists, "shop");
	json_t *r = json_loads(routing, 0, NULL);

	assert_non_null(r);
	assert_int_equal(json_object_update(shop, r), 0);
	json_decref(r);
}

static const char routing_json[] =
	"{\"origins\": ["
	"  {\"id\": \"web\", \"domain\": \"Origin.Example.COM\"},"
	"  {\"id\": \"pinned\", \"domain\": \"api.example.net\","
	"   \"address\": \"192.0.2.80\", \"http_port\": 8080,"
	"   \"https_port\": 8443, \"protocol_policy\": \"match-viewer\","
	"   \"tls_protocols\": [\"TLSv1.3\"],"
	"   \"verify\": {\"mode\": \"pinned\", \"pins\": [\"" PIN "\"]},"
	"   \"forward_host\": true, \"connect_timeout_ms\": 100,"
	"   \"response_timeout_ms\": 600000}],"
	" \"behaviors\": ["
	"  {\"path_pattern\": \"/api/*\", \"origin\": \"pinned\","
	"   \"viewer_protocol_policy\": \"https-only\"},"
	"  {\"path_pattern\": \"*\", \"origin\": \"web\","
	"   \"viewer_protocol_policy\": \"allow-all\"},"
	"  {\"path_pattern\": \"/x?\", \"origin\": \"web\"}],"
	" \"default_behavior\": {\"origin\": \"web\"},"
	" \"response_headers\": {\"hsts\": {\"max_age\": 63072000,"
	"   \"include_subdomains\": true, \"preload\": true},"
	"   \"content_type_options\": true, \"frame_options\": \"SAMEORIGIN\","
	"   \"referrer_policy\": \"strict-origin-when-cross-origin\","
	"   \"content_security_policy\": \"default-src 'self'\","
	"   \"override\": false}}";

static void
test_routing_parsed(void **state)
{
	struct objs *o = *state;
	const struct cfg_origin *web, *pin;
	const struct cfg_resp_headers *rh;
	const struct cfg_dist *d;
	struct cfg_snapshot *s;
	unsigned int i;

	/* Pushed without any of it: nothing to route to, no headers. */
	s = build(o, 2);
	assert_non_null(s);
	d = cfg_snapshot_find_dist(s, "shop");
	assert_int_equal(d->nb_origins, 0);
	assert_int_equal(d->nb_behaviors, 0);
	assert_null(d->default_behavior.origin);
	assert_null(d->resp_headers.hsts);
	assert_false(d->resp_headers.content_type_options);
	assert_true(d->resp_headers.override);
	cfg_snapshot_put(s);

	set_routing(o, routing_json);
	s = build(o, 3);
	if (s == NULL)
		fail_msg("refused: %s", err);
	d = cfg_snapshot_find_dist(s, "shop");
	assert_int_equal(d->nb_origins, 2);

	/* Every default filled in. */
	web = cfg_dist_find_origin(d, "web");
	assert_ptr_equal(web, &d->origins[0]);
	assert_string_equal(web->domain, "origin.example.com");
	assert_false(web->has_address);
	assert_int_equal(web->http_port, 80);
	assert_int_equal(web->https_port, 443);
	assert_int_equal(web->protocol_policy, CFG_ORIGIN_HTTPS_ONLY);
	assert_int_equal(web->tls_protocols,
			 CFG_ORIGIN_TLS12 | CFG_ORIGIN_TLS13);
	assert_int_equal(web->verify, CFG_VERIFY_STRICT);
	assert_int_equal(web->nb_pins, 0);
	assert_false(web->forward_host);
	assert_int_equal(web->connect_timeout_ms, 5000);
	assert_int_equal(web->response_timeout_ms, 30000);

	/* Every field given. */
	pin = cfg_dist_find_origin(d, "pinned");
	assert_non_null(pin);
	assert_true(pin->has_address);
	assert_int_equal(pin->address.s_addr, htonl(0xc0000250));
	assert_int_equal(pin->http_port, 8080);
	assert_int_equal(pin->https_port, 8443);
	assert_int_equal(pin->protocol_policy, CFG_ORIGIN_MATCH_VIEWER);
	assert_int_equal(pin->tls_protocols, CFG_ORIGIN_TLS13);
	assert_int_equal(pin->verify, CFG_VERIFY_PINNED);
	assert_int_equal(pin->nb_pins, 1);
	for (i = 0; i < CFG_PIN_LEN; i++)
		assert_int_equal(pin->pins[0][i], i);
	assert_true(pin->forward_host);
	assert_int_equal(pin->connect_timeout_ms, 100);
	assert_int_equal(pin->response_timeout_ms, 600000);
	assert_null(cfg_dist_find_origin(d, "nope"));

	/* Behaviors in order, resolved to their origins. */
	assert_int_equal(d->nb_behaviors, 3);
	assert_string_equal(d->behaviors[0].path_pattern, "/api/*");
	assert_int_equal(d->behaviors[0].pattern_len, 6);
	assert_ptr_equal(d->behaviors[0].origin, pin);
	assert_int_equal(d->behaviors[0].viewer_policy, CFG_VIEWER_HTTPS_ONLY);
	assert_string_equal(d->behaviors[1].path_pattern, "*");
	assert_int_equal(d->behaviors[1].viewer_policy, CFG_VIEWER_ALLOW_ALL);
	assert_int_equal(d->behaviors[2].viewer_policy,
			 CFG_VIEWER_REDIRECT_TO_HTTPS);
	assert_null(d->default_behavior.path_pattern);
	assert_ptr_equal(d->default_behavior.origin, web);
	assert_int_equal(d->default_behavior.viewer_policy,
			 CFG_VIEWER_REDIRECT_TO_HTTPS);

	rh = &d->resp_headers;
	assert_string_equal(rh->hsts,
			    "max-age=63072000; includeSubDomains; preload");
	assert_true(rh->content_type_options);
	assert_string_equal(rh->frame_options, "SAMEORIGIN");
	assert_string_equal(rh->referrer_policy,
			    "strict-origin-when-cross-origin");
	assert_string_equal(rh->content_security_policy, "default-src 'self'");
	assert_false(rh->override);
	cfg_snapshot_put(s);

	/* HSTS alone, and without its optional flags. */
	set_routing(o, "{\"response_headers\": {\"hsts\": {\"max_age\": 0}}}");
	s = build(o, 4);
	assert_non_null(s);
	rh = &cfg_snapshot_find_dist(s, "shop")->resp_headers;
	assert_string_equal(rh->hsts, "max-age=0");
	assert_null(rh->frame_options);
	assert_null(rh->content_security_policy);
	assert_true(rh->override);
	cfg_snapshot_put(s);
}

/* Each malformed routing field is refused with its path. */
static void
test_routing_refused(void **state)
{
	static const struct {
		const char *json, *needle1, *needle2;
	} t[] = {
		{ "{\"behaviors\": [{\"path_pattern\": \"/a\", \"origin\": "
		  "\"api\"}]}", "behaviors[0].origin", "\"api\"" },
		{ "{\"default_behavior\": {\"origin\": \"api\"}}",
		  "default_behavior.origin", "\"api\"" },
		{ "{\"default_behavior\": null}", "default_behavior", NULL },
		{ "{\"behaviors\": [{\"path_pattern\": \"/a\", \"origin\": "
		  "\"web\", \"viewer_protocol_policy\": \"https\"}]}",
		  "behaviors[0].viewer_protocol_policy", "redirect-to-https" },
		{ "{\"behaviors\": [{\"path_pattern\": \"a/*\", \"origin\": "
		  "\"web\"}]}", "behaviors[0].path_pattern", "\"/\"" },
		{ "{\"behaviors\": [{\"path_pattern\": \"/a b\", \"origin\": "
		  "\"web\"}]}", "behaviors[0].path_pattern", "printable" },
		{ "{\"behaviors\": [{\"path_pattern\": \"/a\", \"origin\": "
		  "\"web\"}, {\"path_pattern\": \"/a\", \"origin\": \"web\"}]}",
		  "behaviors[1].path_pattern", "repeats behaviors[0]" },
		{ "{\"origins\": []}", "origins must be", NULL },
		{ "{\"origins\": [{\"id\": \"web\", \"domain\": \"a.example\"},"
		  " {\"id\": \"web\", \"domain\": \"b.example\"}]}",
		  "origins[1].id", "earlier origin" },
		{ "{\"origins\": [{\"id\": \"web\"}]}", "origins[0].domain",
		  "missing" },
		{ "{\"origins\": [{\"id\": \"web\", \"domain\": \"a b\"}]}",
		  "origins[0].domain", "host name" },
		{ "{\"origins\": [{\"id\": \"web\", \"domain\": \"a.example\","
		  " \"http_port\": 0}]}", "origins[0].http_port", "1-65535" },
		{ "{\"origins\": [{\"id\": \"web\", \"domain\": \"a.example\","
		  " \"address\": \"example\"}]}", "origins[0].address", "IPv4" },
		{ "{\"origins\": [{\"id\": \"web\", \"domain\": \"a.example\","
		  " \"tls_protocols\": [\"TLSv1.1\"]}]}",
		  "origins[0].tls_protocols", "item 0" },
		{ "{\"origins\": [{\"id\": \"web\", \"domain\": \"a.example\","
		  " \"verify\": {\"mode\": \"pinned\"}}]}",
		  "origins[0].verify.pins", "at least one" },
		{ "{\"origins\": [{\"id\": \"web\", \"domain\": \"a.example\","
		  " \"verify\": {\"mode\": \"pinned\", \"pins\": "
		  "[\"sha256/AAAA\"]}}]}", "origins[0].verify.pins[0]", "32 bytes" },
		{ "{\"origins\": [{\"id\": \"web\", \"domain\": \"a.example\","
		  " \"verify\": {\"mode\": \"strictest\"}}]}",
		  "origins[0].verify.mode", "strict, full, pinned" },
		{ "{\"origins\": [{\"id\": \"web\", \"domain\": \"a.example\","
		  " \"connect_timeout_ms\": 99}]}",
		  "origins[0].connect_timeout_ms", "100-600000" },
		{ "{\"origins\": [{\"id\": \"web\", \"domain\": \"a.example\","
		  " \"verify\": {\"trust_store\": \"nobody\"}}]}",
		  "origins[0].verify.trust_store", "\"nobody\"" },
		{ "{\"origins\": [{\"id\": \"web\", \"domain\": \"a.example\","
		  " \"verify\": {\"trust_store\": 7}}]}",
		  "origins[0].verify.trust_store", NULL },
		{ "{\"response_headers\": {\"hsts\": {}}}",
		  "response_headers.hsts.max_age", "missing" },
		{ "{\"response_headers\": {\"frame_options\": \"ALLOW\"}}",
		  "response_headers.frame_options", "DENY, SAMEORIGIN" },
		{ "{\"response_headers\": {\"referrer_policy\": \"always\"}}",
		  "response_headers.referrer_policy", "no-referrer" },
		{ "{\"response_headers\": {\"content_security_policy\": "
		  "\"default-src\\u0001\"}}",
		  "response_headers.content_security_policy", "printable" },
		{ "{\"response_headers\": {\"override\": \"yes\"}}",
		  "response_headers.override", "true or false" },
	};
	struct objs *o = *state;
	json_t *shop = json_object_get(o->dists, "shop");
	json_t *good;
	size_t i;

	set_routing(o, routing_json);
	good = json_deep_copy(shop);
	assert_non_null(good);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_object_set_new(o->dists, "shop", json_deep_copy(good));
		set_routing(o, t[i].json);
		expect_refused(o, t[i].needle1, t[i].needle2);
		if (strstr(err, "distribution \"shop\"") == NULL)
			fail_msg("'%s' does not name the distribution", err);
	}
	json_decref(good);
}

/* An origin's verify.trust_store is the pushed store itself (the one the
 * distribution's mTLS uses too, when both name it); one not pushed
 * refuses the snapshot with the origin's path. */
static void
test_origin_trust_store(void **state)
{
	struct objs *o = *state;
	json_t *mtls = json_object_get(json_object_get(json_object_get(
			o->dists, "shop"), "tls"), "mtls");
	const struct cfg_dist *d;
	struct cfg_snapshot *s;

	json_object_set_new(mtls, "mode", json_string("optional"));
	json_object_set_new(mtls, "trust_store", json_string("partners"));
	json_object_set_new(o->stores, "origin-ca", json_pack("{s:s}",
		"ca_pem", "-----BEGIN CERTIFICATE-----\nMIID\n"
			  "-----END CERTIFICATE-----\n"));
	set_routing(o, "{\"origins\": ["
		    "  {\"id\": \"web\", \"domain\": \"a.example\"},"
		    "  {\"id\": \"api\", \"domain\": \"b.example\","
		    "   \"verify\": {\"trust_store\": \"partners\"}},"
		    "  {\"id\": \"img\", \"domain\": \"c.example\","
		    "   \"verify\": {\"mode\": \"strict\","
		    "               \"trust_store\": \"origin-ca\"}}],"
		    " \"default_behavior\": {\"origin\": \"web\"}}");
	s = build(o, 2);
	if (s == NULL)
		fail_msg("refused: %s", err);
	d = cfg_snapshot_find_dist(s, "shop");
	assert_null(cfg_dist_find_origin(d, "web")->trust_store);
	assert_non_null(d->trust_store);
	assert_ptr_equal(cfg_dist_find_origin(d, "api")->trust_store,
			 d->trust_store);
	assert_non_null(cfg_dist_find_origin(d, "img")->trust_store);
	assert_string_equal(cfg_dist_find_origin(d, "img")->trust_store->name,
			    "origin-ca");
	assert_non_null(strstr(cfg_dist_find_origin(d, "img")->trust_store->
			       ca_pem, "MIID"));
	cfg_snapshot_put(s);

	/* The store goes away from the transaction, the origin still names
	 * it. */
	json_object_del(o->stores, "origin-ca");
	expect_refused(o, "origins[2].verify.trust_store", "\"origin-ca\"");
	if (strstr(err, "distribution \"shop\"") == NULL)
		fail_msg("'%s' does not name the distribution", err);
}

static int tls_freed;

static void
fake_tls_free(void *ext)
{
	assert_ptr_equal(ext, &tls_freed);
	tls_freed++;
}

/* The TLS extension is owned by the snapshot: freed with its last
 * reference (so contexts outlive the connections that use them), and
 * freed when replaced. */
static void
test_tls_extension(void **state)
{
	struct objs *o = *state;
	struct cfg_snapshot *s = build(o, 6), *ref;

	assert_non_null(s);
	assert_null(cfg_snapshot_tls(s));
	tls_freed = 0;
	cfg_snapshot_set_tls(s, &tls_freed, fake_tls_free);
	assert_ptr_equal(cfg_snapshot_tls(s), &tls_freed);
	cfg_snapshot_set_tls(s, &tls_freed, fake_tls_free);
	assert_int_equal(tls_freed, 1);         /* the replaced one */
	ref = cfg_snapshot_get(s);
	cfg_snapshot_put(s);
	assert_int_equal(tls_freed, 1);         /* a connection holds it */
	cfg_snapshot_put(ref);
	assert_int_equal(tls_freed, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_build_good, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sni, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_cert, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_type, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_truststore, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_alias_twice, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_publish_refcount, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_default_and_listen, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tls_extension, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_routing_parsed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_routing_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_origin_trust_store, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("cfg_snapshot", tests, NULL, NULL);
}

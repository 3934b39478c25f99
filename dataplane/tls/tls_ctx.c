/* SPDX-License-Identifier: BSD-3-Clause */
#include "tls_int.h"            /* wolfssl/options.h first */

#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/types.h>

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <sodium.h>

#include "crypto/chain.h"
#include "tls_ctx.h"
#include "tls_ticket.h"

/*
 * Policies (docs/TLS.md has the table). wolfSSL's --enable-distro build
 * starts a context with every protocol from TLS 1.1 and every suite
 * compiled in, anonymous and NULL ones included, so each context gets an
 * explicit minimum version and suite list. ECDHE only: no static RSA, no
 * finite-field DHE. TLSv1.2_2019 keeps CloudFront's CBC-SHA256/384 suites
 * for old clients; the other policies are AEAD only.
 */
#define SUITES_13 \
	"TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:" \
	"TLS13-CHACHA20-POLY1305-SHA256"
#define SUITES_12_AEAD \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"
#define SUITES_12_CBC \
	"ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:" \
	"ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384"
#define TLS_GROUPS "X25519:P-256:P-384"

/* Ticket lifetime: a ticket outlives two rotations of the default ring
 * (hourly, two keys kept); the ring, not this, is the real bound. */
#define TLS_TICKET_LIFETIME_S 7200

static const struct {
	const char *name;
	enum tls_policy id;
	const char *suites;
} policies[] = {
	{ "TLSv1.2_2019", TLS_POLICY_2019,
	  SUITES_13 ":" SUITES_12_AEAD ":" SUITES_12_CBC },
	{ "TLSv1.2_2021", TLS_POLICY_2021, SUITES_13 ":" SUITES_12_AEAD },
	{ "TLSv1.3_2025", TLS_POLICY_13_2025, SUITES_13 },
};

/* An origin's place in the snapshot: its client context (tls_octx,
 * shared by the origins configured alike) and its identity. */
struct tls_origin_rec {
	const struct tls_octx *x;       /* NULL: http-only */
	uint64_t id;                    /* tls_origin_id */
};

/* Per distribution: one context per worker and certificate kind. */
struct tls_dist_ctx {
	WOLFSSL_CTX **ecdsa;            /* [nb_workers] or NULL */
	WOLFSSL_CTX **rsa;
	uint8_t ticket_binding[16];     /* TICKET_BIND_LEN, see below */
	struct tls_origin_rec *origins; /* [d->nb_origins] */
	unsigned int nb_origins;
};

struct tls_snap {
	unsigned int nb_workers;
	unsigned int nb_dists;
	struct tls_octx *octx;          /* origin client contexts */
	unsigned int nb_octx;
	struct tls_dist_ctx dists[];
};

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- heap */

/* wolfSSL's allocations, counted per thread for the memory-per-connection
 * figure: a worker's count is what its sessions hold. */
static __thread int64_t heap_bytes;

static void *
heap_malloc(size_t n)
{
	void *p = malloc(n);

	if (p != NULL)
		heap_bytes += (int64_t)malloc_usable_size(p);
	return p;
}

static void
heap_free(void *p)
{
	if (p == NULL)
		return;
	heap_bytes -= (int64_t)malloc_usable_size(p);
	free(p);
}

static void *
heap_realloc(void *p, size_t n)
{
	size_t old = p != NULL ? malloc_usable_size(p) : 0;
	void *q = realloc(p, n);

	if (q != NULL)
		heap_bytes += (int64_t)malloc_usable_size(q) - (int64_t)old;
	return q;
}

int64_t
tls_heap_bytes(void)
{
	return heap_bytes;
}

/* ---------------------------------------------------------------- seeds */

#ifndef WC_RNG_SEED_CB
#error "wolfSSL must be built with -DWC_RNG_SEED_CB (tools/setup-deps)"
#endif

/*
 * Every WOLFSSL instantiates its own Hash-DRBG in wolfSSL_new, and
 * wolfSSL's seed source opens, reads and closes /dev/urandom for it: three
 * syscalls per connection on a worker. Seeds come instead from a ChaCha20
 * generator per thread, keyed once from getrandom(2) when the thread first
 * needs a seed (a worker's first handshake), then with fast key erasure:
 * each draw runs ChaCha20 under the current key with a zero nonce, the
 * first 32 bytes of keystream replace the key and the rest is the seed.
 *
 * Why this is sound: a seed is keystream under a uniformly random 256-bit
 * key that is used for one draw only, so it is indistinguishable from
 * random without that key (the kernel's getrandom is the same
 * construction); the key in memory never yields seeds already handed out
 * (forward secrecy), and the DRBG still mixes in its own nonce and
 * personalisation. Threads share nothing: no lock, no two threads on one
 * stream. A forked child would inherit the forking thread's key, so the
 * child forgets it and draws a fresh one.
 */
#define SEED_CHUNK 256

struct seed_gen {
	unsigned char key[crypto_stream_chacha20_KEYBYTES];
	bool keyed;
};

static __thread struct seed_gen seed_gen;

static void
seed_forget(void)
{
	sodium_memzero(&seed_gen, sizeof(seed_gen));
}

static int
seed_key(struct seed_gen *g)
{
	ssize_t n;

	do
		n = getrandom(g->key, sizeof(g->key), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(g->key))
		return -1;
	g->keyed = true;
	return 0;
}

static int
seed_cb(OS_Seed *os, byte *out, word32 sz)
{
	static const unsigned char nonce[crypto_stream_chacha20_NONCEBYTES];
	unsigned char ks[crypto_stream_chacha20_KEYBYTES + SEED_CHUNK];
	struct seed_gen *g = &seed_gen;

	(void)os;
	if (!g->keyed && seed_key(g) != 0)
		return -1;
	while (sz > 0) {
		word32 n = sz < SEED_CHUNK ? sz : SEED_CHUNK;

		crypto_stream_chacha20(ks, sizeof(g->key) + n, nonce, g->key);
		memcpy(g->key, ks, sizeof(g->key));
		memcpy(out, ks + sizeof(g->key), n);
		out += n;
		sz -= n;
	}
	sodium_memzero(ks, sizeof(ks));
	return 0;
}

int
tls_lib_init(void)
{
	if (sodium_init() < 0 ||
	    pthread_atfork(NULL, NULL, seed_forget) != 0 ||
	    wolfSSL_SetAllocators(heap_malloc, heap_free, heap_realloc) != 0 ||
	    wolfSSL_Init() != WOLFSSL_SUCCESS)
		return -EIO;
	/* After wolfSSL_Init, which installs wc_GenerateSeed. */
	return wc_SetSeed_Cb(seed_cb) == 0 ? 0 : -EIO;
}

void
tls_lib_fini(void)
{
	wolfSSL_Cleanup();
}

/* ---------------------------------------------------------------- callbacks */

/*
 * A ticket resumes only on the distribution that issued it, under the same
 * policy and mTLS settings. The ring is shared by every distribution and a
 * resumed session skips certificate verification: without the binding a
 * ticket from a distribution without mTLS resumes, with no client
 * certificate, on one that requires it; and one issued under a weaker
 * policy resumes under a stricter one (wolfSSL only checks the ticket's
 * suite against the client's list). The binding is a hash of the
 * distribution's name, policy, mTLS mode and the trust store's contents
 * (CAs and CRL: a CRL update that revokes a viewer must also stop that
 * viewer's tickets), sealed after wolfSSL's state inside the AEAD, so a
 * client cannot move it. It is computed once per snapshot, off the
 * workers. Hot swaps of certificates keep it; changing the policy, the
 * mTLS settings or the trust store, or renaming, falls back to full
 * handshakes.
 */
#define TICKET_BIND_LEN 16
#define TICKET_OPEN_MAX 512     /* wolfSSL's state is about 100 bytes */

static int
ticket_binding(const struct cfg_dist *d, uint8_t out[TICKET_BIND_LEN])
{
	static const char label[] = "rampart ticket binding v2";
	const uint8_t modes[2] = { (uint8_t)tls_policy_of(d),
				   (uint8_t)d->mtls };
	const struct cfg_truststore *ts =
		d->mtls != CFG_MTLS_OFF ? d->trust_store : NULL;
	const char *parts[3] = {
		ts != NULL ? ts->name : "",
		ts != NULL ? ts->ca_pem : "",
		ts != NULL && ts->crl_pem != NULL ? ts->crl_pem : "",
	};
	uint8_t h[WC_SHA256_DIGEST_SIZE];
	wc_Sha256 sha;
	unsigned int i;
	int rc;

	if (wc_InitSha256(&sha) != 0)
		return -EIO;
	rc = wc_Sha256Update(&sha, (const byte *)label, sizeof(label));
	if (rc == 0)
		rc = wc_Sha256Update(&sha, (const byte *)d->name,
				     (word32)strlen(d->name) + 1);
	if (rc == 0)
		rc = wc_Sha256Update(&sha, modes, sizeof(modes));
	for (i = 0; rc == 0 && i < 3; i++)
		rc = wc_Sha256Update(&sha, (const byte *)parts[i],
				     (word32)strlen(parts[i]) + 1);
	if (rc == 0)
		rc = wc_Sha256Final(&sha, h);
	wc_Sha256Free(&sha);
	if (rc != 0)
		return -EIO;
	memcpy(out, h, TICKET_BIND_LEN);
	return 0;
}

/* Open a ticket in a copy: one sealed for another distribution is then
 * refused with its bytes untouched, as wolfSSL may offer the same ticket
 * again (once per candidate suite). */
static enum tls_ticket_rc
ticket_open_bound(const struct cfg_ticket_ring *ring,
		  const uint8_t want[TICKET_BIND_LEN], const uint8_t *name,
		  const uint8_t *iv, const uint8_t *mac, uint8_t *ticket,
		  size_t in_len, size_t *out_len)
{
	uint8_t buf[TICKET_OPEN_MAX];
	enum tls_ticket_rc rc;
	size_t out = 0;

	if (in_len <= TICKET_BIND_LEN || in_len > sizeof(buf))
		return TLS_TICKET_REJECT;
	memcpy(buf, ticket, in_len);
	rc = tls_ticket_open(ring, name, iv, mac, buf, in_len, &out);
	if (rc == TLS_TICKET_OK || rc == TLS_TICKET_RENEW) {
		if (out <= TICKET_BIND_LEN ||
		    memcmp(buf + out - TICKET_BIND_LEN, want,
			   TICKET_BIND_LEN) != 0) {
			rc = TLS_TICKET_REJECT;
		} else {
			*out_len = out - TICKET_BIND_LEN;
			memcpy(ticket, buf, *out_len);
		}
	}
	/* Session secrets must not linger on the worker's stack. */
	explicit_bzero(buf, in_len);
	return rc;
}

/*
 * Session tickets (TLS 1.2 tickets and TLS 1.3 PSK tickets) sealed with
 * the ring the control plane rotates; tls_ticket.c holds the rules, the
 * binding above says where a ticket may resume. The ring is read through
 * RCU: the worker is online and does not keep it past this call. On
 * encryption *out_len holds the room wolfSSL gives (its state plus
 * padding).
 */
static int
ticket_cb(WOLFSSL *ssl, unsigned char name[WOLFSSL_TICKET_NAME_SZ],
	  unsigned char iv[WOLFSSL_TICKET_IV_SZ],
	  unsigned char mac[WOLFSSL_TICKET_MAC_SZ], int enc,
	  unsigned char *ticket, int in_len, int *out_len, void *arg)
{
	struct cfg_live *live = arg;
	const struct cfg_ticket_ring *ring =
		cfg_ticket_ring_current(&live->tickets);
	struct tls_conn *tc = tls_conn_of(ssl);
	const struct tls_snap *t;
	const uint8_t *bind;
	enum tls_ticket_rc rc;
	size_t out = 0;

	if (ring == NULL || in_len < 0 || tc == NULL || tc->dist == NULL ||
	    (t = cfg_snapshot_tls(tc->snap)) == NULL ||
	    tc->dist->index >= t->nb_dists)
		return enc ? WOLFSSL_TICKET_RET_FATAL :
			     WOLFSSL_TICKET_RET_REJECT;
	bind = t->dists[tc->dist->index].ticket_binding;
	if (enc) {
		if (*out_len < in_len + TICKET_BIND_LEN)
			return WOLFSSL_TICKET_RET_FATAL;
		memcpy(ticket + in_len, bind, TICKET_BIND_LEN);
		/* The session's own DRBG: no syscall for the IV. */
		if (wc_RNG_GenerateBlock(wolfSSL_GetRNG(ssl), iv,
					 TLS_TICKET_IV_LEN) != 0)
			return WOLFSSL_TICKET_RET_FATAL;
		rc = tls_ticket_seal(ring, name, iv, mac, ticket,
				     (size_t)in_len + TICKET_BIND_LEN, &out);
	} else {
		rc = ticket_open_bound(ring, bind, name, iv, mac, ticket,
				       (size_t)in_len, &out);
	}
	switch (rc) {
	case TLS_TICKET_OK:
		*out_len = (int)out;
		return WOLFSSL_TICKET_RET_OK;
	case TLS_TICKET_RENEW:
		*out_len = (int)out;
		dpc_inc(&tc->tl->nl->cnt, DPC_tls_tickets_renewed);
		return WOLFSSL_TICKET_RET_CREATE;
	case TLS_TICKET_REJECT:
		return WOLFSSL_TICKET_RET_REJECT;
	default:
		return WOLFSSL_TICKET_RET_FATAL;
	}
}

/*
 * OCSP stapling, OpenSSL-compatible route. Our wolfSSL (patch 0003,
 * crypto/wolfssl/README.md) asks this callback on every handshake that
 * requests a staple and sends what it sets unchanged: no per-context cache,
 * no re-verification (the control plane verified the response before
 * pushing it) and no need for the issuer in the context. So the staple is
 * whatever the shared cache holds for the certificate being served now:
 * replaced or withdrawn staples reach the next handshake, and
 * cfg_staples_lookup never returns one past its nextUpdate. wolfSSL copies
 * the response and frees ours with XFREE. Returning non-zero means "no
 * staple": the handshake goes on without one.
 */
static int
status_cb(WOLFSSL *ssl, void *arg)
{
	struct tls_conn *tc = tls_conn_of(ssl);
	const struct cfg_staple *st;
	unsigned char *copy;

	(void)arg;
	if (tc == NULL || tc->cert == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	st = cfg_staples_lookup(tc->tl->live->staples, tc->cert->fingerprint,
				(int64_t)time(NULL));
	if (st == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	copy = XMALLOC(st->len, NULL, DYNAMIC_TYPE_OPENSSL);
	if (copy == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	memcpy(copy, st->der, st->len);
	if (wolfSSL_set_tlsext_status_ocsp_resp(ssl, copy, (int)st->len) !=
	    WOLFSSL_SUCCESS) {
		XFREE(copy, NULL, DYNAMIC_TYPE_OPENSSL);
		return SSL_TLSEXT_ERR_NOACK;
	}
	tc->stapled = true;
	return SSL_TLSEXT_ERR_OK;
}

/* mTLS optional: the verification result is recorded by wolfSSL
 * (wolfSSL_get_verify_result) and read after the handshake; a failure
 * does not end the handshake. */
static int
verify_optional_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	(void)preverify;
	(void)store;
	return 1;
}

/* ALPN: http/1.1 when offered (h2 is reserved for later). A client that
 * offers ALPN without http/1.1 was already refused from the peek with a
 * no_application_protocol alert, as nginx does. */
static int
alpn_cb(WOLFSSL *ssl, const unsigned char **out, unsigned char *outlen,
	const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h11[] = "http/1.1";
	unsigned int i = 0;

	(void)ssl;
	(void)arg;
	while (i < inlen) {
		unsigned int n = in[i];

		if (i + 1 + n > inlen)
			break;
		if (n == sizeof(h11) - 1 && memcmp(in + i + 1, h11, n) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

/* ---------------------------------------------------------------- building */

enum tls_policy
tls_policy_of(const struct cfg_dist *d)
{
	unsigned int i;

	for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (d->security_policy != NULL &&
		    strcmp(d->security_policy, policies[i].name) == 0)
			return policies[i].id;
	return TLS_POLICY_2021;
}

static const char *
policy_suites(enum tls_policy p)
{
	unsigned int i;

	for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (policies[i].id == p)
			return policies[i].suites;
	return SUITES_13 ":" SUITES_12_AEAD;
}

/*
 * One context for certificate c of distribution d. Every context staples
 * (status_cb); none loads the server's own issuer, so with mTLS the
 * certificate manager holds the trust store's CAs and nothing else.
 */
/* A trust store's CRL, when it has one, checked for the leaf. */
static int
load_crl(WOLFSSL_CTX *ctx, const struct cfg_truststore *ts)
{
	if (ts->crl_pem == NULL)
		return 0;
	if (wolfSSL_CTX_EnableCRL(ctx, 0) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_LoadCRLBuffer(ctx, (const unsigned char *)ts->crl_pem,
				      (long)strlen(ts->crl_pem),
				      WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
		return -EINVAL;
	return 0;
}

static WOLFSSL_CTX *
build_ctx(const struct cfg_dist *d, const struct cfg_cert *c,
	  struct cfg_live *live, char *err, size_t errlen)
{
	enum tls_policy pol = tls_policy_of(d);
	WOLFSSL_CTX *ctx;
	const char *what = "creating the context";

	ctx = wolfSSL_CTX_new(pol == TLS_POLICY_13_2025 ?
			      wolfTLSv1_3_server_method() :
			      wolfSSLv23_server_method());
	if (ctx == NULL)
		goto fail;
	what = "setting the protocol versions";
	if (pol != TLS_POLICY_13_2025 &&
	    wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS)
		goto fail;
	what = "setting the cipher suites";
	if (wolfSSL_CTX_set_cipher_list(ctx, policy_suites(pol)) !=
	    WOLFSSL_SUCCESS)
		goto fail;
	what = "setting the key-exchange groups";
	if (wolfSSL_CTX_set1_curves_list(ctx, TLS_GROUPS) != WOLFSSL_SUCCESS)
		goto fail;
	what = "loading the certificate chain";
	if (wolfSSL_CTX_use_certificate_chain_buffer_format(ctx,
			(const unsigned char *)c->chain_pem,
			(long)strlen(c->chain_pem), WOLFSSL_FILETYPE_PEM) !=
	    WOLFSSL_SUCCESS)
		goto fail;
	what = "loading the private key";
	if (wolfSSL_CTX_use_PrivateKey_buffer(ctx,
			(const unsigned char *)c->key_pem,
			(long)strlen(c->key_pem), WOLFSSL_FILETYPE_PEM) !=
	    WOLFSSL_SUCCESS)
		goto fail;
	what = "matching the private key to the leaf";
	if (wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS)
		goto fail;

	/* The global session cache would be a shared, locked table: tickets
	 * carry the state instead. This build forces the cache on for
	 * sessions with a ticket (WOLFSSL_FORCE_CACHE_ON_TICKET), so the
	 * internal store and lookup are switched off as well. */
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
	wolfSSL_CTX_set_session_cache_mode(ctx,
					   WOLFSSL_SESS_CACHE_NO_INTERNAL);
	wolfSSL_CTX_set_TicketEncCb(ctx, ticket_cb);
	wolfSSL_CTX_set_TicketEncCtx(ctx, live);
	wolfSSL_CTX_set_TicketHint(ctx, TLS_TICKET_LIFETIME_S);
	wolfSSL_CTX_set_timeout(ctx, TLS_TICKET_LIFETIME_S);
	wolfSSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	what = "enabling OCSP stapling";
	if (wolfSSL_CTX_set_tlsext_status_cb(ctx, status_cb) != WOLFSSL_SUCCESS)
		goto fail;
	/* Renegotiation stays off: wolfSSL_CTX_UseSecureRenegotiation is
	 * never called, so the server only sends the RFC 5746
	 * renegotiation_info and refuses a renegotiating ClientHello. */

	if (d->mtls == CFG_MTLS_OFF) {
		wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
	} else {
		const struct cfg_truststore *ts = d->trust_store;

		what = "loading the trust store's CA certificates";
		if (ts == NULL || wolfSSL_CTX_load_verify_buffer(ctx,
				(const unsigned char *)ts->ca_pem,
				(long)strlen(ts->ca_pem),
				WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
			goto fail;
		what = "loading the trust store's CRL";
		if (load_crl(ctx, ts) != 0)
			goto fail;
		/* Required: FAIL_IF_NO_PEER_CERT alone makes wolfSSL 5.5.4
		 * refuse a TLS 1.2 client without a certificate only at its
		 * ClientKeyExchange, and silently (no alert: the viewer sees
		 * the connection drop). Mutual auth refuses the empty
		 * Certificate message itself with handshake_failure (TLS 1.2)
		 * or certificate_required (TLS 1.3); resumption, which
		 * carries no Certificate, is unaffected. */
		if (d->mtls == CFG_MTLS_REQUIRED) {
			wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER |
				WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
			what = "requiring a client certificate";
			if (wolfSSL_CTX_mutual_auth(ctx, 1) != 0)
				goto fail;
		} else {
			wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER,
					       verify_optional_cb);
		}
	}
	tls_conn_set_io(ctx);
	return ctx;

fail:
	set_err(err, errlen, "distribution \"%s\": certificate \"%s\"%s%s%s: "
		"wolfSSL refused it while %s; check the object and import it "
		"again", d->name, c->name,
		d->trust_store != NULL && d->mtls != CFG_MTLS_OFF ?
		" with trust store \"" : "",
		d->trust_store != NULL && d->mtls != CFG_MTLS_OFF ?
		d->trust_store->name : "",
		d->trust_store != NULL && d->mtls != CFG_MTLS_OFF ? "\"" : "",
		what);
	wolfSSL_CTX_free(ctx);
	return NULL;
}

static void
free_ctxs(WOLFSSL_CTX **v, unsigned int n)
{
	unsigned int i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		wolfSSL_CTX_free(v[i]);
	free(v);
}

static void
tls_snap_free(void *p)
{
	struct tls_snap *t = p;
	unsigned int i, j;

	if (t == NULL)
		return;
	for (i = 0; i < t->nb_dists; i++) {
		free_ctxs(t->dists[i].ecdsa, t->nb_workers);
		free_ctxs(t->dists[i].rsa, t->nb_workers);
		free(t->dists[i].origins);
	}
	for (j = 0; j < t->nb_octx; j++) {
		wolfSSL_CTX_free(t->octx[j].ctx);
		chain_anchors_free(t->octx[j].anchors);
	}
	free(t->octx);
	free(t);
}

/* ---------------------------------------------------------------- origins */

/*
 * Origin contexts: one per origin that may be reached over TLS, shared
 * by every worker. Unlike the viewer side (one context per worker: a
 * handshake per viewer connection), origin handshakes are rare, since
 * connections are pooled and sessions resumed, so the context's
 * reference-count mutex in wolfSSL_new is not a hot lock; and a strict
 * context holds the whole CA bundle (about 140 roots), which per worker
 * would multiply commit time and memory by the number of workers.
 *
 * ECDSA preferred: our signature algorithms and TLS 1.2 suites list
 * ECDSA first, so an origin holding both kinds of certificate (and
 * honouring the client's order, OpenSSL's default) presents the ECDSA
 * one. The protocol versions are the origin's tls_protocols.
 */
#define ORIGIN_SUITES \
	SUITES_13 ":" \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305"
#define ORIGIN_SIGALGS \
	"ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:" \
	"RSA-PSS+SHA256:RSA-PSS+SHA384:RSA-PSS+SHA512:" \
	"RSA+SHA256:RSA+SHA384:RSA+SHA512"

static bool
origin_uses_tls(const struct cfg_origin *o)
{
	return o->protocol_policy != CFG_ORIGIN_HTTP_ONLY;
}

/* Origins whose contexts would be configured alike. */
static bool
origin_ctx_same(const struct cfg_origin *a, const struct cfg_origin *b)
{
	return a->tls_protocols == b->tls_protocols &&
	       a->verify == b->verify &&
	       (a->verify != CFG_VERIFY_STRICT ||
		a->trust_store == b->trust_store);
}

/* Fill x for origin o: its context and, for strict, its anchors. *bundle
 * is the CA bundle's text, read on first use and kept for the rest of
 * this build. */
static int
build_origin_ctx(struct tls_octx *x, const struct cfg_dist *d,
		 const struct cfg_origin *o, const char *ca_bundle,
		 char **bundle, char *err, size_t errlen)
{
	const struct cfg_truststore *ts = o->trust_store;
	const char *what = "creating the context", *anchors;
	WOLFSSL_CTX *ctx;
	int rc;

	/* One method for every version set: the TLSv1_2-only client
	 * method refuses X25519 in set1_curves_list. */
	ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	if (ctx == NULL)
		goto fail;
	what = "setting the protocol versions";
	if (wolfSSL_CTX_set_min_proto_version(ctx,
			o->tls_protocols & CFG_ORIGIN_TLS12 ? TLS1_2_VERSION :
							      TLS1_3_VERSION) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_max_proto_version(ctx,
			o->tls_protocols & CFG_ORIGIN_TLS13 ? TLS1_3_VERSION :
							      TLS1_2_VERSION) !=
	    WOLFSSL_SUCCESS)
		goto fail;
	what = "setting the cipher suites";
	if (wolfSSL_CTX_set_cipher_list(ctx, o->tls_protocols ==
					CFG_ORIGIN_TLS13 ? SUITES_13 :
					ORIGIN_SUITES) != WOLFSSL_SUCCESS)
		goto fail;
	what = "setting the key-exchange groups";
	if (wolfSSL_CTX_set1_curves_list(ctx, TLS_GROUPS) != WOLFSSL_SUCCESS)
		goto fail;
	/* After the suites: setting those recomputes the list. */
	what = "setting the signature algorithms";
	if (wolfSSL_CTX_set1_sigalgs_list(ctx, ORIGIN_SIGALGS) !=
	    WOLFSSL_SUCCESS)
		goto fail;
	/* Sessions are kept per worker by tls_origin.c, not in wolfSSL's
	 * global (locked) cache. */
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
	wolfSSL_CTX_set_session_cache_mode(ctx,
					   WOLFSSL_SESS_CACHE_NO_INTERNAL);
	tls_origin_set_io(ctx);
	x->ctx = ctx;
	if (o->verify != CFG_VERIFY_STRICT) {
		/* full: nothing; pinned: checked by tls_origin.c once the
		 * chain is in (crypto/chain.h). */
		wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
		return 0;
	}
	if (ts != NULL) {
		anchors = ts->ca_pem;
	} else {
		if (*bundle == NULL) {
			rc = chain_read_file(ca_bundle, bundle);
			if (rc == -ENOMEM)
				goto nomem;
			if (rc != 0)
				goto no_bundle;
		}
		anchors = *bundle;
	}
	what = ts != NULL ? "loading the trust store's CA certificates" :
			    "loading the CA bundle";
	if (wolfSSL_CTX_load_verify_buffer(ctx, (const unsigned char *)anchors,
			(long)strlen(anchors), WOLFSSL_FILETYPE_PEM) !=
	    WOLFSSL_SUCCESS) {
		if (ts == NULL)
			goto no_bundle;
		goto fail;
	}
	what = "loading the trust store's CRL";
	if (ts != NULL && load_crl(ctx, ts) != 0)
		goto fail;
	x->anchors = chain_anchors_load(anchors);
	if (x->anchors == NULL)
		goto nomem;
	tls_origin_set_verify(ctx);
	return 0;

no_bundle:
	set_err(err, errlen, "distribution \"%s\": origin \"%s\": strict "
		"verification needs the CA bundle %s, which cannot be read or "
		"holds no certificate; install ca-certificates, start the "
		"dataplane with --origin-ca-bundle, or name a trust store in "
		"verify.trust_store", d->name, o->id, ca_bundle);
	return -EINVAL;
nomem:
	set_err(err, errlen, "out of memory building the TLS contexts");
	return -ENOMEM;
fail:
	set_err(err, errlen, "distribution \"%s\": origin \"%s\": wolfSSL "
		"refused its TLS settings while %s%s%s%s", d->name, o->id,
		what, ts != NULL ? " (trust store \"" : "",
		ts != NULL ? ts->name : "", ts != NULL ? "\")" : "");
	return -EINVAL;
}

static uint64_t origin_ids;     /* control thread only */

/* The origin contexts of distribution i: an origin configured like one
 * built before it (in this or an earlier distribution) shares its
 * context; each origin gets an identity of its own. */
static int
build_origins(struct tls_snap *t, const struct cfg_snapshot *s,
	      unsigned int i, const char *ca_bundle, char **bundle,
	      char *err, size_t errlen)
{
	const struct cfg_dist *d = cfg_snapshot_dist(s, i);
	struct tls_dist_ctx *dc = &t->dists[i];
	unsigned int j, k;
	int rc;

	if (d->nb_origins == 0)
		return 0;
	dc->origins = calloc(d->nb_origins, sizeof(*dc->origins));
	if (dc->origins == NULL) {
		set_err(err, errlen, "out of memory building the TLS contexts");
		return -ENOMEM;
	}
	dc->nb_origins = d->nb_origins;
	for (j = 0; j < d->nb_origins; j++) {
		const struct cfg_origin *o = &d->origins[j];
		struct tls_octx *x = NULL;

		if (!origin_uses_tls(o))
			continue;
		for (k = 0; k < t->nb_octx && x == NULL; k++)
			if (origin_ctx_same(o, t->octx[k].like))
				x = &t->octx[k];
		if (x == NULL) {
			x = &t->octx[t->nb_octx];
			x->like = o;
			rc = build_origin_ctx(x, d, o, ca_bundle, bundle, err,
					      errlen);
			/* Counted even when half built: freed with t. */
			t->nb_octx++;
			if (rc != 0)
				return rc;
		}
		dc->origins[j].x = x;
		dc->origins[j].id = ++origin_ids;
	}
	return 0;
}

const struct tls_octx *
tls_snapshot_origin_ctx(const struct cfg_snapshot *s, const struct cfg_dist *d,
			const struct cfg_origin *o, uint64_t *id)
{
	const struct tls_snap *t = cfg_snapshot_tls(s);
	const struct tls_dist_ctx *dc;
	size_t j;

	*id = 0;
	if (t == NULL || d->index >= t->nb_dists)
		return NULL;
	dc = &t->dists[d->index];
	if (o < d->origins || (size_t)(o - d->origins) >= dc->nb_origins)
		return NULL;
	j = (size_t)(o - d->origins);
	if (dc->origins[j].x == NULL)
		return NULL;
	*id = dc->origins[j].id;
	return dc->origins[j].x;
}

static int
build_set(WOLFSSL_CTX ***out, const struct cfg_dist *d,
	  const struct cfg_cert *c, unsigned int nb_workers,
	  struct cfg_live *live, char *err, size_t errlen)
{
	unsigned int w;

	*out = calloc(nb_workers, sizeof(**out));
	if (*out == NULL) {
		set_err(err, errlen, "out of memory building the TLS contexts");
		return -ENOMEM;
	}
	for (w = 0; w < nb_workers; w++) {
		(*out)[w] = build_ctx(d, c, live, err, errlen);
		if ((*out)[w] == NULL)
			return -EINVAL;
	}
	return 0;
}

int
tls_snapshot_build(struct cfg_snapshot *s, unsigned int nb_workers,
		   struct cfg_live *live, const char *origin_ca_bundle,
		   char *err, size_t errlen)
{
	unsigned int i, n = cfg_snapshot_nb_dists(s), nb_origins = 0;
	struct tls_snap *t;
	char *bundle = NULL;
	int rc = 0;

	if (nb_workers == 0)
		nb_workers = 1;
	for (i = 0; i < n; i++)
		nb_origins += cfg_snapshot_dist(s, i)->nb_origins;
	t = calloc(1, sizeof(*t) + n * sizeof(t->dists[0]));
	if (t != NULL && nb_origins > 0) {
		t->octx = calloc(nb_origins, sizeof(*t->octx));
		if (t->octx == NULL) {
			free(t);
			t = NULL;
		}
	}
	if (t == NULL) {
		set_err(err, errlen, "out of memory building the TLS contexts");
		return -ENOMEM;
	}
	t->nb_workers = nb_workers;
	t->nb_dists = n;
	for (i = 0; i < n && rc == 0; i++) {
		const struct cfg_dist *d = cfg_snapshot_dist(s, i);

		/* A disabled distribution serves nothing: no contexts. */
		if (!d->enabled)
			continue;
		if (ticket_binding(d, t->dists[i].ticket_binding) != 0) {
			set_err(err, errlen, "distribution \"%s\": cannot "
				"derive its ticket binding", d->name);
			rc = -EIO;
			break;
		}
		if (d->ecdsa != NULL)
			rc = build_set(&t->dists[i].ecdsa, d, d->ecdsa,
				       nb_workers, live, err, errlen);
		if (rc == 0 && d->rsa != NULL)
			rc = build_set(&t->dists[i].rsa, d, d->rsa, nb_workers,
				       live, err, errlen);
		if (rc == 0)
			rc = build_origins(t, s, i, origin_ca_bundle != NULL ?
					   origin_ca_bundle :
					   TLS_ORIGIN_CA_BUNDLE, &bundle, err,
					   errlen);
	}
	free(bundle);
	if (rc != 0) {
		tls_snap_free(t);
		return rc;
	}
	cfg_snapshot_set_tls(s, t, tls_snap_free);
	return 0;
}

WOLFSSL_CTX *
tls_snapshot_ctx(const struct cfg_snapshot *s, const struct cfg_dist *d,
		 enum cfg_key_kind kind, unsigned int worker)
{
	const struct tls_snap *t = cfg_snapshot_tls(s);
	WOLFSSL_CTX *const *v;

	if (t == NULL || d->index >= t->nb_dists || worker >= t->nb_workers)
		return NULL;
	v = kind == CFG_KEY_ECDSA ? t->dists[d->index].ecdsa :
				    t->dists[d->index].rsa;
	return v != NULL ? v[worker] : NULL;
}

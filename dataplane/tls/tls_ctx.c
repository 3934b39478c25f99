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

/* Per distribution: one context per worker and certificate kind. */
struct tls_dist_ctx {
	WOLFSSL_CTX **ecdsa;            /* [nb_workers] or NULL */
	WOLFSSL_CTX **rsa;
	uint8_t ticket_binding[16];     /* TICKET_BIND_LEN, see below */
};

struct tls_snap {
	unsigned int nb_workers;
	unsigned int nb_dists;
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
		if (ts->crl_pem != NULL) {
			what = "loading the trust store's CRL";
			if (wolfSSL_CTX_EnableCRL(ctx, 0) != WOLFSSL_SUCCESS ||
			    wolfSSL_CTX_LoadCRLBuffer(ctx,
					(const unsigned char *)ts->crl_pem,
					(long)strlen(ts->crl_pem),
					WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
				goto fail;
		}
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
	unsigned int i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nb_dists; i++) {
		free_ctxs(t->dists[i].ecdsa, t->nb_workers);
		free_ctxs(t->dists[i].rsa, t->nb_workers);
	}
	free(t);
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
		   struct cfg_live *live, char *err, size_t errlen)
{
	unsigned int i, n = cfg_snapshot_nb_dists(s);
	struct tls_snap *t;
	int rc = 0;

	if (nb_workers == 0)
		nb_workers = 1;
	t = calloc(1, sizeof(*t) + n * sizeof(t->dists[0]));
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
	}
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

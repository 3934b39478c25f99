/* SPDX-License-Identifier: BSD-3-Clause */
#include "tls_int.h"            /* wolfssl/options.h first */

#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/chain.h"
#include "tls_origin.h"

/* Sessions kept per worker: one per (origin, name) recently used. A
 * session of this build holds its peer's chain (SESSION_CERTS), about
 * 38 KB, which bounds how many are worth keeping. */
#define OR_SESSIONS     32

struct or_session {
	uint64_t id;                    /* tls_origin_id; 0: free slot */
	uint64_t used;                  /* LRU stamp */
	WOLFSSL_SESSION *sess;
	char name[TLS_ORIGIN_NAME_MAX + 1];
};

struct tls_origin_lcore {
	struct tls_plain *plain_free;
	uint64_t clock;                 /* LRU stamps */
	struct or_session sessions[OR_SESSIONS];
};

struct tls_origin {
	struct px_transport t;          /* the engine's side */
	struct px_transport *lower;     /* ciphertext: the TCP transport */
	struct tls_origin_lcore *ol;
	WOLFSSL *ssl;
	/* Until the handshake ends: the configuration it is verified
	 * against (the caller holds the snapshot meanwhile). */
	const struct cfg_origin *o;
	const struct chain_anchors *anchors;
	uint64_t id;
	/* Certificates of a cached session at the front of the peer chain:
	 * wolfSSL appends the new ones after them when the origin does not
	 * resume it. */
	uint8_t chain_skip;
	/* TLS 1.3: the ticket the session held when the handshake ended; a
	 * session is worth keeping only once a new one replaced it. */
	uint16_t ticket_len;
	uint8_t ticket_head[16];
	struct tls_wire w;
	bool established;
	bool saved;                     /* a resumable session was kept */
	uint8_t fail;                   /* enum tls_origin_fail */
	char name[TLS_ORIGIN_NAME_MAX + 1];
};

const char *
tls_origin_fail_reason(enum tls_origin_fail f)
{
	switch (f) {
	case TLS_OF_UNTRUSTED:
		return "the origin's certificate chain is not trusted "
		       "(unknown CA or missing intermediate)";
	case TLS_OF_SELF_SIGNED:
		return "the origin's certificate is self-signed";
	case TLS_OF_EXPIRED:
		return "the origin's certificate has expired or is not yet "
		       "valid";
	case TLS_OF_NAME:
		return "the origin's certificate does not name the origin";
	case TLS_OF_CHAIN:
		return "the origin's certificate chain is out of order";
	case TLS_OF_PIN:
		return "no certificate of the origin matches a pin";
	case TLS_OF_REVOKED:
		return "the origin's certificate is revoked";
	case TLS_OF_NOMEM:
		return "the edge is out of memory for the origin's TLS session";
	case TLS_OF_HANDSHAKE:
	default:
		return "the TLS handshake with the origin failed";
	}
}

/* ---------------------------------------------------------------- lcore */

struct tls_origin_lcore *
tls_origin_lcore_new(void)
{
	return calloc(1, sizeof(struct tls_origin_lcore));
}

void
tls_origin_lcore_free(struct tls_origin_lcore *ol)
{
	struct tls_plain *p;
	unsigned int i;

	if (ol == NULL)
		return;
	for (i = 0; i < OR_SESSIONS; i++)
		wolfSSL_SESSION_free(ol->sessions[i].sess);
	while ((p = ol->plain_free) != NULL) {
		ol->plain_free = p->next;
		free(p);
	}
	free(ol);
}

static struct or_session *
session_find(struct tls_origin_lcore *ol, uint64_t id, const char *name)
{
	unsigned int i;

	for (i = 0; i < OR_SESSIONS; i++) {
		struct or_session *s = &ol->sessions[i];

		if (s->id == id && strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

/* Keep a copy of c's session for the next connection to the same origin
 * and name, replacing that pair's previous one or the least recently
 * used. */
static void
session_save(struct tls_origin *c)
{
	struct tls_origin_lcore *ol = c->ol;
	WOLFSSL_SESSION *cur = wolfSSL_get_session(c->ssl), *copy;
	struct or_session *s;
	unsigned int i;

	if (cur == NULL || !wolfSSL_SESSION_is_resumable(cur))
		return;
	copy = wolfSSL_SESSION_dup(cur);
	if (copy == NULL)
		return;
	s = session_find(ol, c->id, c->name);
	if (s == NULL) {
		/* Free slots have never been used: they go first. */
		s = &ol->sessions[0];
		for (i = 1; i < OR_SESSIONS; i++)
			if (ol->sessions[i].used < s->used)
				s = &ol->sessions[i];
	}
	wolfSSL_SESSION_free(s->sess);
	s->sess = copy;
	s->id = c->id;
	s->used = ++ol->clock;
	memcpy(s->name, c->name, sizeof(s->name));
	c->saved = true;
}

/* The length and first bytes of the session's ticket. */
static void
ticket_mark(struct tls_origin *c, uint16_t *len, uint8_t head[16])
{
	uint8_t buf[2048];
	word32 n = sizeof(buf);

	memset(head, 0, 16);
	*len = 0;
	if (wolfSSL_get_SessionTicket(c->ssl, buf, &n) != WOLFSSL_SUCCESS)
		return;
	*len = (uint16_t)n;
	memcpy(head, buf, n < 16 ? n : 16);
}

/* Has a NewSessionTicket replaced the ticket of the handshake? */
static bool
ticket_new(struct tls_origin *c)
{
	uint8_t head[16];
	uint16_t len;

	ticket_mark(c, &len, head);
	return len > 0 && (len != c->ticket_len ||
			   memcmp(head, c->ticket_head, 16) != 0);
}

/* ---------------------------------------------------------------- wolfSSL I/O */

/* Ciphertext from the TCP transport; never blocks. */
static int
io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tls_origin *c = ctx;
	struct px_transport *lo = c->lower;
	const uint8_t *p;
	size_t n, k, got = 0;

	(void)ssl;
	while (got < (size_t)sz) {
		n = lo->ops->peek(lo, &p);
		if (n == 0)
			break;
		k = n < (size_t)sz - got ? n : (size_t)sz - got;
		memcpy(buf + got, p, k);
		lo->ops->consume(lo, k);
		got += k;
	}
	if (got > 0)
		return (int)got;
	return lo->peer_closed ? WOLFSSL_CBIO_ERR_CONN_CLOSE :
				 WOLFSSL_CBIO_ERR_WANT_READ;
}

/* During the handshake wolfSSL keeps what TCP did not take; afterwards
 * it is staged (tls_wire.c). */
static int
io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	(void)ssl;
	return tls_wire_io_send(&((struct tls_origin *)ctx)->w, buf, sz);
}

static int
raw_send(void *arg, const void *p, size_t n)
{
	struct px_transport *lo = arg;

	return lo->ops->send(lo, p, n);
}

static uint32_t
raw_space(void *arg)
{
	struct px_transport *lo = arg;

	return lo->ops->send_space(lo);
}

void
tls_origin_set_io(WOLFSSL_CTX *ctx)
{
	wolfSSL_CTX_SetIORecv(ctx, io_recv);
	wolfSSL_CTX_SetIOSend(ctx, io_send);
}

/* ---------------------------------------------------------------- verification */

static enum tls_origin_fail
fail_of(int e)
{
	switch (e) {
	case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
	case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case ASN_AFTER_DATE_E:
	case ASN_BEFORE_DATE_E:
		return TLS_OF_EXPIRED;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case ASN_SELF_SIGNED_E:
		return TLS_OF_SELF_SIGNED;
	case DOMAIN_NAME_MISMATCH:
	case IPADDR_MISMATCH:
		return TLS_OF_NAME;
	case CRL_CERT_REVOKED:
		return TLS_OF_REVOKED;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case ASN_NO_SIGNER_E:
	case ASN_SIG_CONFIRM_E:
	case CRL_MISSING:
		return TLS_OF_UNTRUSTED;
	default:
		return TLS_OF_NONE;
	}
}

/* strict: wolfSSL decides; we only note the first reason it gives
 * (this build calls the callback for every certificate, passing or
 * not). */
static int
verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	WOLFSSL *ssl;
	struct tls_origin *c;
	enum tls_origin_fail f;

	if (preverify)
		return 1;
	ssl = wolfSSL_X509_STORE_CTX_get_ex_data(store,
			wolfSSL_get_ex_data_X509_STORE_CTX_idx());
	c = ssl != NULL ? wolfSSL_GetIOReadCtx(ssl) : NULL;
	if (c != NULL && c->fail == TLS_OF_NONE) {
		f = fail_of(wolfSSL_X509_STORE_CTX_get_error(store));
		c->fail = (uint8_t)(f != TLS_OF_NONE ? f : TLS_OF_UNTRUSTED);
	}
	return 0;
}

void
tls_origin_set_verify(WOLFSSL_CTX *ctx)
{
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, verify_cb);
}

static int
chain_count(WOLFSSL *ssl)
{
	WOLFSSL_X509_CHAIN *ch = wolfSSL_get_peer_chain(ssl);

	return ch != NULL ? wolfSSL_get_chain_count(ch) : 0;
}

/* The chain the origin presented, leaf first, as DER views into the
 * session (valid while ssl lives). */
static unsigned int
peer_chain(const struct tls_origin *c, struct chain_cert *out)
{
	WOLFSSL_X509_CHAIN *ch = wolfSSL_get_peer_chain(c->ssl);
	int i, n = ch != NULL ? wolfSSL_get_chain_count(ch) : 0;
	unsigned int k = 0;

	for (i = c->chain_skip; i < n && k < CHAIN_MAX; i++, k++) {
		out[k].der = wolfSSL_get_chain_cert(ch, i);
		out[k].len = (size_t)wolfSSL_get_chain_length(ch, i);
		if (out[k].der == NULL)
			break;
	}
	return k;
}

/* What strict (order) and pinned (pins) add once wolfSSL is done. A
 * resumed session was checked when it was made, under the same identity
 * and name (session_find). */
static enum tls_origin_fail
post_verify(struct tls_origin *c)
{
	struct chain_cert certs[CHAIN_MAX];
	unsigned int n, bad;

	if (wolfSSL_session_reused(c->ssl))
		return TLS_OF_NONE;
	switch (c->o->verify) {
	case CFG_VERIFY_STRICT:
		n = peer_chain(c, certs);
		if (chain_in_order(certs, n, &bad) != 0)
			return TLS_OF_CHAIN;
		/* In order, and verified by wolfSSL, but possibly through
		 * an intermediate an earlier chain left in the CA store. */
		return chain_reaches_anchor(certs, n, c->anchors) ?
		       TLS_OF_NONE : TLS_OF_UNTRUSTED;
	case CFG_VERIFY_PINNED:
		n = peer_chain(c, certs);
		return chain_pinned(certs, n, c->o->pins, c->o->nb_pins) == 0 ?
		       TLS_OF_NONE : TLS_OF_PIN;
	default:
		return TLS_OF_NONE;
	}
}

/* A refusal wolfSSL reported without our callback's reason. */
static enum tls_origin_fail
classify(struct tls_origin *c, int err)
{
	struct chain_cert certs[CHAIN_MAX];
	enum tls_origin_fail f = (enum tls_origin_fail)c->fail;

	if (f == TLS_OF_NONE)
		f = fail_of(err);
	if (f == TLS_OF_NONE)
		return err == MEMORY_E ? TLS_OF_NOMEM : TLS_OF_HANDSHAKE;
	/* wolfSSL says "no signer" for a self-signed leaf too. */
	if (f == TLS_OF_UNTRUSTED && peer_chain(c, certs) == 1 &&
	    chain_self_issued(&certs[0]))
		f = TLS_OF_SELF_SIGNED;
	return f;
}

/* ---------------------------------------------------------------- session */

uint64_t
tls_origin_id(const struct cfg_snapshot *s, const struct cfg_dist *d,
	      const struct cfg_origin *o)
{
	uint64_t id;

	(void)tls_snapshot_origin_ctx(s, d, o, &id);
	return id;
}

static const struct px_transport_ops origin_transport;

struct tls_origin *
tls_origin_new(struct tls_origin_lcore *ol, const struct cfg_snapshot *s,
	       const struct cfg_dist *d, const struct cfg_origin *o,
	       const char *name, struct px_transport *lower)
{
	struct in_addr ip;
	struct or_session *sess;
	const struct tls_octx *x;
	struct tls_origin *c;
	uint64_t id;
	size_t len = strlen(name);

	x = tls_snapshot_origin_ctx(s, d, o, &id);
	if (x == NULL || len == 0 || len > TLS_ORIGIN_NAME_MAX)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->ssl = wolfSSL_new(x->ctx);
	if (c->ssl == NULL) {
		free(c);
		return NULL;
	}
	c->t.ops = &origin_transport;
	c->lower = lower;
	c->w.raw_send = raw_send;
	c->w.raw_space = raw_space;
	c->w.raw_arg = lower;
	c->w.plain_free = &ol->plain_free;
	c->ol = ol;
	c->o = o;
	c->anchors = x->anchors;
	c->id = id;
	memcpy(c->name, name, len + 1);
	wolfSSL_SetIOReadCtx(c->ssl, c);
	wolfSSL_SetIOWriteCtx(c->ssl, c);
	/* No SNI for an address (RFC 6066 3); the check then matches an
	 * IP address SAN. */
	if (inet_pton(AF_INET, name, &ip) != 1 &&
	    wolfSSL_UseSNI(c->ssl, WOLFSSL_SNI_HOST_NAME, name,
			   (word16)len) != WOLFSSL_SUCCESS)
		goto fail;
	if (o->verify == CFG_VERIFY_STRICT &&
	    wolfSSL_check_domain_name(c->ssl, name) != WOLFSSL_SUCCESS)
		goto fail;
	if (wolfSSL_UseSessionTicket(c->ssl) != WOLFSSL_SUCCESS)
		goto fail;
	sess = session_find(ol, id, name);
	if (sess != NULL) {
		int n;

		sess->used = ++ol->clock;
		/* A session past its lifetime is refused (a full handshake
		 * then, whose session replaces it); wolfSSL may have copied
		 * its chain in before refusing, so count whatever is there
		 * now, in a session that had none. */
		(void)wolfSSL_set_session(c->ssl, sess->sess);
		n = chain_count(c->ssl);
		c->chain_skip = (uint8_t)(n > 0 ? n : 0);
	}
	return c;

fail:
	wolfSSL_free(c->ssl);
	free(c);
	return NULL;
}

int
tls_origin_handshake(struct tls_origin *c)
{
	enum tls_origin_fail f;
	int rc, err;

	if (c->established)
		return 1;
	rc = wolfSSL_connect(c->ssl);
	if (rc != WOLFSSL_SUCCESS) {
		err = wolfSSL_get_error(c->ssl, rc);
		if (err == WOLFSSL_ERROR_WANT_READ ||
		    err == WOLFSSL_ERROR_WANT_WRITE)
			return 0;
		c->fail = (uint8_t)classify(c, err);
		return -1;
	}
	f = post_verify(c);
	if (f != TLS_OF_NONE) {
		c->fail = (uint8_t)f;
		return -1;
	}
	c->established = true;
	c->o = NULL;
	tls_wire_established(&c->w, c->ssl);
	/* TLS 1.2: resumable now. TLS 1.3: once a NewSessionTicket was
	 * read (t_peek); until then the session holds the secret of this
	 * connection next to the ticket of the one it resumed, which no
	 * binder can match. */
	if (wolfSSL_version(c->ssl) == TLS1_3_VERSION)
		ticket_mark(c, &c->ticket_len, c->ticket_head);
	else
		session_save(c);
	return 1;
}

enum tls_origin_fail
tls_origin_failure(const struct tls_origin *c)
{
	return (enum tls_origin_fail)c->fail;
}

bool
tls_origin_resumed(const struct tls_origin *c)
{
	return wolfSSL_session_reused(c->ssl) != 0;
}

const char *
tls_origin_name(const struct tls_origin *c)
{
	return c->name;
}

struct px_transport *
tls_origin_transport(struct tls_origin *c)
{
	return &c->t;
}

int
tls_origin_writable(struct tls_origin *c)
{
	return tls_wire_flush(&c->w);
}

/* ---------------------------------------------------------------- transport */

static struct tls_origin *
c_of(const struct px_transport *t)
{
	return (struct tls_origin *)((char *)(uintptr_t)t -
				     offsetof(struct tls_origin, t));
}

static void
origin_free(struct tls_origin *c)
{
	tls_wire_plain_put(&c->w);
	wolfSSL_free(c->ssl);
	free(c);
}

/* The origin's response, a record at a time (tls_wire.c): an engine that
 * does not read closes the origin's TCP window. */
static size_t
t_peek(struct px_transport *t, const uint8_t **data)
{
	struct tls_origin *c = c_of(t);
	ssize_t n;

	bool reads = c->w.plain_off == c->w.plain_len;  /* wolfSSL_read */

	if (t->peer_closed && reads)
		return 0;
	n = tls_wire_peek(&c->w, c->ssl, data);
	if (reads && !c->saved && ticket_new(c))
		session_save(c);
	if (n >= 0)
		return (size_t)n;
	t->peer_closed = true;
	return 0;
}

static void
t_consume(struct px_transport *t, size_t n)
{
	tls_wire_consume(&c_of(t)->w, n);
}

static int
t_send(struct px_transport *t, const void *data, size_t len)
{
	struct tls_origin *c = c_of(t);

	return tls_wire_send(&c->w, c->ssl, data, len);
}

static uint32_t
t_send_space(const struct px_transport *t)
{
	const struct tls_origin *c = c_of(t);

	return tls_wire_send_space(&c->w, c->ssl);
}

/* close_notify, then the FIN. What TCP cannot take of it now is not
 * waited for: the origin learns of the end from the FIN either way. */
static void
t_close(struct px_transport *t)
{
	struct tls_origin *c = c_of(t);
	struct px_transport *lo = c->lower;

	if (c->established) {
		(void)wolfSSL_shutdown(c->ssl);
		(void)tls_wire_flush(&c->w);
	}
	origin_free(c);
	lo->ops->close(lo);
}

static void
t_abort(struct px_transport *t)
{
	struct tls_origin *c = c_of(t);
	struct px_transport *lo = c->lower;

	origin_free(c);
	lo->ops->abort(lo);
}

static const struct px_transport_ops origin_transport = {
	.peek = t_peek,
	.consume = t_consume,
	.send = t_send,
	.send_space = t_send_space,
	.close = t_close,
	.abort = t_abort,
};

void
tls_origin_drop(struct tls_origin *c)
{
	if (c != NULL)
		origin_free(c);
}

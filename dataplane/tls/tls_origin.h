/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TLS client of the origin leg: a wolfSSL session layered over the
 * origin's plain byte transport (proxy/px.h, the TCP one), which becomes
 * the transport the HTTP engine reads the response from and writes the
 * request to. The session verifies the origin as its configuration says
 * (docs/HTTP.md "Origin TLS"): strict (a chain in order to the trust
 * store or the CA bundle, dates, the name), full (nothing) or pinned (SPKI
 * pins), and resumes the last session of the same origin and name from a
 * per-lcore cache.
 *
 * Everything runs on the owning worker lcore, except tls_origin_lcore_new
 * and _free (main thread, worker not running). No wolfSSL types here, so
 * proxy/ can include it.
 */
#ifndef RAMPART_TLS_ORIGIN_H
#define RAMPART_TLS_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg/snapshot.h"

struct px_transport;
struct tls_origin;
struct tls_origin_lcore;

/* Longest name verified and sent as SNI (a DNS name). */
#define TLS_ORIGIN_NAME_MAX 253

/* Why an origin handshake was refused. */
enum tls_origin_fail {
	TLS_OF_NONE,
	TLS_OF_UNTRUSTED,       /* unknown CA, missing intermediate */
	TLS_OF_SELF_SIGNED,     /* a self-signed leaf (strict) */
	TLS_OF_EXPIRED,         /* expired or not yet valid */
	TLS_OF_NAME,            /* no name in the certificate matches */
	TLS_OF_CHAIN,           /* chain not in issuing order */
	TLS_OF_PIN,             /* no pinned key vouches for the leaf */
	TLS_OF_REVOKED,         /* revoked in the trust store's CRL */
	TLS_OF_HANDSHAKE,       /* no common protocol or suite, alert, ... */
	TLS_OF_NOMEM,
};

/* A sentence for the access log and the edge's 502 ("the origin's
 * certificate has expired"). Static storage. */
const char *tls_origin_fail_reason(enum tls_origin_fail f);

/* Per-worker state (session cache, plaintext buffers). NULL when out of
 * memory. Main thread. */
struct tls_origin_lcore *tls_origin_lcore_new(void);
void tls_origin_lcore_free(struct tls_origin_lcore *ol);

/*
 * The identity of o's TLS configuration in s (process-unique, never 0):
 * connections and sessions made under one identity are only reused under
 * the same one. 0 when o is not reachable over TLS in s (an http-only
 * origin, or s carries no TLS extension). Any worker holding s.
 */
uint64_t tls_origin_id(const struct cfg_snapshot *s, const struct cfg_dist *d,
		       const struct cfg_origin *o);

/*
 * Start a client session to o (of d in s) over lower, an established
 * byte transport the caller owns until the session ends (close or abort
 * through tls_origin_transport, which end lower too). name (NUL-
 * terminated, lower case, at most TLS_ORIGIN_NAME_MAX) is sent as SNI
 * and, in strict mode, verified. s, d and o must stay valid until
 * tls_origin_handshake returned non-zero. NULL when out of memory or when
 * o has no TLS context in s.
 */
struct tls_origin *tls_origin_new(struct tls_origin_lcore *ol,
				  const struct cfg_snapshot *s,
				  const struct cfg_dist *d,
				  const struct cfg_origin *o, const char *name,
				  struct px_transport *lower);

/*
 * Drive the handshake; call when lower has bytes or room. 1: established
 * and verified (the transport is usable); 0: waiting; -1: refused or
 * failed, cause in tls_origin_failure: no application byte was sent, and
 * the caller aborts the transport.
 */
int tls_origin_handshake(struct tls_origin *c);
enum tls_origin_fail tls_origin_failure(const struct tls_origin *c);
bool tls_origin_resumed(const struct tls_origin *c);
/* The verified (SNI) name the session was made for. */
const char *tls_origin_name(const struct tls_origin *c);

/* The plaintext transport over the session. Its close sends close_notify
 * and ends lower; close and abort free c. */
struct px_transport *tls_origin_transport(struct tls_origin *c);

/* lower has room again: push the ciphertext staged for it. Call from the
 * lower's `writable` before waking the engine, which may have nothing
 * more to send (the request's last record can be the staged one). 1:
 * nothing left staged; 0: more waits (another `writable` follows);
 * -errno: the connection is going. */
int tls_origin_writable(struct tls_origin *c);

/* Free c whose lower transport's connection is already gone without
 * callbacks (tcp_lcore_fini). Main thread, worker stopped. */
void tls_origin_drop(struct tls_origin *c);

#endif /* RAMPART_TLS_ORIGIN_H */

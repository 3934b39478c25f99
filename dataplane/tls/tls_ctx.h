/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TLS side of a configuration snapshot: for every enabled distribution
 * and each of its certificates, one wolfSSL context per worker, configured
 * from the distribution's security policy (docs/TLS.md). Built by the
 * control thread when a transaction commits, after cfg_snapshot_build and
 * before publication, and attached to the snapshot with
 * cfg_snapshot_set_tls: the contexts are freed with the snapshot, that is
 * once the last connection holding a reference to it has ended, so a
 * certificate, policy or trust-store change reaches new handshakes only.
 *
 * Why one context per worker: wolfSSL_new and wolfSSL_free take the
 * context's reference-count mutex (SSL_CTX_RefCount, src/internal.c of
 * 5.5.4), and the certificate manager inside a context takes its own
 * mutexes for OCSP and CRL state. Shared by every worker, those would be
 * contended locks on the handshake path; one copy per worker leaves each
 * mutex uncontended (an atomic operation, no futex syscall) and keeps
 * workers shared-nothing. The cost is memory: a context with its chain and
 * key is a few KB, times workers, times certificates.
 *
 * This header is free of wolfSSL types so ctl/ can call it; the contexts
 * themselves are only touched inside tls/.
 */
#ifndef RAMPART_TLS_CTX_H
#define RAMPART_TLS_CTX_H

#include <stddef.h>

#include "cfg/live.h"
#include "cfg/snapshot.h"

struct WOLFSSL_CTX;

/* Security policies by name (the cfg_dist.security_policy values). */
enum tls_policy { TLS_POLICY_2019, TLS_POLICY_2021, TLS_POLICY_13_2025 };

/* Initialise wolfSSL once per process, before any other tls_ call and
 * before the workers start: our allocators, and the DRBG seed source of
 * every session (a ChaCha20 generator per thread, keyed from getrandom on
 * the thread's first seed; docs/TLS.md), so wolfSSL_new makes no syscall.
 * 0 or -EIO. Main thread. */
int tls_lib_init(void);

/* Release wolfSSL's global state; after every snapshot was freed. */
void tls_lib_fini(void);

/*
 * Build the contexts of snapshot s (which must hold no TLS extension yet
 * and be unpublished) for nb_workers workers and attach them, and the
 * client contexts of every origin that may be reached over TLS (strict
 * ones without a trust store read origin_ca_bundle, a PEM file). The
 * contexts' callbacks read the ticket ring and the staple cache of live,
 * which must outlive every snapshot. Returns 0, or -EINVAL/-ENOMEM with a
 * sentence in err naming the certificate, trust store or distribution
 * that wolfSSL refused; then nothing is attached and the caller must not
 * publish s. Control thread.
 */
int tls_snapshot_build(struct cfg_snapshot *s, unsigned int nb_workers,
		       struct cfg_live *live, const char *origin_ca_bundle,
		       char *err, size_t errlen);

/* The CA bundle of strict origins without a trust store when
 * tls_snapshot_build is given NULL: Debian's ca-certificates, the
 * Mozilla roots. */
#define TLS_ORIGIN_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"


/*
 * The context serving distribution d with its certificate of kind `kind`
 * on worker `worker`, or NULL when d has no such certificate (or is
 * disabled, or s carries no TLS extension). Valid while s is held. Any
 * worker holding s.
 */
struct WOLFSSL_CTX *tls_snapshot_ctx(const struct cfg_snapshot *s,
				     const struct cfg_dist *d,
				     enum cfg_key_kind kind,
				     unsigned int worker);

/* The policy of d (TLS_POLICY_2021 for an unknown name, which the
 * snapshot build never lets through). */
enum tls_policy tls_policy_of(const struct cfg_dist *d);

#endif /* RAMPART_TLS_CTX_H */

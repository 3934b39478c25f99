/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The OCSP staple cache shared by every worker: a liburcu lock-free hash
 * table (rculfhash, QSBR flavour) keyed by the SHA-256 fingerprint of the
 * leaf certificate. The control thread is the only writer (staple_set,
 * staple_del); a replaced or deleted staple is freed with call_rcu once no
 * worker can still see it. Workers look staples up during a handshake
 * without locks; a staple past its nextUpdate is never returned, so an
 * expired response is not stapled even if the control plane has not yet
 * withdrawn it.
 *
 * Thread rules (liburcu QSBR): every caller except cfg_staples_new and
 * cfg_staples_free is a registered RCU thread and online for the call
 * (call_rcu and the lfht update functions require it).
 */
#ifndef RAMPART_CFG_STAPLES_H
#define RAMPART_CFG_STAPLES_H

#include <stddef.h>
#include <stdint.h>

#include <urcu-qsbr.h>          /* before rculfhash.h: selects the flavour */
#include <urcu/rculfhash.h>

#include "snapshot.h"

struct cfg_staple {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	uint8_t fingerprint[CFG_FINGERPRINT_LEN];
	char cert[CFG_NAME_MAX + 1];    /* certificate name, for listings */
	int64_t next_update;            /* unix seconds */
	size_t len;
	uint8_t der[];                  /* the OCSP response */
};

struct cfg_staples;

/* A new, empty cache, or NULL. Any thread. */
struct cfg_staples *cfg_staples_new(void);

/* Free the cache and every staple in it, once no thread can use it any
 * more (workers and control thread stopped). Staples replaced earlier are
 * freed by call_rcu; rcu_barrier() waits for those. Any thread. */
void cfg_staples_free(struct cfg_staples *st);

/*
 * Insert or replace the staple of fingerprint fp with a copy of der[0..len)
 * (1 byte to 64 KiB). The previous one, if any, is freed after a grace
 * period. Returns 0, -EINVAL or -ENOMEM. Control thread.
 */
int cfg_staples_set(struct cfg_staples *st,
		    const uint8_t fp[CFG_FINGERPRINT_LEN], const char *cert,
		    const uint8_t *der, size_t len, int64_t next_update);

/* Remove the staple of fp; 0 or -ENOENT. Control thread. */
int cfg_staples_del(struct cfg_staples *st,
		    const uint8_t fp[CFG_FINGERPRINT_LEN]);

/*
 * The staple of fp if there is one and now < its next_update, else NULL.
 * The result is valid until the caller's next quiescent state; copy what
 * must outlive it. Workers (and the control thread).
 */
const struct cfg_staple *cfg_staples_lookup(struct cfg_staples *st,
					    const uint8_t fp[CFG_FINGERPRINT_LEN],
					    int64_t now);

/* Number of staples held (expired ones included). Control thread. */
unsigned long cfg_staples_count(struct cfg_staples *st);

/* Call fn for every staple, expired ones included; stops at and returns
 * the first non-zero result. Control thread. */
int cfg_staples_foreach(struct cfg_staples *st,
			int (*fn)(const struct cfg_staple *s, void *arg),
			void *arg);

#endif /* RAMPART_CFG_STAPLES_H */

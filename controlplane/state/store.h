/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's desired state and its files in the state directory
 * (docs/CONTROL.md "State directory").
 *
 * A struct store is one immutable-by-convention value: a change is made on
 * a copy (store_dup), committed with store_save, and only then swapped in,
 * so a rejected or failed change leaves the previous value untouched.
 *
 * Every file is written temp file + fsync + rename + fsync of the
 * directory (store_write_atomic), mode 0600, so a kill -9 at any instant
 * leaves either the previous or the new committed content. Secrets never
 * reach the disk in clear: certificate keys are sealed with aad
 * "cert-key:NAME", the ticket ring with aad "tickets".
 *
 * Thread-safety: none; the control plane's single event-loop thread owns
 * every store.
 */
#ifndef RAMPART_CP_STORE_H
#define RAMPART_CP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/cert.h"
#include "crypto/seal.h"
#include "controlplane/tickets/tickets.h"

#define STORE_STATE_FILE   "state.json"
#define STORE_TICKETS_FILE "tickets.json"
#define STORE_OCSP_DIR     "ocsp"

struct store_cert {
	char *name;
	char *chain_pem;
	char *key_sealed;               /* seal_encrypt, aad "cert-key:NAME" */
	struct cert_info info;          /* derived at import, persisted */
	uint64_t imported;              /* unix seconds */
};

struct store_ts {
	char *name;
	char *ca_pem;
	char *crl_pem;                  /* NULL: no CRL */
	unsigned int n_cas;
	unsigned int n_revoked;
};

struct store_dist {
	char *name;
	json_t *obj;                    /* normalised (dist_validate output) */
};

struct store {
	uint64_t generation;
	struct store_cert *certs;
	unsigned int n_certs;
	struct store_ts *tss;
	unsigned int n_tss;
	struct store_dist *dists;
	unsigned int n_dists;
};

/* An empty state (generation 0). NULL on ENOMEM. */
struct store *store_new(void);

/* A deep copy, for building the next state. NULL on ENOMEM. */
struct store *store_dup(const struct store *s);

void store_free(struct store *s);

/*
 * Load <dir>/state.json. A missing file gives an empty state; a leftover
 * state.json.tmp (a write interrupted before its rename) is removed. A file
 * that does not parse, has the wrong shape, or holds a sealed key that does
 * not open under mk is refused (-EINVAL, or -errno for I/O) with a sentence
 * naming the file: the daemon must not start empty over real state.
 */
int store_load(const char *dir, const uint8_t mk[SEAL_KEY_LEN],
	       struct store **out, char *err, size_t errlen);

/* Commit s to <dir>/state.json atomically. Returns 0 or -errno with a
 * sentence naming the file. */
int store_save(const struct store *s, const char *dir,
	       char *err, size_t errlen);

/* Lookups by name; NULL when absent. */
struct store_cert *store_cert_find(const struct store *s, const char *name);
struct store_ts *store_ts_find(const struct store *s, const char *name);
struct store_dist *store_dist_find(const struct store *s, const char *name);

/*
 * Add or replace the certificate name: the key is sealed under mk (the
 * plaintext is not kept), chain_pem and info are copied. Returns 0 or
 * -ENOMEM.
 */
int store_cert_put(struct store *s, const uint8_t mk[SEAL_KEY_LEN],
		   const char *name, const char *chain_pem, const char *key_pem,
		   const struct cert_info *info, uint64_t now);

/* Open the sealed key of c: malloc'd PEM (length in *len) the caller
 * wipes with seal_wipe and frees; NULL with a sentence in err. */
char *store_cert_key(const struct store_cert *c,
		     const uint8_t mk[SEAL_KEY_LEN], size_t *len,
		     char *err, size_t errlen);

/* Add or replace a trust store (strings copied; crl_pem may be NULL). */
int store_ts_put(struct store *s, const char *name, const char *ca_pem,
		 const char *crl_pem, unsigned int n_cas,
		 unsigned int n_revoked);

/* Add or replace a distribution; takes a new reference to obj. */
int store_dist_put(struct store *s, const char *name, json_t *obj);

/* Remove by name: 0, or -ENOENT when absent. */
int store_cert_del(struct store *s, const char *name);
int store_ts_del(struct store *s, const char *name);
int store_dist_del(struct store *s, const char *name);

/* Names (JSON array of strings, new reference) of the distributions
 * that reference the certificate / trust store name. */
json_t *store_cert_users(const struct store *s, const char *name);
json_t *store_ts_users(const struct store *s, const char *name);

/*
 * Write data to <dir>/<name> atomically with mode 0600: <name>.tmp,
 * fsync, rename, fsync of the directory. Returns 0 or -errno with a
 * sentence naming the file.
 */
int store_write_atomic(const char *dir, const char *name, const void *data,
		       size_t len, char *err, size_t errlen);

/*
 * The ticket ring in <dir>/tickets.json, sealed as a whole under mk with
 * aad "tickets". Load returns -ENOENT when there is none yet, -EINVAL with
 * a sentence naming the file when it is corrupt or does not open.
 */
int store_tickets_save(const char *dir, const uint8_t mk[SEAL_KEY_LEN],
		       const struct tk_ring *r, char *err, size_t errlen);
int store_tickets_load(const char *dir, const uint8_t mk[SEAL_KEY_LEN],
		       struct tk_ring *r, char *err, size_t errlen);

/* The last good OCSP staple of a certificate, <dir>/ocsp/<fp>.der plus a
 * <fp>.json sidecar with the times. Load returns -ENOENT when absent. */
struct store_staple {
	uint8_t *der;                   /* malloc'd */
	size_t len;
	uint64_t fetched_at, this_update, next_update;
};

int store_staple_save(const char *dir, const char *fp,
		      const struct store_staple *st, char *err, size_t errlen);
int store_staple_load(const char *dir, const char *fp,
		      struct store_staple *st, char *err, size_t errlen);
void store_staple_del(const char *dir, const char *fp);

#endif /* RAMPART_CP_STORE_H */

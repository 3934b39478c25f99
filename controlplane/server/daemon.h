/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampart-controlplane's one context. Everything here belongs to the
 * single event-loop thread (main.c); the only other thread is the OCSP
 * fetcher's, which shares nothing with it but its queue. Origin domains
 * are resolved on the loop itself (asynchronous c-ares, resolve/dns.h).
 */
#ifndef RAMPART_CP_DAEMON_H
#define RAMPART_CP_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "crypto/cert.h"
#include "crypto/seal.h"
#include "controlplane/ocsp/ocsp_fetch.h"
#include "controlplane/ocsp/ocsp_policy.h"
#include "controlplane/resolve/dns.h"
#include "controlplane/resolve/resolve.h"
#include "controlplane/state/store.h"
#include "controlplane/sync/dpsync.h"
#include "controlplane/tickets/tickets.h"

#define CP_PROG "rampart-controlplane"
#define CP_ERR_MAX 512

struct cp_options {
	const char *state_dir;
	const char *socket;
	const char *dataplane;
	const char *group;
	const char *ca_bundle;          /* NULL: the system bundle */
	uint64_t ticket_rotation_s;
	unsigned int ticket_keys_kept;
	struct ocsp_policy ocsp;
	const char *dns_servers;        /* NULL: /etc/resolv.conf's */
	struct rs_policy resolve;
	bool foreground;
};

enum cp_ocsp_status {
	CP_OCSP_NONE,                   /* nothing fetched yet / withdrawn */
	CP_OCSP_GOOD,
	CP_OCSP_REVOKED,
	CP_OCSP_UNKNOWN,
	CP_OCSP_ERROR,                  /* last fetch or check failed */
};

/* OCSP state of one certificate whose leaf names a responder. */
struct cp_ocsp {
	char cert[64];
	char fp[65];
	char url[CERT_URL_MAX];
	enum cp_ocsp_status status;
	struct store_staple staple;     /* der NULL when none is held */
	uint64_t next_fetch;            /* unix seconds */
	bool in_flight;
	bool stapled;                   /* acknowledged by the dataplane */
	char last_error[256];
};

struct cp {
	struct cp_options opt;
	uint8_t mk[SEAL_KEY_LEN];
	struct store *st;               /* the committed state */
	struct tk_ring ring;
	struct dpsync dp;
	struct ocsp_fetcher *fetcher;
	struct cp_ocsp *ocsp;
	unsigned int n_ocsp;
	struct rs_dns *dns;             /* NULL: origin domains not resolved */
	struct rs_table resolved;       /* one entry per origin domain */
	bool resolve_dirty;             /* addresses changed, not committed */
	gid_t gid;                      /* --group, or (gid_t)-1 */
	time_t started;
};

/* Unix seconds, and a monotonic millisecond clock for timers. */
uint64_t cp_now(void);
uint64_t cp_mono_ms(void);

/*
 * Structured log line on stderr: `ts=... level=LEVEL msg="MSG" KV`, where
 * kvfmt formats the key=value tail (may be NULL). Values that may hold
 * spaces go through cp_q. Never pass key material or PEM bodies.
 */
void cp_log(const char *level, const char *msg, const char *kvfmt, ...)
	__attribute__((format(printf, 3, 4)));

/* s as a quoted log value ("..." with \" and \n escaped); the result is
 * valid until the 8th next call. */
const char *cp_q(const char *s);

/* Copy src into dst[len], truncating; always NUL-terminated. */
void cp_strlcpy(char *dst, const char *src, size_t len);

/* ---- server/ops.c: the rampartctl-facing operations */

/* Answer one request (a JSON object); returns a new response reference
 * (never NULL unless out of memory). */
json_t *cp_handle(struct cp *cp, const json_t *req);

/*
 * Make next the committed state: generation + 1, persisted, pushed when the
 * dataplane is connected. Takes next in every case. Returns 0 with
 * *pushed, or -errno with a sentence (nothing changed; -EREMOTEIO: the
 * dataplane refused it and the previous state was restored).
 */
int cp_commit(struct cp *cp, struct store *next, bool *pushed, char *err,
	      size_t errlen);

/* ---- sync/push.c: what the dataplane holds */

/*
 * Push the whole state s (one transaction with s->generation). Returns 0,
 * -EREMOTEIO when the dataplane refused it (its reason in err, the
 * transaction aborted), or another -errno when it is not reachable.
 */
int cp_push_state(struct cp *cp, const struct store *s, char *err,
		  size_t errlen);

/* Push the ticket ring; when a key is pending and the push was
 * acknowledged, promote it, persist, and push again. */
int cp_tickets_sync(struct cp *cp, char *err, size_t errlen);

/* Persist the ring (sealed); logs on failure. */
int cp_tickets_persist(struct cp *cp, char *err, size_t errlen);

/* Once per second: reconnect, notice a restarted or out-of-date dataplane
 * and push everything, rotate ticket keys when due. */
void cp_sync_tick(struct cp *cp);

/* ---- sync/stapling.c: OCSP */

/* Make the OCSP table follow the certificates in cp->st: new ones get an
 * entry (with the staple kept on disk, if still usable), dropped ones are
 * withdrawn. */
void cp_ocsp_reconcile(struct cp *cp);

/* Forget the OCSP state of certificate name (replace / delete). */
void cp_ocsp_drop(struct cp *cp, const char *name);

/* Start due fetches, withdraw staples past next_update. */
void cp_ocsp_tick(struct cp *cp);

/* Take finished fetches from the fetcher (its fd polled readable). */
void cp_ocsp_on_results(struct cp *cp);

/* Start fetches now for cert (NULL: all). -ENOENT when cert has no OCSP
 * responder or does not exist. */
int cp_ocsp_refresh(struct cp *cp, const char *cert, char *err,
		    size_t errlen);

/* ocsp_status items. */
json_t *cp_ocsp_items(const struct cp *cp);

/* Push every usable staple (after a full state push). */
void cp_ocsp_push_all(struct cp *cp);

/* ---- sync/resolving.c: origin addresses (docs/CONTROL.md) */

/* Start the resolver (cp->opt.dns_servers) and load the addresses kept in
 * <state>/resolved.json. A resolver that does not start is logged and
 * origins named by domain only get no address; -errno only for a
 * corrupt file. */
int cp_resolve_start(struct cp *cp, char *err, size_t errlen);

void cp_resolve_stop(struct cp *cp);

/* Make the table follow the origin domains in cp->st (an origin with an
 * "address" needs none) and start the lookups of new domains now. */
void cp_resolve_reconcile(struct cp *cp);

/* Once per second, and after resolver events: start due lookups; commit
 * and push a new generation when addresses changed and no lookup is still
 * in flight (or at the tick, whatever is in flight). */
void cp_resolve_tick(struct cp *cp, bool tick);

/* The resolver's sockets for poll() (up to RS_DNS_FDS_MAX), the poll
 * timeout capped at max_ms, and the events poll() returned. */
unsigned int cp_resolve_pollfds(struct cp *cp, struct pollfd *p);
int cp_resolve_timeout_ms(struct cp *cp, int max_ms);
void cp_resolve_on_events(struct cp *cp, const struct pollfd *p,
			  unsigned int n);

/* dist (a normalised distribution) as pushed: each origin without an
 * address and with a resolved domain gains "resolved". New reference,
 * NULL on ENOMEM. */
json_t *cp_resolve_annotate(const struct cp *cp, const json_t *dist);

/* describe's "resolution": one item per origin without an address. */
json_t *cp_resolve_describe(const struct cp *cp, const json_t *dist);

#endif /* RAMPART_CP_DAEMON_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Origin addresses (docs/CONTROL.md, "Origin addresses"): for every origin
 * named by domain only, the control plane resolves the domain and pushes
 * the IPv4 addresses inside the distribution, so the dataplane never does
 * DNS on a worker.
 *
 * This header is the pure part: one table entry per domain (origins that
 * share a domain share its entry), the TTL bounds, the retry backoff and
 * the change test that decides when a new generation is pushed. It does
 * no I/O and reads no clock, so tests/unit/resolve drives it with made-up
 * answers and times. The lookups themselves are in dns.h.
 *
 * Thread-safety: none; the control plane's event-loop thread owns the
 * table.
 */
#ifndef RAMPART_CP_RESOLVE_H
#define RAMPART_CP_RESOLVE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define RS_ADDRS_MAX      8     /* addresses kept and pushed per domain */
#define RS_DOMAIN_MAX     253
#define RS_RETRY_MAX_S    300   /* the longest wait between failed tries */
#define RS_ERR_MAX        256

/* TTL bounds: an answer is used for at least min_ttl_s (a TTL of 0 or 1
 * would otherwise mean a lookup every tick) and at most max_ttl_s (an
 * origin that moves is noticed within the hour). */
struct rs_policy {
	uint32_t min_ttl_s;
	uint32_t max_ttl_s;
};

#define RS_POLICY_DEFAULT { .min_ttl_s = 5, .max_ttl_s = 3600 }

/* The outcome of one lookup. */
struct rs_answer {
	int rc;                         /* 0, or -errno with err set */
	struct in_addr addrs[64];       /* as answered, any order, dups */
	unsigned int n;
	uint32_t ttl;                   /* the smallest along the answer */
	char err[RS_ERR_MAX];
};

struct rs_entry {
	char domain[RS_DOMAIN_MAX + 1];
	/* The last good answer: sorted, unique, at most RS_ADDRS_MAX. Kept
	 * through failures until a new good answer replaces it. */
	struct in_addr addrs[RS_ADDRS_MAX];
	unsigned int n;
	uint32_t ttl;                   /* clamped to the policy */
	uint64_t resolved_at;           /* unix seconds; 0: never */
	uint64_t next_try;              /* unix seconds */
	unsigned int failures;          /* consecutive */
	uint64_t failed_at;             /* unix seconds of the last failure */
	char last_error[RS_ERR_MAX];    /* "" after a success */
	bool in_flight;
	bool used;                      /* rs_table_mark / rs_table_want */
};

struct rs_table {
	struct rs_entry *e;
	unsigned int n, cap;
};

void rs_table_init(struct rs_table *t);
void rs_table_fini(struct rs_table *t);

/* The entry of domain (lower-case), or NULL. Pointers stay valid until
 * the next rs_table_want or rs_table_sweep. */
struct rs_entry *rs_table_find(const struct rs_table *t, const char *domain);

/* Reconciling with the configuration: mark, want each domain in use,
 * sweep. rs_table_want adds a new domain due at once. Returns 0, -ENOMEM
 * or -EINVAL (empty or longer than RS_DOMAIN_MAX). */
void rs_table_mark(struct rs_table *t);
int rs_table_want(struct rs_table *t, const char *domain);
/* Drops the entries not wanted since the last mark (an answer still in
 * flight for one finds no entry and is ignored); returns how many. */
unsigned int rs_table_sweep(struct rs_table *t);

/* Whether a lookup of e should start at now. */
bool rs_entry_due(const struct rs_entry *e, uint64_t now);

/* The clamped TTL of an answer. */
uint32_t rs_clamp_ttl(const struct rs_policy *p, uint32_t ttl);

/* How long to wait after the failures-th consecutive failure (>= 1):
 * min_ttl_s doubling each time, at most RS_RETRY_MAX_S (or max_ttl_s when
 * that is lower). */
uint32_t rs_retry_delay(const struct rs_policy *p, unsigned int failures);

/*
 * Record the answer a to e's lookup at now and schedule the next one: a
 * success replaces the addresses (sorted, unique, the lowest RS_ADDRS_MAX)
 * and waits the clamped TTL; a failure, or a success with no IPv4 address,
 * keeps the last good addresses and waits rs_retry_delay. Returns true
 * when the addresses to push changed (a different set, or the first one),
 * never for a new TTL alone: a re-resolution that answers the same set
 * pushes nothing.
 */
bool rs_entry_answer(struct rs_entry *e, const struct rs_answer *a,
		     uint64_t now, const struct rs_policy *p);

/* {"addresses": [...], "ttl": N, "resolved_at": T}: the "resolved" member
 * pushed in an origin (docs/CONTROL.md), also what is persisted. NULL when
 * e holds no address. New reference. */
json_t *rs_entry_json(const struct rs_entry *e);

/*
 * The table as persisted in <state>/resolved.json: {"domains": {DOMAIN:
 * rs_entry_json}}, and back. Loaded entries keep their addresses (served
 * after a restart until a lookup answers) and are due at once; they are
 * not marked used. Load returns 0 or -EINVAL with a sentence.
 */
json_t *rs_table_save(const struct rs_table *t);
int rs_table_load(struct rs_table *t, const json_t *j, char *err,
		  size_t errlen);

#endif /* RAMPART_CP_RESOLVE_H */

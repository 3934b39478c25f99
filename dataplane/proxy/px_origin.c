/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The origin leg: active opens from the owning lcore (tcp_connect picks a
 * local port whose replies come back here), the TLS handshake for HTTPS
 * origins (tls/tls_origin.h) and a per-lcore keep-alive pool of idle
 * connections per origin address, port and TLS identity.
 */
#include <errno.h>
#include <string.h>

#include "px_int.h"

static struct px_pool_bucket *
bucket_find(struct px_lcore *pl, rte_be32_t addr, uint16_t port,
	    uint64_t tls_id, bool make)
{
	struct px_pool_bucket *b, *spare = NULL;
	unsigned int i;

	for (i = 0; i < PX_POOL_BUCKETS; i++) {
		b = &pl->pool[i];
		if (b->n > 0 && b->addr == addr && b->port == port &&
		    b->tls_id == tls_id)
			return b;
		if (b->n == 0 && spare == NULL)
			spare = b;
	}
	if (!make || spare == NULL)
		return NULL;
	spare->addr = addr;
	spare->port = port;
	spare->tls_id = tls_id;
	return spare;
}

/* ---------------------------------------------------------------- limits */

static struct px_olimit **
limit_head(struct px_lcore *pl, rte_be32_t addr, uint16_t port)
{
	uint32_t h = (uint32_t)addr * 2654435761u ^ (uint32_t)port * 40503u;

	return &pl->limit_hash[(h ^ h >> 16) & (PX_LIMIT_HASH - 1)];
}

static struct px_olimit *
limit_find(struct px_lcore *pl, rte_be32_t addr, uint16_t port, bool make)
{
	struct px_olimit **head = limit_head(pl, addr, port), *l;

	for (l = *head; l != NULL; l = l->next)
		if (l->addr == addr && l->port == port)
			return l;
	if (!make || (l = pl->limit_free) == NULL)
		return NULL;
	pl->limit_free = l->next;
	l->addr = addr;
	l->port = port;
	l->n = 0;
	l->next = *head;
	*head = l;
	return l;
}

/* One connection fewer to l's server; the entry goes with the last. */
static void
limit_put(struct px_lcore *pl, struct px_olimit *l)
{
	struct px_olimit **pp = limit_head(pl, l->addr, l->port);

	pl->qwake = true;
	if (--l->n > 0)
		return;
	while (*pp != l)
		pp = &(*pp)->next;
	*pp = l->next;
	l->next = pl->limit_free;
	pl->limit_free = l;
}

/* This lcore's share of o's max_connections (0: no limit): the limit
 * holds for the dataplane as a whole, with no state shared between
 * workers, at the cost of rounding up. */
static uint32_t
limit_of(const struct px_lcore *pl, const struct cfg_origin *o)
{
	uint32_t w = pl->p.nb_workers > 0 ? pl->p.nb_workers : 1;

	return o->max_connections == 0 ? 0 :
	       (o->max_connections + w - 1) / w;
}

static void
oc_free(struct px_oconn *oc)
{
	struct px_lcore *pl = oc->pl;
	struct px_olimit *l;

	if (oc->counted && (l = limit_find(pl, oc->addr, oc->port, false)) !=
	    NULL)
		limit_put(pl, l);
	tcp_rxq_free(&oc->io.rx);
	memset(oc, 0, sizeof(*oc));
	oc->pl = pl;
	oc->next = pl->ofree;
	pl->ofree = oc;
}

/* Take an idle connection out of its bucket. */
static void
pool_remove(struct px_oconn *oc)
{
	struct px_pool_bucket *b = bucket_find(oc->pl, oc->addr, oc->port,
					       oc->tls_id, false);
	unsigned int i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		if (b->idle[i] != oc)
			continue;
		memmove(&b->idle[i], &b->idle[i + 1],
			(b->n - i - 1) * sizeof(b->idle[0]));
		b->n--;
		dpc_add(&oc->pl->nl->cnt, DPC_px_origin_idle, (uint64_t)-1);
		return;
	}
}

/* An idle connection the origin closed, or that spoke out of turn. */
static void
idle_drop(struct px_oconn *oc, bool abort)
{
	pool_remove(oc);
	if (abort)
		oc->t->ops->abort(oc->t);
	else
		oc->t->ops->close(oc->t);
	oc_free(oc);
}

/* Bytes from an idle origin: over TLS they may be a late session ticket
 * or a key update, which the session reads itself (peek returns no
 * data); anything else, or the end, drops the connection. */
static void
idle_input(struct px_oconn *oc)
{
	const uint8_t *p;

	if (oc->t->ops->peek(oc->t, &p) > 0)
		idle_drop(oc, true);    /* nothing was asked */
	else if (oc->t->peer_closed)
		idle_drop(oc, false);
}

static void
count_tls_fail(struct px_lcore *pl, enum tls_origin_fail f)
{
	static const enum dp_counter by_fail[] = {
		[TLS_OF_UNTRUSTED] = DPC_px_origin_tls_fail_untrusted,
		[TLS_OF_SELF_SIGNED] = DPC_px_origin_tls_fail_untrusted,
		[TLS_OF_EXPIRED] = DPC_px_origin_tls_fail_expired,
		[TLS_OF_NAME] = DPC_px_origin_tls_fail_name,
		[TLS_OF_CHAIN] = DPC_px_origin_tls_fail_chain,
		[TLS_OF_PIN] = DPC_px_origin_tls_fail_pin,
		[TLS_OF_REVOKED] = DPC_px_origin_tls_fail_revoked,
	};

	dpc_inc(&pl->nl->cnt, (size_t)f < RTE_DIM(by_fail) &&
		by_fail[f] != 0 ? by_fail[f] :
		DPC_px_origin_tls_fail_handshake);
}

/* Drive the origin's TLS handshake; on its end the owner goes on (or
 * learns why not: -EPROTO, the cause in oc->tls_fail). */
static void
handshake_step(struct px_oconn *oc)
{
	struct px_lcore *pl = oc->pl;
	int rc = tls_origin_handshake(oc->tls);

	if (rc == 0)
		return;
	if (rc > 0) {
		oc->state = PX_O_BUSY;
		dpc_inc(&pl->nl->cnt, tls_origin_resumed(oc->tls) ?
			DPC_px_origin_tls_resumed :
			DPC_px_origin_tls_handshakes);
		if (oc->owner != NULL)
			px_conn_origin_event(oc->owner);
		return;
	}
	oc->failed = true;
	oc->err = -EPROTO;
	oc->tls_fail = (uint8_t)tls_origin_failure(oc->tls);
	count_tls_fail(pl, (enum tls_origin_fail)oc->tls_fail);
	if (oc->owner != NULL)
		px_conn_origin_failed(oc->owner, -EPROTO);
}

/* ---------------------------------------------------------------- TCP callbacks */

static int
on_established(struct tcp_conn *c)
{
	struct px_oconn *oc = tcp_user(c);

	if (oc == NULL || oc->owner == NULL)
		return -ECONNABORTED;
	if (oc->tls != NULL) {
		oc->state = PX_O_HANDSHAKE;
		handshake_step(oc);
		return 0;
	}
	oc->state = PX_O_BUSY;
	px_conn_origin_event(oc->owner);
	return 0;
}

/* Bytes or the origin's FIN arrived: whoever has the connection reads. */
static void
input_event(struct px_oconn *oc)
{
	if (oc->state == PX_O_IDLE)
		idle_input(oc);
	else if (oc->state == PX_O_HANDSHAKE)
		handshake_step(oc);
	else if (oc->owner != NULL)
		px_conn_origin_event(oc->owner);
}

static void
on_recv(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct px_oconn *oc = tcp_user(c);

	if (oc == NULL) {
		tcp_recved(c, rte_pktmbuf_pkt_len(m));
		rte_pktmbuf_free(m);
		return;
	}
	tcp_rxq_append(&oc->io.rx, m);
	input_event(oc);
}

static void
on_peer_closed(struct tcp_conn *c)
{
	struct px_oconn *oc = tcp_user(c);

	if (oc == NULL)
		return;
	oc->io.t.peer_closed = true;
	input_event(oc);
}

static void
on_writable(struct tcp_conn *c)
{
	struct px_oconn *oc = tcp_user(c);

	if (oc == NULL)
		return;
	if (oc->state == PX_O_HANDSHAKE) {
		handshake_step(oc);
		return;
	}
	/* Ciphertext staged by the session goes first; while some still
	 * waits, the next `writable` comes before the engine's turn. */
	if (oc->tls != NULL && tls_origin_writable(oc->tls) == 0)
		return;
	if (oc->owner != NULL)
		px_conn_origin_event(oc->owner);
}

static void
on_closed(struct tcp_conn *c, int err)
{
	struct px_oconn *oc = tcp_user(c);

	if (oc == NULL)
		return;
	oc->io.tcp = NULL;
	tcp_set_user(c, NULL);
	if (oc->state == PX_O_IDLE) {
		pool_remove(oc);
		tls_origin_drop(oc->tls);
		oc_free(oc);
		return;
	}
	oc->failed = true;
	oc->err = err;
	if (oc->owner != NULL)
		px_conn_origin_failed(oc->owner, err);
}

static const struct tcp_ops origin_tcp_ops = {
	.established = on_established,
	.recv = on_recv,
	.peer_closed = on_peer_closed,
	.writable = on_writable,
	.closed = on_closed,
};

/* ---------------------------------------------------------------- pool */

/* The most recently used idle connection of b made for name (over TLS;
 * any, in plain HTTP), taken out of the bucket. */
static struct px_oconn *
pool_take(struct px_pool_bucket *b, const char *name)
{
	struct px_oconn *oc;
	unsigned int i;

	/* The most recently used: the least likely to have been closed by
	 * the origin's own idle timer. */
	for (i = b->n; i-- > 0;) {
		oc = b->idle[i];
		if (oc->tls != NULL &&
		    strcmp(tls_origin_name(oc->tls), name) != 0)
			continue;
		memmove(&b->idle[i], &b->idle[i + 1],
			(b->n - i - 1) * sizeof(b->idle[0]));
		b->n--;
		return oc;
	}
	return NULL;
}

/* At the limit, an idle connection to the same server kept for another
 * name or TLS identity makes room: the oldest goes. */
static bool
evict_idle(struct px_lcore *pl, rte_be32_t addr, uint16_t port)
{
	struct px_pool_bucket *b;
	unsigned int i;

	for (i = 0; i < PX_POOL_BUCKETS; i++) {
		b = &pl->pool[i];
		if (b->n > 0 && b->addr == addr && b->port == port) {
			idle_drop(b->idle[0], false);
			return true;
		}
	}
	return false;
}

int
px_origin_get(struct px_conn *pc, rte_be32_t addr, uint16_t port,
	      bool *reused)
{
	struct px_lcore *pl = pc->pl;
	uint32_t limit = limit_of(pl, pc->origin);
	uint64_t tls_id = 0;
	struct px_pool_bucket *b;
	struct px_olimit *l;
	struct px_oconn *oc;
	struct tcp_conn *c;

	if (pc->origin_tls) {
		tls_id = tls_origin_id(pc->snap, pc->dist, pc->origin);
		if (tls_id == 0)
			return -ENOTSUP;
	}
	b = bucket_find(pl, addr, port, tls_id, false);
	oc = b != NULL ? pool_take(b, pc->origin_name) : NULL;
	if (oc != NULL) {
		dpc_add(&pl->nl->cnt, DPC_px_origin_idle, (uint64_t)-1);
		oc->state = PX_O_BUSY;
		oc->owner = pc;
		oc->deadline = 0;
		pc->oc = oc;
		*reused = true;
		dpc_inc(&pl->nl->cnt, DPC_px_origin_reused);
		return 0;
	}
	l = limit_find(pl, addr, port, false);
	if (limit > 0 && l != NULL && l->n >= limit &&
	    !evict_idle(pl, addr, port))
		return -EAGAIN;
	oc = pl->ofree;
	if (oc == NULL)
		return -ENOBUFS;
	c = tcp_connect(pl->nl, addr, port, &origin_tcp_ops, oc);
	if (c == NULL)
		return -errno;
	pl->ofree = oc->next;
	px_tcp_attach(&oc->io, c);
	oc->t = &oc->io.t;
	oc->addr = addr;
	oc->port = port;
	/* Every connection is counted, limited or not, so a limit that
	 * arrives with a new configuration sees the ones already open. */
	l = limit_find(pl, addr, port, true);
	if (l != NULL) {                /* always: one entry per connection */
		l->n++;
		oc->counted = true;
	}
	if (tls_id != 0) {
		/* Nothing is sent until TCP is up (on_established). */
		oc->tls = tls_origin_new(pl->otls, pc->snap, pc->dist,
					 pc->origin, pc->origin_name,
					 &oc->io.t);
		if (oc->tls == NULL) {
			oc->io.t.ops->abort(&oc->io.t);
			oc_free(oc);
			return -ENOMEM;
		}
		oc->t = tls_origin_transport(oc->tls);
		oc->tls_id = tls_id;
	}
	oc->next = NULL;
	oc->state = PX_O_CONNECTING;
	oc->owner = pc;
	pc->oc = oc;
	*reused = false;
	dpc_inc(&pl->nl->cnt, DPC_px_origin_connects);
	return 0;
}

void
px_origin_put(struct px_conn *pc, enum px_put how)
{
	struct px_oconn *oc = pc->oc;
	struct px_lcore *pl = pc->pl;
	struct px_pool_bucket *b;
	const uint8_t *rest;

	if (oc == NULL)
		return;
	pc->oc = NULL;
	oc->owner = NULL;
	/* Bytes after the response (ciphertext, or plaintext the TLS
	 * session already decrypted with the body's last record) would be
	 * read as the next request's response: such a connection is not
	 * reused. */
	if (how == PX_PUT_POOL && !oc->failed && !oc->t->peer_closed &&
	    !oc->io.t.peer_closed && oc->io.tcp != NULL &&
	    oc->io.rx.len == 0 && oc->t->ops->peek(oc->t, &rest) == 0 &&
	    !oc->t->peer_closed && oc->state == PX_O_BUSY &&
	    pl->p.origin_idle_max > 0) {
		b = bucket_find(pl, oc->addr, oc->port, oc->tls_id, true);
		if (b != NULL && b->n < pl->p.origin_idle_max &&
		    b->n < PX_POOL_PER_MAX) {
			b->idle[b->n++] = oc;
			oc->state = PX_O_IDLE;
			pl->qwake = true;
			oc->deadline = pl->nl->now + pl->origin_idle_tsc;
			dpc_inc(&pl->nl->cnt, DPC_px_origin_idle);
			return;
		}
	}
	if (how != PX_PUT_ABORT && !oc->failed)
		oc->t->ops->close(oc->t);
	else
		oc->t->ops->abort(oc->t);
	oc_free(oc);
}

void
px_origin_sweep(struct px_lcore *pl)
{
	struct px_oconn *oc;
	uint32_t i;

	for (i = 0; i < PX_SWEEP && pl->nb_oconns > 0; i++) {
		oc = &pl->oconns[pl->osweep];
		pl->osweep = (pl->osweep + 1) % pl->nb_oconns;
		if (oc->state == PX_O_IDLE &&
		    (int64_t)(oc->deadline - pl->nl->now) <= 0)
			idle_drop(oc, false);
	}
}

void
px_origin_stop(struct px_lcore *pl)
{
	uint32_t i;

	/* tcp_lcore_fini dropped the connections without callbacks. */
	for (i = 0; i < pl->nb_oconns; i++) {
		pl->oconns[i].io.tcp = NULL;
		tls_origin_drop(pl->oconns[i].tls);
		pl->oconns[i].tls = NULL;
		tcp_rxq_free(&pl->oconns[i].io.rx);
	}
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP connection objects: the per-lcore table, listeners, initial sequence
 * numbers, open and close.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash_crc.h>
#include <sodium.h>

#include "tcp_impl.h"

const struct tcp_params tcp_params_default = {
	.max_conns = 16384,
	.syn_backlog = 1024,
	.rcv_buf = 256 * 1024,
	.snd_buf = 256 * 1024,
	.rto_min_ms = 200,              /* Linux's TCP_RTO_MIN */
	.rto_max_ms = 60000,            /* RFC 6298 2.5 upper bound */
	.delack_ms = 40,
	.time_wait_ms = 60000,          /* 2 MSL as Linux: 60 s */
	.fin_wait2_ms = 60000,
	.syn_retries = 5,
	.data_retries = 12,
	.orphan_probes = 8,             /* Linux's tcp_orphan_retries 0 */
	.challenge_acks_per_s = 1000,   /* Linux's tcp_challenge_ack_limit */
	.ephemeral_lo = 32768,
	.ephemeral_hi = 60999,
};

const char *const tcp_state_names[] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED",
	"FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK",
	"TIME_WAIT",
};

static inline uint32_t
tcp_key_hash(const struct tcp_key *k)
{
	return rte_hash_crc(k, sizeof(*k), 0x9e3779b9);
}

int
tcp_lcore_init(struct net_lcore *nl, const struct tcp_params *p,
	       unsigned int index, unsigned int nb_workers)
{
	struct tcp_stack *ts;
	uint32_t buckets = TCP_HASH_BUCKETS_MIN, i;

	if (sodium_init() < 0)
		return -EIO;
	ts = calloc(1, sizeof(*ts));
	if (ts == NULL)
		return -ENOMEM;
	ts->p = *p;
	ts->index = index;
	ts->nb_workers = nb_workers ? nb_workers : 1;
	while (buckets < p->max_conns)
		buckets <<= 1;
	ts->hash = calloc(buckets, sizeof(*ts->hash));
	ts->conns = calloc(p->max_conns, sizeof(*ts->conns));
	if (ts->hash == NULL || ts->conns == NULL) {
		free(ts->hash);
		free(ts->conns);
		free(ts);
		return -ENOMEM;
	}
	ts->hash_mask = buckets - 1;
	for (i = p->max_conns; i-- > 0;) {
		ts->conns[i].hnext = ts->free_list;
		ts->free_list = &ts->conns[i];
	}
	for (i = 0; i < TCP_TIMER_SLOTS; i++)
		TAILQ_INIT(&ts->wheel[i]);
	TAILQ_INIT(&ts->tw_list);
	TAILQ_INIT(&ts->corked);
	memcpy(ts->secret, p->secret, sizeof(ts->secret));
	if (sodium_is_zero(ts->secret, sizeof(ts->secret)))
		randombytes_buf(ts->secret, sizeof(ts->secret));
	ts->now_ms = nl->hz ? nl->now / (nl->hz / 1000) : 0;
	ts->wheel_ms = ts->now_ms;
	nl->tcp = ts;
	return 0;
}

void
tcp_lcore_fini(struct net_lcore *nl)
{
	struct tcp_stack *ts = nl->tcp;
	uint32_t i;

	if (ts == NULL)
		return;
	for (i = 0; i < ts->p.max_conns; i++) {
		struct tcp_conn *c = &ts->conns[i];

		if (c->state == TCP_CLOSED)
			continue;
		c->flags |= TCPF_NOTIFIED;      /* shutting down: no callbacks */
		tcp_conn_drop(c, -ECONNABORTED);
	}
	tcp_conn_reap(ts);
	free(ts->hash);
	free(ts->conns);
	free(ts);
	nl->tcp = NULL;
}

struct tcp_conn *
tcp_lookup(struct tcp_stack *ts, const struct tcp_key *k)
{
	struct tcp_conn *c = ts->hash[tcp_key_hash(k) & ts->hash_mask];

	for (; c != NULL; c = c->hnext)
		if (c->key.raddr == k->raddr && c->key.rport == k->rport &&
		    c->key.lport == k->lport && c->key.laddr == k->laddr)
			return c;
	return NULL;
}

void
tcp_conn_hash_insert(struct tcp_stack *ts, struct tcp_conn *c)
{
	struct tcp_conn **b = &ts->hash[tcp_key_hash(&c->key) & ts->hash_mask];

	c->hnext = *b;
	*b = c;
}

static void
tcp_conn_hash_remove(struct tcp_stack *ts, struct tcp_conn *c)
{
	struct tcp_conn **pp = &ts->hash[tcp_key_hash(&c->key) & ts->hash_mask];

	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			return;
		}
	}
}

uint16_t
tcp_mss_for(const struct net_lcore *nl, uint16_t port)
{
	(void)nl;
	(void)port;
	/* Ports run at the Ethernet MTU; jumbo frames would raise this. */
	return TCP_MSS_MAX;
}

uint8_t
tcp_wscale_for(uint32_t buf)
{
	uint8_t s = 0;

	while (s < TCP_WSCALE_MAX && (buf >> s) > 65535)
		s++;
	return s;
}

struct tcp_conn *
tcp_conn_new(struct net_lcore *nl, const struct tcp_key *k, uint16_t port)
{
	struct tcp_stack *ts = tcp_stack(nl);
	struct tcp_conn *c = ts->free_list;
	unsigned int i;

	if (c == NULL && (c = TAILQ_FIRST(&ts->tw_list)) != NULL) {
		/* Out of objects: recycle the oldest TIME_WAIT rather than
		 * refuse everyone for up to 2 MSL (Linux, past its
		 * tw_buckets limit, skips TIME_WAIT the same way). */
		tcp_conn_drop(c, 0);
		ts->grave = c->hnext;           /* dropped just now: on top */
		dpc_inc(&nl->cnt, DPC_tcp_tw_recycled);
	} else if (c == NULL) {
		dpc_inc(&nl->cnt, DPC_tcp_conn_limit);
		return NULL;
	} else {
		ts->free_list = c->hnext;
	}
	memset(c, 0, sizeof(*c));
	c->key = *k;
	c->nl = nl;
	c->port = port;
	c->state = TCP_CLOSED;
	c->rcv_buf = ts->p.rcv_buf;
	c->snd_buf = ts->p.snd_buf;
	c->rcv_wscale = tcp_wscale_for(c->rcv_buf);
	c->mss = TCP_MSS_DEFAULT;
	c->rto = 1000;                  /* RFC 6298 2.1 */
	c->ssthresh = UINT32_MAX;
	c->last_rcv = ts->now_ms;
	for (i = 0; i < TCP_T_MAX; i++)
		c->timers[i].kind = (uint8_t)i;
	tcp_conn_hash_insert(ts, c);
	/* Relaxed stores: the control thread reads the gauge. */
	__atomic_store_n(&ts->nb_conns, ts->nb_conns + 1, __ATOMIC_RELAXED);
	return c;
}

void
tcp_set_state(struct tcp_conn *c, enum tcp_state s)
{
	if (c->state == TCP_SYN_RCVD && c->listener != NULL)
		c->listener->nb_syn_rcvd--;
	if (s == TCP_SYN_RCVD && c->listener != NULL)
		c->listener->nb_syn_rcvd++;
	c->state = (uint8_t)s;
}

void
tcp_conn_drop(struct tcp_conn *c, int err)
{
	struct net_lcore *nl = c->nl;
	struct tcp_stack *ts = tcp_stack(nl);
	unsigned int i;

	if (c->state == TCP_CLOSED)
		return;
	if (c->state == TCP_TIME_WAIT)
		TAILQ_REMOVE(&ts->tw_list, c, tw_link);
	if (c->flags & TCPF_CORKED) {
		TAILQ_REMOVE(&ts->corked, c, cork_link);
		c->flags &= ~TCPF_CORKED;
	}
	/* Leave SYN_RCVD through tcp_set_state so the backlog count drops. */
	tcp_set_state(c, TCP_CLOSED);
	if (!(c->flags & TCPF_NOTIFIED)) {
		c->flags |= TCPF_NOTIFIED;
		if (c->ops != NULL && c->ops->closed != NULL)
			c->ops->closed(c, err);
	}
	for (i = 0; i < TCP_T_MAX; i++)
		tcp_timer_cancel(ts, c, i);
	if (c->sndq_head != NULL)
		rte_pktmbuf_free(c->sndq_head);
	for (i = 0; i < c->nb_ooo; i++)
		rte_pktmbuf_free(c->ooo[i]);
	c->sndq_head = c->sndq_tail = c->sndq_cur = NULL;
	c->nb_ooo = 0;
	tcp_conn_hash_remove(ts, c);
	__atomic_store_n(&ts->nb_conns, ts->nb_conns - 1, __ATOMIC_RELAXED);
	dpc_inc(&nl->cnt, DPC_tcp_closed);
	/* Not reusable before the current input or timer batch ends: code
	 * up the stack may still look at c->state after a callback. */
	c->hnext = ts->grave;
	ts->grave = c;
}

void
tcp_tw_add(struct tcp_stack *ts, struct tcp_conn *c)
{
	TAILQ_INSERT_TAIL(&ts->tw_list, c, tw_link);
}

void
tcp_conn_reap(struct tcp_stack *ts)
{
	struct tcp_conn *c;

	while ((c = ts->grave) != NULL) {
		ts->grave = c->hnext;
		c->hnext = ts->free_list;
		ts->free_list = c;
	}
}

struct tcp_listener *
tcp_listener_find(struct tcp_stack *ts, rte_be32_t a, uint16_t port)
{
	struct tcp_listener *any = NULL;
	uint32_t i;

	for (i = 0; i < ts->nb_listeners; i++) {
		struct tcp_listener *l = &ts->listeners[i];

		if (l->port != port)
			continue;
		if (l->addr == a)
			return l;
		if (l->addr == 0)
			any = l;
	}
	return any;
}

int
tcp_listen(struct net_lcore *nl, rte_be32_t addr, uint16_t port,
	   const struct tcp_ops *ops, void *arg)
{
	struct tcp_stack *ts = tcp_stack(nl);
	struct tcp_listener *l;
	uint32_t i;

	for (i = 0; i < ts->nb_listeners; i++)
		if (ts->listeners[i].port == port &&
		    ts->listeners[i].addr == addr)
			return -EADDRINUSE;
	if (ts->nb_listeners == TCP_LISTENERS_MAX)
		return -ENOSPC;
	l = &ts->listeners[ts->nb_listeners++];
	memset(l, 0, sizeof(*l));
	l->addr = addr;
	l->port = port;
	l->ops = ops;
	l->arg = arg;
	return 0;
}

/*
 * RFC 6528: ISN = M + F(4-tuple, secret), M a 4 µs clock. F is SipHash-2-4
 * (libsodium's crypto_shorthash), keyed per lcore at start.
 */
uint32_t
tcp_isn(struct tcp_stack *ts, const struct tcp_key *k)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t f;

	crypto_shorthash(h, (const uint8_t *)k, sizeof(*k), ts->secret);
	memcpy(&f, h, sizeof(f));
	return f + (uint32_t)(ts->now_ms * 250);
}

/* Local ports are striped across workers: port lo + index + k * nb_workers
 * belongs to worker `index`, so the owner of a reply is a function of its
 * destination port and no table is shared. */
static int
tcp_pick_port(struct tcp_stack *ts, struct tcp_key *k)
{
	uint32_t span = ts->p.ephemeral_hi - ts->p.ephemeral_lo + 1;
	uint32_t n = (span - ts->index + ts->nb_workers - 1) / ts->nb_workers;
	uint32_t i, slot;

	for (i = 0; i < n; i++) {
		slot = (ts->port_cursor + i) % n;
		k->lport = rte_cpu_to_be_16((uint16_t)(ts->p.ephemeral_lo +
					ts->index + slot * ts->nb_workers));
		if (tcp_lookup(ts, k) == NULL) {
			ts->port_cursor = slot + 1;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

struct tcp_conn *
tcp_connect(struct net_lcore *nl, rte_be32_t dst, uint16_t port,
	    const struct tcp_ops *ops, void *user)
{
	struct tcp_stack *ts = tcp_stack(nl);
	struct tcp_conn *c;
	struct tcp_key k;
	rte_be32_t nh;
	int ifc;

	ifc = ipv4_route(nl, dst, &nh);
	if (ifc < 0) {
		errno = ENETUNREACH;
		return NULL;
	}
	k.laddr = nl->ifaces[ifc].addr;
	k.raddr = dst;
	k.rport = rte_cpu_to_be_16(port);
	if (tcp_pick_port(ts, &k) != 0) {
		errno = EADDRNOTAVAIL;
		return NULL;
	}
	c = tcp_conn_new(nl, &k, (uint16_t)ifc);
	if (c == NULL) {
		errno = ENOBUFS;
		return NULL;
	}
	c->ops = ops;
	c->user = user;
	c->iss = tcp_isn(ts, &k);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->recover = c->iss;            /* RFC 6582 3.2 step 1 */
	tcp_set_state(c, TCP_SYN_SENT);
	dpc_inc(&nl->cnt, DPC_tcp_active_opens);
	tcp_send_syn(c);
	tcp_arm_rtx(c);
	return c;
}

void
tcp_close(struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_SYN_SENT:
		tcp_conn_drop(c, 0);
		return;
	case TCP_SYN_RCVD:
	case TCP_ESTABLISHED:
		c->flags |= TCPF_FIN_QUEUED;
		tcp_set_state(c, TCP_FIN_WAIT_1);
		break;
	case TCP_CLOSE_WAIT:
		c->flags |= TCPF_FIN_QUEUED;
		tcp_set_state(c, TCP_LAST_ACK);
		break;
	default:
		return;                         /* already closing */
	}
	tcp_output(c);
}

void
tcp_abort(struct tcp_conn *c)
{
	if (c->state == TCP_CLOSED)
		return;
	if (c->state != TCP_SYN_SENT && c->state != TCP_TIME_WAIT)
		tcp_send_rst_conn(c);
	tcp_conn_drop(c, -ECONNABORTED);
}

void
tcp_set_keepalive(struct tcp_conn *c, uint32_t idle_s, uint32_t intvl_s,
		  uint32_t cnt)
{
	c->ka_idle_ms = idle_s * 1000;
	c->ka_intvl_ms = (intvl_s ? intvl_s : 1) * 1000;
	c->ka_cnt = (uint8_t)(cnt ? (cnt > 255 ? 255 : cnt) : 1);
	c->ka_probes = 0;
	if (idle_s != 0 && (c->state == TCP_ESTABLISHED ||
			    c->state == TCP_CLOSE_WAIT))
		tcp_timer_arm(tcp_stack(c->nl), c, TCP_T_IDLE, c->ka_idle_ms);
	else if (idle_s == 0 && c->state == TCP_ESTABLISHED)
		tcp_timer_cancel(tcp_stack(c->nl), c, TCP_T_IDLE);
}

void
tcp_set_user(struct tcp_conn *c, void *user)
{
	c->user = user;
}

void *
tcp_user(const struct tcp_conn *c)
{
	return c->user;
}

void *
tcp_listen_arg(const struct tcp_conn *c)
{
	return c->listener != NULL ? c->listener->arg : NULL;
}

struct net_lcore *
tcp_lcore(const struct tcp_conn *c)
{
	return c->nl;
}

void
tcp_endpoints(const struct tcp_conn *c, rte_be32_t *laddr, uint16_t *lport,
	      rte_be32_t *raddr, uint16_t *rport)
{
	*laddr = c->key.laddr;
	*lport = rte_be_to_cpu_16(c->key.lport);
	*raddr = c->key.raddr;
	*rport = rte_be_to_cpu_16(c->key.rport);
}

uint32_t
tcp_nb_conns(const struct net_lcore *nl)
{
	return nl->tcp != NULL ?
	       __atomic_load_n(&nl->tcp->nb_conns, __ATOMIC_RELAXED) : 0;
}

uint32_t
tcp_max_conns(const struct net_lcore *nl)
{
	return nl->tcp != NULL ? nl->tcp->p.max_conns : 0;
}

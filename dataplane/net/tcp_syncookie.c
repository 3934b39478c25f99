/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SYN cookies: when a listener's SYN_RCVD backlog is full, answer SYNs
 * without keeping state and rebuild the connection from the returning ACK.
 *
 * ISS (the cookie), in the manner of Linux and Bernstein's design:
 *   bits 31..27  t: the 64-second interval number, modulo 32
 *   bits 26..24  index into cookie_mss[] (largest not above the peer's MSS)
 *   bits 23..0   SipHash(secret, 4-tuple, t, peer ISN), truncated
 * A cookie is accepted for two intervals (64 to 128 s).
 * With timestamps, the low 5 bits of our TSval carry the peer's window
 * scale (4 bits, 15 = none) and SACK-permitted (1 bit); the peer echoes
 * them in TSecr. Our own scale is a function of the buffer size. Without timestamps those options are lost, as with every SYN
 * cookie implementation.
 */
#include <string.h>

#include <sodium.h>

#include "tcp_impl.h"

#define COOKIE_PERIOD_MS   64000
#define COOKIE_WS_NONE     0xf

static const uint16_t cookie_mss[8] = {
	536, 1200, 1300, 1360, 1400, 1440, 1452, 1460,
};

static uint32_t
cookie_hash(const struct tcp_stack *ts, const struct tcp_key *k, uint32_t t,
	    uint32_t peer_isn)
{
	uint8_t in[sizeof(*k) + 8], h[crypto_shorthash_BYTES];
	uint32_t v;

	memcpy(in, k, sizeof(*k));
	memcpy(in + sizeof(*k), &t, 4);
	memcpy(in + sizeof(*k) + 4, &peer_isn, 4);
	crypto_shorthash(h, in, sizeof(in), ts->secret);
	memcpy(&v, h, sizeof(v));
	return v & 0xffffff;
}

static inline uint32_t
cookie_period(const struct tcp_stack *ts)
{
	return (uint32_t)(ts->now_ms / COOKIE_PERIOD_MS);
}

void
tcp_syncookie_send(struct net_lcore *nl, uint16_t port,
		   struct tcp_listener *l, const struct tcp_key *k,
		   const struct rte_tcp_hdr *th, const struct tcp_opts *o,
		   uint32_t seq)
{
	struct tcp_stack *ts = tcp_stack(nl);
	struct tcp_conn c;
	uint32_t t = cookie_period(ts) & 31, idx = 0, i;

	/* A throw-away connection object describes the SYN-ACK; nothing
	 * of it is kept. */
	memset(&c, 0, sizeof(c));
	c.key = *k;
	c.nl = nl;
	c.port = port;
	c.state = TCP_SYN_RCVD;
	c.rcv_buf = ts->p.rcv_buf;
	c.rcv_wscale = tcp_wscale_for(c.rcv_buf);
	c.irs = seq;
	c.rcv_nxt = seq + 1;
	c.rcv_adv = c.rcv_nxt;
	tcp_apply_syn_opts(&c, o, rte_be_to_cpu_16(th->rx_win));
	for (i = 0; i < RTE_DIM(cookie_mss); i++)
		if (cookie_mss[i] <= c.peer_mss)
			idx = i;
	c.iss = t << 27 | idx << 24 | cookie_hash(ts, k, t, seq);
	if (c.flags & TCPF_TS) {
		/* Older than any TSval we send later, so PAWS at the peer
		 * never rejects what follows. */
		c.ts_cookie = (uint32_t)((ts->now_ms - 64) & ~0x3full) |
			      ((c.flags & TCPF_SACK) ? 0x10 : 0) |
			      ((c.flags & TCPF_WSCALE) ? c.snd_wscale :
			       COOKIE_WS_NONE);
		c.flags |= TCPF_TS_COOKIE;
	} else {
		/* No way to remember scaling: offer none. */
		c.flags &= ~(TCPF_WSCALE | TCPF_SACK);
		c.rcv_wscale = 0;
	}
	l->last_cookie_ms = ts->now_ms;
	dpc_inc(&nl->cnt, DPC_tcp_syncookies_sent);
	tcp_send_syn(&c);
}

struct tcp_conn *
tcp_syncookie_check(struct net_lcore *nl, uint16_t port,
		    struct tcp_listener *l, const struct tcp_key *k,
		    const struct rte_tcp_hdr *th, const struct tcp_opts *o,
		    uint32_t seq, uint32_t ack)
{
	struct tcp_stack *ts = tcp_stack(nl);
	uint32_t cookie = ack - 1, t = cookie >> 27, now = cookie_period(ts);
	uint32_t idx = cookie >> 24 & 7, ws;
	struct tcp_conn *c;

	if (l->last_cookie_ms == 0 ||
	    ts->now_ms - l->last_cookie_ms > 2 * COOKIE_PERIOD_MS)
		return NULL;                    /* no cookies out there */
	if (((now - t) & 31) > 1 ||
	    (cookie & 0xffffff) != cookie_hash(ts, k, t, seq - 1)) {
		dpc_inc(&nl->cnt, DPC_tcp_syncookies_bad);
		return NULL;
	}
	c = tcp_conn_new(nl, k, port);
	if (c == NULL)
		return NULL;
	c->listener = l;
	c->ops = l->ops;
	c->flags |= TCPF_PASSIVE;
	c->irs = seq - 1;
	c->rcv_nxt = seq;
	c->iss = cookie;
	c->snd_una = c->snd_nxt = c->snd_max = ack;
	c->recover = ack;
	c->peer_mss = cookie_mss[idx];
	c->mss = c->peer_mss < tcp_mss_for(nl, port) ? c->peer_mss :
		 tcp_mss_for(nl, port);
	if (o->has_ts) {
		ws = o->tsecr & 0xf;
		c->flags |= TCPF_TS;
		c->ts_recent = o->tsval;
		c->ts_recent_age = ts->now_ms;
		c->mss -= 12;
		if (o->tsecr & 0x10)
			c->flags |= TCPF_SACK;
		if (ws != COOKIE_WS_NONE) {
			c->flags |= TCPF_WSCALE;
			c->snd_wscale = (uint8_t)ws;
		}
	}
	if (!(c->flags & TCPF_WSCALE)) {
		c->rcv_wscale = 0;
		if (c->rcv_buf > 65535)
			c->rcv_buf = 65535;
	}
	/* What the SYN-ACK offered: an unscaled window. */
	c->rcv_adv = c->rcv_nxt + (c->rcv_buf < 65535 ? c->rcv_buf : 65535);
	c->snd_wnd = (uint32_t)rte_be_to_cpu_16(th->rx_win) << c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = seq;
	c->snd_wl2 = ack;
	c->last_ack_sent = c->rcv_nxt;
	dpc_inc(&nl->cnt, DPC_tcp_syncookies_ok);
	dpc_inc(&nl->cnt, DPC_tcp_passive_opens);
	return c;
}

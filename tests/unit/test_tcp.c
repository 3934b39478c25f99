/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP state machine driven segment by segment through the mock port
 * with an injected clock: handshake and options, data both ways, delayed
 * ACKs, out-of-order data and SACK, retransmission timing and backoff, fast
 * retransmit, window updates and zero-window probes, RST and challenge ACKs,
 * PAWS, FIN handling and TIME_WAIT, keep-alive, malformed segments.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ring.h>
#include <rte_tcp.h>

#include "testlib.h"
#include "net/tcp.h"
#include "net/tcp_impl.h"

#define LPORT      80
#define RPORT      40000
#define PEER_ISS   1000u
#define MS         (T_HZ / 1000)

/* What the application saw. */
static struct app {
	struct tcp_conn *conn;
	int established, peer_closed, closed, writable;
	int closed_err;
	bool hold;                      /* don't tcp_recved() */
	size_t rx_len;
	uint8_t rx[1 << 20];
} app;

static int
app_established(struct tcp_conn *c)
{
	app.conn = c;
	app.established++;
	return 0;
}

static void
app_recv(struct tcp_conn *c, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);

	assert_true(app.rx_len + len <= sizeof(app.rx));
	const void *p;

	/* Payloads may be chains: read across segments. */
	p = rte_pktmbuf_read(m, 0, len, app.rx + app.rx_len);
	assert_non_null(p);
	if (p != app.rx + app.rx_len)
		memcpy(app.rx + app.rx_len, p, len);
	app.rx_len += len;
	rte_pktmbuf_free(m);
	if (!app.hold)
		tcp_recved(c, len);
}

static void
app_peer_closed(struct tcp_conn *c)
{
	(void)c;
	app.peer_closed++;
}

static void
app_writable(struct tcp_conn *c)
{
	(void)c;
	app.writable++;
}

static void
app_closed(struct tcp_conn *c, int err)
{
	(void)c;
	app.closed++;
	app.closed_err = err;
	app.conn = NULL;
}

static const struct tcp_ops app_ops = {
	.established = app_established,
	.recv = app_recv,
	.peer_closed = app_peer_closed,
	.writable = app_writable,
	.closed = app_closed,
};

/* A segment we sent, decoded. */
struct seg {
	uint16_t sport, dport;
	uint8_t flags;
	uint32_t seq, ack;
	uint32_t wnd;                   /* raw 16-bit field */
	uint32_t plen;
	bool has_ts, sack_ok, has_ws, has_mss;
	uint32_t tsval, tsecr;
	uint16_t mss;
	uint8_t ws;
	unsigned int nb_sack;
	uint32_t sack[4][2];
	uint8_t data[2048];
};

static int
setup(void **state)
{
	struct t_env *env;
	struct tcp_params p = tcp_params_default;

	t_env_setup(state);
	env = *state;
	memset(&app, 0, sizeof(app));
	p.max_conns = 64;
	p.syn_backlog = 8;
	assert_int_equal(tcp_lcore_init(&env->nl, &p, 0, 1), 0);
	assert_int_equal(tcp_listen(&env->nl, 0, LPORT, &app_ops, NULL), 0);
	arp_learn(&env->nl, 0, rte_cpu_to_be_32(T_PEER_IP), &t_peer_mac, true);
	tcp_timers(&env->nl);
	return 0;
}

static int
teardown(void **state)
{
	struct t_env *env = *state;

	tcp_lcore_fini(&env->nl);
	return t_env_teardown(state);
}

static void
advance(struct t_env *env, uint64_t ms)
{
	uint64_t i;

	/* Step 1 ms at a time like a busy poll loop would. */
	for (i = 0; i < ms; i++) {
		env->nl.now += MS;
		tcp_timers(&env->nl);
	}
}

/* Options block helpers for segments from the peer. */
struct popts {
	uint8_t b[40];
	unsigned int len;
};

static void
popt_syn(struct popts *o, bool ts, uint32_t tsval)
{
	uint8_t *p = o->b;

	memset(o, 0, sizeof(*o));
	*p++ = 2; *p++ = 4; *p++ = 1460 >> 8; *p++ = 1460 & 0xff;
	*p++ = 1; *p++ = 3; *p++ = 3; *p++ = 7;         /* NOP, WS 7 */
	*p++ = 1; *p++ = 1; *p++ = 4; *p++ = 2;         /* NOP NOP SACK_PERM */
	if (ts) {
		*p++ = 1; *p++ = 1; *p++ = 8; *p++ = 10;
		*p++ = (uint8_t)(tsval >> 24); *p++ = (uint8_t)(tsval >> 16);
		*p++ = (uint8_t)(tsval >> 8); *p++ = (uint8_t)tsval;
		p += 4;
	}
	o->len = (unsigned int)(p - o->b);
}

static void
popt_ts(struct popts *o, uint32_t tsval, uint32_t tsecr)
{
	uint8_t *p = o->b;

	memset(o, 0, sizeof(*o));
	*p++ = 1; *p++ = 1; *p++ = 8; *p++ = 10;
	*p++ = (uint8_t)(tsval >> 24); *p++ = (uint8_t)(tsval >> 16);
	*p++ = (uint8_t)(tsval >> 8); *p++ = (uint8_t)tsval;
	*p++ = (uint8_t)(tsecr >> 24); *p++ = (uint8_t)(tsecr >> 16);
	*p++ = (uint8_t)(tsecr >> 8); *p++ = (uint8_t)tsecr;
	o->len = 12;
}

/* Deliver one segment from the peer's port sport to our port dport. */
static void
peer_send_to(struct net_lcore *nl, uint16_t sport, uint16_t dport,
	     uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd,
	     const struct popts *o, const void *data, size_t len)
{
	uint8_t buf[2048];
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	size_t olen = o ? o->len : 0, off;

	off = t_eth(buf, &t_our_mac, &t_peer_mac, RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(buf + off);
	off += t_ipv4(buf + off, T_PEER_IP, T_OUR_IP, IPPROTO_TCP,
		      sizeof(*th) + olen + len);
	th = (struct rte_tcp_hdr *)(buf + off);
	memset(th, 0, sizeof(*th));
	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(dport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)(((sizeof(*th) + olen) / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	if (olen)
		memcpy(th + 1, o->b, olen);
	if (len)
		memcpy((uint8_t *)(th + 1) + olen, data, len);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	eth_input(nl, 0, t_mbuf(buf, off + sizeof(*th) + olen + len));
}

/* From the usual client port to our listener. */
static void
peer_send(struct t_env *env, uint8_t flags, uint32_t seq, uint32_t ack,
	  uint16_t wnd, const struct popts *o, const void *data, size_t len)
{
	peer_send_to(&env->nl, RPORT, LPORT, flags, seq, ack, wnd, o, data,
		     len);
}

static void
decode(struct rte_mbuf *m, struct seg *s)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
					struct rte_ipv4_hdr *, 14);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	unsigned int doff = (th->data_off >> 4) * 4u, i = 20;
	const uint8_t *o = (const uint8_t *)th;

	memset(s, 0, sizeof(*s));
	assert_int_equal(ip->next_proto_id, IPPROTO_TCP);
	assert_true(net_cksum_ok(ip, 20));
	assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, th), 0);
	s->sport = rte_be_to_cpu_16(th->src_port);
	s->dport = rte_be_to_cpu_16(th->dst_port);
	s->flags = th->tcp_flags;
	s->seq = rte_be_to_cpu_32(th->sent_seq);
	s->ack = rte_be_to_cpu_32(th->recv_ack);
	s->wnd = rte_be_to_cpu_16(th->rx_win);
	s->plen = rte_be_to_cpu_16(ip->total_length) - 20 - doff;
	memcpy(s->data, o + doff, s->plen);
	while (i < doff) {
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		switch (o[i]) {
		case 2:
			s->has_mss = true;
			s->mss = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
			break;
		case 3:
			s->has_ws = true;
			s->ws = o[i + 2];
			break;
		case 4:
			s->sack_ok = true;
			break;
		case 5:
			s->nb_sack = (o[i + 1] - 2) / 8;
			for (unsigned int b = 0; b < s->nb_sack; b++) {
				uint32_t v[2];

				memcpy(v, &o[i + 2 + 8 * b], 8);
				s->sack[b][0] = rte_be_to_cpu_32(v[0]);
				s->sack[b][1] = rte_be_to_cpu_32(v[1]);
			}
			break;
		case 8: {
			uint32_t v[2];

			memcpy(v, &o[i + 2], 8);
			s->has_ts = true;
			s->tsval = rte_be_to_cpu_32(v[0]);
			s->tsecr = rte_be_to_cpu_32(v[1]);
			break;
		}
		default:
			break;
		}
		i += o[i + 1];
	}
}

/* Collect what we transmitted; returns the count. */
static unsigned int
out(struct t_env *env, struct seg *s, unsigned int max)
{
	struct rte_mbuf *m[64];
	unsigned int n, i;

	unsigned int k = 0;

	n = t_tx(env, m, RTE_DIM(m));
	for (i = 0; i < n; i++) {
		/* ARP refreshes of the peer's entry are not TCP's business. */
		if (rte_pktmbuf_mtod(m[i], struct rte_ether_hdr *)->ether_type ==
		    RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
			assert_true(k < max);
			decode(m[i], &s[k++]);
		}
		rte_pktmbuf_free(m[i]);
	}
	return k;
}

static unsigned int
out_drain(struct t_env *env)
{
	struct seg s[64];

	return out(env, s, 64);
}

/* Three-way handshake with timestamps; returns our ISS. */
static uint32_t
handshake(struct t_env *env, bool ts)
{
	struct popts o;
	struct seg s;

	popt_syn(&o, ts, 500);
	peer_send(env, RTE_TCP_SYN_FLAG, PEER_ISS, 0, 65535, &o, NULL, 0);
	assert_int_equal(out(env, &s, 1), 1);
	assert_int_equal(s.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(s.ack, PEER_ISS + 1);
	assert_int_equal(s.sport, LPORT);
	assert_int_equal(s.dport, RPORT);
	if (ts)
		popt_ts(&o, 501, s.tsval);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, s.seq + 1, 512,
		  ts ? &o : NULL, NULL, 0);
	assert_int_equal(app.established, 1);
	assert_non_null(app.conn);
	return s.seq;
}

static void
test_handshake_options(void **state)
{
	struct t_env *env = *state;
	struct popts o;
	struct seg s;

	popt_syn(&o, true, 500);
	peer_send(env, RTE_TCP_SYN_FLAG, PEER_ISS, 0, 65535, &o, NULL, 0);
	assert_int_equal(out(env, &s, 1), 1);
	assert_int_equal(s.flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(s.ack, PEER_ISS + 1);
	assert_true(s.has_mss);
	assert_int_equal(s.mss, 1460);
	assert_true(s.has_ws);
	assert_true(s.ws > 0 && s.ws <= 14);
	assert_true(s.sack_ok);
	assert_true(s.has_ts);
	assert_int_equal(s.tsecr, 500);
	assert_int_equal(app.established, 0);
	assert_int_equal(t_cnt(env, DPC_tcp_passive_opens), 1);

	popt_ts(&o, 501, s.tsval);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, s.seq + 1, 512, &o,
		  NULL, 0);
	assert_int_equal(app.established, 1);
	assert_int_equal(tcp_nb_conns(&env->nl), 1);
	assert_int_equal(out_drain(env), 0);    /* nothing to say yet */
}

static void
test_syn_without_options(void **state)
{
	struct t_env *env = *state;
	struct seg s;

	peer_send(env, RTE_TCP_SYN_FLAG, PEER_ISS, 0, 8192, NULL, NULL, 0);
	assert_int_equal(out(env, &s, 1), 1);
	/* Only MSS: no option the peer did not offer (RFC 7323, 2018). */
	assert_true(s.has_mss);
	assert_false(s.has_ws);
	assert_false(s.sack_ok);
	assert_false(s.has_ts);
	assert_true(s.wnd <= 65535);
}

static void
test_no_listener_reset(void **state)
{
	struct t_env *env = *state;
	uint8_t buf[128];
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m[2];
	size_t off;

	off = t_eth(buf, &t_our_mac, &t_peer_mac, RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(buf + off);
	off += t_ipv4(buf + off, T_PEER_IP, T_OUR_IP, IPPROTO_TCP, 20);
	th = (struct rte_tcp_hdr *)(buf + off);
	memset(th, 0, sizeof(*th));
	th->src_port = rte_cpu_to_be_16(RPORT);
	th->dst_port = rte_cpu_to_be_16(81);
	th->sent_seq = rte_cpu_to_be_32(7);
	th->data_off = 5 << 4;
	th->tcp_flags = RTE_TCP_SYN_FLAG;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	eth_input(&env->nl, 0, t_mbuf(buf, off + 20));
	assert_int_equal(t_tx(env, m, 2), 1);
	th = rte_pktmbuf_mtod_offset(m[0], struct rte_tcp_hdr *, 34);
	assert_int_equal(th->tcp_flags, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(rte_be_to_cpu_32(th->recv_ack), 8);
	assert_int_equal(th->src_port, rte_cpu_to_be_16(81));
	rte_pktmbuf_free(m[0]);
	assert_int_equal(t_cnt(env, DPC_tcp_no_listener), 1);
}

static void
test_malformed_segments(void **state)
{
	struct t_env *env = *state;
	uint8_t buf[128];
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m[2];
	size_t off, base;

	base = t_eth(buf, &t_our_mac, &t_peer_mac, RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(buf + base);
	off = base + t_ipv4(buf + base, T_PEER_IP, T_OUR_IP, IPPROTO_TCP, 24);
	th = (struct rte_tcp_hdr *)(buf + off);
	memset(th, 0, 24);
	th->src_port = rte_cpu_to_be_16(RPORT);
	th->dst_port = rte_cpu_to_be_16(LPORT);
	th->tcp_flags = RTE_TCP_SYN_FLAG;

	/* bad checksum */
	th->data_off = 5 << 4;
	th->cksum = (uint16_t)(rte_ipv4_udptcp_cksum(ip, th) ^ 0x5555);
	eth_input(&env->nl, 0, t_mbuf(buf, off + 24));
	assert_int_equal(t_cnt(env, DPC_tcp_bad_checksum), 1);
	/* data offset below 5 and beyond the segment */
	th->data_off = 4 << 4;
	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	eth_input(&env->nl, 0, t_mbuf(buf, off + 24));
	th->data_off = 15 << 4;
	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	eth_input(&env->nl, 0, t_mbuf(buf, off + 24));
	assert_int_equal(t_cnt(env, DPC_tcp_bad_offset), 2);
	/* an option whose length runs past the header */
	th->data_off = 6 << 4;
	((uint8_t *)(th + 1))[0] = 2;
	((uint8_t *)(th + 1))[1] = 8;
	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	eth_input(&env->nl, 0, t_mbuf(buf, off + 24));
	/* zero-length option */
	((uint8_t *)(th + 1))[0] = 30;
	((uint8_t *)(th + 1))[1] = 0;
	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	eth_input(&env->nl, 0, t_mbuf(buf, off + 24));
	assert_int_equal(t_cnt(env, DPC_tcp_bad_options), 2);
	/* too short for a TCP header */
	t_ipv4(buf + base, T_PEER_IP, T_OUR_IP, IPPROTO_TCP, 10);
	eth_input(&env->nl, 0, t_mbuf(buf, off + 10));
	assert_int_equal(t_cnt(env, DPC_tcp_short), 1);

	assert_int_equal(t_tx(env, m, 2), 0);   /* nothing answered */
	assert_int_equal(tcp_nb_conns(&env->nl), 0);
}

static void
test_data_in_delayed_ack(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	uint8_t data[3000];
	struct seg s[4];
	unsigned int i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1, 512, NULL,
		  data, 1000);
	assert_int_equal(app.rx_len, 1000);
	assert_int_equal(out_drain(env), 0);    /* ACK delayed */
	advance(env, 39);
	assert_int_equal(out_drain(env), 0);
	advance(env, 2);
	assert_int_equal(out(env, s, 4), 1);    /* 40 ms: delayed ACK */
	assert_int_equal(s[0].ack, PEER_ISS + 1 + 1000);

	/* Two segments: ACKed at once. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1001, iss + 1, 512, NULL,
		  data + 1000, 1000);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 2001, iss + 1, 512, NULL,
		  data + 2000, 1000);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].ack, PEER_ISS + 3001);
	assert_int_equal(app.rx_len, 3000);
	assert_memory_equal(app.rx, data, 3000);
	assert_int_equal(t_cnt(env, DPC_tcp_bytes_in), 3000);
}

static void
test_out_of_order_and_sack(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	uint8_t data[4000];
	struct seg s[4];
	unsigned int i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	/* Segment 2 and 4 before 1 and 3. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1001, iss + 1, 512, NULL,
		  data + 1000, 1000);
	assert_int_equal(out(env, s, 4), 1);    /* immediate dup ACK */
	assert_int_equal(s[0].ack, PEER_ISS + 1);
	assert_int_equal(s[0].nb_sack, 1);
	assert_int_equal(s[0].sack[0][0], PEER_ISS + 1001);
	assert_int_equal(s[0].sack[0][1], PEER_ISS + 2001);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 3001, iss + 1, 512, NULL,
		  data + 3000, 1000);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].nb_sack, 2);
	/* The newest block first (RFC 2018 4). */
	assert_int_equal(s[0].sack[0][0], PEER_ISS + 3001);
	assert_int_equal(s[0].sack[1][0], PEER_ISS + 1001);
	assert_int_equal(app.rx_len, 0);

	/* An overlapping retransmission of 1..2.5k fills the first hole. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1, 512, NULL,
		  data, 1500);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].ack, PEER_ISS + 2001);
	assert_int_equal(s[0].nb_sack, 1);
	assert_int_equal(app.rx_len, 2000);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 2001, iss + 1, 512, NULL,
		  data + 2000, 1000);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].ack, PEER_ISS + 4001);
	assert_int_equal(s[0].nb_sack, 0);
	assert_int_equal(app.rx_len, 4000);
	assert_memory_equal(app.rx, data, 4000);

	/* A complete duplicate is re-ACKed and not delivered twice. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1, 512, NULL,
		  data, 1000);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].ack, PEER_ISS + 4001);
	assert_int_equal(app.rx_len, 4000);
}

/* Send n bytes from the app; returns the segments that went out. */
static unsigned int
app_send(struct t_env *env, const uint8_t *d, size_t n, struct seg *s,
	 unsigned int max)
{
	assert_int_equal(tcp_send(app.conn, d, n), (int)n);
	return out(env, s, max);
}

static void
test_data_out_windows(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	static uint8_t data[40000];
	struct seg s[64];
	unsigned int n, i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	/* Peer window 512 << 7 = 64 KiB but the initial window is 10 MSS. */
	n = app_send(env, data, sizeof(data), s, 64);
	assert_int_equal(n, 10);
	for (i = 0; i < n; i++) {
		assert_int_equal(s[i].seq, iss + 1 + i * 1460);
		assert_int_equal(s[i].plen, 1460);
		assert_memory_equal(s[i].data, data + i * 1460, 1460);
	}
	/* ACK five: slow start opens the window further. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1 + 5 * 1460, 512,
		  NULL, NULL, 0);
	n = out(env, s, 64);
	/* cwnd 10 + 2 (ABC, L = 2) MSS, 5 in flight: 7 more. */
	assert_int_equal(n, 7);
	assert_int_equal(s[0].seq, iss + 1 + 10 * 1460);

	/* A tiny peer window limits what is in flight. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1,
		  iss + 1 + (10 + n) * 1460, 0, NULL, NULL, 0);
	assert_int_equal(out_drain(env), 0);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1,
		  iss + 1 + (10 + n) * 1460, 4, NULL, NULL, 0);   /* 512 B */
	assert_int_equal(out(env, s, 64), 1);
	assert_int_equal(s[0].plen, 512);
}

static void
test_retransmission_backoff(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	uint8_t data[100] = { 1, 2, 3 };
	struct seg s[4];
	uint64_t t;
	unsigned int k;

	assert_int_equal(app_send(env, data, sizeof(data), s, 4), 1);
	/* No RTT sample yet: RTO is 1 s (RFC 6298 2.1), then 2 s, 4 s. */
	for (k = 0, t = 1000; k < 3; k++, t *= 2) {
		advance(env, t - 1);
		assert_int_equal(out_drain(env), 0);
		advance(env, 1);
		assert_int_equal(out(env, s, 4), 1);
		assert_int_equal(s[0].seq, iss + 1);
		assert_int_equal(s[0].plen, 100);
	}
	assert_int_equal(t_cnt(env, DPC_tcp_rto), 3);
	/* The ACK stops it. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 101, 512, NULL,
		  NULL, 0);
	advance(env, 20000);
	assert_int_equal(out_drain(env), 0);
}

static void
test_gives_up_after_retries(void **state)
{
	struct t_env *env = *state;
	uint8_t data[10] = { 0 };
	struct seg s[4];

	handshake(env, false);
	assert_int_equal(app_send(env, data, sizeof(data), s, 4), 1);
	advance(env, 40 * 60 * 1000);
	out_drain(env);
	assert_int_equal(app.closed, 1);
	assert_int_equal(app.closed_err, -ETIMEDOUT);
	assert_int_equal(t_cnt(env, DPC_tcp_timeouts), 1);
	assert_int_equal(tcp_nb_conns(&env->nl), 0);
}

static void
test_fast_retransmit(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	static uint8_t data[10 * 1460];
	struct seg s[64];
	unsigned int i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 3);
	assert_int_equal(app_send(env, data, sizeof(data), s, 64), 10);
	/* Segment 1 lost: three duplicate ACKs carrying SACK blocks and a
	 * changing window, as Linux sends them. */
	for (i = 0; i < 3; i++) {
		struct popts o;
		uint32_t l = iss + 1 + 1460 * (i + 1), r = l + 1460;
		uint8_t *p = o.b;

		memset(&o, 0, sizeof(o));
		*p++ = 1; *p++ = 1; *p++ = 5; *p++ = 10;
		*p++ = (uint8_t)(l >> 24); *p++ = (uint8_t)(l >> 16);
		*p++ = (uint8_t)(l >> 8); *p++ = (uint8_t)l;
		*p++ = (uint8_t)(r >> 24); *p++ = (uint8_t)(r >> 16);
		*p++ = (uint8_t)(r >> 8); *p++ = (uint8_t)r;
		o.len = 12;
		peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1,
			  (uint16_t)(512 - i), &o, NULL, 0);
	}
	assert_int_equal(out(env, s, 64), 1);
	assert_int_equal(s[0].seq, iss + 1);
	assert_int_equal(s[0].plen, 1460);
	assert_memory_equal(s[0].data, data, 1460);
	assert_int_equal(t_cnt(env, DPC_tcp_fast_retransmits), 1);
}

/* A peer that keeps its window shut after the application closed would
 * hold the connection and its queued data for ever: after the orphan
 * probe limit the connection is reset. */
static void
test_orphan_zero_window_reset(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	uint8_t data[3000] = { 0 };
	struct seg s[8];
	unsigned int probes = 0, rounds, n, i;
	bool reset = false;

	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1, 0, NULL, NULL,
		  0);
	assert_int_equal(tcp_send(app.conn, data, sizeof(data)), 3000);
	tcp_close(app.conn);
	for (rounds = 0; rounds < 64 && !reset; rounds++) {
		advance(env, 10000);
		while (!reset && (n = out(env, s, 8)) > 0) {
			for (i = 0; i < n; i++) {
				if (s[i].flags & RTE_TCP_RST_FLAG) {
					reset = true;
					break;
				}
				assert_int_equal(s[i].plen, 0);
				probes++;
				/* Answered, the window still shut. */
				peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1,
					  iss + 1, 0, NULL, NULL, 0);
			}
		}
	}
	assert_true(reset);
	assert_int_equal(probes, tcp_params_default.orphan_probes);
	assert_int_equal(t_cnt(env, DPC_tcp_timeouts), 1);
	assert_int_equal(tcp_nb_conns(&env->nl), 0);
}

static void
test_zero_window_probe(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	uint8_t data[3000] = { 0 };
	struct seg s[8];
	unsigned int probes = 0, n;

	/* The peer closes its window before we have anything to send. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1, 0, NULL, NULL,
		  0);
	assert_int_equal(tcp_send(app.conn, data, sizeof(data)), 3000);
	assert_int_equal(out_drain(env), 0);
	advance(env, 8000);
	while ((n = out(env, s, 8)) > 0) {
		assert_int_equal(s[0].seq, iss);        /* snd_una - 1 */
		assert_int_equal(s[0].plen, 0);
		probes += n;
	}
	assert_true(probes >= 2);
	assert_int_equal(t_cnt(env, DPC_tcp_zero_window_probes), probes);
	/* The window opens: data flows. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1, 512, NULL,
		  NULL, 0);
	assert_int_equal(out(env, s, 8), 3);
	assert_int_equal(s[0].seq, iss + 1);
	assert_int_equal(app.closed, 0);
}

static void
test_receive_window_and_update(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	static uint8_t data[1460];
	struct seg s[4];
	uint32_t wnd0, i;

	app.hold = true;                /* the application reads nothing */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1, 512, NULL,
		  data, 1460);
	advance(env, 50);
	assert_int_equal(out(env, s, 4), 1);
	wnd0 = s[0].wnd;
	/* Keep feeding at RCV.NXT until the advertised window is zero; the
	 * window only shrinks as the data piles up. */
	for (i = 0; i < 400 && s[0].wnd != 0; i++) {
		peer_send(env, RTE_TCP_ACK_FLAG,
			  (uint32_t)(PEER_ISS + 1 + app.rx_len), iss + 1, 512,
			  NULL, data, 1460);
		advance(env, 50);
		if (out(env, s, 4) == 0)
			break;
		assert_true(s[0].wnd <= wnd0);
		assert_int_equal(s[0].ack, PEER_ISS + 1 + app.rx_len);
	}
	assert_int_equal(s[0].wnd, 0);
	/* 256 KiB were taken, none lost or beyond what was offered. */
	assert_true(app.rx_len >= 200 * 1024 && app.rx_len <= 256 * 1024);
	/* Data beyond a zero window is not taken, but answered. */
	i = (uint32_t)app.rx_len;
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1 + i, iss + 1, 512, NULL,
		  data, 1460);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].ack, PEER_ISS + 1 + i);
	assert_int_equal(app.rx_len, i);
	/* The app catches up: a window update goes out by itself. */
	tcp_recved(app.conn, (uint32_t)app.rx_len);
	assert_int_equal(out(env, s, 4), 1);
	assert_true(s[0].wnd > 0);
	assert_int_equal(s[0].ack, PEER_ISS + 1 + i);
}

static void
test_rst_and_challenge_ack(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	struct seg s[4];

	/* In window but not exact: challenge ACK, connection stays. */
	peer_send(env, RTE_TCP_RST_FLAG, PEER_ISS + 100, 0, 0, NULL, NULL, 0);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].flags, RTE_TCP_ACK_FLAG);
	assert_int_equal(s[0].ack, PEER_ISS + 1);
	assert_int_equal(app.closed, 0);
	/* Out of window: ignored silently. */
	peer_send(env, RTE_TCP_RST_FLAG, PEER_ISS + 10000000, 0, 0, NULL, NULL,
		  0);
	assert_int_equal(out_drain(env), 0);
	assert_int_equal(app.closed, 0);
	/* SYN on an established connection: challenge ACK (RFC 5961 4). */
	peer_send(env, RTE_TCP_SYN_FLAG, PEER_ISS + 50, 0, 512, NULL, NULL, 0);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].flags, RTE_TCP_ACK_FLAG);
	assert_int_equal(t_cnt(env, DPC_tcp_challenge_acks), 2);
	/* An ACK for data never sent is answered and ignored. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 5000, 512, NULL,
		  NULL, 0);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(t_cnt(env, DPC_tcp_ack_unsent), 1);
	/* Exact sequence: reset. */
	peer_send(env, RTE_TCP_RST_FLAG, PEER_ISS + 1, 0, 0, NULL, NULL, 0);
	assert_int_equal(out_drain(env), 0);
	assert_int_equal(app.closed, 1);
	assert_int_equal(app.closed_err, -ECONNRESET);
	assert_int_equal(tcp_nb_conns(&env->nl), 0);
}

static void
test_paws(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, true);
	uint8_t d[10] = { 0 };
	struct popts o;
	struct seg s[4];

	popt_ts(&o, 600, 0);
	peer_send(env, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, PEER_ISS + 1,
		  iss + 1, 512, &o, d, 10);
	assert_int_equal(app.rx_len, 10);
	advance(env, 50);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].tsecr, 600);
	/* An older timestamp: rejected (PAWS), ACKed, not delivered. */
	popt_ts(&o, 550, 0);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 11, iss + 1, 512, &o, d,
		  10);
	assert_int_equal(app.rx_len, 10);
	assert_int_equal(t_cnt(env, DPC_tcp_paws_drops), 1);
	assert_int_equal(out(env, s, 4), 1);
}

static void
test_passive_close_and_last_ack(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	struct seg s[4];

	peer_send(env, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, PEER_ISS + 1,
		  iss + 1, 512, NULL, NULL, 0);
	assert_int_equal(app.peer_closed, 1);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].ack, PEER_ISS + 2);
	tcp_close(app.conn);
	assert_int_equal(out(env, s, 4), 1);
	assert_true(s[0].flags & RTE_TCP_FIN_FLAG);
	assert_int_equal(s[0].seq, iss + 1);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 2, iss + 2, 512, NULL,
		  NULL, 0);
	assert_int_equal(app.closed, 1);
	assert_int_equal(app.closed_err, 0);
	assert_int_equal(tcp_nb_conns(&env->nl), 0);
}

static void
test_active_close_time_wait(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, true);
	uint8_t d[5] = { 'h', 'e', 'l', 'l', 'o' };
	struct popts o;
	struct seg s[4];

	/* Data then FIN in one flight. */
	tcp_send(app.conn, d, sizeof(d));
	tcp_close(app.conn);
	assert_int_equal(out(env, s, 4), 2);
	assert_int_equal(s[0].plen, 5);
	assert_true(s[1].flags & RTE_TCP_FIN_FLAG);
	assert_int_equal(s[1].seq, iss + 6);
	/* Peer ACKs both, then sends its FIN: TIME_WAIT. */
	popt_ts(&o, 700, s[1].tsval);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 7, 512, &o, NULL,
		  0);
	assert_int_equal(app.closed, 0);
	peer_send(env, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, PEER_ISS + 1,
		  iss + 7, 512, &o, NULL, 0);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].ack, PEER_ISS + 2);
	assert_int_equal(app.closed, 1);        /* app is done */
	assert_int_equal(tcp_nb_conns(&env->nl), 1);    /* TIME_WAIT */
	/* A retransmitted FIN is ACKed again. */
	peer_send(env, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, PEER_ISS + 1,
		  iss + 7, 512, &o, NULL, 0);
	assert_int_equal(out(env, s, 4), 1);
	/* A new SYN with a higher sequence takes the TIME_WAIT over. */
	{
		struct popts so;

		popt_syn(&so, true, 800);
		peer_send(env, RTE_TCP_SYN_FLAG, PEER_ISS + 100000, 0, 65535,
			  &so, NULL, 0);
		assert_int_equal(out(env, s, 4), 1);
		assert_int_equal(s[0].flags,
				 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
		assert_int_equal(t_cnt(env, DPC_tcp_tw_reuse), 1);
	}
	/* The SYN_RCVD connection gives up after its retries; TIME_WAIT
	 * objects expire after 60 s: the table empties. */
	advance(env, 200000);
	out_drain(env);
	assert_int_equal(tcp_nb_conns(&env->nl), 0);
}

static void
test_keepalive(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	struct seg s[4];

	tcp_set_keepalive(app.conn, 10, 2, 3);
	advance(env, 9990);
	assert_int_equal(out_drain(env), 0);
	advance(env, 20);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].seq, iss);        /* probe: snd_una - 1 */
	/* Answered: the connection lives on. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1, 512, NULL,
		  NULL, 0);
	advance(env, 9000);
	assert_int_equal(out_drain(env), 0);
	/* Silence: probes every 2 s, then the connection is dropped. */
	advance(env, 20000);
	out_drain(env);
	assert_int_equal(app.closed, 1);
	assert_int_equal(app.closed_err, -ETIMEDOUT);
	assert_int_equal(t_cnt(env, DPC_tcp_keepalive_probes), 4);
}

/* Fill the SYN backlog from other ports. */
static void
fill_backlog(struct t_env *env, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		peer_send_to(&env->nl, (uint16_t)(50000 + i), LPORT,
			     RTE_TCP_SYN_FLAG, i, 0, 1000, NULL, NULL, 0);
	}
	out_drain(env);
}

static void
test_syn_backlog_and_conn_limit(void **state)
{
	struct t_env *env = *state;

	/* SYNs from many ports, never completed: backlog 8; the other 12
	 * are answered with SYN cookies and leave no state. */
	fill_backlog(env, 20);
	assert_int_equal(tcp_nb_conns(&env->nl), 8);
	assert_int_equal(t_cnt(env, DPC_tcp_backlog_full), 12);
	/* They time out and free the backlog. */
	advance(env, 120000);
	out_drain(env);
	assert_int_equal(tcp_nb_conns(&env->nl), 0);
}

static void
test_syncookies(void **state)
{
	struct t_env *env = *state;
	static uint8_t data[40000];
	struct popts o;
	struct seg s[64];
	uint32_t cookie;
	unsigned int n;

	fill_backlog(env, 8);
	assert_int_equal(tcp_nb_conns(&env->nl), 8);
	/* The next SYN gets a stateless SYN-ACK. */
	popt_syn(&o, true, 900);
	peer_send(env, RTE_TCP_SYN_FLAG, PEER_ISS, 0, 65535, &o, NULL, 0);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(s[0].ack, PEER_ISS + 1);
	assert_true(s[0].sack_ok && s[0].has_ws && s[0].has_ts);
	assert_int_equal(tcp_nb_conns(&env->nl), 8);    /* no state kept */
	assert_int_equal(t_cnt(env, DPC_tcp_syncookies_sent), 1);
	cookie = s[0].seq;

	/* A forged ACK (wrong cookie) is refused with a reset. */
	popt_ts(&o, 901, s[0].tsval);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, cookie + 2, 512, &o,
		  NULL, 0);
	assert_int_equal(out(env, s, 4), 1);
	assert_true(s[0].flags & RTE_TCP_RST_FLAG);
	assert_int_equal(t_cnt(env, DPC_tcp_syncookies_bad), 1);
	assert_int_equal(app.established, 0);

	/* The real ACK, echoing the cookie TSval: the connection exists,
	 * with SACK and window scaling recovered from the timestamp. */
	popt_syn(&o, true, 902);
	peer_send(env, RTE_TCP_SYN_FLAG, PEER_ISS, 0, 65535, &o, NULL, 0);
	assert_int_equal(out(env, s, 4), 1);
	cookie = s[0].seq;
	popt_ts(&o, 903, s[0].tsval);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, cookie + 1, 512, &o,
		  NULL, 0);
	assert_int_equal(app.established, 1);
	assert_int_equal(t_cnt(env, DPC_tcp_syncookies_ok), 1);
	assert_int_equal(tcp_nb_conns(&env->nl), 9);
	/* 512 << 7: far more than the 10-segment initial window, so a
	 * scaled window was understood; full-size segments less the
	 * timestamp option. */
	assert_int_equal(tcp_send(app.conn, data, sizeof(data)),
			 (int)sizeof(data));
	n = out(env, s, 64);
	assert_int_equal(n, 10);
	assert_int_equal(s[0].plen, 1448);
	assert_int_equal(s[0].seq, cookie + 1);
	assert_true(s[0].has_ts);
}

static void
test_syncookie_expires(void **state)
{
	struct t_env *env = *state;
	struct popts o;
	struct seg s[4];

	fill_backlog(env, 8);
	popt_syn(&o, true, 900);
	peer_send(env, RTE_TCP_SYN_FLAG, PEER_ISS, 0, 65535, &o, NULL, 0);
	assert_int_equal(out(env, s, 4), 1);
	/* Past two 64-second periods the cookie is worthless. */
	env->nl.now += 200ull * 1000 * MS;
	tcp_timers(&env->nl);
	out_drain(env);
	popt_ts(&o, 901, s[0].tsval);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, s[0].seq + 1, 512, &o,
		  NULL, 0);
	assert_int_equal(app.established, 0);
	assert_int_equal(out(env, s, 4), 1);
	assert_true(s[0].flags & RTE_TCP_RST_FLAG);
}

/* Two workers over the mock port: env's stack becomes worker 0 of 2 and
 * w1 worker 1, each with a TCP inbox the other can post to. */
struct two_workers {
	struct net_lcore *w1;
	struct rte_ring *in0, *in1;
};

static void
two_workers_setup(struct t_env *env, struct two_workers *tw)
{
	static unsigned int gen;
	struct tcp_params p = tcp_params_default;
	char name[32];

	tw->w1 = calloc(1, sizeof(*tw->w1));
	assert_non_null(tw->w1);
	tcp_lcore_fini(&env->nl);
	p.max_conns = 64;
	assert_int_equal(tcp_lcore_init(&env->nl, &p, 0, 2), 0);
	net_lcore_init(tw->w1, env->ifc, 1, 0, t_pool(), T_HZ);
	tw->w1->now = env->nl.now;
	assert_int_equal(tcp_lcore_init(tw->w1, &p, 1, 2), 0);
	arp_learn(tw->w1, 0, rte_cpu_to_be_32(T_PEER_IP), &t_peer_mac, true);
	snprintf(name, sizeof(name), "t_in0_%u", gen);
	tw->in0 = rte_ring_create(name, 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "t_in1_%u", gen++);
	tw->in1 = rte_ring_create(name, 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	assert_non_null(tw->in0);
	assert_non_null(tw->in1);
	env->nl.tcp_inbox = tw->in0;
	tw->w1->tcp_inbox = tw->in1;
	env->nl.tcp_peers[1] = tw->in1;
	tw->w1->tcp_peers[0] = tw->in0;
}

static void
two_workers_teardown(struct t_env *env, struct two_workers *tw)
{
	tcp_lcore_fini(tw->w1);
	net_lcore_fini(tw->w1);
	free(tw->w1);
	env->nl.tcp_inbox = NULL;
	env->nl.tcp_peers[1] = NULL;
	rte_ring_free(tw->in0);
	rte_ring_free(tw->in1);
}

/* Two workers: worker 1 opens a connection; the server's replies arrive on
 * worker 0's queue and are handed to worker 1, which alone touches it. */
static void
test_active_open_steered(void **state)
{
	struct t_env *env = *state;
	struct tcp_params p = tcp_params_default;
	struct two_workers tw;
	struct net_lcore *w1;
	struct tcp_conn *c;
	struct rte_mbuf *m[8];
	struct rte_tcp_hdr *th;
	struct popts o;
	uint16_t lport, n;
	uint32_t iss;

	two_workers_setup(env, &tw);
	w1 = tw.w1;

	c = tcp_connect(w1, rte_cpu_to_be_32(T_PEER_IP), 8080, &app_ops, NULL);
	assert_non_null(c);
	net_flush(w1);
	n = port_mock_collect(env->port, 0, m, 8);
	assert_int_equal(n, 1);
	th = rte_pktmbuf_mtod_offset(m[0], struct rte_tcp_hdr *, 34);
	assert_int_equal(th->tcp_flags, RTE_TCP_SYN_FLAG);
	lport = rte_be_to_cpu_16(th->src_port);
	iss = rte_be_to_cpu_32(th->sent_seq);
	/* The port names worker 1. */
	assert_int_equal((lport - p.ephemeral_lo) % 2, 1);
	rte_pktmbuf_free(m[0]);
	assert_int_equal(t_cnt(env, DPC_tcp_active_opens), 0);
	assert_int_equal(dpc_read(&w1->cnt, DPC_tcp_active_opens), 1);

	/* The SYN-ACK lands on worker 0: it is forwarded, not processed. */
	popt_syn(&o, true, 77);
	peer_send_to(&env->nl, 8080, lport, RTE_TCP_SYN_FLAG |
		     RTE_TCP_ACK_FLAG, 5000, iss + 1, 65535, &o, NULL, 0);
	assert_int_equal(t_cnt(env, DPC_tcp_steered), 1);
	assert_int_equal(tcp_nb_conns(&env->nl), 0);
	assert_int_equal(app.established, 0);
	tcp_inbox_drain(w1);
	assert_int_equal(app.established, 1);
	assert_ptr_equal(app.conn, c);
	net_flush(w1);
	n = port_mock_collect(env->port, 0, m, 8);
	assert_int_equal(n, 1);                         /* the ACK */
	th = rte_pktmbuf_mtod_offset(m[0], struct rte_tcp_hdr *, 34);
	assert_int_equal(th->tcp_flags, RTE_TCP_ACK_FLAG);
	assert_int_equal(rte_be_to_cpu_32(th->recv_ack), 5001);
	rte_pktmbuf_free(m[0]);

	/* Data from the server, also via worker 0. */
	popt_ts(&o, 78, 0);
	peer_send_to(&env->nl, 8080, lport, RTE_TCP_ACK_FLAG, 5001, iss + 1,
		     512, &o, "origin", 6);
	tcp_inbox_drain(w1);
	assert_int_equal(app.rx_len, 6);
	assert_memory_equal(app.rx, "origin", 6);

	/* Refused: an RST to a second attempt closes it with the error. */
	c = tcp_connect(w1, rte_cpu_to_be_32(T_PEER_IP), 8081, &app_ops, NULL);
	assert_non_null(c);
	net_flush(w1);
	n = port_mock_collect(env->port, 0, m, 8);
	assert_int_equal(n, 1);
	th = rte_pktmbuf_mtod_offset(m[0], struct rte_tcp_hdr *, 34);
	lport = rte_be_to_cpu_16(th->src_port);
	iss = rte_be_to_cpu_32(th->sent_seq);
	rte_pktmbuf_free(m[0]);
	peer_send_to(w1, 8081, lport, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, 0,
		     iss + 1, 0, NULL, NULL, 0);
	assert_int_equal(app.closed, 1);
	assert_int_equal(app.closed_err, -ECONNREFUSED);

	two_workers_teardown(env, &tw);
}

static void
test_active_open_timeout(void **state)
{
	struct t_env *env = *state;
	struct seg s[16];
	unsigned int syns = 0, n;
	struct tcp_conn *c;

	c = tcp_connect(&env->nl, rte_cpu_to_be_32(T_PEER_IP), 8080, &app_ops,
			NULL);
	assert_non_null(c);
	/* SYN, then 5 retries at 1, 2, 4, 8, 16 s; given up at 32 s more. */
	for (n = 0; n < 70; n++) {
		struct rte_mbuf *m[8];
		uint16_t k = t_tx(env, m, 8), i;

		for (i = 0; i < k; i++) {
			struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(m[i],
						struct rte_tcp_hdr *, 34);

			if (rte_pktmbuf_mtod(m[i], struct rte_ether_hdr *)->
			    ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4) &&
			    th->tcp_flags == RTE_TCP_SYN_FLAG)
				syns++;
			rte_pktmbuf_free(m[i]);
		}
		advance(env, 1000);
	}
	(void)s;
	assert_int_equal(syns, 6);
	assert_int_equal(app.closed, 1);
	assert_int_equal(app.closed_err, -ETIMEDOUT);
	assert_int_equal(tcp_nb_conns(&env->nl), 0);
}

/* CUBIC (RFC 9438) driven directly: multiplicative decrease by 0.7, a
 * concave return to the window of the loss at about K seconds, convex
 * probing beyond, fast convergence, and the loss window after an RTO. */
static void
test_cubic(void **state)
{
	struct t_env *env = *state;
	struct tcp_conn c;
	const uint32_t mss = 1000;
	double k = cbrt(100 * 0.3 / 0.4);       /* seconds */
	uint32_t at_half = 0, at_k = 0, at_2k = 0, ms;

	memset(&c, 0, sizeof(c));
	c.nl = &env->nl;
	c.mss = mss;
	/* 100 ms: long enough that the cubic curve, not the Reno-friendly
	 * estimate (0.53 segments per RTT), sets the window. */
	c.srtt8 = 100 << 3;
	tcp_cc_init(&c);
	c.cwnd = 100 * mss;
	c.snd_una = 0;
	c.snd_max = 100 * mss;
	tcp_cc_loss(&c, false);
	assert_int_equal(c.ssthresh, 70 * mss);
	c.cwnd = c.ssthresh;                    /* recovery is over */

	/* One window of ACKs every RTT for 2K seconds. */
	for (ms = 0; ms <= (uint32_t)(2 * k * 1000) + 100; ms += 100) {
		env->nl.now += 100 * MS;
		tcp_timers(&env->nl);
		tcp_cc_ack_open(&c, c.cwnd);
		if (!at_half && ms >= (uint32_t)(k * 500))
			at_half = c.cwnd / mss;
		if (!at_k && ms >= (uint32_t)(k * 1000))
			at_k = c.cwnd / mss;
	}
	at_2k = c.cwnd / mss;
	/* Concave: most of the way back at K/2, plateau near W_max at K. */
	assert_true(at_half > 85 && at_half < 100);
	assert_true(at_k >= 98 && at_k <= 103);
	/* Convex: probing past W_max, W(2K) = C*K^3 + W_max = 130 seg. */
	assert_true(at_2k >= 125 && at_2k <= 140);

	/* Fast convergence: a loss below the previous maximum lowers it. */
	c.cwnd = 90 * mss;
	c.snd_max = c.snd_una + 90 * mss;
	c.cubic_wmax = 100;
	tcp_cc_loss(&c, false);
	assert_true(c.cubic_wmax > 76 && c.cubic_wmax < 77);
	/* A timeout leaves one segment. */
	tcp_cc_loss(&c, true);
	assert_int_equal(c.cwnd, mss);
}

static void
test_challenge_ack_limit(void **state)
{
	struct t_env *env = *state;
	unsigned int i, sent = 0;

	handshake(env, false);
	/* 1,500 in-window forged RSTs in one second: 1,000 answered. */
	for (i = 0; i < 1500; i++) {
		peer_send(env, RTE_TCP_RST_FLAG, PEER_ISS + 10 + i, 0, 0, NULL,
			  NULL, 0);
		sent += out_drain(env);
	}
	assert_int_equal(sent, 1000);
	assert_int_equal(t_cnt(env, DPC_tcp_challenge_limited), 500);
	assert_int_equal(app.closed, 0);
	/* The next second has a fresh budget. */
	advance(env, 1001);
	peer_send(env, RTE_TCP_RST_FLAG, PEER_ISS + 5, 0, 0, NULL, NULL, 0);
	assert_int_equal(out_drain(env), 1);
}

/* The peer ACKs our FIN only after an RTO rewound the send: the FIN still
 * counts as acknowledged (no second FIN at FIN + 1, no stuck LAST_ACK). */
static void
test_fin_acked_after_rto(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	static uint8_t data[3000];
	struct seg s[8];
	unsigned int n;

	peer_send(env, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, PEER_ISS + 1,
		  iss + 1, 512, NULL, NULL, 0);
	out_drain(env);
	assert_int_equal(tcp_send(app.conn, data, sizeof(data)), 3000);
	tcp_close(app.conn);
	n = out(env, s, 8);
	assert_int_equal(n, 4);                 /* 3 data segments, FIN */
	assert_true(s[3].flags & RTE_TCP_FIN_FLAG);
	assert_int_equal(s[3].seq, iss + 1 + 3000);
	advance(env, 1000);                     /* RTO: first segment again */
	n = out(env, s, 8);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].seq, iss + 1);
	/* Now the ACK of everything, FIN included, arrives. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 2, iss + 1 + 3000 + 1, 512,
		  NULL, NULL, 0);
	assert_int_equal(app.closed, 1);
	assert_int_equal(app.closed_err, 0);
	assert_int_equal(out_drain(env), 0);
	assert_int_equal(tcp_nb_conns(&env->nl), 0);
}

/* af_packet may roll a frame over to another worker's queue: a segment for
 * a connection the receiving worker does not have is passed on, and only
 * the last worker asked answers with a reset. */
static void
test_loose_spreading_asks_around(void **state)
{
	struct t_env *env = *state;
	struct two_workers tw;
	struct net_lcore *w1;
	struct rte_mbuf *m[8];
	struct rte_tcp_hdr *th;
	uint32_t iss;
	uint16_t n;

	env->port->offloads |= PORT_RX_FLOW_LOOSE;
	two_workers_setup(env, &tw);
	w1 = tw.w1;
	assert_int_equal(tcp_listen(w1, 0, LPORT, &app_ops, NULL), 0);
	assert_int_equal(tcp_listen(&env->nl, 0, LPORT, &app_ops, NULL), 0);

	/* The connection is made on worker 1. */
	peer_send_to(w1, RPORT, LPORT, RTE_TCP_SYN_FLAG, PEER_ISS, 0, 65535,
		     NULL, NULL, 0);
	net_flush(w1);
	n = port_mock_collect(env->port, 0, m, 8);
	assert_int_equal(n, 1);
	th = rte_pktmbuf_mtod_offset(m[0], struct rte_tcp_hdr *, 34);
	iss = rte_be_to_cpu_32(th->sent_seq);
	rte_pktmbuf_free(m[0]);
	peer_send_to(w1, RPORT, LPORT, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1,
		     512, NULL, NULL, 0);
	assert_int_equal(app.established, 1);

	/* Data rolled over to worker 0: passed to worker 1, delivered. */
	peer_send_to(&env->nl, RPORT, LPORT, RTE_TCP_ACK_FLAG, PEER_ISS + 1,
		     iss + 1, 512, NULL, "rolled", 6);
	assert_int_equal(t_cnt(env, DPC_tcp_steered), 1);
	assert_int_equal(t_cnt(env, DPC_tcp_resets_out), 0);
	tcp_inbox_drain(w1);
	assert_int_equal(app.rx_len, 6);
	assert_memory_equal(app.rx, "rolled", 6);
	net_flush(w1);
	n = port_mock_collect(env->port, 0, m, 8);
	rte_pktmbuf_free_bulk(m, n);

	/* A segment nobody owns: worker 1, the last asked, resets it. */
	peer_send_to(&env->nl, RPORT + 1, LPORT, RTE_TCP_ACK_FLAG, 1, 2, 512,
		     NULL, "x", 1);
	assert_int_equal(t_cnt(env, DPC_tcp_resets_out), 0);
	tcp_inbox_drain(w1);
	assert_int_equal(dpc_read(&w1->cnt, DPC_tcp_resets_out), 1);
	net_flush(w1);
	n = port_mock_collect(env->port, 0, m, 8);
	assert_int_equal(n, 1);
	th = rte_pktmbuf_mtod_offset(m[0], struct rte_tcp_hdr *, 34);
	assert_int_equal(th->tcp_flags, RTE_TCP_RST_FLAG);
	rte_pktmbuf_free(m[0]);

	two_workers_teardown(env, &tw);
}

/* Both sides close at once: FINs cross, CLOSING, then TIME_WAIT. */
static void
test_simultaneous_close(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	struct seg s[4];

	tcp_close(app.conn);
	assert_int_equal(out(env, s, 4), 1);
	assert_true(s[0].flags & RTE_TCP_FIN_FLAG);
	/* The peer's FIN crosses ours: it does not ACK our FIN yet. */
	peer_send(env, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, PEER_ISS + 1,
		  iss + 1, 512, NULL, NULL, 0);
	assert_int_equal(out(env, s, 4), 1);
	assert_int_equal(s[0].ack, PEER_ISS + 2);
	assert_int_equal(app.closed, 0);        /* CLOSING */
	/* Its ACK of our FIN: TIME_WAIT, the application is done. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 2, iss + 2, 512, NULL,
		  NULL, 0);
	assert_int_equal(app.closed, 1);
	assert_int_equal(app.closed_err, 0);
	assert_int_equal(tcp_nb_conns(&env->nl), 1);
	advance(env, 61000);
	assert_int_equal(tcp_nb_conns(&env->nl), 0);
}

/* Simultaneous open (RFC 9293 figure 7): our SYN crosses the peer's. */
static void
test_simultaneous_open(void **state)
{
	struct t_env *env = *state;
	struct tcp_conn *c;
	struct rte_mbuf *m[4];
	struct rte_tcp_hdr *th;
	uint16_t lport;
	uint32_t iss;

	c = tcp_connect(&env->nl, rte_cpu_to_be_32(T_PEER_IP), RPORT, &app_ops,
			NULL);
	assert_non_null(c);
	assert_int_equal(t_tx(env, m, 4), 1);
	th = rte_pktmbuf_mtod_offset(m[0], struct rte_tcp_hdr *, 34);
	lport = rte_be_to_cpu_16(th->src_port);
	iss = rte_be_to_cpu_32(th->sent_seq);
	rte_pktmbuf_free(m[0]);
	/* The peer's own SYN: we answer SYN-ACK with the same ISS. */
	peer_send_to(&env->nl, RPORT, lport, RTE_TCP_SYN_FLAG, PEER_ISS, 0,
		     65535, NULL, NULL, 0);
	assert_int_equal(t_tx(env, m, 4), 1);
	th = rte_pktmbuf_mtod_offset(m[0], struct rte_tcp_hdr *, 34);
	assert_int_equal(th->tcp_flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(rte_be_to_cpu_32(th->sent_seq), iss);
	assert_int_equal(rte_be_to_cpu_32(th->recv_ack), PEER_ISS + 1);
	rte_pktmbuf_free(m[0]);
	/* The peer's SYN-ACK alone completes it; nothing more is owed. */
	peer_send_to(&env->nl, RPORT, lport, RTE_TCP_SYN_FLAG |
		     RTE_TCP_ACK_FLAG, PEER_ISS, iss + 1, 65535, NULL, NULL, 0);
	assert_int_equal(app.established, 1);
	assert_ptr_equal(app.conn, c);
	assert_int_equal(t_tx(env, m, 4), 0);
}

/* While we report SACK blocks, our data segments shrink so header options
 * and payload still fit the MSS (RFC 6691). */
static void
test_sack_blocks_fit_the_mss(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, true);
	static uint8_t data[20000];
	struct popts o;
	struct seg s[64];
	unsigned int n, i, with_sack = 0;

	/* Two holes: the next ACKs carry two SACK blocks + timestamps. */
	popt_ts(&o, 600, 0);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1001, iss + 1, 512, &o,
		  data, 500);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 3001, iss + 1, 512, &o,
		  data, 500);
	out_drain(env);
	assert_int_equal(tcp_send(app.conn, data, sizeof(data)), 20000);
	n = out(env, s, 64);
	assert_true(n >= 10);
	for (i = 0; i < n; i++) {
		unsigned int olen = 12 + (s[i].nb_sack ? 4 + 8 * s[i].nb_sack : 0);

		assert_true(s[i].plen + olen <= 1460);
		with_sack += s[i].nb_sack == 2;
	}
	assert_int_equal(with_sack, n);
	assert_int_equal(s[0].plen, 1460 - 12 - 20);
}

/* Contiguous out-of-order segments share a slot: 60 segments in two
 * islands are all kept, then delivered in order once the holes fill. */
static void
test_ooo_runs_are_merged(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	static uint8_t data[62 * 1000];
	unsigned int i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 7);
	/* Segment 0 and 31 missing; 1..30 and 32..61 arrive. */
	for (i = 1; i < 62; i++) {
		if (i == 31)
			continue;
		peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1 + i * 1000,
			  iss + 1, 512, NULL, data + i * 1000, 1000);
	}
	out_drain(env);
	assert_int_equal(t_cnt(env, DPC_tcp_ooo_dropped), 0);
	assert_int_equal(app.rx_len, 0);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1 + 31 * 1000, iss + 1,
		  512, NULL, data + 31 * 1000, 1000);
	/* The first hole filled with an overlapping retransmission. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1, 512, NULL,
		  data, 1500);
	out_drain(env);
	assert_int_equal(app.rx_len, sizeof(data));
	assert_memory_equal(app.rx, data, sizeof(data));
}

/* Duplicated ACK frames (a path that duplicates) carry no new SACK
 * information and must not start a fast retransmit. */
static void
test_duplicated_acks_are_not_dupacks(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	static uint8_t data[10 * 1460];
	struct popts o;
	struct seg s[64];
	uint32_t l = iss + 1 + 1460, r = l + 1460;
	uint8_t *p = o.b;
	unsigned int i;

	assert_int_equal(app_send(env, data, sizeof(data), s, 64), 10);
	memset(&o, 0, sizeof(o));
	*p++ = 1; *p++ = 1; *p++ = 5; *p++ = 10;
	*p++ = (uint8_t)(l >> 24); *p++ = (uint8_t)(l >> 16);
	*p++ = (uint8_t)(l >> 8); *p++ = (uint8_t)l;
	*p++ = (uint8_t)(r >> 24); *p++ = (uint8_t)(r >> 16);
	*p++ = (uint8_t)(r >> 8); *p++ = (uint8_t)r;
	o.len = 12;
	/* The same SACK four times: one piece of news, not four. */
	for (i = 0; i < 4; i++)
		peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1, 512, &o,
			  NULL, 0);
	out_drain(env);
	assert_int_equal(t_cnt(env, DPC_tcp_fast_retransmits), 0);
	/* Plain duplicates of a window update are no news either. */
	for (i = 0; i < 4; i++)
		peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1, 512,
			  NULL, NULL, 0);
	out_drain(env);
	assert_int_equal(t_cnt(env, DPC_tcp_fast_retransmits), 0);
}

/* The object pool full of TIME_WAIT: a new SYN recycles the oldest one
 * rather than being refused for a minute. */
static void
test_time_wait_recycled_when_full(void **state)
{
	struct t_env *env = *state;
	struct rte_mbuf *m[8];
	struct rte_tcp_hdr *th;
	uint32_t iss;
	uint16_t port, n;

	for (port = 1000; port < 1064; port++) {
		peer_send_to(&env->nl, port, LPORT, RTE_TCP_SYN_FLAG, PEER_ISS, 0,
			     65535, NULL, NULL, 0);
		n = t_tx(env, m, 8);
		assert_int_equal(n, 1);
		th = rte_pktmbuf_mtod_offset(m[0], struct rte_tcp_hdr *, 34);
		iss = rte_be_to_cpu_32(th->sent_seq);
		rte_pktmbuf_free(m[0]);
		peer_send_to(&env->nl, port, LPORT, RTE_TCP_ACK_FLAG,
			     PEER_ISS + 1, iss + 1, 512, NULL, NULL, 0);
		tcp_close(app.conn);            /* we close first */
		peer_send_to(&env->nl, port, LPORT, RTE_TCP_FIN_FLAG |
			     RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 2, 512, NULL,
			     NULL, 0);
		n = t_tx(env, m, 8);
		rte_pktmbuf_free_bulk(m, n);
	}
	assert_int_equal(tcp_nb_conns(&env->nl), 64);   /* all TIME_WAIT */
	assert_int_equal(app.closed, 64);
	peer_send_to(&env->nl, 2000, LPORT, RTE_TCP_SYN_FLAG, PEER_ISS, 0,
		     65535, NULL, NULL, 0);
	n = t_tx(env, m, 8);
	assert_int_equal(n, 1);
	th = rte_pktmbuf_mtod_offset(m[0], struct rte_tcp_hdr *, 34);
	assert_int_equal(th->tcp_flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	rte_pktmbuf_free(m[0]);
	assert_int_equal(t_cnt(env, DPC_tcp_tw_recycled), 1);
	assert_int_equal(t_cnt(env, DPC_tcp_conn_limit), 0);
	assert_int_equal(tcp_nb_conns(&env->nl), 64);
}

/* A resend can carry bytes never sent before: segments sent while SACK
 * blocks shrank them are shorter than the resend after the hole filled.
 * The peer's ACK of those bytes is a real ACK, not one of unsent data
 * (that mistake stalled a transfer for good). */
static void
test_resend_past_snd_max(void **state)
{
	struct t_env *env = *state;
	uint32_t iss = handshake(env, false);
	static uint8_t data[3000], in[2000];
	struct seg s[8];

	/* A hole in what we receive: our segments carry a SACK block. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1001, iss + 1, 12, NULL,
		  in, 1000);
	out_drain(env);
	/* The peer's window (12 << 7 = 1536) lets one segment out. */
	assert_int_equal(tcp_send(app.conn, data, sizeof(data)), 3000);
	assert_int_equal(out(env, s, 8), 1);
	assert_int_equal(s[0].plen, 1448);
	/* The hole fills: no more SACK blocks, full 1460-byte segments. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 1, iss + 1, 12, NULL, in,
		  1000);
	out_drain(env);
	advance(env, 1000);                     /* RTO */
	assert_int_equal(out(env, s, 8), 1);
	assert_int_equal(s[0].seq, iss + 1);
	assert_int_equal(s[0].plen, 1460);
	/* The ACK of all 1460 is taken. */
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 2001, iss + 1 + 1460, 512,
		  NULL, NULL, 0);
	assert_int_equal(t_cnt(env, DPC_tcp_ack_unsent), 0);
	out_drain(env);
	peer_send(env, RTE_TCP_ACK_FLAG, PEER_ISS + 2001, iss + 1 + 3000, 512,
		  NULL, NULL, 0);
	assert_int_equal(t_cnt(env, DPC_tcp_ack_unsent), 0);
	assert_int_equal(tcp_send_space(app.conn), 256 * 1024);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_handshake_options),
		T(test_syn_without_options),
		T(test_no_listener_reset),
		T(test_malformed_segments),
		T(test_data_in_delayed_ack),
		T(test_out_of_order_and_sack),
		T(test_data_out_windows),
		T(test_retransmission_backoff),
		T(test_gives_up_after_retries),
		T(test_fast_retransmit),
		T(test_zero_window_probe),
		T(test_orphan_zero_window_reset),
		T(test_receive_window_and_update),
		T(test_rst_and_challenge_ack),
		T(test_paws),
		T(test_passive_close_and_last_ack),
		T(test_active_close_time_wait),
		T(test_keepalive),
		T(test_syn_backlog_and_conn_limit),
		T(test_syncookies),
		T(test_syncookie_expires),
		T(test_active_open_steered),
		T(test_active_open_timeout),
		T(test_cubic),
		T(test_challenge_ack_limit),
		T(test_fin_acked_after_rto),
		T(test_loose_spreading_asks_around),
		T(test_simultaneous_close),
		T(test_simultaneous_open),
		T(test_sack_blocks_fit_the_mss),
		T(test_ooo_runs_are_merged),
		T(test_duplicated_acks_are_not_dupacks),
		T(test_time_wait_recycled_when_full),
		T(test_resend_past_snd_max),
	};

	t_eal_init();
	return cmocka_run_group_tests_name("tcp", tests, NULL, NULL);
}

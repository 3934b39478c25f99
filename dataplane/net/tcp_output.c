/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP output: building segments, the send loop (windows, congestion,
 * silly-window avoidance), retransmission, ACKs, probes and resets, and the
 * send side of the upper-layer API.
 */
#include <errno.h>
#include <string.h>

#include "tcp_impl.h"

#define TCP_HDR_ROOM  (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + 60)

uint32_t
tcp_rcv_window(const struct tcp_conn *c)
{
	uint32_t used = c->rcv_unread + c->ooo_bytes, wnd, edge_wnd, max;

	wnd = used < c->rcv_buf ? c->rcv_buf - used : 0;
	/* Receiver SWS avoidance (RFC 9293 3.8.6.2.2): do not offer a
	 * sliver; wait until a segment or half the buffer is free. */
	if (wnd < c->rcv_buf / 2 && wnd < c->mss)
		wnd = 0;
	/* Never move the right edge back (RFC 9293 3.8.6). */
	edge_wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	if (wnd < edge_wnd)
		wnd = edge_wnd;
	max = (uint32_t)65535 << c->rcv_wscale;
	if (wnd > max)
		wnd = max;
	return wnd;
}

/* Write options into p; returns their length (a multiple of 4). */
static unsigned int
tcp_write_opts(struct tcp_conn *c, uint8_t *p, bool syn)
{
	unsigned int n = 0, i;
	uint32_t v;

	if (syn) {
		uint16_t mss = rte_cpu_to_be_16(tcp_mss_for(c->nl, c->port));

		p[n++] = TCPOPT_MSS;
		p[n++] = 4;
		memcpy(&p[n], &mss, 2);
		n += 2;
		/* In a SYN-ACK only what the peer offered (RFC 7323 2.2,
		 * RFC 2018 2). */
		if (c->state == TCP_SYN_SENT || (c->flags & TCPF_SACK)) {
			p[n++] = TCPOPT_NOP;
			p[n++] = TCPOPT_NOP;
			p[n++] = TCPOPT_SACK_PERM;
			p[n++] = 2;
		}
		if (c->state == TCP_SYN_SENT || (c->flags & TCPF_WSCALE)) {
			p[n++] = TCPOPT_NOP;
			p[n++] = TCPOPT_WSCALE;
			p[n++] = 3;
			p[n++] = c->rcv_wscale;
		}
	}
	if ((syn && c->state == TCP_SYN_SENT) || (c->flags & TCPF_TS)) {
		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_TS;
		p[n++] = 10;
		v = rte_cpu_to_be_32((c->flags & TCPF_TS_COOKIE) ?
				     c->ts_cookie : (uint32_t)tcp_now(c));
		memcpy(&p[n], &v, 4);
		v = rte_cpu_to_be_32(c->ts_recent);
		memcpy(&p[n + 4], &v, 4);
		n += 8;
	}
	if (!syn && c->nb_sack_out > 0) {
		unsigned int room = (40 - n - 4) / 8;
		unsigned int nb = c->nb_sack_out < room ? c->nb_sack_out : room;

		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_SACK;
		p[n++] = (uint8_t)(2 + 8 * nb);
		for (i = 0; i < nb; i++) {
			v = rte_cpu_to_be_32(c->sack_out[i][0]);
			memcpy(&p[n], &v, 4);
			v = rte_cpu_to_be_32(c->sack_out[i][1]);
			memcpy(&p[n + 4], &v, 4);
			n += 8;
		}
	}
	return n;
}

/* Copy len bytes of the send queue starting off bytes after snd_una.
 * A cursor remembers where the last copy began, so sending a window of
 * new data walks the queue once rather than once per segment. */
static void
tcp_sndq_copy(struct tcp_conn *c, uint32_t off, uint8_t *dst, uint32_t len)
{
	uint32_t target = c->snd_una + off, base, pos, chunk;
	const struct rte_mbuf *m;

	if (c->sndq_cur != NULL && SEQ_LEQ(c->sndq_cur_seq, target)) {
		m = c->sndq_cur;
		base = c->sndq_cur_seq;
	} else {
		m = c->sndq_head;
		base = c->snd_una - c->sndq_off;
	}
	pos = target - base;
	while (m != NULL && pos >= m->data_len) {
		pos -= m->data_len;
		base += m->data_len;
		m = m->next;
	}
	c->sndq_cur = (struct rte_mbuf *)(uintptr_t)m;
	c->sndq_cur_seq = base;
	while (len > 0 && m != NULL) {
		chunk = m->data_len - pos;
		if (chunk > len)
			chunk = len;
		memcpy(dst, rte_pktmbuf_mtod_offset(m, const uint8_t *, pos),
		       chunk);
		dst += chunk;
		len -= chunk;
		pos = 0;
		m = m->next;
	}
}

/* Fill IPv4 + TCP headers of m (TCP header and payload already in place
 * after room for them) and send it. Consumes m. */
static void
tcp_finish_and_send(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m,
		    rte_be32_t src, rte_be32_t dst, unsigned int thlen)
{
	const struct net_iface *ifc = &nl->ifaces[port];
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;

	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
				     RTE_ETHER_HDR_LEN);
	th = (struct rte_tcp_hdr *)(ip + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(rte_pktmbuf_pkt_len(m) -
						       RTE_ETHER_HDR_LEN));
	ip->packet_id = rte_cpu_to_be_16(nl->ip_id++);
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->hdr_checksum = 0;
	ip->src_addr = src;
	ip->dst_addr = dst;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(*ip);
	m->l4_len = thlen;
	m->ol_flags = 0;
	th->cksum = 0;
	if (ifc->port->offloads & PORT_TX_TCP_CKSUM) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	}
	dpc_inc(&nl->cnt, DPC_tcp_segs_out);
	ipv4_output(nl, m);
}

/*
 * Build and send one segment of c: flags, sequence seq, len payload bytes
 * taken from the send queue at seq - snd_una.
 */
static int
tcp_xmit(struct tcp_conn *c, uint8_t flags, uint32_t seq, uint32_t len)
{
	struct net_lcore *nl = c->nl;
	struct tcp_stack *ts = tcp_stack(nl);
	uint8_t opts[40];
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	unsigned int olen, thlen;
	uint32_t wnd;
	uint8_t *p;

	m = rte_pktmbuf_alloc(nl->pool);
	if (m == NULL) {
		dpc_inc(&nl->cnt, DPC_tcp_nomem);
		return -ENOMEM;
	}
	olen = tcp_write_opts(c, opts, (flags & RTE_TCP_SYN_FLAG) != 0);
	thlen = sizeof(*th) + olen;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN +
			       sizeof(struct rte_ipv4_hdr) + thlen + len));
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	th = (struct rte_tcp_hdr *)(p + RTE_ETHER_HDR_LEN +
				    sizeof(struct rte_ipv4_hdr));
	th->src_port = c->key.lport;
	th->dst_port = c->key.rport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->data_off = (uint8_t)((thlen / 4) << 4);
	th->tcp_flags = flags;
	th->tcp_urp = 0;
	if (flags & RTE_TCP_ACK_FLAG) {
		th->recv_ack = rte_cpu_to_be_32(c->rcv_nxt);
		wnd = tcp_rcv_window(c);
		c->rcv_adv = c->rcv_nxt + wnd;
		c->last_ack_sent = c->rcv_nxt;
		c->segs_unacked = 0;
		c->flags &= ~TCPF_ACK_NOW;
		tcp_timer_cancel(ts, c, TCP_T_DELACK);
	} else {
		th->recv_ack = 0;
		wnd = tcp_rcv_window(c);
	}
	/* The window in a SYN is never scaled (RFC 7323 2.2). */
	if (flags & RTE_TCP_SYN_FLAG)
		th->rx_win = rte_cpu_to_be_16((uint16_t)(wnd > 65535 ? 65535 :
							  wnd));
	else
		th->rx_win = rte_cpu_to_be_16((uint16_t)(wnd >> c->rcv_wscale));
	memcpy(th + 1, opts, olen);
	if (len > 0) {
		tcp_sndq_copy(c, seq - c->snd_una, (uint8_t *)th + thlen, len);
		dpc_add(&nl->cnt, DPC_tcp_bytes_out, len);
	}
	tcp_finish_and_send(nl, c->port, m, c->key.laddr, c->key.raddr, thlen);
	return 0;
}

int
tcp_send_ack(struct tcp_conn *c)
{
	return tcp_xmit(c, RTE_TCP_ACK_FLAG, c->snd_nxt, 0);
}

void
tcp_send_probe(struct tcp_conn *c)
{
	/* An old sequence number: the peer answers with an ACK carrying its
	 * current window (keep-alive and zero-window probe alike). */
	tcp_xmit(c, RTE_TCP_ACK_FLAG, c->snd_una - 1, 0);
}

int
tcp_send_syn(struct tcp_conn *c)
{
	uint8_t flags = RTE_TCP_SYN_FLAG;

	if (c->state == TCP_SYN_RCVD)
		flags |= RTE_TCP_ACK_FLAG;
	c->snd_nxt = c->iss + 1;
	if (SEQ_GT(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	return tcp_xmit(c, flags, c->iss, 0);
}

void
tcp_send_rst_conn(struct tcp_conn *c)
{
	dpc_inc(&c->nl->cnt, DPC_tcp_resets_out);
	tcp_xmit(c, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, c->snd_nxt, 0);
}

void
tcp_send_reset(struct net_lcore *nl, uint16_t port,
	       const struct rte_ipv4_hdr *ip, const struct rte_tcp_hdr *th,
	       uint32_t seg_len)
{
	struct rte_tcp_hdr *rh;
	struct rte_mbuf *m;
	uint8_t *p;

	if (th->tcp_flags & RTE_TCP_RST_FLAG)
		return;                 /* never answer a reset */
	m = rte_pktmbuf_alloc(nl->pool);
	if (m == NULL) {
		dpc_inc(&nl->cnt, DPC_tcp_nomem);
		return;
	}
	p = (uint8_t *)rte_pktmbuf_append(m, RTE_ETHER_HDR_LEN +
			sizeof(struct rte_ipv4_hdr) + sizeof(*rh));
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	rh = (struct rte_tcp_hdr *)(p + RTE_ETHER_HDR_LEN +
				    sizeof(struct rte_ipv4_hdr));
	memset(rh, 0, sizeof(*rh));
	rh->src_port = th->dst_port;
	rh->dst_port = th->src_port;
	rh->data_off = 5 << 4;
	/* RFC 9293 3.10.7.1 */
	if (th->tcp_flags & RTE_TCP_ACK_FLAG) {
		rh->sent_seq = th->recv_ack;
		rh->tcp_flags = RTE_TCP_RST_FLAG;
	} else {
		rh->recv_ack = rte_cpu_to_be_32(rte_be_to_cpu_32(th->sent_seq) +
						seg_len);
		rh->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	}
	dpc_inc(&nl->cnt, DPC_tcp_resets_out);
	tcp_finish_and_send(nl, port, m, ip->dst_addr, ip->src_addr,
			    sizeof(*rh));
}

void
tcp_retransmit_range(struct tcp_conn *c, uint32_t seq, uint32_t len)
{
	uint32_t data_end = c->snd_una + c->sndq_len, end;
	uint8_t flags = RTE_TCP_ACK_FLAG;

	if (SEQ_GT(seq + len, data_end))
		len = SEQ_GT(data_end, seq) ? data_end - seq : 0;
	/* The FIN follows the last data byte when it was sent before. */
	if (seq + len == data_end && (c->flags & TCPF_FIN_QUEUED) &&
	    !(c->flags & TCPF_FIN_ACKED) && SEQ_GT(c->snd_max, data_end)) {
		flags |= RTE_TCP_FIN_FLAG;
		c->flags |= TCPF_FIN_SENT;
	}
	if (len == 0 && !(flags & RTE_TCP_FIN_FLAG))
		return;
	if (len > 0)
		flags |= RTE_TCP_PSH_FLAG;
	dpc_inc(&c->nl->cnt, DPC_tcp_retransmits);
	tcp_xmit(c, flags, seq, len);
	end = seq + len + ((flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
	if (SEQ_LT(c->snd_nxt, end))
		c->snd_nxt = end;
	/* A resend can reach past what was sent before: segment sizes move
	 * with the SACK option (tcp_seg_size), so a full-size resend of the
	 * last, shorter segment carries new bytes. An ACK for them must not
	 * look like an ACK of unsent data. */
	if (SEQ_LT(c->snd_max, end))
		c->snd_max = end;
}

/* Resend the oldest unacknowledged segment (RTO and fast retransmit). */
void
tcp_retransmit_una(struct tcp_conn *c)
{
	tcp_retransmit_range(c, c->snd_una,
			     c->sndq_len < tcp_seg_size(c) ? c->sndq_len :
			     tcp_seg_size(c));
}

bool
tcp_next_hole(const struct tcp_conn *c, uint32_t from, uint32_t *start,
	      uint32_t *len)
{
	unsigned int i;

	if (SEQ_LT(from, c->snd_una))
		from = c->snd_una;
	for (i = 0; i < c->nb_sacked; i++) {
		if (SEQ_LT(from, c->sacked[i][0])) {
			*start = from;
			*len = c->sacked[i][0] - from;
			if (*len > tcp_seg_size(c))
				*len = tcp_seg_size(c);
			return true;
		}
		if (SEQ_LT(from, c->sacked[i][1]))
			from = c->sacked[i][1];
	}
	return false;
}

int
tcp_output(struct tcp_conn *c)
{
	struct tcp_stack *ts = tcp_stack(c->nl);
	uint32_t off, unsent, wnd, flight, usable, len, seg;
	uint8_t flags;
	bool sent = false, fin;

	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	default:
		goto ack_only;
	}
	/* FIN_WAIT_1 straight from SYN_RCVD: wait for the handshake. */
	if (c->snd_una == c->iss)
		goto ack_only;

	for (;;) {
		off = c->snd_nxt - c->snd_una;
		if (off > c->sndq_len)
			break;                  /* only the FIN is beyond */
		unsent = c->sndq_len - off;
		wnd = c->cwnd + c->lt_allow;
		if (c->snd_wnd < wnd)
			wnd = c->snd_wnd;
		flight = tcp_in_flight(c);
		usable = wnd > flight ? wnd - flight : 0;
		seg = tcp_seg_size(c);
		len = unsent < seg ? unsent : seg;
		if (len > usable)
			len = usable;
		fin = (c->flags & TCPF_FIN_QUEUED) &&
		      !(c->flags & (TCPF_FIN_SENT | TCPF_FIN_ACKED)) &&
		      len == unsent;
		if (len == 0 && !fin)
			break;
		/* Sender SWS avoidance: a short segment while more waits
		 * only when nothing is in flight to clock out the rest. */
		if (len < seg && len < unsent && flight > 0)
			break;
		flags = RTE_TCP_ACK_FLAG;
		if (len > 0 && len == unsent)
			flags |= RTE_TCP_PSH_FLAG;
		if (fin)
			flags |= RTE_TCP_FIN_FLAG;
		if (SEQ_LT(c->snd_nxt, c->snd_max))
			dpc_inc(&c->nl->cnt, DPC_tcp_retransmits);
		else if (!(c->flags & (TCPF_TS | TCPF_RTT_TIMING)) && len > 0) {
			/* Karn: time only new data. */
			c->flags |= TCPF_RTT_TIMING;
			c->rtt_seq = c->snd_nxt;
			c->rtt_start = ts->now_ms;
		}
		if (tcp_xmit(c, flags, c->snd_nxt, len) != 0)
			break;
		c->snd_nxt += len + (fin ? 1 : 0);
		if (fin)
			c->flags |= TCPF_FIN_SENT;
		if (SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (!c->timers[TCP_T_RTX].armed || (c->flags & TCPF_PERSIST)) {
			c->flags &= ~TCPF_PERSIST;
			tcp_arm_rtx(c);
		}
		sent = true;
		if (fin)
			break;
	}

	/* Data waits behind a zero window with nothing in flight: probe. */
	if (!sent && c->snd_wnd == 0 && tcp_in_flight(c) == 0 &&
	    (c->sndq_len > c->snd_nxt - c->snd_una ||
	     ((c->flags & TCPF_FIN_QUEUED) &&
	      !(c->flags & (TCPF_FIN_SENT | TCPF_FIN_ACKED)))) &&
	    !(c->flags & TCPF_PERSIST)) {
		c->flags |= TCPF_PERSIST;
		c->retries = 0;
		tcp_arm_rtx(c);
	}
	if (sent)
		return 0;
ack_only:
	if (c->flags & TCPF_ACK_NOW)
		tcp_send_ack(c);
	return 0;
}

/* Drop `acked` bytes from the head of the send queue. */
void
tcp_sndq_ack(struct tcp_conn *c, uint32_t acked)
{
	struct rte_mbuf *m;
	uint32_t avail;

	if (acked > c->sndq_len)
		acked = c->sndq_len;
	c->sndq_len -= acked;
	while (acked > 0 && (m = c->sndq_head) != NULL) {
		avail = m->data_len - c->sndq_off;
		if (acked < avail) {
			c->sndq_off = (uint16_t)(c->sndq_off + acked);
			return;
		}
		acked -= avail;
		c->sndq_head = m->next;
		if (c->sndq_cur == m)
			c->sndq_cur = NULL;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		c->sndq_off = 0;
	}
	if (c->sndq_head == NULL)
		c->sndq_tail = NULL;
}

uint32_t
tcp_send_space(const struct tcp_conn *c)
{
	return c->sndq_len < c->snd_buf ? c->snd_buf - c->sndq_len : 0;
}

int
tcp_send(struct tcp_conn *c, const void *data, size_t len)
{
	const uint8_t *src = data;
	struct rte_mbuf *m;
	uint32_t n, room, chunk, done = 0;

	if (c->flags & TCPF_FIN_QUEUED)
		return -EPIPE;
	if (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT)
		return -ENOTCONN;
	n = tcp_send_space(c);
	if (len < n)
		n = (uint32_t)len;
	if (n < len)
		c->flags |= TCPF_WANT_WRITE;
	while (done < n) {
		m = c->sndq_tail;
		room = m != NULL ? rte_pktmbuf_tailroom(m) : 0;
		if (room == 0) {
			m = rte_pktmbuf_alloc(c->nl->pool);
			if (m == NULL) {
				dpc_inc(&c->nl->cnt, DPC_tcp_nomem);
				c->flags |= TCPF_WANT_WRITE;
				break;
			}
			if (c->sndq_tail != NULL)
				c->sndq_tail->next = m;
			else
				c->sndq_head = m;
			c->sndq_tail = m;
			room = rte_pktmbuf_tailroom(m);
		}
		chunk = n - done < room ? n - done : room;
		memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len),
		       src + done, chunk);
		m->data_len = (uint16_t)(m->data_len + chunk);
		m->pkt_len = m->data_len;
		done += chunk;
	}
	c->sndq_len += done;
	if (done > 0) {
		struct tcp_stack *ts = tcp_stack(c->nl);

		if (!ts->cork)
			tcp_output(c);
		else if (!(c->flags & TCPF_CORKED)) {
			c->flags |= TCPF_CORKED;
			TAILQ_INSERT_TAIL(&ts->corked, c, cork_link);
		}
	}
	return (int)done;
}

void
tcp_cork(struct net_lcore *nl)
{
	tcp_stack(nl)->cork = true;
}

void
tcp_uncork(struct net_lcore *nl)
{
	struct tcp_stack *ts = tcp_stack(nl);
	struct tcp_conn *c;

	ts->cork = false;
	while ((c = TAILQ_FIRST(&ts->corked)) != NULL) {
		TAILQ_REMOVE(&ts->corked, c, cork_link);
		c->flags &= ~TCPF_CORKED;
		tcp_output(c);
	}
	tcp_conn_reap(ts);
}

void
tcp_recved(struct tcp_conn *c, uint32_t n)
{
	uint32_t before = c->rcv_adv, after;

	c->rcv_unread = n < c->rcv_unread ? c->rcv_unread - n : 0;
	if (c->state == TCP_CLOSED || c->state == TCP_TIME_WAIT ||
	    (c->flags & TCPF_PEER_FIN))
		return;
	/* Window update once it opens by two segments or half the buffer
	 * (RFC 9293 3.8.6.2.2), so a blocked sender restarts promptly. */
	after = c->rcv_nxt + tcp_rcv_window(c);
	if (SEQ_GT(after, before) &&
	    (after - before >= 2u * c->mss || after - before >= c->rcv_buf / 2)) {
		/* Inside input processing one ACK goes out at its end. */
		if (tcp_stack(c->nl)->in_input == c)
			c->flags |= TCPF_ACK_NOW;
		else
			tcp_send_ack(c);
	}
}

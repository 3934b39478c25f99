/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP input: segment validation, option parsing, passive open, and the
 * SEGMENT ARRIVES processing of RFC 9293 3.10.7 with RFC 5961 (blind
 * attacks), RFC 7323 (PAWS), RFC 5681/6582 (congestion, NewReno), RFC 2018
 * (SACK blocks we report) and the out-of-order queue.
 */
#include <errno.h>
#include <string.h>

#include "tcp_impl.h"

#define PAWS_IDLE_MS      (24ull * 24 * 3600 * 1000)    /* RFC 7323 5.5 */

/* Returns 0, or -EINVAL when an option overruns the header. */
static int
tcp_parse_opts(const uint8_t *p, unsigned int len, struct tcp_opts *o)
{
	unsigned int i = 0, olen, b;
	uint32_t v;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		if (p[i] == TCPOPT_EOL)
			break;
		if (p[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -EINVAL;
		olen = p[i + 1];
		if (olen < 2 || i + olen > len)
			return -EINVAL;
		/* A known option with the wrong length is ignored, as Linux
		 * does; only overruns make the segment invalid. */
		switch (p[i]) {
		case TCPOPT_MSS:
			if (olen == 4) {
				o->has_mss = 1;
				o->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
			}
			break;
		case TCPOPT_WSCALE:
			if (olen == 3) {
				o->has_wscale = 1;
				o->wscale = p[i + 2] > TCP_WSCALE_MAX ?
					    TCP_WSCALE_MAX : p[i + 2];
			}
			break;
		case TCPOPT_SACK_PERM:
			if (olen == 2)
				o->sack_ok = 1;
			break;
		case TCPOPT_TS:
			if (olen == 10) {
				o->has_ts = 1;
				memcpy(&v, &p[i + 2], 4);
				o->tsval = rte_be_to_cpu_32(v);
				memcpy(&v, &p[i + 6], 4);
				o->tsecr = rte_be_to_cpu_32(v);
			}
			break;
		case TCPOPT_SACK:
			if (olen >= 10 && (olen - 2) % 8 == 0) {
				o->nb_sack = (uint8_t)((olen - 2) / 8);
				if (o->nb_sack > TCP_SACK_BLOCKS_MAX)
					o->nb_sack = TCP_SACK_BLOCKS_MAX;
				for (b = 0; b < o->nb_sack; b++) {
					memcpy(&v, &p[i + 2 + 8 * b], 4);
					o->sack[b][0] = rte_be_to_cpu_32(v);
					memcpy(&v, &p[i + 6 + 8 * b], 4);
					o->sack[b][1] = rte_be_to_cpu_32(v);
				}
			}
			break;
		default:
			break;
		}
		i += olen;
	}
	return 0;
}

/* Negotiated parameters from the peer's SYN (either direction). */
void
tcp_apply_syn_opts(struct tcp_conn *c, const struct tcp_opts *o,
		   uint16_t raw_wnd)
{
	uint16_t mss_cap = tcp_mss_for(c->nl, c->port);

	c->peer_mss = o->has_mss ? o->mss : TCP_MSS_DEFAULT;
	if (c->peer_mss < 64)
		c->peer_mss = 64;       /* absurd values would mean 1-byte segs */
	c->mss = c->peer_mss < mss_cap ? c->peer_mss : mss_cap;
	if (o->has_wscale) {
		c->flags |= TCPF_WSCALE;
		c->snd_wscale = o->wscale;
	} else {
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
		if (c->rcv_buf > 65535)
			c->rcv_buf = 65535;
	}
	if (o->sack_ok)
		c->flags |= TCPF_SACK;
	if (o->has_ts) {
		c->flags |= TCPF_TS;
		c->ts_recent = o->tsval;
		c->ts_recent_age = tcp_now(c);
		c->mss -= 12;           /* every segment carries 12 bytes */
	}
	c->snd_wnd = raw_wnd;           /* never scaled in a SYN */
	c->max_snd_wnd = c->snd_wnd;
}

static void
tcp_established(struct tcp_conn *c)
{
	tcp_cc_init(c);
	c->retries = 0;
	tcp_set_state(c, TCP_ESTABLISHED);
	dpc_inc(&c->nl->cnt, DPC_tcp_established);
	if (c->ka_idle_ms)
		tcp_timer_arm(tcp_stack(c->nl), c, TCP_T_IDLE, c->ka_idle_ms);
}

/* Call the app's established hook; false when it refused (c reset). */
static bool
tcp_notify_established(struct tcp_conn *c)
{
	if (c->ops != NULL && c->ops->established != NULL &&
	    c->ops->established(c) != 0) {
		tcp_abort(c);
		return false;
	}
	return c->state != TCP_CLOSED;
}

static void
tcp_challenge_ack(struct tcp_conn *c)
{
	struct tcp_stack *ts = tcp_stack(c->nl);

	/* RFC 5961 7: a per-lcore budget per second, so a flood of forged
	 * RSTs/SYNs cannot turn the appliance into an ACK amplifier. */
	if (ts->now_ms - ts->challenge_epoch >= 1000) {
		ts->challenge_epoch = ts->now_ms;
		ts->challenge_left = ts->p.challenge_acks_per_s;
	}
	if (ts->challenge_left == 0) {
		dpc_inc(&c->nl->cnt, DPC_tcp_challenge_limited);
		return;
	}
	ts->challenge_left--;
	dpc_inc(&c->nl->cnt, DPC_tcp_challenge_acks);
	tcp_send_ack(c);
}

static void
tcp_enter_time_wait(struct tcp_conn *c)
{
	struct tcp_stack *ts = tcp_stack(c->nl);

	tcp_set_state(c, TCP_TIME_WAIT);
	tcp_tw_add(ts, c);
	tcp_timer_cancel(ts, c, TCP_T_RTX);
	tcp_timer_cancel(ts, c, TCP_T_DELACK);
	tcp_timer_arm(ts, c, TCP_T_IDLE, ts->p.time_wait_ms);
	/* The application is done with it; the object lingers silently to
	 * absorb old duplicates and re-ACK a lost final ACK. */
	if (!(c->flags & TCPF_NOTIFIED)) {
		c->flags |= TCPF_NOTIFIED;
		if (c->ops != NULL && c->ops->closed != NULL)
			c->ops->closed(c, 0);
	}
	if (c->sndq_head != NULL) {
		rte_pktmbuf_free(c->sndq_head);
		c->sndq_head = c->sndq_tail = c->sndq_cur = NULL;
		c->sndq_len = 0;
	}
}

/* Rebuild the SACK blocks we report from the out-of-order queue; the block
 * holding `latest` goes first (RFC 2018 4). */
static void
tcp_update_sack(struct tcp_conn *c, uint32_t latest)
{
	uint32_t blocks[TCP_OOO_MAX][2];
	unsigned int nb = 0, i, first = 0;

	for (i = 0; i < c->nb_ooo; i++) {
		uint32_t s = c->ooo[i]->hash.usr;
		uint32_t e = s + c->ooo[i]->pkt_len;

		if (nb > 0 && blocks[nb - 1][1] == s) {
			blocks[nb - 1][1] = e;
		} else {
			blocks[nb][0] = s;
			blocks[nb][1] = e;
			nb++;
		}
	}
	for (i = 0; i < nb; i++)
		if (SEQ_LEQ(blocks[i][0], latest) && SEQ_LT(latest, blocks[i][1]))
			first = i;
	c->nb_sack_out = 0;
	if (!(c->flags & TCPF_SACK) || nb == 0)
		return;
	c->sack_out[0][0] = blocks[first][0];
	c->sack_out[0][1] = blocks[first][1];
	c->nb_sack_out = 1;
	for (i = 0; i < nb && c->nb_sack_out < TCP_SACK_BLOCKS_MAX; i++) {
		if (i == first)
			continue;
		c->sack_out[c->nb_sack_out][0] = blocks[i][0];
		c->sack_out[c->nb_sack_out][1] = blocks[i][1];
		c->nb_sack_out++;
	}
}

/* Queue an out-of-order payload m covering [seq, seq + len). Consumes m. */
static void
tcp_ooo_insert(struct tcp_conn *c, struct rte_mbuf *m, uint32_t seq)
{
	uint32_t len = m->pkt_len, end = seq + len;
	unsigned int i, pos;

	for (pos = 0; pos < c->nb_ooo; pos++) {
		uint32_t os = c->ooo[pos]->hash.usr;
		uint32_t oe = os + c->ooo[pos]->pkt_len;

		if (SEQ_LEQ(oe, seq))
			continue;
		if (SEQ_GEQ(os, end))
			break;
		if (SEQ_LEQ(os, seq) && SEQ_GEQ(oe, end)) {
			dpc_inc(&c->nl->cnt, DPC_tcp_dup_segments);
			rte_pktmbuf_free(m);
			return;
		}
		if (SEQ_LT(seq, os)) {
			/* Keep our head up to os; the rest is either held
			 * already or comes again. */
			rte_pktmbuf_trim(m, (uint16_t)(end - os));
			end = os;
			break;
		}
		/* os <= seq < oe < end: drop our overlapping head. */
		rte_pktmbuf_adj(m, (uint16_t)(oe - seq));
		seq = oe;
	}
	len = end - seq;
	if (len == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	/* Contiguous runs share one slot as an mbuf chain, so the queue is
	 * bounded by the number of holes rather than of segments. */
	if (pos > 0 && c->ooo[pos - 1]->hash.usr +
	    c->ooo[pos - 1]->pkt_len == seq &&
	    rte_pktmbuf_chain(c->ooo[pos - 1], m) == 0) {
		if (pos < c->nb_ooo && c->ooo[pos]->hash.usr == end &&
		    rte_pktmbuf_chain(c->ooo[pos - 1], c->ooo[pos]) == 0) {
			memmove(&c->ooo[pos], &c->ooo[pos + 1],
				(c->nb_ooo - pos - 1) * sizeof(c->ooo[0]));
			c->nb_ooo--;
		}
		goto queued;
	}
	if (pos < c->nb_ooo && c->ooo[pos]->hash.usr == end &&
	    rte_pktmbuf_chain(m, c->ooo[pos]) == 0) {
		m->hash.usr = seq;
		c->ooo[pos] = m;
		goto queued;
	}
	if (c->nb_ooo == TCP_OOO_MAX) {
		dpc_inc(&c->nl->cnt, DPC_tcp_ooo_dropped);
		rte_pktmbuf_free(m);
		return;
	}
	for (i = c->nb_ooo; i > pos; i--)
		c->ooo[i] = c->ooo[i - 1];
	m->hash.usr = seq;
	c->ooo[pos] = m;
	c->nb_ooo++;
queued:
	c->ooo_bytes += len;
	dpc_inc(&c->nl->cnt, DPC_tcp_ooo_segments);
	tcp_update_sack(c, seq);
}

/* Drop the first n bytes of a (possibly chained) payload; n < pkt_len. */
static struct rte_mbuf *
tcp_mbuf_cut_head(struct rte_mbuf *m, uint32_t n)
{
	struct rte_mbuf *next;

	while (n >= m->data_len && m->next != NULL) {
		next = m->next;
		next->pkt_len = m->pkt_len - m->data_len;
		next->nb_segs = (uint16_t)(m->nb_segs - 1);
		n -= m->data_len;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	if (n > 0)
		rte_pktmbuf_adj(m, (uint16_t)n);
	return m;
}

/* Hand in-order payload to the application. Consumes m. */
static void
tcp_deliver(struct tcp_conn *c, struct rte_mbuf *m)
{
	uint32_t len = m->pkt_len;

	c->rcv_nxt += len;
	c->rcv_unread += len;
	dpc_add(&c->nl->cnt, DPC_tcp_bytes_in, len);
	if (c->ops != NULL && c->ops->recv != NULL &&
	    !(c->flags & TCPF_NOTIFIED))
		c->ops->recv(c, m);
	else
		rte_pktmbuf_free(m);
}

/* After rcv_nxt advanced: deliver what the out-of-order queue now
 * continues. Returns true when anything was taken from it. */
static bool
tcp_ooo_drain(struct tcp_conn *c)
{
	bool took = false;

	while (c->nb_ooo > 0 && c->state != TCP_CLOSED) {
		struct rte_mbuf *m = c->ooo[0];
		uint32_t s = m->hash.usr, len = m->pkt_len;

		if (SEQ_GT(s, c->rcv_nxt))
			break;
		memmove(&c->ooo[0], &c->ooo[1], (c->nb_ooo - 1) *
			sizeof(c->ooo[0]));
		c->nb_ooo--;
		c->ooo_bytes -= len;
		took = true;
		if (SEQ_LEQ(s + len, c->rcv_nxt)) {
			rte_pktmbuf_free(m);
			continue;
		}
		m = tcp_mbuf_cut_head(m, c->rcv_nxt - s);
		tcp_deliver(c, m);
	}
	if (took)
		tcp_update_sack(c, c->rcv_nxt);
	return took;
}

/* Record the peer's SACK blocks (RFC 2018) in the scoreboard and drop what
 * snd_una passed. Blocks outside (SND.UNA, SND.MAX] are ignored (they
 * could only be stale or forged: RFC 6675 5). */
static void
tcp_sack_update(struct tcp_conn *c, const struct tcp_opts *o)
{
	uint32_t r[TCP_SCORE_MAX + TCP_SACK_BLOCKS_MAX][2];
	unsigned int n = 0, i, j, k;

	for (i = 0; i < c->nb_sacked; i++) {
		if (SEQ_LEQ(c->sacked[i][1], c->snd_una))
			continue;
		r[n][0] = SEQ_LT(c->sacked[i][0], c->snd_una) ? c->snd_una :
			  c->sacked[i][0];
		r[n][1] = c->sacked[i][1];
		n++;
	}
	for (i = 0; i < o->nb_sack; i++) {
		uint32_t s = o->sack[i][0], e = o->sack[i][1];

		if (!SEQ_LT(s, e) || SEQ_LEQ(e, c->snd_una) ||
		    SEQ_GT(e, c->snd_max))
			continue;
		if (SEQ_LT(s, c->snd_una))
			s = c->snd_una;
		/* insertion sort by start */
		for (j = n; j > 0 && SEQ_GT(r[j - 1][0], s); j--) {
			r[j][0] = r[j - 1][0];
			r[j][1] = r[j - 1][1];
		}
		r[j][0] = s;
		r[j][1] = e;
		n++;
	}
	/* merge overlapping or touching ranges */
	k = 0;
	c->sacked_bytes = 0;
	for (i = 0; i < n; i++) {
		if (k > 0 && SEQ_LEQ(r[i][0], c->sacked[k - 1][1])) {
			if (SEQ_GT(r[i][1], c->sacked[k - 1][1]))
				c->sacked[k - 1][1] = r[i][1];
			continue;
		}
		if (k == TCP_SCORE_MAX)
			break;          /* keep the lowest ranges: holes first */
		c->sacked[k][0] = r[i][0];
		c->sacked[k][1] = r[i][1];
		k++;
	}
	c->nb_sacked = (uint8_t)k;
	for (i = 0; i < k; i++)
		c->sacked_bytes += c->sacked[i][1] - c->sacked[i][0];
}

/* In recovery: resend the next hole the scoreboard shows, once; without
 * one, send new data the (inflated) window allows. */
static void
tcp_recovery_send(struct tcp_conn *c)
{
	uint32_t start, len;

	if (SEQ_LT(c->rtx_next, c->snd_una))
		c->rtx_next = c->snd_una;
	if (tcp_next_hole(c, c->rtx_next, &start, &len)) {
		tcp_retransmit_range(c, start, len);
		c->rtx_next = start + len;
		c->rtx_lapped = 0;
		return;
	}
	/* Every hole was resent, yet three more segments arrived above the
	 * first one and it is still missing: its retransmission was lost
	 * too (the case RACK catches by time). Go round again rather than
	 * wait for the RTO. */
	if (++c->rtx_lapped >= 3 && tcp_next_hole(c, c->snd_una, &start, &len)) {
		c->rtx_lapped = 0;
		tcp_retransmit_range(c, start, len);
		c->rtx_next = start + len;
		return;
	}
	tcp_output(c);
}

/* Congestion control on an ACK that advanced snd_una by `acked`. */
static void
tcp_cc_ack(struct tcp_conn *c, uint32_t ack, uint32_t acked)
{
	c->lt_allow = 0;
	if (c->flags & TCPF_IN_RECOVERY) {
		if (SEQ_GEQ(ack, c->recover)) {
			/* RFC 6582 3.2 step 3: full ACK, deflate. */
			uint32_t flight = c->snd_max - ack;

			c->cwnd = c->ssthresh < flight + c->mss ? c->ssthresh :
				  flight + c->mss;
			c->flags &= ~TCPF_IN_RECOVERY;
		} else {
			/* Step 4: partial ACK, the next hole is lost too;
			 * unless the scoreboard already had it resent. */
			if (SEQ_LEQ(c->rtx_next, c->snd_una))
				tcp_retransmit_una(c);
			c->rtx_next = c->snd_una +
				(c->sndq_len < tcp_seg_size(c) ? c->sndq_len :
				 tcp_seg_size(c));
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			if (acked >= c->mss)
				c->cwnd += c->mss;
			if (c->cwnd < c->mss)
				c->cwnd = c->mss;
			tcp_recovery_send(c);
		}
		return;
	}
	tcp_cc_ack_open(c, acked);
}

static void
tcp_fast_retransmit(struct tcp_conn *c)
{
	/* RFC 6582 3.2 step 2, with CUBIC's ssthresh (RFC 9438 4.6). */
	tcp_cc_loss(c, false);
	c->recover = c->snd_max;
	c->cwnd = c->ssthresh + 3u * c->mss;
	c->lt_allow = 0;
	c->flags |= TCPF_IN_RECOVERY;
	c->flags &= ~TCPF_RTT_TIMING;
	dpc_inc(&c->nl->cnt, DPC_tcp_fast_retransmits);
	tcp_retransmit_una(c);
	c->rtx_next = c->snd_una + (c->sndq_len < tcp_seg_size(c) ?
				    c->sndq_len : tcp_seg_size(c));
	tcp_arm_rtx(c);
}

/* The ACK field of a segment in a synchronized state. Returns false when
 * the segment must not be processed further. */
static bool
tcp_process_ack(struct tcp_conn *c, const struct rte_tcp_hdr *th,
		const struct tcp_opts *o, uint32_t seq, uint32_t ack,
		uint32_t plen)
{
	struct tcp_stack *ts = tcp_stack(c->nl);
	uint32_t wnd = (uint32_t)rte_be_to_cpu_16(th->rx_win) << c->snd_wscale;
	uint32_t acked, data_acked, sacked_before;
	bool fin_acked = false, wnd_changed;

	/* RFC 5961 5.2: an ACK outside [SND.UNA - MAX.SND.WND, SND.NXT]. */
	if (SEQ_GT(ack, c->snd_max)) {
		dpc_inc(&c->nl->cnt, DPC_tcp_ack_unsent);
		tcp_send_ack(c);
		return false;
	}
	if (SEQ_LT(ack, c->snd_una - c->max_snd_wnd)) {
		tcp_challenge_ack(c);
		return false;
	}

	if (SEQ_GT(ack, c->snd_una))
		c->flags &= ~TCPF_TLP_SENT;     /* a new flight */
	sacked_before = c->sacked_bytes;
	if (c->flags & TCPF_SACK) {
		uint32_t una = c->snd_una;

		/* Prune against the new snd_una, then add the blocks. */
		if (SEQ_GT(ack, una))
			c->snd_una = ack;
		tcp_sack_update(c, o);
		c->snd_una = una;
	}

	if (SEQ_GT(ack, c->snd_una)) {
		acked = ack - c->snd_una;
		if ((c->flags & TCPF_TS) && o->has_ts && o->tsecr != 0 &&
		    (uint32_t)ts->now_ms - o->tsecr < 600000)
			tcp_rtt_sample(c, (uint32_t)ts->now_ms - o->tsecr);
		else if ((c->flags & TCPF_RTT_TIMING) &&
			 SEQ_GT(ack, c->rtt_seq)) {
			tcp_rtt_sample(c, (uint32_t)(ts->now_ms - c->rtt_start));
			c->flags &= ~TCPF_RTT_TIMING;
		}
		data_acked = acked < c->sndq_len ? acked : c->sndq_len;
		/* Our FIN sits right after the data. It counts as sent once
		 * snd_max passed it, whatever an RTO did to FIN_SENT since:
		 * the peer may ACK the first FIN after we rewound. */
		if ((c->flags & TCPF_FIN_QUEUED) &&
		    !(c->flags & TCPF_FIN_ACKED) && acked > c->sndq_len) {
			fin_acked = true;
			c->flags |= TCPF_FIN_ACKED | TCPF_FIN_SENT;
		}
		tcp_sndq_ack(c, data_acked);
		c->snd_una = ack;
		if (SEQ_LT(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		c->retries = 0;
		tcp_cc_ack(c, ack, acked);
		c->dupacks = 0;
		if (c->snd_una == c->snd_max)
			tcp_timer_cancel(ts, c, TCP_T_RTX);
		else
			tcp_arm_rtx(c);         /* RFC 6298 5.3 */
	} else if (ack == c->snd_una && plen == 0 &&
		   !(th->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) &&
		   c->snd_max != c->snd_una &&
		   ((c->flags & TCPF_SACK) ? c->sacked_bytes > sacked_before :
		    wnd == c->snd_wnd)) {
		/* RFC 5681 2: a duplicate ACK. With SACK it is one only when
		 * it reports data not SACKed before (RFC 6675 2), whatever
		 * the window did (Linux shrinks it while it buffers data
		 * after a hole): a duplicated or reordered ACK frame must
		 * not trigger a spurious fast retransmit. */
		c->dupacks++;
		if (c->flags & TCPF_IN_RECOVERY) {
			/* Each one means a segment left the network: inflate
			 * (RFC 6582 step 3) and fill the next hole. */
			c->cwnd += c->mss;
			c->snd_wnd = wnd;
			tcp_recovery_send(c);
		} else if (c->dupacks >= 3 ||
			   c->sacked_bytes >= 3u * c->mss ||
			   ((c->flags & TCPF_TLP_SENT) && c->nb_sacked > 0)) {
			/* After a tail loss probe, one SACK above a hole is
			 * the signal the probe was sent to draw (RFC 8985
			 * 7.4): recover now. */
			if (SEQ_GEQ(ack, c->recover))
				tcp_fast_retransmit(c);
		} else if (c->dupacks <= 2) {
			/* Limited transmit (RFC 3042): new data keeps the
			 * ACK clock going in small windows. */
			c->lt_allow = (uint32_t)c->dupacks * c->mss;
		}
	}

	/* Window update (RFC 9293 3.10.7.4, fifth check). */
	if (SEQ_LT(c->snd_wl1, seq) ||
	    (c->snd_wl1 == seq && SEQ_LEQ(c->snd_wl2, ack))) {
		wnd_changed = wnd != c->snd_wnd;
		c->snd_wnd = wnd;
		c->snd_wl1 = seq;
		c->snd_wl2 = ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		if (wnd_changed && wnd > 0 && (c->flags & TCPF_PERSIST)) {
			c->flags &= ~TCPF_PERSIST;
			c->retries = 0;
			tcp_timer_cancel(ts, c, TCP_T_RTX);
		}
	}

	if ((c->flags & TCPF_WANT_WRITE) && tcp_send_space(c) > 0 &&
	    c->ops != NULL && c->ops->writable != NULL) {
		c->flags &= ~TCPF_WANT_WRITE;
		c->ops->writable(c);
		if (c->state == TCP_CLOSED)
			return false;
	}

	if (fin_acked) {
		switch (c->state) {
		case TCP_FIN_WAIT_1:
			tcp_set_state(c, TCP_FIN_WAIT_2);
			tcp_timer_arm(ts, c, TCP_T_IDLE, ts->p.fin_wait2_ms);
			break;
		case TCP_CLOSING:
			tcp_enter_time_wait(c);
			break;
		case TCP_LAST_ACK:
			tcp_conn_drop(c, 0);
			return false;
		default:
			break;
		}
	}
	return true;
}

/* SYN_SENT (RFC 9293 3.10.7.3). */
static void
tcp_input_syn_sent(struct tcp_conn *c, const struct rte_ipv4_hdr *ip,
		   const struct rte_tcp_hdr *th, const struct tcp_opts *o,
		   uint32_t seq, uint32_t ack, uint32_t seg_len)
{
	uint8_t fl = th->tcp_flags;

	if ((fl & RTE_TCP_ACK_FLAG) &&
	    (SEQ_LEQ(ack, c->iss) || SEQ_GT(ack, c->snd_max))) {
		if (!(fl & RTE_TCP_RST_FLAG))
			tcp_send_reset(c->nl, c->port, ip, th, seg_len);
		return;
	}
	if (fl & RTE_TCP_RST_FLAG) {
		if (fl & RTE_TCP_ACK_FLAG) {
			dpc_inc(&c->nl->cnt, DPC_tcp_resets_in);
			tcp_conn_drop(c, -ECONNREFUSED);
		}
		return;
	}
	if (!(fl & RTE_TCP_SYN_FLAG))
		return;
	c->irs = seq;
	c->rcv_nxt = seq + 1;
	c->rcv_adv = c->rcv_nxt;
	tcp_apply_syn_opts(c, o, rte_be_to_cpu_16(th->rx_win));
	c->snd_wl1 = seq;
	c->snd_wl2 = ack;
	if (!(fl & RTE_TCP_ACK_FLAG)) {
		/* Simultaneous open: answer with SYN-ACK (same ISS). */
		tcp_set_state(c, TCP_SYN_RCVD);
		tcp_send_syn(c);
		tcp_arm_rtx(c);
		return;
	}
	c->snd_una = ack;
	tcp_timer_cancel(tcp_stack(c->nl), c, TCP_T_RTX);
	tcp_established(c);
	c->flags |= TCPF_ACK_NOW;
	if (!tcp_notify_established(c))
		return;
	tcp_output(c);
}

/* A SYN for a listener: create the connection in SYN_RCVD. */
static void
tcp_passive_open(struct net_lcore *nl, uint16_t port, struct tcp_listener *l,
		 const struct tcp_key *k, const struct rte_tcp_hdr *th,
		 const struct tcp_opts *o, uint32_t seq)
{
	struct tcp_stack *ts = tcp_stack(nl);
	struct tcp_conn *c;

	if (l->nb_syn_rcvd >= ts->p.syn_backlog) {
		/* Full: answer statelessly rather than drop (a SYN flood
		 * cannot lock legitimate clients out). */
		dpc_inc(&nl->cnt, DPC_tcp_backlog_full);
		tcp_syncookie_send(nl, port, l, k, th, o, seq);
		return;
	}
	c = tcp_conn_new(nl, k, port);
	if (c == NULL)
		return;
	c->listener = l;
	c->ops = l->ops;
	c->flags |= TCPF_PASSIVE;
	c->irs = seq;
	c->rcv_nxt = seq + 1;
	c->rcv_adv = c->rcv_nxt;
	tcp_apply_syn_opts(c, o, rte_be_to_cpu_16(th->rx_win));
	c->iss = tcp_isn(ts, k);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->recover = c->iss;            /* RFC 6582 3.2 step 1 */
	c->snd_wl1 = seq;
	tcp_set_state(c, TCP_SYN_RCVD);
	dpc_inc(&nl->cnt, DPC_tcp_passive_opens);
	tcp_send_syn(c);
	tcp_arm_rtx(c);
}

/* RFC 9293 3.10.7.4 first check. */
static bool
tcp_acceptable(const struct tcp_conn *c, uint32_t seq, uint32_t seg_len)
{
	uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ?
		       c->rcv_adv - c->rcv_nxt : 0;

	if (seg_len == 0) {
		if (wnd == 0)
			return seq == c->rcv_nxt;
		return SEQ_LEQ(c->rcv_nxt, seq) &&
		       SEQ_LT(seq, c->rcv_nxt + wnd);
	}
	if (wnd == 0)
		return false;
	return (SEQ_LEQ(c->rcv_nxt, seq) && SEQ_LT(seq, c->rcv_nxt + wnd)) ||
	       (SEQ_LEQ(c->rcv_nxt, seq + seg_len - 1) &&
		SEQ_LT(seq + seg_len - 1, c->rcv_nxt + wnd));
}

/* Synchronized states. Consumes m (payload only). */
static void
tcp_input_sync(struct tcp_conn *c, struct rte_mbuf *m,
	       const struct rte_ipv4_hdr *ip, const struct rte_tcp_hdr *th,
	       const struct tcp_opts *o, uint32_t seq, uint32_t ack)
{
	struct tcp_stack *ts = tcp_stack(c->nl);
	uint8_t fl = th->tcp_flags;
	uint32_t plen = m->pkt_len, wnd, seg_len, cut;
	bool fin = (fl & RTE_TCP_FIN_FLAG) != 0;

	/* Simultaneous open (RFC 9293 figure 7): in SYN_RCVD the peer's
	 * SYN-ACK repeats its SYN; what matters is the ACK it carries. */
	if (c->state == TCP_SYN_RCVD && !(c->flags & TCPF_PASSIVE) &&
	    (fl & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) ==
	    (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG) && seq == c->irs) {
		fl &= (uint8_t)~RTE_TCP_SYN_FLAG;
		seq++;
	}
	seg_len = plen + ((fl & RTE_TCP_SYN_FLAG) ? 1 : 0) + (fin ? 1 : 0);

	/* PAWS (RFC 7323 5.3). A reordered pure duplicate ACK is let
	 * through as Linux does (tcp_disordered_ack): dropping it would lose
	 * its SACK blocks and nothing in it can corrupt the stream. */
	if ((c->flags & TCPF_TS) && o->has_ts && !(fl & RTE_TCP_RST_FLAG) &&
	    SEQ_LT(o->tsval, c->ts_recent) &&
	    ts->now_ms - c->ts_recent_age < PAWS_IDLE_MS &&
	    !(plen == 0 && !(fl & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG)) &&
	      (fl & RTE_TCP_ACK_FLAG) && seq == c->rcv_nxt &&
	      ack == c->snd_una)) {
		dpc_inc(&c->nl->cnt, DPC_tcp_paws_drops);
		tcp_send_ack(c);
		goto free;
	}

	if (!tcp_acceptable(c, seq, seg_len)) {
		wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ?
		      c->rcv_adv - c->rcv_nxt : 0;
		/* A zero window still takes ACKs and RSTs at RCV.NXT. */
		if (!(wnd == 0 && seq == c->rcv_nxt)) {
			/* Entirely old data (a duplicate or a spurious
			 * retransmission) is not "out of window" for the
			 * operator: count it for what it is. */
			if (plen > 0 && SEQ_LEQ(seq + seg_len, c->rcv_nxt))
				dpc_inc(&c->nl->cnt, DPC_tcp_dup_segments);
			else
				dpc_inc(&c->nl->cnt, DPC_tcp_out_of_window);
			if (!(fl & RTE_TCP_RST_FLAG))
				tcp_send_ack(c);
			goto free;
		}
		rte_pktmbuf_trim(m, (uint16_t)plen);
		if (plen > 0 || fin)
			c->flags |= TCPF_ACK_NOW;       /* a window probe */
		plen = 0;
		fin = false;
	}

	/* RST (RFC 5961 3.2): exact match resets, in-window challenges. */
	if (fl & RTE_TCP_RST_FLAG) {
		if (seq == c->rcv_nxt) {
			dpc_inc(&c->nl->cnt, DPC_tcp_resets_in);
			tcp_conn_drop(c, (c->state == TCP_SYN_RCVD &&
					  (c->flags & TCPF_PASSIVE)) ?
					 -ECONNREFUSED : -ECONNRESET);
		} else {
			tcp_challenge_ack(c);
		}
		goto free;
	}

	/* SYN in a synchronized state (RFC 5961 4.2). A retransmitted SYN
	 * while we are in SYN_RCVD means our SYN-ACK was lost. */
	if (fl & RTE_TCP_SYN_FLAG) {
		if (c->state == TCP_SYN_RCVD && seq == c->irs) {
			tcp_send_syn(c);
			goto free;
		}
		tcp_challenge_ack(c);
		goto free;
	}

	if (!(fl & RTE_TCP_ACK_FLAG))
		goto free;

	/* Timestamp to echo (RFC 7323 4.3): the segment covers
	 * Last.ACK.sent. */
	if ((c->flags & TCPF_TS) && o->has_ts &&
	    SEQ_LEQ(seq, c->last_ack_sent) &&
	    SEQ_LEQ(c->last_ack_sent, seq + seg_len)) {
		c->ts_recent = o->tsval;
		c->ts_recent_age = ts->now_ms;
	}

	if (c->state == TCP_SYN_RCVD) {
		if (!(SEQ_GT(ack, c->snd_una) && SEQ_LEQ(ack, c->snd_max))) {
			tcp_send_reset(c->nl, c->port, ip, th, seg_len);
			goto free;
		}
		c->snd_una = ack;
		c->snd_wnd = (uint32_t)rte_be_to_cpu_16(th->rx_win) <<
			     c->snd_wscale;
		c->max_snd_wnd = c->snd_wnd;
		c->snd_wl1 = seq;
		c->snd_wl2 = ack;
		tcp_timer_cancel(ts, c, TCP_T_RTX);
		if (c->flags & TCPF_FIN_QUEUED) {
			/* closed before the handshake finished */
			tcp_established(c);
			tcp_set_state(c, TCP_FIN_WAIT_1);
		} else {
			tcp_established(c);
			if (!tcp_notify_established(c))
				goto free;
		}
	}

	if (!tcp_process_ack(c, th, o, seq, ack, plen))
		goto free;
	c->last_rcv = ts->now_ms;
	c->ka_probes = 0;

	/* Trim what we already have and what lies beyond the window. */
	if (plen > 0 && SEQ_LT(seq, c->rcv_nxt)) {
		cut = c->rcv_nxt - seq;
		if (cut >= plen) {
			dpc_inc(&c->nl->cnt, DPC_tcp_dup_segments);
			rte_pktmbuf_trim(m, (uint16_t)plen);
			c->flags |= TCPF_ACK_NOW;       /* RFC 9293: re-ACK */
			if (!(fin && seq + plen == c->rcv_nxt - 1))
				fin = fin && seq + plen == c->rcv_nxt;
			plen = 0;
		} else {
			rte_pktmbuf_adj(m, (uint16_t)cut);
			plen -= cut;
		}
		seq = c->rcv_nxt;
	}
	wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	if (plen > 0 && SEQ_GT(seq + plen, c->rcv_nxt + wnd)) {
		cut = seq + plen - (c->rcv_nxt + wnd);
		rte_pktmbuf_trim(m, (uint16_t)cut);
		plen -= cut;
		fin = false;
	}

	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
		break;
	default:
		/* After the peer's FIN no data is accepted. */
		plen = 0;
		break;
	}

	if (plen > 0 && seq == c->rcv_nxt) {
		bool hole = c->nb_ooo > 0;

		tcp_deliver(c, m);
		m = NULL;
		if (c->state == TCP_CLOSED)
			return;
		if (hole && tcp_ooo_drain(c))
			c->flags |= TCPF_ACK_NOW;       /* hole filled */
		if (c->state == TCP_CLOSED)
			return;
		/* ACK every second full segment, else delay (RFC 5681 4.2). */
		if (++c->segs_unacked >= 2)
			c->flags |= TCPF_ACK_NOW;
		else if (!c->timers[TCP_T_DELACK].armed)
			tcp_timer_arm(ts, c, TCP_T_DELACK, ts->p.delack_ms);
	} else if (plen > 0) {
		tcp_ooo_insert(c, m, seq);
		m = NULL;
		fin = false;    /* its FIN comes again once the hole fills */
		c->flags |= TCPF_ACK_NOW;
	}

	if (fin && seq + plen == c->rcv_nxt) {
		c->rcv_nxt++;
		c->flags |= TCPF_ACK_NOW;
		switch (c->state) {
		case TCP_SYN_RCVD:
		case TCP_ESTABLISHED:
			tcp_set_state(c, TCP_CLOSE_WAIT);
			if (!(c->flags & TCPF_PEER_FIN)) {
				c->flags |= TCPF_PEER_FIN;
				if (c->ops != NULL && c->ops->peer_closed != NULL)
					c->ops->peer_closed(c);
				if (c->state == TCP_CLOSED)
					goto free;
			}
			break;
		case TCP_FIN_WAIT_1:
			c->flags |= TCPF_PEER_FIN;
			tcp_set_state(c, TCP_CLOSING);
			break;
		case TCP_FIN_WAIT_2:
			c->flags |= TCPF_PEER_FIN;
			tcp_send_ack(c);
			tcp_enter_time_wait(c);
			break;
		case TCP_TIME_WAIT:
			tcp_send_ack(c);
			tcp_timer_arm(ts, c, TCP_T_IDLE, ts->p.time_wait_ms);
			goto free;
		default:
			break;
		}
	}
	if (c->state != TCP_CLOSED && c->state != TCP_TIME_WAIT)
		tcp_output(c);
free:
	if (m != NULL)
		rte_pktmbuf_free(m);
}

/* Pass a segment for no connection of ours to the next worker: on a port
 * whose flow spreading is loose it may belong to one of them. hops counts
 * the workers that already looked. */
static bool
tcp_ask_next_worker(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m,
		    unsigned int hops)
{
	struct tcp_stack *ts = tcp_stack(nl);
	struct rte_ring *next;

	uint16_t lport = rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(m,
				struct rte_tcp_hdr *,
				m->l2_len + m->l3_len)->dst_port);

	if (ts->nb_workers < 2 || hops + 1 >= ts->nb_workers ||
	    !(nl->ifaces[port].port->offloads & PORT_RX_FLOW_LOOSE))
		return false;
	/* Our active opens' ports name their owner: no search needed. */
	if (lport >= ts->p.ephemeral_lo && lport <= ts->p.ephemeral_hi)
		return false;
	next = nl->tcp_peers[(ts->index + 1) % ts->nb_workers];
	if (next == NULL)
		return false;
	m->port = port;
	m->hash.usr = TCP_HOP_TAG | (hops + 1);
	if (rte_ring_enqueue(next, m) != 0) {
		dpc_inc(&nl->cnt, DPC_tcp_steer_dropped);
		rte_pktmbuf_free(m);
		return true;
	}
	dpc_inc(&nl->cnt, DPC_tcp_steered);
	return true;
}

static void
tcp_input_hops(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m,
	       unsigned int hops);

void
tcp_input(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m)
{
	tcp_input_hops(nl, port, m, 0);
}

static void
tcp_input_hops(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m,
	       unsigned int hops)
{
	struct tcp_stack *ts = tcp_stack(nl);
	const struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct tcp_opts o;
	struct tcp_listener *l;
	struct tcp_conn *c;
	struct tcp_key k;
	uint32_t len, doff, seq, ack, plen, seg_len;
	uint8_t fl;

	if (ts == NULL) {
		dpc_inc(&nl->cnt, DPC_ip_unknown_proto);
		goto free;
	}
	ts->now_ms = nl->now / (nl->hz / 1000);
	len = rte_pktmbuf_pkt_len(m) - m->l2_len - m->l3_len;
	if (unlikely(len < sizeof(*th))) {
		dpc_inc(&nl->cnt, DPC_tcp_short);
		goto free;
	}
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
				     m->l2_len);
	th = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *,
				     m->l2_len + m->l3_len);
	doff = (uint32_t)(th->data_off >> 4) * 4;
	if (unlikely(doff < sizeof(*th) || doff > len)) {
		dpc_inc(&nl->cnt, DPC_tcp_bad_offset);
		goto free;
	}
	if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
	    RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
		/* the port checked it */
	} else if (unlikely((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
			    RTE_MBUF_F_RX_L4_CKSUM_BAD ||
			    rte_ipv4_udptcp_cksum_verify(ip, th) != 0)) {
		dpc_inc(&nl->cnt, DPC_tcp_bad_checksum);
		goto free;
	}
	if (unlikely(tcp_parse_opts((const uint8_t *)(th + 1),
				    doff - sizeof(*th), &o) != 0)) {
		dpc_inc(&nl->cnt, DPC_tcp_bad_options);
		goto free;
	}
	dpc_inc(&nl->cnt, DPC_tcp_segs_in);

	/* Replies to our active opens carry a local port that names the
	 * owning worker (tcp_conn.c); the NIC's hash may have put them on
	 * this queue. Hand them over rather than touch another worker's
	 * connection. */
	if (ts->nb_workers > 1) {
		uint16_t lport = rte_be_to_cpu_16(th->dst_port);
		unsigned int owner;

		if (lport >= ts->p.ephemeral_lo && lport <= ts->p.ephemeral_hi &&
		    (owner = (lport - ts->p.ephemeral_lo) % ts->nb_workers) !=
		    ts->index && nl->tcp_peers[owner] != NULL &&
		    tcp_listener_find(ts, ip->dst_addr, lport) == NULL) {
			m->port = port;
			m->hash.usr = 0;
			if (rte_ring_enqueue(nl->tcp_peers[owner], m) == 0) {
				dpc_inc(&nl->cnt, DPC_tcp_steered);
				return;
			}
			dpc_inc(&nl->cnt, DPC_tcp_steer_dropped);
			goto free;
		}
	}

	fl = th->tcp_flags;
	seq = rte_be_to_cpu_32(th->sent_seq);
	ack = rte_be_to_cpu_32(th->recv_ack);
	plen = len - doff;
	seg_len = plen + ((fl & RTE_TCP_SYN_FLAG) ? 1 : 0) +
		  ((fl & RTE_TCP_FIN_FLAG) ? 1 : 0);
	k.laddr = ip->dst_addr;
	k.raddr = ip->src_addr;
	k.lport = th->dst_port;
	k.rport = th->src_port;

	c = tcp_lookup(ts, &k);
	if (c != NULL && c->state == TCP_TIME_WAIT &&
	    (fl & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) ==
	    RTE_TCP_SYN_FLAG &&
	    (SEQ_GT(seq, c->rcv_nxt) ||
	     ((c->flags & TCPF_TS) && o.has_ts &&
	      SEQ_GT(o.tsval, c->ts_recent)))) {
		/* RFC 6191: a new incarnation may take over TIME_WAIT when
		 * its sequence number or timestamp proves it is newer. */
		dpc_inc(&nl->cnt, DPC_tcp_tw_reuse);
		tcp_conn_drop(c, 0);
		c = NULL;
	}
	if (c == NULL) {
		l = NULL;
		if (!(fl & RTE_TCP_RST_FLAG))
			l = tcp_listener_find(ts, k.laddr,
					      rte_be_to_cpu_16(k.lport));
		if (l != NULL && (fl & (RTE_TCP_SYN_FLAG |
					RTE_TCP_ACK_FLAG)) == RTE_TCP_SYN_FLAG) {
			tcp_passive_open(nl, port, l, &k, th, &o, seq);
			goto free;
		}
		/* Not a new connection and not ours: with loose flow
		 * spreading another worker may own it. The last one asked
		 * answers (cookie check, RST). */
		if (!(fl & RTE_TCP_SYN_FLAG) &&
		    tcp_ask_next_worker(nl, port, m, hops)) {
			tcp_conn_reap(ts);
			return;
		}
		if (l != NULL && (fl & (RTE_TCP_SYN_FLAG |
					RTE_TCP_ACK_FLAG)) == RTE_TCP_ACK_FLAG)
			c = tcp_syncookie_check(nl, port, l, &k, th, &o, seq,
						ack);
	}
	if (c != NULL && c->state == TCP_CLOSED) {
		/* Rebuilt from a SYN cookie: open, then process the ACK (and
		 * any data) as in SYN_RCVD. */
		tcp_set_state(c, TCP_SYN_RCVD);
		c->snd_una = c->iss;
		c->snd_max = c->snd_nxt = c->iss + 1;
	}
	if (c == NULL) {
		if (!(fl & RTE_TCP_RST_FLAG)) {
			dpc_inc(&nl->cnt, DPC_tcp_no_listener);
			tcp_send_reset(nl, port, ip, th, seg_len);
		}
		goto free;
	}

	if (c->state == TCP_SYN_SENT) {
		tcp_input_syn_sent(c, ip, th, &o, seq, ack, seg_len);
		goto free;
	}

	/* Headers stay readable: the mbuf is only advanced past them. */
	rte_pktmbuf_adj(m, (uint16_t)(m->l2_len + m->l3_len + doff));
	ts->in_input = c;
	tcp_input_sync(c, m, ip, th, &o, seq, ack);
	ts->in_input = NULL;
	tcp_conn_reap(ts);
	return;
free:
	rte_pktmbuf_free(m);
	if (ts != NULL)
		tcp_conn_reap(ts);
}

void
tcp_inbox_drain(struct net_lcore *nl)
{
	struct rte_mbuf *m[PORT_BURST];
	unsigned int n, i;

	if (nl->tcp_inbox == NULL)
		return;
	n = rte_ring_dequeue_burst(nl->tcp_inbox, (void **)m, RTE_DIM(m),
				   NULL);
	for (i = 0; i < n; i++) {
		uint32_t tag = m[i]->hash.usr;

		tcp_input_hops(nl, m[i]->port, m[i],
			       (tag & ~TCP_HOP_MASK) == TCP_HOP_TAG ?
			       tag & TCP_HOP_MASK : 0);
	}
}

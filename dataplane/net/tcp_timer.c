/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP timers: a hashed timing wheel of 1 ms slots per lcore, driven from
 * the poll loop (Varghese & Lauck scheme 6). Arming and cancelling are O(1);
 * a timer further away than one lap is skipped until its lap comes.
 * Also the RTO estimator (RFC 6298) and what each timer does on expiry.
 */
#include <errno.h>

#include "tcp_impl.h"

void
tcp_timer_cancel(struct tcp_stack *ts, struct tcp_conn *c,
		 enum tcp_timer_kind k)
{
	struct tcp_timer *t = &c->timers[k];

	if (!t->armed)
		return;
	(void)ts;
	TAILQ_REMOVE(t->head, t, link);
	t->armed = 0;
}

void
tcp_timer_arm(struct tcp_stack *ts, struct tcp_conn *c,
	      enum tcp_timer_kind k, uint32_t after_ms)
{
	struct tcp_timer *t = &c->timers[k];

	tcp_timer_cancel(ts, c, k);
	/* Never into the slot being processed or the past: at least the
	 * next tick. */
	t->expire = (ts->now_ms > ts->wheel_ms ? ts->now_ms : ts->wheel_ms) +
		    (after_ms ? after_ms : 1);
	t->head = &ts->wheel[t->expire % TCP_TIMER_SLOTS];
	TAILQ_INSERT_TAIL(t->head, t, link);
	t->armed = 1;
}

void
tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt)
{
	const struct tcp_params *p = &tcp_stack(c->nl)->p;
	uint32_t rto;
	int32_t delta;

	if (c->srtt8 == 0) {                    /* RFC 6298 2.2 */
		c->srtt8 = rtt << 3;
		c->rttvar4 = rtt << 1;
	} else {                                /* 2.3, beta 1/4, alpha 1/8 */
		delta = (int32_t)rtt - (int32_t)(c->srtt8 >> 3);
		c->srtt8 = (uint32_t)((int32_t)c->srtt8 + delta);
		if (delta < 0)
			delta = -delta;
		c->rttvar4 = (uint32_t)((int32_t)c->rttvar4 +
					(delta - (int32_t)(c->rttvar4 >> 2)));
	}
	/* RTO = SRTT + max(G, 4 * RTTVAR), G = 1 ms. */
	rto = (c->srtt8 >> 3) + (c->rttvar4 > 1 ? c->rttvar4 : 1);
	if (rto < p->rto_min_ms)
		rto = p->rto_min_ms;
	if (rto > p->rto_max_ms)
		rto = p->rto_max_ms;
	c->rto = rto;
}

/*
 * (Re)start the retransmission timer for the oldest outstanding data. While
 * a flight is outstanding in the open state, the timer first holds a tail
 * loss probe (RFC 8985 7): after about two round trips without an ACK, one
 * segment goes out to draw SACK feedback, so a lost tail is repaired by fast
 * recovery instead of waiting for the RTO.
 */
void
tcp_arm_rtx(struct tcp_conn *c)
{
	struct tcp_stack *ts = tcp_stack(c->nl);
	uint32_t rto = c->rto, i, pto;

	for (i = 0; i < c->retries && rto < ts->p.rto_max_ms; i++)
		rto <<= 1;                      /* 5.5: back off */
	if (rto > ts->p.rto_max_ms)
		rto = ts->p.rto_max_ms;
	c->flags &= ~TCPF_TLP_ARMED;
	if (c->srtt8 != 0 && c->retries == 0 &&
	    !(c->flags & (TCPF_TLP_SENT | TCPF_PERSIST)) &&
	    (c->flags & TCPF_SACK) &&
	    (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT ||
	     c->state == TCP_FIN_WAIT_1 || c->state == TCP_LAST_ACK ||
	     c->state == TCP_CLOSING)) {
		pto = c->srtt8 >> 2;            /* 2 * SRTT */
		if (c->snd_max - c->snd_una <= c->mss)
			pto += ts->p.delack_ms; /* a lone segment: delayed ACK */
		if (pto < 10)
			pto = 10;
		if (pto < rto) {
			c->flags |= TCPF_TLP_ARMED;
			rto = pto;
		}
	}
	tcp_timer_arm(ts, c, TCP_T_RTX, rto);
}

/* RFC 8985 7.3: new data if the windows allow one segment, else the last
 * segment again. In recovery the probe is the first hole: no ACK for two
 * round trips means its retransmission was lost (RACK's reordering timer).
 * Then the RTO proper. */
static void
tcp_send_tlp(struct tcp_conn *c)
{
	uint32_t unsent = c->sndq_len - (c->snd_nxt - c->snd_una), last, len;
	uint32_t flight = tcp_in_flight(c), start;

	c->flags &= ~TCPF_TLP_ARMED;
	c->flags |= TCPF_TLP_SENT;
	dpc_inc(&c->nl->cnt, DPC_tcp_tlp_probes);
	if ((c->flags & TCPF_IN_RECOVERY) &&
	    tcp_next_hole(c, c->snd_una, &start, &len)) {
		tcp_retransmit_range(c, start, len);
	} else if (SEQ_LEQ(c->snd_nxt, c->snd_una + c->sndq_len) && unsent > 0 &&
	    c->snd_wnd >= flight + (unsent < tcp_seg_size(c) ? unsent :
				    tcp_seg_size(c))) {
		c->lt_allow = c->mss;
		tcp_output(c);
		c->lt_allow = 0;
	} else {
		/* The most recently sent segment (RFC 8985 7.3): it ends at
		 * snd_max, not at the end of the queue, whose unsent tail
		 * may lie beyond the peer's window. */
		last = c->snd_una + c->sndq_len;
		if (SEQ_LT(c->snd_max, last))
			last = c->snd_max;
		len = last - c->snd_una < tcp_seg_size(c) ?
		      last - c->snd_una : tcp_seg_size(c);
		tcp_retransmit_range(c, last - len, len);
	}
	tcp_arm_rtx(c);
}

static void
tcp_on_rtx(struct tcp_conn *c)
{
	struct net_lcore *nl = c->nl;
	const struct tcp_params *p = &tcp_stack(nl)->p;
	uint32_t limit;

	if (c->flags & TCPF_TLP_ARMED) {
		tcp_send_tlp(c);
		return;
	}
	if (c->flags & TCPF_PERSIST) {
		/* Zero window: ask again, backing off, never giving up
		 * while the peer keeps answering (RFC 9293 3.8.6.1) -- as
		 * long as the application still wants the connection. Once
		 * it closed, a peer that never opens its window would hold
		 * the connection and its queued data forever (a slow-read
		 * attack): after orphan_probes it is reset, as Linux does
		 * with orphaned sockets. */
		if ((c->flags & TCPF_FIN_QUEUED) &&
		    c->retries >= p->orphan_probes) {
			dpc_inc(&nl->cnt, DPC_tcp_timeouts);
			tcp_send_rst_conn(c);
			tcp_conn_drop(c, -ETIMEDOUT);
			return;
		}
		dpc_inc(&nl->cnt, DPC_tcp_zero_window_probes);
		tcp_send_probe(c);
		if (c->retries < 16 || (c->flags & TCPF_FIN_QUEUED))
			c->retries++;
		tcp_arm_rtx(c);
		return;
	}

	limit = (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD) ?
		p->syn_retries : p->data_retries;
	if (c->retries >= limit) {
		dpc_inc(&nl->cnt, DPC_tcp_timeouts);
		if (c->state != TCP_SYN_SENT)
			tcp_send_rst_conn(c);
		tcp_conn_drop(c, -ETIMEDOUT);
		return;
	}
	c->retries++;
	dpc_inc(&nl->cnt, DPC_tcp_rto);

	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD) {
		tcp_send_syn(c);
		dpc_inc(&nl->cnt, DPC_tcp_retransmits);
		tcp_arm_rtx(c);
		return;
	}

	/* RFC 5681 3.1: one segment; RFC 6582: the loss ends any fast
	 * recovery. Go back to snd_una. */
	tcp_cc_loss(c, true);
	c->recover = c->snd_max;
	c->flags &= ~(TCPF_IN_RECOVERY | TCPF_RTT_TIMING);
	/* Keep it simple after a timeout: forget what was SACKed and go
	 * back to snd_una (RFC 6675 5.1 allows either). */
	c->nb_sacked = 0;
	c->sacked_bytes = 0;
	c->lt_allow = 0;
	c->dupacks = 0;
	c->bytes_acked = 0;
	c->snd_nxt = c->snd_una;
	if (c->flags & TCPF_FIN_SENT)
		c->flags &= ~TCPF_FIN_SENT;     /* resend FIN after the data */
	tcp_retransmit_una(c);
	tcp_arm_rtx(c);
}

static void
tcp_on_idle(struct tcp_conn *c)
{
	struct tcp_stack *ts = tcp_stack(c->nl);

	switch (c->state) {
	case TCP_TIME_WAIT:
	case TCP_FIN_WAIT_2:
		/* FIN_WAIT_2 with an application that closed: the peer
		 * never finished; give up as Linux's tcp_fin_timeout. */
		tcp_conn_drop(c, 0);
		return;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		if (c->ka_idle_ms == 0)
			return;
		if (ts->now_ms - c->last_rcv < c->ka_idle_ms &&
		    c->ka_probes == 0) {
			tcp_timer_arm(ts, c, TCP_T_IDLE, (uint32_t)(c->ka_idle_ms -
				      (ts->now_ms - c->last_rcv)));
			return;
		}
		if (c->ka_probes >= c->ka_cnt) {
			dpc_inc(&c->nl->cnt, DPC_tcp_timeouts);
			tcp_send_rst_conn(c);
			tcp_conn_drop(c, -ETIMEDOUT);
			return;
		}
		c->ka_probes++;
		dpc_inc(&c->nl->cnt, DPC_tcp_keepalive_probes);
		tcp_send_probe(c);
		tcp_timer_arm(ts, c, TCP_T_IDLE, c->ka_intvl_ms);
		return;
	default:
		return;
	}
}

static void
tcp_timer_fire(struct tcp_conn *c, enum tcp_timer_kind k)
{
	switch (k) {
	case TCP_T_RTX:
		tcp_on_rtx(c);
		break;
	case TCP_T_DELACK:
		if (c->state != TCP_CLOSED)
			tcp_send_ack(c);
		break;
	case TCP_T_IDLE:
		tcp_on_idle(c);
		break;
	default:
		break;
	}
}

void
tcp_timers(struct net_lcore *nl)
{
	struct tcp_stack *ts = nl->tcp;
	struct tcp_timer_list due;
	struct tcp_timer_list *slot;
	struct tcp_timer *t;
	uint64_t now;

	if (ts == NULL)
		return;
	now = nl->now / (nl->hz / 1000);
	ts->now_ms = now;
	/* After a long stall one lap visits every slot; timers due within
	 * it fire now, none is lost. */
	if (now - ts->wheel_ms > TCP_TIMER_SLOTS)
		ts->wheel_ms = now - TCP_TIMER_SLOTS;
	while (ts->wheel_ms < now) {
		ts->wheel_ms++;
		slot = &ts->wheel[ts->wheel_ms % TCP_TIMER_SLOTS];
		if (TAILQ_EMPTY(slot))
			continue;
		/* Detach the slot: callbacks may cancel any timer (their
		 * connection's, which may sit in `due`) or re-arm into this
		 * slot for a later lap; each timer knows its list. */
		TAILQ_INIT(&due);
		TAILQ_CONCAT(&due, slot, link);
		TAILQ_FOREACH(t, &due, link)
			t->head = &due;
		while ((t = TAILQ_FIRST(&due)) != NULL) {
			TAILQ_REMOVE(&due, t, link);
			if (t->expire > now) {          /* a later lap */
				t->head = slot;
				TAILQ_INSERT_TAIL(slot, t, link);
				continue;
			}
			t->armed = 0;
			tcp_timer_fire(container_of(t - t->kind,
						    struct tcp_conn, timers[0]),
				       t->kind);
		}
	}
	tcp_conn_reap(ts);
}

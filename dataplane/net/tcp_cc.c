/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control: slow start with appropriate byte counting (RFC 3465)
 * and CUBIC congestion avoidance (RFC 9438) with its Reno-friendly region
 * and fast convergence. Window arithmetic is in bytes; the cubic function
 * works in segments and seconds as the RFC writes it.
 */
#include <math.h>

#include "tcp_impl.h"

#define CUBIC_BETA   0.7
#define CUBIC_C      0.4
#define CUBIC_ALPHA  (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))

void
tcp_cc_init(struct tcp_conn *c)
{
	/* RFC 6928: IW = min(10 * MSS, max(2 * MSS, 14600)). */
	uint32_t iw = 14600 > 2u * c->mss ? 14600 : 2u * c->mss;

	c->cwnd = 10u * c->mss < iw ? 10u * c->mss : iw;
	c->ssthresh = UINT32_MAX;
	c->cubic_wmax = 0;
	c->cubic_epoch = 0;
}

/* A congestion event: fast retransmit (timeout false) or RTO. Sets
 * ssthresh (RFC 9438 4.6) and remembers the window it happened at. */
void
tcp_cc_loss(struct tcp_conn *c, bool timeout)
{
	uint32_t flight = c->snd_max - c->snd_una;
	uint32_t base = c->cwnd < flight ? c->cwnd : flight;
	double w = (double)c->cwnd / c->mss;

	if (base < 2u * c->mss)
		base = 2u * c->mss;
	/* Fast convergence (4.7): release bandwidth to newer flows. */
	if (c->cubic_wmax != 0 && w < c->cubic_wmax)
		c->cubic_wmax = w * (1.0 + CUBIC_BETA) / 2.0;
	else
		c->cubic_wmax = w;
	c->ssthresh = (uint32_t)(base * CUBIC_BETA);
	if (c->ssthresh < 2u * c->mss)
		c->ssthresh = 2u * c->mss;
	c->cubic_epoch = 0;
	c->bytes_acked = 0;
	if (timeout)
		c->cwnd = c->mss;               /* RFC 5681 3.1: loss window */
}

/* An ACK outside recovery advanced snd_una by `acked` bytes. */
void
tcp_cc_ack_open(struct tcp_conn *c, uint32_t acked)
{
	double t, k, target, cwnd_seg, west;
	uint64_t now = tcp_now(c);
	uint32_t rtt;

	if (c->cwnd < c->ssthresh) {
		/* Slow start, L = 2 * SMSS. */
		c->cwnd += acked < 2u * c->mss ? acked : 2u * c->mss;
		return;
	}
	cwnd_seg = (double)c->cwnd / c->mss;
	if (c->cubic_epoch == 0) {
		c->cubic_epoch = now ? now : 1;
		c->cubic_west = cwnd_seg;
		if (c->cubic_wmax < cwnd_seg) {
			c->cubic_k = 0.0;
			c->cubic_origin = cwnd_seg;
		} else {
			c->cubic_k = cbrt(c->cubic_wmax * (1.0 - CUBIC_BETA) /
					  CUBIC_C);
			c->cubic_origin = c->cubic_wmax;
		}
	}
	rtt = c->srtt8 >> 3;
	t = (double)(now - c->cubic_epoch + rtt) / 1000.0;
	k = t - c->cubic_k;
	target = CUBIC_C * k * k * k + c->cubic_origin;  /* W_cubic(t + RTT) */
	if (target < cwnd_seg)
		target = cwnd_seg;
	if (target > 1.5 * cwnd_seg)
		target = 1.5 * cwnd_seg;
	/* Reno-friendly estimate (4.3). */
	west = c->cubic_west + CUBIC_ALPHA * ((double)acked / c->mss) /
	       cwnd_seg;
	c->cubic_west = west;
	if (west > target) {
		target = west;
		if (target > cwnd_seg + (double)acked / c->mss)
			target = cwnd_seg + (double)acked / c->mss;
	}
	/* cwnd += (target - cwnd) / cwnd per segment acknowledged. */
	c->cwnd_frac += (target - cwnd_seg) / cwnd_seg *
			((double)acked / c->mss) * c->mss;
	if (c->cwnd_frac >= 1.0) {
		c->cwnd += (uint32_t)c->cwnd_frac;
		c->cwnd_frac -= (uint32_t)c->cwnd_frac;
	}
}

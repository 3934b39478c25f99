/* SPDX-License-Identifier: BSD-3-Clause */
#include "port.h"

void
port_txq_init(struct port_txq *tq, struct port *p, uint16_t queue)
{
	tq->port = p;
	tq->queue = queue;
	tq->count = 0;
	tq->tx_packets = 0;
	tq->tx_dropped = 0;
}

uint16_t
port_txq_flush(struct port_txq *tq)
{
	uint16_t n, sent;

	n = tq->count;
	if (n == 0)
		return 0;
	sent = port_tx_burst(tq->port, tq->queue, tq->pkts, n);
	/* A full TX ring means the device is behind; holding frames would only
	 * add latency and pin mbufs, so refused frames are dropped here and the
	 * transport above retransmits (the l3fwd policy). */
	if (unlikely(sent < n)) {
		rte_pktmbuf_free_bulk(&tq->pkts[sent], n - sent);
		__atomic_store_n(&tq->tx_dropped, tq->tx_dropped + n - sent,
				 __ATOMIC_RELAXED);
	}
	/* Relaxed stores: the control thread reads these while we run. */
	__atomic_store_n(&tq->tx_packets, tq->tx_packets + sent,
			 __ATOMIC_RELAXED);
	tq->count = 0;
	return sent;
}

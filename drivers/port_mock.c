/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * In-memory port for unit tests. Each queue has an RX FIFO the test fills and
 * a TX FIFO the code under test fills. Single-threaded by design.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"

#define MOCK_QLEN 1024

struct mock_fifo {
	unsigned int head, tail;
	struct rte_mbuf *m[MOCK_QLEN];
};

struct mock_priv {
	int tx_accept;
	struct mock_fifo rx[PORT_QUEUE_MAX];
	struct mock_fifo tx[PORT_QUEUE_MAX];
	struct port_xstats st;
};

static int
fifo_put(struct mock_fifo *f, struct rte_mbuf *m)
{
	if (f->tail - f->head == MOCK_QLEN)
		return -ENOBUFS;
	f->m[f->tail++ % MOCK_QLEN] = m;
	return 0;
}

static uint16_t
fifo_get(struct mock_fifo *f, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n && f->head != f->tail; i++)
		pkts[i] = f->m[f->head++ % MOCK_QLEN];
	return i;
}

static uint16_t
mock_rx_burst(struct port *p, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	struct mock_priv *mp = p->priv;
	uint16_t got = fifo_get(&mp->rx[q], pkts, n);

	mp->st.rx_packets += got;
	return got;
}

static uint16_t
mock_tx_burst(struct port *p, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	struct mock_priv *mp = p->priv;
	uint16_t i, limit = n;

	if (mp->tx_accept >= 0 && (uint16_t)mp->tx_accept < limit)
		limit = (uint16_t)mp->tx_accept;
	for (i = 0; i < limit; i++)
		if (fifo_put(&mp->tx[q], pkts[i]) != 0)
			break;
	mp->st.tx_packets += i;
	return i;
}

static int
mock_stats(struct port *p, struct port_xstats *st)
{
	struct mock_priv *mp = p->priv;

	*st = mp->st;
	return 0;
}

static void
mock_close(struct port *p)
{
	struct mock_priv *mp = p->priv;
	struct rte_mbuf *m;
	unsigned int q;

	for (q = 0; q < p->nb_queues; q++) {
		while (fifo_get(&mp->rx[q], &m, 1) == 1)
			rte_pktmbuf_free(m);
		while (fifo_get(&mp->tx[q], &m, 1) == 1)
			rte_pktmbuf_free(m);
	}
	free(mp);
	free(p);
}

static const struct port_ops mock_ops = {
	.rx_burst = mock_rx_burst,
	.tx_burst = mock_tx_burst,
	.stats = mock_stats,
	.close = mock_close,
};

struct port *
port_mock_open(uint16_t index, uint16_t nb_queues,
	       const struct rte_ether_addr *mac, uint32_t offloads)
{
	struct port *p;
	struct mock_priv *mp;

	if (nb_queues == 0 || nb_queues > PORT_QUEUE_MAX)
		return NULL;
	p = calloc(1, sizeof(*p));
	mp = calloc(1, sizeof(*mp));
	if (p == NULL || mp == NULL) {
		free(p);
		free(mp);
		return NULL;
	}
	mp->tx_accept = -1;
	p->ops = &mock_ops;
	snprintf(p->name, sizeof(p->name), "mock%u", index);
	p->index = index;
	p->nb_queues = nb_queues;
	p->offloads = offloads;
	p->mac = *mac;
	p->priv = mp;
	return p;
}

int
port_mock_inject(struct port *p, uint16_t q, struct rte_mbuf *m)
{
	struct mock_priv *mp = p->priv;

	return fifo_put(&mp->rx[q], m);
}

uint16_t
port_mock_collect(struct port *p, uint16_t q, struct rte_mbuf **pkts,
		  uint16_t n)
{
	struct mock_priv *mp = p->priv;

	return fifo_get(&mp->tx[q], pkts, n);
}

void
port_mock_set_tx_accept(struct port *p, int tx_accept)
{
	struct mock_priv *mp = p->priv;

	mp->tx_accept = tx_accept;
}

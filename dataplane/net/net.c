/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "net.h"

void
net_lcore_init(struct net_lcore *nl, const struct net_iface *ifaces,
	       uint16_t nb_ifaces, uint16_t queue, struct rte_mempool *pool,
	       uint64_t hz)
{
	uint16_t i;

	memset(nl, 0, sizeof(*nl));
	nl->ifaces = ifaces;
	nl->nb_ifaces = nb_ifaces;
	nl->pool = pool;
	nl->hz = hz;
	nl->arp_owner = queue == 0;
	for (i = 0; i < nb_ifaces; i++)
		port_txq_init(&nl->txq[i], ifaces[i].port, queue);
}

void
net_flush(struct net_lcore *nl)
{
	uint16_t i;

	for (i = 0; i < nl->nb_ifaces; i++)
		port_txq_flush(&nl->txq[i]);
}

void
net_lcore_fini(struct net_lcore *nl)
{
	uint16_t i;

	arp_flush(nl);
	for (i = 0; i < nl->nb_ifaces; i++) {
		struct port_txq *tq = &nl->txq[i];

		if (tq->count > 0)
			rte_pktmbuf_free_bulk(tq->pkts, tq->count);
		tq->count = 0;
	}
}

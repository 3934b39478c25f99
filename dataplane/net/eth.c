/* SPDX-License-Identifier: BSD-3-Clause */
#include "net.h"

void
eth_input(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m)
{
	const struct net_iface *ifc = &nl->ifaces[port];
	const struct rte_ether_hdr *eh;

	/* Ports are configured without scatter, so a frame is one segment
	 * and headers can be read in place. */
	if (unlikely(rte_pktmbuf_data_len(m) < sizeof(*eh))) {
		dpc_inc(&nl->cnt, DPC_eth_short);
		rte_pktmbuf_free(m);
		return;
	}
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (!rte_is_same_ether_addr(&eh->dst_addr, &ifc->mac) &&
	    !rte_is_broadcast_ether_addr(&eh->dst_addr)) {
		dpc_inc(&nl->cnt, DPC_eth_not_for_us);
		rte_pktmbuf_free(m);
		return;
	}
	m->l2_len = sizeof(*eh);

	switch (eh->ether_type) {
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		ipv4_input(nl, port, m);
		return;
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		arp_input(nl, port, m);
		return;
	case RTE_BE16(RTE_ETHER_TYPE_IPV6):
		dpc_inc(&nl->cnt, DPC_eth_ipv6);
		break;
	default:
		dpc_inc(&nl->cnt, DPC_eth_unknown_type);
		break;
	}
	rte_pktmbuf_free(m);
}

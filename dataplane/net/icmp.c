/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_icmp.h>

#include "net.h"

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word. */
static inline rte_be16_t
cksum_adjust16(rte_be16_t hc, rte_be16_t old, rte_be16_t new)
{
	uint32_t s = (uint16_t)~hc + (uint16_t)~old + (uint16_t)new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (rte_be16_t)~s;
}

void
icmp_input(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m)
{
	const struct net_iface *ifc = &nl->ifaces[port];
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;
	uint32_t len;
	rte_be32_t a;
	rte_be16_t old;

	len = rte_pktmbuf_data_len(m) - m->l2_len - m->l3_len;
	if (unlikely(len < sizeof(*ic))) {
		dpc_inc(&nl->cnt, DPC_icmp_malformed);
		goto free;
	}
	ic = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *,
				     m->l2_len + m->l3_len);
	if (unlikely(!net_cksum_ok(ic, len))) {
		dpc_inc(&nl->cnt, DPC_icmp_bad_checksum);
		goto free;
	}
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0) {
		dpc_inc(&nl->cnt, DPC_icmp_other);
		goto free;
	}
	dpc_inc(&nl->cnt, DPC_icmp_echo_in);

	/* Turn the request into the reply in place: only the type changes in
	 * the ICMP message, so its checksum is adjusted, not recomputed. */
	old = *(rte_be16_t *)ic;
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = cksum_adjust16(ic->icmp_cksum, old, *(rte_be16_t *)ic);

	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	ip->fragment_offset = 0;
	m->ol_flags = 0;
	ipv4_set_cksum(ifc, m);

	/* The reply goes back the way the request came: the frame's source
	 * MAC is the last hop, so no neighbour lookup is needed. */
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&eh->src_addr, &eh->dst_addr);
	rte_ether_addr_copy(&ifc->mac, &eh->src_addr);
	net_tx(nl, port, m);
	dpc_inc(&nl->cnt, DPC_icmp_echo_out);
	return;
free:
	rte_pktmbuf_free(m);
}

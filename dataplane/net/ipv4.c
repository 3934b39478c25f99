/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include "net.h"
#include "tcp.h"

static inline bool
ipv4_martian_src(rte_be32_t src, const struct net_iface *ifc)
{
	uint32_t s = rte_be_to_cpu_32(src);

	/* 0/8, multicast and limited broadcast never source a packet we
	 * should answer, nor does the subnet's directed broadcast. */
	return (s >> 24) == 0 || (s >> 28) == 0xe || s == 0xffffffff ||
	       (ifc->prefix < 31 && (src | ifc->mask) == 0xffffffff &&
		(src & ifc->mask) == (ifc->addr & ifc->mask));
}

void
ipv4_input(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m)
{
	const struct net_iface *ifc = &nl->ifaces[port];
	struct rte_ipv4_hdr *ip;
	uint32_t avail, hlen, tlen;
	enum dp_counter why;

	avail = rte_pktmbuf_data_len(m) - m->l2_len;
	if (unlikely(avail < sizeof(*ip))) {
		why = DPC_ip_short;
		goto drop;
	}
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	if (unlikely((ip->version_ihl >> 4) != 4)) {
		why = DPC_ip_bad_version;
		goto drop;
	}
	hlen = (uint32_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) *
	       RTE_IPV4_IHL_MULTIPLIER;
	if (unlikely(hlen < sizeof(*ip) || hlen > avail)) {
		why = DPC_ip_bad_ihl;
		goto drop;
	}
	tlen = rte_be_to_cpu_16(ip->total_length);
	if (unlikely(tlen < hlen || tlen > avail)) {
		why = DPC_ip_bad_length;
		goto drop;
	}
	if (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_GOOD) {
		/* the port checked it */
	} else if (unlikely((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) ==
			    RTE_MBUF_F_RX_IP_CKSUM_BAD ||
			    !net_cksum_ok(ip, hlen))) {
		why = DPC_ip_bad_checksum;
		goto drop;
	}
	/* Ethernet pads short frames; the IP length is what counts. */
	if (avail > tlen)
		rte_pktmbuf_trim(m, avail - tlen);
	m->l3_len = hlen;

	if (unlikely(ip->dst_addr != ifc->addr)) {
		why = DPC_ip_not_for_us;
		goto drop;
	}
	if (unlikely(ipv4_martian_src(ip->src_addr, ifc))) {
		why = DPC_ip_bad_src;
		goto drop;
	}
	/* No reassembly: the appliance's peers use PMTU discovery and TCP
	 * never fragments; fragments are counted and dropped. */
	if (unlikely(ip->fragment_offset &
		     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
				      RTE_IPV4_HDR_OFFSET_MASK))) {
		why = DPC_ip_fragment;
		goto drop;
	}

	switch (ip->next_proto_id) {
	case IPPROTO_ICMP:
		icmp_input(nl, port, m);
		return;
	case IPPROTO_TCP:
		tcp_input(nl, port, m);
		return;
	default:
		why = DPC_ip_unknown_proto;
		goto drop;
	}

drop:
	dpc_inc(&nl->cnt, why);
	rte_pktmbuf_free(m);
}

void
ipv4_set_cksum(const struct net_iface *ifc, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip;

	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	ip->hdr_checksum = 0;
	if (ifc->port->offloads & PORT_TX_IPV4_CKSUM) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	} else {
		m->ol_flags &= ~RTE_MBUF_F_TX_IP_CKSUM;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
}

int
ipv4_route(const struct net_lcore *nl, rte_be32_t dst, rte_be32_t *nexthop)
{
	uint16_t i;

	/* On-link first (longest prefix wins), then the first gateway. */
	int best = -1;

	for (i = 0; i < nl->nb_ifaces; i++) {
		const struct net_iface *ifc = &nl->ifaces[i];

		if ((dst & ifc->mask) == (ifc->addr & ifc->mask) &&
		    (best < 0 || ifc->prefix > nl->ifaces[best].prefix))
			best = i;
	}
	if (best >= 0) {
		*nexthop = dst;
		return best;
	}
	for (i = 0; i < nl->nb_ifaces; i++) {
		if (nl->ifaces[i].gateway != 0) {
			*nexthop = nl->ifaces[i].gateway;
			return i;
		}
	}
	return -ENETUNREACH;
}

int
ipv4_output(struct net_lcore *nl, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip;
	struct rte_ether_hdr *eh;
	rte_be32_t nexthop;
	int port;

	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	port = ipv4_route(nl, ip->dst_addr, &nexthop);
	if (port < 0) {
		dpc_inc(&nl->cnt, DPC_ip_no_route);
		rte_pktmbuf_free(m);
		return port;
	}
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ipv4_set_cksum(&nl->ifaces[port], m);
	arp_output(nl, (uint16_t)port, nexthop, m);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-lcore network context shared by eth, arp, ipv4 and icmp.
 *
 * One struct net_lcore per worker; it is touched only by that worker (the
 * shared-nothing rule). The interfaces it points to are read-only while the
 * workers run. Time comes in through net_lcore.now (TSC) so unit tests can
 * drive timers without a clock.
 */
#ifndef RAMPART_NET_NET_H
#define RAMPART_NET_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "port.h"
#include "stats/counters.h"
#include "arp.h"

/* One IPv4 interface per port, configured by --ip; read-only at run time. */
struct net_iface {
	struct port *port;
	struct rte_ether_addr mac;
	rte_be32_t addr;        /* network byte order */
	rte_be32_t mask;
	rte_be32_t gateway;     /* 0: none on this interface */
	uint8_t prefix;
};

/* A neighbour learned on one lcore, told to the others (see arp.c). */
struct arp_notice {
	rte_be32_t ip;
	uint16_t port;
	struct rte_ether_addr mac;
};

struct tcp_stack;
struct diag_pools;

struct net_lcore {
	struct dp_counters cnt;
	uint64_t now;           /* TSC of this poll iteration */
	uint64_t hz;            /* TSC ticks per second */
	struct rte_mempool *pool;
	uint16_t nb_ifaces;
	bool arp_owner;         /* sends gratuitous ARP (queue 0's lcore) */
	uint16_t ip_id;         /* IPv4 identification of our datagrams */
	const struct net_iface *ifaces;
	struct port_txq txq[PORT_MAX];
	/* ARP learning is broadcast to the other workers through their
	 * single-consumer inbox rings: ARP is not hashed by RSS, so one queue
	 * receives all of it, yet every worker needs the neighbours. */
	struct rte_ring *arp_inbox;
	struct rte_ring *arp_peers[RTE_MAX_LCORE];
	unsigned int nb_arp_peers;
	struct tcp_stack *tcp;          /* NULL until tcp_lcore_init() */
	/* TCP segments for connections another worker owns (active opens
	 * whose replies the NIC hashed elsewhere) travel through the owner's
	 * single-consumer inbox; tcp_peers[i] is worker i's (NULL: self). */
	struct rte_ring *tcp_inbox;
	struct rte_ring *tcp_peers[RTE_MAX_LCORE];
	struct diag_pools *diag;        /* diagnostic services' state */
	struct arp_cache arp;
};

/* Initialise nl for ifaces[0..nb_ifaces-1], queue `queue` on every port. */
void net_lcore_init(struct net_lcore *nl, const struct net_iface *ifaces,
		    uint16_t nb_ifaces, uint16_t queue,
		    struct rte_mempool *pool, uint64_t hz);

/* Free anything the context still holds (ARP hold queues, TX buffers). */
void net_lcore_fini(struct net_lcore *nl);

/* Transmit a complete frame on port `port`; consumes m. */
static inline void
net_tx(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m)
{
	port_txq_enqueue(&nl->txq[port], m);
}

/* Flush every TX buffer of this lcore. */
void net_flush(struct net_lcore *nl);

/* Receive path entry: one Ethernet frame from port `port`; consumes m. */
void eth_input(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m);

/* IPv4 receive; m->l2_len is set. Consumes m. */
void ipv4_input(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m);

/* ICMP receive; m->l2_len and m->l3_len are set, the IPv4 header valid and
 * addressed to us. Consumes m. */
void icmp_input(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m);

/*
 * IPv4 output. m holds an Ethernet header (contents ignored) followed by a
 * complete IPv4 header with ip->dst set; l2_len/l3_len are set. Picks the
 * interface and next hop (on-link or --gateway), fills in the header
 * checksum (offloaded when the port can), resolves the next hop's MAC and
 * transmits. Consumes m. Returns 0, or -ENETUNREACH when no interface
 * reaches dst (m freed, counted as ip_no_route).
 */
int ipv4_output(struct net_lcore *nl, struct rte_mbuf *m);

/* Interface index and next hop for dst, or -ENETUNREACH. */
int ipv4_route(const struct net_lcore *nl, rte_be32_t dst,
	       rte_be32_t *nexthop);

/* Set the IPv4 header checksum of m: offload flags when the port computes
 * it, software otherwise. */
void ipv4_set_cksum(const struct net_iface *ifc, struct rte_mbuf *m);

/* Ones-complement helpers (RFC 1071 / RFC 1624). */
static inline bool
net_cksum_ok(const void *buf, size_t len)
{
	return rte_raw_cksum(buf, len) == 0xffff;
}

#endif /* RAMPART_NET_NET_H */

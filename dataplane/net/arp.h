/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP (RFC 826) and the per-lcore neighbour cache.
 *
 * Entries are REACHABLE for ARP_REACHABLE_S after the last confirmation.
 * Past that they stay usable (STALE) but the next use sends a refresh
 * request; an entry not confirmed within ARP_PROBES requests is removed.
 * Frames for an unresolved next hop wait in a small hold queue per entry
 * (ARP_HOLD frames, oldest dropped first), like Linux's arp_queue.
 *
 * Every function here runs on the lcore that owns the net_lcore.
 */
#ifndef RAMPART_NET_ARP_H
#define RAMPART_NET_ARP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#define ARP_BUCKETS        256          /* power of two */
#define ARP_WAYS           4
#define ARP_HOLD           4
#define ARP_REACHABLE_S    60
#define ARP_PROBES         3
#define ARP_RETRY_MS       1000
#define ARP_TICK_MS        100

enum arp_state {
	ARP_FREE = 0,
	ARP_INCOMPLETE,         /* request sent, no answer yet */
	ARP_REACHABLE,
};

struct arp_entry {
	rte_be32_t ip;
	uint16_t port;
	uint8_t state;
	uint8_t probes;         /* requests sent since last confirmation */
	uint8_t nb_hold;
	struct rte_ether_addr mac;
	uint64_t expire;        /* TSC: end of REACHABLE */
	uint64_t next_probe;    /* TSC: when to send the next request */
	struct rte_mbuf *hold[ARP_HOLD];
};

struct arp_cache {
	uint64_t next_tick;
	struct arp_entry e[ARP_BUCKETS][ARP_WAYS];
};

struct net_lcore;

/* ARP frame received on port; m->l2_len set. Consumes m. */
void arp_input(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m);

/*
 * Send m (Ethernet + payload, l2_len set) to next hop `nexthop` on `port`:
 * fills in the Ethernet header and transmits when the MAC is known,
 * otherwise holds m and asks. Consumes m.
 */
void arp_output(struct net_lcore *nl, uint16_t port, rte_be32_t nexthop,
		struct rte_mbuf *m);

/* Look up ip on port. 0 and *mac filled when usable; -ENOENT otherwise. */
int arp_lookup(struct net_lcore *nl, uint16_t port, rte_be32_t ip,
	       struct rte_ether_addr *mac);

/* Record ip->mac on port. With create == false only existing entries are
 * updated (RFC 826 merge). Sends held frames. */
void arp_learn(struct net_lcore *nl, uint16_t port, rte_be32_t ip,
	       const struct rte_ether_addr *mac, bool create);

/* Broadcast a gratuitous ARP request announcing our address on port. */
int arp_announce(struct net_lcore *nl, uint16_t port);

/* Broadcast a request for ip on port. */
int arp_request(struct net_lcore *nl, uint16_t port, rte_be32_t ip);

/* Timers: retries, expiry. Cheap to call every loop; works every
 * ARP_TICK_MS. Also drains the lcore's ARP inbox. */
void arp_tick(struct net_lcore *nl);

/* Free held frames and forget everything. */
void arp_flush(struct net_lcore *nl);

#endif /* RAMPART_NET_ARP_H */

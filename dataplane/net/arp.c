/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>

#include "net.h"

#define ARP_FRAME_LEN 60        /* minimum Ethernet frame, without FCS */

static inline uint64_t
ms_to_tsc(const struct net_lcore *nl, uint64_t ms)
{
	return nl->hz * ms / 1000;
}

static inline struct arp_entry *
arp_bucket(struct net_lcore *nl, uint16_t port, rte_be32_t ip)
{
	uint32_t h = (rte_be_to_cpu_32(ip) ^ ((uint32_t)port << 16)) *
		     2654435761u;

	return nl->arp.e[h >> 24 & (ARP_BUCKETS - 1)];
}

static struct arp_entry *
arp_find(struct net_lcore *nl, uint16_t port, rte_be32_t ip)
{
	struct arp_entry *b = arp_bucket(nl, port, ip);
	unsigned int i;

	for (i = 0; i < ARP_WAYS; i++)
		if (b[i].state != ARP_FREE && b[i].ip == ip && b[i].port == port)
			return &b[i];
	return NULL;
}

static void
arp_drop_hold(struct net_lcore *nl, struct arp_entry *e)
{
	if (e->nb_hold == 0)
		return;
	rte_pktmbuf_free_bulk(e->hold, e->nb_hold);
	dpc_add(&nl->cnt, DPC_arp_hold_dropped, e->nb_hold);
	e->nb_hold = 0;
}

static void
arp_release(struct net_lcore *nl, struct arp_entry *e)
{
	arp_drop_hold(nl, e);
	memset(e, 0, sizeof(*e));
}

/* A free way, else the REACHABLE entry closest to expiry; INCOMPLETE
 * entries (someone is waiting on them) go last. */
static struct arp_entry *
arp_alloc(struct net_lcore *nl, uint16_t port, rte_be32_t ip)
{
	struct arp_entry *b = arp_bucket(nl, port, ip), *victim = NULL;
	unsigned int i;

	for (i = 0; i < ARP_WAYS; i++) {
		if (b[i].state == ARP_FREE) {
			victim = &b[i];
			break;
		}
		if (victim == NULL ||
		    (victim->state == ARP_INCOMPLETE &&
		     b[i].state == ARP_REACHABLE) ||
		    (victim->state == b[i].state &&
		     b[i].expire < victim->expire))
			victim = &b[i];
	}
	arp_release(nl, victim);
	victim->ip = ip;
	victim->port = port;
	return victim;
}

static void
arp_fill_eth(struct rte_mbuf *m, const struct net_iface *ifc,
	     const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rte_ether_addr_copy(dst, &eh->dst_addr);
	rte_ether_addr_copy(&ifc->mac, &eh->src_addr);
}

static int
arp_send(struct net_lcore *nl, uint16_t port, uint16_t op,
	 const struct rte_ether_addr *eth_dst,
	 const struct rte_ether_addr *tha, rte_be32_t sip, rte_be32_t tip)
{
	const struct net_iface *ifc = &nl->ifaces[port];
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;
	struct rte_mbuf *m;
	char *p;

	m = rte_pktmbuf_alloc(nl->pool);
	if (m == NULL)
		return -ENOMEM;
	p = rte_pktmbuf_append(m, ARP_FRAME_LEN);
	memset(p, 0, ARP_FRAME_LEN);
	eh = (struct rte_ether_hdr *)p;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah = (struct rte_arp_hdr *)(eh + 1);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = sizeof(rte_be32_t);
	ah->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(&ifc->mac, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = sip;
	rte_ether_addr_copy(tha, &ah->arp_data.arp_tha);
	ah->arp_data.arp_tip = tip;
	arp_fill_eth(m, ifc, eth_dst);
	net_tx(nl, port, m);
	return 0;
}

int
arp_request(struct net_lcore *nl, uint16_t port, rte_be32_t ip)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	static const struct rte_ether_addr zero;
	int rc;

	rc = arp_send(nl, port, RTE_ARP_OP_REQUEST, &bcast, &zero,
		      nl->ifaces[port].addr, ip);
	if (rc == 0)
		dpc_inc(&nl->cnt, DPC_arp_requests_out);
	return rc;
}

int
arp_announce(struct net_lcore *nl, uint16_t port)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	static const struct rte_ether_addr zero;
	rte_be32_t a = nl->ifaces[port].addr;
	int rc;

	/* RFC 5227 section 3: an announcement is a request with SPA = TPA. */
	rc = arp_send(nl, port, RTE_ARP_OP_REQUEST, &bcast, &zero, a, a);
	if (rc == 0)
		dpc_inc(&nl->cnt, DPC_arp_gratuitous_out);
	return rc;
}

static void
arp_send_hold(struct net_lcore *nl, struct arp_entry *e)
{
	const struct net_iface *ifc = &nl->ifaces[e->port];
	unsigned int i;

	for (i = 0; i < e->nb_hold; i++) {
		arp_fill_eth(e->hold[i], ifc, &e->mac);
		net_tx(nl, e->port, e->hold[i]);
	}
	e->nb_hold = 0;
}

static void
arp_update(struct net_lcore *nl, uint16_t port, rte_be32_t ip,
	   const struct rte_ether_addr *mac, bool create)
{
	struct arp_entry *e = arp_find(nl, port, ip);

	if (e == NULL) {
		if (!create)
			return;
		e = arp_alloc(nl, port, ip);
	}
	rte_ether_addr_copy(mac, &e->mac);
	e->state = ARP_REACHABLE;
	e->probes = 0;
	e->expire = nl->now + ARP_REACHABLE_S * nl->hz;
	e->next_probe = e->expire;
	dpc_inc(&nl->cnt, DPC_arp_learned);
	arp_send_hold(nl, e);
}

void
arp_learn(struct net_lcore *nl, uint16_t port, rte_be32_t ip,
	  const struct rte_ether_addr *mac, bool create)
{
	arp_update(nl, port, ip, mac, create);
}

/* Tell the other workers; each applies the same create rule. A full inbox
 * only costs that worker a later ARP exchange of its own. */
static void
arp_tell_peers(struct net_lcore *nl, uint16_t port, rte_be32_t ip,
	       const struct rte_ether_addr *mac, bool create)
{
	struct arp_notice n = { .ip = ip, .port = port, .mac = *mac };
	unsigned int i;

	/* The top bit of port carries `create`; ports are < PORT_MAX. */
	if (create)
		n.port |= 0x8000;
	for (i = 0; i < nl->nb_arp_peers; i++)
		rte_ring_enqueue_elem(nl->arp_peers[i], &n, sizeof(n));
}

static bool
arp_sender_ok(const struct net_iface *ifc, rte_be32_t sip,
	      const struct rte_ether_addr *sha)
{
	if (!rte_is_valid_assigned_ether_addr(sha))
		return false;
	return sip != 0 && (sip & ifc->mask) == (ifc->addr & ifc->mask) &&
	       sip != ifc->addr && (sip | ifc->mask) != 0xffffffff;
}

void
arp_input(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m)
{
	const struct net_iface *ifc = &nl->ifaces[port];
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;
	struct rte_ether_addr sha;
	rte_be32_t sip, tip;
	uint16_t op;
	bool learn;

	if (rte_pktmbuf_data_len(m) < m->l2_len + sizeof(*ah))
		goto malformed;
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, m->l2_len);
	if (ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ah->arp_hlen != RTE_ETHER_ADDR_LEN ||
	    ah->arp_plen != sizeof(rte_be32_t))
		goto malformed;
	op = rte_be_to_cpu_16(ah->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)
		goto malformed;
	sha = ah->arp_data.arp_sha;
	sip = ah->arp_data.arp_sip;
	tip = ah->arp_data.arp_tip;
	learn = arp_sender_ok(ifc, sip, &sha);

	if (op == RTE_ARP_OP_REPLY) {
		dpc_inc(&nl->cnt, DPC_arp_replies_in);
		if (learn) {
			arp_update(nl, port, sip, &sha, false);
			arp_tell_peers(nl, port, sip, &sha, false);
		}
		rte_pktmbuf_free(m);
		return;
	}

	dpc_inc(&nl->cnt, DPC_arp_requests_in);
	if (tip != ifc->addr) {
		/* Not ours, but a gratuitous ARP or a request from a known
		 * neighbour still refreshes what we have (RFC 826 merge). */
		if (learn) {
			arp_update(nl, port, sip, &sha, false);
			arp_tell_peers(nl, port, sip, &sha, false);
		}
		dpc_inc(&nl->cnt, DPC_arp_not_for_us);
		rte_pktmbuf_free(m);
		return;
	}
	/* We are the target: the sender will talk to us, so remember it. */
	if (learn) {
		arp_update(nl, port, sip, &sha, true);
		arp_tell_peers(nl, port, sip, &sha, true);
	}

	/* Answer in place (an ARP probe with SPA 0 is answered too: that is
	 * how RFC 5227 hosts learn the address is taken). */
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&sha, &ah->arp_data.arp_tha);
	ah->arp_data.arp_tip = sip;
	rte_ether_addr_copy(&ifc->mac, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = ifc->addr;
	rte_ether_addr_copy(&eh->src_addr, &eh->dst_addr);
	rte_ether_addr_copy(&ifc->mac, &eh->src_addr);
	m->ol_flags = 0;
	net_tx(nl, port, m);
	dpc_inc(&nl->cnt, DPC_arp_replies_out);
	return;

malformed:
	dpc_inc(&nl->cnt, DPC_arp_malformed);
	rte_pktmbuf_free(m);
}

int
arp_lookup(struct net_lcore *nl, uint16_t port, rte_be32_t ip,
	   struct rte_ether_addr *mac)
{
	struct arp_entry *e = arp_find(nl, port, ip);

	if (e == NULL || e->state != ARP_REACHABLE)
		return -ENOENT;
	*mac = e->mac;
	return 0;
}

static void
arp_probe(struct net_lcore *nl, struct arp_entry *e)
{
	arp_request(nl, e->port, e->ip);
	e->probes++;
	e->next_probe = nl->now + ms_to_tsc(nl, ARP_RETRY_MS);
}

void
arp_output(struct net_lcore *nl, uint16_t port, rte_be32_t nexthop,
	   struct rte_mbuf *m)
{
	struct arp_entry *e = arp_find(nl, port, nexthop);

	if (e != NULL && e->state == ARP_REACHABLE) {
		/* STALE: keep using it, but confirm it is still there. */
		if (nl->now >= e->expire && nl->now >= e->next_probe &&
		    e->probes < ARP_PROBES)
			arp_probe(nl, e);
		arp_fill_eth(m, &nl->ifaces[port], &e->mac);
		net_tx(nl, port, m);
		return;
	}
	if (e == NULL) {
		e = arp_alloc(nl, port, nexthop);
		e->state = ARP_INCOMPLETE;
		e->next_probe = nl->now;
	}
	if (e->nb_hold == ARP_HOLD) {
		rte_pktmbuf_free(e->hold[0]);
		memmove(&e->hold[0], &e->hold[1],
			(ARP_HOLD - 1) * sizeof(e->hold[0]));
		e->nb_hold--;
		dpc_inc(&nl->cnt, DPC_arp_hold_dropped);
	}
	e->hold[e->nb_hold++] = m;
	if (nl->now >= e->next_probe && e->probes < ARP_PROBES)
		arp_probe(nl, e);
}

static void
arp_drain_inbox(struct net_lcore *nl)
{
	struct arp_notice n[16];
	unsigned int i, got;

	if (nl->arp_inbox == NULL)
		return;
	do {
		got = rte_ring_dequeue_burst_elem(nl->arp_inbox, n, sizeof(n[0]),
						  RTE_DIM(n), NULL);
		for (i = 0; i < got; i++) {
			uint16_t port = n[i].port & 0x7fff;

			if (port < nl->nb_ifaces)
				arp_update(nl, port, n[i].ip, &n[i].mac,
					   (n[i].port & 0x8000) != 0);
		}
	} while (got == RTE_DIM(n));
}

void
arp_tick(struct net_lcore *nl)
{
	uint64_t give_up = ARP_PROBES * ms_to_tsc(nl, ARP_RETRY_MS);
	struct arp_entry *e;
	unsigned int b, w;

	arp_drain_inbox(nl);
	if (nl->now < nl->arp.next_tick)
		return;
	nl->arp.next_tick = nl->now + ms_to_tsc(nl, ARP_TICK_MS);

	for (b = 0; b < ARP_BUCKETS; b++) {
		for (w = 0; w < ARP_WAYS; w++) {
			e = &nl->arp.e[b][w];
			if (e->state == ARP_INCOMPLETE &&
			    nl->now >= e->next_probe) {
				if (e->probes < ARP_PROBES) {
					arp_probe(nl, e);
					continue;
				}
				dpc_inc(&nl->cnt, DPC_arp_unresolved);
				arp_release(nl, e);
			} else if (e->state == ARP_REACHABLE &&
				   nl->now >= e->expire + give_up) {
				arp_release(nl, e);
			}
		}
	}
}

void
arp_flush(struct net_lcore *nl)
{
	unsigned int b, w;

	for (b = 0; b < ARP_BUCKETS; b++)
		for (w = 0; w < ARP_WAYS; w++)
			if (nl->arp.e[b][w].state != ARP_FREE)
				arp_release(nl, &nl->arp.e[b][w]);
}

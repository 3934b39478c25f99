/* SPDX-License-Identifier: BSD-3-Clause */
/* ARP: replies, learning, resolution with hold queue, retries, expiry,
 * and the cross-lcore notices. */
#include <string.h>

#include <rte_ring.h>

#include "testlib.h"

static const struct rte_ether_addr zero_mac;
static const struct rte_ether_addr bcast = {
	.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

static struct rte_mbuf *
arp_frame(uint16_t op, const struct rte_ether_addr *eth_dst,
	  const struct rte_ether_addr *sha, uint32_t sip,
	  const struct rte_ether_addr *tha, uint32_t tip)
{
	uint8_t buf[64] = { 0 };
	size_t off = t_eth(buf, eth_dst, sha, RTE_ETHER_TYPE_ARP);

	t_arp(buf + off, op, sha, sip, tha, tip);
	return t_mbuf(buf, 60);
}

static struct rte_arp_hdr *
arph(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14);
}

/* A UDP-ish IPv4 frame to dst for arp_output. */
static struct rte_mbuf *
ip_frame(uint32_t dst, uint8_t tag)
{
	uint8_t buf[64];
	size_t off = t_eth(buf, &zero_mac, &t_our_mac, RTE_ETHER_TYPE_IPV4);
	struct rte_mbuf *m;

	off += t_ipv4(buf + off, T_OUR_IP, dst, IPPROTO_UDP, 1);
	buf[off++] = tag;
	m = t_mbuf(buf, off);
	m->l2_len = 14;
	m->l3_len = 20;
	return m;
}

static void
test_reply_to_request(void **state)
{
	struct t_env *env = *state;
	struct rte_mbuf *r;
	struct rte_ether_hdr *eh;
	struct rte_ether_addr mac;

	r = t_rx1(env, arp_frame(RTE_ARP_OP_REQUEST, &bcast, &t_peer_mac,
				 T_PEER_IP, &zero_mac, T_OUR_IP));
	assert_non_null(r);
	eh = rte_pktmbuf_mtod(r, struct rte_ether_hdr *);
	assert_true(rte_is_same_ether_addr(&eh->dst_addr, &t_peer_mac));
	assert_true(rte_is_same_ether_addr(&eh->src_addr, &t_our_mac));
	assert_int_equal(eh->ether_type, RTE_BE16(RTE_ETHER_TYPE_ARP));
	assert_int_equal(arph(r)->arp_opcode, RTE_BE16(RTE_ARP_OP_REPLY));
	assert_true(rte_is_same_ether_addr(&arph(r)->arp_data.arp_sha,
					   &t_our_mac));
	assert_int_equal(arph(r)->arp_data.arp_sip, rte_cpu_to_be_32(T_OUR_IP));
	assert_true(rte_is_same_ether_addr(&arph(r)->arp_data.arp_tha,
					   &t_peer_mac));
	assert_int_equal(arph(r)->arp_data.arp_tip,
			 rte_cpu_to_be_32(T_PEER_IP));
	rte_pktmbuf_free(r);
	assert_int_equal(t_cnt(env, DPC_arp_requests_in), 1);
	assert_int_equal(t_cnt(env, DPC_arp_replies_out), 1);
	/* The requester is now a known neighbour. */
	assert_int_equal(arp_lookup(&env->nl, 0, rte_cpu_to_be_32(T_PEER_IP),
				    &mac), 0);
	assert_true(rte_is_same_ether_addr(&mac, &t_peer_mac));
}

static void
test_request_for_other_ignored(void **state)
{
	struct t_env *env = *state;
	struct rte_ether_addr mac;

	assert_null(t_rx1(env, arp_frame(RTE_ARP_OP_REQUEST, &bcast,
					 &t_peer_mac, T_PEER_IP, &zero_mac,
					 T_IPV4(192, 0, 2, 99))));
	assert_int_equal(t_cnt(env, DPC_arp_not_for_us), 1);
	/* Not a conversation with us: nothing learned (no cache pollution
	 * from every broadcast on the segment). */
	assert_int_equal(arp_lookup(&env->nl, 0, rte_cpu_to_be_32(T_PEER_IP),
				    &mac), -ENOENT);
}

static void
test_malformed(void **state)
{
	struct t_env *env = *state;
	struct rte_mbuf *m;
	uint64_t n = 0;

	m = arp_frame(RTE_ARP_OP_REQUEST, &bcast, &t_peer_mac, T_PEER_IP,
		      &zero_mac, T_OUR_IP);
	rte_pktmbuf_trim(m, 60 - 14 - 27);      /* one byte short */
	assert_null(t_rx1(env, m));
	assert_int_equal(t_cnt(env, DPC_arp_malformed), ++n);

	m = arp_frame(RTE_ARP_OP_REQUEST, &bcast, &t_peer_mac, T_PEER_IP,
		      &zero_mac, T_OUR_IP);
	arph(m)->arp_hlen = 8;
	assert_null(t_rx1(env, m));
	assert_int_equal(t_cnt(env, DPC_arp_malformed), ++n);

	m = arp_frame(RTE_ARP_OP_REQUEST, &bcast, &t_peer_mac, T_PEER_IP,
		      &zero_mac, T_OUR_IP);
	arph(m)->arp_plen = 16;
	assert_null(t_rx1(env, m));
	assert_int_equal(t_cnt(env, DPC_arp_malformed), ++n);

	m = arp_frame(RTE_ARP_OP_REQUEST, &bcast, &t_peer_mac, T_PEER_IP,
		      &zero_mac, T_OUR_IP);
	arph(m)->arp_hardware = RTE_BE16(6);
	assert_null(t_rx1(env, m));
	assert_int_equal(t_cnt(env, DPC_arp_malformed), ++n);

	m = arp_frame(RTE_ARP_OP_REQUEST, &bcast, &t_peer_mac, T_PEER_IP,
		      &zero_mac, T_OUR_IP);
	arph(m)->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	assert_null(t_rx1(env, m));
	assert_int_equal(t_cnt(env, DPC_arp_malformed), ++n);

	m = arp_frame(9, &bcast, &t_peer_mac, T_PEER_IP, &zero_mac, T_OUR_IP);
	assert_null(t_rx1(env, m));
	assert_int_equal(t_cnt(env, DPC_arp_malformed), ++n);
	assert_int_equal(t_cnt(env, DPC_arp_replies_out), 0);
}

static void
test_no_learning_from_bogus_senders(void **state)
{
	struct t_env *env = *state;
	struct rte_ether_addr mac;
	struct rte_mbuf *r;

	/* Broadcast sender MAC: answered? No: such a sender cannot be
	 * answered sensibly, and must not enter the cache. */
	r = t_rx1(env, arp_frame(RTE_ARP_OP_REQUEST, &bcast, &bcast,
				 T_PEER_IP, &zero_mac, T_OUR_IP));
	rte_pktmbuf_free(r);
	assert_int_equal(arp_lookup(&env->nl, 0, rte_cpu_to_be_32(T_PEER_IP),
				    &mac), -ENOENT);
	/* Off-subnet sender. */
	r = t_rx1(env, arp_frame(RTE_ARP_OP_REQUEST, &bcast, &t_peer_mac,
				 T_IPV4(10, 1, 1, 1), &zero_mac, T_OUR_IP));
	rte_pktmbuf_free(r);
	assert_int_equal(arp_lookup(&env->nl, 0,
				    rte_cpu_to_be_32(T_IPV4(10, 1, 1, 1)),
				    &mac), -ENOENT);
	/* An unsolicited reply does not create an entry. */
	assert_null(t_rx1(env, arp_frame(RTE_ARP_OP_REPLY, &t_our_mac,
					 &t_peer_mac, T_PEER_IP, &t_our_mac,
					 T_OUR_IP)));
	assert_int_equal(arp_lookup(&env->nl, 0, rte_cpu_to_be_32(T_PEER_IP),
				    &mac), -ENOENT);
}

static void
test_resolve_hold_and_release(void **state)
{
	struct t_env *env = *state;
	struct rte_mbuf *out[8];
	uint16_t n, i;

	/* Six frames wait for an unknown next hop: one request goes out,
	 * the hold queue keeps the newest ARP_HOLD. */
	for (i = 0; i < 6; i++)
		arp_output(&env->nl, 0, rte_cpu_to_be_32(T_PEER_IP),
			   ip_frame(T_PEER_IP, (uint8_t)i));
	n = t_tx(env, out, 8);
	assert_int_equal(n, 1);
	assert_int_equal(arph(out[0])->arp_opcode,
			 RTE_BE16(RTE_ARP_OP_REQUEST));
	assert_int_equal(arph(out[0])->arp_data.arp_tip,
			 rte_cpu_to_be_32(T_PEER_IP));
	assert_true(rte_is_broadcast_ether_addr(
		&rte_pktmbuf_mtod(out[0], struct rte_ether_hdr *)->dst_addr));
	rte_pktmbuf_free(out[0]);
	assert_int_equal(t_cnt(env, DPC_arp_hold_dropped), 6 - ARP_HOLD);

	/* The reply releases the held frames, in order, to the right MAC. */
	eth_input(&env->nl, 0, arp_frame(RTE_ARP_OP_REPLY, &t_our_mac,
					 &t_peer_mac, T_PEER_IP, &t_our_mac,
					 T_OUR_IP));
	n = t_tx(env, out, 8);
	assert_int_equal(n, ARP_HOLD);
	for (i = 0; i < n; i++) {
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(out[i],
						struct rte_ether_hdr *);

		assert_true(rte_is_same_ether_addr(&eh->dst_addr,
						   &t_peer_mac));
		assert_int_equal(rte_pktmbuf_mtod(out[i], uint8_t *)[34],
				 6 - ARP_HOLD + i);
		rte_pktmbuf_free(out[i]);
	}
}

static void
test_resolve_gives_up(void **state)
{
	struct t_env *env = *state;
	struct rte_mbuf *out[8];
	unsigned int requests = 0, step;

	arp_output(&env->nl, 0, rte_cpu_to_be_32(T_PEER_IP),
		   ip_frame(T_PEER_IP, 1));
	/* Step the injected clock in 100 ms ticks for 5 s. */
	for (step = 0; step < 50; step++) {
		uint16_t n, i;

		arp_tick(&env->nl);
		n = t_tx(env, out, 8);
		for (i = 0; i < n; i++) {
			assert_int_equal(arph(out[i])->arp_opcode,
					 RTE_BE16(RTE_ARP_OP_REQUEST));
			rte_pktmbuf_free(out[i]);
		}
		requests += n;
		env->nl.now += T_HZ / 10;
	}
	assert_int_equal(requests, ARP_PROBES);
	assert_int_equal(t_cnt(env, DPC_arp_unresolved), 1);
	assert_int_equal(t_cnt(env, DPC_arp_hold_dropped), 1);
}

static void
test_stale_refresh_and_expiry(void **state)
{
	struct t_env *env = *state;
	struct rte_ether_addr mac;
	struct rte_mbuf *out[8];
	uint16_t n;

	arp_learn(&env->nl, 0, rte_cpu_to_be_32(T_PEER_IP), &t_peer_mac, true);
	/* Fresh: used without asking. */
	arp_output(&env->nl, 0, rte_cpu_to_be_32(T_PEER_IP),
		   ip_frame(T_PEER_IP, 1));
	n = t_tx(env, out, 8);
	assert_int_equal(n, 1);
	rte_pktmbuf_free(out[0]);

	/* Past the reachable time: still used, plus one refresh request. */
	env->nl.now += (ARP_REACHABLE_S + 1) * T_HZ;
	arp_output(&env->nl, 0, rte_cpu_to_be_32(T_PEER_IP),
		   ip_frame(T_PEER_IP, 2));
	n = t_tx(env, out, 8);
	assert_int_equal(n, 2);
	assert_int_equal(arph(out[0])->arp_opcode,
			 RTE_BE16(RTE_ARP_OP_REQUEST));
	rte_pktmbuf_free_bulk(out, n);

	/* Never confirmed: removed after the probes' time. */
	env->nl.now += (ARP_PROBES + 1) * T_HZ;
	arp_tick(&env->nl);
	assert_int_equal(arp_lookup(&env->nl, 0, rte_cpu_to_be_32(T_PEER_IP),
				    &mac), -ENOENT);
}

static void
test_announce(void **state)
{
	struct t_env *env = *state;
	struct rte_mbuf *out[2];

	assert_int_equal(arp_announce(&env->nl, 0), 0);
	assert_int_equal(t_tx(env, out, 2), 1);
	assert_int_equal(rte_pktmbuf_data_len(out[0]), 60);
	assert_true(rte_is_broadcast_ether_addr(
		&rte_pktmbuf_mtod(out[0], struct rte_ether_hdr *)->dst_addr));
	assert_int_equal(arph(out[0])->arp_data.arp_sip,
			 rte_cpu_to_be_32(T_OUR_IP));
	assert_int_equal(arph(out[0])->arp_data.arp_tip,
			 rte_cpu_to_be_32(T_OUR_IP));
	assert_int_equal(t_cnt(env, DPC_arp_gratuitous_out), 1);
	rte_pktmbuf_free(out[0]);
}

/* Two lcores: what one learns from the wire reaches the other through its
 * inbox, including replies to requests the other one sent. */
static void
test_peer_notices(void **state)
{
	struct t_env *env = *state;
	struct net_lcore *other = calloc(1, sizeof(*other));
	struct rte_ring *inbox;
	struct rte_ether_addr mac;
	struct rte_mbuf *out[8];
	uint16_t n;

	assert_non_null(other);
	net_lcore_init(other, env->ifc, 1, 0, t_pool(), T_HZ);
	other->now = env->nl.now;
	inbox = rte_ring_create_elem("t_inbox", sizeof(struct arp_notice), 64,
				     SOCKET_ID_ANY, RING_F_SC_DEQ);
	assert_non_null(inbox);
	other->arp_inbox = inbox;
	env->nl.arp_peers[env->nl.nb_arp_peers++] = inbox;

	/* `other` is waiting on the gateway... */
	arp_output(other, 0, rte_cpu_to_be_32(T_GW_IP), ip_frame(T_GW_IP, 7));
	net_flush(other);
	n = port_mock_collect(env->port, 0, out, 8);
	assert_int_equal(n, 1);                 /* its request */
	rte_pktmbuf_free(out[0]);
	/* ...but the reply lands on env's queue. */
	assert_null(t_rx1(env, arp_frame(RTE_ARP_OP_REPLY, &t_our_mac,
					 &t_peer_mac, T_GW_IP, &t_our_mac,
					 T_OUR_IP)));
	arp_tick(other);
	net_flush(other);
	n = port_mock_collect(env->port, 0, out, 8);
	assert_int_equal(n, 1);                 /* the held frame */
	assert_true(rte_is_same_ether_addr(
		&rte_pktmbuf_mtod(out[0], struct rte_ether_hdr *)->dst_addr,
		&t_peer_mac));
	rte_pktmbuf_free(out[0]);

	/* A request to us creates the entry on both. */
	rte_pktmbuf_free(t_rx1(env, arp_frame(RTE_ARP_OP_REQUEST, &bcast,
					      &t_peer_mac, T_PEER_IP,
					      &zero_mac, T_OUR_IP)));
	arp_tick(other);
	assert_int_equal(arp_lookup(other, 0, rte_cpu_to_be_32(T_PEER_IP),
				    &mac), 0);

	net_lcore_fini(other);
	free(other);
	rte_ring_free(inbox);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, t_env_setup, t_env_teardown)
	const struct CMUnitTest tests[] = {
		T(test_reply_to_request),
		T(test_request_for_other_ignored),
		T(test_malformed),
		T(test_no_learning_from_bogus_senders),
		T(test_resolve_hold_and_release),
		T(test_resolve_gives_up),
		T(test_stale_refresh_and_expiry),
		T(test_announce),
		T(test_peer_notices),
	};

	t_eal_init();
	return cmocka_run_group_tests_name("arp", tests, NULL, NULL);
}

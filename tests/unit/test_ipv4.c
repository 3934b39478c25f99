/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet and IPv4 receive validation, routing and output. */
#include <string.h>

#include "testlib.h"

/* A frame: Ethernet to us + IPv4 peer->us carrying `plen` zero bytes of
 * protocol `proto`; returns the length. */
static size_t
frame(uint8_t *buf, uint8_t proto, size_t plen)
{
	size_t off = t_eth(buf, &t_our_mac, &t_peer_mac, RTE_ETHER_TYPE_IPV4);

	off += t_ipv4(buf + off, T_PEER_IP, T_OUR_IP, proto, plen);
	memset(buf + off, 0, plen);
	return off + plen;
}

static struct rte_ipv4_hdr *
iph(uint8_t *buf)
{
	return (struct rte_ipv4_hdr *)(buf + sizeof(struct rte_ether_hdr));
}

static void
refresh_cksum(uint8_t *buf)
{
	struct rte_ipv4_hdr *ip = iph(buf);
	size_t hlen = (ip->version_ihl & 0xf) * 4u;

	ip->hdr_checksum = 0;
	ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, hlen);
}

static void
expect_drop(struct t_env *env, const uint8_t *buf, size_t len,
	    enum dp_counter c)
{
	uint64_t before = t_cnt(env, c);

	assert_null(t_rx1(env, t_mbuf(buf, len)));
	assert_int_equal(t_cnt(env, c), before + 1);
}

static void
test_eth_short(void **state)
{
	uint8_t buf[64] = { 0 };

	expect_drop(*state, buf, 0, DPC_eth_short);
	expect_drop(*state, buf, 13, DPC_eth_short);
}

static void
test_eth_not_for_us(void **state)
{
	static const struct rte_ether_addr other = {
		.addr_bytes = { 0x02, 0, 0, 0, 0, 0x77 } };
	static const struct rte_ether_addr mcast = {
		.addr_bytes = { 0x01, 0x00, 0x5e, 0, 0, 1 } };
	uint8_t buf[128];
	size_t len = frame(buf, IPPROTO_ICMP, 8);

	((struct rte_ether_hdr *)buf)->dst_addr = other;
	expect_drop(*state, buf, len, DPC_eth_not_for_us);
	((struct rte_ether_hdr *)buf)->dst_addr = mcast;
	expect_drop(*state, buf, len, DPC_eth_not_for_us);
}

static void
test_eth_types(void **state)
{
	uint8_t buf[64] = { 0 };
	size_t len = t_eth(buf, &t_our_mac, &t_peer_mac, 0x88cc) + 46;

	expect_drop(*state, buf, len, DPC_eth_unknown_type);
	t_eth(buf, &t_our_mac, &t_peer_mac, RTE_ETHER_TYPE_VLAN);
	expect_drop(*state, buf, len, DPC_eth_unknown_type);
	t_eth(buf, &t_our_mac, &t_peer_mac, RTE_ETHER_TYPE_IPV6);
	expect_drop(*state, buf, len, DPC_eth_ipv6);
}

static void
test_ip_short_and_version(void **state)
{
	uint8_t buf[128];
	size_t len = frame(buf, IPPROTO_ICMP, 8);

	expect_drop(*state, buf, 14 + 19, DPC_ip_short);
	iph(buf)->version_ihl = 0x65;
	refresh_cksum(buf);
	expect_drop(*state, buf, len, DPC_ip_bad_version);
}

static void
test_ip_bad_ihl(void **state)
{
	uint8_t buf[128];
	size_t len = frame(buf, IPPROTO_ICMP, 8);

	iph(buf)->version_ihl = 0x44;           /* 16 bytes < 20 */
	expect_drop(*state, buf, len, DPC_ip_bad_ihl);
	iph(buf)->version_ihl = 0x4f;           /* 60 bytes > frame */
	expect_drop(*state, buf, len, DPC_ip_bad_ihl);
}

static void
test_ip_bad_length(void **state)
{
	uint8_t buf[128];
	size_t len = frame(buf, IPPROTO_ICMP, 8);

	iph(buf)->total_length = rte_cpu_to_be_16(200);  /* beyond frame */
	refresh_cksum(buf);
	expect_drop(*state, buf, len, DPC_ip_bad_length);
	iph(buf)->total_length = rte_cpu_to_be_16(12);   /* < header */
	refresh_cksum(buf);
	expect_drop(*state, buf, len, DPC_ip_bad_length);
}

static void
test_ip_bad_checksum(void **state)
{
	uint8_t buf[128];
	size_t len = frame(buf, IPPROTO_ICMP, 8);
	struct rte_mbuf *m;

	iph(buf)->hdr_checksum ^= 0x0100;
	expect_drop(*state, buf, len, DPC_ip_bad_checksum);

	/* A port that validated checksums is believed both ways. */
	m = t_mbuf(buf, len);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	refresh_cksum(rte_pktmbuf_mtod(m, uint8_t *));
	assert_null(t_rx1(*state, m));
	assert_int_equal(t_cnt(*state, DPC_ip_bad_checksum), 2);
}

static void
test_ip_cksum_offload_good_is_trusted(void **state)
{
	struct rte_mbuf *m = t_ping(1, 8), *r;

	iph(rte_pktmbuf_mtod(m, uint8_t *))->hdr_checksum ^= 0xffff;
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	r = t_rx1(*state, m);
	assert_non_null(r);
	rte_pktmbuf_free(r);
}

static void
test_ip_padding_trimmed(void **state)
{
	uint8_t buf[128];
	struct rte_mbuf *m = t_ping(3, 2), *r;
	size_t len = rte_pktmbuf_data_len(m);

	/* Ethernet pads to 60 bytes; the pad is not ICMP payload, so the
	 * ICMP checksum only verifies if the pad is cut off. */
	memcpy(buf, rte_pktmbuf_mtod(m, void *), len);
	memset(buf + len, 0xab, 60 - len);
	rte_pktmbuf_free(m);
	r = t_rx1(*state, t_mbuf(buf, 60));
	assert_non_null(r);
	assert_int_equal(rte_pktmbuf_data_len(r), len);
	rte_pktmbuf_free(r);
}

static void
test_ip_not_for_us(void **state)
{
	uint8_t buf[128];
	size_t len = frame(buf, IPPROTO_ICMP, 8);

	iph(buf)->dst_addr = rte_cpu_to_be_32(T_IPV4(192, 0, 2, 11));
	refresh_cksum(buf);
	expect_drop(*state, buf, len, DPC_ip_not_for_us);
}

static void
test_ip_martian_source(void **state)
{
	static const uint32_t bad[] = {
		T_IPV4(0, 0, 0, 0), T_IPV4(224, 0, 0, 1),
		T_IPV4(255, 255, 255, 255), T_IPV4(192, 0, 2, 255),
	};
	uint8_t buf[128];
	size_t len = frame(buf, IPPROTO_ICMP, 8), i;

	for (i = 0; i < RTE_DIM(bad); i++) {
		iph(buf)->src_addr = rte_cpu_to_be_32(bad[i]);
		refresh_cksum(buf);
		expect_drop(*state, buf, len, DPC_ip_bad_src);
	}
}

static void
test_ip_fragments(void **state)
{
	uint8_t buf[128];
	size_t len = frame(buf, IPPROTO_ICMP, 8);

	iph(buf)->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	refresh_cksum(buf);
	expect_drop(*state, buf, len, DPC_ip_fragment);
	iph(buf)->fragment_offset = rte_cpu_to_be_16(100);
	refresh_cksum(buf);
	expect_drop(*state, buf, len, DPC_ip_fragment);
}

static void
test_ip_unknown_proto(void **state)
{
	uint8_t buf[128];
	size_t len = frame(buf, IPPROTO_UDP, 8);

	expect_drop(*state, buf, len, DPC_ip_unknown_proto);
}

static void
test_ip_options_accepted(void **state)
{
	uint8_t buf[256], tmp[256];
	struct rte_mbuf *m = t_ping(9, 16), *r;
	size_t len = rte_pktmbuf_data_len(m);

	/* Insert 4 bytes of NOP options after the 20-byte header. */
	memcpy(tmp, rte_pktmbuf_mtod(m, void *), len);
	rte_pktmbuf_free(m);
	memcpy(buf, tmp, 34);
	memset(buf + 34, 1, 4);
	memcpy(buf + 38, tmp + 34, len - 34);
	iph(buf)->version_ihl = 0x46;
	iph(buf)->total_length = rte_cpu_to_be_16(len - 14 + 4);
	refresh_cksum(buf);
	r = t_rx1(*state, t_mbuf(buf, len + 4));
	assert_non_null(r);
	rte_pktmbuf_free(r);
}

static void
test_route_and_output(void **state)
{
	struct t_env *env = *state;
	struct rte_mbuf *m, *out[4];
	struct rte_ipv4_hdr *ip;
	rte_be32_t nh;
	uint8_t buf[64];
	size_t len;

	assert_int_equal(ipv4_route(&env->nl, rte_cpu_to_be_32(T_PEER_IP),
				    &nh), 0);
	assert_int_equal(nh, rte_cpu_to_be_32(T_PEER_IP));
	assert_int_equal(ipv4_route(&env->nl,
				    rte_cpu_to_be_32(T_IPV4(198, 51, 100, 1)),
				    &nh), -ENETUNREACH);

	/* Off-link without a gateway: dropped and counted. */
	len = t_eth(buf, &t_peer_mac, &t_our_mac, RTE_ETHER_TYPE_IPV4);
	len += t_ipv4(buf + len, T_OUR_IP, T_IPV4(198, 51, 100, 1),
		      IPPROTO_UDP, 0);
	m = t_mbuf(buf, len);
	m->l2_len = 14;
	m->l3_len = 20;
	assert_int_equal(ipv4_output(&env->nl, m), -ENETUNREACH);
	assert_int_equal(t_cnt(env, DPC_ip_no_route), 1);

	/* With a gateway: next hop is the gateway, resolved by ARP. */
	env->ifc[0].gateway = rte_cpu_to_be_32(T_GW_IP);
	assert_int_equal(ipv4_route(&env->nl,
				    rte_cpu_to_be_32(T_IPV4(198, 51, 100, 1)),
				    &nh), 0);
	assert_int_equal(nh, rte_cpu_to_be_32(T_GW_IP));
	arp_learn(&env->nl, 0, rte_cpu_to_be_32(T_GW_IP), &t_peer_mac, true);
	m = t_mbuf(buf, len);
	m->l2_len = 14;
	m->l3_len = 20;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	ip->hdr_checksum = 0xdead;
	assert_int_equal(ipv4_output(&env->nl, m), 0);
	assert_int_equal(t_tx(env, out, 4), 1);
	ip = rte_pktmbuf_mtod_offset(out[0], struct rte_ipv4_hdr *, 14);
	assert_true(net_cksum_ok(ip, 20));
	assert_true(rte_is_same_ether_addr(
		&rte_pktmbuf_mtod(out[0], struct rte_ether_hdr *)->dst_addr,
		&t_peer_mac));
	rte_pktmbuf_free(out[0]);
}

static void
test_output_offload_flags(void **state)
{
	struct t_env *env = *state;
	struct rte_mbuf *m, *out[2];
	uint8_t buf[64];
	size_t len;

	len = t_eth(buf, &t_peer_mac, &t_our_mac, RTE_ETHER_TYPE_IPV4);
	len += t_ipv4(buf + len, T_OUR_IP, T_PEER_IP, IPPROTO_UDP, 0);
	arp_learn(&env->nl, 0, rte_cpu_to_be_32(T_PEER_IP), &t_peer_mac, true);
	m = t_mbuf(buf, len);
	m->l2_len = 14;
	m->l3_len = 20;
	assert_int_equal(ipv4_output(&env->nl, m), 0);
	assert_int_equal(t_tx(env, out, 2), 1);
	/* The port computes it: the field is zero and the flags ask. */
	assert_int_equal(rte_pktmbuf_mtod_offset(out[0], struct rte_ipv4_hdr *,
						 14)->hdr_checksum, 0);
	assert_true(out[0]->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	assert_true(out[0]->ol_flags & RTE_MBUF_F_TX_IPV4);
	rte_pktmbuf_free(out[0]);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, t_env_setup, t_env_teardown)
	const struct CMUnitTest tests[] = {
		T(test_eth_short),
		T(test_eth_not_for_us),
		T(test_eth_types),
		T(test_ip_short_and_version),
		T(test_ip_bad_ihl),
		T(test_ip_bad_length),
		T(test_ip_bad_checksum),
		T(test_ip_cksum_offload_good_is_trusted),
		T(test_ip_padding_trimmed),
		T(test_ip_not_for_us),
		T(test_ip_martian_source),
		T(test_ip_fragments),
		T(test_ip_unknown_proto),
		T(test_ip_options_accepted),
		T(test_route_and_output),
		cmocka_unit_test_setup_teardown(test_output_offload_flags,
			t_env_setup_offload, t_env_teardown),
	};

	t_eal_init();
	return cmocka_run_group_tests_name("eth+ipv4", tests, NULL, NULL);
}

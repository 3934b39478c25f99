/* SPDX-License-Identifier: BSD-3-Clause */
/* ICMP echo: replies are exact mirrors with valid checksums. */
#include <string.h>

#include "testlib.h"

static void
check_reply(struct rte_mbuf *req_copy, struct rte_mbuf *r, bool sw_cksum)
{
	struct rte_ether_hdr *qe = rte_pktmbuf_mtod(req_copy,
						    struct rte_ether_hdr *);
	struct rte_ether_hdr *re = rte_pktmbuf_mtod(r, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *qi = (struct rte_ipv4_hdr *)(qe + 1);
	struct rte_ipv4_hdr *ri = (struct rte_ipv4_hdr *)(re + 1);
	struct rte_icmp_hdr *qc = (struct rte_icmp_hdr *)(qi + 1);
	struct rte_icmp_hdr *rc = (struct rte_icmp_hdr *)(ri + 1);
	size_t icmp_len = rte_be_to_cpu_16(qi->total_length) - 20;

	assert_int_equal(rte_pktmbuf_data_len(r),
			 rte_pktmbuf_data_len(req_copy));
	assert_true(rte_is_same_ether_addr(&re->dst_addr, &qe->src_addr));
	assert_true(rte_is_same_ether_addr(&re->src_addr, &t_our_mac));
	assert_int_equal(ri->src_addr, qi->dst_addr);
	assert_int_equal(ri->dst_addr, qi->src_addr);
	assert_int_equal(ri->next_proto_id, IPPROTO_ICMP);
	if (sw_cksum)
		assert_true(net_cksum_ok(ri, 20));
	assert_int_equal(rc->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	assert_int_equal(rc->icmp_code, 0);
	assert_int_equal(rc->icmp_ident, qc->icmp_ident);
	assert_int_equal(rc->icmp_seq_nb, qc->icmp_seq_nb);
	assert_memory_equal(rc + 1, qc + 1, icmp_len - sizeof(*qc));
	/* The incrementally adjusted checksum must equal a full one. */
	assert_true(net_cksum_ok(rc, icmp_len));
}

static void
ping_sizes(void **state, bool sw)
{
	static const size_t sizes[] = { 0, 1, 7, 56, 1400, 1472 };
	size_t i;

	for (i = 0; i < RTE_DIM(sizes); i++) {
		struct rte_mbuf *q = t_ping((uint16_t)i, sizes[i]);
		struct rte_mbuf *copy = t_mbuf(rte_pktmbuf_mtod(q, void *),
					       rte_pktmbuf_data_len(q));
		struct rte_mbuf *r = t_rx1(*state, q);

		assert_non_null(r);
		check_reply(copy, r, sw);
		rte_pktmbuf_free(r);
		rte_pktmbuf_free(copy);
	}
	assert_int_equal(t_cnt(*state, DPC_icmp_echo_in), RTE_DIM(sizes));
	assert_int_equal(t_cnt(*state, DPC_icmp_echo_out), RTE_DIM(sizes));
}

static void
test_echo_reply(void **state)
{
	ping_sizes(state, true);
}

static void
test_echo_reply_offload(void **state)
{
	ping_sizes(state, false);
}

/* Every checksum value the adjustment can meet, including 0xffff/0x0000
 * edge cases of ones-complement arithmetic. */
static void
test_echo_cksum_edges(void **state)
{
	unsigned int seq;

	for (seq = 0; seq < 65536; seq += 251) {
		struct rte_mbuf *r = t_rx1(*state, t_ping((uint16_t)seq, 3));
		struct rte_icmp_hdr *ic;

		assert_non_null(r);
		ic = rte_pktmbuf_mtod_offset(r, struct rte_icmp_hdr *, 34);
		assert_true(net_cksum_ok(ic, sizeof(*ic) + 3));
		rte_pktmbuf_free(r);
	}
}

static void
test_bad_checksum(void **state)
{
	struct rte_mbuf *q = t_ping(1, 32);

	rte_pktmbuf_mtod_offset(q, struct rte_icmp_hdr *, 34)->icmp_cksum ^= 1;
	assert_null(t_rx1(*state, q));
	assert_int_equal(t_cnt(*state, DPC_icmp_bad_checksum), 1);
	assert_int_equal(t_cnt(*state, DPC_icmp_echo_out), 0);
}

static void
test_truncated(void **state)
{
	uint8_t buf[64];
	size_t off = t_eth(buf, &t_our_mac, &t_peer_mac, RTE_ETHER_TYPE_IPV4);

	off += t_ipv4(buf + off, T_PEER_IP, T_OUR_IP, IPPROTO_ICMP, 4);
	memset(buf + off, 0, 4);
	assert_null(t_rx1(*state, t_mbuf(buf, off + 4)));
	assert_int_equal(t_cnt(*state, DPC_icmp_malformed), 1);
}

static void
test_other_types_ignored(void **state)
{
	uint8_t buf[128];
	size_t off = t_eth(buf, &t_our_mac, &t_peer_mac, RTE_ETHER_TYPE_IPV4);

	off += t_ipv4(buf + off, T_PEER_IP, T_OUR_IP, IPPROTO_ICMP, 8 + 4);
	off += t_icmp_echo(buf + off, RTE_IP_ICMP_ECHO_REPLY, 1, 1, "abcd", 4);
	assert_null(t_rx1(*state, t_mbuf(buf, off)));
	assert_int_equal(t_cnt(*state, DPC_icmp_other), 1);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, t_env_setup, t_env_teardown)
	const struct CMUnitTest tests[] = {
		T(test_echo_reply),
		cmocka_unit_test_setup_teardown(test_echo_reply_offload,
			t_env_setup_offload, t_env_teardown),
		T(test_echo_cksum_edges),
		T(test_bad_checksum),
		T(test_truncated),
		T(test_other_types_ignored),
	};

	t_eal_init();
	return cmocka_run_group_tests_name("icmp", tests, NULL, NULL);
}

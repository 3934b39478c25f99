/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mempool.h>

#include "testlib.h"

#define T_POOL_SIZE 4095

const struct rte_ether_addr t_our_mac = {
	.addr_bytes = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a } };
const struct rte_ether_addr t_peer_mac = {
	.addr_bytes = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 } };

static struct rte_mempool *pool;

void
t_eal_init(void)
{
	char *argv[] = {
		"unit-test", "-l", "0", "--no-huge", "-m", "128",
		"--no-shconf", "--no-pci", "--no-telemetry",
		"--log-level=lib.eal:error", NULL,
	};
	static int done;

	if (done)
		return;
	if (rte_eal_init(RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	pool = rte_pktmbuf_pool_create("t_pool", T_POOL_SIZE, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "mbuf pool: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	done = 1;
}

struct rte_mempool *
t_pool(void)
{
	return pool;
}

static int
env_setup(void **state, uint32_t offloads)
{
	struct t_env *env = calloc(1, sizeof(*env));

	t_eal_init();
	assert_non_null(env);
	env->port = port_mock_open(0, 1, &t_our_mac, offloads);
	assert_non_null(env->port);
	env->ifc[0].port = env->port;
	env->ifc[0].mac = t_our_mac;
	env->ifc[0].addr = rte_cpu_to_be_32(T_OUR_IP);
	env->ifc[0].mask = rte_cpu_to_be_32(0xffffff00);
	env->ifc[0].prefix = 24;
	net_lcore_init(&env->nl, env->ifc, 1, 0, pool, T_HZ);
	env->nl.now = 1000 * T_HZ;
	env->pool_avail = rte_mempool_avail_count(pool);
	*state = env;
	return 0;
}

int
t_env_setup(void **state)
{
	return env_setup(state, 0);
}

int
t_env_setup_offload(void **state)
{
	return env_setup(state, PORT_TX_IPV4_CKSUM);
}

int
t_env_teardown(void **state)
{
	struct t_env *env = *state;
	unsigned int avail = env->pool_avail;

	net_lcore_fini(&env->nl);
	port_close(env->port);
	free(env);
	/* Every frame a test made was sent, freed or returned: no leak. */
	assert_int_equal(rte_mempool_avail_count(pool), avail);
	return 0;
}

struct rte_mbuf *
t_mbuf(const void *data, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	assert_non_null(m);
	p = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, data, len);
	return m;
}

size_t
t_eth(uint8_t *buf, const struct rte_ether_addr *dst,
      const struct rte_ether_addr *src, uint16_t type)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)buf;

	eh->dst_addr = *dst;
	eh->src_addr = *src;
	eh->ether_type = rte_cpu_to_be_16(type);
	return sizeof(*eh);
}

size_t
t_ipv4(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
       size_t payload_len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;

	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + payload_len);
	ip->packet_id = rte_cpu_to_be_16(0x1234);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return sizeof(*ip);
}

size_t
t_icmp_echo(uint8_t *buf, uint8_t type, uint16_t id, uint16_t seq,
	    const void *data, size_t len)
{
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)buf;

	ic->icmp_type = type;
	ic->icmp_code = 0;
	ic->icmp_cksum = 0;
	ic->icmp_ident = rte_cpu_to_be_16(id);
	ic->icmp_seq_nb = rte_cpu_to_be_16(seq);
	memcpy(ic + 1, data, len);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + len);
	return sizeof(*ic) + len;
}

size_t
t_arp(uint8_t *buf, uint16_t op, const struct rte_ether_addr *sha,
      uint32_t sip, const struct rte_ether_addr *tha, uint32_t tip)
{
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)buf;

	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = *sha;
	ah->arp_data.arp_sip = rte_cpu_to_be_32(sip);
	ah->arp_data.arp_tha = *tha;
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	return sizeof(*ah);
}

struct rte_mbuf *
t_ping(uint16_t seq, size_t len)
{
	uint8_t buf[2048], data[1600];
	size_t off, i;

	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + seq);
	off = t_eth(buf, &t_our_mac, &t_peer_mac, RTE_ETHER_TYPE_IPV4);
	off += t_ipv4(buf + off, T_PEER_IP, T_OUR_IP, IPPROTO_ICMP,
		      sizeof(struct rte_icmp_hdr) + len);
	off += t_icmp_echo(buf + off, RTE_IP_ICMP_ECHO_REQUEST, 0x42, seq,
			   data, len);
	return t_mbuf(buf, off);
}

uint16_t
t_tx(struct t_env *env, struct rte_mbuf **pkts, uint16_t n)
{
	net_flush(&env->nl);
	return port_mock_collect(env->port, 0, pkts, n);
}

struct rte_mbuf *
t_rx1(struct t_env *env, struct rte_mbuf *m)
{
	struct rte_mbuf *out[4];
	uint16_t n;

	eth_input(&env->nl, 0, m);
	n = t_tx(env, out, RTE_DIM(out));
	assert_true(n <= 1);
	return n == 1 ? out[0] : NULL;
}

uint64_t
t_cnt(const struct t_env *env, enum dp_counter c)
{
	return dpc_read(&env->nl.cnt, c);
}

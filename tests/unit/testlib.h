/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared fixtures for the dataplane unit tests: EAL without hugepages,
 * devices or root; an mbuf pool; a mock port wired into a net_lcore; and
 * frame builders. Time is injected through net_lcore.now.
 */
#ifndef RAMPART_TESTS_TESTLIB_H
#define RAMPART_TESTS_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "net/net.h"

#define T_HZ 1000000000ull       /* fake TSC: 1 tick = 1 ns */

/* DPDK 22.11's RTE_IPV4 shifts an int: undefined for a >= 128. */
#define T_IPV4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | \
	 (uint32_t)(d))

/* 192.0.2.10/24 on port 0, peer 192.0.2.1 */
#define T_OUR_IP   T_IPV4(192, 0, 2, 10)
#define T_PEER_IP  T_IPV4(192, 0, 2, 1)
#define T_GW_IP    T_IPV4(192, 0, 2, 254)

extern const struct rte_ether_addr t_our_mac;
extern const struct rte_ether_addr t_peer_mac;

struct t_env {
	struct port *port;
	struct net_iface ifc[1];
	struct net_lcore nl;
	unsigned int pool_avail;     /* at setup: leak check */
};

/* Initialise EAL once per process (no hugepages, no PCI, no root). */
void t_eal_init(void);
struct rte_mempool *t_pool(void);

/* cmocka setup/teardown: *state becomes a struct t_env. */
int t_env_setup(void **state);
int t_env_setup_offload(void **state);
int t_env_teardown(void **state);

/* An mbuf holding len bytes copied from data. */
struct rte_mbuf *t_mbuf(const void *data, size_t len);

/* Frame builders; each returns the frame length written into buf. */
size_t t_eth(uint8_t *buf, const struct rte_ether_addr *dst,
	     const struct rte_ether_addr *src, uint16_t type);
size_t t_ipv4(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
	      size_t payload_len);        /* header with valid checksum */
size_t t_icmp_echo(uint8_t *buf, uint8_t type, uint16_t id, uint16_t seq,
		   const void *data, size_t len);
size_t t_arp(uint8_t *buf, uint16_t op, const struct rte_ether_addr *sha,
	     uint32_t sip, const struct rte_ether_addr *tha, uint32_t tip);

/* A complete ping from the peer to us with `len` payload bytes. */
struct rte_mbuf *t_ping(uint16_t seq, size_t len);

/* Run one frame through eth_input and flush; return the single frame
 * transmitted (or NULL when none), asserting at most one was sent. */
struct rte_mbuf *t_rx1(struct t_env *env, struct rte_mbuf *m);

/* Collect up to n transmitted frames. */
uint16_t t_tx(struct t_env *env, struct rte_mbuf **pkts, uint16_t n);

uint64_t t_cnt(const struct t_env *env, enum dp_counter c);



#endif

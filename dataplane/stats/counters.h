/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-lcore dataplane counters. Each worker writes only its own block; a
 * reader (the control thread, or main at exit) sums the blocks. Writers use
 * relaxed atomic stores so a concurrent reader sees whole values; on x86-64
 * that is an ordinary add and store.
 */
#ifndef RAMPART_STATS_COUNTERS_H
#define RAMPART_STATS_COUNTERS_H

#include <stdint.h>

#include <rte_common.h>

/* Names are the operator-visible keys (rampartctl, tests, docs). */
#define DP_COUNTERS(X) \
	X(eth_short)            /* frame shorter than an Ethernet header */ \
	X(eth_not_for_us)       /* unicast to another MAC, or multicast */ \
	X(eth_unknown_type)     /* ethertype other than ARP/IPv4/IPv6 */ \
	X(eth_ipv6)             /* IPv6 frames (not handled yet) */ \
	X(arp_malformed)        /* short, or not Ethernet/IPv4 sizes */ \
	X(arp_not_for_us)       /* request for an address we do not own */ \
	X(arp_requests_in) \
	X(arp_replies_in) \
	X(arp_replies_out) \
	X(arp_requests_out) \
	X(arp_gratuitous_out) \
	X(arp_learned)          /* neighbour entries created or refreshed */ \
	X(arp_unresolved)       /* next hop never answered; held frames freed */ \
	X(arp_hold_dropped)     /* frames dropped while waiting for ARP */ \
	X(ip_short)             /* shorter than a minimal IPv4 header */ \
	X(ip_bad_version) \
	X(ip_bad_ihl)           /* IHL < 5 or beyond the frame */ \
	X(ip_bad_checksum) \
	X(ip_bad_length)        /* total length inconsistent with the frame */ \
	X(ip_bad_src)           /* broadcast/multicast/zero source */ \
	X(ip_fragment)          /* fragments are counted and dropped */ \
	X(ip_not_for_us) \
	X(ip_unknown_proto) \
	X(ip_no_route) \
	X(icmp_malformed) \
	X(icmp_bad_checksum) \
	X(icmp_echo_in) \
	X(icmp_echo_out) \
	X(icmp_other)           /* ICMP types other than echo request */ \
	X(busy_cycles)          /* TSC cycles of poll loops that did work */ \
	X(idle_cycles)          /* TSC cycles of empty poll loops */ \
	X(loops)

enum dp_counter {
#define DPC_ENUM(n) DPC_##n,
	DP_COUNTERS(DPC_ENUM)
#undef DPC_ENUM
	DPC_MAX
};

extern const char *const dp_counter_names[DPC_MAX];

struct dp_counters {
	uint64_t v[DPC_MAX];
} __rte_cache_aligned;

/* Owner lcore only. */
static inline void
dpc_add(struct dp_counters *c, enum dp_counter i, uint64_t n)
{
	__atomic_store_n(&c->v[i], c->v[i] + n, __ATOMIC_RELAXED);
}

static inline void
dpc_inc(struct dp_counters *c, enum dp_counter i)
{
	dpc_add(c, i, 1);
}

/* Any thread. */
static inline uint64_t
dpc_read(const struct dp_counters *c, enum dp_counter i)
{
	return __atomic_load_n(&c->v[i], __ATOMIC_RELAXED);
}

#endif /* RAMPART_STATS_COUNTERS_H */

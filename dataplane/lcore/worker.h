/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The poll-mode worker: one per lcore, pinned by EAL, owning queue
 * `queue` of every port. Shape of DPDK's l3fwd: drain TX on a TSC timer,
 * RX burst on each port, process, repeat; count busy vs idle cycles.
 */
#ifndef RAMPART_LCORE_WORKER_H
#define RAMPART_LCORE_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg/live.h"
#include "net/net.h"

#define WORKER_DRAIN_US 100

struct tls_lcore;
struct px_lcore;

struct worker_rxq {
	struct port *port;
	uint64_t rx_packets;    /* owner writes (relaxed), anyone reads */
};

struct worker {
	struct net_lcore net;   /* counters, TX buffers, ARP cache */
	unsigned int lcore_id;
	uint16_t queue;         /* the queue index this worker owns */
	uint16_t nb_rxq;
	struct worker_rxq rxq[PORT_MAX];
	const volatile bool *quit;
	uint64_t drain_tsc;
	/* Published configuration (RCU, read-only here); NULL in tests
	 * that step the worker without one. */
	const struct cfg_live *cfg;
	/* The HTTPS engine (tls/tls_conn.h); NULL when TLS is off or in
	 * tests without one. */
	struct tls_lcore *tls;
	/* The HTTP proxy engine (proxy/px.h); NULL when plain HTTP is off
	 * or in tests without one. */
	struct px_lcore *px;
} __rte_cache_aligned;

/*
 * Set up w to poll queue `queue` of ifaces[*].port. quit is polled once per
 * loop. Main thread, before launch.
 */
void worker_init(struct worker *w, unsigned int lcore_id, uint16_t queue,
		 const struct net_iface *ifaces, uint16_t nb_ifaces,
		 struct rte_mempool *pool, const volatile bool *quit);

/* One loop iteration at TSC `now`; returns the frames received. Exposed so
 * tests can step a worker without a thread. Owner lcore only. */
unsigned int worker_poll(struct worker *w, uint64_t now);

/* Loop until *quit; announces our addresses first. EAL launch function.
 * The calling thread is a liburcu QSBR reader for the duration: it
 * registers first, reports a quiescent state once per loop iteration
 * (so nothing obtained with rcu_dereference may be kept across
 * iterations without a reference) and unregisters before returning. */
int worker_main(void *arg);

/* Free what the worker still holds (TCP connections, then the TLS
 * sessions and proxy state they carried); after it stopped. */
void worker_fini(struct worker *w);

#endif /* RAMPART_LCORE_WORKER_H */

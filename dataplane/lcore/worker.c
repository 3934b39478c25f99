/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_cycles.h>
#include <rte_prefetch.h>
#include <urcu-qsbr.h>

#include "diag/diag.h"
#include "net/tcp.h"
#include "proxy/px.h"
#include "tls/tls_conn.h"
#include "worker.h"

void
worker_init(struct worker *w, unsigned int lcore_id, uint16_t queue,
	    const struct net_iface *ifaces, uint16_t nb_ifaces,
	    struct rte_mempool *pool, const volatile bool *quit)
{
	uint16_t i;
	uint64_t hz = rte_get_tsc_hz();

	memset(w, 0, sizeof(*w));
	net_lcore_init(&w->net, ifaces, nb_ifaces, queue, pool, hz);
	w->lcore_id = lcore_id;
	w->queue = queue;
	w->quit = quit;
	w->nb_rxq = nb_ifaces;
	for (i = 0; i < nb_ifaces; i++)
		w->rxq[i].port = ifaces[i].port;
	w->drain_tsc = (hz + US_PER_S - 1) / US_PER_S * WORKER_DRAIN_US;
}

unsigned int
worker_poll(struct worker *w, uint64_t now)
{
	struct rte_mbuf *pkts[PORT_BURST];
	struct net_lcore *nl = &w->net;
	unsigned int total = 0;
	uint16_t i, j, n;

	nl->now = now;
	/* What this iteration sends goes out at its end, in full segments
	 * (tcp_cork); with no TCP stack (diagnostic runs) there is none. */
	if (nl->tcp != NULL)
		tcp_cork(nl);
	for (i = 0; i < w->nb_rxq; i++) {
		n = port_rx_burst(w->rxq[i].port, w->queue, pkts, PORT_BURST);
		if (n == 0)
			continue;
		__atomic_store_n(&w->rxq[i].rx_packets,
				 w->rxq[i].rx_packets + n, __ATOMIC_RELAXED);
		total += n;
		for (j = 0; j < n && j < 3; j++)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[j], void *));
		for (j = 0; j < n; j++) {
			if (j + 3 < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[j + 3],
							       void *));
			eth_input(nl, i, pkts[j]);
		}
	}
	arp_tick(nl);
	tcp_inbox_drain(nl);
	tcp_timers(nl);
	if (w->tls != NULL)
		tls_lcore_poll(w->tls);
	if (w->px != NULL)
		px_lcore_poll(w->px);
	if (nl->tcp != NULL)
		tcp_uncork(nl);
	return total;
}

int
worker_main(void *arg)
{
	struct worker *w = arg;
	struct net_lcore *nl = &w->net;
	uint64_t prev_drain, start, end;
	uint16_t i;

	rcu_register_thread();
	nl->now = rte_rdtsc();
	if (nl->arp_owner) {
		/* Tell the segment where we are (and flush stale caches
		 * after a restart), then warm the gateway's entry. */
		for (i = 0; i < nl->nb_ifaces; i++) {
			arp_announce(nl, i);
			if (nl->ifaces[i].gateway != 0)
				arp_request(nl, i, nl->ifaces[i].gateway);
		}
		net_flush(nl);
	}

	prev_drain = rte_rdtsc();
	while (!__atomic_load_n(w->quit, __ATOMIC_RELAXED)) {
		start = rte_rdtsc();
		if (start - prev_drain > w->drain_tsc) {
			net_flush(nl);
			prev_drain = start;
		}
		if (worker_poll(w, start) > 0) {
			/* Replies go out with the burst that caused them
			 * rather than waiting for the drain timer. */
			net_flush(nl);
			end = rte_rdtsc();
			dpc_add(&nl->cnt, DPC_busy_cycles, end - start);
		} else {
			end = rte_rdtsc();
			dpc_add(&nl->cnt, DPC_idle_cycles, end - start);
		}
		dpc_inc(&nl->cnt, DPC_loops);
		/* Nothing read under RCU survives this point, so a
		 * publisher waiting in synchronize_rcu may proceed. */
		rcu_quiescent_state();
	}
	net_flush(nl);
	rcu_unregister_thread();
	return 0;
}

void
worker_fini(struct worker *w)
{
	tcp_lcore_fini(&w->net);
	tls_lcore_stop(w->tls);
	w->tls = NULL;
	px_lcore_stop(w->px);
	w->px = NULL;
	diag_stop(&w->net);
	net_lcore_fini(&w->net);
}

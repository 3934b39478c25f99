/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>

#include "net/tcp.h"
#include "stats.h"

void
stats_write(FILE *f, struct worker *const *w, unsigned int nb_workers,
	    struct port *const *ports, uint16_t nb_ports)
{
	uint64_t sum[DPC_MAX] = { 0 };
	uint64_t rx = 0, tx = 0, txd = 0, v;
	struct port_xstats xs;
	unsigned int i, c;
	uint16_t p;

	for (i = 0; i < nb_workers; i++) {
		for (c = 0; c < DPC_MAX; c++)
			sum[c] += dpc_read(&w[i]->net.cnt, c);
		for (p = 0; p < w[i]->nb_rxq; p++) {
			rx += __atomic_load_n(&w[i]->rxq[p].rx_packets,
					      __ATOMIC_RELAXED);
			tx += __atomic_load_n(&w[i]->net.txq[p].tx_packets,
					      __ATOMIC_RELAXED);
			txd += __atomic_load_n(&w[i]->net.txq[p].tx_dropped,
					       __ATOMIC_RELAXED);
		}
	}
	fprintf(f, "rx_packets %" PRIu64 "\n", rx);
	fprintf(f, "tx_packets %" PRIu64 "\n", tx);
	fprintf(f, "tx_dropped %" PRIu64 "\n", txd);
	v = 0;
	for (i = 0; i < nb_workers; i++)
		v += tcp_nb_conns(&w[i]->net);
	fprintf(f, "tcp_conns %" PRIu64 "\n", v);
	for (c = 0; c < DPC_MAX; c++)
		fprintf(f, "%s %" PRIu64 "\n", dp_counter_names[c], sum[c]);

	for (p = 0; p < nb_ports; p++) {
		for (i = 0; i < nb_workers; i++) {
			v = __atomic_load_n(&w[i]->rxq[p].rx_packets,
					    __ATOMIC_RELAXED);
			fprintf(f, "port%u.q%u.rx_packets %" PRIu64 "\n", p,
				w[i]->queue, v);
			v = __atomic_load_n(&w[i]->net.txq[p].tx_packets,
					    __ATOMIC_RELAXED);
			fprintf(f, "port%u.q%u.tx_packets %" PRIu64 "\n", p,
				w[i]->queue, v);
			v = __atomic_load_n(&w[i]->net.txq[p].tx_dropped,
					    __ATOMIC_RELAXED);
			fprintf(f, "port%u.q%u.tx_dropped %" PRIu64 "\n", p,
				w[i]->queue, v);
		}
		if (port_stats(ports[p], &xs) == 0) {
			fprintf(f, "port%u.dev.rx_packets %" PRIu64 "\n", p,
				xs.rx_packets);
			fprintf(f, "port%u.dev.tx_packets %" PRIu64 "\n", p,
				xs.tx_packets);
			fprintf(f, "port%u.dev.rx_missed %" PRIu64 "\n", p,
				xs.rx_missed);
			fprintf(f, "port%u.dev.rx_errors %" PRIu64 "\n", p,
				xs.rx_errors);
			fprintf(f, "port%u.dev.tx_errors %" PRIu64 "\n", p,
				xs.tx_errors);
		}
	}
	for (i = 0; i < nb_workers; i++) {
		fprintf(f, "lcore%u.busy_cycles %" PRIu64 "\n", w[i]->lcore_id,
			dpc_read(&w[i]->net.cnt, DPC_busy_cycles));
		fprintf(f, "lcore%u.idle_cycles %" PRIu64 "\n", w[i]->lcore_id,
			dpc_read(&w[i]->net.cnt, DPC_idle_cycles));
	}
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading the workers' counters: sums per-lcore blocks and writes
 * `name value` lines, the format shared by the exit report and the control
 * socket. Any thread; values are read relaxed while workers run.
 */
#ifndef RAMPART_STATS_STATS_H
#define RAMPART_STATS_STATS_H

#include <stdio.h>

#include <jansson.h>

#include "lcore/worker.h"

/* Summed counters, then per port/queue, then per device. */
void stats_write(FILE *f, struct worker *const *w, unsigned int nb_workers,
		 struct port *const *ports, uint16_t nb_ports);

/*
 * The `stats` op's result, added to obj: "lcores": [{"lcore", "queue",
 * "counters": {name: value}}] from the DP_COUNTERS table plus the lcore's
 * tcp_conns, "total": the same summed, with rx_packets, tx_packets and
 * tx_dropped of every queue, and "ports": [{"port", "name", "queues":
 * [{"queue", "lcore", "rx_packets", "tx_packets", "tx_dropped"}],
 * "device": {...} when the driver reports it}]. 0 or -ENOMEM.
 */
int stats_json(json_t *obj, struct worker *const *w, unsigned int nb_workers,
	       struct port *const *ports, uint16_t nb_ports);

/* The `status` op's "ports": [{"port", "name", "rx_packets", "tx_packets",
 * "rx_dropped", "tx_dropped"}], or NULL. rx_dropped is what the device
 * missed; tx_dropped what the NIC refused. */
json_t *stats_ports_json(struct worker *const *w, unsigned int nb_workers,
			 struct port *const *ports, uint16_t nb_ports);

#endif /* RAMPART_STATS_STATS_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading the workers' counters: sums per-lcore blocks and writes
 * `name value` lines, the format shared by the exit report and the control
 * socket. Any thread; values are read relaxed while workers run.
 */
#ifndef RAMPART_STATS_STATS_H
#define RAMPART_STATS_STATS_H

#include <stdio.h>

#include "lcore/worker.h"

/* Summed counters, then per port/queue, then per device. */
void stats_write(FILE *f, struct worker *const *w, unsigned int nb_workers,
		 struct port *const *ports, uint16_t nb_ports);

#endif /* RAMPART_STATS_STATS_H */

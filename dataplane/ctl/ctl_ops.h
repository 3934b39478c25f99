/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's control ops (docs/CONTROL.md, "Dataplane socket ops"):
 * status and stats read the workers' counters; the txn_* ops stage objects
 * on a connection and commit them as a new configuration snapshot;
 * tickets_* and staple* replace the ticket ring and update the staple
 * cache. All run on the control thread (ctl_server.h), the only writer of
 * what cfg_live publishes.
 */
#ifndef RAMPART_CTL_OPS_H
#define RAMPART_CTL_OPS_H

#include <stdint.h>
#include <time.h>

#include "cfg/live.h"
#include "ctl/ctl_server.h"
#include "lcore/worker.h"

/* What the ops see of the running dataplane; set up by main before the
 * control thread starts and constant afterwards (except the counters and
 * cfg_live, which have their own rules). */
struct ctl_dp {
	struct worker *const *workers;
	unsigned int nb_workers;
	struct port *const *ports;
	uint16_t nb_ports;
	unsigned int nb_lcores;
	uint64_t instance;              /* random per process start */
	struct timespec started;        /* CLOCK_MONOTONIC */
	struct cfg_live *live;
	const char *origin_ca_bundle;   /* tls_snapshot_build's */
};

/* The keyword table; arg is a struct ctl_dp. */
extern const struct ctl_op ctl_dp_ops[];

/* ctl_server_params.conn_closed: aborts the connection's transaction. */
void ctl_dp_conn_closed(struct ctl_conn *c, void *arg);

#endif /* RAMPART_CTL_OPS_H */

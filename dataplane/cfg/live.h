/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the control thread publishes to the workers: the configuration
 * snapshot and the ticket ring (RCU pointers swapped whole) and the staple
 * cache (an RCU hash table updated in place). One instance per process,
 * owned by main and handed to the workers and the control thread.
 */
#ifndef RAMPART_CFG_LIVE_H
#define RAMPART_CFG_LIVE_H

#include "snapshot.h"
#include "staples.h"
#include "ticket_ring.h"

struct cfg_live {
	struct cfg_snapshot *snap;        /* cfg_snapshot_current; NULL before
					   * the first commit */
	struct cfg_ticket_ring *tickets;  /* cfg_ticket_ring_current; NULL
					   * until tickets_set */
	struct cfg_staples *staples;      /* never NULL after init */
};

/* Empty state (generation 0). 0 or -ENOMEM. Main thread, at start. */
int cfg_live_init(struct cfg_live *l);

/* Free everything, once the workers and the control thread have stopped.
 * Main thread. */
void cfg_live_fini(struct cfg_live *l);

#endif /* RAMPART_CFG_LIVE_H */

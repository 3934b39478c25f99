/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "live.h"

int
cfg_live_init(struct cfg_live *l)
{
	memset(l, 0, sizeof(*l));
	l->staples = cfg_staples_new();
	return l->staples == NULL ? -ENOMEM : 0;
}

void
cfg_live_fini(struct cfg_live *l)
{
	/* No reader is left, so no grace period is needed. */
	cfg_snapshot_put(l->snap);
	cfg_ticket_ring_free(l->tickets);
	cfg_staples_free(l->staples);
	memset(l, 0, sizeof(*l));
}

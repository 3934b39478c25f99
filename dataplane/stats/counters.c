/* SPDX-License-Identifier: BSD-3-Clause */
#include "counters.h"

const char *const dp_counter_names[DPC_MAX] = {
#define DPC_NAME(n) [DPC_##n] = #n,
	DP_COUNTERS(DPC_NAME)
#undef DPC_NAME
};

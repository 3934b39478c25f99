/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Diagnostic TCP services, used by tests and benchmarks and kept for
 * operators. Off unless their option is given.
 *
 *   echo:    every byte received is sent back; the connection closes after
 *            the peer's FIN once everything was echoed.
 *   chargen: reads a decimal byte count N and a newline, sends N bytes where
 *            byte i is (i mod 251), then closes. A malformed request gets a
 *            one-line "error: ..." answer and a close.
 *
 * Per-connection state comes from a per-lcore pool sized to the stack's
 * connection limit, so no allocation happens on the worker.
 */
#ifndef RAMPART_DIAG_DIAG_H
#define RAMPART_DIAG_DIAG_H

#include <stdint.h>

struct net_lcore;

/* Start the service on this lcore's stack; port in host order.
 * Main thread, after tcp_lcore_init(). 0 or -errno. */
int diag_echo_start(struct net_lcore *nl, uint16_t port);
int diag_chargen_start(struct net_lcore *nl, uint16_t port);
/* Free the services' pools (after tcp_lcore_fini). */
void diag_stop(struct net_lcore *nl);

#define CHARGEN_MOD 251

#endif /* RAMPART_DIAG_DIAG_H */

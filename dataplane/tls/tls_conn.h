/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TLS connection engine of one worker: an HTTPS listener on the
 * userspace TCP stack, a ClientHello peek that picks the distribution and
 * certificate, then wolfSSL driven from the TCP callbacks through
 * non-blocking custom I/O (never blocks, never spins: WANT_READ and
 * WANT_WRITE return to the poll loop). Per-connection state comes from a
 * per-lcore pool sized like the TCP stack; wolfSSL allocates its own
 * session state. docs/TLS.md describes the behaviour.
 *
 * After the handshake the session becomes the HTTP engine's viewer
 * transport (proxy/px.h): decrypted bytes go to px_conn_recv, the
 * engine's responses are encrypted on their way out, and the engine's
 * close sends close_notify.
 *
 * Everything here runs on the owning worker lcore, except start and stop
 * (main thread, while the worker is not running). No wolfSSL types.
 */
#ifndef RAMPART_TLS_CONN_H
#define RAMPART_TLS_CONN_H

#include <stdint.h>

#include "cfg/live.h"

struct net_lcore;
struct px_lcore;
struct tls_lcore;

struct tls_params {
	uint16_t port;                  /* HTTPS listener; 0: none */
	uint32_t handshake_timeout_ms;  /* ClientHello to Finished (then the
					 * HTTP engine's timeouts apply) */
	uint32_t max_handshakes;        /* in progress per lcore; beyond it
					 * new connections are reset */
};

extern const struct tls_params tls_params_default;

/*
 * Start the engine of the worker whose stack is nl (tcp_lcore_init done)
 * and whose index among the workers is `worker` (the index of its
 * contexts in tls_snapshot_ctx). Listens on p->port on every local
 * address. The snapshot and ticket ring are read from live; established
 * sessions are handed to px, the same worker's HTTP engine, which must
 * outlive this one (stopped after it). Returns the
 * engine or NULL with *err = -ENOMEM / tcp_listen's error. Main thread,
 * before the worker runs.
 */
struct tls_lcore *tls_lcore_start(struct net_lcore *nl,
				  const struct tls_params *p,
				  struct cfg_live *live, struct px_lcore *px,
				  unsigned int worker, int *err);

/* Expire connections past their deadline; O(1) when none is due. Every
 * poll-loop iteration, owning lcore. */
void tls_lcore_poll(struct tls_lcore *t);

/*
 * Free every connection's wolfSSL session and snapshot reference, then the
 * engine. After tcp_lcore_fini (which drops connections without
 * callbacks), with the worker stopped. NULL is ignored. Main thread.
 */
void tls_lcore_stop(struct tls_lcore *t);

/*
 * wolfSSL heap bytes allocated and not yet freed by the calling thread
 * (allocations are counted per thread; a worker's figure is what its
 * sessions hold). For the memory-per-connection measurement.
 */
int64_t tls_heap_bytes(void);

#endif /* RAMPART_TLS_CONN_H */

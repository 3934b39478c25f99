/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTTP/1.1 reverse proxy engine of one worker: reads the viewer's
 * requests, routes them (http/route.h), answers redirects and refusals
 * itself, and otherwise forwards each request to the behavior's origin over
 * an active TCP open from the same lcore, streaming bodies both ways with
 * back-pressure. docs/HTTP.md ("The proxy") describes the behaviour and
 * every status the engine generates.
 *
 * The engine speaks to both legs through a small byte transport
 * (struct px_transport): the plain-TCP one lives here (px_tcp.c); the TLS
 * engine provides its own for HTTPS viewers (tls/tls_conn.c) and, later,
 * for HTTPS origins. A transport holds the bytes it received until the engine
 * consumes them, so an engine that does not read closes the peer's window
 * instead of buffering.
 *
 * Threads: everything runs on the owning worker lcore, except
 * px_lcore_start and px_lcore_stop (main thread, worker not running). The
 * access-log ring (px_log.h) is the only thing another thread touches.
 */
#ifndef RAMPART_PROXY_PX_H
#define RAMPART_PROXY_PX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#include "cfg/live.h"

struct net_lcore;
struct px_lcore;
struct px_conn;
struct px_log_ring;
struct px_transport;

/* Idle origin connections a worker may pool per origin server. */
#define PX_ORIGIN_IDLE_MAX 64

struct px_params {
	uint16_t http_port;             /* plain-HTTP listener; 0: none */
	uint16_t https_port;            /* written into redirects (0: 443) */
	uint32_t header_timeout_ms;     /* first byte to end of the head */
	uint32_t keepalive_timeout_ms;  /* idle between requests */
	uint32_t origin_idle_ms;        /* idle pooled origin connection */
	uint32_t origin_idle_max;       /* pooled connections per origin */
	uint32_t log_ring;              /* access-log records (power of 2) */
	uint32_t nb_workers;            /* origins' max_connections is
					 * shared out among them */
};

extern const struct px_params px_params_default;

/* ---------------------------------------------------------------- transport */

/*
 * One byte stream: a viewer connection (plain TCP, or TLS: tls_conn.c) or
 * an origin connection. Calls are made by the engine on the owning lcore.
 */
struct px_transport_ops {
	/* The next contiguous received bytes, not yet consumed: their
	 * length (0: none buffered) and *data. Valid until consume or until
	 * control returns to the poll loop. */
	size_t (*peek)(struct px_transport *t, const uint8_t **data);
	/* The engine is done with n peeked bytes (the window reopens). */
	void (*consume)(struct px_transport *t, size_t n);
	/* Queue bytes; returns how many were accepted (fewer than len:
	 * the transport calls px_*_writable when room returns) or -errno. */
	int (*send)(struct px_transport *t, const void *data, size_t len);
	/* Bytes send would accept now. */
	uint32_t (*send_space)(const struct px_transport *t);
	/* Orderly end after the queued bytes / reset now. Either way the
	 * engine is done: the transport never calls it again for t. */
	void (*close)(struct px_transport *t);
	void (*abort)(struct px_transport *t);
};

struct px_transport {
	const struct px_transport_ops *ops;
	bool peer_closed;               /* the peer sent its last byte */
};

/*
 * What the engine knows of a viewer connection when it opens. Every
 * pointer is the caller's and stays valid until the engine is done with
 * the connection (px_conn_gone, or the engine's close or abort).
 */
struct px_viewer {
	bool https;
	/* HTTPS: the snapshot the handshake used and the distribution it
	 * selected from it. Requests are routed against this snapshot, not
	 * the current one: the 421 check compares distributions by
	 * identity, and after a push the current snapshot holds other
	 * objects for the same names. */
	const struct cfg_snapshot *snap;
	const struct cfg_dist *sni_dist;
	struct in_addr addr;            /* the viewer's address and port */
	uint16_t port;
	uint8_t mtls;                   /* enum http_mtls_result */
	/* HTTPS: the verified client certificate's subject (mtls SUCCESS),
	 * else NULL; the session's protocol and suite names, and whether
	 * it was resumed (X-Rampart-Viewer-TLS). */
	const char *subject;
	size_t subject_len;
	const char *tls_protocol;
	const char *tls_cipher;
	bool tls_resumed;
};

/*
 * Viewer-side entries a transport calls. px_conn_open returns the engine's
 * connection, or NULL when the per-lcore pool is exhausted (refuse the
 * connection). Then: px_conn_recv when bytes arrived or the peer closed
 * (t->peer_closed), px_conn_writable when send space returned,
 * px_conn_gone when the transport died (reset, timeout): the engine
 * releases pc and never touches t again.
 */
struct px_conn *px_conn_open(struct px_lcore *pl, struct px_transport *t,
			     const struct px_viewer *v);
void px_conn_recv(struct px_conn *pc);
void px_conn_writable(struct px_conn *pc);
void px_conn_gone(struct px_conn *pc);

/* ---------------------------------------------------------------- lcore */

/*
 * Start the engine of the worker whose stack is nl (tcp_lcore_init done):
 * connection and origin pools sized like the TCP stack, the access-log
 * ring, and the plain-HTTP listener on p->http_port when it is not 0.
 * Returns the engine or NULL with *err = -ENOMEM / tcp_listen's error.
 * Main thread, before the worker runs.
 */
struct px_lcore *px_lcore_start(struct net_lcore *nl,
				const struct px_params *p,
				struct cfg_live *live, unsigned int worker,
				int *err);

/* Timeouts (header, keep-alive, origin connect and response, pooled
 * connections); a bounded sweep per call. Every poll-loop iteration,
 * owning lcore. */
void px_lcore_poll(struct px_lcore *pl);

/* The access-log ring the logger thread drains (px_log.h). */
struct px_log_ring *px_lcore_log(struct px_lcore *pl);

/* Free every connection's buffers and snapshot reference, then the
 * engine. After tcp_lcore_fini (which drops connections without
 * callbacks), worker stopped. NULL is ignored. Main thread. */
void px_lcore_stop(struct px_lcore *pl);

#endif /* RAMPART_PROXY_PX_H */

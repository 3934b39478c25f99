/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The userspace TCP stack: the API that TLS, HTTP and the diagnostic
 * services use. One stack per worker lcore; a connection belongs to the lcore
 * that created it and every call below is made on that lcore only.
 *
 * Receive is zero-copy: in-order data arrives as mbufs the callee owns. The
 * advertised window counts bytes delivered but not yet released with
 * tcp_recved(), so a slow consumer closes the window instead of losing data.
 * Send copies into the connection's send queue (bounded; tcp_send_space())
 * and the `writable` callback says when space returns.
 *
 * See docs/TCP.md for the design.
 */
#ifndef RAMPART_NET_TCP_H
#define RAMPART_NET_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

struct net_lcore;
struct tcp_conn;

/* Upper-layer callbacks. All optional except recv. They run on the owning
 * lcore from inside tcp_input/timers; they may call tcp_send, tcp_recved,
 * tcp_close and tcp_abort on the same connection. */
struct tcp_ops {
	/* Handshake completed (passive or active open). Return non-zero to
	 * refuse: the connection is reset. */
	int (*established)(struct tcp_conn *c);
	/* In-order payload; the callee owns m and must later call
	 * tcp_recved() for its bytes to reopen the window. */
	void (*recv)(struct tcp_conn *c, struct rte_mbuf *m);
	/* The peer sent FIN: no more data will arrive. */
	void (*peer_closed)(struct tcp_conn *c);
	/* Send space became available after tcp_send() accepted less than
	 * asked. */
	void (*writable)(struct tcp_conn *c);
	/* Last call for c: 0 after an orderly close, -ECONNRESET,
	 * -ECONNREFUSED, -ETIMEDOUT or -ECONNABORTED. c is freed after it. */
	void (*closed)(struct tcp_conn *c, int err);
};

/* Limits and defaults (per lcore unless noted). */
struct tcp_params {
	uint32_t max_conns;             /* connection objects per lcore */
	uint32_t syn_backlog;           /* SYN_RCVD per listener before cookies */
	uint32_t rcv_buf;               /* bytes per connection */
	uint32_t snd_buf;               /* bytes per connection */
	uint32_t rto_min_ms;
	uint32_t rto_max_ms;
	uint32_t delack_ms;
	uint32_t time_wait_ms;
	uint32_t fin_wait2_ms;
	uint32_t syn_retries;
	uint32_t data_retries;
	uint32_t orphan_probes;         /* zero-window probes after the app
					 * closed, then reset */
	uint32_t challenge_acks_per_s;  /* RFC 5961 7 limit per lcore */
	uint16_t ephemeral_lo;          /* active-open local ports */
	uint16_t ephemeral_hi;
	/* Key for ISNs and SYN cookies. The same on every worker, so a cookie
	 * checks wherever its ACK lands; all zero: the stack draws its own. */
	uint8_t secret[16];
};

extern const struct tcp_params tcp_params_default;

/* Create the stack of one lcore (worker `index` of `nb_workers`). Main
 * thread, before launch. Returns 0 or -ENOMEM. */
int tcp_lcore_init(struct net_lcore *nl, const struct tcp_params *p,
		   unsigned int index, unsigned int nb_workers);
/* Abort every connection (no callbacks) and free the stack. */
void tcp_lcore_fini(struct net_lcore *nl);

/* Accept connections to addr:port (addr 0: any local address). port in
 * host order. Returns 0, -EADDRINUSE or -ENOSPC. Same on every lcore:
 * each worker listens on its own copy. */
int tcp_listen(struct net_lcore *nl, rte_be32_t addr, uint16_t port,
	       const struct tcp_ops *ops, void *arg);

/* Active open to dst:port (host order). The local port is chosen so the
 * replies reach this lcore. NULL with errno set on failure. */
struct tcp_conn *tcp_connect(struct net_lcore *nl, rte_be32_t dst,
			     uint16_t port, const struct tcp_ops *ops,
			     void *user);

/* Queue up to len bytes; returns the number accepted (0 when the send
 * queue is full; then `writable` follows), or -ENOTCONN / -EPIPE. */
int tcp_send(struct tcp_conn *c, const void *data, size_t len);

/*
 * Between tcp_cork and tcp_uncork, tcp_send only queues: what several
 * sends queue on one connection (a response head and its body, TLS
 * records of a few hundred bytes each) goes out at tcp_uncork as full
 * segments instead of a segment per send, as Linux's autocorking does
 * within one softirq run. The worker corks around each poll-loop
 * iteration, so nothing waits longer than the iteration that produced
 * it. Owning lcore.
 */
void tcp_cork(struct net_lcore *nl);
void tcp_uncork(struct net_lcore *nl);
/* Bytes tcp_send() would accept now. */
uint32_t tcp_send_space(const struct tcp_conn *c);
/* The application is done with n received bytes. */
void tcp_recved(struct tcp_conn *c, uint32_t n);
/* Orderly close: FIN after the queued data. Idempotent. */
void tcp_close(struct tcp_conn *c);
/* Reset now; `closed` is called with -ECONNABORTED. */
void tcp_abort(struct tcp_conn *c);
/* Enable keep-alive probes after idle_s of silence, every intvl_s, cnt of
 * them before the connection is declared dead. idle_s 0 disables. */
void tcp_set_keepalive(struct tcp_conn *c, uint32_t idle_s, uint32_t intvl_s,
		       uint32_t cnt);

void tcp_set_user(struct tcp_conn *c, void *user);
void *tcp_user(const struct tcp_conn *c);
/* Listener argument for passive connections (tcp_listen's arg). */
void *tcp_listen_arg(const struct tcp_conn *c);
struct net_lcore *tcp_lcore(const struct tcp_conn *c);

/* Addresses in network order, ports in host order. */
void tcp_endpoints(const struct tcp_conn *c, rte_be32_t *laddr,
		   uint16_t *lport, rte_be32_t *raddr, uint16_t *rport);

/* Packet path: IPv4 delivered a TCP segment (l2_len/l3_len set, the IP
 * header valid and for us). Consumes m. */
void tcp_input(struct net_lcore *nl, uint16_t port, struct rte_mbuf *m);

/* Segments other workers forwarded to this one; call every loop. */
void tcp_inbox_drain(struct net_lcore *nl);

/* Timers; call every loop (cheap when nothing is due). */
void tcp_timers(struct net_lcore *nl);

/* Active connections on this lcore (for stats). */
uint32_t tcp_nb_conns(const struct net_lcore *nl);
/* The connection limit of this lcore's stack. */
uint32_t tcp_max_conns(const struct net_lcore *nl);

#endif /* RAMPART_NET_TCP_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet I/O port: the only interface the dataplane uses to move frames.
 *
 * Protocol code never calls rte_eth_*; it sees a struct port with a small
 * operations table. Two implementations exist: port_dpdk.c (real NICs and
 * DPDK virtual devices) and port_mock.c (in-memory queues for unit tests).
 *
 * Threading: port_*_open/close run on the main thread before the workers
 * start and after they stop. rx_burst/tx_burst on queue q are called only by
 * the one lcore that owns q. struct port is read-only while workers run.
 */
#ifndef RAMPART_DRIVERS_PORT_H
#define RAMPART_DRIVERS_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#define PORT_MAX        8
#define PORT_QUEUE_MAX  64
#define PORT_BURST      32

/* Offloads the port performs on transmit; protocol code falls back to
 * software when a flag is absent. */
#define PORT_TX_IPV4_CKSUM  (1u << 0)
#define PORT_TX_TCP_CKSUM   (1u << 1)
#define PORT_TX_UDP_CKSUM   (1u << 2)
/* The port validates IPv4 header checksums on receive and sets
 * RTE_MBUF_F_RX_IP_CKSUM_{GOOD,BAD}. */
#define PORT_RX_IPV4_CKSUM  (1u << 8)
/* Flows are spread over queues by a hash of the IP/L4 tuple (RSS or,
 * for af_packet, PACKET_FANOUT_HASH). */
#define PORT_RX_FLOW_HASH   (1u << 9)
/* The spreading is not strict: under load a frame may land on another
 * queue than its flow's (af_packet's PACKET_FANOUT_FLAG_ROLLOVER, which
 * DPDK 22.11 always sets). */
#define PORT_RX_FLOW_LOOSE  (1u << 10)

struct port;

struct port_xstats {
	uint64_t rx_packets;
	uint64_t tx_packets;
	uint64_t rx_missed;     /* dropped by the device: no RX descriptor */
	uint64_t rx_errors;
	uint64_t tx_errors;
};

struct port_ops {
	/* Receive up to n frames from queue q into pkts; returns how many.
	 * The caller owns the returned mbufs. */
	uint16_t (*rx_burst)(struct port *p, uint16_t q,
			     struct rte_mbuf **pkts, uint16_t n);
	/* Hand up to n frames to queue q; returns how many the port took.
	 * The port owns those; the caller still owns pkts[ret..n-1]. */
	uint16_t (*tx_burst)(struct port *p, uint16_t q,
			     struct rte_mbuf **pkts, uint16_t n);
	/* Device-level counters; 0 or -errno. */
	int (*stats)(struct port *p, struct port_xstats *st);
	/* Stop the device and release it. p is freed. */
	void (*close)(struct port *p);
};

struct port {
	const struct port_ops *ops;
	char name[64];          /* device name, e.g. net_af_packet0 */
	uint16_t index;         /* position in the application's port list */
	uint16_t nb_queues;     /* RX/TX queue pairs, one per worker */
	uint32_t offloads;      /* PORT_TX_* | PORT_RX_* */
	struct rte_ether_addr mac;
	void *priv;             /* implementation data */
};

static inline uint16_t
port_rx_burst(struct port *p, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	return p->ops->rx_burst(p, q, pkts, n);
}

static inline uint16_t
port_tx_burst(struct port *p, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	return p->ops->tx_burst(p, q, pkts, n);
}

static inline int
port_stats(struct port *p, struct port_xstats *st)
{
	return p->ops->stats(p, st);
}

static inline void
port_close(struct port *p)
{
	if (p != NULL)
		p->ops->close(p);
}

/*
 * A worker's transmit buffer for one (port, queue). Frames are collected and
 * handed to the port in bursts: when PORT_BURST are queued, or when the
 * worker's TSC drain timer fires. Owned by one lcore; never shared.
 */
struct port_txq {
	struct port *port;
	uint16_t queue;
	uint16_t count;
	uint64_t tx_packets;
	uint64_t tx_dropped;    /* refused by the port and freed */
	struct rte_mbuf *pkts[PORT_BURST];
};

void port_txq_init(struct port_txq *tq, struct port *p, uint16_t queue);

/* Send what is queued. Frames the port refuses are freed and counted in
 * tx_dropped. Returns the number the port accepted. */
uint16_t port_txq_flush(struct port_txq *tq);

/* Queue one frame; consumes m. Flushes when the buffer is full. */
static inline void
port_txq_enqueue(struct port_txq *tq, struct rte_mbuf *m)
{
	tq->pkts[tq->count++] = m;
	if (tq->count == PORT_BURST)
		port_txq_flush(tq);
}

/*
 * DPDK implementation. Configures ethdev port_id with nb_queues RX/TX queue
 * pairs fed from mp, enables RSS when nb_queues > 1 and the device can hash,
 * and IPv4 checksum offloads when offered; starts the port.
 * Returns NULL with a sentence in err (errlen bytes) on failure.
 * Main thread only, after rte_eal_init().
 */
struct port *port_dpdk_open(uint16_t port_id, uint16_t index,
			    uint16_t nb_queues, struct rte_mempool *mp,
			    char *err, size_t errlen);

/*
 * Mock implementation for unit tests: in-memory queues with no device.
 * Tests push frames with port_mock_inject() and collect what the code under
 * test sent with port_mock_collect(). tx_accept limits how many frames
 * tx_burst accepts per call (to exercise refusals); -1 accepts all.
 */
struct port *port_mock_open(uint16_t index, uint16_t nb_queues,
			    const struct rte_ether_addr *mac,
			    uint32_t offloads);
int port_mock_inject(struct port *p, uint16_t q, struct rte_mbuf *m);
uint16_t port_mock_collect(struct port *p, uint16_t q,
			   struct rte_mbuf **pkts, uint16_t n);
void port_mock_set_tx_accept(struct port *p, int tx_accept);

#endif /* RAMPART_DRIVERS_PORT_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receive queue an application keeps on top of the TCP API: the mbufs
 * `recv` delivered, not yet used, as one flat list of single segments with
 * `off` bytes of the head already consumed. Bytes stay counted in the
 * advertised window until the application calls tcp_recved() for what
 * tcp_rxq_consume() returned, so a slow consumer closes the window instead
 * of buffering without bound. Used by the diagnostic services, the TLS
 * engine and the proxy's plain-TCP transport. Owner lcore only; no
 * allocation.
 */
#ifndef RAMPART_NET_TCP_RXQ_H
#define RAMPART_NET_TCP_RXQ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

struct tcp_rxq {
	struct rte_mbuf *head, *tail;
	uint32_t len;                   /* unread bytes */
	uint16_t off;                   /* bytes of head already consumed */
};

/* Queue the payload m (any chain; consumes it). Each segment is queued on
 * its own and empty ones are freed, which keeps peeking and consuming to
 * one walk over data_len. */
static inline void
tcp_rxq_append(struct tcp_rxq *q, struct rte_mbuf *m)
{
	struct rte_mbuf *seg, *next;

	for (seg = m; seg != NULL; seg = next) {
		next = seg->next;
		seg->next = NULL;
		seg->nb_segs = 1;
		seg->pkt_len = seg->data_len;
		if (seg->data_len == 0) {
			rte_pktmbuf_free_seg(seg);
			continue;
		}
		if (q->tail != NULL)
			q->tail->next = seg;
		else
			q->head = seg;
		q->tail = seg;
		q->len += seg->data_len;
	}
}

/* Free every queued byte (the caller reopens the window if it must). */
static inline void
tcp_rxq_free(struct tcp_rxq *q)
{
	struct rte_mbuf *m, *next;

	for (m = q->head; m != NULL; m = next) {
		next = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	q->head = q->tail = NULL;
	q->len = 0;
	q->off = 0;
}

/* The unread bytes of the head segment, without copying; 0 when empty. */
static inline size_t
tcp_rxq_front(const struct tcp_rxq *q, const uint8_t **data)
{
	const struct rte_mbuf *m = q->head;

	if (m == NULL)
		return 0;
	*data = rte_pktmbuf_mtod_offset(m, const uint8_t *, q->off);
	return (size_t)(m->data_len - q->off);
}

/* Copy up to len unread bytes to buf without consuming them. */
static inline size_t
tcp_rxq_copy(const struct tcp_rxq *q, uint8_t *buf, size_t len)
{
	const struct rte_mbuf *m;
	size_t done = 0, off = q->off, n;

	for (m = q->head; m != NULL && done < len; m = m->next) {
		n = m->data_len - off;
		if (n > len - done)
			n = len - done;
		memcpy(buf + done, rte_pktmbuf_mtod_offset(m, const uint8_t *,
							   off), n);
		done += n;
		off = 0;
	}
	return done;
}

/* Consume up to len bytes, freeing the segments read to the end; returns
 * how many were consumed (pass it to tcp_recved). */
static inline uint32_t
tcp_rxq_consume(struct tcp_rxq *q, size_t len)
{
	struct rte_mbuf *m;
	size_t done = 0, n;

	while ((m = q->head) != NULL && done < len) {
		n = m->data_len - q->off;
		if (n > len - done)
			n = len - done;
		done += n;
		q->off = (uint16_t)(q->off + n);
		if (q->off == m->data_len) {
			q->head = m->next;
			if (q->head == NULL)
				q->tail = NULL;
			m->next = NULL;
			rte_pktmbuf_free_seg(m);
			q->off = 0;
		}
	}
	q->len -= (uint32_t)done;
	return (uint32_t)done;
}

#endif /* RAMPART_NET_TCP_RXQ_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The plain-TCP transport: received mbufs stay queued (and their bytes in
 * the advertised window) until the engine consumes them, so a viewer or
 * origin the engine is not reading from is slowed by TCP itself.
 */
#include <errno.h>
#include <string.h>

#include "px_int.h"

void
px_tcp_attach(struct px_tcp *io, struct tcp_conn *c)
{
	memset(io, 0, sizeof(*io));
	io->t.ops = &px_tcp_transport;
	io->tcp = c;
}

void
px_tcp_enqueue(struct px_tcp *io, struct rte_mbuf *m)
{
	struct rte_mbuf *seg, *next;

	/* One flat list of single segments, as the TLS engine keeps them. */
	for (seg = m; seg != NULL; seg = next) {
		next = seg->next;
		seg->next = NULL;
		seg->nb_segs = 1;
		seg->pkt_len = seg->data_len;
		if (seg->data_len == 0) {
			rte_pktmbuf_free_seg(seg);
			continue;
		}
		if (io->rx_tail != NULL)
			io->rx_tail->next = seg;
		else
			io->rx_head = seg;
		io->rx_tail = seg;
		io->rx_len += seg->data_len;
	}
}

void
px_tcp_rx_free(struct px_tcp *io)
{
	struct rte_mbuf *m, *next;

	for (m = io->rx_head; m != NULL; m = next) {
		next = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	io->rx_head = io->rx_tail = NULL;
	io->rx_len = 0;
	io->rx_off = 0;
}

static size_t
t_peek(struct px_transport *t, const uint8_t **data)
{
	struct px_tcp *io = (struct px_tcp *)t;
	struct rte_mbuf *m = io->rx_head;

	if (m == NULL)
		return 0;
	*data = rte_pktmbuf_mtod_offset(m, const uint8_t *, io->rx_off);
	return (size_t)(m->data_len - io->rx_off);
}

static void
t_consume(struct px_transport *t, size_t len)
{
	struct px_tcp *io = (struct px_tcp *)t;
	struct rte_mbuf *m;
	size_t done = 0, n;

	while ((m = io->rx_head) != NULL && done < len) {
		n = m->data_len - io->rx_off;
		if (n > len - done)
			n = len - done;
		done += n;
		io->rx_off = (uint16_t)(io->rx_off + n);
		if (io->rx_off == m->data_len) {
			io->rx_head = m->next;
			if (io->rx_head == NULL)
				io->rx_tail = NULL;
			m->next = NULL;
			rte_pktmbuf_free_seg(m);
			io->rx_off = 0;
		}
	}
	io->rx_len -= (uint32_t)done;
	if (done > 0 && io->tcp != NULL)
		tcp_recved(io->tcp, (uint32_t)done);
}

static int
t_send(struct px_transport *t, const void *data, size_t len)
{
	struct px_tcp *io = (struct px_tcp *)t;

	if (io->tcp == NULL)
		return -ENOTCONN;
	return tcp_send(io->tcp, data, len);
}

static uint32_t
t_send_space(const struct px_transport *t)
{
	const struct px_tcp *io = (const struct px_tcp *)t;

	return io->tcp != NULL ? tcp_send_space(io->tcp) : 0;
}

/* Detach first: the stack may call `closed` from inside tcp_close or
 * tcp_abort, and the engine is already done with this transport. */
static struct tcp_conn *
detach(struct px_tcp *io)
{
	struct tcp_conn *c = io->tcp;

	io->tcp = NULL;
	px_tcp_rx_free(io);
	if (c != NULL)
		tcp_set_user(c, NULL);
	return c;
}

static void
t_close(struct px_transport *t)
{
	struct tcp_conn *c = detach((struct px_tcp *)t);

	if (c != NULL)
		tcp_close(c);
}

static void
t_abort(struct px_transport *t)
{
	struct tcp_conn *c = detach((struct px_tcp *)t);

	if (c != NULL)
		tcp_abort(c);
}

const struct px_transport_ops px_tcp_transport = {
	.peek = t_peek,
	.consume = t_consume,
	.send = t_send,
	.send_space = t_send_space,
	.close = t_close,
	.abort = t_abort,
};

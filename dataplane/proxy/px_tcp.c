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

static size_t
t_peek(struct px_transport *t, const uint8_t **data)
{
	return tcp_rxq_front(&((struct px_tcp *)t)->rx, data);
}

static void
t_consume(struct px_transport *t, size_t len)
{
	struct px_tcp *io = (struct px_tcp *)t;
	uint32_t done = tcp_rxq_consume(&io->rx, len);

	if (done > 0 && io->tcp != NULL)
		tcp_recved(io->tcp, done);
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
	tcp_rxq_free(&io->rx);
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

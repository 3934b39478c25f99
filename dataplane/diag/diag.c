/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "net/net.h"
#include "net/tcp.h"
#include "net/tcp_rxq.h"
#include "diag.h"

#define CHARGEN_CHUNK  16384
#define CHARGEN_LINE   24

struct echo_conn {
	struct echo_conn *next_free;
	struct tcp_rxq rx;              /* received, not yet echoed */
	bool peer_done;
};

struct chargen_conn {
	struct chargen_conn *next_free;
	uint64_t remaining;
	uint64_t offset;
	uint8_t line_len;
	bool sending;
	char line[CHARGEN_LINE];
};

/* Per-lcore fixed pools; one set per net_lcore, found through the
 * listener argument. */
struct diag_pools {
	struct echo_conn *echo, *echo_free;
	struct chargen_conn *chargen, *chargen_free;
};

static uint8_t chargen_pattern[CHARGEN_MOD + CHARGEN_CHUNK];

static struct diag_pools *
diag_pools(struct net_lcore *nl)
{
	return nl->diag;
}

static int
diag_pools_get(struct net_lcore *nl, struct diag_pools **out)
{
	if (nl->diag == NULL) {
		nl->diag = calloc(1, sizeof(struct diag_pools));
		if (nl->diag == NULL)
			return -ENOMEM;
	}
	*out = nl->diag;
	return 0;
}

/* --- echo --- */

static void
echo_flush(struct tcp_conn *c)
{
	struct echo_conn *e = tcp_user(c);
	const uint8_t *p;
	size_t len;
	int n;

	while ((len = tcp_rxq_front(&e->rx, &p)) > 0) {
		n = tcp_send(c, p, len);
		if (n <= 0)
			return;         /* `writable` resumes */
		tcp_recved(c, tcp_rxq_consume(&e->rx, (size_t)n));
		if ((size_t)n < len)
			return;
	}
	if (e->peer_done)
		tcp_close(c);
}

static int
echo_established(struct tcp_conn *c)
{
	struct diag_pools *dp = diag_pools(tcp_lcore(c));
	struct echo_conn *e = dp->echo_free;

	if (e == NULL)
		return -ENOBUFS;
	dp->echo_free = e->next_free;
	memset(e, 0, sizeof(*e));
	tcp_set_user(c, e);
	return 0;
}

static void
echo_recv(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct echo_conn *e = tcp_user(c);

	tcp_rxq_append(&e->rx, m);
	echo_flush(c);
}

static void
echo_peer_closed(struct tcp_conn *c)
{
	struct echo_conn *e = tcp_user(c);

	e->peer_done = true;
	if (e->rx.head == NULL)
		tcp_close(c);
}

static void
echo_closed(struct tcp_conn *c, int err)
{
	struct diag_pools *dp = diag_pools(tcp_lcore(c));
	struct echo_conn *e = tcp_user(c);

	(void)err;
	if (e == NULL)
		return;
	tcp_rxq_free(&e->rx);
	e->next_free = dp->echo_free;
	dp->echo_free = e;
	tcp_set_user(c, NULL);
}

static const struct tcp_ops echo_ops = {
	.established = echo_established,
	.recv = echo_recv,
	.peer_closed = echo_peer_closed,
	.writable = echo_flush,
	.closed = echo_closed,
};

/* --- chargen --- */

static void
chargen_pump(struct tcp_conn *c)
{
	struct chargen_conn *g = tcp_user(c);
	uint32_t chunk;
	int n;

	while (g->remaining > 0) {
		chunk = g->remaining < CHARGEN_CHUNK ?
			(uint32_t)g->remaining : CHARGEN_CHUNK;
		n = tcp_send(c, &chargen_pattern[g->offset % CHARGEN_MOD],
			     chunk);
		if (n <= 0)
			return;         /* `writable` resumes */
		g->remaining -= (uint32_t)n;
		g->offset += (uint32_t)n;
	}
	tcp_close(c);
}

static void
chargen_error(struct tcp_conn *c, const char *msg)
{
	tcp_send(c, msg, strlen(msg));
	tcp_close(c);
}

static void
chargen_recv(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct chargen_conn *g = tcp_user(c);
	struct rte_mbuf *seg;
	uint32_t total = rte_pktmbuf_pkt_len(m);
	uint16_t i;

	for (seg = m; seg != NULL && !g->sending; seg = seg->next) {
		const char *p = rte_pktmbuf_mtod(seg, const char *);

		for (i = 0; i < seg->data_len && !g->sending; i++) {
			char ch = p[i];

			if (ch == '\r')
				continue;
			if (ch == '\n') {
				char *end;

				g->line[g->line_len] = '\0';
				errno = 0;
				g->remaining = strtoull(g->line, &end, 10);
				if (g->line_len == 0 || *end != '\0' ||
				    errno != 0) {
					chargen_error(c, "error: expected a "
						      "decimal byte count and "
						      "a newline\n");
					goto out;
				}
				g->sending = true;
				break;
			}
			if (ch < '0' || ch > '9' ||
			    g->line_len + 1 >= CHARGEN_LINE) {
				chargen_error(c, "error: expected a decimal "
					      "byte count and a newline\n");
				goto out;
			}
			g->line[g->line_len++] = ch;
		}
	}
out:
	/* Whatever else the client sends is read and ignored. */
	rte_pktmbuf_free(m);
	tcp_recved(c, total);
	if (g->sending && tcp_user(c) == g)
		chargen_pump(c);
}

static int
chargen_established(struct tcp_conn *c)
{
	struct diag_pools *dp = diag_pools(tcp_lcore(c));
	struct chargen_conn *g = dp->chargen_free;

	if (g == NULL)
		return -ENOBUFS;
	dp->chargen_free = g->next_free;
	memset(g, 0, sizeof(*g));
	tcp_set_user(c, g);
	return 0;
}

static void
chargen_writable(struct tcp_conn *c)
{
	struct chargen_conn *g = tcp_user(c);

	if (g != NULL && g->sending)
		chargen_pump(c);
}

static void
chargen_peer_closed(struct tcp_conn *c)
{
	struct chargen_conn *g = tcp_user(c);

	/* A client that hangs up before asking gets nothing. */
	if (g != NULL && !g->sending)
		tcp_close(c);
}

static void
chargen_closed(struct tcp_conn *c, int err)
{
	struct diag_pools *dp = diag_pools(tcp_lcore(c));
	struct chargen_conn *g = tcp_user(c);

	(void)err;
	if (g == NULL)
		return;
	g->next_free = dp->chargen_free;
	dp->chargen_free = g;
	tcp_set_user(c, NULL);
}

static const struct tcp_ops chargen_ops = {
	.established = chargen_established,
	.recv = chargen_recv,
	.peer_closed = chargen_peer_closed,
	.writable = chargen_writable,
	.closed = chargen_closed,
};

/* --- start/stop --- */

int
diag_echo_start(struct net_lcore *nl, uint16_t port)
{
	uint32_t n = tcp_max_conns(nl), i;
	struct diag_pools *dp;
	int rc;

	rc = diag_pools_get(nl, &dp);
	if (rc != 0)
		return rc;
	dp->echo = calloc(n, sizeof(*dp->echo));
	if (dp->echo == NULL)
		return -ENOMEM;
	for (i = n; i-- > 0;) {
		dp->echo[i].next_free = dp->echo_free;
		dp->echo_free = &dp->echo[i];
	}
	return tcp_listen(nl, 0, port, &echo_ops, NULL);
}

int
diag_chargen_start(struct net_lcore *nl, uint16_t port)
{
	uint32_t n = tcp_max_conns(nl), i;
	struct diag_pools *dp;
	int rc;

	for (i = 0; i < sizeof(chargen_pattern); i++)
		chargen_pattern[i] = (uint8_t)(i % CHARGEN_MOD);
	rc = diag_pools_get(nl, &dp);
	if (rc != 0)
		return rc;
	dp->chargen = calloc(n, sizeof(*dp->chargen));
	if (dp->chargen == NULL)
		return -ENOMEM;
	for (i = n; i-- > 0;) {
		dp->chargen[i].next_free = dp->chargen_free;
		dp->chargen_free = &dp->chargen[i];
	}
	return tcp_listen(nl, 0, port, &chargen_ops, NULL);
}

void
diag_stop(struct net_lcore *nl)
{
	struct diag_pools *dp = nl->diag;

	if (dp == NULL)
		return;
	free(dp->echo);
	free(dp->chargen);
	free(dp);
	nl->diag = NULL;
}

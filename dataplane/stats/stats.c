/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>

#include "net/tcp.h"
#include "stats.h"

void
stats_write(FILE *f, struct worker *const *w, unsigned int nb_workers,
	    struct port *const *ports, uint16_t nb_ports)
{
	uint64_t sum[DPC_MAX] = { 0 };
	uint64_t rx = 0, tx = 0, txd = 0, v;
	struct port_xstats xs;
	unsigned int i, c;
	uint16_t p;

	for (i = 0; i < nb_workers; i++) {
		for (c = 0; c < DPC_MAX; c++)
			sum[c] += dpc_read(&w[i]->net.cnt, c);
		for (p = 0; p < w[i]->nb_rxq; p++) {
			rx += __atomic_load_n(&w[i]->rxq[p].rx_packets,
					      __ATOMIC_RELAXED);
			tx += __atomic_load_n(&w[i]->net.txq[p].tx_packets,
					      __ATOMIC_RELAXED);
			txd += __atomic_load_n(&w[i]->net.txq[p].tx_dropped,
					       __ATOMIC_RELAXED);
		}
	}
	fprintf(f, "rx_packets %" PRIu64 "\n", rx);
	fprintf(f, "tx_packets %" PRIu64 "\n", tx);
	fprintf(f, "tx_dropped %" PRIu64 "\n", txd);
	v = 0;
	for (i = 0; i < nb_workers; i++)
		v += tcp_nb_conns(&w[i]->net);
	fprintf(f, "tcp_conns %" PRIu64 "\n", v);
	for (c = 0; c < DPC_MAX; c++)
		fprintf(f, "%s %" PRIu64 "\n", dp_counter_names[c], sum[c]);

	for (p = 0; p < nb_ports; p++) {
		for (i = 0; i < nb_workers; i++) {
			v = __atomic_load_n(&w[i]->rxq[p].rx_packets,
					    __ATOMIC_RELAXED);
			fprintf(f, "port%u.q%u.rx_packets %" PRIu64 "\n", p,
				w[i]->queue, v);
			v = __atomic_load_n(&w[i]->net.txq[p].tx_packets,
					    __ATOMIC_RELAXED);
			fprintf(f, "port%u.q%u.tx_packets %" PRIu64 "\n", p,
				w[i]->queue, v);
			v = __atomic_load_n(&w[i]->net.txq[p].tx_dropped,
					    __ATOMIC_RELAXED);
			fprintf(f, "port%u.q%u.tx_dropped %" PRIu64 "\n", p,
				w[i]->queue, v);
		}
		if (port_stats(ports[p], &xs) == 0) {
			fprintf(f, "port%u.dev.rx_packets %" PRIu64 "\n", p,
				xs.rx_packets);
			fprintf(f, "port%u.dev.tx_packets %" PRIu64 "\n", p,
				xs.tx_packets);
			fprintf(f, "port%u.dev.rx_missed %" PRIu64 "\n", p,
				xs.rx_missed);
			fprintf(f, "port%u.dev.rx_errors %" PRIu64 "\n", p,
				xs.rx_errors);
			fprintf(f, "port%u.dev.tx_errors %" PRIu64 "\n", p,
				xs.tx_errors);
		}
	}
	for (i = 0; i < nb_workers; i++) {
		fprintf(f, "lcore%u.busy_cycles %" PRIu64 "\n", w[i]->lcore_id,
			dpc_read(&w[i]->net.cnt, DPC_busy_cycles));
		fprintf(f, "lcore%u.idle_cycles %" PRIu64 "\n", w[i]->lcore_id,
			dpc_read(&w[i]->net.cnt, DPC_idle_cycles));
	}
}

static uint64_t
rd(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static json_t *
lcore_counters(const struct worker *w)
{
	json_t *o = json_object();
	unsigned int c;

	if (o == NULL)
		return NULL;
	for (c = 0; c < DPC_MAX; c++)
		if (json_object_set_new(o, dp_counter_names[c],
				json_integer((json_int_t)dpc_read(&w->net.cnt,
								  c))) != 0)
			goto fail;
	if (json_object_set_new(o, "tcp_conns",
			json_integer((json_int_t)tcp_nb_conns(&w->net))) != 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

static json_t *
port_queues(struct worker *const *w, unsigned int nb_workers, uint16_t p)
{
	json_t *a = json_array(), *q;
	unsigned int i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < nb_workers; i++) {
		q = json_pack("{s:i, s:i, s:I, s:I, s:I}",
			      "queue", (int)w[i]->queue,
			      "lcore", (int)w[i]->lcore_id,
			      "rx_packets", (json_int_t)rd(&w[i]->rxq[p].rx_packets),
			      "tx_packets",
			      (json_int_t)rd(&w[i]->net.txq[p].tx_packets),
			      "tx_dropped",
			      (json_int_t)rd(&w[i]->net.txq[p].tx_dropped));
		if (q == NULL || json_array_append_new(a, q) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int
stats_json(json_t *obj, struct worker *const *w, unsigned int nb_workers,
	   struct port *const *ports, uint16_t nb_ports)
{
	json_t *lcores = json_array(), *total = json_object();
	json_t *pa = json_array(), *cnt, *po, *dev, *v;
	uint64_t rx = 0, tx = 0, txd = 0;
	struct port_xstats xs;
	const char *name;
	unsigned int i;
	uint16_t p;

	if (lcores == NULL || total == NULL || pa == NULL)
		goto fail;
	for (i = 0; i < nb_workers; i++) {
		cnt = lcore_counters(w[i]);
		if (cnt == NULL || json_array_append_new(lcores,
				json_pack("{s:i, s:i, s:o}", "lcore",
					  (int)w[i]->lcore_id, "queue",
					  (int)w[i]->queue, "counters",
					  cnt)) != 0)
			goto fail;
		json_object_foreach(cnt, name, v) {
			json_int_t sum = json_integer_value(v) +
				json_integer_value(json_object_get(total, name));

			if (json_object_set_new(total, name,
						json_integer(sum)) != 0)
				goto fail;
		}
		for (p = 0; p < w[i]->nb_rxq; p++) {
			rx += rd(&w[i]->rxq[p].rx_packets);
			tx += rd(&w[i]->net.txq[p].tx_packets);
			txd += rd(&w[i]->net.txq[p].tx_dropped);
		}
	}
	if (json_object_set_new(total, "rx_packets",
				json_integer((json_int_t)rx)) != 0 ||
	    json_object_set_new(total, "tx_packets",
				json_integer((json_int_t)tx)) != 0 ||
	    json_object_set_new(total, "tx_dropped",
				json_integer((json_int_t)txd)) != 0)
		goto fail;
	for (p = 0; p < nb_ports; p++) {
		po = json_pack("{s:i, s:s, s:o}", "port", (int)p, "name",
			       ports[p]->name, "queues",
			       port_queues(w, nb_workers, p));
		if (po == NULL || json_array_append_new(pa, po) != 0)
			goto fail;
		if (port_stats(ports[p], &xs) != 0)
			continue;
		dev = json_pack("{s:I, s:I, s:I, s:I, s:I}",
				"rx_packets", (json_int_t)xs.rx_packets,
				"tx_packets", (json_int_t)xs.tx_packets,
				"rx_missed", (json_int_t)xs.rx_missed,
				"rx_errors", (json_int_t)xs.rx_errors,
				"tx_errors", (json_int_t)xs.tx_errors);
		if (json_object_set_new(po, "device", dev) != 0)
			goto fail;
	}
	/* Each call takes over its value, even when it fails. */
	if ((json_object_set_new(obj, "lcores", lcores) != 0) |
	    (json_object_set_new(obj, "total", total) != 0) |
	    (json_object_set_new(obj, "ports", pa) != 0))
		return -ENOMEM;
	return 0;
fail:
	json_decref(lcores);
	json_decref(total);
	json_decref(pa);
	return -ENOMEM;
}

json_t *
stats_ports_json(struct worker *const *w, unsigned int nb_workers,
		 struct port *const *ports, uint16_t nb_ports)
{
	json_t *a = json_array(), *o;
	uint64_t rx, tx, txd, rxd;
	struct port_xstats xs;
	unsigned int i;
	uint16_t p;

	if (a == NULL)
		return NULL;
	for (p = 0; p < nb_ports; p++) {
		rx = tx = txd = rxd = 0;
		for (i = 0; i < nb_workers; i++) {
			rx += rd(&w[i]->rxq[p].rx_packets);
			tx += rd(&w[i]->net.txq[p].tx_packets);
			txd += rd(&w[i]->net.txq[p].tx_dropped);
		}
		if (port_stats(ports[p], &xs) == 0)
			rxd = xs.rx_missed;
		o = json_pack("{s:i, s:s, s:I, s:I, s:I, s:I}", "port", (int)p,
			      "name", ports[p]->name,
			      "rx_packets", (json_int_t)rx,
			      "tx_packets", (json_int_t)tx,
			      "rx_dropped", (json_int_t)rxd,
			      "tx_dropped", (json_int_t)txd);
		if (o == NULL || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker loop driven step by step through the mock port: bursts in,
 * replies out, refusals counted, per-queue counters, nothing leaked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "lcore/worker.h"
#include "stats/stats.h"

static void
test_poll_burst(void **state)
{
	struct t_env *env = *state;
	struct worker *w = calloc(1, sizeof(*w));
	static const bool quit;
	struct rte_mbuf *out[64];
	uint16_t i, n;

	assert_non_null(w);
	worker_init(w, 0, 0, env->ifc, 1, t_pool(), &quit);
	w->net.hz = T_HZ;
	for (i = 0; i < 40; i++)
		assert_int_equal(port_mock_inject(env->port, 0,
						  t_ping(i, 64)), 0);
	/* One poll takes one burst. */
	assert_int_equal(worker_poll(w, T_HZ), PORT_BURST);
	assert_int_equal(worker_poll(w, T_HZ + 1), 40 - PORT_BURST);
	assert_int_equal(worker_poll(w, T_HZ + 2), 0);
	net_flush(&w->net);
	n = port_mock_collect(env->port, 0, out, 64);
	assert_int_equal(n, 40);
	for (i = 0; i < n; i++) {
		struct rte_icmp_hdr *ic = rte_pktmbuf_mtod_offset(out[i],
					struct rte_icmp_hdr *, 34);

		/* Order is preserved. */
		assert_int_equal(rte_be_to_cpu_16(ic->icmp_seq_nb), i);
	}
	rte_pktmbuf_free_bulk(out, n);
	assert_int_equal(w->rxq[0].rx_packets, 40);
	assert_int_equal(w->net.txq[0].tx_packets, 40);
	assert_int_equal(dpc_read(&w->net.cnt, DPC_icmp_echo_out), 40);
	worker_fini(w);
	free(w);
}

static void
test_tx_refused_is_freed_and_counted(void **state)
{
	struct t_env *env = *state;
	struct worker *w = calloc(1, sizeof(*w));
	static const bool quit;
	struct rte_mbuf *out[64];
	char buf[4096];
	FILE *f;
	uint16_t i, n;

	assert_non_null(w);
	worker_init(w, 0, 0, env->ifc, 1, t_pool(), &quit);
	port_mock_set_tx_accept(env->port, 5);
	for (i = 0; i < 8; i++)
		port_mock_inject(env->port, 0, t_ping(i, 8));
	worker_poll(w, T_HZ);
	net_flush(&w->net);
	n = port_mock_collect(env->port, 0, out, 64);
	assert_int_equal(n, 5);
	rte_pktmbuf_free_bulk(out, n);
	assert_int_equal(w->net.txq[0].tx_dropped, 3);

	/* The report an operator reads says the same. */
	f = fmemopen(buf, sizeof(buf), "w");
	assert_non_null(f);
	{
		struct worker *ws[1] = { w };
		struct port *ps[1] = { env->port };

		stats_write(f, ws, 1, ps, 1);
	}
	fclose(f);
	assert_non_null(strstr(buf, "\ntx_dropped 3\n"));
	assert_non_null(strstr(buf, "\nport0.q0.tx_dropped 3\n"));
	assert_non_null(strstr(buf, "\nport0.q0.rx_packets 8\n"));
	assert_non_null(strstr(buf, "\nicmp_echo_in 8\n"));
	worker_fini(w);
	free(w);
}

/* A burst of garbage between good frames: every good one answered. */
static void
test_garbage_interleaved(void **state)
{
	struct t_env *env = *state;
	struct worker *w = calloc(1, sizeof(*w));
	static const bool quit;
	struct rte_mbuf *out[64];
	uint8_t junk[80];
	uint16_t i, n;

	assert_non_null(w);
	worker_init(w, 0, 0, env->ifc, 1, t_pool(), &quit);
	srand(7);
	for (i = 0; i < 30; i++) {
		if (i % 3 == 0) {
			port_mock_inject(env->port, 0, t_ping(i, 16));
			continue;
		}
		for (n = 0; n < sizeof(junk); n++)
			junk[n] = (uint8_t)rand();
		t_eth(junk, &t_our_mac, &t_peer_mac,
		      i % 2 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_ARP);
		port_mock_inject(env->port, 0,
				 t_mbuf(junk, (size_t)(rand() % 80)));
	}
	worker_poll(w, T_HZ);
	net_flush(&w->net);
	n = port_mock_collect(env->port, 0, out, 64);
	assert_true(n >= 10);
	assert_int_equal(dpc_read(&w->net.cnt, DPC_icmp_echo_out), 10);
	rte_pktmbuf_free_bulk(out, n);
	worker_fini(w);
	free(w);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, t_env_setup, t_env_teardown)
	const struct CMUnitTest tests[] = {
		T(test_poll_burst),
		T(test_tx_refused_is_freed_and_counted),
		T(test_garbage_interleaved),
	};

	t_eal_init();
	return cmocka_run_group_tests_name("worker", tests, NULL, NULL);
}

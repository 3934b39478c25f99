/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ethdev implementation of struct port: real NICs (PCI) and DPDK virtual
 * devices (net_tap, net_af_packet, net_memif, ...). The only file in the
 * project that calls rte_eth_*.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "port.h"

#define RX_DESC_DEFAULT 1024
#define TX_DESC_DEFAULT 1024

struct dpdk_priv {
	uint16_t port_id;
};

static uint16_t
dpdk_rx_burst(struct port *p, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	const struct dpdk_priv *dp = p->priv;

	return rte_eth_rx_burst(dp->port_id, q, pkts, n);
}

static uint16_t
dpdk_tx_burst(struct port *p, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	const struct dpdk_priv *dp = p->priv;

	return rte_eth_tx_burst(dp->port_id, q, pkts, n);
}

static int
dpdk_stats(struct port *p, struct port_xstats *st)
{
	const struct dpdk_priv *dp = p->priv;
	struct rte_eth_stats es;
	int rc;

	rc = rte_eth_stats_get(dp->port_id, &es);
	if (rc != 0)
		return rc;
	st->rx_packets = es.ipackets;
	st->tx_packets = es.opackets;
	st->rx_missed = es.imissed;
	st->rx_errors = es.ierrors;
	st->tx_errors = es.oerrors;
	return 0;
}

static void
dpdk_close(struct port *p)
{
	struct dpdk_priv *dp = p->priv;

	rte_eth_dev_stop(dp->port_id);
	rte_eth_dev_close(dp->port_id);
	free(dp);
	free(p);
}

static const struct port_ops dpdk_ops = {
	.rx_burst = dpdk_rx_burst,
	.tx_burst = dpdk_tx_burst,
	.stats = dpdk_stats,
	.close = dpdk_close,
};

struct port *
port_dpdk_open(uint16_t port_id, uint16_t index, uint16_t nb_queues,
	       struct rte_mempool *mp, char *err, size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxconf;
	struct rte_eth_txconf txconf;
	uint16_t nb_rxd = RX_DESC_DEFAULT, nb_txd = TX_DESC_DEFAULT, q;
	struct port *p = NULL;
	struct dpdk_priv *dp = NULL;
	int rc;

	p = calloc(1, sizeof(*p));
	dp = calloc(1, sizeof(*dp));
	if (p == NULL || dp == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail_free;
	}
	dp->port_id = port_id;
	p->ops = &dpdk_ops;
	p->priv = dp;
	p->index = index;
	p->nb_queues = nb_queues;
	if (rte_eth_dev_get_name_by_port(port_id, p->name) != 0)
		snprintf(p->name, sizeof(p->name), "port%u", port_id);

	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): cannot read device info: %s",
			 port_id, p->name, rte_strerror(-rc));
		goto fail_free;
	}
	if (nb_queues > info.max_rx_queues || nb_queues > info.max_tx_queues) {
		snprintf(err, errlen,
			 "port %u (%s): %u workers need %u RX/TX queue pairs but "
			 "the device has %u RX and %u TX queues (for net_af_packet "
			 "pass qpairs=%u in --vdev)",
			 port_id, p->name, nb_queues, nb_queues,
			 info.max_rx_queues, info.max_tx_queues, nb_queues);
		goto fail_free;
	}

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
	if (nb_queues > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = NULL;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
		p->offloads |= PORT_RX_FLOW_HASH;
	} else if (nb_queues > 1 && strncmp(info.driver_name, "net_af_packet",
					    13) == 0) {
		/* af_packet spreads flows with PACKET_FANOUT_HASH, and rolls
		 * over to another queue when one ring is full. */
		p->offloads |= PORT_RX_FLOW_HASH | PORT_RX_FLOW_LOOSE;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		p->offloads |= PORT_TX_IPV4_CKSUM;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		p->offloads |= PORT_TX_TCP_CKSUM;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
		p->offloads |= PORT_TX_UDP_CKSUM;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
		p->offloads |= PORT_RX_IPV4_CKSUM;
	}

	rc = rte_eth_dev_configure(port_id, nb_queues, nb_queues, &conf);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): configure with %u queues "
			 "failed: %s", port_id, p->name, nb_queues,
			 rte_strerror(-rc));
		goto fail_free;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): descriptor counts: %s",
			 port_id, p->name, rte_strerror(-rc));
		goto fail_close;
	}

	rxconf = info.default_rxconf;
	rxconf.offloads = conf.rxmode.offloads;
	txconf = info.default_txconf;
	txconf.offloads = conf.txmode.offloads;
	for (q = 0; q < nb_queues; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, nb_rxd,
					    rte_eth_dev_socket_id(port_id),
					    &rxconf, mp);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port_id, q, nb_txd,
					rte_eth_dev_socket_id(port_id), &txconf);
		if (rc != 0) {
			snprintf(err, errlen, "port %u (%s): queue %u setup: %s",
				 port_id, p->name, q, rte_strerror(-rc));
			goto fail_close;
		}
	}

	rc = rte_eth_dev_start(port_id);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): start failed: %s",
			 port_id, p->name, rte_strerror(-rc));
		goto fail_close;
	}
	rc = rte_eth_macaddr_get(port_id, &p->mac);
	if (rc != 0) {
		snprintf(err, errlen, "port %u (%s): no MAC address: %s",
			 port_id, p->name, rte_strerror(-rc));
		goto fail_stop;
	}
	return p;

fail_stop:
	rte_eth_dev_stop(port_id);
fail_close:
	rte_eth_dev_close(port_id);
fail_free:
	free(dp);
	free(p);
	return NULL;
}

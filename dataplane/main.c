/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampart-dataplane: EAL and port setup, worker launch, control thread,
 * orderly shutdown. The packet path itself lives in lcore/ and net/.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <sodium.h>

#include "cfg/live.h"
#include "cfg/options.h"
#include "diag/diag.h"
#include "net/tcp.h"
#include "ctl/ctl_ops.h"
#include "ctl/ctl_server.h"
#include "lcore/worker.h"
#include "proxy/px.h"
#include "proxy/px_log.h"
#include "stats/stats.h"
#include "tls/tls_conn.h"
#include "tls/tls_ctx.h"

#define PROG "rampart-dataplane"
#define ARP_INBOX_SIZE 1024
#define TCP_INBOX_SIZE 4096

struct dataplane {
	struct dp_options opt;
	struct rte_mempool *pool;
	struct port *ports[PORT_MAX];
	struct net_iface ifaces[PORT_MAX];
	uint16_t nb_ports;
	struct worker *workers[RTE_MAX_LCORE];
	unsigned int nb_workers;
	struct ctl_server ctl;
	struct ctl_dp ctl_dp;
	struct cfg_live live;
	bool tls_ready;                 /* tls_lib_init done */
	struct px_logger *logger;       /* access log; NULL without HTTP */
	cpu_set_t start_cpus;           /* our affinity before EAL pinned us */
};

static volatile bool quit_flag;

static void
on_signal(int sig)
{
	(void)sig;
	quit_flag = true;
}

static int
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGTERM, &sa, NULL) != 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* What the control ops see; the instance id lets the control plane tell
 * a restarted dataplane (which lost every push) from the one it fed. */
static int
start_control(struct dataplane *dp, char *err, size_t errlen)
{
	struct ctl_dp *cd = &dp->ctl_dp;
	struct ctl_server_params p = {
		.path = dp->opt.control,
		.group = dp->opt.control_group,
		.gid = dp->opt.control_gid,
		.ops = ctl_dp_ops,
		.arg = cd,
		.conn_closed = ctl_dp_conn_closed,
	};

	cd->workers = dp->workers;
	cd->nb_workers = dp->nb_workers;
	cd->ports = dp->ports;
	cd->nb_ports = dp->nb_ports;
	cd->nb_lcores = rte_lcore_count();
	cd->live = &dp->live;
	cd->origin_ca_bundle = dp->opt.origin_ca_bundle;
	clock_gettime(CLOCK_MONOTONIC, &cd->started);
	if (getrandom(&cd->instance, sizeof(cd->instance), 0) !=
	    (ssize_t)sizeof(cd->instance)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -EIO;
	}
	if (dp->opt.control == NULL)
		return 0;
	return ctl_server_start(&dp->ctl, &p, &quit_flag, err, errlen);
}

/* Split argv at the first "--": EAL gets the left part, we the right. */
static int
split_args(int argc, char **argv, int *eal_argc)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			break;
	*eal_argc = i;
	return i < argc ? i : -1;
}

static void
print_port(const struct dataplane *dp, uint16_t i)
{
	const struct net_iface *ifc = &dp->ifaces[i];
	char mac[RTE_ETHER_ADDR_FMT_SIZE], ip[INET_ADDRSTRLEN];

	rte_ether_format_addr(mac, sizeof(mac), &ifc->mac);
	inet_ntop(AF_INET, &ifc->addr, ip, sizeof(ip));
	printf(PROG ": port %u %s mac %s ip %s/%u queues %u%s%s\n", i,
	       ifc->port->name, mac, ip, ifc->prefix, ifc->port->nb_queues,
	       ifc->port->offloads & PORT_TX_IPV4_CKSUM ? " tx-ipv4-cksum" : "",
	       ifc->port->offloads & PORT_RX_FLOW_HASH ? " flow-hash" : "");
}

static int
setup_ports(struct dataplane *dp, char *err, size_t errlen)
{
	uint16_t nb_avail = rte_eth_dev_count_avail(), port_id, i = 0;
	unsigned int nb_mbufs;
	int gw_port = -1;

	if (nb_avail == 0) {
		snprintf(err, errlen, "no DPDK ports: give a NIC bound to "
			 "vfio-pci, or a virtual device such as --vdev "
			 "net_tap0,iface=rp0");
		return -ENODEV;
	}
	if (nb_avail != dp->opt.nb_ip) {
		snprintf(err, errlen, "%u DPDK port%s but %u --ip: give exactly "
			 "one --ip per port, in port order", nb_avail,
			 nb_avail == 1 ? "" : "s", dp->opt.nb_ip);
		return -EINVAL;
	}
	if (dp->opt.gateway != 0) {
		gw_port = dp_options_gateway_port(&dp->opt, err, errlen);
		if (gw_port < 0)
			return gw_port;
	}

	/* RX and TX rings of every queue, per-lcore caches, and headroom
	 * for frames held in TX buffers and ARP queues. */
	nb_mbufs = nb_avail * dp->nb_workers * 2048u +
		   rte_lcore_count() * (256u + PORT_BURST * 2) + 4096;
	dp->pool = rte_pktmbuf_pool_create("rampart_mbufs", nb_mbufs, 256, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE,
					   rte_socket_id());
	if (dp->pool == NULL) {
		snprintf(err, errlen, "cannot allocate %u packet buffers: %s "
			 "(raise -m or reserve hugepages)", nb_mbufs,
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}

	RTE_ETH_FOREACH_DEV(port_id) {
		struct net_iface *ifc = &dp->ifaces[i];

		dp->ports[i] = port_dpdk_open(port_id, i, dp->nb_workers,
					      dp->pool, err, errlen);
		if (dp->ports[i] == NULL)
			return -EIO;
		dp->nb_ports = ++i;
		ifc->port = dp->ports[i - 1];
		ifc->mac = ifc->port->mac;
		ifc->addr = dp->opt.ip[i - 1].addr;
		ifc->mask = dp->opt.ip[i - 1].mask;
		ifc->prefix = dp->opt.ip[i - 1].prefix;
		if (gw_port == i - 1)
			ifc->gateway = dp->opt.gateway;
	}
	return 0;
}

static int
setup_workers(struct dataplane *dp, char *err, size_t errlen)
{
	struct tcp_params tp = tcp_params_default;
	char name[RTE_RING_NAMESIZE];
	unsigned int i, j;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	tp.max_conns = dp->opt.tcp_max_conns;
	randombytes_buf(tp.secret, sizeof(tp.secret));
	for (i = 0; i < dp->nb_workers; i++) {
		struct worker *w = dp->workers[i];
		int rc;

		worker_init(w, w->lcore_id, (uint16_t)i, dp->ifaces,
			    dp->nb_ports, dp->pool, &quit_flag);
		w->cfg = &dp->live;
		w->net.now = rte_rdtsc();
		rc = tcp_lcore_init(&w->net, &tp, i, dp->nb_workers);
		if (rc == 0 && dp->opt.echo_port != 0)
			rc = diag_echo_start(&w->net, dp->opt.echo_port);
		if (rc == 0 && dp->opt.chargen_port != 0)
			rc = diag_chargen_start(&w->net, dp->opt.chargen_port);
		/* The HTTP engine serves the plain listener and the TLS
		 * engine's established sessions: started first. */
		if (rc == 0 && (dp->opt.http_port != 0 ||
				dp->opt.https_port != 0)) {
			struct px_params pxp = px_params_default;

			pxp.http_port = dp->opt.http_port;
			pxp.https_port = dp->opt.https_port != 0 ?
					 dp->opt.https_port : 443;
			pxp.header_timeout_ms = dp->opt.http_header_timeout_ms;
			pxp.keepalive_timeout_ms =
				dp->opt.http_keepalive_timeout_ms;
			pxp.nb_workers = dp->nb_workers;
			pxp.origin_idle_max = dp->opt.origin_idle_max;
			w->px = px_lcore_start(&w->net, &pxp, &dp->live, i,
					       &rc);
		}
		if (rc == 0 && dp->opt.https_port != 0) {
			struct tls_params tlp = {
				.port = dp->opt.https_port,
				.handshake_timeout_ms =
					dp->opt.tls_handshake_timeout_ms,
				.max_handshakes = dp->opt.tls_max_handshakes,
			};

			w->tls = tls_lcore_start(&w->net, &tlp, &dp->live,
						 w->px, i, &rc);
		}
		if (rc != 0) {
			snprintf(err, errlen, "TCP stack of lcore %u: %s",
				 w->lcore_id, strerror(-rc));
			return rc;
		}
		if (dp->nb_workers == 1)
			continue;
		snprintf(name, sizeof(name), "tcp_inbox_%u", i);
		w->net.tcp_inbox = rte_ring_create(name, TCP_INBOX_SIZE,
				rte_lcore_to_socket_id(w->lcore_id),
				RING_F_SC_DEQ);
		if (w->net.tcp_inbox == NULL) {
			snprintf(err, errlen, "TCP inbox ring for lcore %u: %s",
				 w->lcore_id, rte_strerror(rte_errno));
			return -ENOMEM;
		}
		snprintf(name, sizeof(name), "arp_inbox_%u", i);
		w->net.arp_inbox = rte_ring_create_elem(name,
				sizeof(struct arp_notice), ARP_INBOX_SIZE,
				rte_lcore_to_socket_id(w->lcore_id),
				RING_F_SC_DEQ);
		if (w->net.arp_inbox == NULL) {
			snprintf(err, errlen, "ARP inbox ring for lcore %u: %s",
				 w->lcore_id, rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	for (i = 0; i < dp->nb_workers; i++)
		for (j = 0; j < dp->nb_workers; j++)
			if (i != j)
				dp->workers[i]->net.tcp_peers[j] =
					dp->workers[j]->net.tcp_inbox;
	for (i = 0; i < dp->nb_workers; i++)
		for (j = 0; j < dp->nb_workers; j++)
			if (i != j)
				dp->workers[i]->net.arp_peers[
					dp->workers[i]->net.nb_arp_peers++] =
					dp->workers[j]->net.arp_inbox;
	return 0;
}

/* A worker context on the lcore's NUMA socket. */
static int
add_worker(struct dataplane *dp, unsigned int lcore)
{
	struct worker *w;

	w = rte_zmalloc_socket("worker", sizeof(*w), RTE_CACHE_LINE_SIZE,
			       rte_lcore_to_socket_id(lcore));
	if (w == NULL)
		return -ENOMEM;
	w->lcore_id = lcore;
	dp->workers[dp->nb_workers++] = w;
	return 0;
}

static int
alloc_workers(struct dataplane *dp)
{
	unsigned int lcore;
	int rc;

	/* One lcore: the main lcore polls. Several: every worker lcore
	 * polls and main keeps the control thread and signals. */
	if (rte_lcore_count() == 1)
		return add_worker(dp, rte_get_main_lcore());
	RTE_LCORE_FOREACH_WORKER(lcore) {
		rc = add_worker(dp, lcore);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The access-log thread over every worker's ring: a plain thread, not a
 * worker, so its writes never stall the packet path. It runs on the CPUs
 * we were given that no worker polls on (as DPDK's control threads do);
 * it would otherwise inherit the main lcore's CPU, which with a single
 * lcore is the worker's. */
static int
start_logger(struct dataplane *dp, char *err, size_t errlen)
{
	struct px_log_ring *rings[RTE_MAX_LCORE];
	unsigned int i, n = 0, c;
	cpu_set_t cpus = dp->start_cpus;
	rte_cpuset_t lc;
	int rc = 0;

	for (i = 0; i < dp->nb_workers; i++) {
		lc = rte_lcore_cpuset(dp->workers[i]->lcore_id);
		for (c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &lc))
				CPU_CLR(c, &cpus);
	}

	for (i = 0; i < dp->nb_workers; i++)
		if (dp->workers[i]->px != NULL)
			rings[n++] = px_lcore_log(dp->workers[i]->px);
	if (n == 0)
		return 0;
	dp->logger = px_logger_start(rings, n, dp->opt.access_log,
				     rte_get_tsc_hz(),
				     CPU_COUNT(&cpus) > 0 ? &cpus : NULL, &rc);
	if (dp->logger == NULL)
		snprintf(err, errlen, "access log %s: %s",
			 dp->opt.access_log != NULL ? dp->opt.access_log :
			 "(stderr)", strerror(-rc));
	return rc;
}

static void
teardown(struct dataplane *dp)
{
	unsigned int i;

	ctl_server_stop(&dp->ctl);
	/* The workers are stopped: drain their rings before they go. */
	px_logger_stop(dp->logger);
	dp->logger = NULL;
	for (i = 0; i < dp->nb_workers; i++) {
		if (dp->workers[i] == NULL)
			continue;
		worker_fini(dp->workers[i]);
		rte_ring_free(dp->workers[i]->net.arp_inbox);
		if (dp->workers[i]->net.tcp_inbox != NULL) {
			void *m = NULL;

			while (rte_ring_dequeue(dp->workers[i]->net.tcp_inbox,
						&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(dp->workers[i]->net.tcp_inbox);
		}
		rte_free(dp->workers[i]);
	}
	for (i = 0; i < dp->nb_ports; i++)
		port_close(dp->ports[i]);
	rte_mempool_free(dp->pool);
	/* Workers and the control thread are gone: no reader is left. The
	 * last snapshot takes its TLS contexts with it, before wolfSSL's
	 * global state goes. */
	cfg_live_fini(&dp->live);
	if (dp->tls_ready)
		tls_lib_fini();
}

int
main(int argc, char **argv)
{
	static struct dataplane dp;
	char err[512] = "";
	int eal_argc, app_at, rc;
	unsigned int i;

	/* Application options are checked before EAL starts, so a typo
	 * costs no hugepage or device setup and gets a plain message. */
	app_at = split_args(argc, argv, &eal_argc);
	if (app_at < 0) {
		if (eal_argc > 1 && (strcmp(argv[1], "--help") == 0 ||
				     strcmp(argv[1], "-h") == 0)) {
			dp_options_usage(PROG);
			return 0;
		}
		fprintf(stderr, PROG ": missing '--' and application options; "
			"usage: " PROG " [EAL args] -- --ip ADDR/PREFIX "
			"(see --help)\n");
		return 2;
	}
	argv[app_at] = argv[0];
	rc = dp_options_parse(argc - app_at, argv + app_at, &dp.opt, err,
			      sizeof(err));
	if (rc == 1)
		return 0;
	if (rc != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}

	if (sched_getaffinity(0, sizeof(dp.start_cpus), &dp.start_cpus) != 0)
		CPU_ZERO(&dp.start_cpus);
	rc = rte_eal_init(eal_argc, argv);
	if (rc < 0) {
		fprintf(stderr, PROG ": EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	if (install_signals() != 0) {
		fprintf(stderr, PROG ": cannot install signal handlers\n");
		goto fail;
	}
	rc = cfg_live_init(&dp.live);
	if (rc == 0) {
		rc = tls_lib_init();
		dp.tls_ready = rc == 0;
		if (rc != 0)
			snprintf(err, sizeof(err), "wolfSSL failed to "
				 "initialise");
	}
	if (rc == 0)
		rc = alloc_workers(&dp);
	if (rc == 0)
		rc = setup_ports(&dp, err, sizeof(err));
	if (rc == 0)
		rc = setup_workers(&dp, err, sizeof(err));
	if (rc == 0)
		rc = start_logger(&dp, err, sizeof(err));
	if (rc == 0)
		rc = start_control(&dp, err, sizeof(err));
	if (rc != 0) {
		if (rc == -ENOMEM && err[0] == '\0')
			snprintf(err, sizeof(err), "out of memory");
		fprintf(stderr, PROG ": %s\n", err);
		goto fail;
	}

	for (i = 0; i < dp.nb_ports; i++)
		print_port(&dp, (uint16_t)i);
	if (dp.opt.echo_port != 0)
		printf(PROG ": tcp echo on port %u\n", dp.opt.echo_port);
	if (dp.opt.chargen_port != 0)
		printf(PROG ": tcp chargen on port %u\n", dp.opt.chargen_port);
	if (dp.opt.https_port != 0)
		printf(PROG ": tls on port %u\n", dp.opt.https_port);
	if (dp.opt.http_port != 0)
		printf(PROG ": http on port %u\n", dp.opt.http_port);
	printf(PROG ": ready ports=%u workers=%u control=%s\n", dp.nb_ports,
	       dp.nb_workers, dp.opt.control ? dp.opt.control : "none");
	fflush(stdout);

	if (dp.nb_workers == 1 &&
	    dp.workers[0]->lcore_id == rte_get_main_lcore()) {
		worker_main(dp.workers[0]);
	} else {
		for (i = 0; i < dp.nb_workers; i++)
			rte_eal_remote_launch(worker_main, dp.workers[i],
					      dp.workers[i]->lcore_id);
		while (!quit_flag)
			usleep(100 * 1000);
		rte_eal_mp_wait_lcore();
	}

	printf(PROG ": stopping\n");
	stats_write(stdout, dp.workers, dp.nb_workers, dp.ports, dp.nb_ports);
	fflush(stdout);
	teardown(&dp);
	rte_eal_cleanup();
	return 0;

fail:
	quit_flag = true;
	teardown(&dp);
	rte_eal_cleanup();
	return 1;
}

/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/tcp.h"
#include "options.h"
#include "proxy/px.h"
#include "tls/tls_conn.h"
#include "tls/tls_ctx.h"

void
dp_options_usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- --ip ADDR/PREFIX [--ip ...] "
	       "[--gateway ADDR] [--control PATH]\n"
	       "       [--control-group NAME] [--echo-port PORT] "
	       "[--chargen-port PORT]\n"
	       "       [--tcp-max-conns N] [--https-port PORT] "
	       "[--tls-handshake-timeout MS]\n"
	       "       [--tls-max-handshakes N] [--http-port PORT] "
	       "[--http-header-timeout MS]\n"
	       "       [--http-keepalive-timeout MS] [--access-log PATH]\n"
	       "       [--origin-ca-bundle PATH] [--origin-idle-max N]\n"
	       "\n"
	       "  --ip ADDR/PREFIX  IPv4 address of the next DPDK port, in port "
	       "order;\n"
	       "                    exactly one per port (e.g. 192.0.2.10/24)\n"
	       "  --gateway ADDR    next hop for destinations off every "
	       "interface's\n"
	       "                    subnet; must lie on one of them\n"
	       "  --control PATH    control socket (default %s;\n"
	       "                    'none' disables it)\n"
	       "  --control-group NAME\n"
	       "                    group owning the control socket (mode "
	       "0660); its\n"
	       "                    members may use it, as root and our user "
	       "always may\n"
	       "  --echo-port PORT  TCP echo service (diagnostics; off by "
	       "default)\n"
	       "  --chargen-port PORT\n"
	       "                    TCP pattern service: send 'N\\n', receive N "
	       "bytes,\n"
	       "                    byte i = i mod 251 (diagnostics; off by "
	       "default)\n"
	       "  --tcp-max-conns N TCP connections per worker (default "
	       "16384)\n"
	       "  --https-port PORT TLS listener on every address (default "
	       "%u; 0 disables)\n"
	       "  --tls-handshake-timeout MS\n"
	       "                    a connection that has not finished its "
	       "handshake (or,\n"
	       "                    after it, sent its request) is reset "
	       "(default %u)\n"
	       "  --tls-max-handshakes N\n"
	       "                    handshakes in progress per worker; "
	       "beyond it new\n"
	       "                    connections are reset (default %u)\n"
	       "  --http-port PORT  plain-HTTP listener on every address "
	       "(default %u;\n"
	       "                    0 disables)\n"
	       "  --http-header-timeout MS\n"
	       "                    a request head not complete this long "
	       "after its first\n"
	       "                    byte (or after the connection opened) "
	       "closes the\n"
	       "                    connection (default %u)\n"
	       "  --http-keepalive-timeout MS\n"
	       "                    an idle connection between requests is "
	       "closed\n"
	       "                    (default %u)\n"
	       "  --access-log PATH one JSON line per request, appended to "
	       "PATH\n"
	       "                    (default: standard error)\n"
	       "  --origin-ca-bundle PATH\n"
	       "                    CA certificates (PEM) that verify HTTPS "
	       "origins in\n"
	       "                    strict mode without a trust store "
	       "(default\n"
	       "                    " TLS_ORIGIN_CA_BUNDLE ")\n"
	       "  --origin-idle-max N\n"
	       "                    idle origin connections kept per origin "
	       "server and\n"
	       "                    worker, 0-" RTE_STR(PX_ORIGIN_IDLE_MAX) " "
	       "(default %u)\n"
	       "  --help            this text\n"
	       "\n"
	       "Workers are the EAL lcores (-l/--lcores): one per lcore other "
	       "than the\nmain lcore when there are several, the main lcore "
	       "alone otherwise.\nEach worker owns one RX/TX queue pair of "
	       "every port.\n"
	       "Example, no NIC and no hugepages:\n"
	       "  %s -l 0 --no-huge -m 512 --no-shconf --no-pci \\\n"
	       "     --vdev net_tap0,iface=rp0 -- --ip 192.0.2.10/24\n",
	       prog, DP_CONTROL_DEFAULT, tls_params_default.port,
	       tls_params_default.handshake_timeout_ms,
	       tls_params_default.max_handshakes, px_params_default.http_port,
	       px_params_default.header_timeout_ms,
	       px_params_default.keepalive_timeout_ms,
	       px_params_default.origin_idle_max, prog);
}

static int
parse_ipv4(const char *s, rte_be32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = a.s_addr;
	return 0;
}

static int
parse_uint(const char *s, unsigned long lo, unsigned long hi,
	   unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || *out < lo || *out > hi)
		return -EINVAL;
	return 0;
}

static int
parse_cidr(const char *arg, struct dp_ip *ip, char *err, size_t errlen)
{
	char buf[64], *slash, *end;
	uint32_t host;
	long prefix;

	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errlen, "--ip '%.40s...': too long", arg);
		return -EINVAL;
	}
	strcpy(buf, arg);
	slash = strchr(buf, '/');
	if (slash == NULL) {
		snprintf(err, errlen, "--ip '%s': expected ADDR/PREFIX, e.g. "
			 "192.0.2.10/24", arg);
		return -EINVAL;
	}
	*slash = '\0';
	if (parse_ipv4(buf, &ip->addr) != 0) {
		snprintf(err, errlen, "--ip '%s': '%s' is not an IPv4 address",
			 arg, buf);
		return -EINVAL;
	}
	errno = 0;
	prefix = strtol(slash + 1, &end, 10);
	if (slash[1] == '\0' || *end != '\0' || errno != 0 || prefix < 1 ||
	    prefix > 32) {
		snprintf(err, errlen, "--ip '%s': prefix '%s' must be a number "
			 "from 1 to 32", arg, slash + 1);
		return -EINVAL;
	}
	ip->prefix = (uint8_t)prefix;
	ip->mask = rte_cpu_to_be_32(prefix == 32 ? 0xffffffffu :
				    ~(0xffffffffu >> prefix));
	host = rte_be_to_cpu_32(ip->addr);
	if (host == 0 || (host >> 24) == 0 || (host >> 24) == 127 ||
	    (host >> 28) >= 0xe) {
		snprintf(err, errlen, "--ip '%s': %s cannot be an interface "
			 "address (zero, loopback, multicast or reserved)",
			 arg, buf);
		return -EINVAL;
	}
	if (prefix <= 30 && ((ip->addr & ~ip->mask) == 0 ||
			     (ip->addr | ip->mask) == 0xffffffffu)) {
		snprintf(err, errlen, "--ip '%s': %s is the network or "
			 "broadcast address of its /%ld", arg, buf, prefix);
		return -EINVAL;
	}
	return 0;
}

int
dp_options_parse(int argc, char **argv, struct dp_options *o, char *err,
		 size_t errlen)
{
	enum { OPT_IP = 256, OPT_GATEWAY, OPT_CONTROL, OPT_HELP, OPT_ECHO,
	       OPT_CHARGEN, OPT_MAX_CONNS, OPT_CONTROL_GROUP, OPT_HTTPS,
	       OPT_TLS_TIMEOUT, OPT_TLS_MAX_HS, OPT_HTTP, OPT_HTTP_HEAD_TO,
	       OPT_HTTP_KA_TO, OPT_ACCESS_LOG, OPT_ORIGIN_CA, OPT_ORIGIN_IDLE };
	static const struct option longopts[] = {
		{ "ip", required_argument, NULL, OPT_IP },
		{ "gateway", required_argument, NULL, OPT_GATEWAY },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "control-group", required_argument, NULL,
		  OPT_CONTROL_GROUP },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "echo-port", required_argument, NULL, OPT_ECHO },
		{ "chargen-port", required_argument, NULL, OPT_CHARGEN },
		{ "tcp-max-conns", required_argument, NULL, OPT_MAX_CONNS },
		{ "https-port", required_argument, NULL, OPT_HTTPS },
		{ "tls-handshake-timeout", required_argument, NULL,
		  OPT_TLS_TIMEOUT },
		{ "tls-max-handshakes", required_argument, NULL,
		  OPT_TLS_MAX_HS },
		{ "http-port", required_argument, NULL, OPT_HTTP },
		{ "http-header-timeout", required_argument, NULL,
		  OPT_HTTP_HEAD_TO },
		{ "http-keepalive-timeout", required_argument, NULL,
		  OPT_HTTP_KA_TO },
		{ "access-log", required_argument, NULL, OPT_ACCESS_LOG },
		{ "origin-ca-bundle", required_argument, NULL,
		  OPT_ORIGIN_CA },
		{ "origin-idle-max", required_argument, NULL,
		  OPT_ORIGIN_IDLE },
		{ NULL, 0, NULL, 0 },
	};
	struct group *gr;
	unsigned long v;
	uint16_t i;
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->tcp_max_conns = tcp_params_default.max_conns;
	o->https_port = tls_params_default.port;
	o->tls_handshake_timeout_ms = tls_params_default.handshake_timeout_ms;
	o->tls_max_handshakes = tls_params_default.max_handshakes;
	o->http_port = px_params_default.http_port;
	o->http_header_timeout_ms = px_params_default.header_timeout_ms;
	o->http_keepalive_timeout_ms = px_params_default.keepalive_timeout_ms;
	o->control = DP_CONTROL_DEFAULT;
	o->origin_ca_bundle = TLS_ORIGIN_CA_BUNDLE;
	o->origin_idle_max = px_params_default.origin_idle_max;
	o->control_gid = (gid_t)-1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_IP:
			if (o->nb_ip == PORT_MAX) {
				snprintf(err, errlen, "--ip given more than %d "
					 "times; at most %d ports are "
					 "supported", PORT_MAX, PORT_MAX);
				return -EINVAL;
			}
			rc = parse_cidr(optarg, &o->ip[o->nb_ip], err, errlen);
			if (rc != 0)
				return rc;
			for (i = 0; i < o->nb_ip; i++) {
				if (o->ip[i].addr != o->ip[o->nb_ip].addr)
					continue;
				snprintf(err, errlen, "--ip '%s': the same "
					 "address is already on port %u",
					 optarg, i);
				return -EINVAL;
			}
			o->nb_ip++;
			break;
		case OPT_GATEWAY:
			if (parse_ipv4(optarg, &o->gateway) != 0 ||
			    o->gateway == 0) {
				snprintf(err, errlen, "--gateway '%s': not an "
					 "IPv4 address", optarg);
				return -EINVAL;
			}
			break;
		case OPT_CONTROL:
			if (optarg[0] == '\0') {
				snprintf(err, errlen, "--control: empty path "
					 "(use 'none' to disable)");
				return -EINVAL;
			}
			o->control = strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case OPT_CONTROL_GROUP:
			gr = optarg[0] != '\0' ? getgrnam(optarg) : NULL;
			if (gr == NULL) {
				snprintf(err, errlen, "--control-group '%s': no "
					 "such group (see getent group)",
					 optarg);
				return -EINVAL;
			}
			o->control_group = optarg;
			o->control_gid = gr->gr_gid;
			break;
		case OPT_HELP:
			dp_options_usage(argv[0]);
			return 1;
		case OPT_ECHO:
		case OPT_CHARGEN:
			rc = parse_uint(optarg, 1, 65535, &v);
			if (rc != 0) {
				snprintf(err, errlen, "--%s '%s': a TCP port "
					 "from 1 to 65535", c == OPT_ECHO ?
					 "echo-port" : "chargen-port", optarg);
				return -EINVAL;
			}
			if (c == OPT_ECHO)
				o->echo_port = (uint16_t)v;
			else
				o->chargen_port = (uint16_t)v;
			break;
		case OPT_MAX_CONNS:
			rc = parse_uint(optarg, 16, 4u << 20, &v);
			if (rc != 0) {
				snprintf(err, errlen, "--tcp-max-conns '%s': a "
					 "number from 16 to 4194304", optarg);
				return -EINVAL;
			}
			o->tcp_max_conns = (uint32_t)v;
			break;
		case OPT_HTTPS:
			rc = parse_uint(optarg, 0, 65535, &v);
			if (rc != 0) {
				snprintf(err, errlen, "--https-port '%s': a TCP "
					 "port from 1 to 65535, or 0 to disable "
					 "TLS", optarg);
				return -EINVAL;
			}
			o->https_port = (uint16_t)v;
			break;
		case OPT_TLS_TIMEOUT:
			rc = parse_uint(optarg, 100, 600000, &v);
			if (rc != 0) {
				snprintf(err, errlen, "--tls-handshake-timeout "
					 "'%s': milliseconds from 100 to "
					 "600000", optarg);
				return -EINVAL;
			}
			o->tls_handshake_timeout_ms = (uint32_t)v;
			break;
		case OPT_TLS_MAX_HS:
			rc = parse_uint(optarg, 1, 1u << 20, &v);
			if (rc != 0) {
				snprintf(err, errlen, "--tls-max-handshakes '%s': "
					 "a number from 1 to 1048576", optarg);
				return -EINVAL;
			}
			o->tls_max_handshakes = (uint32_t)v;
			break;
		case OPT_HTTP:
			rc = parse_uint(optarg, 0, 65535, &v);
			if (rc != 0) {
				snprintf(err, errlen, "--http-port '%s': a TCP "
					 "port from 1 to 65535, or 0 to disable "
					 "plain HTTP", optarg);
				return -EINVAL;
			}
			o->http_port = (uint16_t)v;
			break;
		case OPT_HTTP_HEAD_TO:
		case OPT_HTTP_KA_TO:
			rc = parse_uint(optarg, 100, 3600000, &v);
			if (rc != 0) {
				snprintf(err, errlen, "--%s '%s': milliseconds "
					 "from 100 to 3600000",
					 c == OPT_HTTP_HEAD_TO ?
					 "http-header-timeout" :
					 "http-keepalive-timeout", optarg);
				return -EINVAL;
			}
			if (c == OPT_HTTP_HEAD_TO)
				o->http_header_timeout_ms = (uint32_t)v;
			else
				o->http_keepalive_timeout_ms = (uint32_t)v;
			break;
		case OPT_ACCESS_LOG:
			if (optarg[0] == '\0') {
				snprintf(err, errlen, "--access-log: empty path");
				return -EINVAL;
			}
			o->access_log = optarg;
			break;
		case OPT_ORIGIN_CA:
			if (optarg[0] == '\0') {
				snprintf(err, errlen, "--origin-ca-bundle: "
					 "empty path");
				return -EINVAL;
			}
			o->origin_ca_bundle = optarg;
			break;
		case OPT_ORIGIN_IDLE:
			if (parse_uint(optarg, 0, PX_ORIGIN_IDLE_MAX, &v) != 0) {
				snprintf(err, errlen, "--origin-idle-max '%s': "
					 "not a number from 0 to %u", optarg,
					 PX_ORIGIN_IDLE_MAX);
				return -EINVAL;
			}
			o->origin_idle_max = (uint32_t)v;
			break;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value",
				 argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, errlen, "unknown option '%s' (see --help)",
				 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)",
			 argv[optind]);
		return -EINVAL;
	}
	if (o->echo_port != 0 && o->echo_port == o->chargen_port) {
		snprintf(err, errlen, "--echo-port and --chargen-port are both "
			 "%u: give them different ports", o->echo_port);
		return -EINVAL;
	}
	if (o->https_port != 0 && (o->https_port == o->echo_port ||
				   o->https_port == o->chargen_port)) {
		snprintf(err, errlen, "--https-port %u is also the %s port: "
			 "give them different ports", o->https_port,
			 o->https_port == o->echo_port ? "echo" : "chargen");
		return -EINVAL;
	}
	if (o->http_port != 0 && (o->http_port == o->https_port ||
				  o->http_port == o->echo_port ||
				  o->http_port == o->chargen_port)) {
		snprintf(err, errlen, "--http-port %u is also the %s port: "
			 "give them different ports", o->http_port,
			 o->http_port == o->https_port ? "https" :
			 o->http_port == o->echo_port ? "echo" : "chargen");
		return -EINVAL;
	}
	if (o->nb_ip == 0) {
		snprintf(err, errlen, "no --ip given: each DPDK port needs one, "
			 "e.g. -- --ip 192.0.2.10/24");
		return -EINVAL;
	}
	return 0;
}

int
dp_options_gateway_port(const struct dp_options *o, char *err, size_t errlen)
{
	char gw[INET_ADDRSTRLEN];
	uint16_t i;

	for (i = 0; i < o->nb_ip; i++)
		if ((o->gateway & o->ip[i].mask) ==
		    (o->ip[i].addr & o->ip[i].mask))
			return i;
	inet_ntop(AF_INET, &o->gateway, gw, sizeof(gw));
	snprintf(err, errlen, "--gateway %s is not on the subnet of any --ip",
		 gw);
	return -EINVAL;
}

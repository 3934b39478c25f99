/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Application options of rampart-dataplane (what follows `--` after the
 * EAL arguments). Parsing is pure so it is unit-tested without EAL.
 */
#ifndef RAMPART_CFG_OPTIONS_H
#define RAMPART_CFG_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_byteorder.h>

#include "port.h"

#define DP_CONTROL_DEFAULT "/run/rampart/dataplane.sock"

struct dp_ip {
	rte_be32_t addr;
	rte_be32_t mask;
	uint8_t prefix;
};

struct dp_options {
	struct dp_ip ip[PORT_MAX];      /* one per port, in port order */
	uint16_t nb_ip;
	rte_be32_t gateway;             /* 0: none */
	const char *control;            /* NULL: no control socket */
	const char *control_group;      /* NULL: only root and our user */
	gid_t control_gid;              /* its gid, or (gid_t)-1 */
	uint16_t echo_port;             /* 0: off */
	uint16_t chargen_port;          /* 0: off */
	uint32_t tcp_max_conns;         /* per worker */
	uint16_t https_port;            /* 0: no TLS listener */
	uint32_t tls_handshake_timeout_ms;
	uint32_t tls_max_handshakes;    /* in progress, per worker */
	uint16_t http_port;             /* 0: no plain-HTTP listener */
	uint32_t http_header_timeout_ms;
	uint32_t http_keepalive_timeout_ms;
	const char *access_log;         /* NULL: stderr */
	const char *origin_ca_bundle;   /* strict origins without a trust
					 * store; read at each commit */
	uint32_t origin_idle_max;       /* pooled per origin server, worker */
};

/*
 * Parse argv (argv[0] is the program name). Returns 0, 1 when --help was
 * asked (usage already printed to stdout), or -EINVAL with a one-line
 * sentence in err naming the bad option and value. --control-group is
 * looked up in the group database here, so a typo stops the start.
 */
int dp_options_parse(int argc, char **argv, struct dp_options *o,
		     char *err, size_t errlen);

/* Check the gateway against the interfaces: it must be on one of them.
 * Returns the port index or -EINVAL with a sentence in err. */
int dp_options_gateway_port(const struct dp_options *o, char *err,
			    size_t errlen);

void dp_options_usage(const char *prog);

#endif /* RAMPART_CFG_OPTIONS_H */

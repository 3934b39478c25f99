/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampartctl connections on the control plane's socket, served by the
 * event loop without blocking: each connection has an input buffer that
 * frames are decoded from (ctlmsg_decode) and an output buffer drained
 * when the socket is writable. A frame must complete within
 * CONN_FRAME_MS of its first byte; a bad frame gets one error response and
 * the connection is closed after it is sent.
 *
 * Thread-safety: the control plane's event-loop thread only.
 */
#ifndef RAMPART_CP_CONN_H
#define RAMPART_CP_CONN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cp;

#define CONN_MAX         64
#define CONN_FRAME_MS    5000
/* Stop reading from a client that does not read its answers. */
#define CONN_OUT_HIGH    (1u << 20)

struct cp_conn {
	int fd;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_len, out_off;
	uint64_t partial_since_ms;      /* 0: no frame under way */
	bool closing;                   /* close once out is sent */
	uint64_t closing_since_ms;      /* a peer that never reads is cut */
};

struct cp_server {
	int lfd;
	struct cp_conn *conns[CONN_MAX];
	unsigned int n;
};

/* lfd: the listening socket from ctlmsg_listen (owned from now on). */
void srv_init(struct cp_server *srv, int lfd);

/* Close every connection and the listening socket. */
void srv_fini(struct cp_server *srv);

/* Accept what is waiting; peers failing ctlmsg_peer_check get one error
 * response and are closed. */
void srv_accept(struct cp *cp, struct cp_server *srv);

/* Fill pfd for connection i (events to poll for). */
void srv_pollfd(const struct cp_server *srv, unsigned int i,
		struct pollfd *pfd);

/* Serve connection i after poll reported revents for it. */
void srv_serve(struct cp *cp, struct cp_server *srv, unsigned int i,
	       short revents);

/* Time out frames under way for too long; drop closed connections.
 * Call after each poll round (it compacts the table). */
void srv_sweep(struct cp_server *srv);

#endif /* RAMPART_CP_CONN_H */

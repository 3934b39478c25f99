/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "controlplane/proto/ctlmsg.h"
#include "conn.h"
#include "daemon.h"

#define READ_CHUNK (64u << 10)

void
srv_init(struct cp_server *srv, int lfd)
{
	memset(srv, 0, sizeof(*srv));
	srv->lfd = lfd;
}

static void
conn_free(struct cp_conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

void
srv_fini(struct cp_server *srv)
{
	unsigned int i;

	for (i = 0; i < srv->n; i++)
		conn_free(srv->conns[i]);
	srv->n = 0;
	if (srv->lfd >= 0)
		close(srv->lfd);
	srv->lfd = -1;
}

/* Queue resp (consumed) as one frame. */
static void
conn_queue(struct cp_conn *c, json_t *resp)
{
	uint8_t *frame, *p;
	size_t len;

	if (resp == NULL)
		resp = ctlmsg_error("out of memory");
	if (resp == NULL || ctlmsg_encode(resp, &frame, &len) != 0) {
		json_decref(resp);
		resp = ctlmsg_error("the response does not fit in one frame");
		if (resp == NULL || ctlmsg_encode(resp, &frame, &len) != 0) {
			json_decref(resp);
			c->closing = true;
			return;
		}
	}
	json_decref(resp);
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	p = realloc(c->out, c->out_len + len);
	if (p == NULL) {
		free(frame);
		c->closing = true;
		return;
	}
	c->out = p;
	memcpy(c->out + c->out_len, frame, len);
	c->out_len += len;
	free(frame);
}

static void
conn_flush(struct cp_conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* The peer is gone: nothing left to say. */
				c->out_off = c->out_len = 0;
				c->closing = true;
				c->in_len = 0;
			}
			break;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
}

static bool
conn_done(const struct cp_conn *c)
{
	return c->closing && c->out_len == 0;
}

void
srv_accept(struct cp *cp, struct cp_server *srv)
{
	struct cp_conn *c;
	char err[256];
	json_t *e;
	int fd;

	for (;;) {
		fd = accept4(srv->lfd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (ctlmsg_peer_check(fd, cp->gid, err, sizeof(err)) != 0) {
			cp_log("warn", "client refused", "error=%s", cp_q(err));
			e = ctlmsg_error("%s", err);
			ctlmsg_send(fd, e, 500);
			json_decref(e);
			close(fd);
			continue;
		}
		if (srv->n >= CONN_MAX) {
			e = ctlmsg_error("the control plane already serves %d "
					 "clients; try again later", CONN_MAX);
			ctlmsg_send(fd, e, 500);
			json_decref(e);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		srv->conns[srv->n++] = c;
	}
}

void
srv_pollfd(const struct cp_server *srv, unsigned int i, struct pollfd *pfd)
{
	const struct cp_conn *c = srv->conns[i];

	pfd->fd = c->fd;
	pfd->events = 0;
	pfd->revents = 0;
	if (!c->closing && c->out_len - c->out_off < CONN_OUT_HIGH)
		pfd->events |= POLLIN;
	if (c->out_len > c->out_off)
		pfd->events |= POLLOUT;
}

/* Decode and answer every complete frame in the input buffer. */
static void
conn_process(struct cp *cp, struct cp_conn *c)
{
	char err[256];
	json_t *req;
	ssize_t n;

	while (c->in_len > 0 && !c->closing) {
		n = ctlmsg_decode(c->in, c->in_len, &req, err, sizeof(err));
		if (n == 0)
			break;
		if (n < 0) {
			cp_log("warn", "bad frame from a client; closing it",
			       "error=%s", cp_q(err));
			conn_queue(c, ctlmsg_error("%s", err));
			c->closing = true;
			c->in_len = 0;
			break;
		}
		conn_queue(c, cp_handle(cp, req));
		json_decref(req);
		memmove(c->in, c->in + n, c->in_len - (size_t)n);
		c->in_len -= (size_t)n;
		c->partial_since_ms = 0;
	}
	if (c->in_len == 0)
		c->partial_since_ms = 0;
	else if (c->partial_since_ms == 0)
		c->partial_since_ms = cp_mono_ms();
}

static void
conn_read(struct cp *cp, struct cp_conn *c)
{
	uint8_t *p;
	ssize_t n;

	for (;;) {
		if (c->in_cap - c->in_len < READ_CHUNK) {
			p = realloc(c->in, c->in_len + READ_CHUNK);
			if (p == NULL) {
				c->closing = true;
				return;
			}
			c->in = p;
			c->in_cap = c->in_len + READ_CHUNK;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len,
			 MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->closing = true;
			break;
		}
		if (n == 0) {
			/* Half-close: answer what was sent, then close. */
			conn_process(cp, c);
			c->closing = true;
			return;
		}
		c->in_len += (size_t)n;
		/* Decode as we go so a frame's header is checked (and an
		 * oversized one refused) before its body is buffered. */
		conn_process(cp, c);
		if (c->closing ||
		    c->out_len - c->out_off >= CONN_OUT_HIGH)
			break;
	}
}

void
srv_serve(struct cp *cp, struct cp_server *srv, unsigned int i,
	  short revents)
{
	struct cp_conn *c = srv->conns[i];

	if (c == NULL)
		return;
	if (revents & POLLIN)
		conn_read(cp, c);
	else if (revents & (POLLERR | POLLHUP | POLLNVAL))
		c->closing = true;
	if (revents & (POLLERR | POLLNVAL))
		c->out_len = c->out_off = 0;
	conn_flush(c);
}

void
srv_sweep(struct cp_server *srv)
{
	uint64_t now = cp_mono_ms();
	unsigned int i, j = 0;

	for (i = 0; i < srv->n; i++) {
		struct cp_conn *c = srv->conns[i];

		if (!c->closing && c->partial_since_ms != 0 &&
		    now - c->partial_since_ms >= CONN_FRAME_MS) {
			cp_log("warn", "client sent an incomplete frame; "
			       "closing it", "bytes=%zu", c->in_len);
			conn_queue(c, ctlmsg_error("incomplete request: no "
					"complete frame within %d s",
					CONN_FRAME_MS / 1000));
			c->closing = true;
			c->in_len = 0;
			conn_flush(c);
		}
		if (c->closing && c->closing_since_ms == 0)
			c->closing_since_ms = now;
		if (conn_done(c) || (c->closing &&
				     now - c->closing_since_ms >=
				     CONN_FRAME_MS)) {
			conn_free(c);
			continue;
		}
		srv->conns[j++] = c;
	}
	srv->n = j;
}

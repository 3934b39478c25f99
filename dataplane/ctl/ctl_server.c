/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "controlplane/proto/ctlmsg.h"
#include "ctl_server.h"

#define CTL_POLL_MS     200
#define CTL_READ_CHUNK  (64u << 10)

struct ctl_conn {
	int fd;
	uint8_t *in;                    /* bytes of the frame(s) being read */
	size_t in_len, in_cap;
	uint8_t *out;                   /* responses not yet written */
	size_t out_len, out_off;
	int64_t in_deadline;            /* ms; 0: no partial frame */
	int64_t out_deadline;           /* ms; 0: nothing pending */
	bool closing;                   /* close once out is written */
	bool dead;
	void *data;                     /* the ops' (open transaction) */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void **
ctl_conn_data(struct ctl_conn *c)
{
	return &c->data;
}

/* Queue resp (consumed) on c. A response that cannot be encoded becomes
 * an error response, so the client still gets exactly one answer. */
static void
conn_queue(struct ctl_conn *c, json_t *resp)
{
	uint8_t *frame = NULL, *p;
	size_t len;
	int rc;

	if (resp == NULL)
		resp = ctlmsg_error("the dataplane ran out of memory answering "
				    "this request");
	rc = resp != NULL ? ctlmsg_encode(resp, &frame, &len) : -ENOMEM;
	json_decref(resp);
	if (rc == -EMSGSIZE) {
		resp = ctlmsg_error("the response exceeds the %u-byte frame "
				    "limit", CTLMSG_MAX_PAYLOAD);
		rc = resp != NULL ? ctlmsg_encode(resp, &frame, &len) : -ENOMEM;
		json_decref(resp);
	}
	if (rc != 0) {
		c->closing = true;
		return;
	}
	if (c->out_off > 0 && c->out_off == c->out_len) {
		c->out_off = 0;
		c->out_len = 0;
	}
	p = realloc(c->out, c->out_len + len);
	if (p == NULL) {
		free(frame);
		c->closing = true;
		return;
	}
	memcpy(p + c->out_len, frame, len);
	free(frame);
	c->out = p;
	c->out_len += len;
}

/* One error response, then the connection closes. */
static void
conn_fail(struct ctl_conn *c, const char *sentence)
{
	conn_queue(c, ctlmsg_error("%s", sentence));
	c->closing = true;
	c->in_len = 0;
}

static void
conn_write(struct ctl_conn *c, int64_t now)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				break;
			c->dead = true;
			return;
		}
		c->out_off += (size_t)n;
		/* A reader that makes progress keeps its connection. */
		c->out_deadline = now + CTL_FRAME_TIMEOUT_MS;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		c->out_deadline = 0;
		if (c->closing)
			c->dead = true;
	} else if (c->out_deadline == 0) {
		c->out_deadline = now + CTL_FRAME_TIMEOUT_MS;
	}
}

static void
conn_dispatch(struct ctl_server *cs, struct ctl_conn *c, json_t *req)
{
	const struct ctl_op *op;
	const json_t *name = json_object_get(req, "op");
	json_t *resp;
	char known[512];
	size_t off = 0;

	if (!json_is_string(name)) {
		conn_queue(c, ctlmsg_error("the request has no \"op\" string; "
					   "send {\"op\": NAME, ...}"));
		return;
	}
	for (op = cs->p.ops; op->name != NULL; op++)
		if (strcmp(op->name, json_string_value(name)) == 0)
			break;
	if (op->name == NULL) {
		known[0] = '\0';
		for (op = cs->p.ops; op->name != NULL && off < sizeof(known);
		     op++)
			off += (size_t)snprintf(known + off, sizeof(known) - off,
						"%s%s", off ? ", " : "",
						op->name);
		conn_queue(c, ctlmsg_error("unknown op \"%.64s\"; the dataplane "
					   "knows %s", json_string_value(name),
					   known));
		return;
	}
	/* Online only while the op runs: an idle control thread must not
	 * hold back the grace periods that call_rcu and publishers wait
	 * for. */
	rcu_thread_online();
	resp = op->fn(c, req, cs->p.arg);
	rcu_thread_offline();
	conn_queue(c, resp);
}

/* Decode and answer every complete frame in the input buffer. */
static void
conn_process(struct ctl_server *cs, struct ctl_conn *c, int64_t now)
{
	char err[256];
	uint32_t plen;
	json_t *req;
	ssize_t n;
	size_t need;
	uint8_t *p;

	while (!c->closing && c->in_len >= CTLMSG_HDR_LEN) {
		/* The header alone decides whether the frame is acceptable,
		 * so a bad length is refused before any payload is read. */
		if (ctlmsg_parse_hdr(c->in, &plen, err, sizeof(err)) != 0) {
			conn_fail(c, err);
			return;
		}
		need = CTLMSG_HDR_LEN + (size_t)plen;
		if (c->in_len < need) {
			if (c->in_cap < need) {
				p = realloc(c->in, need);
				if (p == NULL) {
					conn_fail(c, "the dataplane is out of "
						  "memory for this frame");
					return;
				}
				c->in = p;
				c->in_cap = need;
			}
			break;
		}
		n = ctlmsg_decode(c->in, c->in_len, &req, err, sizeof(err));
		if (n <= 0) {
			conn_fail(c, n == 0 ? "incomplete frame" : err);
			return;
		}
		conn_dispatch(cs, c, req);
		json_decref(req);
		memmove(c->in, c->in + n, c->in_len - (size_t)n);
		c->in_len -= (size_t)n;
		c->in_deadline = 0;
	}
	if (c->in_len > 0 && c->in_deadline == 0)
		c->in_deadline = now + CTL_FRAME_TIMEOUT_MS;
}

static void
conn_read(struct ctl_server *cs, struct ctl_conn *c, int64_t now)
{
	uint8_t *p;
	ssize_t n;

	if (c->in_cap - c->in_len < 4096 && c->in_cap < CTL_READ_CHUNK) {
		p = realloc(c->in, CTL_READ_CHUNK);
		if (p == NULL) {
			c->dead = true;
			return;
		}
		c->in = p;
		c->in_cap = CTL_READ_CHUNK;
	}
	if (c->in_len == c->in_cap) {
		/* Full: conn_process grows the buffer to the frame's
		 * declared length, so this only happens between frames. */
		conn_process(cs, c, now);
		if (c->in_len == c->in_cap)
			return;
	}
	n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len,
		 MSG_DONTWAIT);
	if (n == 0) {
		/* The peer is done sending; answer what it sent, then go. */
		conn_process(cs, c, now);
		c->closing = true;
		if (c->out_len == c->out_off)
			c->dead = true;
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			c->dead = true;
		return;
	}
	c->in_len += (size_t)n;
	conn_process(cs, c, now);
}

static void
conn_free(struct ctl_server *cs, struct ctl_conn *c)
{
	if (cs->p.conn_closed != NULL)
		cs->p.conn_closed(c, cs->p.arg);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/* Answer a connection we will not serve with one frame, best effort (it
 * is small and the socket buffer is empty), and close it. */
static void
refuse(int fd, const char *sentence)
{
	json_t *resp = ctlmsg_error("%s", sentence);
	uint8_t *frame;
	size_t len;

	if (resp != NULL && ctlmsg_encode(resp, &frame, &len) == 0) {
		if (send(fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* The peer is gone already: nothing to tell. */
		}
		free(frame);
	}
	json_decref(resp);
	close(fd);
}

static void
ctl_accept(struct ctl_server *cs)
{
	struct ctl_conn *c;
	char err[256];
	int fd;

	for (;;) {
		fd = accept4(cs->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		if (ctlmsg_peer_check(fd, cs->p.gid, err, sizeof(err)) != 0) {
			refuse(fd, err);
			continue;
		}
		if (cs->nb_conns == CTL_MAX_CONNS) {
			snprintf(err, sizeof(err), "the dataplane already serves "
				 "%d control connections; try again later",
				 CTL_MAX_CONNS);
			refuse(fd, err);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			refuse(fd, "the dataplane is out of memory");
			continue;
		}
		c->fd = fd;
		cs->conns[cs->nb_conns++] = c;
	}
}

static void
ctl_timeouts(struct ctl_conn *c, int64_t now)
{
	char msg[160];

	if (c->in_deadline != 0 && now >= c->in_deadline && !c->closing) {
		snprintf(msg, sizeof(msg), "incomplete frame: %zu bytes "
			 "arrived and the rest did not follow within %d s",
			 c->in_len, CTL_FRAME_TIMEOUT_MS / 1000);
		conn_fail(c, msg);
		c->in_deadline = 0;
	}
	/* A peer that does not read its responses cannot hold a slot. */
	if (c->out_deadline != 0 && now >= c->out_deadline)
		c->dead = true;
}

static int
next_timeout(const struct ctl_server *cs, int64_t now)
{
	int64_t t = CTL_POLL_MS, d;
	unsigned int i;

	for (i = 0; i < cs->nb_conns; i++) {
		d = cs->conns[i]->in_deadline;
		if (d != 0 && d - now < t)
			t = d - now;
		d = cs->conns[i]->out_deadline;
		if (d != 0 && d - now < t)
			t = d - now;
	}
	return t < 0 ? 0 : (int)t;
}

static void *
ctl_thread(void *arg)
{
	struct ctl_server *cs = arg;
	struct pollfd pfd[CTL_MAX_CONNS + 1];
	struct ctl_conn *c;
	unsigned int i, n;
	int64_t now;

	rcu_register_thread();
	rcu_thread_offline();
	while (!__atomic_load_n(cs->quit, __ATOMIC_RELAXED)) {
		pfd[0].fd = cs->fd;
		pfd[0].events = POLLIN;
		for (i = 0; i < cs->nb_conns; i++) {
			c = cs->conns[i];
			pfd[i + 1].fd = c->fd;
			/* Back-pressure: no new request is read while a
			 * response is still waiting for the peer. */
			pfd[i + 1].events = c->out_len > c->out_off ? POLLOUT :
					    c->closing ? 0 : POLLIN;
			pfd[i + 1].revents = 0;
		}
		n = cs->nb_conns;
		if (poll(pfd, n + 1, next_timeout(cs, now_ms())) < 0 &&
		    errno != EINTR)
			break;
		now = now_ms();
		for (i = 0; i < n; i++) {
			c = cs->conns[i];
			if (pfd[i + 1].revents & POLLIN)
				conn_read(cs, c, now);
			else if (pfd[i + 1].revents & (POLLERR | POLLNVAL))
				c->dead = true;
			else if (pfd[i + 1].revents & POLLHUP &&
				 !(pfd[i + 1].revents & POLLOUT))
				c->dead = true;
			if (!c->dead && c->out_len > c->out_off)
				conn_write(c, now);
			if (!c->dead)
				ctl_timeouts(c, now);
			if (!c->dead && c->out_len > c->out_off)
				conn_write(c, now);
		}
		/* Drop the dead, keeping the array dense. */
		for (i = 0; i < cs->nb_conns;) {
			if (!cs->conns[i]->dead) {
				i++;
				continue;
			}
			conn_free(cs, cs->conns[i]);
			cs->conns[i] = cs->conns[--cs->nb_conns];
		}
		if (pfd[0].revents & POLLIN)
			ctl_accept(cs);
	}
	for (i = 0; i < cs->nb_conns; i++)
		conn_free(cs, cs->conns[i]);
	cs->nb_conns = 0;
	/* Staples replaced by the ops wait in call_rcu queues: let them be
	 * freed before the process tears down. */
	rcu_barrier();
	rcu_unregister_thread();
	return NULL;
}

int
ctl_server_start(struct ctl_server *cs, const struct ctl_server_params *p,
		 const volatile bool *quit, char *err, size_t errlen)
{
	int fd, rc;

	memset(cs, 0, sizeof(*cs));
	cs->fd = -1;
	cs->quit = quit;
	cs->p = *p;
	if (strlen(p->path) >= sizeof(cs->path)) {
		snprintf(err, errlen, "--control '%s': path longer than %zu "
			 "bytes", p->path, sizeof(cs->path) - 1);
		return -ENAMETOOLONG;
	}
	fd = ctlmsg_listen(p->path, 0660, p->group, err, errlen);
	if (fd < 0)
		return fd;
	cs->fd = fd;
	snprintf(cs->path, sizeof(cs->path), "%s", p->path);
	rc = pthread_create(&cs->thread, NULL, ctl_thread, cs);
	if (rc != 0) {
		snprintf(err, errlen, "control thread: %s", strerror(rc));
		close(cs->fd);
		unlink(cs->path);
		return -rc;
	}
	pthread_setname_np(cs->thread, "rampart-ctl");
	cs->running = true;
	return 0;
}

void
ctl_server_stop(struct ctl_server *cs)
{
	if (!cs->running)
		return;
	pthread_join(cs->thread, NULL);
	close(cs->fd);
	unlink(cs->path);
	cs->running = false;
}

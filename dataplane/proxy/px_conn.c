/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The viewer-side state machine: one request at a time per connection
 * (pipelined requests wait in the transport, unread), each one read,
 * routed, forwarded and answered before the next head is looked at.
 *
 *   IDLE -> HEAD -> (edge answer) EDGE -> IDLE | closed
 *                -> CONNECT -> FORWARD -> RESPONSE -> IDLE | closed
 *
 * Every event (viewer bytes or room, origin bytes, room, connect or
 * failure, a timeout) lands in drive(), which advances the state as far
 * as the bytes and the send space allow and returns; nothing waits.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "px_int.h"

const struct px_params px_params_default = {
	.http_port = 80,
	.https_port = 443,
	.header_timeout_ms = 10000,
	.keepalive_timeout_ms = 60000,
	.origin_idle_ms = 30000,
	.origin_idle_max = 32,
	.log_ring = 4096,
};

/* Head buffers per lcore: each request in flight holds one or two. */
#define PX_MAX_BUFS 4096

static const char continue_100[] = "HTTP/1.1 100 Continue\r\n\r\n";

static int drive_step(struct px_conn *pc);

/* ---------------------------------------------------------------- helpers */

static struct dp_counters *
cnt(const struct px_conn *pc)
{
	return &pc->pl->nl->cnt;
}

static uint64_t
now(const struct px_conn *pc)
{
	return pc->pl->nl->now;
}

static struct px_buf *
buf_get(struct px_lcore *pl)
{
	struct px_buf *b = pl->bufs;

	if (b != NULL) {
		pl->bufs = b->next;
		return b;
	}
	if (pl->nb_bufs >= pl->max_bufs)
		return NULL;
	/* Grows to the concurrency actually seen, then recycles: the
	 * steady state allocates nothing. */
	b = malloc(sizeof(*b));
	if (b != NULL)
		pl->nb_bufs++;
	return b;
}

static void
buf_put(struct px_lcore *pl, struct px_buf **bp)
{
	if (*bp == NULL)
		return;
	(*bp)->next = pl->bufs;
	pl->bufs = *bp;
	*bp = NULL;
}

static void
copy_cut(char *dst, size_t size, const char *src, size_t len, bool *cut)
{
	if (len >= size) {
		len = size - 1;
		if (cut != NULL)
			*cut = true;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Feed a CRLFCRLF scanner: 4 once the empty line that ends a head was
 * seen. */
static uint8_t
crlf_step(uint8_t s, uint8_t c)
{
	if (c == '\r')
		return s == 2 ? 3 : 1;
	if (c == '\n')
		return s == 1 ? 2 : (s == 3 ? 4 : 0);
	return 0;
}

/* Copy from p[0..n) into buf at *len, up to the end of a head or room
 * bytes; returns how many were copied. */
static size_t
head_copy(char *buf, uint32_t *len, uint8_t *crlf, const uint8_t *p,
	  size_t n, size_t room)
{
	size_t k = 0;

	while (k < n && k < room) {
		*crlf = crlf_step(*crlf, p[k++]);
		if (*crlf == 4) {
			*crlf = 0;
			break;
		}
	}
	memcpy(buf + *len, p, k);
	*len += (uint32_t)k;
	return k;
}

/* ---------------------------------------------------------------- queue */

static void
queue_remove(struct px_conn *pc)
{
	if (pc->qprev == NULL)
		return;
	pc->qprev->qnext = pc->qnext;
	pc->qnext->qprev = pc->qprev;
	pc->qnext = pc->qprev = NULL;
}

/* Wait for the origin's connection limit, first come first served; the
 * wait counts against the connect timeout from the first refusal. */
static void
queue_append(struct px_conn *pc)
{
	struct px_conn *q = &pc->pl->queue;

	if (pc->state != PX_S_QUEUED) {
		pc->state = PX_S_QUEUED;
		pc->deadline = now(pc) + (uint64_t)pc->origin->connect_timeout_ms *
					 pc->pl->ms_tsc;
		dpc_inc(cnt(pc), DPC_px_origin_queued);
	}
	pc->qprev = q->qprev;
	pc->qnext = q;
	q->qprev->qnext = pc;
	q->qprev = pc;
}

/* ---------------------------------------------------------------- lifecycle */

static void
request_reset(struct px_conn *pc)
{
	struct px_lcore *pl = pc->pl;

	queue_remove(pc);
	if (pc->oc != NULL)
		px_origin_put(pc, PX_PUT_ABORT);
	if (pc->snap != NULL) {
		cfg_snapshot_put(pc->snap);
		pc->snap = NULL;
	}
	buf_put(pl, &pc->hb);
	buf_put(pl, &pc->rb);
	pc->hb_len = pc->hb_last = pc->out_off = pc->out_len = 0;
	pc->rb_len = pc->rb_last = pc->rb_off = 0;
	pc->rb_out = false;
	pc->head_crlf = pc->resp_crlf = 0;
	pc->dist = NULL;
	pc->origin = NULL;
	pc->close_after = false;
	pc->keep_alive = false;
	pc->expect_continue = false;
	pc->cont_off = 0;
	pc->reused = pc->retried = false;
	pc->req_sent = pc->resp_deadline = false;
	pc->resp_keep_alive = false;
	pc->origin_tls = false;
	pc->origin_port = 0;
	pc->origin_name[0] = '\0';
	memset(&pc->up, 0, sizeof(pc->up));
	memset(&pc->down, 0, sizeof(pc->down));
	memset(&pc->log, 0, sizeof(pc->log));
}

static void
conn_release(struct px_conn *pc)
{
	struct px_lcore *pl = pc->pl;

	request_reset(pc);
	tcp_rxq_free(&pc->vt.rx);
	memset(pc, 0, sizeof(*pc));
	pc->pl = pl;
	pc->next = pl->free;
	pl->free = pc;
	dpc_add(&pl->nl->cnt, DPC_http_active, (uint64_t)-1);
}

/* The engine is done with the viewer: FIN after what is queued (abort:
 * reset now). pc is released. */
static void
conn_close(struct px_conn *pc, bool abort)
{
	struct px_transport *t = pc->t;

	pc->t = NULL;
	if (t != NULL) {
		if (abort)
			t->ops->abort(t);
		else
			t->ops->close(t);
	}
	conn_release(pc);
}

static void
log_push(struct px_conn *pc)
{
	struct px_lcore *pl = pc->pl;

	if (pc->log.start_tsc == 0)
		return;
	pc->log.end_tsc = now(pc);
	pc->log.bytes_in += pc->up.moved;
	if (!px_log_push(&pl->log, &pc->log))
		dpc_inc(cnt(pc), DPC_http_log_dropped);
	pc->log.start_tsc = 0;
}

static void
count_status(struct px_conn *pc, unsigned int status)
{
	static const enum dp_counter by_class[] = {
		DPC_http_responses_2xx, DPC_http_responses_2xx,
		DPC_http_responses_2xx, DPC_http_responses_3xx,
		DPC_http_responses_4xx, DPC_http_responses_5xx,
	};

	if (status >= 100 && status < 600)
		dpc_inc(cnt(pc), by_class[status / 100]);
}

/* The answer went out: log it, give the origin connection back, and
 * either wait for the next request or close. 1: go on; -1: pc released. */
static int
request_done(struct px_conn *pc)
{
	enum px_put how;
	bool close;

	count_status(pc, pc->log.status);
	log_push(pc);
	if (pc->oc != NULL) {
		if (pc->resp_keep_alive && pc->down.done && pc->up.done)
			how = PX_PUT_POOL;
		else
			how = pc->down.done ? PX_PUT_CLOSE : PX_PUT_ABORT;
		px_origin_put(pc, how);
	}
	close = pc->close_after || !pc->keep_alive || !pc->up.done;
	request_reset(pc);
	if (close) {
		conn_close(pc, false);
		return -1;
	}
	pc->state = PX_S_IDLE;
	pc->deadline = now(pc) + pc->pl->keepalive_tsc;
	return 1;
}

/* ---------------------------------------------------------------- edge answers */

static void
count_edge(struct px_conn *pc, unsigned int status)
{
	enum dp_counter c;

	switch (status) {
	case 301:
	case 308: c = DPC_http_edge_redirect; break;
	case 400: c = DPC_http_edge_400; break;
	case 403: c = DPC_http_edge_403; break;
	case 404: c = DPC_http_edge_404; break;
	case 421: c = DPC_http_edge_421; break;
	case 502: c = DPC_http_edge_502; break;
	case 503: c = DPC_http_edge_503; break;
	case 504: c = DPC_http_edge_504; break;
	default:
		c = status < 500 ? DPC_http_edge_4xx_other :
				   DPC_http_edge_5xx_other;
		break;
	}
	dpc_inc(cnt(pc), c);
}

/*
 * Answer the viewer ourselves. A request whose body was not read whole
 * closes the connection after the answer: its remaining bytes cannot be
 * told from a next request. Returns 1 (state EDGE) or -1 (pc released).
 */
static int
edge(struct px_conn *pc, unsigned int status, const char *reason,
     const char *location, size_t location_len, bool close)
{
	struct px_lcore *pl = pc->pl;
	struct http_sec_hdrs sec, *secp = NULL;
	int n;

	if (pc->oc != NULL)
		px_origin_put(pc, PX_PUT_ABORT);
	if (pc->rb == NULL)
		pc->rb = buf_get(pl);
	if (pc->rb == NULL) {
		dpc_inc(cnt(pc), DPC_http_refused_busy);
		conn_close(pc, true);
		return -1;
	}
	close = close || !pc->keep_alive || !pc->up.done;
	if (pc->dist != NULL) {
		http_sec_headers(pc->dist, pc->viewer.https, &sec);
		secp = &sec;
	}
	n = px_hdr_edge(status, reason, location, location_len, close,
			pc->viewer_minor, pc->method == H1_METHOD_HEAD, secp,
			pc->rb->data, sizeof(pc->rb->data));
	if (n < 0) {
		n = px_hdr_edge(status, reason, NULL, 0, true,
				pc->viewer_minor, false, NULL, pc->rb->data,
				sizeof(pc->rb->data));
		close = true;
	}
	pc->rb_off = 0;
	pc->rb_len = (uint32_t)(n > 0 ? n : 0);
	pc->rb_out = true;
	pc->close_after = close;
	pc->log.status = (uint16_t)status;
	pc->log.edge = true;
	pc->log.reason = reason;
	count_edge(pc, status);
	pc->state = PX_S_EDGE;
	pc->deadline = 0;
	return 1;
}

/* Send rb's pending output to the viewer. 1: all out; 0: wait; -1: the
 * viewer is gone (pc released). */
static int
flush_rb(struct px_conn *pc)
{
	int n;

	if (!pc->rb_out || pc->rb_off == pc->rb_len)
		return 1;
	n = pc->t->ops->send(pc->t, pc->rb->data + pc->rb_off,
			     pc->rb_len - pc->rb_off);
	if (n < 0) {
		conn_close(pc, true);
		return -1;
	}
	pc->rb_off += (uint32_t)n;
	pc->log.bytes_out += (uint64_t)n;
	dpc_add(cnt(pc), DPC_px_bytes_down, (uint64_t)n);
	return pc->rb_off == pc->rb_len ? 1 : 0;
}

static int
edge_step(struct px_conn *pc)
{
	int rc = flush_rb(pc);

	if (rc <= 0)
		return rc;
	return request_done(pc);
}

/* ---------------------------------------------------------------- bodies */

enum {
	PUMP_BLOCKED = 0,
	PUMP_DONE = 1,
	PUMP_BAD = -1,          /* the source's framing is invalid */
	PUMP_CUT = -2,          /* the source ended before the body did */
	PUMP_SEND = -3,         /* the destination refused bytes */
};

/* Queue framing bytes to go out before anything else. */
static void
pend_add(struct px_body *b, const char *p, size_t n)
{
	memcpy(b->pend + b->pend_len, p, n);
	b->pend_len = (uint8_t)(b->pend_len + n);
}

/*
 * Move body bytes from src to dst as far as src has them and dst takes
 * them. Whatever dst does not take stays in src's transport, so src's TCP
 * window closes while dst is slow; every stop on dst is a short send, which
 * is what makes the transport call back when room returns. Data is never
 * copied: a decoded span stays at the front of src (owed) until sent, and
 * only the chunk framing around it is staged in b->pend. *bytes counts
 * what was written to dst.
 */
static int
pump(struct px_body *b, struct px_transport *src, bool src_failed,
     struct px_transport *dst, uint64_t *bytes)
{
	char hdr[PX_CHUNK_HDR_MAX];
	const uint8_t *p;
	struct h1_str data;
	ssize_t used;
	size_t n, pre;
	int k;

	if (b->done)
		return PUMP_DONE;
	for (;;) {
		if (b->pend_off < b->pend_len) {
			n = (size_t)(b->pend_len - b->pend_off);
			k = dst->ops->send(dst, b->pend + b->pend_off, n);
			if (k < 0)
				return PUMP_SEND;
			b->pend_off = (uint8_t)(b->pend_off + k);
			*bytes += (uint64_t)k;
			if ((size_t)k < n)
				return PUMP_BLOCKED;
			b->pend_off = b->pend_len = 0;
		}
		if (b->owed > 0) {
			n = src->ops->peek(src, &p);
			if (n == 0)
				return src->peer_closed || src_failed ?
				       PUMP_CUT : PUMP_BLOCKED;
			if (n > b->owed)
				n = (size_t)b->owed;
			k = dst->ops->send(dst, p, n);
			if (k < 0)
				return PUMP_SEND;
			src->ops->consume(src, (size_t)k);
			b->owed -= (uint64_t)k;
			b->moved += (uint64_t)k;
			*bytes += (uint64_t)k;
			if ((size_t)k < n)
				return PUMP_BLOCKED;
			if (b->owed == 0 && b->chunk_out)
				pend_add(b, "\r\n", 2);
			continue;
		}
		if (b->ended) {
			if (b->chunk_out && !b->last_sent) {
				pend_add(b, "0\r\n\r\n", 5);
				b->last_sent = true;
				continue;
			}
			b->done = true;
			return PUMP_DONE;
		}
		if (b->in == H1_FRAMING_LENGTH && b->left == 0) {
			b->ended = true;
			continue;
		}
		n = src->ops->peek(src, &p);
		if (n == 0) {
			if (src->peer_closed && b->in == H1_FRAMING_CLOSE) {
				b->ended = true;
				continue;
			}
			return src->peer_closed || src_failed ? PUMP_CUT :
								PUMP_BLOCKED;
		}
		if (b->in == H1_FRAMING_CHUNKED) {
			used = h1_chunked_decode(&b->dec, (const char *)p, n,
						 &data);
			if (used < 0 || (used == 0 && !b->dec.done))
				return PUMP_BAD;
			if (data.len == 0) {
				src->ops->consume(src, (size_t)used);
			} else {
				/* The span ends the used bytes: consume the
				 * framing before it, owe the data. */
				pre = (size_t)((const uint8_t *)data.p - p);
				src->ops->consume(src, pre);
				b->owed = data.len;
			}
			if (b->dec.done)
				b->ended = true;
		} else {
			if (b->in == H1_FRAMING_LENGTH && n > b->left)
				n = (size_t)b->left;
			b->owed = n;
			if (b->in == H1_FRAMING_LENGTH)
				b->left -= n;
		}
		if (b->owed > 0 && b->chunk_out)
			pend_add(b, hdr, px_chunk_hdr(b->owed, hdr));
	}
}

static void
body_init(struct px_body *b, enum h1_framing in, uint64_t len,
	  bool chunk_out)
{
	memset(b, 0, sizeof(*b));
	b->in = in;
	b->left = len;
	b->chunk_out = chunk_out;
	if (in == H1_FRAMING_CHUNKED)
		h1_chunked_init(&b->dec, NULL);
	b->done = in == H1_FRAMING_NONE ||
		  (in == H1_FRAMING_LENGTH && len == 0);
	/* A body-less message gets no last chunk either. */
	b->ended = b->last_sent = b->done;
}

/* ---------------------------------------------------------------- origin leg */

/* The configured address, else one of those the control plane resolved
 * (docs/CONTROL.md "Origin addresses"): spread over them by the TSC's low
 * bits, which costs nothing and needs no shared counter. */
static in_addr_t
origin_addr(const struct cfg_origin *o)
{
	if (o->has_address)
		return o->address.s_addr;
	return o->resolved[rte_rdtsc() % o->nb_resolved].s_addr;
}

static int
start_origin(struct px_conn *pc)
{
	const struct cfg_origin *o = pc->origin;
	bool reused = false;
	int rc;

	rc = px_origin_get(pc, origin_addr(o), pc->origin_port, &reused);
	if (rc == -EAGAIN) {
		queue_append(pc);
		return 0;
	}
	if (rc != 0) {
		dpc_inc(cnt(pc), DPC_px_origin_errors_refused);
		return edge(pc, 502, "cannot open a connection to the origin",
			    NULL, 0, false);
	}
	pc->reused = reused;
	pc->log.origin_reused = reused;
	pc->out_off = 0;
	pc->resp_deadline = false;
	if (reused) {
		pc->state = PX_S_FORWARD;
		pc->deadline = 0;
		return 1;
	}
	pc->state = PX_S_CONNECT;
	pc->deadline = now(pc) + (uint64_t)o->connect_timeout_ms *
				 pc->pl->ms_tsc;
	return 0;
}

/* A pooled connection the origin had closed meanwhile: the request did
 * not reach it, so try once more on a fresh one (RFC 9110 9.2.2 lets a
 * client retry when nothing was processed; no body byte was sent). */
static bool
can_retry(const struct px_conn *pc)
{
	return pc->reused && !pc->retried && pc->up.moved == 0 &&
	       pc->rb_len == 0 && pc->log.origin_status == 0;
}

static int
retry(struct px_conn *pc)
{
	px_origin_put(pc, PX_PUT_ABORT);
	pc->retried = true;
	dpc_inc(cnt(pc), DPC_px_origin_retries);
	return start_origin(pc);
}

static int
origin_error(struct px_conn *pc, int err)
{
	if (pc->state == PX_S_FORWARD && can_retry(pc))
		return retry(pc);
	if (err == -EPROTO && pc->oc != NULL) {
		/* The TLS handshake refused the origin (counted by cause in
		 * px_origin.c): nothing was sent to it. */
		return edge(pc, 502, tls_origin_fail_reason(
				(enum tls_origin_fail)pc->oc->tls_fail),
			    NULL, 0, false);
	}
	if (err == -ECONNREFUSED) {
		dpc_inc(cnt(pc), DPC_px_origin_errors_refused);
		return edge(pc, 502, "the origin refused the connection",
			    NULL, 0, false);
	}
	if (err == -ETIMEDOUT) {
		dpc_inc(cnt(pc), DPC_px_origin_errors_timeout);
		return edge(pc, 504, "the origin did not answer in time",
			    NULL, 0, false);
	}
	dpc_inc(cnt(pc), DPC_px_origin_errors_reset);
	return edge(pc, 502, "the origin closed the connection", NULL, 0,
		    false);
}

/* Build the viewer's response head from the origin's (fields in rb) and
 * move into RESPONSE. */
static int
begin_response(struct px_conn *pc, const struct h1_response *res)
{
	struct px_lcore *pl = pc->pl;
	struct http_sec_hdrs sec;
	enum px_out_framing out;
	bool close;
	int n;

	pc->log.origin_status = res->status;
	pc->resp_keep_alive = res->keep_alive;
	switch (res->framing) {
	case H1_FRAMING_NONE:
		out = PX_OUT_NONE;
		break;
	case H1_FRAMING_LENGTH:
		out = PX_OUT_LENGTH;
		break;
	default:
		out = pc->viewer_minor >= 1 ? PX_OUT_CHUNKED : PX_OUT_CLOSE;
		break;
	}
	/* An origin answering before it read the whole request body: the
	 * rest of that body cannot be told from a next request. */
	close = pc->close_after || !pc->keep_alive || !pc->up.done ||
		out == PX_OUT_CLOSE;
	http_sec_headers(pc->dist, pc->viewer.https, &sec);
	n = px_hdr_response(res, out, close, pc->viewer_minor, &sec,
			    pl->scratch, sizeof(pl->scratch));
	if (n < 0) {
		dpc_inc(cnt(pc), DPC_px_origin_errors_protocol);
		return edge(pc, 502, "the origin's response head is too large",
			    NULL, 0, true);
	}
	memcpy(pc->rb->data, pl->scratch, (size_t)n);
	pc->rb_off = 0;
	pc->rb_len = (uint32_t)n;
	pc->rb_out = true;
	pc->close_after = close;
	body_init(&pc->down, res->framing, res->content_length,
		  out == PX_OUT_CHUNKED);
	pc->log.status = res->status;
	pc->state = PX_S_RESPONSE;
	pc->deadline = 0;
	return 1;
}

/* Read the origin's response head into rb. 1: RESPONSE (or an edge
 * answer) begun; 0: wait; -1: pc released. */
static int
read_response_head(struct px_conn *pc)
{
	struct px_transport *ot = pc->oc->t;
	struct h1_response res;
	const uint8_t *p;
	size_t n, room;
	int rc;

	if (pc->rb == NULL) {
		pc->rb = buf_get(pc->pl);
		if (pc->rb == NULL)
			return edge(pc, 503, "the edge is out of buffers",
				    NULL, 0, true);
	}
	for (;;) {
		n = ot->ops->peek(ot, &p);
		if (n == 0) {
			if (!ot->peer_closed && !pc->oc->failed)
				return 0;
			if (can_retry(pc))
				return retry(pc);
			dpc_inc(cnt(pc), DPC_px_origin_errors_reset);
			return edge(pc, 502, "the origin closed the connection "
				    "before answering", NULL, 0, false);
		}
		room = H1_DEFAULT_MAX_HEAD + 1 - pc->rb_len;
		n = head_copy(pc->rb->data, &pc->rb_len, &pc->resp_crlf, p, n,
			      room);
		ot->ops->consume(ot, n);
		memset(&res, 0, sizeof(res));
		res.fields = pc->pl->fields;
		res.fields_cap = PX_FIELDS_MAX;
		rc = h1_parse_response(pc->rb->data, pc->rb_len, pc->rb_last,
				       pc->method, NULL, &res);
		if (rc == -2) {
			pc->rb_last = pc->rb_len;
			continue;
		}
		if (rc < 0 || (uint32_t)rc != pc->rb_len || res.status == 101) {
			dpc_inc(cnt(pc), DPC_px_origin_errors_protocol);
			return edge(pc, 502, rc < 0 ? res.err.reason :
				    "the origin sent an unusable response",
				    NULL, 0, false);
		}
		if (res.informational) {
			/* 100 and 103: the edge sends its own 100 and
			 * nothing else of these. */
			pc->rb_len = pc->rb_last = 0;
			continue;
		}
		return begin_response(pc, &res);
	}
}

/* A body moving either way is cut when neither side makes progress for
 * the origin's response timeout (timeout() tells which side stalled). */
static void
body_deadline(struct px_conn *pc)
{
	pc->deadline = now(pc) + (uint64_t)pc->origin->response_timeout_ms *
				 pc->pl->ms_tsc;
}

static int
forward_step(struct px_conn *pc)
{
	struct px_transport *ot = pc->oc->t;
	uint64_t up_bytes = 0, moved;
	int n, rc;

	if (pc->out_off < pc->out_len) {
		n = ot->ops->send(ot, pc->hb->data + pc->out_off,
				  pc->out_len - pc->out_off);
		if (n < 0)
			return origin_error(pc, -ECONNRESET);
		pc->out_off += (uint32_t)n;
		dpc_add(cnt(pc), DPC_px_bytes_up, (uint64_t)n);
		up_bytes += (uint64_t)n;
	}
	if (pc->out_off == pc->out_len && !pc->up.done) {
		if (pc->expect_continue &&
		    pc->cont_off < sizeof(continue_100) - 1) {
			n = pc->t->ops->send(pc->t, continue_100 + pc->cont_off,
					     sizeof(continue_100) - 1 -
					     pc->cont_off);
			if (n < 0) {
				conn_close(pc, true);
				return -1;
			}
			pc->cont_off = (uint8_t)(pc->cont_off + n);
			if (pc->cont_off < sizeof(continue_100) - 1)
				goto response;
		}
		moved = 0;
		rc = pump(&pc->up, pc->t, false, ot, &moved);
		dpc_add(cnt(pc), DPC_px_bytes_up, moved);
		up_bytes += moved;
		if (rc == PUMP_BAD) {
			/* The origin has part of a body: it goes. */
			px_origin_put(pc, PX_PUT_ABORT);
			return edge(pc, pc->up.dec.err.status,
				    pc->up.dec.err.reason, NULL, 0, true);
		}
		if (rc == PUMP_CUT) {
			conn_close(pc, true);   /* viewer left mid-body */
			return -1;
		}
		if (rc == PUMP_SEND)
			return origin_error(pc, -ECONNRESET);
	}
	if (!pc->resp_deadline && (up_bytes > 0 || pc->deadline == 0))
		body_deadline(pc);
response:
	if (pc->out_off == pc->out_len && pc->up.done && !pc->resp_deadline) {
		pc->resp_deadline = true;
		pc->deadline = now(pc) +
			       (uint64_t)pc->origin->response_timeout_ms *
			       pc->pl->ms_tsc;
	}
	return read_response_head(pc);
}

static int
response_step(struct px_conn *pc)
{
	struct px_transport *ot = pc->oc->t;
	uint64_t down = 0;
	int rc;

	rc = flush_rb(pc);
	if (rc <= 0) {
		if (rc == 0 && pc->deadline == 0)
			body_deadline(pc);
		return rc;
	}
	rc = pump(&pc->down, ot, pc->oc->failed, pc->t, &down);
	pc->log.bytes_out += down;
	dpc_add(cnt(pc), DPC_px_bytes_down, down);
	if (down > 0 || pc->deadline == 0)
		body_deadline(pc);
	switch (rc) {
	case PUMP_DONE:
		return request_done(pc);
	case PUMP_BLOCKED:
		return 0;
	case PUMP_SEND:
		conn_close(pc, true);
		return -1;
	default:
		/* The viewer has part of a response: only a reset tells it
		 * the body is cut. */
		dpc_inc(cnt(pc), rc == PUMP_BAD ?
			DPC_px_origin_errors_protocol :
			DPC_px_origin_errors_reset);
		pc->log.reason = rc == PUMP_BAD ?
				 "invalid body from the origin" :
				 "the origin cut the body short";
		count_status(pc, pc->log.status);
		log_push(pc);
		conn_close(pc, true);
		return -1;
	}
}

/* ---------------------------------------------------------------- requests */

static void
log_begin(struct px_conn *pc)
{
	struct px_log_rec *l = &pc->log;

	memset(l, 0, sizeof(*l));
	l->start_tsc = now(pc);
	l->client = pc->viewer.addr.s_addr;
	l->client_port = pc->viewer.port;
	l->worker = (uint8_t)pc->pl->worker;
	l->https = pc->viewer.https;
}

/* The name a TLS origin is asked for (SNI) and verified against: its
 * domain, or with forward_host the viewer's Host without the port and
 * a trailing dot, lower case. -EINVAL when that Host cannot be one. */
static int
origin_name(struct px_conn *pc, const struct cfg_origin *o,
	    const char *host, size_t len)
{
	const char *colon;
	size_t i;

	if (!o->forward_host || len == 0) {
		host = o->domain;
		len = strlen(host);
	} else if (host[0] == '[') {
		return -EINVAL;         /* IPv6 literals: no IPv6 origins */
	} else if ((colon = memchr(host, ':', len)) != NULL) {
		len = (size_t)(colon - host);
	}
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0 || len > TLS_ORIGIN_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++)
		pc->origin_name[i] = (char)tolower((unsigned char)host[i]);
	pc->origin_name[len] = '\0';
	return 0;
}

static int
handle_request(struct px_conn *pc, struct h1_request *req)
{
	struct px_lcore *pl = pc->pl;
	const struct cfg_snapshot *snap;
	const struct cfg_origin *o;
	struct http_route_req rr;
	struct http_route route;
	struct http_fwd fwd;
	bool has_body;
	int n;

	dpc_inc(cnt(pc), DPC_http_requests);
	pc->method = req->method_id;
	pc->viewer_minor = (uint8_t)req->minor_version;
	pc->keep_alive = req->keep_alive;
	copy_cut(pc->log.method, sizeof(pc->log.method), req->method.p,
		 req->method.len, NULL);
	copy_cut(pc->log.host, sizeof(pc->log.host), req->authority.p,
		 req->authority.len, NULL);
	copy_cut(pc->log.path, sizeof(pc->log.path), req->origin.p,
		 req->origin.len, &pc->log.path_cut);
	body_init(&pc->up, req->framing, req->content_length,
		  req->framing == H1_FRAMING_CHUNKED);
	has_body = !pc->up.done;

	/* HTTPS: the handshake's snapshot, whose distribution objects the
	 * SNI check compares against (px.h, struct px_viewer). */
	snap = pc->viewer.https ? pc->viewer.snap :
				  cfg_snapshot_current(&pl->live->snap);
	if (snap == NULL)
		return edge(pc, 503, "no configuration has been pushed yet",
			    NULL, 0, has_body);
	memset(&rr, 0, sizeof(rr));
	rr.https = pc->viewer.https;
	rr.sni_dist = pc->viewer.sni_dist;
	rr.host = req->authority.len > 0 ? req->authority.p : NULL;
	rr.host_len = req->authority.len;
	rr.method = req->method.p;
	rr.method_len = req->method.len;
	rr.target = req->origin.p;
	rr.target_len = req->origin.len;
	rr.https_port = pl->p.https_port;
	http_route(snap, &rr, pl->loc, sizeof(pl->loc), &route);
	/* dist and origin point into the snapshot, which must outlive this
	 * poll-loop iteration: a reference of our own. */
	pc->snap = cfg_snapshot_get((struct cfg_snapshot *)snap);
	pc->dist = route.dist;
	if (route.dist != NULL)
		copy_cut(pc->log.dist, sizeof(pc->log.dist), route.dist->name,
			 strlen(route.dist->name), NULL);
	if (route.kind == HTTP_ROUTE_REDIRECT)
		return edge(pc, route.status, route.reason, route.location,
			    route.location_len, has_body);
	if (route.kind == HTTP_ROUTE_REFUSE)
		return edge(pc, route.status, route.reason, NULL, 0, has_body);

	o = route.origin;
	pc->origin = o;
	copy_cut(pc->log.origin, sizeof(pc->log.origin), o->id, strlen(o->id),
		 NULL);
	pc->origin_tls = o->protocol_policy == CFG_ORIGIN_HTTPS_ONLY ||
			 (o->protocol_policy == CFG_ORIGIN_MATCH_VIEWER &&
			  pc->viewer.https);
	pc->origin_port = pc->origin_tls ? o->https_port : o->http_port;
	if (pc->origin_tls &&
	    origin_name(pc, o, req->authority.p, req->authority.len) != 0)
		return edge(pc, 400, "the Host cannot name a TLS origin",
			    NULL, 0, has_body);
	if (!o->has_address && o->nb_resolved == 0) {
		dpc_inc(cnt(pc), DPC_px_origin_no_address);
		return edge(pc, 502, "origin address unknown", NULL, 0,
			    has_body);
	}

	memset(&fwd, 0, sizeof(fwd));
	fwd.dist = route.dist;
	fwd.origin = o;
	fwd.https = pc->viewer.https;
	fwd.client = pc->viewer.addr;
	fwd.host = req->authority.p;
	fwd.host_len = req->authority.len;
	fwd.mtls = (enum http_mtls_result)pc->viewer.mtls;
	fwd.subject = pc->viewer.subject;
	fwd.subject_len = pc->viewer.subject_len;
	fwd.tls_protocol = pc->viewer.tls_protocol;
	fwd.tls_cipher = pc->viewer.tls_cipher;
	fwd.tls_resumed = pc->viewer.tls_resumed;
	n = px_hdr_request(req, &fwd, pl->scratch, sizeof(pl->scratch));
	if (n == -E2BIG)
		return edge(pc, 400, "too many X-Forwarded-For or Via fields",
			    NULL, 0, has_body);
	if (n < 0)
		return edge(pc, 431, "the request head is too large to "
			    "forward", NULL, 0, has_body);
	/* The viewer's head is no longer needed: hb now holds what goes
	 * to the origin. */
	memcpy(pc->hb->data, pl->scratch, (size_t)n);
	pc->hb_len = 0;
	pc->out_off = 0;
	pc->out_len = (uint32_t)n;
	pc->expect_continue = req->expect_continue && has_body;
	return start_origin(pc);
}

/* Read (more of) a request head. */
static int
read_head(struct px_conn *pc)
{
	struct px_lcore *pl = pc->pl;
	struct px_transport *t = pc->t;
	struct h1_request req;
	const uint8_t *p;
	size_t n, room;
	int rc;

	for (;;) {
		n = t->ops->peek(t, &p);
		if (n == 0) {
			if (!t->peer_closed)
				return 0;
			/* Gone between requests, or mid-head: nothing to
			 * answer. */
			conn_close(pc, false);
			return -1;
		}
		if (pc->hb == NULL) {
			pc->hb = buf_get(pl);
			if (pc->hb == NULL) {
				dpc_inc(cnt(pc), DPC_http_refused_busy);
				conn_close(pc, true);
				return -1;
			}
		}
		if (pc->state == PX_S_IDLE) {
			pc->state = PX_S_HEAD;
			pc->deadline = now(pc) + pl->header_tsc;
			log_begin(pc);
		}
		room = H1_DEFAULT_MAX_HEAD + 1 - pc->hb_len;
		n = head_copy(pc->hb->data, &pc->hb_len, &pc->head_crlf, p, n,
			      room);
		t->ops->consume(t, n);
		pc->log.bytes_in += n;
		memset(&req, 0, sizeof(req));
		req.fields = pl->fields;
		req.fields_cap = PX_FIELDS_MAX;
		rc = h1_parse_request(pc->hb->data, pc->hb_len, pc->hb_last,
				      NULL, &req);
		if (rc == -2 && pc->hb_len <= H1_DEFAULT_MAX_HEAD) {
			pc->hb_last = pc->hb_len;
			continue;
		}
		pc->keep_alive = false;
		if (rc < 0) {
			dpc_inc(cnt(pc), DPC_http_requests);
			pc->up.done = true;
			return edge(pc, rc == -1 ? req.err.status : 431,
				    rc == -1 ? req.err.reason :
				    "request head too large", NULL, 0, true);
		}
		if ((uint32_t)rc != pc->hb_len) {
			dpc_inc(cnt(pc), DPC_http_requests);
			pc->up.done = true;
			return edge(pc, 400, "malformed request head", NULL, 0,
				    true);
		}
		return handle_request(pc, &req);
	}
}

/* ---------------------------------------------------------------- driver */

static int
drive_step(struct px_conn *pc)
{
	switch (pc->state) {
	case PX_S_IDLE:
	case PX_S_HEAD:
		return read_head(pc);
	case PX_S_CONNECT:
		if (pc->oc != NULL && pc->oc->state == PX_O_BUSY) {
			pc->state = PX_S_FORWARD;
			pc->deadline = 0;
			return 1;
		}
		return 0;
	case PX_S_FORWARD:
		return forward_step(pc);
	case PX_S_RESPONSE:
		return response_step(pc);
	case PX_S_EDGE:
		return edge_step(pc);
	default:
		return 0;
	}
}

static void
drive(struct px_conn *pc)
{
	while (drive_step(pc) > 0)
		;
}

/* ---------------------------------------------------------------- entries */

static struct px_conn *
conn_new(struct px_lcore *pl)
{
	struct px_conn *pc = pl->free;

	if (pc == NULL) {
		dpc_inc(&pl->nl->cnt, DPC_http_refused_busy);
		return NULL;
	}
	pl->free = pc->next;
	memset(pc, 0, sizeof(*pc));
	pc->pl = pl;
	return pc;
}

static void
conn_init(struct px_conn *pc, struct px_transport *t,
	  const struct px_viewer *v)
{
	pc->t = t;
	pc->viewer = *v;
	pc->state = PX_S_IDLE;
	/* A connection that never sends a byte is a slow head too. */
	pc->deadline = now(pc) + pc->pl->header_tsc;
	dpc_inc(cnt(pc), DPC_http_conns);
	dpc_inc(cnt(pc), DPC_http_active);
}

struct px_conn *
px_conn_open(struct px_lcore *pl, struct px_transport *t,
	     const struct px_viewer *v)
{
	struct px_conn *pc = conn_new(pl);

	if (pc != NULL)
		conn_init(pc, t, v);
	return pc;
}

void
px_conn_recv(struct px_conn *pc)
{
	drive(pc);
}

void
px_conn_writable(struct px_conn *pc)
{
	drive(pc);
}

void
px_conn_gone(struct px_conn *pc)
{
	pc->t = NULL;
	if (pc->state != PX_S_IDLE && pc->state != PX_S_HEAD &&
	    pc->log.start_tsc != 0) {
		pc->log.reason = "the viewer went away";
		log_push(pc);
	}
	conn_release(pc);
}

void
px_conn_origin_event(struct px_conn *pc)
{
	drive(pc);
}

void
px_conn_origin_failed(struct px_conn *pc, int err)
{
	switch (pc->state) {
	case PX_S_CONNECT:
	case PX_S_FORWARD:
		if (origin_error(pc, err) > 0)
			drive(pc);
		return;
	case PX_S_RESPONSE:
		/* Bytes it sent before the reset may still be buffered:
		 * the pump passes them on and then sees the cut. */
		drive(pc);
		return;
	default:
		return;
	}
}

/* ---------------------------------------------------------------- viewer TCP */

static int
v_established(struct tcp_conn *c)
{
	struct px_lcore *pl = tcp_listen_arg(c);
	struct px_conn *pc = conn_new(pl);
	struct px_viewer v;
	rte_be32_t laddr, raddr;
	uint16_t lport, rport;

	if (pc == NULL)
		return -EBUSY;          /* TCP resets it */
	tcp_endpoints(c, &laddr, &lport, &raddr, &rport);
	memset(&v, 0, sizeof(v));
	v.addr.s_addr = raddr;
	v.port = rport;
	px_tcp_attach(&pc->vt, c);
	conn_init(pc, &pc->vt.t, &v);
	tcp_set_user(c, pc);
	return 0;
}

static void
v_recv(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct px_conn *pc = tcp_user(c);

	if (pc == NULL) {
		/* After our close: read and dropped. */
		tcp_recved(c, rte_pktmbuf_pkt_len(m));
		rte_pktmbuf_free(m);
		return;
	}
	tcp_rxq_append(&pc->vt.rx, m);
	px_conn_recv(pc);
}

static void
v_peer_closed(struct tcp_conn *c)
{
	struct px_conn *pc = tcp_user(c);

	if (pc == NULL)
		return;
	pc->vt.t.peer_closed = true;
	px_conn_recv(pc);
}

static void
v_writable(struct tcp_conn *c)
{
	struct px_conn *pc = tcp_user(c);

	if (pc != NULL)
		px_conn_writable(pc);
}

static void
v_closed(struct tcp_conn *c, int err)
{
	struct px_conn *pc = tcp_user(c);

	(void)err;
	if (pc == NULL)
		return;
	tcp_set_user(c, NULL);
	pc->vt.tcp = NULL;
	tcp_rxq_free(&pc->vt.rx);
	px_conn_gone(pc);
}

static const struct tcp_ops viewer_tcp_ops = {
	.established = v_established,
	.recv = v_recv,
	.peer_closed = v_peer_closed,
	.writable = v_writable,
	.closed = v_closed,
};

/* ---------------------------------------------------------------- lcore */

/* Requests waiting for the connection limit try again once an origin
 * connection closed or went back to the pool; one still refused goes
 * back to the tail, behind those queued after it only for other
 * servers. */
static void
queue_run(struct px_lcore *pl)
{
	struct px_conn *q = &pl->queue, *pc, *last = q->qprev;
	bool end = q->qnext == q || !pl->qwake;
	int rc;

	pl->qwake = false;
	while (!end) {
		pc = q->qnext;
		end = pc == last;
		queue_remove(pc);
		rc = start_origin(pc);  /* -1: pc released */
		if (rc > 0 || (rc == 0 && pc->state != PX_S_QUEUED))
			drive(pc);
	}
}

static void
timeout(struct px_conn *pc)
{
	const uint8_t *p;
	int rc;

	switch (pc->state) {
	case PX_S_IDLE:
		dpc_inc(cnt(pc), DPC_http_keepalive_timeouts);
		conn_close(pc, false);
		return;
	case PX_S_HEAD:
		/* A slow or stalled head (slowloris): closed, not
		 * answered; its window may be shut anyway. */
		dpc_inc(cnt(pc), DPC_http_header_timeouts);
		pc->log.status = 408;
		pc->log.edge = true;
		pc->log.reason = "request head not received in time";
		log_push(pc);
		conn_close(pc, false);
		return;
	case PX_S_CONNECT:
		dpc_inc(cnt(pc), DPC_px_origin_errors_timeout);
		rc = edge(pc, 504, "origin connect timeout", NULL, 0, false);
		break;
	case PX_S_QUEUED:
		queue_remove(pc);
		dpc_inc(cnt(pc), DPC_px_origin_errors_limit);
		rc = edge(pc, 503, "the origin's connection limit is reached",
			  NULL, 0, false);
		break;
	case PX_S_FORWARD:
		if (!pc->up.done && pc->out_off == pc->out_len &&
		    pc->t->ops->peek(pc->t, &p) == 0) {
			/* The viewer stopped sending its body: the origin
			 * has part of it and goes (edge aborts it). */
			dpc_inc(cnt(pc), DPC_http_body_timeouts);
			rc = edge(pc, 408, "request body not received in time",
				  NULL, 0, true);
			break;
		}
		dpc_inc(cnt(pc), DPC_px_origin_errors_timeout);
		rc = edge(pc, 504, "origin response timeout", NULL, 0, false);
		break;
	case PX_S_RESPONSE:
		/* Part of the response is out: only a reset tells the
		 * viewer the body is cut. */
		if (pc->oc->t->ops->peek(pc->oc->t, &p) == 0) {
			dpc_inc(cnt(pc), DPC_px_origin_errors_timeout);
			pc->log.reason = "the origin stalled in the response "
					 "body";
		} else {
			dpc_inc(cnt(pc), DPC_http_send_timeouts);
			pc->log.reason = "the viewer stopped reading the "
					 "response";
		}
		count_status(pc, pc->log.status);
		log_push(pc);
		conn_close(pc, true);
		return;
	default:
		pc->deadline = 0;
		return;
	}
	if (rc > 0)
		drive(pc);
}

void
px_lcore_poll(struct px_lcore *pl)
{
	struct px_conn *pc;
	uint32_t i;

	for (i = 0; i < PX_SWEEP && pl->nb_conns > 0; i++) {
		pc = &pl->conns[pl->sweep];
		pl->sweep = (pl->sweep + 1) % pl->nb_conns;
		if (pc->state == PX_S_FREE || pc->deadline == 0 ||
		    (int64_t)(pc->deadline - pl->nl->now) > 0)
			continue;
		pc->deadline = 0;
		timeout(pc);
	}
	px_origin_sweep(pl);
	queue_run(pl);
}

struct px_log_ring *
px_lcore_log(struct px_lcore *pl)
{
	return &pl->log;
}

struct px_lcore *
px_lcore_start(struct net_lcore *nl, const struct px_params *p,
	       struct cfg_live *live, unsigned int worker, int *err)
{
	struct px_lcore *pl;
	uint32_t i;
	int rc = -ENOMEM;

	pl = calloc(1, sizeof(*pl));
	if (pl == NULL)
		goto fail;
	pl->nl = nl;
	pl->live = live;
	pl->p = *p;
	pl->worker = worker;
	pl->ms_tsc = nl->hz / 1000;
	pl->header_tsc = pl->ms_tsc * p->header_timeout_ms;
	pl->keepalive_tsc = pl->ms_tsc * p->keepalive_timeout_ms;
	pl->origin_idle_tsc = pl->ms_tsc * p->origin_idle_ms;
	pl->max_bufs = PX_MAX_BUFS;
	pl->queue.qnext = pl->queue.qprev = &pl->queue;
	pl->nb_conns = tcp_max_conns(nl);
	pl->nb_oconns = pl->nb_conns;
	pl->conns = calloc(pl->nb_conns, sizeof(*pl->conns));
	pl->oconns = calloc(pl->nb_oconns, sizeof(*pl->oconns));
	pl->limits = calloc(pl->nb_oconns, sizeof(*pl->limits));
	pl->otls = tls_origin_lcore_new();
	if (pl->conns == NULL || pl->oconns == NULL || pl->limits == NULL ||
	    pl->otls == NULL)
		goto fail_arrays;
	for (i = pl->nb_oconns; i-- > 0;) {
		pl->limits[i].next = pl->limit_free;
		pl->limit_free = &pl->limits[i];
	}
	for (i = pl->nb_conns; i-- > 0;) {
		pl->conns[i].pl = pl;
		pl->conns[i].next = pl->free;
		pl->free = &pl->conns[i];
	}
	for (i = pl->nb_oconns; i-- > 0;) {
		pl->oconns[i].pl = pl;
		pl->oconns[i].next = pl->ofree;
		pl->ofree = &pl->oconns[i];
	}
	rc = px_log_ring_init(&pl->log, p->log_ring);
	if (rc != 0)
		goto fail_arrays;
	if (p->http_port != 0) {
		rc = tcp_listen(nl, 0, p->http_port, &viewer_tcp_ops, pl);
		if (rc != 0)
			goto fail_log;
	}
	return pl;

fail_log:
	px_log_ring_fini(&pl->log);
fail_arrays:
	tls_origin_lcore_free(pl->otls);
	free(pl->limits);
	free(pl->oconns);
	free(pl->conns);
	free(pl);
fail:
	*err = rc;
	return NULL;
}

void
px_lcore_stop(struct px_lcore *pl)
{
	struct px_buf *b;
	uint32_t i;

	if (pl == NULL)
		return;
	/* tcp_lcore_fini dropped the connections without callbacks. */
	for (i = 0; i < pl->nb_conns; i++) {
		struct px_conn *pc = &pl->conns[i];

		if (pc->state == PX_S_FREE)
			continue;
		pc->vt.tcp = NULL;
		tcp_rxq_free(&pc->vt.rx);
		pc->oc = NULL;
		cfg_snapshot_put(pc->snap);
		pc->snap = NULL;
		free(pc->hb);
		free(pc->rb);
	}
	px_origin_stop(pl);
	while ((b = pl->bufs) != NULL) {
		pl->bufs = b->next;
		free(b);
	}
	px_log_ring_fini(&pl->log);
	tls_origin_lcore_free(pl->otls);
	free(pl->limits);
	free(pl->oconns);
	free(pl->conns);
	free(pl);
}

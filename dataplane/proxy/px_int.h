/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside the proxy engine: per-lcore state, the viewer connection, the
 * origin connection and the plain-TCP transport. Owning lcore only.
 */
#ifndef RAMPART_PROXY_PX_INT_H
#define RAMPART_PROXY_PX_INT_H

#include <rte_mbuf.h>

#include "http/h1.h"
#include "http/route.h"
#include "net/net.h"
#include "net/tcp.h"
#include "net/tcp_rxq.h"
#include "px.h"
#include "px_hdr.h"
#include "px_log.h"
#include "tls/tls_origin.h"

/* A head buffer: the viewer's request head (then the origin request head
 * built from it), or the origin's response head (then the viewer's). The
 * parser refuses heads above 32 KiB; the rest is room for the rebuilt
 * head's own fields. */
#define PX_BUF_SIZE      (H1_DEFAULT_MAX_HEAD + 8192)
#define PX_FIELDS_MAX    H1_DEFAULT_MAX_FIELDS
/* Connections whose deadline is checked per poll-loop iteration. */
#define PX_SWEEP         64
#define PX_POOL_BUCKETS  64
#define PX_POOL_PER_MAX  PX_ORIGIN_IDLE_MAX
/* Hash chains of the per-lcore connection counts per origin server. */
#define PX_LIMIT_HASH    1024

/* The plain-TCP transport: a tcp_conn and the mbufs it delivered that the
 * engine has not consumed yet (their bytes are still in the window). */
struct px_tcp {
	struct px_transport t;
	struct tcp_conn *tcp;
	struct tcp_rxq rx;
};

struct px_buf {
	struct px_buf *next;            /* free list */
	char data[PX_BUF_SIZE];
};

/* A body in flight between two transports. */
struct px_body {
	enum h1_framing in;             /* NONE, LENGTH, CHUNKED or CLOSE */
	bool chunk_out;                 /* re-encode as chunked */
	bool ended;                     /* the source's body has ended */
	bool done;                      /* ... and all of it was sent */
	bool last_sent;                 /* chunk_out: the last chunk queued */
	uint8_t pend_off;               /* framing staged for dst */
	uint8_t pend_len;
	char pend[PX_CHUNK_HDR_MAX + 8];
	uint64_t left;                  /* LENGTH: bytes not yet owed */
	uint64_t owed;                  /* data at the front of src to send */
	uint64_t moved;                 /* body bytes passed on */
	struct h1_chunked dec;
};

enum px_state {
	PX_S_FREE,
	PX_S_IDLE,              /* between requests, nothing received */
	PX_S_HEAD,              /* part of a request head received */
	PX_S_QUEUED,            /* the origin's connection limit is
				 * reached: waiting for a free one */
	PX_S_CONNECT,           /* waiting for the origin connection */
	PX_S_FORWARD,           /* request to origin, waiting for its head */
	PX_S_RESPONSE,          /* response head and body to the viewer */
	PX_S_EDGE,              /* the edge's own response to the viewer */
};

enum px_ostate {
	PX_O_FREE,
	PX_O_CONNECTING,
	PX_O_HANDSHAKE,         /* TCP up, TLS handshake in progress */
	PX_O_BUSY,              /* carrying a request */
	PX_O_IDLE,              /* in the keep-alive pool */
};

struct px_conn;

/* An origin connection: owned by one px_conn while busy, by the pool
 * while idle. Over TLS, the session sits on io and t is its plaintext
 * transport; otherwise t is &io.t. */
struct px_oconn {
	struct px_tcp io;
	struct px_transport *t;
	struct tls_origin *tls;         /* NULL: plain HTTP */
	uint64_t tls_id;                /* tls_origin_id; 0: plain */
	struct px_lcore *pl;
	struct px_conn *owner;          /* BUSY, CONNECTING */
	struct px_oconn *next;          /* free list */
	uint64_t deadline;              /* IDLE: when it is closed */
	rte_be32_t addr;
	uint16_t port;
	uint8_t state;
	bool failed;                    /* reset/refused/closed early */
	bool counted;                   /* in pl->limits */
	uint8_t tls_fail;               /* enum tls_origin_fail, err -EPROTO */
	int err;
};

struct px_conn {
	struct px_lcore *pl;
	struct px_tcp vt;               /* the plain-TCP viewer transport */
	struct px_transport *t;         /* the viewer's transport */
	struct px_conn *next;           /* free list */
	struct px_conn *qnext, *qprev;  /* PX_S_QUEUED: the lcore's queue */
	struct px_viewer viewer;
	uint8_t state;
	bool close_after;               /* close the viewer after this answer */
	bool keep_alive;                /* the request allows another */
	bool expect_continue;
	uint8_t cont_off;               /* bytes of our 100 Continue sent */
	bool reused;                    /* the origin leg came from the pool */
	bool retried;
	bool req_sent;                  /* head and body at the origin */
	bool resp_deadline;             /* the response timer runs */
	uint8_t head_crlf;              /* CRLFCRLF scanner of the viewer head */
	uint8_t resp_crlf;
	uint8_t viewer_minor;
	enum h1_method method;
	uint64_t deadline;              /* 0: none */

	/* The viewer's head, then the origin request head out[out_off..). */
	struct px_buf *hb;
	uint32_t hb_len;
	uint32_t hb_last;
	uint32_t out_off;
	uint32_t out_len;
	/* The origin's head, then the viewer's head (or the edge's answer)
	 * rb[rb_off..rb_len) out. */
	struct px_buf *rb;
	uint32_t rb_len;
	uint32_t rb_last;
	uint32_t rb_off;
	bool rb_out;                    /* rb holds output */

	struct cfg_snapshot *snap;      /* our reference while a request runs */
	const struct cfg_dist *dist;
	const struct cfg_origin *origin;
	struct px_oconn *oc;
	struct px_body up;              /* viewer -> origin */
	struct px_body down;            /* origin -> viewer */
	bool resp_keep_alive;           /* the origin allows reuse */
	bool origin_tls;                /* this request's origin leg is TLS */
	uint16_t origin_port;
	/* TLS: the name sent as SNI and verified (the origin's domain, or
	 * the viewer's Host with forward_host). */
	char origin_name[TLS_ORIGIN_NAME_MAX + 1];

	struct px_log_rec log;
};

struct px_pool_bucket {
	uint64_t tls_id;                /* 0: plain HTTP */
	rte_be32_t addr;
	uint16_t port;
	uint16_t n;
	struct px_oconn *idle[PX_POOL_PER_MAX];
};

/* Connections of one lcore to one origin server, open or opening. One
 * per server with connections: never more than the origin connection
 * objects, so the array sized like them cannot run out. */
struct px_olimit {
	struct px_olimit *next;         /* hash chain, or free list */
	rte_be32_t addr;
	uint16_t port;
	uint32_t n;
};

struct px_lcore {
	struct net_lcore *nl;
	struct cfg_live *live;
	struct px_params p;
	unsigned int worker;
	uint64_t header_tsc;
	uint64_t keepalive_tsc;
	uint64_t origin_idle_tsc;
	uint64_t ms_tsc;                /* TSC ticks per millisecond */

	struct px_conn *conns;
	struct px_conn *free;
	uint32_t nb_conns;
	uint32_t sweep;

	struct px_oconn *oconns;
	struct px_oconn *ofree;
	uint32_t nb_oconns;
	uint32_t osweep;
	struct px_conn queue;           /* sentinel: requests in PX_S_QUEUED */
	bool qwake;                     /* a connection freed: run the queue */
	struct px_olimit *limits;       /* [nb_oconns] */
	struct px_olimit *limit_free;
	struct px_olimit *limit_hash[PX_LIMIT_HASH];

	struct px_buf *bufs;            /* free head buffers */
	uint32_t nb_bufs;               /* allocated, free or not */
	uint32_t max_bufs;

	struct px_pool_bucket pool[PX_POOL_BUCKETS];
	struct tls_origin_lcore *otls;  /* origin TLS sessions */

	struct px_log_ring log;
	struct h1_field fields[PX_FIELDS_MAX];
	char scratch[PX_BUF_SIZE];
	char loc[H1_DEFAULT_MAX_REQUEST_LINE + HTTP_ROUTE_LOCATION_EXTRA];
};

/* px_tcp.c */
extern const struct px_transport_ops px_tcp_transport;
void px_tcp_attach(struct px_tcp *io, struct tcp_conn *c);

/* px_origin.c: a connection for pc's request to addr and port: pooled
 * when one matches (over TLS: same origin identity and name), else a new
 * one (over TLS when pc->origin_tls). 0 or -errno. */
int px_origin_get(struct px_conn *pc, rte_be32_t addr, uint16_t port,
		  bool *reused);
/* -EAGAIN from px_origin_get: pc->origin's max_connections reached on
 * this lcore and nothing pooled to reuse. */
enum px_put {
	PX_PUT_POOL,            /* keep it for another request if it can be */
	PX_PUT_CLOSE,           /* FIN */
	PX_PUT_ABORT,           /* RST: it failed or was cut short */
};
void px_origin_put(struct px_conn *pc, enum px_put how);
void px_origin_sweep(struct px_lcore *pl);
void px_origin_stop(struct px_lcore *pl);

/* px_conn.c: what the origin side calls back into. */
void px_conn_origin_event(struct px_conn *pc);
void px_conn_origin_failed(struct px_conn *pc, int err);

#endif /* RAMPART_PROXY_PX_INT_H */

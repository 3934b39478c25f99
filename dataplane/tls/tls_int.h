/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside tls/ only: the per-connection and per-lcore state that the
 * connection engine (tls_conn.c) owns and the context callbacks
 * (tls_ctx.c: tickets, staples, client certificates, ALPN) read. A
 * connection is found from its WOLFSSL through the I/O context pointer
 * (wolfSSL_GetIOReadCtx), so no ex_data slot and no lookup is needed.
 */
#ifndef RAMPART_TLS_INT_H
#define RAMPART_TLS_INT_H

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

#include <rte_mbuf.h>

#include "cfg/live.h"
#include "net/net.h"
#include "net/tcp.h"
#include "net/tcp_rxq.h"
#include "proxy/px.h"
#include "tls_conn.h"
#include "tls_hello.h"

enum tls_state {
	TLS_S_FREE,
	TLS_S_HELLO,            /* buffering the ClientHello */
	TLS_S_HANDSHAKE,        /* wolfSSL_accept in progress */
	TLS_S_PROXY,            /* established: the HTTP engine's transport */
	TLS_S_CLOSING,          /* close_notify/FIN queued; ssl freed */
};

/* Ciphertext the TCP send queue did not take, kept for `writable`: a
 * record tls_wire_send sizes to the queue's room plus this (less a
 * reserve for wolfSSL's own messages) always fits; see tls_wire.c. */
#define TLS_TX_STAGE    1024
/* Decrypted bytes the HTTP engine has not consumed: one record's worth. */
#define TLS_PLAIN_SIZE  16384
/* Bytes a record adds to its plaintext, at most, over every suite we
 * allow: header 5, CBC IV 16, MAC 48 and padding 16, or the AEAD tag 16
 * and TLS 1.3's inner type byte; rounded up. */
#define TLS_REC_OVERHEAD 128
/* Staging room a data record may not use: kept for what wolfSSL writes
 * on its own after the handshake (a KeyUpdate answer, an alert,
 * close_notify), so those are staged too instead of left in wolfSSL. */
#define TLS_TX_RESERVE   256

struct tls_plain {
	struct tls_plain *next;         /* free list */
	uint8_t data[TLS_PLAIN_SIZE];
};

/*
 * The plaintext stream over an established session, for both engines
 * (tls_wire.c): decrypted bytes the HTTP engine has not consumed, and
 * ciphertext the lower layer (the TCP connection, or the origin's TCP
 * transport) did not take. raw_send returns the bytes taken or -errno;
 * a short one arms the lower layer's `writable`, whose handler calls
 * tls_wire_flush.
 */
struct tls_wire {
	int (*raw_send)(void *arg, const void *p, size_t n);
	uint32_t (*raw_space)(void *arg);
	void *raw_arg;
	struct tls_plain **plain_free;  /* the lcore's free list */
	struct tls_plain *plain;        /* held only while it has bytes */
	uint16_t plain_off;
	uint16_t plain_len;
	uint16_t tx_len;                /* bytes in tx[] */
	uint16_t max_frag;              /* plaintext bytes per record */
	bool stage;                     /* established: stage, do not wait */
	uint8_t tx[TLS_TX_STAGE];
};

/* wolfSSL's send callback body (WOLFSSL_CBIO_* codes). */
int tls_wire_io_send(struct tls_wire *w, const char *buf, int sz);
/* Push tx[] down: 1 when it is empty, 0 when bytes wait, -errno. */
int tls_wire_flush(struct tls_wire *w);
/* The handshake is done: record size, and staging from now on. */
void tls_wire_established(struct tls_wire *w, WOLFSSL *ssl);
/* The next plaintext: its length (0: none yet; -1: the stream ended:
 * close_notify, FIN, a bad record, no memory, ssl NULL). */
ssize_t tls_wire_peek(struct tls_wire *w, WOLFSSL *ssl, const uint8_t **data);
void tls_wire_consume(struct tls_wire *w, size_t n);
/* px_transport send / send_space over the session. */
int tls_wire_send(struct tls_wire *w, WOLFSSL *ssl, const void *data,
		  size_t len);
uint32_t tls_wire_send_space(const struct tls_wire *w, const WOLFSSL *ssl);
void tls_wire_plain_put(struct tls_wire *w);

enum tls_mtls_result { TLS_MTLS_OFF, TLS_MTLS_OK, TLS_MTLS_NONE,
		       TLS_MTLS_FAILED };

struct tls_lcore;

struct tls_conn {
	/* Deadline FIFO (handshake timeout) while in_fifo; the
	 * free list (next only) while TLS_S_FREE. */
	struct tls_conn *next, *prev;
	struct tls_lcore *tl;
	struct tcp_conn *tcp;
	WOLFSSL *ssl;
	struct cfg_snapshot *snap;      /* own reference while ssl lives */
	const struct cfg_dist *dist;
	const struct cfg_cert *cert;
	/* Received bytes wolfSSL has not read yet. */
	struct tcp_rxq rx;
	/* TLS_S_PROXY: the transport the HTTP engine reads and writes and
	 * its connection (NULL once the engine is done with it). */
	struct px_transport t;
	struct px_conn *pc;
	struct tls_wire w;
	bool fin_after_tx;              /* tcp_close once w.tx is out */
	char *subject;                  /* the verified client certificate's
					 * subject (malloc'd), or NULL */
	/* Record boundaries of the bytes handed to wolfSSL (io_recv), to
	 * refuse renegotiation: see rec_scan in tls_conn.c. */
	uint16_t rec_body;              /* body bytes left in this record */
	uint8_t rec_hdr;                /* header bytes seen (0..4) */
	uint8_t rec_len_hi;
	bool handshake_done;            /* no handshake record may follow */
	bool reneg_refused;
	bool reneg_counted;
	uint64_t deadline;              /* TSC */
	uint8_t state;                  /* enum tls_state */
	uint8_t mtls;                   /* enum tls_mtls_result */
	bool in_fifo;
	bool peer_closed;
	bool status_request;            /* the hello asked for a staple */
	bool stapled;                   /* our status callback supplied one */
	bool active;                    /* counted in tls_active */
	bool failed;                    /* already counted as a failure */
	bool got_bytes;
};

struct tls_lcore {
	struct net_lcore *nl;
	struct cfg_live *live;
	unsigned int worker;
	struct tls_params p;
	uint64_t timeout_tsc;
	struct tls_conn *pool;
	uint32_t pool_size;
	struct tls_conn *free;
	struct tls_conn fifo;           /* sentinel of the deadline FIFO */
	struct px_lcore *px;            /* the HTTP engine of this worker */
	struct tls_plain *plain_free;   /* recycled plaintext buffers */
	uint32_t nb_handshaking;        /* in HELLO or HANDSHAKE */
	/* The linearised ClientHello. */
	uint8_t scratch[TLS_HELLO_MAX];
};

/* The connection behind ssl (its I/O context). */
static inline struct tls_conn *
tls_conn_of(WOLFSSL *ssl)
{
	return wolfSSL_GetIOReadCtx(ssl);
}

/* Install the engine's I/O callbacks on a new context (tls_conn.c). */
void tls_conn_set_io(WOLFSSL_CTX *ctx);

/* Plaintext buffers from a per-lcore free list; the list grows to the
 * number of sessions with unread plaintext, then recycles. */
static inline struct tls_plain *
tls_plain_get(struct tls_plain **free_list)
{
	struct tls_plain *p = *free_list;

	if (p == NULL)
		return malloc(sizeof(*p));
	*free_list = p->next;
	return p;
}

static inline void
tls_plain_put(struct tls_plain **free_list, struct tls_plain *p)
{
	p->next = *free_list;
	*free_list = p;
}

/* The origin leg (tls_origin.c): I/O callbacks and, for strict origins,
 * the verification callback that records why a chain was refused. */
void tls_origin_set_io(WOLFSSL_CTX *ctx);
void tls_origin_set_verify(WOLFSSL_CTX *ctx);

/* An origin client context (tls_ctx.c), shared by the origins of a
 * snapshot configured alike (like: the first of them). */
struct chain_anchors;
struct tls_octx {
	WOLFSSL_CTX *ctx;
	struct chain_anchors *anchors;  /* strict: the anchors' names */
	const struct cfg_origin *like;
};

/* o's client context in s and its identity (tls_origin.h,
 * tls_origin_id); NULL and 0 when o has none. */
const struct tls_octx *tls_snapshot_origin_ctx(const struct cfg_snapshot *s,
					       const struct cfg_dist *d,
					       const struct cfg_origin *o,
					       uint64_t *id);

#endif /* RAMPART_TLS_INT_H */

/* SPDX-License-Identifier: BSD-3-Clause */
#include "tls_int.h"            /* wolfssl/options.h first */

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "http/route.h"
#include "tls_ctx.h"

/* Alert descriptions (RFC 8446 6) the peek sends itself. */
#define ALERT_HANDSHAKE_FAILURE   40
#define ALERT_UNRECOGNIZED_NAME   112
#define ALERT_NO_APP_PROTOCOL     120

const struct tls_params tls_params_default = {
	.port = 443,
	.handshake_timeout_ms = 10000,
	.max_handshakes = 1024,
};

static void tls_drive(struct tls_conn *tc);

/* ---------------------------------------------------------------- deadlines */

/* One timeout for every connection, so appending keeps the list in
 * deadline order and expiry only ever looks at the head. */
static void
fifo_remove(struct tls_conn *tc)
{
	if (!tc->in_fifo)
		return;
	tc->prev->next = tc->next;
	tc->next->prev = tc->prev;
	tc->next = tc->prev = NULL;
	tc->in_fifo = false;
}

static void
fifo_append(struct tls_conn *tc)
{
	struct tls_lcore *tl = tc->tl;

	fifo_remove(tc);
	tc->deadline = tl->nl->now + tl->timeout_tsc;
	tc->prev = tl->fifo.prev;
	tc->next = &tl->fifo;
	tl->fifo.prev->next = tc;
	tl->fifo.prev = tc;
	tc->in_fifo = true;
}

/* ---------------------------------------------------------------- receive queue */

/* Consume len buffered bytes; the TCP window reopens by as much. */
static void
rx_skip(struct tls_conn *tc, size_t len)
{
	uint32_t done = tcp_rxq_consume(&tc->rx, len);

	if (done > 0)
		tcp_recved(tc->tcp, done);
}

/*
 * Follow the record layer over the bytes handed to wolfSSL. Once the
 * handshake is done, a handshake record (type 22) from the client can only
 * be a TLS 1.2 renegotiation (TLS 1.3 wraps post-handshake messages in
 * application_data records). wolfSSL 5.5.4 has no switch to refuse one:
 * once the client signalled RFC 5746 support it renegotiates, so the
 * engine stops the byte stream in front of such a record. Returns how
 * many of p[0..n) may pass; *refuse when a renegotiation starts there.
 */
static size_t
rec_scan(struct tls_conn *tc, const uint8_t *p, size_t n, bool *refuse)
{
	size_t i = 0, k;

	*refuse = false;
	while (i < n) {
		if (tc->rec_body > 0) {
			k = n - i < tc->rec_body ? n - i : tc->rec_body;
			tc->rec_body = (uint16_t)(tc->rec_body - k);
			i += k;
			continue;
		}
		if (tc->rec_hdr == 0 && p[i] == 22 && tc->handshake_done) {
			*refuse = true;
			return i;
		}
		if (tc->rec_hdr == 3)
			tc->rec_len_hi = p[i];
		if (tc->rec_hdr == 4) {
			tc->rec_body = (uint16_t)(tc->rec_len_hi << 8 | p[i]);
			tc->rec_hdr = 0;
		} else {
			tc->rec_hdr++;
		}
		i++;
	}
	return n;
}

/* ---------------------------------------------------------------- wolfSSL I/O */

/* Never blocks: with nothing buffered wolfSSL gets WANT_READ and the poll
 * loop resumes it from the next `recv`. */
static int
io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tls_conn *tc = ctx;

	size_t n;
	bool refuse;

	(void)ssl;
	if (sz <= 0)
		return 0;
	if (tc->rx.len == 0)
		return tc->peer_closed ? WOLFSSL_CBIO_ERR_CONN_CLOSE :
					 WOLFSSL_CBIO_ERR_WANT_READ;
	n = tcp_rxq_copy(&tc->rx, (uint8_t *)buf, (size_t)sz);
	n = rec_scan(tc, (const uint8_t *)buf, n, &refuse);
	if (n == 0 && refuse) {
		tc->reneg_refused = true;
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	}
	rx_skip(tc, n);
	return (int)n;
}

/* TCP copies into its send queue; what it does not take is wolfSSL's to
 * keep during the handshake and staged afterwards (tls_wire.c). */
static int
io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	(void)ssl;
	return tls_wire_io_send(&((struct tls_conn *)ctx)->w, buf, sz);
}

static int
raw_send(void *arg, const void *p, size_t n)
{
	return tcp_send(((struct tls_conn *)arg)->tcp, p, n);
}

static uint32_t
raw_space(void *arg)
{
	return tcp_send_space(((struct tls_conn *)arg)->tcp);
}

void
tls_conn_set_io(WOLFSSL_CTX *ctx)
{
	wolfSSL_CTX_SetIORecv(ctx, io_recv);
	wolfSSL_CTX_SetIOSend(ctx, io_send);
}

/* ---------------------------------------------------------------- bookkeeping */

static struct net_lcore *
nl_of(const struct tls_conn *tc)
{
	return tc->tl->nl;
}

static bool
handshaking(const struct tls_conn *tc)
{
	return tc->state == TLS_S_HELLO || tc->state == TLS_S_HANDSHAKE;
}

static void
set_state(struct tls_conn *tc, enum tls_state s)
{
	bool was = handshaking(tc);

	tc->state = (uint8_t)s;
	if (was && !handshaking(tc))
		tc->tl->nb_handshaking--;
}

static void
count_failure(struct tls_conn *tc, enum dp_counter cause)
{
	if (tc->failed)
		return;
	tc->failed = true;
	dpc_inc(&nl_of(tc)->cnt, DPC_tls_handshake_failures);
	dpc_inc(&nl_of(tc)->cnt, cause);
}

/* Free the session and the snapshot it came from (possibly the last
 * reference: the old contexts go with it). */
static void
ssl_release(struct tls_conn *tc)
{
	if (tc->ssl != NULL) {
		wolfSSL_free(tc->ssl);
		tc->ssl = NULL;
	}
	if (tc->snap != NULL) {
		cfg_snapshot_put(tc->snap);
		tc->snap = NULL;
	}
	if (tc->active) {
		tc->active = false;
		dpc_add(&nl_of(tc)->cnt, DPC_tls_active, (uint64_t)-1);
	}
}

static void
conn_release(struct tls_conn *tc)
{
	struct tls_lcore *tl = tc->tl;

	fifo_remove(tc);
	set_state(tc, TLS_S_FREE);
	ssl_release(tc);
	tcp_rxq_free(&tc->rx);
	tls_wire_plain_put(&tc->w);
	free(tc->subject);
	if (tc->tcp != NULL)
		tcp_set_user(tc->tcp, NULL);
	memset(tc, 0, sizeof(*tc));
	tc->tl = tl;
	tc->next = tl->free;
	tl->free = tc;
}

/* Orderly end: whatever wolfSSL queued (an alert, close_notify) goes out
 * before the FIN, staged bytes included (the FIN then waits for
 * `writable`). The session is freed now; only TCP state remains. tcp_close
 * may call `closed`, which releases tc. */
static void
conn_finish(struct tls_conn *tc)
{
	fifo_remove(tc);
	set_state(tc, TLS_S_CLOSING);
	ssl_release(tc);
	tls_wire_plain_put(&tc->w);
	if (tls_wire_flush(&tc->w) == 0) {
		tc->fin_after_tx = true;
		return;
	}
	tcp_close(tc->tcp);
}

/* A plaintext fatal alert before any wolfSSL session exists. */
static void
send_alert(struct tls_conn *tc, uint8_t desc)
{
	const uint8_t rec[7] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, desc };

	(void)tcp_send(tc->tcp, rec, sizeof(rec));
}

/* ---------------------------------------------------------------- peek */

/* The distribution a hello without a usable server name reaches: the one
 * bound to the address the client connected to, else the default. */
static const struct cfg_dist *
dist_by_address(const struct tls_conn *tc, const struct cfg_snapshot *s)
{
	const struct cfg_dist *d;
	rte_be32_t laddr, raddr;
	uint16_t lport, rport;

	tcp_endpoints(tc->tcp, &laddr, &lport, &raddr, &rport);
	d = cfg_snapshot_find_listen(s, laddr);
	return d != NULL ? d : cfg_snapshot_default(s);
}

/* Returns 0 when the session exists (go on with the handshake), 1 when
 * waiting for more bytes or when the connection was ended. */
static int
hello_step(struct tls_conn *tc)
{
	struct tls_lcore *tl = tc->tl;
	const struct cfg_snapshot *snap;
	const struct cfg_dist *d = NULL;
	struct tls_hello h;
	enum cfg_key_kind kind;
	WOLFSSL_CTX *ctx;
	size_t n;
	int rc;

	/* Stateless parse over everything so far: a hello is one segment in
	 * practice, so the copy is short and happens once. */
	n = tcp_rxq_copy(&tc->rx, tl->scratch, sizeof(tl->scratch));
	rc = tls_hello_parse(tl->scratch, n, &h);
	if (rc == 0) {
		if (!tc->peer_closed)
			return 1;
		rc = -EBADMSG;          /* truncated, and no more will come */
	}
	if (rc < 0) {
		count_failure(tc, DPC_tls_fail_bad_hello);
		tcp_abort(tc->tcp);
		return 1;
	}

	snap = cfg_snapshot_current(&tl->live->snap);
	if (snap != NULL) {
		if (h.has_sni && !h.sni_invalid)
			d = cfg_snapshot_find_host(snap, h.sni);
		if (d == NULL && (!h.has_sni || h.sni_invalid))
			d = dist_by_address(tc, snap);
		if (d == NULL)
			d = cfg_snapshot_default(snap);
	}
	if (d == NULL) {
		count_failure(tc, DPC_tls_fail_unknown_sni);
		send_alert(tc, h.has_sni ? ALERT_UNRECOGNIZED_NAME :
					   ALERT_HANDSHAKE_FAILURE);
		conn_finish(tc);
		return 1;
	}
	/* Like nginx: ALPN offered, but not a protocol we speak. */
	if (h.has_alpn && !h.alpn_http11) {
		count_failure(tc, DPC_tls_fail_handshake);
		send_alert(tc, ALERT_NO_APP_PROTOCOL);
		conn_finish(tc);
		return 1;
	}
	if (d->ecdsa != NULL && (h.ecdsa_ok || d->rsa == NULL))
		kind = CFG_KEY_ECDSA;
	else
		kind = d->rsa != NULL ? CFG_KEY_RSA : CFG_KEY_ECDSA;
	ctx = tls_snapshot_ctx(snap, d, kind, tl->worker);
	if (ctx == NULL) {
		count_failure(tc, DPC_tls_fail_other);
		send_alert(tc, ALERT_HANDSHAKE_FAILURE);
		conn_finish(tc);
		return 1;
	}

	/* The snapshot (and with it ctx, d and the certificate) must outlive
	 * this loop iteration: a reference of our own. */
	tc->snap = cfg_snapshot_get((struct cfg_snapshot *)snap);
	tc->dist = d;
	tc->cert = kind == CFG_KEY_ECDSA ? d->ecdsa : d->rsa;
	tc->status_request = h.status_request;
	tc->ssl = wolfSSL_new(ctx);
	if (tc->ssl == NULL) {
		count_failure(tc, DPC_tls_fail_other);
		tcp_abort(tc->tcp);
		return 1;
	}
	wolfSSL_SetIOReadCtx(tc->ssl, tc);
	wolfSSL_SetIOWriteCtx(tc->ssl, tc);
	/* Before the first tickets_set there is no ring: issue no tickets
	 * rather than fail the handshake in the ticket callback. */
	if (cfg_ticket_ring_current(&tl->live->tickets) == NULL) {
		wolfSSL_NoTicketTLSv12(tc->ssl);
		wolfSSL_no_ticket_TLSv13(tc->ssl);
	}
	set_state(tc, TLS_S_HANDSHAKE);
	return 0;
}

/* ---------------------------------------------------------------- handshake */

static enum dp_counter
failure_cause(WOLFSSL *ssl, int err)
{
	WOLFSSL_ALERT_HISTORY h;

	switch (err) {
	case VERSION_ERROR:
		return DPC_tls_fail_protocol_version;
	case NO_PEER_CERT:
	case ASN_NO_SIGNER_E:
	case ASN_AFTER_DATE_E:
	case ASN_BEFORE_DATE_E:
	case CRL_CERT_REVOKED:
	case CRL_MISSING:
	case ASN_SIG_CONFIRM_E:
		return DPC_tls_fail_bad_certificate;
	default:
		break;
	}
	memset(&h, 0, sizeof(h));
	wolfSSL_get_alert_history(ssl, &h);
	switch (h.last_tx.code) {
	case protocol_version:
		return DPC_tls_fail_protocol_version;
	case bad_certificate:
	case unsupported_certificate:
	case certificate_revoked:
	case certificate_expired:
	case certificate_unknown:
	case unknown_ca:
	case certificate_required:
		return DPC_tls_fail_bad_certificate;
	case handshake_failure:
	case illegal_parameter:
	case decode_error:
	case unexpected_message:
	case insufficient_security:
	case decrypt_error:
	case missing_extension:
		return DPC_tls_fail_handshake;
	default:
		return DPC_tls_fail_other;
	}
}

static void
count_established(struct tls_conn *tc)
{
	struct dp_counters *cnt = &nl_of(tc)->cnt;
	const char *suite = wolfSSL_get_cipher_name(tc->ssl);
	bool resumed = wolfSSL_session_reused(tc->ssl) != 0;

	dpc_inc(cnt, resumed ? DPC_tls_resumed : DPC_tls_handshakes);
	dpc_inc(cnt, wolfSSL_version(tc->ssl) == TLS1_3_VERSION ?
		DPC_tls_v13 : DPC_tls_v12);
	if (suite == NULL)
		suite = "";
	if (strstr(suite, "AES128-GCM") != NULL)
		dpc_inc(cnt, DPC_tls_aes128gcm);
	else if (strstr(suite, "AES256-GCM") != NULL)
		dpc_inc(cnt, DPC_tls_aes256gcm);
	else if (strstr(suite, "CHACHA20") != NULL)
		dpc_inc(cnt, DPC_tls_chacha20);
	else
		dpc_inc(cnt, DPC_tls_cbc);
	/* Patch 0003 has wolfSSL ask status_cb on every handshake that wants
	 * a staple and send what it returns: stapled is exact. */
	if (!resumed && tc->stapled)
		dpc_inc(cnt, DPC_tls_staples_served);

	tc->mtls = TLS_MTLS_OFF;
	if (tc->dist->mtls == CFG_MTLS_REQUIRED && !resumed) {
		tc->mtls = TLS_MTLS_OK;
	} else if (tc->dist->mtls != CFG_MTLS_OFF && !resumed) {
		WOLFSSL_X509 *peer = wolfSSL_get_peer_certificate(tc->ssl);

		if (peer == NULL)
			tc->mtls = TLS_MTLS_NONE;
		else if (wolfSSL_get_verify_result(tc->ssl) == X509_V_OK)
			tc->mtls = TLS_MTLS_OK;
		else
			tc->mtls = TLS_MTLS_FAILED;
		wolfSSL_X509_free(peer);
	}
	if (tc->mtls == TLS_MTLS_OK)
		dpc_inc(cnt, DPC_tls_mtls_ok);
	else if (tc->mtls == TLS_MTLS_NONE)
		dpc_inc(cnt, DPC_tls_mtls_none);
	else if (tc->mtls == TLS_MTLS_FAILED)
		dpc_inc(cnt, DPC_tls_mtls_failed);
	tc->active = true;
	dpc_inc(cnt, DPC_tls_active);
}

/* 0: established, go on; 1: waiting, or ended. */
static int
handshake_step(struct tls_conn *tc)
{
	int rc, err;

	rc = wolfSSL_accept(tc->ssl);
	if (rc == WOLFSSL_SUCCESS) {
		tc->handshake_done = true;
		count_established(tc);
		/* From here the HTTP engine's header timeout runs. */
		fifo_remove(tc);
		set_state(tc, TLS_S_PROXY);
		return 0;
	}
	err = wolfSSL_get_error(tc->ssl, rc);
	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
		return 1;
	count_failure(tc, failure_cause(tc->ssl, err));
	/* wolfSSL has queued its alert through io_send; FIN after it. */
	conn_finish(tc);
	return 1;
}

/* ---------------------------------------------------------------- transport */

/* The HTTP engine's byte stream over an established session (px.h,
 * struct px_transport), through tls_wire.c. */
static struct tls_conn *
tc_of(const struct px_transport *t)
{
	return (struct tls_conn *)((char *)(uintptr_t)t -
				   offsetof(struct tls_conn, t));
}

static size_t
t_peek(struct px_transport *t, const uint8_t **data)
{
	struct tls_conn *tc = tc_of(t);
	ssize_t n;

	if (t->peer_closed && tc->w.plain_off == tc->w.plain_len)
		return 0;
	n = tls_wire_peek(&tc->w, tc->ssl, data);
	if (n >= 0)
		return (size_t)n;
	/* close_notify, the TCP FIN, a renegotiation attempt or a bad
	 * record: the viewer's byte stream ends here. */
	if (tc->reneg_refused && !tc->reneg_counted) {
		tc->reneg_counted = true;
		dpc_inc(&nl_of(tc)->cnt, DPC_tls_renegotiation_refused);
	}
	t->peer_closed = true;
	return 0;
}

static void
t_consume(struct px_transport *t, size_t n)
{
	tls_wire_consume(&tc_of(t)->w, n);
}

static int
t_send(struct px_transport *t, const void *data, size_t len)
{
	struct tls_conn *tc = tc_of(t);

	return tls_wire_send(&tc->w, tc->ssl, data, len);
}

static uint32_t
t_send_space(const struct px_transport *t)
{
	const struct tls_conn *tc = tc_of(t);

	return tls_wire_send_space(&tc->w, tc->ssl);
}

/* The engine is done: close_notify, then the FIN after it. */
static void
t_close(struct px_transport *t)
{
	struct tls_conn *tc = tc_of(t);

	tc->pc = NULL;
	if (tc->ssl != NULL)
		(void)wolfSSL_shutdown(tc->ssl);  /* we do not wait for the
						   * peer's close_notify */
	conn_finish(tc);
}

static void
t_abort(struct px_transport *t)
{
	struct tls_conn *tc = tc_of(t);

	tc->pc = NULL;
	tcp_abort(tc->tcp);             /* `closed` releases tc */
}

static const struct px_transport_ops tls_transport = {
	.peek = t_peek,
	.consume = t_consume,
	.send = t_send,
	.send_space = t_send_space,
	.close = t_close,
	.abort = t_abort,
};

/* ---------------------------------------------------------------- proxy */

static uint8_t
mtls_result(const struct tls_conn *tc)
{
	switch (tc->mtls) {
	case TLS_MTLS_OK:
		return HTTP_MTLS_SUCCESS;
	case TLS_MTLS_FAILED:
		return HTTP_MTLS_FAILED;
	case TLS_MTLS_NONE:
		return HTTP_MTLS_NONE;
	default:
		/* Off, or a resumption (count_established): a required
		 * distribution resumes only tickets of its own verified
		 * sessions (docs/TLS.md, "Viewer mTLS"). */
		return tc->dist->mtls == CFG_MTLS_REQUIRED ?
		       HTTP_MTLS_SUCCESS : HTTP_MTLS_NONE;
	}
}

/* The verified client certificate's subject, kept for the connection's
 * requests (X-Client-Subject). */
static void
keep_subject(struct tls_conn *tc)
{
	WOLFSSL_X509 *peer;
	char subject[256];

	if (tc->mtls != TLS_MTLS_OK)
		return;
	peer = wolfSSL_get_peer_certificate(tc->ssl);
	if (peer == NULL)
		return;
	subject[0] = '\0';
	if (wolfSSL_X509_NAME_oneline(wolfSSL_X509_get_subject_name(peer),
				      subject, (int)sizeof(subject)) != NULL &&
	    subject[0] != '\0')
		tc->subject = strdup(subject);
	wolfSSL_X509_free(peer);
}

/* Hand the established session to the HTTP engine. 0: go on; 1: the
 * connection was refused (reset). */
static int
proxy_open(struct tls_conn *tc)
{
	struct px_viewer v;
	rte_be32_t laddr, raddr;
	uint16_t lport, rport;
	tls_wire_established(&tc->w, tc->ssl);
	keep_subject(tc);
	tcp_endpoints(tc->tcp, &laddr, &lport, &raddr, &rport);
	memset(&v, 0, sizeof(v));
	v.https = true;
	v.snap = tc->snap;
	v.sni_dist = tc->dist;
	v.addr.s_addr = raddr;
	v.port = rport;
	v.mtls = mtls_result(tc);
	if (tc->subject != NULL) {
		v.subject = tc->subject;
		v.subject_len = strlen(tc->subject);
	}
	v.tls_protocol = wolfSSL_get_version(tc->ssl);
	v.tls_cipher = wolfSSL_get_cipher_name(tc->ssl);
	v.tls_resumed = wolfSSL_session_reused(tc->ssl) != 0;
	tc->t.ops = &tls_transport;
	tc->t.peer_closed = false;
	tc->pc = px_conn_open(tc->tl->px, &tc->t, &v);
	if (tc->pc == NULL) {
		tcp_abort(tc->tcp);     /* counted http_refused_busy */
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- driver */

static void
tls_drive(struct tls_conn *tc)
{
	switch (tc->state) {
	case TLS_S_HELLO:
		if (hello_step(tc) != 0)
			return;
		/* fall through */
	case TLS_S_HANDSHAKE:
		if (handshake_step(tc) != 0)
			return;
		if (proxy_open(tc) != 0)
			return;
		/* The request may have come with Finished. */
		/* fall through */
	case TLS_S_PROXY:
		/* The engine may release tc: nothing after this. */
		if (tc->pc != NULL)
			px_conn_recv(tc->pc);
		return;
	case TLS_S_CLOSING:
		/* Late bytes after our close: read and dropped. */
		if (tc->rx.len > 0) {
			tcp_recved(tc->tcp, tc->rx.len);
			tcp_rxq_free(&tc->rx);
		}
		return;
	default:
		return;
	}
}

/* ---------------------------------------------------------------- TCP callbacks */

static int
on_established(struct tcp_conn *c)
{
	struct tls_lcore *tl = tcp_listen_arg(c);
	struct tls_conn *tc = tl->free;

	if (tc == NULL || tl->nb_handshaking >= tl->p.max_handshakes) {
		dpc_inc(&tl->nl->cnt, DPC_tls_refused_busy);
		return -EBUSY;          /* TCP resets it */
	}
	tl->free = tc->next;
	memset(tc, 0, sizeof(*tc));
	tc->tl = tl;
	tc->tcp = c;
	tc->w.raw_send = raw_send;
	tc->w.raw_space = raw_space;
	tc->w.raw_arg = tc;
	tc->w.plain_free = &tl->plain_free;
	tc->state = TLS_S_HELLO;
	tl->nb_handshaking++;
	fifo_append(tc);
	tcp_set_user(c, tc);
	return 0;
}

static void
on_recv(struct tcp_conn *c, struct rte_mbuf *m)
{
	struct tls_conn *tc = tcp_user(c);

	if (tc == NULL) {
		tcp_recved(c, rte_pktmbuf_pkt_len(m));
		rte_pktmbuf_free(m);
		return;
	}
	tcp_rxq_append(&tc->rx, m);
	tc->got_bytes = true;
	tls_drive(tc);
}

static void
on_peer_closed(struct tcp_conn *c)
{
	struct tls_conn *tc = tcp_user(c);

	if (tc == NULL)
		return;
	tc->peer_closed = true;
	if (tc->state == TLS_S_CLOSING)
		return;
	if (tc->state == TLS_S_HELLO && !tc->got_bytes) {
		/* Connected and left without a byte: not a TLS attempt. */
		conn_finish(tc);
		return;
	}
	tls_drive(tc);
}

static void
on_writable(struct tcp_conn *c)
{
	struct tls_conn *tc = tcp_user(c);

	if (tc == NULL)
		return;
	if (tls_wire_flush(&tc->w) == 0)
		return;                 /* still staged: `writable` again */
	switch (tc->state) {
	case TLS_S_PROXY:
		if (tc->pc != NULL)
			px_conn_writable(tc->pc);
		return;
	case TLS_S_CLOSING:
		if (tc->fin_after_tx) {
			tc->fin_after_tx = false;
			tcp_close(tc->tcp);
		}
		return;
	default:
		tls_drive(tc);
		return;
	}
}

static void
on_closed(struct tcp_conn *c, int err)
{
	struct tls_conn *tc = tcp_user(c);

	(void)err;
	if (tc == NULL)
		return;
	if (handshaking(tc) && tc->got_bytes)
		count_failure(tc, DPC_tls_fail_other);
	if (tc->pc != NULL) {
		struct px_conn *pc = tc->pc;

		tc->pc = NULL;
		px_conn_gone(pc);
	}
	conn_release(tc);
}

static const struct tcp_ops tls_tcp_ops = {
	.established = on_established,
	.recv = on_recv,
	.peer_closed = on_peer_closed,
	.writable = on_writable,
	.closed = on_closed,
};

/* ---------------------------------------------------------------- lcore */

struct tls_lcore *
tls_lcore_start(struct net_lcore *nl, const struct tls_params *p,
		struct cfg_live *live, struct px_lcore *px,
		unsigned int worker, int *err)
{
	struct tls_lcore *tl;
	uint32_t i;
	int rc;

	tl = calloc(1, sizeof(*tl));
	if (tl == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	tl->nl = nl;
	tl->live = live;
	tl->px = px;
	tl->worker = worker;
	tl->p = *p;
	tl->timeout_tsc = nl->hz / 1000 * p->handshake_timeout_ms;
	tl->fifo.next = tl->fifo.prev = &tl->fifo;
	tl->pool_size = tcp_max_conns(nl);
	tl->pool = calloc(tl->pool_size, sizeof(*tl->pool));
	if (tl->pool == NULL) {
		free(tl);
		*err = -ENOMEM;
		return NULL;
	}
	for (i = tl->pool_size; i-- > 0;) {
		tl->pool[i].tl = tl;
		tl->pool[i].next = tl->free;
		tl->free = &tl->pool[i];
	}
	if (p->port != 0) {
		rc = tcp_listen(nl, 0, p->port, &tls_tcp_ops, tl);
		if (rc != 0) {
			free(tl->pool);
			free(tl);
			*err = rc;
			return NULL;
		}
	}
	return tl;
}

void
tls_lcore_poll(struct tls_lcore *tl)
{
	struct tls_conn *tc;
	int64_t heap;

	while ((tc = tl->fifo.next) != &tl->fifo &&
	       (int64_t)(tc->deadline - tl->nl->now) <= 0) {
		fifo_remove(tc);
		if (handshaking(tc))
			count_failure(tc, DPC_tls_fail_timeout);
		tcp_abort(tc->tcp);     /* `closed` releases tc */
	}
	heap = tls_heap_bytes();
	__atomic_store_n(&tl->nl->cnt.v[DPC_tls_heap_bytes],
			 (uint64_t)(heap > 0 ? heap : 0), __ATOMIC_RELAXED);
}

void
tls_lcore_stop(struct tls_lcore *tl)
{
	struct tls_plain *p;
	uint32_t i;

	if (tl == NULL)
		return;
	/* tcp_lcore_fini dropped the connections without callbacks. */
	for (i = 0; i < tl->pool_size; i++) {
		struct tls_conn *tc = &tl->pool[i];

		if (tc->state == TLS_S_FREE)
			continue;
		tc->tcp = NULL;
		if (tc->ssl != NULL) {
			wolfSSL_free(tc->ssl);
			tc->ssl = NULL;
		}
		cfg_snapshot_put(tc->snap);
		tc->snap = NULL;
		tcp_rxq_free(&tc->rx);
		free(tc->w.plain);
		tc->w.plain = NULL;
		free(tc->subject);
		tc->subject = NULL;
	}
	while ((p = tl->plain_free) != NULL) {
		tl->plain_free = p->next;
		free(p);
	}
	free(tl->pool);
	free(tl);
}

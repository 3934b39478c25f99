/* SPDX-License-Identifier: BSD-3-Clause */
#include "tls_int.h"            /* wolfssl/options.h first */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "tls_ctx.h"

/* TEMPORARY fixed response: the request head is read up to this size. */
#define TLS_REQ_HEAD_MAX 8192

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

static void
rx_free(struct tls_conn *tc)
{
	struct rte_mbuf *m, *next;

	for (m = tc->rx_head; m != NULL; m = next) {
		next = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	tc->rx_head = tc->rx_tail = NULL;
	tc->rx_len = 0;
	tc->rx_off = 0;
}

/* Copy up to len unread bytes to buf without consuming them. */
static size_t
rx_peek(const struct tls_conn *tc, uint8_t *buf, size_t len)
{
	const struct rte_mbuf *m;
	size_t done = 0, off = tc->rx_off, n;

	for (m = tc->rx_head; m != NULL && done < len; m = m->next) {
		n = m->data_len - off;
		if (n > len - done)
			n = len - done;
		memcpy(buf + done, rte_pktmbuf_mtod_offset(m, const uint8_t *,
							   off), n);
		done += n;
		off = 0;
	}
	return done;
}

/* Consume len buffered bytes; the TCP window reopens by as much. */
static void
rx_skip(struct tls_conn *tc, size_t len)
{
	struct rte_mbuf *m;
	size_t done = 0, n;

	while ((m = tc->rx_head) != NULL && done < len) {
		n = m->data_len - tc->rx_off;
		if (n > len - done)
			n = len - done;
		done += n;
		tc->rx_off = (uint16_t)(tc->rx_off + n);
		if (tc->rx_off == m->data_len) {
			tc->rx_head = m->next;
			if (tc->rx_head == NULL)
				tc->rx_tail = NULL;
			m->next = NULL;
			rte_pktmbuf_free_seg(m);
			tc->rx_off = 0;
		}
	}
	tc->rx_len -= (uint32_t)done;
	if (done > 0)
		tcp_recved(tc->tcp, (uint32_t)done);
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
	if (tc->rx_len == 0)
		return tc->peer_closed ? WOLFSSL_CBIO_ERR_CONN_CLOSE :
					 WOLFSSL_CBIO_ERR_WANT_READ;
	n = rx_peek(tc, (uint8_t *)buf, (size_t)sz);
	n = rec_scan(tc, (const uint8_t *)buf, n, &refuse);
	if (n == 0 && refuse) {
		tc->reneg_refused = true;
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	}
	rx_skip(tc, n);
	return (int)n;
}

/* TCP copies into its send queue; a full queue is WANT_WRITE and the
 * `writable` callback resumes wolfSSL, which keeps the unsent rest. */
static int
io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tls_conn *tc = ctx;
	int n;

	(void)ssl;
	n = tcp_send(tc->tcp, buf, (size_t)sz);
	if (n > 0)
		return n;
	if (n == 0)
		return WOLFSSL_CBIO_ERR_WANT_WRITE;
	return WOLFSSL_CBIO_ERR_CONN_RST;
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
	rx_free(tc);
	if (tc->tcp != NULL)
		tcp_set_user(tc->tcp, NULL);
	memset(tc, 0, sizeof(*tc));
	tc->tl = tl;
	tc->next = tl->free;
	tl->free = tc;
}

/* Orderly end: whatever wolfSSL queued (an alert, close_notify) goes out
 * before the FIN. The session is freed now; only TCP state remains. */
static void
conn_finish(struct tls_conn *tc)
{
	fifo_remove(tc);
	set_state(tc, TLS_S_CLOSING);
	ssl_release(tc);
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
	n = rx_peek(tc, tl->scratch, sizeof(tl->scratch));
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
		set_state(tc, TLS_S_REQUEST);
		fifo_append(tc);        /* the request must follow in time */
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

/* ---------------------------------------------------------------- TEMPORARY */

/*
 * TEMPORARY, until the HTTP issue lands: read the request head (up to
 * "\r\n\r\n", at most TLS_REQ_HEAD_MAX bytes, the bytes themselves are
 * dropped) and answer a fixed 200 naming what was negotiated, so curl and
 * the tests can complete a request. Remove with the HTTP layer.
 */
static int
request_step(struct tls_conn *tc)
{
	static const char end[] = "\r\n\r\n";
	uint8_t *buf = tc->tl->scratch;
	int n, i, err;

	for (;;) {
		n = wolfSSL_read(tc->ssl, buf, (int)sizeof(tc->tl->scratch));
		if (n <= 0) {
			err = wolfSSL_get_error(tc->ssl, n);
			if (err == WOLFSSL_ERROR_WANT_READ ||
			    err == WOLFSSL_ERROR_WANT_WRITE)
				return 1;
			/* close_notify, a renegotiation attempt, a bad
			 * record: nothing to answer. */
			if (tc->reneg_refused)
				dpc_inc(&nl_of(tc)->cnt,
					DPC_tls_renegotiation_refused);
			conn_finish(tc);
			return 1;
		}
		for (i = 0; i < n; i++) {
			tc->crlf = buf[i] == (uint8_t)end[tc->crlf] ?
				   (uint8_t)(tc->crlf + 1) :
				   (buf[i] == '\r' ? 1 : 0);
			if (tc->crlf == 4)
				break;
		}
		if (tc->crlf == 4)
			break;
		if (tc->req_len + (unsigned int)n > TLS_REQ_HEAD_MAX) {
			conn_finish(tc);
			return 1;
		}
		tc->req_len = (uint16_t)(tc->req_len + n);
	}
	fifo_remove(tc);
	set_state(tc, TLS_S_RESPOND);
	return 0;
}

static const char *
mtls_word(uint8_t m)
{
	switch (m) {
	case TLS_MTLS_OK: return "ok";
	case TLS_MTLS_NONE: return "none";
	case TLS_MTLS_FAILED: return "failed";
	default: return "off";
	}
}

/* The same bytes every time for one connection: wolfSSL_write wants the
 * same buffer again after WANT_WRITE. */
static int
render_response(struct tls_conn *tc, char *out, size_t cap)
{
	char body[1024], subject[256] = "-";
	const unsigned char *alpn = NULL;
	unsigned int alpn_len = 0;
	const char *suite = wolfSSL_get_cipher_name(tc->ssl);
	int blen, n;

	if (tc->mtls == TLS_MTLS_OK || tc->mtls == TLS_MTLS_FAILED) {
		WOLFSSL_X509 *peer = wolfSSL_get_peer_certificate(tc->ssl);

		if (peer != NULL) {
			wolfSSL_X509_NAME_oneline(
				wolfSSL_X509_get_subject_name(peer), subject,
				(int)sizeof(subject));
			wolfSSL_X509_free(peer);
		}
	}
	wolfSSL_get0_alpn_selected(tc->ssl, &alpn, &alpn_len);
	blen = snprintf(body, sizeof(body),
		"rampart: temporary TLS response (replaced by the HTTP "
		"layer)\n"
		"distribution: %s\n"
		"certificate: %s\n"
		"protocol: %s\n"
		"cipher: %s\n"
		"resumed: %s\n"
		"alpn: %.*s\n"
		"mtls: %s\n"
		"client_subject: %s\n",
		tc->dist->name, tc->cert->name, wolfSSL_get_version(tc->ssl),
		suite != NULL ? suite : "?",
		wolfSSL_session_reused(tc->ssl) ? "yes" : "no",
		alpn_len > 0 ? (int)alpn_len : 4,
		alpn_len > 0 ? (const char *)alpn : "none",
		mtls_word(tc->mtls), subject);
	if (blen < 0 || (size_t)blen >= sizeof(body))
		blen = (int)sizeof(body) - 1;
	n = snprintf(out, cap, "HTTP/1.1 200 OK\r\n"
		     "Content-Type: text/plain\r\n"
		     "Content-Length: %d\r\n"
		     "Connection: close\r\n"
		     "\r\n%.*s", blen, blen, body);
	return n < 0 || (size_t)n >= cap ? (int)cap - 1 : n;
}

static void
respond_step(struct tls_conn *tc)
{
	char *buf = (char *)tc->tl->scratch;
	int len = render_response(tc, buf, sizeof(tc->tl->scratch));
	int n, err;

	n = wolfSSL_write(tc->ssl, buf, len);
	if (n <= 0) {
		err = wolfSSL_get_error(tc->ssl, n);
		if (err == WOLFSSL_ERROR_WANT_WRITE ||
		    err == WOLFSSL_ERROR_WANT_READ)
			return;         /* `writable` comes back here */
		conn_finish(tc);
		return;
	}
	/* close_notify; we do not wait for the peer's. */
	(void)wolfSSL_shutdown(tc->ssl);
	conn_finish(tc);
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
		/* fall through */
	case TLS_S_REQUEST:
		if (request_step(tc) != 0)
			return;
		/* fall through */
	case TLS_S_RESPOND:
		respond_step(tc);
		return;
	case TLS_S_CLOSING:
		/* Late bytes after our close: read and dropped. */
		if (tc->rx_len > 0) {
			tcp_recved(tc->tcp, tc->rx_len);
			rx_free(tc);
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
	struct rte_mbuf *seg, *next;

	if (tc == NULL) {
		tcp_recved(c, rte_pktmbuf_pkt_len(m));
		rte_pktmbuf_free(m);
		return;
	}
	/* One flat list of single segments, as diag's echo keeps them. */
	for (seg = m; seg != NULL; seg = next) {
		next = seg->next;
		seg->next = NULL;
		seg->nb_segs = 1;
		seg->pkt_len = seg->data_len;
		if (seg->data_len == 0) {
			rte_pktmbuf_free_seg(seg);
			continue;
		}
		if (tc->rx_tail != NULL)
			tc->rx_tail->next = seg;
		else
			tc->rx_head = seg;
		tc->rx_tail = seg;
		tc->rx_len += seg->data_len;
	}
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

	if (tc != NULL)
		tls_drive(tc);
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
		struct cfg_live *live, unsigned int worker, int *err)
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
		rx_free(tc);
	}
	free(tl->pool);
	free(tl);
}

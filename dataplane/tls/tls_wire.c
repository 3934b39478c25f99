/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The plaintext stream over a wolfSSL session, shared by the viewer
 * (tls_conn.c) and origin (tls_origin.c) engines: what the HTTP engine's
 * transport calls do once a session is established. See tls_int.h,
 * struct tls_wire.
 */
#include "tls_int.h"            /* wolfssl/options.h first */

#include <errno.h>
#include <string.h>

/*
 * During the handshake a short write is WANT_WRITE and wolfSSL keeps the
 * rest. Once established, what the lower layer does not take is staged in
 * w->tx instead: wolfSSL_write that returned WANT_WRITE would have to be
 * called again with the same bytes, which the HTTP engine does not promise
 * (it may offer more, or other bytes first). tls_wire_send sizes every
 * record so that it fits the lower layer's room plus the staging room; a
 * short write there has armed the lower layer's `writable`, whose handler
 * flushes w->tx.
 */
int
tls_wire_io_send(struct tls_wire *w, const char *buf, int sz)
{
	int n = 0, k;

	if (sz <= 0)
		return 0;
	if (w->tx_len == 0) {           /* nothing may overtake w->tx */
		n = w->raw_send(w->raw_arg, buf, (size_t)sz);
		if (n < 0)
			return WOLFSSL_CBIO_ERR_CONN_RST;
		if (n == sz || !w->stage)
			return n > 0 ? n : WOLFSSL_CBIO_ERR_WANT_WRITE;
	}
	k = sz - n;
	if (k > TLS_TX_STAGE - w->tx_len)
		k = TLS_TX_STAGE - w->tx_len;
	memcpy(w->tx + w->tx_len, buf + n, (size_t)k);
	w->tx_len = (uint16_t)(w->tx_len + k);
	n += k;
	return n > 0 ? n : WOLFSSL_CBIO_ERR_WANT_WRITE;
}

int
tls_wire_flush(struct tls_wire *w)
{
	int n;

	if (w->tx_len == 0)
		return 1;
	n = w->raw_send(w->raw_arg, w->tx, w->tx_len);
	if (n < 0)
		return n;
	memmove(w->tx, w->tx + n, (size_t)(w->tx_len - n));
	w->tx_len = (uint16_t)(w->tx_len - n);
	return w->tx_len == 0 ? 1 : 0;
}

void
tls_wire_established(struct tls_wire *w, WOLFSSL *ssl)
{
	int max = wolfSSL_GetMaxOutputSize(ssl);

	w->max_frag = max > 0 && max < TLS_PLAIN_SIZE ? (uint16_t)max :
						       TLS_PLAIN_SIZE;
	w->stage = true;
}

void
tls_wire_plain_put(struct tls_wire *w)
{
	if (w->plain == NULL)
		return;
	tls_plain_put(w->plain_free, w->plain);
	w->plain = NULL;
	w->plain_off = w->plain_len = 0;
}

/*
 * wolfSSL_read decrypts one record's worth into a plaintext buffer only
 * when the previous one was consumed, so a peer the HTTP engine is not
 * reading from fills wolfSSL's input, then the lower layer's queue, then
 * its TCP window: back-pressure as over plain TCP. The buffer comes from
 * a per-lcore free list and goes back as soon as it is empty, so an idle
 * keep-alive connection holds none.
 */
ssize_t
tls_wire_peek(struct tls_wire *w, WOLFSSL *ssl, const uint8_t **data)
{
	int n, err;

	if (w->plain_off < w->plain_len) {
		*data = w->plain->data + w->plain_off;
		return w->plain_len - w->plain_off;
	}
	if (ssl == NULL)
		return -1;
	if (w->plain == NULL)
		w->plain = tls_plain_get(w->plain_free);
	if (w->plain == NULL)
		return -1;      /* no memory: end the stream, not stall it */
	n = wolfSSL_read(ssl, w->plain->data, TLS_PLAIN_SIZE);
	if (n > 0) {
		w->plain_off = 0;
		w->plain_len = (uint16_t)n;
		*data = w->plain->data;
		return n;
	}
	tls_wire_plain_put(w);
	err = wolfSSL_get_error(ssl, n);
	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
		return 0;
	return -1;              /* close_notify, FIN, a bad record */
}

void
tls_wire_consume(struct tls_wire *w, size_t n)
{
	w->plain_off = (uint16_t)(w->plain_off + n);
	if (w->plain_off >= w->plain_len)
		tls_wire_plain_put(w);
}

/*
 * Encrypt as much of data as one record that fits the lower layer's room
 * plus the staging room (less TLS_TX_RESERVE) carries, so wolfSSL_write
 * never meets WANT_WRITE (tls_wire_io_send). With the room gone the
 * record goes to w->tx whole.
 */
int
tls_wire_send(struct tls_wire *w, WOLFSSL *ssl, const void *data, size_t len)
{
	size_t room;
	int n, rc;

	if (ssl == NULL)
		return -ENOTCONN;
	rc = tls_wire_flush(w);
	if (rc <= 0)
		return rc;              /* 0: staged bytes first */
	if (len == 0)
		return 0;
	room = (size_t)w->raw_space(w->raw_arg) + TLS_TX_STAGE -
	       TLS_TX_RESERVE - TLS_REC_OVERHEAD;
	if (len > room)
		len = room;
	if (len > w->max_frag)
		len = w->max_frag;
	n = wolfSSL_write(ssl, data, (int)len);
	/* A fatal error, or WANT_WRITE despite the sizing (wolfSSL would
	 * want these very bytes again): either way the stream cannot go
	 * on. */
	return n > 0 ? n : -EPIPE;
}

uint32_t
tls_wire_send_space(const struct tls_wire *w, const WOLFSSL *ssl)
{
	uint32_t space;

	if (ssl == NULL || w->tx_len > 0)
		return 0;
	space = w->raw_space(w->raw_arg);
	return space > TLS_REC_OVERHEAD ? space - TLS_REC_OVERHEAD : 0;
}

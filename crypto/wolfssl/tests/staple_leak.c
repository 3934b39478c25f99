/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * staple_leak - measure heap left behind by stapled TLS 1.3 handshakes.
 *
 * Runs a wolfSSL client and server in one process over two memory pipes.
 * The server staples an OCSP response for its certificate; the client
 * requests it and insists on it (must-staple), so every counted handshake
 * really carried a staple. wolfSSL's allocations go through counting
 * wrappers (wolfSSL_SetAllocators), which gives two numbers:
 *
 *   growth per handshake  live bytes after N handshakes minus live bytes
 *                         after the warm-up, divided by N. The warm-up fills
 *                         the server's OCSP cache, which legitimately lives
 *                         as long as the CTX.
 *   left at exit          live bytes once both CTXs are freed and wolfSSL is
 *                         cleaned up: everything here is leaked.
 *
 * Two server routes to the staple:
 *
 *   default      the responder route: wolfSSL_CTX_SetOCSP_Cb answers the
 *                OCSP request wolfSSL builds (the issuer is loaded in the
 *                server context; wolfSSL verifies and caches the response).
 *   --status-cb  the OpenSSL-compatible route the dataplane uses:
 *                wolfSSL_CTX_set_tlsext_status_cb hands over the response,
 *                with no CA at all in the server context. With our patch
 *                0003 the callback must be asked on every handshake (no
 *                cache), and a response that embeds its signer certificate
 *                is sent as given; otherwise the run fails.
 *
 * --tls12 runs TLS 1.2 handshakes instead of TLS 1.3 (staple in the
 * CertificateStatus message rather than the Certificate extension).
 *
 * Usage: staple_leak [--status-cb] [--tls12] CA_PEM LEAF_PEM LEAF_KEY
 *                    OCSP_RESP_DER [HANDSHAKES]
 * Exit:  0 no leak, 3 leak measured, 1 setup or handshake failure (or, with
 *        --status-cb, a handshake that did not ask the callback).
 *
 * Built by crypto/wolfssl/tests/run-staple-leak against a static wolfSSL.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/memory.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(WOLFSSL_STATIC_MEMORY) || defined(WOLFSSL_DEBUG_MEMORY) || \
	!defined(USE_WOLFSSL_MEMORY)
#error "staple_leak needs wolfSSL's default allocator callbacks"
#endif
#if !defined(HAVE_CERTIFICATE_STATUS_REQUEST) || !defined(WOLFSSL_TLS13)
#error "staple_leak needs TLS 1.3 and OCSP stapling (status_request)"
#endif

/* --- counting allocator --------------------------------------------------- */

/* The size lives in a header in front of each block; 16 bytes keeps the
 * pointer handed to wolfSSL aligned for any type. */
#define HDR 16

static struct {
	long long live_bytes;
	long long live_blocks;
	long long allocs;
} mem;

static void *count_malloc(size_t size)
{
	unsigned char *p = malloc(size + HDR);

	if (p == NULL)
		return NULL;
	memcpy(p, &size, sizeof(size));
	mem.live_bytes += (long long)size;
	mem.live_blocks++;
	mem.allocs++;
	return p + HDR;
}

static void count_free(void *ptr)
{
	unsigned char *p;
	size_t size;

	if (ptr == NULL)
		return;
	p = (unsigned char *)ptr - HDR;
	memcpy(&size, p, sizeof(size));
	mem.live_bytes -= (long long)size;
	mem.live_blocks--;
	free(p);
}

static void *count_realloc(void *ptr, size_t size)
{
	unsigned char *p, *n;
	size_t old;

	if (ptr == NULL)
		return count_malloc(size);
	p = (unsigned char *)ptr - HDR;
	memcpy(&old, p, sizeof(old));
	n = realloc(p, size + HDR);
	if (n == NULL)
		return NULL;
	memcpy(n, &size, sizeof(size));
	mem.live_bytes += (long long)size - (long long)old;
	return n + HDR;
}

/* --- memory pipes ----------------------------------------------------------- */

struct pipe {
	unsigned char buf[64 * 1024];
	size_t len;
};

/* One direction each; a side writes to tx and reads from rx. */
struct ends {
	struct pipe *rx;
	struct pipe *tx;
};

static int pipe_recv(WOLFSSL *ssl, char *out, int sz, void *ctx)
{
	struct ends *e = ctx;
	size_t n;

	(void)ssl;
	if (e->rx->len == 0)
		return WOLFSSL_CBIO_ERR_WANT_READ;
	n = (size_t)sz < e->rx->len ? (size_t)sz : e->rx->len;
	memcpy(out, e->rx->buf, n);
	memmove(e->rx->buf, e->rx->buf + n, e->rx->len - n);
	e->rx->len -= n;
	return (int)n;
}

static int pipe_send(WOLFSSL *ssl, char *in, int sz, void *ctx)
{
	struct ends *e = ctx;
	size_t room = sizeof(e->tx->buf) - e->tx->len;
	size_t n = (size_t)sz < room ? (size_t)sz : room;

	(void)ssl;
	if (n == 0)
		return WOLFSSL_CBIO_ERR_WANT_WRITE;
	memcpy(e->tx->buf + e->tx->len, in, n);
	e->tx->len += n;
	return (int)n;
}

/* --- OCSP responder stand-in ---------------------------------------------- */

/* wolfSSL asks this callback for the staple (the leaf names an OCSP URL in
 * its AIA extension); we answer with the response made by openssl. */
struct responder {
	unsigned char *der;
	int len;
	int calls;
};

static int ocsp_io(void *ctx, const char *url, int url_len,
		   unsigned char *req, int req_len, unsigned char **resp)
{
	struct responder *r = ctx;

	(void)url;
	(void)url_len;
	(void)req;
	(void)req_len;
	r->calls++;
	*resp = r->der;
	return r->len;
}

static void ocsp_io_free(void *ctx, unsigned char *resp)
{
	(void)ctx;
	(void)resp; /* owned by struct responder */
}

static unsigned char *read_file(const char *path, int *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long sz;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)sz);
		if (buf != NULL && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
			free(buf);
			buf = NULL;
		}
		*len = (int)sz;
	}
	fclose(f);
	return buf;
}

/* --- handshakes ------------------------------------------------------------- */

/* The OpenSSL-compatible route: hand wolfSSL a heap copy of the response
 * (it frees it). One responder per process, so a static pointer will do. */
static struct responder *status_resp;

static int status_cb(WOLFSSL *ssl, void *arg)
{
	unsigned char *copy;

	(void)arg;
	status_resp->calls++;
	copy = XMALLOC((size_t)status_resp->len, NULL, DYNAMIC_TYPE_OPENSSL);
	if (copy == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	memcpy(copy, status_resp->der, (size_t)status_resp->len);
	if (wolfSSL_set_tlsext_status_ocsp_resp(ssl, copy, status_resp->len) !=
	    WOLFSSL_SUCCESS) {
		XFREE(copy, NULL, DYNAMIC_TYPE_OPENSSL);
		return SSL_TLSEXT_ERR_NOACK;
	}
	return SSL_TLSEXT_ERR_OK;
}

static int use_status_cb, use_tls12;

static WOLFSSL_CTX *server_ctx(const char *ca, const char *cert,
			       const char *key, struct responder *r)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(use_tls12 ?
					   wolfTLSv1_2_server_method() :
					   wolfTLSv1_3_server_method());

	if (ctx == NULL)
		return NULL;
	if (wolfSSL_CTX_use_certificate_file(ctx, cert, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_PrivateKey_file(ctx, key, WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
		goto fail;
	if (use_status_cb) {
		/* No CA: the server neither builds a request nor verifies. */
		status_resp = r;
		if (wolfSSL_CTX_set_tlsext_status_cb(ctx, status_cb) != WOLFSSL_SUCCESS)
			goto fail;
	/* Responder route: the issuer must be known to the server, which
	 * verifies its own certificate to build the OCSP request, and checks
	 * the response against the issuer before it is stapled. */
	} else if (wolfSSL_CTX_load_verify_locations(ctx, ca, NULL) != WOLFSSL_SUCCESS ||
		   wolfSSL_CTX_EnableOCSPStapling(ctx) != WOLFSSL_SUCCESS ||
		   wolfSSL_CTX_SetOCSP_Cb(ctx, ocsp_io, ocsp_io_free, r) != WOLFSSL_SUCCESS) {
		goto fail;
	}
	/* Session caches and tickets would hold memory across handshakes and
	 * blur the per-handshake number. */
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
	wolfSSL_CTX_no_ticket_TLSv13(ctx);
	wolfSSL_CTX_SetIORecv(ctx, pipe_recv);
	wolfSSL_CTX_SetIOSend(ctx, pipe_send);
	return ctx;
fail:
	wolfSSL_CTX_free(ctx);
	return NULL;
}

static WOLFSSL_CTX *client_ctx(const char *ca)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(use_tls12 ?
					   wolfTLSv1_2_client_method() :
					   wolfTLSv1_3_client_method());

	if (ctx == NULL)
		return NULL;
	if (wolfSSL_CTX_load_verify_locations(ctx, ca, NULL) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_EnableOCSPStapling(ctx) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_EnableOCSPMustStaple(ctx) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_UseOCSPStapling(ctx, WOLFSSL_CSR_OCSP, 0) != WOLFSSL_SUCCESS)
		goto fail;
	/* This build has OPENSSL_COMPATIBLE_DEFAULTS (from --enable-distro),
	 * so a client does not verify unless told to; without verification
	 * the certificate lacks its issuer key hash and the staple cannot be
	 * matched to it. */
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
	wolfSSL_CTX_SetIORecv(ctx, pipe_recv);
	wolfSSL_CTX_SetIOSend(ctx, pipe_send);
	return ctx;
fail:
	wolfSSL_CTX_free(ctx);
	return NULL;
}

static int step_failed(WOLFSSL *ssl, int ret, const char *who)
{
	int err = wolfSSL_get_error(ssl, ret);
	char msg[WOLFSSL_MAX_ERROR_SZ];

	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
		return 0;
	fprintf(stderr, "staple_leak: %s handshake failed: %d %s\n", who, err,
		wolfSSL_ERR_error_string((unsigned long)err, msg));
	return 1;
}

static int handshake(WOLFSSL_CTX *sctx, WOLFSSL_CTX *cctx)
{
	static struct pipe c2s, s2c;
	struct ends cside = { .rx = &s2c, .tx = &c2s };
	struct ends sside = { .rx = &c2s, .tx = &s2c };
	WOLFSSL *srv = NULL, *cli = NULL;
	int sdone = 0, cdone = 0, rounds, ret, rc = -1;

	c2s.len = s2c.len = 0;
	srv = wolfSSL_new(sctx);
	cli = wolfSSL_new(cctx);
	if (srv == NULL || cli == NULL)
		goto out;
	wolfSSL_SetIOReadCtx(srv, &sside);
	wolfSSL_SetIOWriteCtx(srv, &sside);
	wolfSSL_SetIOReadCtx(cli, &cside);
	wolfSSL_SetIOWriteCtx(cli, &cside);

	for (rounds = 0; rounds < 64 && !(sdone && cdone); rounds++) {
		if (!cdone) {
			ret = wolfSSL_connect(cli);
			if (ret == WOLFSSL_SUCCESS)
				cdone = 1;
			else if (step_failed(cli, ret, "client"))
				goto out;
		}
		if (!sdone) {
			ret = wolfSSL_accept(srv);
			if (ret == WOLFSSL_SUCCESS)
				sdone = 1;
			else if (step_failed(srv, ret, "server"))
				goto out;
		}
	}
	if (!(sdone && cdone)) {
		fprintf(stderr, "staple_leak: handshake did not finish\n");
		goto out;
	}
	rc = 0;
out:
	wolfSSL_free(cli);
	wolfSSL_free(srv);
	return rc;
}

int main(int argc, char **argv)
{
	struct responder resp = { 0 };
	WOLFSSL_CTX *sctx = NULL, *cctx = NULL;
	long long warm_bytes, grown;
	int n = 200, warmup = 2, i, rc = 1;

	for (; argc > 1 && strncmp(argv[1], "--", 2) == 0; argc--, argv++) {
		if (strcmp(argv[1], "--status-cb") == 0)
			use_status_cb = 1;
		else if (strcmp(argv[1], "--tls12") == 0)
			use_tls12 = 1;
		else
			break;
	}
	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: %s [--status-cb] [--tls12] CA_PEM LEAF_PEM "
			"LEAF_KEY OCSP_RESP_DER [HANDSHAKES]\n", argv[0]);
		return 1;
	}
	if (argc == 6 && (n = atoi(argv[5])) <= 0) {
		fprintf(stderr, "staple_leak: HANDSHAKES must be positive\n");
		return 1;
	}
	resp.der = read_file(argv[4], &resp.len);
	if (resp.der == NULL) {
		fprintf(stderr, "staple_leak: cannot read %s\n", argv[4]);
		return 1;
	}

	if (wolfSSL_SetAllocators(count_malloc, count_free, count_realloc) != 0 ||
	    wolfSSL_Init() != WOLFSSL_SUCCESS) {
		fprintf(stderr, "staple_leak: wolfSSL init failed\n");
		goto out;
	}
	sctx = server_ctx(argv[1], argv[2], argv[3], &resp);
	cctx = client_ctx(argv[1]);
	if (sctx == NULL || cctx == NULL) {
		fprintf(stderr, "staple_leak: cannot set up contexts from %s, %s, %s\n",
			argv[1], argv[2], argv[3]);
		goto out;
	}

	for (i = 0; i < warmup; i++)
		if (handshake(sctx, cctx) != 0)
			goto out;
	if (resp.calls == 0) {
		fprintf(stderr, "staple_leak: server never asked for an OCSP "
			"response; nothing was stapled\n");
		goto out;
	}
	warm_bytes = mem.live_bytes;
	for (i = 0; i < n; i++)
		if (handshake(sctx, cctx) != 0)
			goto out;
	grown = mem.live_bytes - warm_bytes;
	if (use_status_cb && resp.calls != warmup + n) {
		fprintf(stderr, "staple_leak: the status callback was asked %d "
			"times in %d handshakes; the server staples a cached "
			"response\n", resp.calls, warmup + n);
		goto out;
	}

	wolfSSL_CTX_free(cctx);
	wolfSSL_CTX_free(sctx);
	cctx = sctx = NULL;
	wolfSSL_Cleanup();

	printf("handshakes:           %d stapled TLS 1.%d (+%d warm-up), "
	       "%s calls %d, staple %d bytes\n", n, use_tls12 ? 2 : 3, warmup,
	       use_status_cb ? "status callback" : "responder", resp.calls,
	       resp.len);
	printf("growth per handshake: %.1f bytes (%lld bytes over %d)\n",
	       (double)grown / n, grown, n);
	printf("left at exit:         %lld bytes in %lld blocks (%lld allocations in all)\n",
	       mem.live_bytes, mem.live_blocks, mem.allocs);
	rc = (grown > 0 || mem.live_bytes > 0) ? 3 : 0;
out:
	wolfSSL_CTX_free(cctx);
	wolfSSL_CTX_free(sctx);
	free(resp.der);
	return rc;
}

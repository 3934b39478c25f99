/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OCSP fetches over HTTP with libcurl, off the control plane's event loop:
 * one background thread takes jobs and hands results back through a queue
 * whose eventfd the loop polls. A slow or dead responder therefore never
 * stalls rampartctl requests or dataplane pushes.
 *
 * Only http:// and https:// URLs are fetched, redirects are not followed,
 * and the generic proxy variables (http_proxy, ...) are ignored; a proxy
 * is used only when RAMPART_OCSP_PROXY names one (see ocsp_fetch.c for
 * why). libcurl is initialised once, on first use, from whichever thread
 * gets there (pthread_once); curl_global_cleanup at process exit is the
 * caller's.
 */
#ifndef RAMPART_OCSP_FETCH_H
#define RAMPART_OCSP_FETCH_H

#include <stddef.h>
#include <stdint.h>

#define OCSP_FETCH_MAX_RESPONSE (64u << 10)

/*
 * One blocking fetch: HTTP POST of the DER request (Content-Type
 * application/ocsp-request) to url, bounded by timeout_ms and by
 * OCSP_FETCH_MAX_RESPONSE. Returns 0 with a malloc'd body in *resp, or
 * -errno with a sentence naming the URL and what failed (connect refused,
 * timeout, HTTP status, wrong content type, too large).
 */
int ocsp_fetch(const char *url, const uint8_t *req, size_t req_len,
	       int timeout_ms, uint8_t **resp, size_t *resp_len,
	       char *err, size_t errlen);

struct ocsp_fetcher;

struct ocsp_fetch_result {
	char key[72];           /* the caller's key (a certificate fingerprint) */
	int rc;                 /* 0 or -errno from ocsp_fetch */
	char err[256];
	uint8_t *der;           /* malloc'd when rc == 0 */
	size_t len;
};

/* Start the thread. NULL on failure. Control-plane main thread. */
struct ocsp_fetcher *ocsp_fetcher_start(int timeout_ms);

/* Queue a fetch (url and req are copied). Returns 0 or -ENOMEM/-EBUSY
 * (a job with the same key is already queued or running; a result
 * waiting in the queue does not count), -EINVAL (empty request, key
 * longer than 71 bytes). Control-plane main thread. */
int ocsp_fetcher_submit(struct ocsp_fetcher *f, const char *key,
			const char *url, const uint8_t *req, size_t req_len);

/* An fd that polls readable while results are waiting. */
int ocsp_fetcher_fd(const struct ocsp_fetcher *f);

/* Take one finished result: returns 1 and fills *out (free with
 * ocsp_fetch_result_free), or 0 when none is waiting. */
int ocsp_fetcher_poll(struct ocsp_fetcher *f, struct ocsp_fetch_result *out);

void ocsp_fetch_result_free(struct ocsp_fetch_result *r);

/* Stop the thread (waits for a fetch in progress, bounded by its timeout)
 * and free everything. */
void ocsp_fetcher_stop(struct ocsp_fetcher *f);

#endif /* RAMPART_OCSP_FETCH_H */

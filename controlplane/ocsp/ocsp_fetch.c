/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Network policy, decided once here for every fetch:
 *
 * - Only http and https, for the first URL and any redirect target. The
 *   URL comes from a certificate's AIA extension, which the operator did
 *   not write; file://, ftp://, ldap:// and friends must not be reachable
 *   through it.
 * - Redirects are not followed: OCSP responders answer in place (RFC 6960
 *   A.1), and curl would turn the POST into a GET on 301/302 anyway. A 3xx
 *   is reported as an HTTP status error naming the code.
 * - No proxy from the generic environment (http_proxy, HTTPS_PROXY,
 *   ALL_PROXY). Those are set for interactive tools and apt, leak into a
 *   --foreground run from an operator's shell but not into the service, and
 *   would silently send the list of certificates this node serves through
 *   a third party. A proxy is used only when set deliberately in
 *   RAMPART_OCSP_PROXY (a curl proxy string, e.g. http://proxy:3128), read
 *   once at the first fetch.
 * - CURLOPT_NOSIGNAL: the fetch runs in a thread of a daemon that owns its
 *   signals; curl must not arm SIGALRM for DNS timeouts.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ocsp_fetch.h"

#define OCSP_CT_REQUEST   "application/ocsp-request"
#define OCSP_CT_RESPONSE  "application/ocsp-response"
#define OCSP_PROXY_ENV    "RAMPART_OCSP_PROXY"

static pthread_once_t ocsp_once = PTHREAD_ONCE_INIT;
static CURLcode ocsp_init_rc = CURLE_FAILED_INIT;
static char ocsp_proxy[512];

/*
 * curl_global_init is not thread-safe before 7.84 and the daemon may
 * fetch from its fetcher thread; pthread_once makes the first fetch (or
 * fetcher start) do it exactly once, whichever thread gets there. The
 * process calls curl_global_cleanup at exit if it wants a leak-free exit.
 */
static void
ocsp_global_init(void)
{
	const char *proxy = getenv(OCSP_PROXY_ENV);

	if (proxy != NULL && strlen(proxy) < sizeof(ocsp_proxy))
		strcpy(ocsp_proxy, proxy);
	ocsp_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct ocsp_body {
	uint8_t *p;
	size_t len, cap;
	bool too_big;
};

static size_t
ocsp_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ocsp_body *b = arg;
	size_t n = size * nmemb;
	size_t cap;
	uint8_t *p;

	if (n > OCSP_FETCH_MAX_RESPONSE - b->len) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		if (cap > OCSP_FETCH_MAX_RESPONSE)
			cap = OCSP_FETCH_MAX_RESPONSE;
		p = realloc(b->p, cap);
		if (p == NULL)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return n;
}

/* Lets ocsp_fetcher_stop cut a fetch short instead of waiting out its
 * whole timeout; curl calls this at least once a second while idle. */
static int
ocsp_xfer_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
	     curl_off_t ultotal, curl_off_t ulnow)
{
	const atomic_bool *abort = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(abort) ? 1 : 0;
}

static bool
ocsp_ct_ok(const char *ct)
{
	size_t n = strlen(OCSP_CT_RESPONSE);

	if (ct == NULL || strncasecmp(ct, OCSP_CT_RESPONSE, n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static int
ocsp_setopts(CURL *c, const char *url, const uint8_t *req, size_t req_len,
	     int timeout_ms, struct curl_slist *hdrs, struct ocsp_body *body,
	     const atomic_bool *abort, char *curl_err)
{
	CURLcode rc = CURLE_OK;

#define SET(opt, val) \
	do { if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_ERRORBUFFER, curl_err);
	SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROXY, ocsp_proxy);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req_len);
	SET(CURLOPT_POSTFIELDS, (const char *)req);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_USERAGENT, "rampart-controlplane");
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)OCSP_FETCH_MAX_RESPONSE);
	SET(CURLOPT_WRITEFUNCTION, ocsp_write_cb);
	SET(CURLOPT_WRITEDATA, body);
	if (abort != NULL) {
		SET(CURLOPT_XFERINFOFUNCTION, ocsp_xfer_cb);
		SET(CURLOPT_XFERINFODATA, (void *)abort);
		SET(CURLOPT_NOPROGRESS, 0L);
	}
#undef SET
	return rc == CURLE_OK ? 0 : -ENOMEM;
}

/* Map a failed transfer to -errno and the sentence the operator sees. */
static int
ocsp_explain(CURL *c, CURLcode res, const char *url, int timeout_ms,
	     const struct ocsp_body *body, const char *curl_err,
	     char *err, size_t errlen)
{
	long code = 0, oserr = 0;
	const char *detail = curl_err[0] ? curl_err : curl_easy_strerror(res);

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	switch (res) {
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		/* A large error page is the status's fault, not the size's. */
		if (code != 200 && code != 0) {
			snprintf(err, errlen, "OCSP fetch from %s failed: HTTP "
				 "status %ld (expected 200)", url, code);
			return -EPROTO;
		}
		if (res == CURLE_FILESIZE_EXCEEDED || body->too_big) {
			snprintf(err, errlen, "OCSP fetch from %s failed: "
				 "response larger than %u bytes", url,
				 OCSP_FETCH_MAX_RESPONSE);
			return -EFBIG;
		}
		snprintf(err, errlen, "OCSP fetch from %s failed: out of memory",
			 url);
		return -ENOMEM;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(err, errlen, "OCSP fetch from %s failed: no complete "
			 "answer within %d ms", url, timeout_ms);
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		if (oserr == ECONNREFUSED) {
			snprintf(err, errlen, "OCSP fetch from %s failed: "
				 "connection refused", url);
			return -ECONNREFUSED;
		}
		snprintf(err, errlen, "OCSP fetch from %s failed: cannot "
			 "connect (%s)", url, detail);
		return -EHOSTUNREACH;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		snprintf(err, errlen, "OCSP fetch from %s failed: cannot "
			 "resolve the host name (%s)", url, detail);
		return -EHOSTUNREACH;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		snprintf(err, errlen, "OCSP fetch from %s failed: not an http:// "
			 "or https:// URL", url);
		return -EINVAL;
	case CURLE_ABORTED_BY_CALLBACK:
		snprintf(err, errlen, "OCSP fetch from %s cancelled: the fetcher "
			 "is stopping", url);
		return -ECANCELED;
	case CURLE_OUT_OF_MEMORY:
		snprintf(err, errlen, "OCSP fetch from %s failed: out of memory",
			 url);
		return -ENOMEM;
	default:
		snprintf(err, errlen, "OCSP fetch from %s failed: %s", url,
			 detail);
		return -EIO;
	}
}

static int
ocsp_fetch_abortable(const char *url, const uint8_t *req, size_t req_len,
		     int timeout_ms, const atomic_bool *abort, uint8_t **resp,
		     size_t *resp_len, char *err, size_t errlen)
{
	char curl_err[CURL_ERROR_SIZE] = "";
	struct ocsp_body body = { 0 };
	struct curl_slist *hdrs = NULL, *h;
	const char *ct = NULL;
	long code = 0;
	CURLcode res;
	CURL *c;
	int rc;

	*resp = NULL;
	*resp_len = 0;
	pthread_once(&ocsp_once, ocsp_global_init);
	if (ocsp_init_rc != CURLE_OK) {
		snprintf(err, errlen, "OCSP fetch from %s failed: libcurl did "
			 "not initialise (%s)", url,
			 curl_easy_strerror(ocsp_init_rc));
		return -EIO;
	}
	if (timeout_ms <= 0 || req == NULL || req_len == 0) {
		/* With no body curl would read the POST data from stdin. */
		snprintf(err, errlen, "OCSP fetch from %s: needs a request and "
			 "a positive timeout", url);
		return -EINVAL;
	}
	c = curl_easy_init();
	if (c == NULL)
		goto nomem;
	/* No "Expect: 100-continue" round trip for a small POST. */
	h = curl_slist_append(hdrs, "Content-Type: " OCSP_CT_REQUEST);
	if (h == NULL)
		goto nomem_curl;
	hdrs = h;
	h = curl_slist_append(hdrs, "Expect:");
	if (h == NULL)
		goto nomem_curl;
	hdrs = h;
	rc = ocsp_setopts(c, url, req, req_len, timeout_ms, hdrs, &body, abort,
			  curl_err);
	if (rc != 0)
		goto nomem_curl;

	res = curl_easy_perform(c);
	if (res != CURLE_OK) {
		rc = ocsp_explain(c, res, url, timeout_ms, &body, curl_err, err,
				  errlen);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		snprintf(err, errlen, "OCSP fetch from %s failed: HTTP status "
			 "%ld (expected 200)", url, code);
		rc = -EPROTO;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	if (!ocsp_ct_ok(ct)) {
		snprintf(err, errlen, "OCSP fetch from %s failed: content type "
			 "'%s', expected " OCSP_CT_RESPONSE, url,
			 ct ? ct : "(none)");
		rc = -EBADMSG;
		goto out;
	}
	if (body.len == 0) {
		snprintf(err, errlen, "OCSP fetch from %s failed: empty "
			 "response", url);
		rc = -EBADMSG;
		goto out;
	}
	*resp = body.p;
	*resp_len = body.len;
	body.p = NULL;
	rc = 0;
out:
	free(body.p);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc;
nomem_curl:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
nomem:
	snprintf(err, errlen, "OCSP fetch from %s failed: out of memory", url);
	return -ENOMEM;
}

int
ocsp_fetch(const char *url, const uint8_t *req, size_t req_len,
	   int timeout_ms, uint8_t **resp, size_t *resp_len,
	   char *err, size_t errlen)
{
	return ocsp_fetch_abortable(url, req, req_len, timeout_ms, NULL, resp,
				    resp_len, err, errlen);
}

/* ---- background fetcher ---- */

/* A job becomes its own result: the result slot is allocated at submit,
 * so the thread never meets an allocation failure it cannot report. */
struct ocsp_job {
	struct ocsp_job *next;
	struct ocsp_fetch_result r;
	char *url;
	uint8_t *req;
	size_t req_len;
};

struct ocsp_fetcher {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* Under lock. */
	struct ocsp_job *jobs, **jobs_tail;
	struct ocsp_job *running;
	struct ocsp_job *done, **done_tail;
	bool stopping;
	/* Read by curl's progress callback, which must not take the lock. */
	atomic_bool abort;
	int efd;
	int timeout_ms;
};

static void
ocsp_job_free(struct ocsp_job *j)
{
	if (j == NULL)
		return;
	ocsp_fetch_result_free(&j->r);
	free(j->url);
	free(j->req);
	free(j);
}

static void
ocsp_job_list_free(struct ocsp_job *j)
{
	struct ocsp_job *next;

	for (; j != NULL; j = next) {
		next = j->next;
		ocsp_job_free(j);
	}
}

/* Under lock: results are waiting exactly while the eventfd counter is
 * non-zero, so a level-triggered poll never spins and never misses one. */
static void
ocsp_done_push(struct ocsp_fetcher *f, struct ocsp_job *j)
{
	uint64_t one = 1;
	ssize_t n;

	j->next = NULL;
	*f->done_tail = j;
	f->done_tail = &j->next;
	/* Cannot fail: the counter stays far below its 2^64-2 limit. */
	n = write(f->efd, &one, sizeof(one));
	(void)n;
}

static void *
ocsp_fetcher_main(void *arg)
{
	struct ocsp_fetcher *f = arg;
	struct ocsp_job *j;

	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->stopping && f->jobs == NULL)
			pthread_cond_wait(&f->wake, &f->lock);
		if (f->stopping)
			break;
		j = f->jobs;
		f->jobs = j->next;
		if (f->jobs == NULL)
			f->jobs_tail = &f->jobs;
		f->running = j;
		pthread_mutex_unlock(&f->lock);

		j->r.rc = ocsp_fetch_abortable(j->url, j->req, j->req_len,
					       f->timeout_ms, &f->abort,
					       &j->r.der, &j->r.len, j->r.err,
					       sizeof(j->r.err));
		free(j->url);
		free(j->req);
		j->url = NULL;
		j->req = NULL;

		pthread_mutex_lock(&f->lock);
		f->running = NULL;
		if (f->stopping) {
			ocsp_job_free(j);
			break;
		}
		ocsp_done_push(f, j);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

struct ocsp_fetcher *
ocsp_fetcher_start(int timeout_ms)
{
	struct ocsp_fetcher *f;
	sigset_t all, old;
	int rc;

	if (timeout_ms <= 0)
		return NULL;
	pthread_once(&ocsp_once, ocsp_global_init);
	if (ocsp_init_rc != CURLE_OK)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->jobs_tail = &f->jobs;
	f->done_tail = &f->done;
	f->timeout_ms = timeout_ms;
	atomic_init(&f->abort, false);
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->efd < 0)
		goto err_free;
	if (pthread_mutex_init(&f->lock, NULL) != 0)
		goto err_efd;
	if (pthread_cond_init(&f->wake, NULL) != 0)
		goto err_lock;
	/* The daemon handles signals in its main loop; the fetcher thread
	 * must never be the one the kernel picks to deliver them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&f->thread, NULL, ocsp_fetcher_main, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		goto err_cond;
	return f;

err_cond:
	pthread_cond_destroy(&f->wake);
err_lock:
	pthread_mutex_destroy(&f->lock);
err_efd:
	close(f->efd);
err_free:
	free(f);
	return NULL;
}

static bool
ocsp_key_busy(const struct ocsp_fetcher *f, const char *key)
{
	const struct ocsp_job *j;

	if (f->running != NULL && strcmp(f->running->r.key, key) == 0)
		return true;
	for (j = f->jobs; j != NULL; j = j->next)
		if (strcmp(j->r.key, key) == 0)
			return true;
	return false;
}

int
ocsp_fetcher_submit(struct ocsp_fetcher *f, const char *key,
		    const char *url, const uint8_t *req, size_t req_len)
{
	struct ocsp_job *j;
	int rc = 0;

	if (key == NULL || url == NULL || req == NULL || req_len == 0 ||
	    strlen(key) >= sizeof(j->r.key))
		return -EINVAL;
	/* Copy outside the lock: the main loop should not hold it across
	 * malloc, nor make the fetcher thread wait on that. */
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return -ENOMEM;
	strcpy(j->r.key, key);
	j->url = strdup(url);
	j->req = malloc(req_len);
	if (j->url == NULL || j->req == NULL) {
		ocsp_job_free(j);
		return -ENOMEM;
	}
	memcpy(j->req, req, req_len);
	j->req_len = req_len;

	pthread_mutex_lock(&f->lock);
	if (f->stopping) {
		rc = -ESHUTDOWN;
	} else if (ocsp_key_busy(f, key)) {
		rc = -EBUSY;
	} else {
		*f->jobs_tail = j;
		f->jobs_tail = &j->next;
		pthread_cond_signal(&f->wake);
	}
	pthread_mutex_unlock(&f->lock);
	if (rc != 0)
		ocsp_job_free(j);
	return rc;
}

int
ocsp_fetcher_fd(const struct ocsp_fetcher *f)
{
	return f->efd;
}

int
ocsp_fetcher_poll(struct ocsp_fetcher *f, struct ocsp_fetch_result *out)
{
	struct ocsp_job *j;
	uint64_t cnt;
	ssize_t n;

	pthread_mutex_lock(&f->lock);
	j = f->done;
	if (j == NULL) {
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	f->done = j->next;
	if (f->done == NULL) {
		f->done_tail = &f->done;
		/* Last one taken: the fd stops polling readable. The counter
		 * is >= 1 here, so the read cannot fail. */
		n = read(f->efd, &cnt, sizeof(cnt));
		(void)n;
	}
	pthread_mutex_unlock(&f->lock);
	*out = j->r;
	j->r.der = NULL;
	ocsp_job_free(j);
	return 1;
}

void
ocsp_fetch_result_free(struct ocsp_fetch_result *r)
{
	if (r == NULL)
		return;
	free(r->der);
	r->der = NULL;
	r->len = 0;
}

void
ocsp_fetcher_stop(struct ocsp_fetcher *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	atomic_store(&f->abort, true);
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);

	ocsp_job_list_free(f->jobs);
	ocsp_job_list_free(f->done);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	close(f->efd);
	free(f);
}

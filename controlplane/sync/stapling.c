/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * OCSP stapling: when to fetch (controlplane/ocsp/ocsp_policy.h), what a
 * response means (crypto/ocsp.h), and keeping the dataplane's staple
 * cache and the state directory's ocsp/ files in step with it. Fetches run
 * on the fetcher's thread; everything here runs on the event loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "crypto/ocsp.h"
#include "controlplane/server/daemon.h"
#include "dpsync.h"

static const char *const status_names[] = {
	[CP_OCSP_NONE] = "none",
	[CP_OCSP_GOOD] = "good",
	[CP_OCSP_REVOKED] = "revoked",
	[CP_OCSP_UNKNOWN] = "unknown",
	[CP_OCSP_ERROR] = "error",
};

static struct cp_ocsp *
find_fp(struct cp *cp, const char *fp)
{
	unsigned int i;

	for (i = 0; i < cp->n_ocsp; i++)
		if (strcmp(cp->ocsp[i].fp, fp) == 0)
			return &cp->ocsp[i];
	return NULL;
}

static int
push_staple(struct cp *cp, struct cp_ocsp *e)
{
	char err[CP_ERR_MAX];
	size_t b64len = sodium_base64_ENCODED_LEN(e->staple.len,
			sodium_base64_VARIANT_ORIGINAL);
	json_t *req, *resp;
	char *b64;
	int rc;

	if (!dps_up(&cp->dp))
		return -ENOTCONN;
	b64 = malloc(b64len);
	if (b64 == NULL)
		return -ENOMEM;
	sodium_bin2base64(b64, b64len, e->staple.der, e->staple.len,
			  sodium_base64_VARIANT_ORIGINAL);
	req = json_pack("{s:s, s:s, s:s, s:s, s:I}", "op", "staple_set",
			"fingerprint", e->fp, "cert", e->cert, "der", b64,
			"next_update", (json_int_t)e->staple.next_update);
	free(b64);
	if (req == NULL)
		return -ENOMEM;
	rc = dps_call(&cp->dp, req, &resp, DPS_CALL_MS, err, sizeof(err));
	json_decref(req);
	json_decref(resp);
	e->stapled = rc == 0;
	if (rc != 0)
		cp_log("warn", "OCSP staple not pushed", "cert=%s error=%s",
		       e->cert, cp_q(err));
	return rc;
}

static void
withdraw(struct cp *cp, struct cp_ocsp *e, bool forget_files)
{
	char err[CP_ERR_MAX];
	json_t *req, *resp;

	if (e->stapled && dps_up(&cp->dp)) {
		req = json_pack("{s:s, s:s}", "op", "staple_del",
				"fingerprint", e->fp);
		if (req != NULL &&
		    dps_call(&cp->dp, req, &resp, DPS_CALL_MS, err,
			     sizeof(err)) == 0)
			json_decref(resp);
		json_decref(req);
	}
	e->stapled = false;
	free(e->staple.der);
	memset(&e->staple, 0, sizeof(e->staple));
	if (forget_files)
		store_staple_del(cp->opt.state_dir, e->fp);
}

/* A new entry for certificate c, picking up a staple a previous run kept
 * if it may still be served. */
static void
entry_init(struct cp *cp, struct cp_ocsp *e, const struct store_cert *c)
{
	uint64_t now = cp_now();
	char err[CP_ERR_MAX];

	memset(e, 0, sizeof(*e));
	snprintf(e->cert, sizeof(e->cert), "%s", c->name);
	snprintf(e->fp, sizeof(e->fp), "%s", c->info.fingerprint);
	snprintf(e->url, sizeof(e->url), "%s", c->info.ocsp_url);
	e->next_fetch = now;
	if (store_staple_load(cp->opt.state_dir, e->fp, &e->staple, err,
			      sizeof(err)) != 0)
		return;
	if (!ocsp_staple_usable(e->staple.next_update, now)) {
		free(e->staple.der);
		memset(&e->staple, 0, sizeof(e->staple));
		store_staple_del(cp->opt.state_dir, e->fp);
		return;
	}
	e->status = CP_OCSP_GOOD;
	e->next_fetch = ocsp_next_refresh(&cp->opt.ocsp, e->staple.fetched_at,
					  e->staple.this_update,
					  e->staple.next_update);
	cp_log("info", "OCSP staple kept from the previous run", "cert=%s "
	       "next_update=%llu", e->cert,
	       (unsigned long long)e->staple.next_update);
}

void
cp_ocsp_reconcile(struct cp *cp)
{
	struct cp_ocsp *next;
	unsigned int i, j, n = 0;

	next = calloc(cp->st->n_certs + 1, sizeof(*next));
	if (next == NULL) {
		cp_log("error", "out of memory tracking OCSP", NULL);
		return;
	}
	for (i = 0; i < cp->st->n_certs; i++) {
		const struct store_cert *c = &cp->st->certs[i];
		struct cp_ocsp *old = find_fp(cp, c->info.fingerprint);

		if (c->info.ocsp_url[0] == '\0')
			continue;
		if (old != NULL && strcmp(old->cert, c->name) == 0) {
			next[n] = *old;
			/* Moved: the old table must not free it. */
			old->staple.der = NULL;
			old->fp[0] = '\0';
		} else {
			entry_init(cp, &next[n], c);
		}
		n++;
	}
	for (j = 0; j < cp->n_ocsp; j++) {
		if (cp->ocsp[j].fp[0] != '\0')
			withdraw(cp, &cp->ocsp[j], true);
		free(cp->ocsp[j].staple.der);
	}
	free(cp->ocsp);
	cp->ocsp = next;
	cp->n_ocsp = n;
}

void
cp_ocsp_drop(struct cp *cp, const char *name)
{
	unsigned int i;

	for (i = 0; i < cp->n_ocsp; i++) {
		if (strcmp(cp->ocsp[i].cert, name) != 0)
			continue;
		withdraw(cp, &cp->ocsp[i], true);
		memmove(&cp->ocsp[i], &cp->ocsp[i + 1],
			(cp->n_ocsp - i - 1) * sizeof(cp->ocsp[i]));
		cp->n_ocsp--;
		return;
	}
}

/* A fetch or check failed: the held staple (if any) stays served until
 * its next_update; cp_ocsp_tick withdraws it then. */
static void
failed(struct cp *cp, struct cp_ocsp *e, const char *why)
{
	uint64_t now = cp_now();

	snprintf(e->last_error, sizeof(e->last_error), "%s", why);
	e->next_fetch = ocsp_next_retry(&cp->opt.ocsp, now,
					e->staple.next_update);
	if (e->staple.der == NULL && e->status != CP_OCSP_REVOKED)
		e->status = CP_OCSP_ERROR;
	cp_log("warn", "OCSP fetch failed", "cert=%s responder=%s "
	       "stapled=%s error=%s", e->cert, cp_q(e->url),
	       e->staple.der ? "yes" : "no", cp_q(why));
}

static void
submit(struct cp *cp, struct cp_ocsp *e)
{
	const struct store_cert *c = store_cert_find(cp->st, e->cert);
	char err[CP_ERR_MAX];
	uint8_t *req;
	size_t len;
	int rc;

	if (c == NULL)
		return;
	if (cp->fetcher == NULL) {
		failed(cp, e, "the OCSP fetcher is not running");
		return;
	}
	rc = ocsp_build_request(c->chain_pem, &req, &len, err, sizeof(err));
	if (rc != 0) {
		failed(cp, e, err);
		return;
	}
	rc = ocsp_fetcher_submit(cp->fetcher, e->fp, e->url, req, len);
	free(req);
	if (rc == 0 || rc == -EBUSY) {
		e->in_flight = true;
		return;
	}
	snprintf(err, sizeof(err), "cannot queue the fetch: %s",
		 strerror(-rc));
	failed(cp, e, err);
}

void
cp_ocsp_tick(struct cp *cp)
{
	uint64_t now = cp_now();
	unsigned int i;

	for (i = 0; i < cp->n_ocsp; i++) {
		struct cp_ocsp *e = &cp->ocsp[i];

		if (e->staple.der != NULL &&
		    !ocsp_staple_usable(e->staple.next_update, now)) {
			cp_log("warn", "OCSP staple expired; withdrawn",
			       "cert=%s next_update=%llu last_error=%s",
			       e->cert,
			       (unsigned long long)e->staple.next_update,
			       cp_q(e->last_error));
			withdraw(cp, e, true);
			if (e->status == CP_OCSP_GOOD)
				e->status = e->last_error[0] ? CP_OCSP_ERROR :
					    CP_OCSP_NONE;
		}
		if (!e->in_flight && now >= e->next_fetch)
			submit(cp, e);
	}
}

static void
on_good(struct cp *cp, struct cp_ocsp *e, struct ocsp_fetch_result *r,
	const struct ocsp_result *res)
{
	struct store_staple st = { 0 };
	uint64_t now = cp_now();
	char err[CP_ERR_MAX];

	st.der = r->der;
	st.len = r->len;
	r->der = NULL;
	st.fetched_at = now;
	st.this_update = (uint64_t)res->this_update;
	/* Without a nextUpdate the response is served for at most one
	 * max-refresh period (ocsp_policy.h). */
	st.next_update = res->next_update > 0 ? (uint64_t)res->next_update :
			 now + cp->opt.ocsp.max_refresh_s;
	if (store_staple_save(cp->opt.state_dir, e->fp, &st, err,
			      sizeof(err)) != 0)
		cp_log("warn", "OCSP staple not persisted", "cert=%s error=%s",
		       e->cert, cp_q(err));
	free(e->staple.der);
	e->staple = st;
	e->status = CP_OCSP_GOOD;
	e->last_error[0] = '\0';
	e->next_fetch = ocsp_next_refresh(&cp->opt.ocsp, now, st.this_update,
					  (uint64_t)res->next_update);
	cp_log("info", "OCSP staple updated", "cert=%s this_update=%llu "
	       "next_update=%llu next_refresh=%llu", e->cert,
	       (unsigned long long)st.this_update,
	       (unsigned long long)st.next_update,
	       (unsigned long long)e->next_fetch);
	if (dps_up(&cp->dp) && cp->dp.synced)
		push_staple(cp, e);
}

static void
on_result(struct cp *cp, struct ocsp_fetch_result *r)
{
	struct cp_ocsp *e = find_fp(cp, r->key);
	const struct store_cert *c;
	struct ocsp_result res;
	uint64_t now = cp_now();
	char err[CP_ERR_MAX], when[32];
	struct tm tm;

	if (e == NULL)
		return;                 /* the certificate went away */
	e->in_flight = false;
	c = store_cert_find(cp->st, e->cert);
	if (c == NULL)
		return;
	if (r->rc != 0) {
		failed(cp, e, r->err);
		return;
	}
	if (ocsp_check_response(c->chain_pem, r->der, r->len, (time_t)now,
				&res, err, sizeof(err)) != 0) {
		failed(cp, e, err);
		return;
	}
	switch (res.status) {
	case OCSP_STATUS_GOOD:
		on_good(cp, e, r, &res);
		break;
	case OCSP_STATUS_REVOKED:
		/* Never staple a revocation; the operator has to act. */
		withdraw(cp, e, true);
		e->status = CP_OCSP_REVOKED;
		gmtime_r(&res.revoked_at, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(e->last_error, sizeof(e->last_error), "the responder "
			 "says the certificate was revoked on %s; replace it",
			 when);
		e->next_fetch = ocsp_next_refresh(&cp->opt.ocsp, now,
						  (uint64_t)res.this_update,
						  (uint64_t)res.next_update);
		cp_log("error", "certificate revoked; staple withdrawn",
		       "cert=%s fingerprint=%s revoked_at=%lld", e->cert, e->fp,
		       (long long)res.revoked_at);
		break;
	default:
		failed(cp, e, "the responder does not know this certificate "
		       "(status unknown)");
		if (e->staple.der == NULL)
			e->status = CP_OCSP_UNKNOWN;
		break;
	}
}

void
cp_ocsp_on_results(struct cp *cp)
{
	struct ocsp_fetch_result r;

	if (cp->fetcher == NULL)
		return;
	while (ocsp_fetcher_poll(cp->fetcher, &r) == 1) {
		on_result(cp, &r);
		ocsp_fetch_result_free(&r);
	}
}

int
cp_ocsp_refresh(struct cp *cp, const char *cert, char *err, size_t errlen)
{
	bool any = false;
	unsigned int i;

	if (cert != NULL && store_cert_find(cp->st, cert) == NULL) {
		snprintf(err, errlen, "certificate \"%s\" does not exist", cert);
		return -ENOENT;
	}
	for (i = 0; i < cp->n_ocsp; i++) {
		struct cp_ocsp *e = &cp->ocsp[i];

		if (cert != NULL && strcmp(e->cert, cert) != 0)
			continue;
		any = true;
		e->next_fetch = cp_now();
		if (!e->in_flight)
			submit(cp, e);
	}
	if (cert != NULL && !any) {
		snprintf(err, errlen, "certificate \"%s\" names no OCSP "
			 "responder (no AIA OCSP URL in its leaf)", cert);
		return -ENOENT;
	}
	return 0;
}

static json_t *
time_or_null(uint64_t t)
{
	return t != 0 ? json_integer((json_int_t)t) : json_null();
}

json_t *
cp_ocsp_items(const struct cp *cp)
{
	json_t *items = json_array();
	unsigned int i;

	for (i = 0; items != NULL && i < cp->n_ocsp; i++) {
		const struct cp_ocsp *e = &cp->ocsp[i];

		json_array_append_new(items, json_pack(
			"{s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:b, s:s?}",
			"cert", e->cert, "fingerprint", e->fp,
			"responder", e->url, "status", status_names[e->status],
			"this_update", time_or_null(e->staple.this_update),
			"next_update", time_or_null(e->staple.next_update),
			"next_refresh", (json_int_t)e->next_fetch,
			"stapled", e->stapled,
			"last_error", e->last_error[0] ? e->last_error : NULL));
	}
	return items;
}

void
cp_ocsp_push_all(struct cp *cp)
{
	uint64_t now = cp_now();
	unsigned int i;

	for (i = 0; i < cp->n_ocsp && dps_up(&cp->dp); i++) {
		struct cp_ocsp *e = &cp->ocsp[i];

		e->stapled = false;
		if (e->staple.der != NULL &&
		    ocsp_staple_usable(e->staple.next_update, now))
			push_staple(cp, e);
	}
}

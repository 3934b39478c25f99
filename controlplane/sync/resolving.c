/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Origin addresses (docs/CONTROL.md, "Origin addresses"). Every origin
 * with a domain and no address gets the domain's IPv4 addresses in a
 * "resolved" member of the pushed distribution; the dataplane parses them
 * into its snapshot, so no worker ever does DNS.
 *
 * A change of addresses is committed as a new generation, like any other
 * change: addresses are part of an origin's configuration, the snapshot
 * holding them is immutable, and one publication path means a worker
 * never sees an origin whose addresses belong to another generation. It
 * is rare by construction: a re-resolution that answers the same set (the
 * normal case at every TTL) pushes nothing, and the TTL is at least
 * --resolve-min-ttl.
 *
 * The last good addresses are kept through failures (the origin rarely
 * moves at the moment its name server fails) and persisted in
 * <state>/resolved.json, so a restarted control plane pushes them again
 * before its first answer instead of pushing origins with no address.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "controlplane/server/daemon.h"

#define RESOLVED_FILE "resolved.json"

/* The domain of an origin the control plane resolves, or NULL when the
 * origin has its own address. */
static const char *
origin_domain(const json_t *og)
{
	const json_t *addr = json_object_get(og, "address");

	if (addr != NULL && !json_is_null(addr))
		return NULL;
	return json_string_value(json_object_get(og, "domain"));
}

static void
on_answer(void *arg, const char *name, const struct rs_answer *a)
{
	struct cp *cp = arg;
	struct rs_entry *e = rs_table_find(&cp->resolved, name);
	char list[RS_ADDRS_MAX * 16 + 1] = "", buf[INET_ADDRSTRLEN];
	unsigned int i, failed_before;
	size_t o = 0;
	bool changed;

	if (e == NULL)
		return;         /* dropped from the configuration meanwhile */
	failed_before = e->failures;
	changed = rs_entry_answer(e, a, cp_now(), &cp->opt.resolve);
	for (i = 0; i < e->n; i++) {
		inet_ntop(AF_INET, &e->addrs[i], buf, sizeof(buf));
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
				      i ? "," : "", buf);
	}
	if (e->failures > 0) {
		cp_log("warn", e->n > 0 ? "origin domain not resolved; keeping "
		       "the last good addresses" : "origin domain not "
		       "resolved; its origins have no address",
		       "domain=%s failures=%u retry_in_s=%llu kept=%s "
		       "error=%s", e->domain, e->failures,
		       (unsigned long long)(e->next_try - e->failed_at),
		       cp_q(list), cp_q(e->last_error));
		return;
	}
	if (changed) {
		cp_log("info", "origin addresses changed", "domain=%s "
		       "addresses=%s ttl=%u", e->domain, cp_q(list), e->ttl);
		cp->resolve_dirty = true;
	} else if (failed_before > 0) {
		cp_log("info", "origin domain resolves again", "domain=%s "
		       "addresses=%s ttl=%u", e->domain, cp_q(list), e->ttl);
	}
}

static void
start_due(struct cp *cp)
{
	struct rs_answer fail;
	uint64_t now = cp_now();
	struct rs_entry *e;
	unsigned int i;
	int rc;

	if (cp->dns == NULL)
		return;
	for (i = 0; i < cp->resolved.n; i++) {
		e = &cp->resolved.e[i];
		if (!rs_entry_due(e, now))
			continue;
		/* Before the call: c-ares answers /etc/hosts names and
		 * numeric ones from inside it. */
		e->in_flight = true;
		rc = rs_dns_lookup(cp->dns, e->domain, on_answer, cp);
		if (rc != 0) {
			memset(&fail, 0, sizeof(fail));
			fail.rc = rc;
			snprintf(fail.err, sizeof(fail.err), "cannot resolve "
				 "%.200s: %s", e->domain, strerror(-rc));
			on_answer(cp, e->domain, &fail);
		}
	}
}

void
cp_resolve_reconcile(struct cp *cp)
{
	const json_t *og;
	const char *domain;
	unsigned int i;
	size_t j;

	rs_table_mark(&cp->resolved);
	for (i = 0; i < cp->st->n_dists; i++)
		json_array_foreach(json_object_get(cp->st->dists[i].obj,
						   "origins"), j, og) {
			domain = origin_domain(og);
			if (domain != NULL &&
			    rs_table_want(&cp->resolved, domain) == -ENOMEM)
				cp_log("error", "out of memory; origin domain "
				       "not resolved", "domain=%s", domain);
		}
	rs_table_sweep(&cp->resolved);
	start_due(cp);
}

static void
persist(struct cp *cp)
{
	char err[CP_ERR_MAX], *text;
	json_t *j = rs_table_save(&cp->resolved);
	int rc = -ENOMEM;

	text = j != NULL ? json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS) :
	       NULL;
	json_decref(j);
	if (text != NULL)
		rc = store_write_atomic(cp->opt.state_dir, RESOLVED_FILE, text,
					strlen(text), err, sizeof(err));
	else
		snprintf(err, sizeof(err), "out of memory");
	free(text);
	/* Only a cache for the next start: the push goes on without it. */
	if (rc != 0)
		cp_log("warn", "cannot persist the origin addresses",
		       "error=%s", cp_q(err));
}

static void
flush(struct cp *cp)
{
	char err[CP_ERR_MAX];
	struct store *next;
	bool pushed;
	int rc;

	persist(cp);
	next = store_dup(cp->st);
	if (next == NULL) {
		cp_log("error", "out of memory; origin addresses not pushed "
		       "(retried at the next tick)", NULL);
		return;
	}
	rc = cp_commit(cp, next, &pushed, err, sizeof(err));
	if (rc == 0 || rc == -EREMOTEIO)
		cp->resolve_dirty = false;
	if (rc == 0)
		cp_log("info", "origin addresses committed", "generation=%llu "
		       "pushed=%s", (unsigned long long)cp->st->generation,
		       pushed ? "yes" : "no");
	else
		cp_log("error", rc == -EREMOTEIO ? "the dataplane refused the "
		       "origin addresses" : "origin addresses not committed "
		       "(retried at the next tick)", "error=%s", cp_q(err));
}

void
cp_resolve_tick(struct cp *cp, bool tick)
{
	if (tick)
		start_due(cp);
	/* Answers that arrive together make one generation: wait for the
	 * last one in flight, or for the tick if one is slow. */
	if (cp->resolve_dirty &&
	    (tick || cp->dns == NULL || rs_dns_pending(cp->dns) == 0))
		flush(cp);
}

unsigned int
cp_resolve_pollfds(struct cp *cp, struct pollfd *p)
{
	return cp->dns != NULL ? rs_dns_pollfds(cp->dns, p, RS_DNS_FDS_MAX) : 0;
}

int
cp_resolve_timeout_ms(struct cp *cp, int max_ms)
{
	return cp->dns != NULL ? rs_dns_timeout_ms(cp->dns, max_ms) : max_ms;
}

void
cp_resolve_on_events(struct cp *cp, const struct pollfd *p, unsigned int n)
{
	if (cp->dns == NULL)
		return;
	rs_dns_process(cp->dns, p, n);
	cp_resolve_tick(cp, false);
}

static void
load(struct cp *cp)
{
	char path[CP_ERR_MAX], err[CP_ERR_MAX];
	json_error_t jerr;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", cp->opt.state_dir,
		 RESOLVED_FILE);
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		if (access(path, F_OK) == 0)
			cp_log("warn", "ignoring the saved origin addresses; "
			       "they are resolved again", "file=%s error=%s",
			       cp_q(path), cp_q(jerr.text));
		return;
	}
	if (rs_table_load(&cp->resolved, j, err, sizeof(err)) != 0) {
		rs_table_fini(&cp->resolved);
		rs_table_init(&cp->resolved);
		cp_log("warn", "ignoring the saved origin addresses; they are "
		       "resolved again", "file=%s error=%s", cp_q(path),
		       cp_q(err));
	}
	json_decref(j);
}

int
cp_resolve_start(struct cp *cp, char *err, size_t errlen)
{
	char why[CP_ERR_MAX];

	rs_table_init(&cp->resolved);
	/* A corrupt cache is not worth refusing to start over: it is
	 * derived data, resolved again within seconds. */
	load(cp);
	cp->dns = rs_dns_new(cp->opt.dns_servers, why, sizeof(why));
	if (cp->dns == NULL) {
		if (cp->opt.dns_servers != NULL) {
			snprintf(err, errlen, "--dns-server: %s", why);
			return -EINVAL;
		}
		cp_log("error", "the resolver did not start; origins named "
		       "by domain only keep the addresses saved last",
		       "error=%s", cp_q(why));
	}
	cp_resolve_reconcile(cp);
	return 0;
}

void
cp_resolve_stop(struct cp *cp)
{
	rs_dns_free(cp->dns);
	cp->dns = NULL;
	rs_table_fini(&cp->resolved);
}

json_t *
cp_resolve_annotate(const struct cp *cp, const json_t *dist)
{
	const json_t *origins = json_object_get(dist, "origins"), *og;
	const struct rs_entry *e;
	json_t *r, *arr, *c;
	const char *domain;
	size_t i;

	/* Shallow copies: the committed objects are never modified. */
	r = json_copy((json_t *)dist);
	arr = json_array();
	if (r == NULL || arr == NULL)
		goto nomem;
	json_array_foreach(origins, i, og) {
		domain = origin_domain(og);
		e = domain != NULL ? rs_table_find(&cp->resolved, domain) :
		    NULL;
		if (e == NULL || e->n == 0) {
			if (json_array_append((json_t *)arr, (json_t *)og) != 0)
				goto nomem;
			continue;
		}
		c = json_copy((json_t *)og);
		if (c == NULL ||
		    json_object_set_new(c, "resolved", rs_entry_json(e)) != 0 ||
		    json_array_append_new(arr, c) != 0)
			goto nomem;
	}
	if (json_is_array(origins) &&
	    json_object_set_new(r, "origins", arr) != 0)
		goto nomem_r;
	if (!json_is_array(origins))
		json_decref(arr);
	return r;
nomem:
	json_decref(arr);
nomem_r:
	json_decref(r);
	return NULL;
}

static json_t *
time_or_null(uint64_t t)
{
	return t != 0 ? json_integer((json_int_t)t) : json_null();
}

json_t *
cp_resolve_describe(const struct cp *cp, const json_t *dist)
{
	const json_t *og;
	const struct rs_entry *e;
	json_t *items = json_array(), *it, *res, *addrs;
	const char *domain, *status;
	size_t i;

	json_array_foreach(json_object_get(dist, "origins"), i, og) {
		domain = origin_domain(og);
		if (domain == NULL)
			continue;
		e = rs_table_find(&cp->resolved, domain);
		if (e == NULL) {
			it = json_pack("{s:O*, s:s, s:s, s:[], s:s}", "origin",
				       json_object_get(og, "id"), "domain",
				       domain, "status", "pending", "addresses",
				       "last_error", cp->dns == NULL ?
				       "the resolver did not start" :
				       "not resolved yet");
			json_array_append_new(items, it);
			continue;
		}
		if (e->failures == 0)
			status = e->n > 0 ? "ok" : "pending";
		else
			status = e->n > 0 ? "stale" : "error";
		res = rs_entry_json(e);
		addrs = res != NULL ? json_incref(json_object_get(res,
				"addresses")) : json_array();
		json_decref(res);
		it = json_pack("{s:O*, s:s, s:s, s:o*, s:o, s:o, s:o, s:o, "
			       "s:I, s:o, s:o}",
			       "origin", json_object_get(og, "id"),
			       "domain", domain, "status", status,
			       "addresses", addrs,
			       "ttl", e->n > 0 ? json_integer(e->ttl) :
			       json_null(),
			       "resolved_at", time_or_null(e->resolved_at),
			       "expires", e->n > 0 ?
			       json_integer((json_int_t)(e->resolved_at +
							 e->ttl)) : json_null(),
			       "next_try_at", e->in_flight ? json_null() :
			       time_or_null(e->next_try),
			       "failures", (json_int_t)e->failures,
			       "failed_at", time_or_null(e->failed_at),
			       "last_error", e->last_error[0] ?
			       json_string(e->last_error) : json_null());
		json_array_append_new(items, it);
	}
	return items;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rampartctl-facing operations (docs/CONTROL.md, control-plane socket
 * ops). A change is validated against the committed state, built on a
 * copy with generation + 1, persisted, and only then pushed; a dataplane
 * refusal rolls the copy back (the previous state is persisted again).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/dist/dist.h"
#include "controlplane/proto/ctlmsg.h"
#include "daemon.h"

#ifndef RAMPART_VERSION
#define RAMPART_VERSION "unknown"
#endif

/* ------------------------------------------------------------ references */

static const struct cert_info *
ref_cert(const char *name, void *arg)
{
	const struct store_cert *c = store_cert_find(arg, name);

	return c != NULL ? &c->info : NULL;
}

static bool
ref_ts(const char *name, void *arg)
{
	return store_ts_find(arg, name) != NULL;
}

static const char *
ref_alias(const char *alias, const char *self, void *arg)
{
	const struct store *s = arg;
	unsigned int i;
	size_t j;
	json_t *a;

	for (i = 0; i < s->n_dists; i++) {
		if (self != NULL && strcmp(s->dists[i].name, self) == 0)
			continue;
		json_array_foreach(json_object_get(s->dists[i].obj, "aliases"),
				   j, a)
			if (strcmp(json_string_value(a), alias) == 0)
				return s->dists[i].name;
	}
	return NULL;
}

static const char *
ref_address(const char *addr, const char *self, void *arg)
{
	const struct store *s = arg;
	const char *v;
	unsigned int i;

	for (i = 0; i < s->n_dists; i++) {
		if (self != NULL && strcmp(s->dists[i].name, self) == 0)
			continue;
		v = json_string_value(json_object_get(json_object_get(
				s->dists[i].obj, "listen"), "address"));
		if (v != NULL && strcmp(v, addr) == 0)
			return s->dists[i].name;
	}
	return NULL;
}

static const char *
ref_default(const char *self, void *arg)
{
	const struct store *s = arg;
	unsigned int i;

	for (i = 0; i < s->n_dists; i++) {
		if (self != NULL && strcmp(s->dists[i].name, self) == 0)
			continue;
		if (json_is_true(json_object_get(s->dists[i].obj, "default")))
			return s->dists[i].name;
	}
	return NULL;
}

static struct dist_refs
refs_over(const struct store *s)
{
	struct dist_refs r = {
		.cert = ref_cert,
		.truststore_exists = ref_ts,
		.alias_owner = ref_alias,
		.address_owner = ref_address,
		.default_owner = ref_default,
		.arg = (void *)s,
	};

	return r;
}

/* ------------------------------------------------------------ helpers */

static const char *
str_arg(const json_t *req, const char *key)
{
	return json_string_value(json_object_get(req, key));
}

/* An optional PEM argument: absent, null and "" all mean none. */
static const char *
opt_pem(const json_t *req, const char *key)
{
	const char *v = str_arg(req, key);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static json_t *
time_or_null(uint64_t t)
{
	return t != 0 ? json_integer((json_int_t)t) : json_null();
}

/* "a, b, c" from a JSON array of strings. */
static void
join(const json_t *arr, char *out, size_t len)
{
	size_t i, o = 0;
	json_t *v;

	out[0] = '\0';
	json_array_foreach(arr, i, v)
		o += (size_t)snprintf(out + o, o < len ? len - o : 0, "%s%s",
				      i ? ", " : "", json_string_value(v));
}

/* daemon.h. Also used by sync/resolving.c when origin addresses change. */
int
cp_commit(struct cp *cp, struct store *next, bool *pushed, char *err,
	  size_t errlen)
{
	char why[CP_ERR_MAX], why2[CP_ERR_MAX];
	int rc;

	*pushed = false;
	next->generation = cp->st->generation + 1;
	rc = store_save(next, cp->opt.state_dir, why, sizeof(why));
	if (rc != 0) {
		snprintf(err, errlen, "the change was not made: %.460s", why);
		store_free(next);
		return rc;
	}
	if (dps_up(&cp->dp) && cp->dp.synced) {
		rc = cp_push_state(cp, next, why, sizeof(why));
		if (rc == -EREMOTEIO) {
			if (store_save(cp->st, cp->opt.state_dir, why2,
				       sizeof(why2)) != 0)
				cp_log("error", "cannot restore the previous "
				       "state on disk", "error=%s", cp_q(why2));
			cp_log("warn", "change rolled back: the dataplane "
			       "refused it", "generation=%llu error=%s",
			       (unsigned long long)next->generation, cp_q(why));
			snprintf(err, errlen, "%.440s; generation %llu stays "
				 "in force", why,
				 (unsigned long long)cp->st->generation);
			store_free(next);
			return -EREMOTEIO;
		}
		*pushed = rc == 0;
	}
	store_free(cp->st);
	cp->st = next;
	cp_log("info", "change committed", "generation=%llu pushed=%s",
	       (unsigned long long)next->generation, *pushed ? "yes" : "no");
	/* A new or dropped origin domain: resolve it now, not at the tick. */
	cp_resolve_reconcile(cp);
	return 0;
}

/* Response for a committed change. */
static json_t *
changed(const struct cp *cp, bool pushed)
{
	json_t *r = ctlmsg_ok();

	json_object_set_new(r, "generation",
			    json_integer((json_int_t)cp->st->generation));
	json_object_set_new(r, "pushed", json_boolean(pushed));
	return r;
}

/* ------------------------------------------------------------ summaries */

static json_t *
cert_summary(const struct store *s, const struct store_cert *c, bool full)
{
	json_t *sans = json_array(), *o;
	unsigned int i;

	for (i = 0; sans != NULL && i < c->info.n_sans; i++)
		json_array_append_new(sans, json_string(c->info.sans[i]));
	o = json_pack("{s:s, s:o*, s:s, s:s, s:s, s:I, s:I, s:s, s:o*}",
		      "name", c->name, "sans", sans,
		      "key_type", c->info.key_type,
		      "subject", c->info.subject, "issuer", c->info.issuer,
		      "not_before", (json_int_t)c->info.not_before,
		      "not_after", (json_int_t)c->info.not_after,
		      "fingerprint", c->info.fingerprint,
		      "used_by", store_cert_users(s, c->name));
	if (o != NULL && full) {
		json_object_set_new(o, "ocsp_url", c->info.ocsp_url[0] ?
				    json_string(c->info.ocsp_url) :
				    json_null());
		json_object_set_new(o, "chain_len",
				    json_integer(c->info.chain_len));
		json_object_set_new(o, "imported", time_or_null(c->imported));
	}
	return o;
}

static json_t *
ts_summary(const struct store *s, const struct store_ts *t, bool full)
{
	json_t *o;

	o = json_pack("{s:s, s:I, s:I, s:b, s:o*}", "name", t->name,
		      "cas", (json_int_t)t->n_cas,
		      "revoked", (json_int_t)t->n_revoked,
		      "crl", t->crl_pem != NULL,
		      "used_by", store_ts_users(s, t->name));
	if (o != NULL && full) {
		json_object_set_new(o, "ca_pem", json_string(t->ca_pem));
		json_object_set_new(o, "crl_pem", t->crl_pem ?
				    json_string(t->crl_pem) : json_null());
	}
	return o;
}

static json_t *
dist_summary(const struct store_dist *d)
{
	json_t *o = d->obj, *r;

	r = json_pack("{s:s, s:O*, s:O*, s:O*, s:O*, s:I}", "name", d->name,
		      "comment", json_object_get(o, "comment") ?
		      json_object_get(o, "comment") : json_null(),
		      "enabled", json_object_get(o, "enabled"),
		      "aliases", json_object_get(o, "aliases"),
		      "certificates", json_object_get(o, "certificates"),
		      "origins", (json_int_t)json_array_size(
				json_object_get(o, "origins")));
	return r;
}

/* kind as the CLI spells it → one of "cert", "truststore",
 * "distribution"; NULL when unknown. Plural forms are accepted. */
static const char *
norm_kind(const char *k)
{
	static const char *const map[][2] = {
		{ "cert", "cert" }, { "certs", "cert" },
		{ "certificate", "cert" }, { "certificates", "cert" },
		{ "truststore", "truststore" }, { "truststores", "truststore" },
		{ "distribution", "distribution" },
		{ "distributions", "distribution" },
	};
	size_t i;

	for (i = 0; k != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(k, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

static const char *
kind_noun(const char *kind)
{
	if (strcmp(kind, "cert") == 0)
		return "certificate";
	if (strcmp(kind, "truststore") == 0)
		return "trust store";
	return "distribution";
}

/* ------------------------------------------------------------ ops */

static json_t *
op_status(struct cp *cp, const json_t *req)
{
	struct dpsync *d = &cp->dp;
	char err[CP_ERR_MAX];
	json_t *r, *dp;
	bool in_sync;

	(void)req;
	if (dps_up(d))
		dps_refresh_status(d, err, sizeof(err));
	in_sync = dps_up(d) && d->synced &&
		  strcmp(d->instance, d->synced_instance) == 0 &&
		  d->generation == cp->st->generation;
	dp = json_pack("{s:b, s:s, s:b, s:o, s:o, s:O*, s:o, s:s?}",
		       "connected", dps_up(d), "socket", d->path,
		       "in_sync", in_sync,
		       "generation", dps_up(d) ?
		       json_integer((json_int_t)d->generation) : json_null(),
		       "instance", dps_up(d) ? json_string(d->instance) :
		       json_null(),
		       "uptime_s", d->status ?
		       json_object_get(d->status, "uptime_s") : NULL,
		       "lcores", d->status && json_object_get(d->status,
		       "lcores") ? json_incref(json_object_get(d->status,
		       "lcores")) : json_null(),
		       "last_error", d->last_error[0] ? d->last_error : NULL);
	if (dp != NULL && json_object_get(dp, "uptime_s") == NULL)
		json_object_set_new(dp, "uptime_s", json_null());
	r = ctlmsg_ok();
	json_object_set_new(r, "version", json_string(RAMPART_VERSION));
	json_object_set_new(r, "uptime_s",
			    json_integer((json_int_t)(time(NULL) -
						      cp->started)));
	json_object_set_new(r, "state_dir", json_string(cp->opt.state_dir));
	json_object_set_new(r, "generation",
			    json_integer((json_int_t)cp->st->generation));
	json_object_set_new(r, "dataplane", dp);
	return r;
}

static json_t *
op_stats(struct cp *cp, const json_t *req)
{
	char err[CP_ERR_MAX];
	json_t *q, *resp;
	int rc;

	(void)req;
	if (!dps_up(&cp->dp))
		return ctlmsg_error("the dataplane is not reachable at %s: %s",
				    cp->dp.path, cp->dp.last_error[0] ?
				    cp->dp.last_error : "not connected");
	q = json_pack("{s:s}", "op", "stats");
	rc = dps_call(&cp->dp, q, &resp, DPS_CALL_MS, err, sizeof(err));
	json_decref(q);
	if (rc != 0)
		return ctlmsg_error("%s", err);
	return resp;
}

static json_t *
op_get(struct cp *cp, const json_t *req)
{
	const char *kind = norm_kind(str_arg(req, "kind"));
	json_t *items = json_array(), *r;
	unsigned int i;

	if (kind == NULL) {
		json_decref(items);
		return ctlmsg_error("get: \"kind\" must be distributions, certs "
				    "or truststores");
	}
	if (strcmp(kind, "cert") == 0)
		for (i = 0; i < cp->st->n_certs; i++)
			json_array_append_new(items, cert_summary(cp->st,
					      &cp->st->certs[i], false));
	else if (strcmp(kind, "truststore") == 0)
		for (i = 0; i < cp->st->n_tss; i++)
			json_array_append_new(items, ts_summary(cp->st,
					      &cp->st->tss[i], false));
	else
		for (i = 0; i < cp->st->n_dists; i++)
			json_array_append_new(items,
					      dist_summary(&cp->st->dists[i]));
	r = ctlmsg_ok();
	json_object_set_new(r, "items", items);
	json_object_set_new(r, "generation",
			    json_integer((json_int_t)cp->st->generation));
	return r;
}

static json_t *
op_describe(struct cp *cp, const json_t *req)
{
	const char *kind = norm_kind(str_arg(req, "kind"));
	const char *name = str_arg(req, "name");
	json_t *obj = NULL, *res = NULL, *r;

	if (kind == NULL || name == NULL)
		return ctlmsg_error("describe needs \"kind\" (distribution, "
				    "cert or truststore) and \"name\"");
	if (strcmp(kind, "cert") == 0) {
		const struct store_cert *c = store_cert_find(cp->st, name);

		if (c != NULL)
			obj = cert_summary(cp->st, c, true);
	} else if (strcmp(kind, "truststore") == 0) {
		const struct store_ts *t = store_ts_find(cp->st, name);

		if (t != NULL)
			obj = ts_summary(cp->st, t, true);
	} else {
		const struct store_dist *d = store_dist_find(cp->st, name);

		if (d != NULL) {
			obj = json_deep_copy(d->obj);
			/* Beside the object, not in it: the object stays
			 * what apply takes. */
			res = cp_resolve_describe(cp, d->obj);
		}
	}
	if (obj == NULL)
		return ctlmsg_error("%s \"%s\" does not exist", kind_noun(kind),
				    name);
	r = ctlmsg_ok();
	json_object_set_new(r, "object", obj);
	if (res != NULL)
		json_object_set_new(r, "resolution", res);
	return r;
}

static json_t *
op_apply(struct cp *cp, const json_t *req)
{
	const char *kind = str_arg(req, "kind");
	json_t *in = json_object_get(req, "object"), *norm, *r;
	struct dist_refs refs = refs_over(cp->st);
	char err[CP_ERR_MAX];
	struct store_dist *old;
	struct store *next;
	const char *name, *action;
	bool pushed;

	if (kind != NULL && strcmp(kind, "distribution") != 0)
		return ctlmsg_error("apply: kind \"%s\" cannot be applied; "
				    "only distributions are (certificates: "
				    "cert import, trust stores: truststore "
				    "create)", kind);
	if (!json_is_object(in))
		return ctlmsg_error("apply: \"object\" must be a JSON object "
				    "(a distribution)");
	norm = dist_validate(in, &refs, err, sizeof(err));
	if (norm == NULL)
		return ctlmsg_error("%s", err);
	name = json_string_value(json_object_get(norm, "name"));
	old = store_dist_find(cp->st, name);
	if (old != NULL && json_equal(old->obj, norm)) {
		r = ctlmsg_ok();
		json_object_set_new(r, "generation",
				    json_integer((json_int_t)
						 cp->st->generation));
		json_object_set_new(r, "name", json_string(name));
		json_object_set_new(r, "action", json_string("unchanged"));
		json_object_set_new(r, "pushed", json_boolean(
				dps_up(&cp->dp) && cp->dp.synced));
		json_decref(norm);
		return r;
	}
	action = old != NULL ? "updated" : "created";
	next = store_dup(cp->st);
	if (next == NULL || store_dist_put(next, name, norm) != 0) {
		store_free(next);
		json_decref(norm);
		return ctlmsg_error("out of memory");
	}
	json_decref(norm);
	if (cp_commit(cp, next, &pushed, err, sizeof(err)) != 0)
		return ctlmsg_error("%s", err);
	cp_log("info", "distribution applied", "name=%s action=%s", name,
	       action);
	r = changed(cp, pushed);
	json_object_set_new(r, "name", json_string(name));
	json_object_set_new(r, "action", json_string(action));
	return r;
}

static json_t *
op_delete(struct cp *cp, const json_t *req)
{
	const char *kind = norm_kind(str_arg(req, "kind"));
	const char *name = str_arg(req, "name");
	char err[CP_ERR_MAX], list[CP_ERR_MAX / 2];
	json_t *users = NULL;
	struct store *next;
	bool pushed;
	int rc;

	if (kind == NULL || name == NULL)
		return ctlmsg_error("delete needs \"kind\" (distribution, cert "
				    "or truststore) and \"name\"");
	if (strcmp(kind, "cert") == 0) {
		if (store_cert_find(cp->st, name) != NULL)
			users = store_cert_users(cp->st, name);
	} else if (strcmp(kind, "truststore") == 0) {
		if (store_ts_find(cp->st, name) != NULL)
			users = store_ts_users(cp->st, name);
	} else if (store_dist_find(cp->st, name) != NULL) {
		users = json_array();
	}
	if (users == NULL)
		return ctlmsg_error("%s \"%s\" does not exist", kind_noun(kind),
				    name);
	if (json_array_size(users) > 0) {
		join(users, list, sizeof(list));
		json_decref(users);
		return ctlmsg_error("%s \"%s\" is used by distribution(s) %s; "
				    "change or delete them first",
				    kind_noun(kind), name, list);
	}
	json_decref(users);
	next = store_dup(cp->st);
	if (next == NULL)
		return ctlmsg_error("out of memory");
	if (strcmp(kind, "cert") == 0)
		rc = store_cert_del(next, name);
	else if (strcmp(kind, "truststore") == 0)
		rc = store_ts_del(next, name);
	else
		rc = store_dist_del(next, name);
	(void)rc;
	if (cp_commit(cp, next, &pushed, err, sizeof(err)) != 0)
		return ctlmsg_error("%s", err);
	if (strcmp(kind, "cert") == 0)
		cp_ocsp_drop(cp, name);
	cp_log("info", "object deleted", "kind=%s name=%s", kind, name);
	return changed(cp, pushed);
}

/* The distributions using a replaced certificate or trust store must still
 * validate against the new state. */
static int
check_users(const struct store *next, const json_t *users, const char *noun,
	    const char *name, char *err, size_t errlen)
{
	struct dist_refs refs = refs_over(next);
	char why[CP_ERR_MAX];
	size_t i;
	json_t *u, *n;

	json_array_foreach(users, i, u) {
		const struct store_dist *d = store_dist_find(next,
				json_string_value(u));

		n = dist_validate(d->obj, &refs, why, sizeof(why));
		if (n == NULL) {
			snprintf(err, errlen, "replacing %s \"%s\" would break "
				 "a distribution that uses it: %.400s", noun,
				 name,
				 why);
			return -EINVAL;
		}
		json_decref(n);
	}
	return 0;
}

static json_t *
op_cert_import(struct cp *cp, const json_t *req)
{
	const char *name = str_arg(req, "name");
	const char *chain = str_arg(req, "cert_pem");
	const char *key = str_arg(req, "key_pem");
	const char *ca = opt_pem(req, "ca_pem");
	bool replace = json_is_true(json_object_get(req, "replace"));
	char err[CP_ERR_MAX], why[CP_ERR_MAX];
	struct cert_info info;
	struct store *next;
	json_t *users, *r;
	bool exists, pushed;
	int rc;

	if (name == NULL || !dist_name_valid(name))
		return ctlmsg_error("certificate \"%s\": the name must be 1-63 "
				    "of A-Z a-z 0-9 . _ - starting with a "
				    "letter or digit", name ? name : "");
	if (chain == NULL || key == NULL)
		return ctlmsg_error("certificate \"%s\": cert_pem and key_pem "
				    "are required", name);
	exists = store_cert_find(cp->st, name) != NULL;
	if (exists && !replace)
		return ctlmsg_error("certificate \"%s\" already exists; use "
				    "--replace to replace it", name);
	memset(&info, 0, sizeof(info));
	rc = cert_validate(chain, key, ca, cp->opt.ca_bundle,
			   (time_t)cp_now(), &info, why, sizeof(why));
	if (rc != 0)
		return ctlmsg_error("certificate \"%s\": %s", name, why);
	next = store_dup(cp->st);
	if (next == NULL ||
	    store_cert_put(next, cp->mk, name, chain, key, &info,
			   cp_now()) != 0) {
		cert_info_free(&info);
		store_free(next);
		return ctlmsg_error("out of memory");
	}
	users = store_cert_users(next, name);
	rc = check_users(next, users, "certificate", name, err, sizeof(err));
	json_decref(users);
	if (rc != 0) {
		cert_info_free(&info);
		store_free(next);
		return ctlmsg_error("%s", err);
	}
	if (cp_commit(cp, next, &pushed, err, sizeof(err)) != 0) {
		cert_info_free(&info);
		return ctlmsg_error("%s", err);
	}
	if (exists)
		cp_ocsp_drop(cp, name);
	cp_ocsp_reconcile(cp);
	cp_log("info", exists ? "certificate replaced" : "certificate imported",
	       "name=%s key_type=%s fingerprint=%s not_after=%lld", name,
	       cp_q(info.key_type), info.fingerprint,
	       (long long)info.not_after);
	cert_info_free(&info);
	r = changed(cp, pushed);
	json_object_set_new(r, "cert", cert_summary(cp->st,
				store_cert_find(cp->st, name), false));
	return r;
}

static json_t *
op_truststore_create(struct cp *cp, const json_t *req)
{
	const char *name = str_arg(req, "name");
	const char *ca = str_arg(req, "ca_pem");
	const char *crl = opt_pem(req, "crl_pem");
	bool replace = json_is_true(json_object_get(req, "replace"));
	char err[CP_ERR_MAX], why[CP_ERR_MAX];
	unsigned int n_cas = 0, n_revoked = 0;
	struct store *next;
	json_t *users, *r;
	bool exists, pushed;
	int rc;

	if (name == NULL || !dist_name_valid(name))
		return ctlmsg_error("trust store \"%s\": the name must be 1-63 "
				    "of A-Z a-z 0-9 . _ - starting with a "
				    "letter or digit", name ? name : "");
	if (ca == NULL)
		return ctlmsg_error("trust store \"%s\": ca_pem is required",
				    name);
	exists = store_ts_find(cp->st, name) != NULL;
	if (exists && !replace)
		return ctlmsg_error("trust store \"%s\" already exists; use "
				    "--replace to replace it", name);
	rc = truststore_validate(ca, crl, (time_t)cp_now(), &n_cas,
				 &n_revoked, why, sizeof(why));
	if (rc != 0)
		return ctlmsg_error("trust store \"%s\": %s", name, why);
	next = store_dup(cp->st);
	if (next == NULL ||
	    store_ts_put(next, name, ca, crl, n_cas, n_revoked) != 0) {
		store_free(next);
		return ctlmsg_error("out of memory");
	}
	users = store_ts_users(next, name);
	rc = check_users(next, users, "trust store", name, err, sizeof(err));
	json_decref(users);
	if (rc != 0) {
		store_free(next);
		return ctlmsg_error("%s", err);
	}
	if (cp_commit(cp, next, &pushed, err, sizeof(err)) != 0)
		return ctlmsg_error("%s", err);
	cp_log("info", exists ? "trust store replaced" : "trust store created",
	       "name=%s cas=%u revoked=%u", name, n_cas, n_revoked);
	r = changed(cp, pushed);
	json_object_set_new(r, "truststore", ts_summary(cp->st,
				store_ts_find(cp->st, name), false));
	return r;
}

static json_t *
ticket_keys(const struct cp *cp)
{
	static const char *const roles[] = {
		[TK_ENCRYPT] = "encrypt",
		[TK_DECRYPT] = "decrypt",
		[TK_PENDING] = "pending",
	};
	char id[2 * TK_ID_LEN + 1];
	json_t *keys = json_array();
	unsigned int i;

	for (i = 0; keys != NULL && i < cp->ring.n; i++) {
		tk_id_hex(cp->ring.keys[i].id, id);
		json_array_append_new(keys, json_pack("{s:s, s:s, s:I}",
				"id", id, "role", roles[cp->ring.keys[i].role],
				"created",
				(json_int_t)cp->ring.keys[i].created));
	}
	return keys;
}

static json_t *
op_tickets_status(struct cp *cp, const json_t *req)
{
	json_t *r = ctlmsg_ok();

	(void)req;
	json_object_set_new(r, "keys", ticket_keys(cp));
	json_object_set_new(r, "period_s",
			    json_integer((json_int_t)cp->ring.period_s));
	json_object_set_new(r, "next_rotation",
			    json_integer((json_int_t)cp->ring.next_rotation));
	return r;
}

static json_t *
op_tickets_rotate(struct cp *cp, const json_t *req)
{
	char err[CP_ERR_MAX], id[2 * TK_ID_LEN + 1];
	bool pushed = false;
	json_t *r;
	int rc;

	rc = tk_rotate_now(&cp->ring, cp_now(), seal_random);
	if (rc < 0)
		return ctlmsg_error("cannot make a ticket key: %s",
				    strerror(-rc));
	tk_id_hex(cp->ring.keys[0].id, id);
	cp_log("info", "ticket key added on request", "id=%s", id);
	if (cp_tickets_persist(cp, err, sizeof(err)) != 0)
		return ctlmsg_error("the new ticket key was not saved: %s",
				    err);
	if (dps_up(&cp->dp) && cp->dp.synced) {
		rc = cp_tickets_sync(cp, err, sizeof(err));
		if (rc == -EREMOTEIO)
			return ctlmsg_error("the dataplane refused the ticket "
					    "keys: %s", err);
		pushed = rc == 0;
	}
	r = op_tickets_status(cp, req);
	json_object_set_new(r, "pushed", json_boolean(pushed));
	return r;
}

static json_t *
op_ocsp_status(struct cp *cp, const json_t *req)
{
	json_t *r = ctlmsg_ok();

	(void)req;
	json_object_set_new(r, "items", cp_ocsp_items(cp));
	return r;
}

static json_t *
op_ocsp_refresh(struct cp *cp, const json_t *req)
{
	char err[CP_ERR_MAX];

	if (cp_ocsp_refresh(cp, str_arg(req, "cert"), err, sizeof(err)) != 0)
		return ctlmsg_error("%s", err);
	return op_ocsp_status(cp, req);
}

static const struct {
	const char *name;
	json_t *(*fn)(struct cp *cp, const json_t *req);
} ops[] = {
	{ "status", op_status },
	{ "stats", op_stats },
	{ "apply", op_apply },
	{ "get", op_get },
	{ "describe", op_describe },
	{ "delete", op_delete },
	{ "cert_import", op_cert_import },
	{ "truststore_create", op_truststore_create },
	{ "tickets_rotate", op_tickets_rotate },
	{ "tickets_status", op_tickets_status },
	{ "ocsp_status", op_ocsp_status },
	{ "ocsp_refresh", op_ocsp_refresh },
};

json_t *
cp_handle(struct cp *cp, const json_t *req)
{
	const char *op = str_arg(req, "op");
	size_t i;

	if (op == NULL)
		return ctlmsg_error("the request has no \"op\" string");
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, ops[i].name) == 0)
			return ops[i].fn(cp, req);
	return ctlmsg_error("unknown op \"%.64s\"; see docs/CONTROL.md for "
			    "the control plane's ops", op);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the dataplane holds from us: the state (one transaction per
 * generation), the ticket ring and the staples, pushed on every change and
 * again in full whenever the dataplane is new (restart: another instance)
 * or holds another generation than the one we gave it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "controlplane/server/daemon.h"
#include "dpsync.h"

static int
remaining_ms(uint64_t deadline)
{
	uint64_t now = cp_mono_ms();

	return now >= deadline ? 1 : (int)(deadline - now);
}

/* One call that must succeed; resp is dropped. */
static int
call_simple(struct cp *cp, json_t *req, uint64_t deadline, char *err,
	    size_t errlen)
{
	json_t *resp;
	int rc;

	if (req == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = dps_call(&cp->dp, req, &resp, remaining_ms(deadline), err,
		      errlen);
	json_decref(req);
	json_decref(resp);
	return rc;
}

/* The certificate as the dataplane takes it, its key in clear (the socket
 * is local and permission-checked). The caller wipes it with wipe_key. */
static json_t *
cert_object(struct cp *cp, const struct store_cert *c, char *err,
	    size_t errlen)
{
	json_t *sans = json_array(), *o;
	unsigned int i;
	size_t klen;
	char *key;

	key = store_cert_key(c, cp->mk, &klen, err, errlen);
	if (key == NULL) {
		json_decref(sans);
		return NULL;
	}
	for (i = 0; sans != NULL && i < c->info.n_sans; i++)
		json_array_append_new(sans, json_string(c->info.sans[i]));
	o = json_pack("{s:s, s:s%, s:s, s:s, s:o*}",
		      "chain_pem", c->chain_pem, "key_pem", key, klen,
		      "key_type", c->info.key_type,
		      "fingerprint", c->info.fingerprint, "sans", sans);
	seal_wipe(key, klen);
	free(key);
	if (o == NULL)
		snprintf(err, errlen, "out of memory");
	return o;
}

/* jansson keeps its own copy of a string; wipe that before it is freed. */
static void
wipe_member(json_t *o, const char *key)
{
	json_t *s = json_object_get(o, key);

	if (json_is_string(s))
		seal_wipe((char *)json_string_value(s), json_string_length(s));
}

static int
put(struct cp *cp, const char *kind, const char *name, json_t *obj,
    uint64_t deadline, char *err, size_t errlen)
{
	json_t *req;

	req = json_pack("{s:s, s:s, s:s, s:O}", "op", "txn_put", "kind", kind,
			"name", name, "object", obj);
	return call_simple(cp, req, deadline, err, errlen);
}

int
cp_push_state(struct cp *cp, const struct store *s, char *err,
	      size_t errlen)
{
	uint64_t deadline = cp_mono_ms() + DPS_CALL_MS;
	char why[CP_ERR_MAX];
	unsigned int i;
	json_t *o;
	int rc;

	if (!dps_up(&cp->dp)) {
		snprintf(err, errlen, "the dataplane is not reachable at %s: %s",
			 cp->dp.path, cp->dp.last_error);
		return -ENOTCONN;
	}
	/* A change pushed before the first status poll still needs the
	 * instance it went to. */
	if (cp->dp.instance[0] == '\0') {
		rc = dps_refresh_status(&cp->dp, err, errlen);
		if (rc != 0)
			return rc;
	}
	rc = call_simple(cp, json_pack("{s:s}", "op", "txn_begin"), deadline,
			 why, sizeof(why));
	for (i = 0; rc == 0 && i < s->n_certs; i++) {
		o = cert_object(cp, &s->certs[i], why, sizeof(why));
		if (o == NULL) {
			rc = -EIO;
			break;
		}
		rc = put(cp, "certificate", s->certs[i].name, o, deadline, why,
			 sizeof(why));
		wipe_member(o, "key_pem");
		json_decref(o);
	}
	for (i = 0; rc == 0 && i < s->n_tss; i++) {
		o = json_pack("{s:s, s:s?}", "ca_pem", s->tss[i].ca_pem,
			      "crl_pem", s->tss[i].crl_pem);
		rc = o ? put(cp, "truststore", s->tss[i].name, o, deadline, why,
			     sizeof(why)) : -ENOMEM;
		json_decref(o);
	}
	for (i = 0; rc == 0 && i < s->n_dists; i++) {
		/* With the addresses of origins named by domain only. */
		o = cp_resolve_annotate(cp, s->dists[i].obj);
		if (o == NULL) {
			snprintf(why, sizeof(why), "out of memory");
			rc = -ENOMEM;
			break;
		}
		rc = put(cp, "distribution", s->dists[i].name, o, deadline,
			 why, sizeof(why));
		json_decref(o);
	}
	if (rc == 0)
		rc = call_simple(cp, json_pack("{s:s, s:I}", "op", "txn_commit",
					       "generation",
					       (json_int_t)s->generation),
				 deadline, why, sizeof(why));
	if (rc == 0) {
		snprintf(cp->dp.synced_instance, sizeof(cp->dp.synced_instance),
			 "%s", cp->dp.instance);
		cp->dp.synced_generation = s->generation;
		cp->dp.generation = s->generation;
		cp->dp.synced = true;
		cp_log("info", "state pushed", "generation=%llu instance=%s",
		       (unsigned long long)s->generation, cp->dp.instance);
		return 0;
	}
	if (dps_up(&cp->dp)) {
		char ignore[64];

		call_simple(cp, json_pack("{s:s}", "op", "txn_abort"),
			    cp_mono_ms() + 1000, ignore, sizeof(ignore));
	}
	if (rc == -EREMOTEIO || rc == -EIO)
		snprintf(err, errlen, "the dataplane refused it: %s", why);
	else
		snprintf(err, errlen, "%s", why);
	return rc == -EIO ? -EREMOTEIO : rc;
}

/* ------------------------------------------------------------ tickets */

static void
hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
push_ring(struct cp *cp, char *err, size_t errlen)
{
	char id[2 * TK_ID_LEN + 1], secret[2 * TK_SECRET_LEN + 1];
	json_t *keys = json_array(), *req, *k;
	unsigned int i;
	size_t j;
	int rc;

	for (i = 0; keys != NULL && i < cp->ring.n; i++) {
		const struct tk_key *key = &cp->ring.keys[i];

		hex(key->id, TK_ID_LEN, id);
		hex(key->secret, TK_SECRET_LEN, secret);
		json_array_append_new(keys, json_pack("{s:s, s:s, s:b}",
				"id", id, "secret", secret,
				"encrypt", key->role == TK_ENCRYPT));
	}
	seal_wipe(secret, sizeof(secret));
	req = json_pack("{s:s, s:O}", "op", "tickets_set", "keys", keys);
	if (req == NULL) {
		json_decref(keys);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = call_simple(cp, json_incref(req), cp_mono_ms() + DPS_CALL_MS,
			 err, errlen);
	json_array_foreach(keys, j, k)
		wipe_member(k, "secret");
	json_decref(keys);
	json_decref(req);
	return rc;
}

static bool
ring_pending(const struct tk_ring *r)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (r->keys[i].role == TK_PENDING)
			return true;
	return false;
}

int
cp_tickets_persist(struct cp *cp, char *err, size_t errlen)
{
	int rc;

	rc = store_tickets_save(cp->opt.state_dir, cp->mk, &cp->ring, err,
				errlen);
	if (rc != 0)
		cp_log("error", "cannot persist the ticket keys", "error=%s",
		       cp_q(err));
	return rc;
}

int
cp_tickets_sync(struct cp *cp, char *err, size_t errlen)
{
	char id[2 * TK_ID_LEN + 1];
	int rc;

	rc = push_ring(cp, err, errlen);
	if (rc != 0 || !ring_pending(&cp->ring))
		return rc;
	/* Every worker can now open tickets of the pending key: it may
	 * start encrypting. */
	tk_promote(&cp->ring, cp_now());
	cp_tickets_persist(cp, err, errlen);
	rc = push_ring(cp, err, errlen);
	tk_id_hex(cp->ring.keys[0].id, id);
	if (rc == 0)
		cp_log("info", "ticket key promoted", "id=%s keys=%u", id,
		       cp->ring.n);
	return rc;
}

/* ------------------------------------------------------------ the tick */

static void
push_full(struct cp *cp)
{
	char err[CP_ERR_MAX];
	struct dpsync *d = &cp->dp;
	bool refused_before = strcmp(d->refused_instance, d->instance) == 0 &&
			      d->refused_generation == cp->st->generation;
	int rc = 0;

	if (cp->st->generation > 0 && !refused_before) {
		rc = cp_push_state(cp, cp->st, err, sizeof(err));
		if (rc == -EREMOTEIO) {
			/* Retrying the same refusal every second helps no
			 * one; a new change or a new instance retries. */
			cp_log("error", "the dataplane refused the state",
			       "generation=%llu error=%s",
			       (unsigned long long)cp->st->generation,
			       cp_q(err));
			cp_strlcpy(d->last_error, err,
				   sizeof(d->last_error));
			snprintf(d->refused_instance,
				 sizeof(d->refused_instance), "%s",
				 d->instance);
			d->refused_generation = cp->st->generation;
		} else if (rc != 0) {
			return;
		}
	}
	if (rc != 0 || cp->st->generation == 0 || refused_before) {
		snprintf(d->synced_instance, sizeof(d->synced_instance), "%s",
			 d->instance);
		d->synced_generation = d->generation;
		d->synced = true;
	}
	rc = cp_tickets_sync(cp, err, sizeof(err));
	if (rc != 0) {
		cp_log("warn", "ticket keys not pushed", "error=%s", cp_q(err));
		return;
	}
	cp_ocsp_push_all(cp);
}

void
cp_sync_tick(struct cp *cp)
{
	struct dpsync *d = &cp->dp;
	char err[CP_ERR_MAX];
	uint64_t now = cp_now();
	int act;

	act = tk_tick(&cp->ring, now, seal_random);
	if (act < 0) {
		cp_log("error", "ticket key rotation failed", "error=%s",
		       cp_q(strerror(-act)));
	} else if (act != TK_NOTHING) {
		char id[2 * TK_ID_LEN + 1];

		tk_id_hex(cp->ring.keys[0].id, id);
		cp_log("info", act == TK_PUSH_PENDING ? "ticket key added" :
		       "first ticket key created", "id=%s", id);
		cp_tickets_persist(cp, err, sizeof(err));
		if (dps_up(d) && d->synced &&
		    cp_tickets_sync(cp, err, sizeof(err)) != 0)
			cp_log("warn", "ticket keys not pushed", "error=%s",
			       cp_q(err));
	}

	if (!dps_up(d) && !dps_connect(d, false))
		return;
	if (cp_mono_ms() < d->next_status_ms)
		return;
	if (dps_refresh_status(d, err, sizeof(err)) != 0)
		return;
	if (!d->synced || strcmp(d->instance, d->synced_instance) != 0 ||
	    d->generation != d->synced_generation) {
		if (d->synced)
			cp_log("info", "dataplane changed; pushing everything",
			       "instance=%s generation=%llu", d->instance,
			       (unsigned long long)d->generation);
		push_full(cp);
	}
}

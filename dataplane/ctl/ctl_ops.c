/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cfg/hex.h"
#include "controlplane/proto/ctlmsg.h"
#include "ctl_ops.h"
#include "stats/stats.h"
#include "tls/tls_ctx.h"

/* Objects staged on one connection, by kind, each a JSON object mapping
 * a name to what txn_put sent. Closing the connection drops them. */
struct ctl_txn {
	json_t *certs;
	json_t *stores;
	json_t *dists;
};

static void
txn_free(struct ctl_txn *t)
{
	if (t == NULL)
		return;
	/* Certificates carry private keys in clear. */
	json_decref(t->certs);
	json_decref(t->stores);
	json_decref(t->dists);
	free(t);
}

void
ctl_dp_conn_closed(struct ctl_conn *c, void *arg)
{
	void **data = ctl_conn_data(c);

	(void)arg;
	txn_free(*data);
	*data = NULL;
}

/* Add results to an ok response; any failure turns it into NULL (out of
 * memory), which the server answers for us. */
static json_t *
ok_with(json_t *resp, int rc)
{
	if (rc != 0) {
		json_decref(resp);
		return NULL;
	}
	return resp;
}

/* ---------------------------------------------------------------- status */

static json_t *
op_status(struct ctl_conn *c, const json_t *req, void *arg)
{
	const struct ctl_dp *dp = arg;
	const struct cfg_snapshot *snap = cfg_snapshot_current(&dp->live->snap);
	const struct cfg_ticket_ring *ring =
		cfg_ticket_ring_current(&dp->live->tickets);
	json_t *resp = ctlmsg_ok(), *workers = json_array();
	struct timespec now;
	char inst[17];
	unsigned int i;
	int rc = resp == NULL || workers == NULL ? -ENOMEM : 0;

	(void)c;
	(void)req;
	clock_gettime(CLOCK_MONOTONIC, &now);
	snprintf(inst, sizeof(inst), "%016" PRIx64, dp->instance);
	for (i = 0; rc == 0 && i < dp->nb_workers; i++)
		rc = json_array_append_new(workers,
				json_integer(dp->workers[i]->lcore_id));
	if (rc != 0) {
		json_decref(workers);
		json_decref(resp);
		return NULL;
	}
	rc = json_object_update_new(resp, json_pack(
		"{s:s, s:I, s:I, s:i, s:o, s:o, s:i, s:i, s:i, s:i, s:I}",
		"instance", inst,
		"generation", (json_int_t)(snap ? cfg_snapshot_generation(snap) :
					   0),
		"uptime_s", (json_int_t)(now.tv_sec - dp->started.tv_sec),
		"lcores", (int)dp->nb_lcores,
		"workers", workers,
		"ports", stats_ports_json(dp->workers, dp->nb_workers,
					  dp->ports, dp->nb_ports),
		"distributions", snap ? (int)cfg_snapshot_nb_dists(snap) : 0,
		"certificates", snap ? (int)cfg_snapshot_nb_certs(snap) : 0,
		"truststores", snap ? (int)cfg_snapshot_nb_truststores(snap) : 0,
		"ticket_keys", ring ? (int)ring->nb_keys : 0,
		"staples", (json_int_t)cfg_staples_count(dp->live->staples)));
	return ok_with(resp, rc);
}

static json_t *
op_stats(struct ctl_conn *c, const json_t *req, void *arg)
{
	const struct ctl_dp *dp = arg;
	json_t *resp = ctlmsg_ok();

	(void)c;
	(void)req;
	if (resp == NULL)
		return NULL;
	return ok_with(resp, stats_json(resp, dp->workers, dp->nb_workers,
					dp->ports, dp->nb_ports));
}

/* ---------------------------------------------------------------- transactions */

static json_t *
op_txn_begin(struct ctl_conn *c, const json_t *req, void *arg)
{
	struct ctl_txn **t = (struct ctl_txn **)ctl_conn_data(c);

	(void)req;
	(void)arg;
	if (*t != NULL)
		return ctlmsg_error("a transaction is already open on this "
				    "connection; commit or abort it first");
	*t = calloc(1, sizeof(**t));
	if (*t == NULL)
		return NULL;
	(*t)->certs = json_object();
	(*t)->stores = json_object();
	(*t)->dists = json_object();
	if ((*t)->certs == NULL || (*t)->stores == NULL ||
	    (*t)->dists == NULL) {
		txn_free(*t);
		*t = NULL;
		return NULL;
	}
	return ctlmsg_ok();
}

static json_t *
op_txn_put(struct ctl_conn *c, const json_t *req, void *arg)
{
	struct ctl_txn *t = *(struct ctl_txn **)ctl_conn_data(c);
	const json_t *kind = json_object_get(req, "kind");
	const json_t *name = json_object_get(req, "name");
	json_t *obj = json_object_get(req, "object"), *into;
	const char *k;

	(void)arg;
	if (t == NULL)
		return ctlmsg_error("no transaction is open on this connection; "
				    "send txn_begin first");
	k = json_is_string(kind) ? json_string_value(kind) : "";
	if (strcmp(k, "certificate") == 0)
		into = t->certs;
	else if (strcmp(k, "truststore") == 0)
		into = t->stores;
	else if (strcmp(k, "distribution") == 0)
		into = t->dists;
	else
		return ctlmsg_error("txn_put: \"kind\" must be certificate, "
				    "truststore or distribution");
	if (!json_is_string(name) || json_string_length(name) == 0)
		return ctlmsg_error("txn_put: \"name\" must be a non-empty "
				    "string");
	if (!json_is_object(obj))
		return ctlmsg_error("txn_put: %s \"%.64s\": \"object\" must be "
				    "a JSON object", k,
				    json_string_value(name));
	/* Staging the same name again replaces it: the last put wins. */
	if (json_object_set(into, json_string_value(name), obj) != 0)
		return NULL;
	return ctlmsg_ok();
}

static json_t *
op_txn_commit(struct ctl_conn *c, const json_t *req, void *arg)
{
	struct ctl_txn **t = (struct ctl_txn **)ctl_conn_data(c);
	const json_t *gen = json_object_get(req, "generation");
	struct ctl_dp *dp = arg;
	struct cfg_snapshot *s;
	char err[512];

	if (*t == NULL)
		return ctlmsg_error("no transaction is open on this connection; "
				    "send txn_begin first");
	if (!json_is_integer(gen) || json_integer_value(gen) <= 0)
		return ctlmsg_error("txn_commit: \"generation\" must be an "
				    "integer greater than 0");
	/* Built here, off the workers; they keep serving the running
	 * snapshot until the pointer swap. The transaction ends either
	 * way: a refused commit leaves nothing half-staged behind. */
	s = cfg_snapshot_build((uint64_t)json_integer_value(gen), (*t)->certs,
			       (*t)->stores, (*t)->dists, err, sizeof(err));
	txn_free(*t);
	*t = NULL;
	if (s == NULL)
		return ctlmsg_error("generation %" JSON_INTEGER_FORMAT
				    " refused: %s", json_integer_value(gen),
				    err);
	/* wolfSSL parses every key and chain here, still off the workers;
	 * what it refuses refuses the whole generation. */
	if (tls_snapshot_build(s, dp->nb_workers, dp->live,
			       dp->origin_ca_bundle, err, sizeof(err)) != 0) {
		cfg_snapshot_put(s);
		return ctlmsg_error("generation %" JSON_INTEGER_FORMAT
				    " refused: %s", json_integer_value(gen),
				    err);
	}
	cfg_snapshot_publish(&dp->live->snap, s);
	return json_pack("{s:b, s:I}", "ok", 1, "generation",
			 json_integer_value(gen));
}

static json_t *
op_txn_abort(struct ctl_conn *c, const json_t *req, void *arg)
{
	struct ctl_txn **t = (struct ctl_txn **)ctl_conn_data(c);

	(void)req;
	(void)arg;
	if (*t == NULL)
		return ctlmsg_error("no transaction is open on this connection");
	txn_free(*t);
	*t = NULL;
	return ctlmsg_ok();
}

/* ---------------------------------------------------------------- tickets */

static json_t *
op_tickets_set(struct ctl_conn *c, const json_t *req, void *arg)
{
	struct ctl_dp *dp = arg;
	struct cfg_ticket_ring *r;
	unsigned int n;
	char err[256];

	(void)c;
	r = cfg_ticket_ring_from_json(json_object_get(req, "keys"), err,
				      sizeof(err));
	if (r == NULL)
		return ctlmsg_error("tickets_set: %s", err);
	n = r->nb_keys;
	/* Returns after the grace period: answering now tells the control
	 * plane that every worker can decrypt with the new ring. */
	cfg_ticket_ring_publish(&dp->live->tickets, r);
	return json_pack("{s:b, s:i}", "ok", 1, "keys", (int)n);
}

static json_t *
op_tickets_get(struct ctl_conn *c, const json_t *req, void *arg)
{
	struct ctl_dp *dp = arg;
	const struct cfg_ticket_ring *r =
		cfg_ticket_ring_current(&dp->live->tickets);
	json_t *keys = json_array();
	char id[CFG_TICKET_ID_LEN * 2 + 1];
	unsigned int i;

	(void)c;
	(void)req;
	if (keys == NULL)
		return NULL;
	for (i = 0; r != NULL && i < r->nb_keys; i++) {
		cfg_hex_encode(r->keys[i].id, CFG_TICKET_ID_LEN, id);
		if (json_array_append_new(keys, json_pack("{s:s, s:b}", "id",
				id, "encrypt", r->keys[i].encrypt)) != 0) {
			json_decref(keys);
			return NULL;
		}
	}
	return json_pack("{s:b, s:o}", "ok", 1, "keys", keys);
}

/* ---------------------------------------------------------------- staples */

static int
req_fingerprint(const json_t *req, uint8_t fp[CFG_FINGERPRINT_LEN])
{
	const json_t *v = json_object_get(req, "fingerprint");

	if (!json_is_string(v))
		return -EINVAL;
	return cfg_hex_decode(json_string_value(v), fp, CFG_FINGERPRINT_LEN);
}

static json_t *
op_staple_set(struct ctl_conn *c, const json_t *req, void *arg)
{
	struct ctl_dp *dp = arg;
	const json_t *cert = json_object_get(req, "cert");
	const json_t *der = json_object_get(req, "der");
	const json_t *nu = json_object_get(req, "next_update");
	uint8_t fp[CFG_FINGERPRINT_LEN], *bin;
	size_t cap, len;
	int rc;

	(void)c;
	if (req_fingerprint(req, fp) != 0)
		return ctlmsg_error("staple_set: \"fingerprint\" must be 64 hex "
				    "digits (SHA-256 of the leaf)");
	if (!json_is_string(cert) || json_string_length(cert) == 0 ||
	    json_string_length(cert) > CFG_NAME_MAX)
		return ctlmsg_error("staple_set: \"cert\" must be a certificate "
				    "name");
	if (!json_is_integer(nu))
		return ctlmsg_error("staple_set: \"next_update\" must be unix "
				    "seconds");
	if (json_integer_value(nu) <= (json_int_t)time(NULL))
		return ctlmsg_error("staple_set: the staple of certificate "
				    "\"%s\" expired (next_update is in the "
				    "past); fetch a fresh response",
				    json_string_value(cert));
	if (!json_is_string(der) || json_string_length(der) == 0)
		return ctlmsg_error("staple_set: \"der\" must be the base64 of "
				    "the OCSP response");
	cap = json_string_length(der) / 4 * 3 + 3;
	bin = malloc(cap);
	if (bin == NULL)
		return NULL;
	if (sodium_base642bin(bin, cap, json_string_value(der),
			      json_string_length(der), NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len == 0) {
		free(bin);
		return ctlmsg_error("staple_set: \"der\" is not valid base64");
	}
	rc = cfg_staples_set(dp->live->staples, fp, json_string_value(cert),
			     bin, len, json_integer_value(nu));
	free(bin);
	if (rc == -EINVAL)
		return ctlmsg_error("staple_set: the response of %zu bytes is "
				    "empty or larger than 64 KiB", len);
	return rc == 0 ? ctlmsg_ok() : NULL;
}

static json_t *
op_staple_del(struct ctl_conn *c, const json_t *req, void *arg)
{
	struct ctl_dp *dp = arg;
	uint8_t fp[CFG_FINGERPRINT_LEN];

	(void)c;
	if (req_fingerprint(req, fp) != 0)
		return ctlmsg_error("staple_del: \"fingerprint\" must be 64 hex "
				    "digits (SHA-256 of the leaf)");
	if (cfg_staples_del(dp->live->staples, fp) != 0)
		return ctlmsg_error("staple_del: no staple is held for "
				    "fingerprint %s",
				    json_string_value(json_object_get(req,
							"fingerprint")));
	return ctlmsg_ok();
}

static int
staple_item(const struct cfg_staple *s, void *arg)
{
	char fp[CFG_FINGERPRINT_LEN * 2 + 1];

	cfg_hex_encode(s->fingerprint, CFG_FINGERPRINT_LEN, fp);
	return json_array_append_new(arg, json_pack("{s:s, s:s, s:I, s:I}",
			"fingerprint", fp, "cert", s->cert,
			"bytes", (json_int_t)s->len,
			"next_update", (json_int_t)s->next_update));
}

static json_t *
op_staples_get(struct ctl_conn *c, const json_t *req, void *arg)
{
	struct ctl_dp *dp = arg;
	json_t *items = json_array();

	(void)c;
	(void)req;
	if (items == NULL)
		return NULL;
	if (cfg_staples_foreach(dp->live->staples, staple_item, items) != 0) {
		json_decref(items);
		return NULL;
	}
	return json_pack("{s:b, s:o}", "ok", 1, "items", items);
}

const struct ctl_op ctl_dp_ops[] = {
	{ "status", op_status },
	{ "stats", op_stats },
	{ "txn_begin", op_txn_begin },
	{ "txn_put", op_txn_put },
	{ "txn_commit", op_txn_commit },
	{ "txn_abort", op_txn_abort },
	{ "tickets_set", op_tickets_set },
	{ "tickets_get", op_tickets_get },
	{ "staple_set", op_staple_set },
	{ "staple_del", op_staple_del },
	{ "staples_get", op_staples_get },
	{ NULL, NULL },
};

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Commands that change or show the desired state: apply, get, describe,
 * delete, cert import, truststore create.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rctl.h"

struct rctl_kind {
	const char *list;       /* `get` kind on the wire */
	const char *one;        /* describe/delete kind on the wire */
	const char *label;      /* in sentences */
};

enum { KIND_DIST, KIND_CERT, KIND_TRUSTSTORE };

static const struct rctl_kind kinds[] = {
	[KIND_DIST] = { "distributions", "distribution", "distribution" },
	[KIND_CERT] = { "certs", "cert", "certificate" },
	[KIND_TRUSTSTORE] = { "truststores", "truststore", "trust store" },
};

/* What an operator may type; the wire always gets the canonical kind. */
static const struct {
	const char *word;
	int kind;
} kind_words[] = {
	{ "distributions", KIND_DIST }, { "distribution", KIND_DIST },
	{ "dist", KIND_DIST }, { "dists", KIND_DIST },
	{ "certs", KIND_CERT }, { "cert", KIND_CERT },
	{ "certificates", KIND_CERT }, { "certificate", KIND_CERT },
	{ "truststores", KIND_TRUSTSTORE }, { "truststore", KIND_TRUSTSTORE },
};

static int
parse_kind(const struct rctl_cmd *cmd, const char *word, bool plural)
{
	size_t i;

	for (i = 0; i < sizeof(kind_words) / sizeof(kind_words[0]); i++)
		if (strcmp(kind_words[i].word, word) == 0)
			return kind_words[i].kind;
	if (plural)
		rctl_usage_error(cmd->kw, "unknown kind '%s': expected "
				 "distributions, certs or truststores", word);
	else
		rctl_usage_error(cmd->kw, "unknown kind '%s': expected "
				 "distribution, cert or truststore", word);
	return -1;
}

/* First of the members (dotted paths) that is present and not null. */
static const json_t *
pick(const json_t *item, const char *a, const char *b)
{
	const json_t *v = rctl_get_path(item, a);

	if ((v == NULL || json_is_null(v)) && b != NULL)
		v = rctl_get_path(item, b);
	return json_is_null(v) ? NULL : v;
}

static const char *
fmt_count(const json_t *v, char *buf, size_t len)
{
	if (json_is_array(v))
		snprintf(buf, len, "%zu", json_array_size(v));
	else
		rctl_fmt_scalar(v, buf, len);
	return buf;
}

/* "CN=Example CA 2, O=Example" -> "Example CA 2": the column shows who,
 * describe shows the whole name. */
static const char *
fmt_cn(const json_t *v, char *buf, size_t len)
{
	const char *s = json_string_value(v), *cn;
	size_t n;

	if (s == NULL || s[0] == '\0')
		return rctl_fmt_scalar(v, buf, len);
	cn = strstr(s, "CN=");
	if (cn == NULL)
		return rctl_fmt_scalar(v, buf, len);
	cn += 3;
	n = strcspn(cn, ",/");
	snprintf(buf, len, "%.*s", (int)n, cn);
	return buf;
}

/* The optional columns of `get distributions`: shown when at least one
 * item carries the member (the summary in docs/CONTROL.md may omit them). */
static bool dist_policy_col, dist_mtls_col;

static void
dist_row(struct rctl_table *t, const json_t *it)
{
	const json_t *certs = pick(it, "certificates", "certs");
	const json_t *mtls = pick(it, "mtls", "tls.mtls");
	const json_t *ts;
	char b[1024];

	rctl_table_cell(t, "%s", rctl_fmt_scalar(pick(it, "name", NULL), b,
						 sizeof(b)));
	rctl_table_cell(t, "%s", rctl_fmt_list(pick(it, "aliases", NULL), 2,
					       b, sizeof(b)));
	if (json_is_object(certs)) {
		const json_t *ec = json_object_get(certs, "ecdsa");
		const json_t *rsa = json_object_get(certs, "rsa");

		snprintf(b, sizeof(b), "%s%s%s",
			 json_is_string(ec) ? json_string_value(ec) : "",
			 json_is_string(ec) && json_is_string(rsa) ? "," : "",
			 json_is_string(rsa) ? json_string_value(rsa) : "");
		rctl_table_cell(t, "%s", b[0] ? b : "-");
	} else {
		rctl_table_cell(t, "%s", rctl_fmt_list(certs, 2, b, sizeof(b)));
	}
	if (dist_policy_col)
		rctl_table_cell(t, "%s", rctl_fmt_scalar(
			pick(it, "security_policy", "tls.security_policy"),
			b, sizeof(b)));
	if (!dist_mtls_col) {
		/* no MTLS column */
	} else if (json_is_object(mtls)) {
		ts = json_object_get(mtls, "trust_store");
		rctl_fmt_scalar(json_object_get(mtls, "mode"), b, sizeof(b));
		if (json_is_string(ts) && strcmp(b, "off") != 0) {
			size_t n = strlen(b);

			snprintf(b + n, sizeof(b) - n, ":%s",
				 json_string_value(ts));
		}
	} else {
		rctl_fmt_scalar(mtls, b, sizeof(b));
	}
	if (dist_mtls_col)
		rctl_table_cell(t, "%s", b);
	rctl_table_cell(t, "%s", fmt_count(pick(it, "origins", NULL), b,
					   sizeof(b)));
	rctl_table_cell(t, "%s", rctl_fmt_scalar(pick(it, "enabled", NULL),
						 b, sizeof(b)));
	/* Comments may be 256 bytes: the table shows their start. */
	rctl_fmt_scalar(pick(it, "comment", NULL), b, sizeof(b));
	if (strlen(b) > 40)
		strcpy(b + 37, "...");
	rctl_table_cell(t, "%s", b);
}

static void
cert_row(struct rctl_table *t, const json_t *it)
{
	char b[1024];

	rctl_table_cell(t, "%s", rctl_fmt_scalar(pick(it, "name", NULL), b,
						 sizeof(b)));
	rctl_table_cell(t, "%s", rctl_fmt_scalar(pick(it, "key_type", "type"),
						 b, sizeof(b)));
	rctl_table_cell(t, "%s", rctl_fmt_list(pick(it, "sans", NULL), 2, b,
					       sizeof(b)));
	rctl_table_cell(t, "%s", fmt_cn(pick(it, "issuer", NULL), b,
					sizeof(b)));
	rctl_table_cell(t, "%s", rctl_fmt_time(pick(it, "not_after",
						    "expires"), b, sizeof(b)));
	rctl_table_cell(t, "%s", rctl_fmt_list(pick(it, "used_by",
						    "distributions"), 3,
					       b, sizeof(b)));
}

static void
truststore_row(struct rctl_table *t, const json_t *it)
{
	const json_t *crl = pick(it, "crl_next_update", "crl");
	const json_t *revoked = pick(it, "revoked", NULL);
	char b[1024];

	rctl_table_cell(t, "%s", rctl_fmt_scalar(pick(it, "name", NULL), b,
						 sizeof(b)));
	rctl_table_cell(t, "%s", fmt_count(pick(it, "cas", "ca_count"), b,
					   sizeof(b)));
	/* CRL: its nextUpdate when the daemon gives one, else yes/no. */
	if (json_is_integer(crl))
		rctl_fmt_time(crl, b, sizeof(b));
	else if (json_is_object(crl))
		rctl_fmt_time(json_object_get(crl, "next_update"), b,
			      sizeof(b));
	else if (json_is_false(crl) || crl == NULL)
		snprintf(b, sizeof(b), "-");
	else
		rctl_fmt_scalar(crl, b, sizeof(b));
	rctl_table_cell(t, "%s", b);
	if (revoked == NULL && json_is_object(crl))
		revoked = json_object_get(crl, "revoked");
	rctl_table_cell(t, "%s", fmt_count(revoked, b, sizeof(b)));
	rctl_table_cell(t, "%s", rctl_fmt_list(pick(it, "used_by",
						    "distributions"), 3,
					       b, sizeof(b)));
}

static const struct {
	unsigned int ncols;
	const char *const heads[8];
	void (*row)(struct rctl_table *t, const json_t *item);
} kind_tables[] = {
	[KIND_DIST] = { 8, { "NAME", "ALIASES", "CERTS", "POLICY", "MTLS",
			     "ORIGINS", "ENABLED", "COMMENT" }, dist_row },
	[KIND_CERT] = { 6, { "NAME", "TYPE", "SANS", "ISSUER", "EXPIRES",
			     "USED-BY" }, cert_row },
	[KIND_TRUSTSTORE] = { 5, { "NAME", "CAS", "CRL", "REVOKED",
				   "USED-BY" }, truststore_row },
};

static void
print_items(int kind, const json_t *items)
{
	struct rctl_table t;
	const json_t *it;
	unsigned int i;
	size_t j;

	if (kind == KIND_DIST) {
		dist_policy_col = dist_mtls_col = false;
		json_array_foreach(items, j, it) {
			if (pick(it, "security_policy", "tls.security_policy"))
				dist_policy_col = true;
			if (pick(it, "mtls", "tls.mtls"))
				dist_mtls_col = true;
		}
	}
	rctl_table_init(&t, kind_tables[kind].ncols -
			(kind == KIND_DIST ? !dist_policy_col + !dist_mtls_col :
			 0));
	for (i = 0; i < kind_tables[kind].ncols; i++) {
		const char *h = kind_tables[kind].heads[i];

		if (kind == KIND_DIST &&
		    ((!dist_policy_col && strcmp(h, "POLICY") == 0) ||
		     (!dist_mtls_col && strcmp(h, "MTLS") == 0)))
			continue;
		rctl_table_cell(&t, "%s", h);
	}
	json_array_foreach(items, j, it)
		if (json_is_object(it))
			kind_tables[kind].row(&t, it);
	rctl_table_print(&t, stdout);
	rctl_table_free(&t);
}

int
rctl_cmd_get(struct rctl *c, const struct rctl_cmd *cmd)
{
	int kind = parse_kind(cmd, cmd->pos[0], true), rc;
	const json_t *items;
	json_t *resp;

	if (kind < 0)
		return RCTL_USAGE;
	rc = rctl_call(c, json_pack("{s:s, s:s}", "op", "get", "kind",
				    kinds[kind].list), &resp);
	if (rc != RCTL_OK)
		return rc;
	if (c->json) {
		rctl_print_json(resp);
	} else {
		items = json_object_get(resp, "items");
		if (json_array_size(items) == 0)
			fprintf(stderr, "no %ss\n", kinds[kind].label);
		else
			print_items(kind, items);
	}
	json_decref(resp);
	return RCTL_OK;
}

/* A distribution's origin addresses, as the control plane resolved them
 * (beside the object, which stays what apply takes). */
static void
print_resolution(const json_t *resp)
{
	const json_t *res = json_object_get(resp, "resolution");
	json_t *w;

	if (json_array_size(res) == 0)
		return;
	w = json_pack("{s:O}", "resolution", res);
	if (w != NULL)
		rctl_print_tree(stdout, w, 0);
	json_decref(w);
}

int
rctl_cmd_describe(struct rctl *c, const struct rctl_cmd *cmd)
{
	int kind = parse_kind(cmd, cmd->pos[0], false), rc;
	const json_t *obj;
	json_t *resp;

	if (kind < 0)
		return RCTL_USAGE;
	rc = rctl_call(c, json_pack("{s:s, s:s, s:s}", "op", "describe",
				    "kind", kinds[kind].one,
				    "name", cmd->pos[1]), &resp);
	if (rc != RCTL_OK)
		return rc;
	if (c->json) {
		rctl_print_json(resp);
	} else {
		obj = json_object_get(resp, "object");
		if (json_is_object(obj)) {
			rctl_print_tree(stdout, obj, 0);
			print_resolution(resp);
		} else {
			json_object_del(resp, "ok");
			rctl_print_tree(stdout, resp, 0);
		}
	}
	json_decref(resp);
	return RCTL_OK;
}

static void
print_done(const char *label, const char *name, const char *what,
	   const json_t *resp)
{
	const json_t *gen = json_object_get(resp, "generation");

	if (json_is_integer(gen))
		printf("%s \"%s\" %s (generation %" JSON_INTEGER_FORMAT ")\n",
		       label, name, what, json_integer_value(gen));
	else
		printf("%s \"%s\" %s\n", label, name, what);
	rctl_note_unpushed(resp);
}

int
rctl_cmd_delete(struct rctl *c, const struct rctl_cmd *cmd)
{
	int kind = parse_kind(cmd, cmd->pos[0], false), rc;
	json_t *resp;

	if (kind < 0)
		return RCTL_USAGE;
	rc = rctl_call(c, json_pack("{s:s, s:s, s:s}", "op", "delete",
				    "kind", kinds[kind].one,
				    "name", cmd->pos[1]), &resp);
	if (rc != RCTL_OK)
		return rc;
	if (c->json)
		rctl_print_json(resp);
	else
		print_done(kinds[kind].label, cmd->pos[1], "deleted", resp);
	json_decref(resp);
	return RCTL_OK;
}

int
rctl_cmd_apply(struct rctl *c, const struct rctl_cmd *cmd)
{
	const char *file = rctl_optval(cmd, "filename");
	const char *shown = strcmp(file, "-") == 0 ? "standard input" : file;
	json_t *doc, *one, *resp, *done = NULL;
	const json_t *name;
	json_error_t jerr;
	size_t len, i, n;
	char *buf;
	int rc;

	rc = rctl_read_file(file, true, false, &buf, &len);
	if (rc != RCTL_OK)
		return rc;
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (doc == NULL) {
		fprintf(stderr, "rampartctl: %s: line %d column %d: %s\n",
			shown, jerr.line, jerr.column, jerr.text);
		return RCTL_USAGE;
	}
	if (json_is_object(doc)) {
		json_t *arr = json_array();

		json_array_append_new(arr, doc);
		doc = arr;
	}
	n = json_array_size(doc);
	for (i = 0; i < n; i++)
		if (!json_is_object(json_array_get(doc, i)))
			break;
	if (!json_is_array(doc) || n == 0 || i < n) {
		fprintf(stderr, "rampartctl: %s: expected a distribution "
			"object or a non-empty array of them\n", shown);
		json_decref(doc);
		return RCTL_USAGE;
	}
	if (c->json && n > 1)
		done = json_array();

	json_array_foreach(doc, i, one) {
		name = json_object_get(one, "name");
		rc = rctl_call(c, json_pack("{s:s, s:s, s:O}", "op", "apply",
					    "kind", "distribution",
					    "object", one), &resp);
		if (rc != RCTL_OK) {
			if (n > 1)
				fprintf(stderr, "rampartctl: stopped at "
					"distribution %zu of %zu (\"%s\"): "
					"%zu applied before it, %zu not "
					"sent\n", i + 1, n,
					json_is_string(name) ?
					json_string_value(name) : "unnamed",
					i, n - i - 1);
			break;
		}
		if (done != NULL) {
			json_object_del(resp, "ok");
			json_array_append(done, resp);
		} else if (c->json) {
			rctl_print_json(resp);
		} else {
			const json_t *rn = json_object_get(resp, "name");
			const json_t *act = json_object_get(resp, "action");

			print_done("distribution",
				   json_is_string(rn) ? json_string_value(rn) :
				   json_is_string(name) ?
				   json_string_value(name) : "?",
				   json_is_string(act) ?
				   json_string_value(act) : "applied", resp);
		}
		json_decref(resp);
	}
	if (done != NULL) {
		char *s = json_dumps(done, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (s != NULL)
			puts(s);
		free(s);
		json_decref(done);
	}
	json_decref(doc);
	return rc;
}

/* Read the PEM file behind option opt into member of req. */
static int
put_pem(json_t *req, const struct rctl_cmd *cmd, const char *opt,
	const char *member)
{
	const char *path = rctl_optval(cmd, opt);
	size_t len;
	char *buf;
	int rc;

	if (path == NULL)
		return RCTL_OK;
	rc = rctl_read_file(path, false, true, &buf, &len);
	if (rc != RCTL_OK)
		return rc;
	json_object_set_new(req, member, json_stringn(buf, len));
	/* The key file's bytes: do not leave them in freed heap. */
	explicit_bzero(buf, len);
	free(buf);
	return RCTL_OK;
}

int
rctl_cmd_cert_import(struct rctl *c, const struct rctl_cmd *cmd)
{
	const char *name = rctl_optval(cmd, "name");
	const json_t *cert;
	json_t *req, *resp;
	int rc;

	req = json_pack("{s:s, s:s, s:b}", "op", "cert_import", "name", name,
			"replace", rctl_optval(cmd, "replace") != NULL);
	if ((rc = put_pem(req, cmd, "cert", "cert_pem")) != RCTL_OK ||
	    (rc = put_pem(req, cmd, "key", "key_pem")) != RCTL_OK ||
	    (rc = put_pem(req, cmd, "ca", "ca_pem")) != RCTL_OK) {
		json_decref(req);
		return rc;
	}
	rc = rctl_call(c, req, &resp);
	if (rc != RCTL_OK)
		return rc;
	if (c->json) {
		rctl_print_json(resp);
	} else {
		print_done("certificate", name, "imported", resp);
		cert = json_object_get(resp, "cert");
		if (json_is_object(cert)) {
			json_t *one = json_pack("[O]", cert);

			putchar('\n');
			print_items(KIND_CERT, one);
			json_decref(one);
		}
	}
	json_decref(resp);
	return RCTL_OK;
}

int
rctl_cmd_truststore_create(struct rctl *c, const struct rctl_cmd *cmd)
{
	const char *name = rctl_optval(cmd, "name");
	json_t *req, *resp;
	int rc;

	req = json_pack("{s:s, s:s, s:b}", "op", "truststore_create",
			"name", name,
			"replace", rctl_optval(cmd, "replace") != NULL);
	if ((rc = put_pem(req, cmd, "ca", "ca_pem")) != RCTL_OK ||
	    (rc = put_pem(req, cmd, "crl", "crl_pem")) != RCTL_OK) {
		json_decref(req);
		return rc;
	}
	rc = rctl_call(c, req, &resp);
	if (rc != RCTL_OK)
		return rc;
	if (c->json)
		rctl_print_json(resp);
	else
		print_done("trust store", name, "stored", resp);
	json_decref(resp);
	return RCTL_OK;
}

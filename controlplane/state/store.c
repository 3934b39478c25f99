/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define STATE_VERSION   1
#define TICKETS_VERSION 1
#define TICKETS_AAD     "tickets"
#define KEY_AAD_FMT     "cert-key:%s"
#define AAD_MAX         96

/* ------------------------------------------------------------ lifetime */

struct store *
store_new(void)
{
	return calloc(1, sizeof(struct store));
}

static void
cert_clear(struct store_cert *c)
{
	free(c->name);
	free(c->chain_pem);
	free(c->key_sealed);
	cert_info_free(&c->info);
	memset(c, 0, sizeof(*c));
}

static void
ts_clear(struct store_ts *t)
{
	free(t->name);
	free(t->ca_pem);
	free(t->crl_pem);
	memset(t, 0, sizeof(*t));
}

static void
dist_clear(struct store_dist *d)
{
	free(d->name);
	json_decref(d->obj);
	memset(d, 0, sizeof(*d));
}

void
store_free(struct store *s)
{
	unsigned int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n_certs; i++)
		cert_clear(&s->certs[i]);
	for (i = 0; i < s->n_tss; i++)
		ts_clear(&s->tss[i]);
	for (i = 0; i < s->n_dists; i++)
		dist_clear(&s->dists[i]);
	free(s->certs);
	free(s->tss);
	free(s->dists);
	free(s);
}

/* strdup that keeps NULL as NULL; *ok turns false on ENOMEM. */
static char *
dup_or_null(const char *p, bool *ok)
{
	char *d;

	if (p == NULL)
		return NULL;
	d = strdup(p);
	if (d == NULL)
		*ok = false;
	return d;
}

static bool
info_copy(struct cert_info *dst, const struct cert_info *src)
{
	unsigned int i;

	*dst = *src;
	memset(dst->sans, 0, sizeof(dst->sans));
	for (i = 0; i < src->n_sans; i++) {
		dst->sans[i] = strdup(src->sans[i]);
		if (dst->sans[i] == NULL) {
			dst->n_sans = i;
			return false;
		}
	}
	return true;
}

struct store *
store_dup(const struct store *s)
{
	struct store *d = store_new();
	bool ok = true;
	unsigned int i;

	if (d == NULL)
		return NULL;
	d->generation = s->generation;
	d->certs = calloc(s->n_certs + 1, sizeof(*d->certs));
	d->tss = calloc(s->n_tss + 1, sizeof(*d->tss));
	d->dists = calloc(s->n_dists + 1, sizeof(*d->dists));
	if (d->certs == NULL || d->tss == NULL || d->dists == NULL)
		goto fail;
	for (i = 0; i < s->n_certs && ok; i++) {
		struct store_cert *c = &d->certs[i];

		d->n_certs = i + 1;
		c->name = dup_or_null(s->certs[i].name, &ok);
		c->chain_pem = dup_or_null(s->certs[i].chain_pem, &ok);
		c->key_sealed = dup_or_null(s->certs[i].key_sealed, &ok);
		c->imported = s->certs[i].imported;
		ok = info_copy(&c->info, &s->certs[i].info) && ok;
	}
	for (i = 0; i < s->n_tss && ok; i++) {
		struct store_ts *t = &d->tss[i];

		d->n_tss = i + 1;
		*t = s->tss[i];
		t->name = t->ca_pem = t->crl_pem = NULL;
		t->name = dup_or_null(s->tss[i].name, &ok);
		t->ca_pem = dup_or_null(s->tss[i].ca_pem, &ok);
		t->crl_pem = dup_or_null(s->tss[i].crl_pem, &ok);
	}
	for (i = 0; i < s->n_dists && ok; i++) {
		d->n_dists = i + 1;
		d->dists[i].name = dup_or_null(s->dists[i].name, &ok);
		d->dists[i].obj = json_deep_copy(s->dists[i].obj);
		ok = ok && d->dists[i].obj != NULL;
	}
	if (ok)
		return d;
fail:
	store_free(d);
	return NULL;
}

/* ------------------------------------------------------------ lookups */

struct store_cert *
store_cert_find(const struct store *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n_certs; i++)
		if (strcmp(s->certs[i].name, name) == 0)
			return &s->certs[i];
	return NULL;
}

struct store_ts *
store_ts_find(const struct store *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n_tss; i++)
		if (strcmp(s->tss[i].name, name) == 0)
			return &s->tss[i];
	return NULL;
}

struct store_dist *
store_dist_find(const struct store *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n_dists; i++)
		if (strcmp(s->dists[i].name, name) == 0)
			return &s->dists[i];
	return NULL;
}

/*
 * Make room for name in a name-sorted array of n elements of size sz
 * (listings and state.json then come out sorted). Returns the slot: the
 * existing element (*found true) or a zeroed new one.
 */
static void *
slot_for(void **arr, unsigned int *n, size_t sz, const char *name,
	 bool *found)
{
	char *base = *arr;
	unsigned int i;

	for (i = 0; i < *n; i++) {
		int c = strcmp(*(char **)(base + i * sz), name);

		if (c == 0) {
			*found = true;
			return base + i * sz;
		}
		if (c > 0)
			break;
	}
	*found = false;
	base = realloc(base, (*n + 1) * sz);
	if (base == NULL)
		return NULL;
	*arr = base;
	memmove(base + (i + 1) * sz, base + i * sz, (*n - i) * sz);
	memset(base + i * sz, 0, sz);
	(*n)++;
	return base + i * sz;
}

static void
slot_remove(void *arr, unsigned int *n, size_t sz, void *elem)
{
	char *base = arr, *e = elem;
	size_t i = (size_t)(e - base) / sz;

	memmove(e, e + sz, (*n - i - 1) * sz);
	(*n)--;
}

/* ------------------------------------------------------------ mutation */

static void
key_aad(char *aad, const char *name)
{
	snprintf(aad, AAD_MAX, KEY_AAD_FMT, name);
}

int
store_cert_put(struct store *s, const uint8_t mk[SEAL_KEY_LEN],
	       const char *name, const char *chain_pem, const char *key_pem,
	       const struct cert_info *info, uint64_t now)
{
	struct store_cert n = { 0 }, *slot;
	char aad[AAD_MAX];
	bool found, ok = true;

	key_aad(aad, name);
	n.name = dup_or_null(name, &ok);
	n.chain_pem = dup_or_null(chain_pem, &ok);
	n.key_sealed = seal_encrypt(mk, aad, (const uint8_t *)key_pem,
				    strlen(key_pem));
	n.imported = now;
	ok = info_copy(&n.info, info) && ok && n.key_sealed != NULL;
	if (!ok)
		goto fail;
	slot = slot_for((void **)&s->certs, &s->n_certs, sizeof(*slot), name,
			&found);
	if (slot == NULL)
		goto fail;
	if (found)
		cert_clear(slot);
	*slot = n;
	return 0;
fail:
	cert_clear(&n);
	return -ENOMEM;
}

char *
store_cert_key(const struct store_cert *c, const uint8_t mk[SEAL_KEY_LEN],
	       size_t *len, char *err, size_t errlen)
{
	char aad[AAD_MAX], why[256];
	uint8_t *p;

	key_aad(aad, c->name);
	p = seal_decrypt(mk, aad, c->key_sealed, len, why, sizeof(why));
	if (p == NULL)
		snprintf(err, errlen, "certificate \"%s\": its sealed key does "
			 "not open: %s", c->name, why);
	return (char *)p;
}

int
store_ts_put(struct store *s, const char *name, const char *ca_pem,
	     const char *crl_pem, unsigned int n_cas, unsigned int n_revoked)
{
	struct store_ts n = { .n_cas = n_cas, .n_revoked = n_revoked }, *slot;
	bool found, ok = true;

	n.name = dup_or_null(name, &ok);
	n.ca_pem = dup_or_null(ca_pem, &ok);
	n.crl_pem = dup_or_null(crl_pem, &ok);
	if (!ok)
		goto fail;
	slot = slot_for((void **)&s->tss, &s->n_tss, sizeof(*slot), name,
			&found);
	if (slot == NULL)
		goto fail;
	if (found)
		ts_clear(slot);
	*slot = n;
	return 0;
fail:
	ts_clear(&n);
	return -ENOMEM;
}

int
store_dist_put(struct store *s, const char *name, json_t *obj)
{
	struct store_dist *slot;
	char *n = strdup(name);
	bool found;

	if (n == NULL)
		return -ENOMEM;
	slot = slot_for((void **)&s->dists, &s->n_dists, sizeof(*slot), name,
			&found);
	if (slot == NULL) {
		free(n);
		return -ENOMEM;
	}
	if (found)
		dist_clear(slot);
	slot->name = n;
	slot->obj = json_incref(obj);
	return 0;
}

int
store_cert_del(struct store *s, const char *name)
{
	struct store_cert *c = store_cert_find(s, name);

	if (c == NULL)
		return -ENOENT;
	cert_clear(c);
	slot_remove(s->certs, &s->n_certs, sizeof(*c), c);
	return 0;
}

int
store_ts_del(struct store *s, const char *name)
{
	struct store_ts *t = store_ts_find(s, name);

	if (t == NULL)
		return -ENOENT;
	ts_clear(t);
	slot_remove(s->tss, &s->n_tss, sizeof(*t), t);
	return 0;
}

int
store_dist_del(struct store *s, const char *name)
{
	struct store_dist *d = store_dist_find(s, name);

	if (d == NULL)
		return -ENOENT;
	dist_clear(d);
	slot_remove(s->dists, &s->n_dists, sizeof(*d), d);
	return 0;
}

/* ------------------------------------------------------------ references */

static bool
json_str_eq(const json_t *o, const char *key, const char *val)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL && strcmp(s, val) == 0;
}

json_t *
store_cert_users(const struct store *s, const char *name)
{
	json_t *users = json_array();
	unsigned int i;

	for (i = 0; users != NULL && i < s->n_dists; i++) {
		json_t *certs = json_object_get(s->dists[i].obj,
						"certificates");

		if (json_str_eq(certs, "ecdsa", name) ||
		    json_str_eq(certs, "rsa", name))
			json_array_append_new(users,
					      json_string(s->dists[i].name));
	}
	return users;
}

json_t *
store_ts_users(const struct store *s, const char *name)
{
	json_t *users = json_array();
	unsigned int i;

	for (i = 0; users != NULL && i < s->n_dists; i++) {
		json_t *mtls = json_object_get(json_object_get(
				s->dists[i].obj, "tls"), "mtls");

		json_t *o;
		size_t j;
		bool used = json_str_eq(mtls, "trust_store", name);

		json_array_foreach(json_object_get(s->dists[i].obj, "origins"),
				   j, o)
			used = used || json_str_eq(json_object_get(o, "verify"),
						   "trust_store", name);
		if (used)
			json_array_append_new(users,
					      json_string(s->dists[i].name));
	}
	return users;
}

/* ------------------------------------------------------------ files */

static int
fsync_dir(const char *dir)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int
store_write_atomic(const char *dir, const char *name, const void *data,
		   size_t len, char *err, size_t errlen)
{
	char path[4096], tmp[4096 + 8];
	const char *p = data;
	const char *what = "write";
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		what = "create";
		goto fail_errno;
	}
	/* A file left by an older version with wider bits is narrowed. */
	if (fchmod(fd, 0600) != 0)
		goto fail_close;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail_close;
		}
		p += n;
		len -= (size_t)n;
	}
	what = "fsync";
	if (fsync(fd) != 0)
		goto fail_close;
	if (close(fd) != 0) {
		fd = -1;
		goto fail_errno;
	}
	what = "rename";
	if (rename(tmp, path) != 0) {
		fd = -1;
		goto fail_errno;
	}
	rc = fsync_dir(dir);
	if (rc != 0) {
		snprintf(err, errlen, "cannot sync the directory %s: %s", dir,
			 strerror(-rc));
		return rc;
	}
	return 0;

fail_close:
	rc = -errno;
	close(fd);
	errno = -rc;
fail_errno:
	rc = -errno;
	snprintf(err, errlen, "cannot %s %s: %s", what,
		 strcmp(what, "rename") == 0 || strcmp(what, "create") == 0 ?
		 tmp : path, strerror(-rc));
	if (strcmp(what, "create") != 0)
		unlink(tmp);
	return rc;
}

static json_t *
info_to_json(const struct cert_info *in)
{
	json_t *sans = json_array(), *o;
	unsigned int i;

	for (i = 0; sans != NULL && i < in->n_sans; i++)
		json_array_append_new(sans, json_string(in->sans[i]));
	o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:o*, s:I, s:I, s:s, s:s, "
		      "s:I}",
		      "key_kind", in->key_kind == CERT_KEY_RSA ? "RSA" : "ECDSA",
		      "key_bits", (json_int_t)in->key_bits,
		      "key_type", in->key_type,
		      "subject", in->subject,
		      "issuer", in->issuer,
		      "sans", sans,
		      "not_before", (json_int_t)in->not_before,
		      "not_after", (json_int_t)in->not_after,
		      "fingerprint", in->fingerprint,
		      "ocsp_url", in->ocsp_url,
		      "chain_len", (json_int_t)in->chain_len);
	return o;
}

static json_t *
store_to_json(const struct store *s)
{
	json_t *root, *certs, *tss, *dists;
	unsigned int i;

	root = json_pack("{s:i, s:I, s:[], s:[], s:[]}",
			 "version", STATE_VERSION,
			 "generation", (json_int_t)s->generation,
			 "certificates", "truststores", "distributions");
	if (root == NULL)
		return NULL;
	certs = json_object_get(root, "certificates");
	tss = json_object_get(root, "truststores");
	dists = json_object_get(root, "distributions");
	for (i = 0; i < s->n_certs; i++) {
		const struct store_cert *c = &s->certs[i];

		if (json_array_append_new(certs, json_pack(
				"{s:s, s:s, s:s, s:I, s:o}",
				"name", c->name, "chain_pem", c->chain_pem,
				"key_sealed", c->key_sealed,
				"imported", (json_int_t)c->imported,
				"info", info_to_json(&c->info))) != 0)
			goto fail;
	}
	for (i = 0; i < s->n_tss; i++) {
		const struct store_ts *t = &s->tss[i];

		if (json_array_append_new(tss, json_pack(
				"{s:s, s:s, s:s?, s:I, s:I}",
				"name", t->name, "ca_pem", t->ca_pem,
				"crl_pem", t->crl_pem,
				"cas", (json_int_t)t->n_cas,
				"revoked", (json_int_t)t->n_revoked)) != 0)
			goto fail;
	}
	for (i = 0; i < s->n_dists; i++)
		if (json_array_append(dists, s->dists[i].obj) != 0)
			goto fail;
	return root;
fail:
	json_decref(root);
	return NULL;
}

int
store_save(const struct store *s, const char *dir, char *err, size_t errlen)
{
	json_t *root = store_to_json(s);
	char *text;
	int rc;

	if (root == NULL) {
		snprintf(err, errlen, "cannot serialise the state: out of memory");
		return -ENOMEM;
	}
	text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(root);
	if (text == NULL) {
		snprintf(err, errlen, "cannot serialise the state: out of memory");
		return -ENOMEM;
	}
	rc = store_write_atomic(dir, STORE_STATE_FILE, text, strlen(text),
				err, errlen);
	free(text);
	return rc;
}

/* ------------------------------------------------------------ loading */

/* Copy string member key of o into dst[len]; false when absent, not a
 * string, or too long. */
static bool
get_str(const json_t *o, const char *key, char *dst, size_t len)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (v == NULL || strlen(v) >= len)
		return false;
	strcpy(dst, v);
	return true;
}

static bool
get_uint(const json_t *o, const char *key, uint64_t *v)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return false;
	*v = (uint64_t)json_integer_value(j);
	return true;
}

static const char *
info_from_json(const json_t *o, struct cert_info *in)
{
	const char *kind;
	uint64_t v;
	json_t *sans, *san;
	size_t i;

	memset(in, 0, sizeof(*in));
	kind = json_string_value(json_object_get(o, "key_kind"));
	if (kind == NULL || (strcmp(kind, "RSA") != 0 &&
			     strcmp(kind, "ECDSA") != 0))
		return "key_kind";
	in->key_kind = strcmp(kind, "RSA") == 0 ? CERT_KEY_RSA : CERT_KEY_ECDSA;
	if (!get_uint(o, "key_bits", &v))
		return "key_bits";
	in->key_bits = (unsigned int)v;
	if (!get_str(o, "key_type", in->key_type, sizeof(in->key_type)))
		return "key_type";
	if (!get_str(o, "subject", in->subject, sizeof(in->subject)))
		return "subject";
	if (!get_str(o, "issuer", in->issuer, sizeof(in->issuer)))
		return "issuer";
	if (!get_str(o, "fingerprint", in->fingerprint,
		     sizeof(in->fingerprint)))
		return "fingerprint";
	if (!get_str(o, "ocsp_url", in->ocsp_url, sizeof(in->ocsp_url)))
		return "ocsp_url";
	if (!get_uint(o, "not_before", &v))
		return "not_before";
	in->not_before = (time_t)v;
	if (!get_uint(o, "not_after", &v))
		return "not_after";
	in->not_after = (time_t)v;
	if (!get_uint(o, "chain_len", &v))
		return "chain_len";
	in->chain_len = (unsigned int)v;
	sans = json_object_get(o, "sans");
	if (!json_is_array(sans) || json_array_size(sans) > CERT_MAX_SANS)
		return "sans";
	json_array_foreach(sans, i, san) {
		if (!json_is_string(san))
			return "sans";
		in->sans[i] = strdup(json_string_value(san));
		if (in->sans[i] == NULL)
			return "sans (out of memory)";
		in->n_sans = (unsigned int)i + 1;
	}
	return NULL;
}

/* Parse one certificate entry into s; returns NULL or the bad field. */
static const char *
load_cert(struct store *s, const json_t *o, const uint8_t mk[SEAL_KEY_LEN],
	  char *why, size_t whylen)
{
	struct store_cert c = { 0 }, *slot;
	const char *bad = NULL;
	char aad[AAD_MAX];
	uint8_t *key;
	size_t klen;
	bool found, ok = true;

	c.name = dup_or_null(json_string_value(json_object_get(o, "name")),
			     &ok);
	c.chain_pem = dup_or_null(json_string_value(
			json_object_get(o, "chain_pem")), &ok);
	c.key_sealed = dup_or_null(json_string_value(
			json_object_get(o, "key_sealed")), &ok);
	if (c.name == NULL)
		bad = "name";
	else if (c.chain_pem == NULL)
		bad = "chain_pem";
	else if (c.key_sealed == NULL)
		bad = "key_sealed";
	else if (!get_uint(o, "imported", &c.imported))
		bad = "imported";
	else
		bad = info_from_json(json_object_get(o, "info"), &c.info);
	if (bad != NULL)
		goto out;
	/* Opening every key now catches a master.key that does not belong
	 * to this state at start, not at the first push. */
	key_aad(aad, c.name);
	key = seal_decrypt(mk, aad, c.key_sealed, &klen, why, whylen);
	if (key == NULL) {
		bad = "key_sealed";
		goto out;
	}
	seal_wipe(key, klen);
	free(key);
	if (store_cert_find(s, c.name) != NULL) {
		bad = "name (duplicate)";
		goto out;
	}
	slot = slot_for((void **)&s->certs, &s->n_certs, sizeof(*slot),
			c.name, &found);
	if (slot == NULL) {
		bad = "(out of memory)";
		goto out;
	}
	*slot = c;
	return NULL;
out:
	cert_clear(&c);
	return bad;
}

static const char *
load_ts(struct store *s, const json_t *o)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *ca = json_string_value(json_object_get(o, "ca_pem"));
	json_t *crl = json_object_get(o, "crl_pem");
	uint64_t cas, revoked;

	if (name == NULL || store_ts_find(s, name) != NULL)
		return "name";
	if (ca == NULL)
		return "ca_pem";
	if (crl != NULL && !json_is_string(crl) && !json_is_null(crl))
		return "crl_pem";
	if (!get_uint(o, "cas", &cas) || !get_uint(o, "revoked", &revoked))
		return "cas/revoked";
	if (store_ts_put(s, name, ca, json_string_value(crl),
			 (unsigned int)cas, (unsigned int)revoked) != 0)
		return "(out of memory)";
	return NULL;
}

static const char *
load_dist(struct store *s, json_t *o)
{
	const char *name = json_string_value(json_object_get(o, "name"));

	if (!json_is_object(o) || name == NULL ||
	    store_dist_find(s, name) != NULL)
		return "name";
	if (store_dist_put(s, name, o) != 0)
		return "(out of memory)";
	return NULL;
}

static int
refuse(char *err, size_t errlen, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
refuse(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "cannot load %s: %s; restore it from a backup "
		 "or move it away to start with an empty state", path, why);
	return -EINVAL;
}

int
store_load(const char *dir, const uint8_t mk[SEAL_KEY_LEN],
	   struct store **out, char *err, size_t errlen)
{
	char path[4096], tmp[4096 + 8], why[256] = "";
	json_t *root, *arr, *o;
	json_error_t jerr;
	struct store *s;
	const char *bad;
	uint64_t ver;
	size_t i;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_STATE_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* Whatever a crash left half-written was never committed. */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "cannot remove the leftover %s: %s", tmp,
			 strerror(errno));
		return rc;
	}
	s = store_new();
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		*out = s;
		return 0;
	}
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		store_free(s);
		if (jerr.line < 0)
			return refuse(err, errlen, path, "%s", jerr.text);
		return refuse(err, errlen, path, "line %d column %d: %s",
			      jerr.line, jerr.column, jerr.text);
	}
	rc = -EINVAL;
	if (!json_is_object(root)) {
		refuse(err, errlen, path, "not a JSON object");
		goto fail;
	}
	if (!get_uint(root, "version", &ver) || ver != STATE_VERSION) {
		refuse(err, errlen, path, "$.version is not %d", STATE_VERSION);
		goto fail;
	}
	if (!get_uint(root, "generation", &s->generation)) {
		refuse(err, errlen, path, "$.generation is not an unsigned "
		       "integer");
		goto fail;
	}
	arr = json_object_get(root, "certificates");
	if (!json_is_array(arr)) {
		refuse(err, errlen, path, "$.certificates is not an array");
		goto fail;
	}
	json_array_foreach(arr, i, o) {
		bad = load_cert(s, o, mk, why, sizeof(why));
		if (bad != NULL) {
			refuse(err, errlen, path, "$.certificates[%zu].%s is "
			       "missing or invalid%s%s", i, bad,
			       why[0] ? ": " : "", why);
			goto fail;
		}
	}
	arr = json_object_get(root, "truststores");
	if (!json_is_array(arr)) {
		refuse(err, errlen, path, "$.truststores is not an array");
		goto fail;
	}
	json_array_foreach(arr, i, o) {
		bad = load_ts(s, o);
		if (bad != NULL) {
			refuse(err, errlen, path, "$.truststores[%zu].%s is "
			       "missing or invalid", i, bad);
			goto fail;
		}
	}
	arr = json_object_get(root, "distributions");
	if (!json_is_array(arr)) {
		refuse(err, errlen, path, "$.distributions is not an array");
		goto fail;
	}
	json_array_foreach(arr, i, o) {
		bad = load_dist(s, o);
		if (bad != NULL) {
			refuse(err, errlen, path, "$.distributions[%zu].%s is "
			       "missing or invalid", i, bad);
			goto fail;
		}
	}
	json_decref(root);
	*out = s;
	return 0;
fail:
	json_decref(root);
	store_free(s);
	return rc;
}

/* ------------------------------------------------------------ tickets */

/* Plaintext of the sealed ring: a version byte, the count, then per key
 * id, secret, role and created (big-endian). Binary so it can be wiped;
 * a JSON tree would leave copies of the secrets in freed memory. */
#define TK_REC_LEN (TK_ID_LEN + TK_SECRET_LEN + 1 + 8)
#define TK_BLOB_MAX (2 + TK_RING_MAX * TK_REC_LEN)

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int
store_tickets_save(const char *dir, const uint8_t mk[SEAL_KEY_LEN],
		   const struct tk_ring *r, char *err, size_t errlen)
{
	uint8_t blob[TK_BLOB_MAX], *p = blob;
	char *sealed, *text;
	json_t *root;
	unsigned int i;
	int rc;

	*p++ = TICKETS_VERSION;
	*p++ = (uint8_t)r->n;
	for (i = 0; i < r->n && i < TK_RING_MAX; i++) {
		memcpy(p, r->keys[i].id, TK_ID_LEN);
		p += TK_ID_LEN;
		memcpy(p, r->keys[i].secret, TK_SECRET_LEN);
		p += TK_SECRET_LEN;
		*p++ = (uint8_t)r->keys[i].role;
		put_be64(p, r->keys[i].created);
		p += 8;
	}
	sealed = seal_encrypt(mk, TICKETS_AAD, blob, (size_t)(p - blob));
	seal_wipe(blob, sizeof(blob));
	if (sealed == NULL) {
		snprintf(err, errlen, "cannot seal the ticket keys: out of "
			 "memory");
		return -ENOMEM;
	}
	root = json_pack("{s:i, s:I, s:I, s:I, s:s}",
			 "version", TICKETS_VERSION,
			 "period_s", (json_int_t)r->period_s,
			 "kept", (json_int_t)r->kept,
			 "next_rotation", (json_int_t)r->next_rotation,
			 "ring", sealed);
	free(sealed);
	text = root != NULL ? json_dumps(root, JSON_INDENT(1)) : NULL;
	json_decref(root);
	if (text == NULL) {
		snprintf(err, errlen, "cannot serialise the ticket keys: out "
			 "of memory");
		return -ENOMEM;
	}
	rc = store_write_atomic(dir, STORE_TICKETS_FILE, text, strlen(text),
				err, errlen);
	free(text);
	return rc;
}

int
store_tickets_load(const char *dir, const uint8_t mk[SEAL_KEY_LEN],
		   struct tk_ring *r, char *err, size_t errlen)
{
	char path[4096], why[256];
	uint64_t period, kept, next;
	const char *sealed;
	json_error_t jerr;
	uint8_t *blob = NULL, *p;
	size_t len = 0;
	json_t *root;
	unsigned int i, n;
	int rc = -EINVAL;

	snprintf(path, sizeof(path), "%s/%s.tmp", dir, STORE_TICKETS_FILE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_TICKETS_FILE);
	root = json_load_file(path, 0, &jerr);
	if (root == NULL) {
		if (access(path, F_OK) != 0 && errno == ENOENT)
			return -ENOENT;
		return refuse(err, errlen, path, "%s", jerr.text);
	}
	sealed = json_string_value(json_object_get(root, "ring"));
	if (!get_uint(root, "period_s", &period) ||
	    !get_uint(root, "kept", &kept) ||
	    !get_uint(root, "next_rotation", &next) || sealed == NULL) {
		refuse(err, errlen, path, "period_s, kept, next_rotation or "
		       "ring is missing");
		goto out;
	}
	blob = seal_decrypt(mk, TICKETS_AAD, sealed, &len, why, sizeof(why));
	if (blob == NULL) {
		refuse(err, errlen, path, "the ring does not open: %s", why);
		goto out;
	}
	n = len >= 2 ? blob[1] : 0;
	if (len < 2 || blob[0] != TICKETS_VERSION || n > TK_RING_MAX ||
	    len != 2 + (size_t)n * TK_REC_LEN) {
		refuse(err, errlen, path, "the sealed ring has a bad layout");
		goto out;
	}
	memset(r, 0, sizeof(*r));
	r->period_s = period;
	r->kept = (unsigned int)kept;
	r->next_rotation = next;
	r->n = n;
	for (i = 0, p = blob + 2; i < n; i++) {
		memcpy(r->keys[i].id, p, TK_ID_LEN);
		p += TK_ID_LEN;
		memcpy(r->keys[i].secret, p, TK_SECRET_LEN);
		p += TK_SECRET_LEN;
		if (*p > TK_PENDING) {
			tk_ring_wipe(r);
			refuse(err, errlen, path, "key %u has a bad role", i);
			goto out;
		}
		r->keys[i].role = (enum tk_role)*p++;
		r->keys[i].created = get_be64(p);
		p += 8;
	}
	rc = 0;
out:
	if (blob != NULL) {
		seal_wipe(blob, len);
		free(blob);
	}
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------ staples */

static int
ocsp_dir(const char *dir, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", dir, STORE_OCSP_DIR);
	if (mkdir(out, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int
store_staple_save(const char *dir, const char *fp,
		  const struct store_staple *st, char *err, size_t errlen)
{
	char od[4096], name[96], *text;
	json_t *side;
	int rc;

	rc = ocsp_dir(dir, od, sizeof(od));
	if (rc != 0) {
		snprintf(err, errlen, "cannot create %s: %s", od,
			 strerror(-rc));
		return rc;
	}
	/* The sidecar first: a DER without one is ignored at load, a
	 * sidecar without its DER likewise. */
	side = json_pack("{s:I, s:I, s:I, s:I}",
			 "fetched_at", (json_int_t)st->fetched_at,
			 "this_update", (json_int_t)st->this_update,
			 "next_update", (json_int_t)st->next_update,
			 "bytes", (json_int_t)st->len);
	text = side != NULL ? json_dumps(side, 0) : NULL;
	json_decref(side);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "%s.json", fp);
	rc = store_write_atomic(od, name, text, strlen(text), err, errlen);
	free(text);
	if (rc != 0)
		return rc;
	snprintf(name, sizeof(name), "%s.der", fp);
	return store_write_atomic(od, name, st->der, st->len, err, errlen);
}

int
store_staple_load(const char *dir, const char *fp, struct store_staple *st,
		  char *err, size_t errlen)
{
	char path[4096 + 96];
	json_error_t jerr;
	uint64_t bytes;
	json_t *side;
	struct stat sb;
	ssize_t n;
	int fd, rc = -EINVAL;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/%s/%s.json", dir, STORE_OCSP_DIR, fp);
	side = json_load_file(path, 0, &jerr);
	if (side == NULL) {
		if (access(path, F_OK) != 0 && errno == ENOENT)
			return -ENOENT;
		snprintf(err, errlen, "%s: %s", path, jerr.text);
		return -EINVAL;
	}
	if (!get_uint(side, "fetched_at", &st->fetched_at) ||
	    !get_uint(side, "this_update", &st->this_update) ||
	    !get_uint(side, "next_update", &st->next_update) ||
	    !get_uint(side, "bytes", &bytes) || bytes == 0 ||
	    bytes > (1u << 20)) {
		snprintf(err, errlen, "%s: a time or the size is missing",
			 path);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s/%s.der", dir, STORE_OCSP_DIR, fp);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? -ENOENT : -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	st->der = malloc(bytes);
	if (st->der == NULL || fstat(fd, &sb) != 0 ||
	    (uint64_t)sb.st_size != bytes ||
	    (n = read(fd, st->der, bytes)) < 0 || (uint64_t)n != bytes) {
		snprintf(err, errlen, "%s: not the %" PRIu64 " bytes its "
			 "sidecar says", path, bytes);
		free(st->der);
		st->der = NULL;
		close(fd);
		goto out;
	}
	close(fd);
	st->len = bytes;
	rc = 0;
out:
	json_decref(side);
	return rc;
}

void
store_staple_del(const char *dir, const char *fp)
{
	char path[4096 + 96];

	snprintf(path, sizeof(path), "%s/%s/%s.der", dir, STORE_OCSP_DIR, fp);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s/%s.json", dir, STORE_OCSP_DIR, fp);
	unlink(path);
}

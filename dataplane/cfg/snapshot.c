/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <urcu-qsbr.h>

#include "hex.h"
#include "snapshot.h"

#define CFG_ALIASES_MAX 100

/* An open-addressing table built once; it never changes afterwards, so
 * lookups need no synchronisation at all. */
struct cfg_sni_slot {
	const char *key;
	const struct cfg_dist *dist;
};

struct cfg_sni {
	struct cfg_sni_slot *slots;
	size_t mask;                    /* size - 1, size a power of two */
};

struct cfg_snapshot {
	unsigned long refcnt;           /* atomic */
	uint64_t generation;
	struct cfg_cert *certs;
	unsigned int nb_certs;
	struct cfg_truststore *stores;
	unsigned int nb_stores;
	struct cfg_dist *dists;
	unsigned int nb_dists;
	struct cfg_sni exact;           /* "a.example.com" */
	struct cfg_sni wild;            /* "*.example.com" under "example.com" */
	const struct cfg_dist *dflt;    /* "default": true, or NULL */
	void *tls;                      /* cfg_snapshot_set_tls */
	void (*tls_free)(void *tls);
};

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------- SNI index */

static uint64_t
sni_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a */

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static int
sni_init(struct cfg_sni *t, size_t n)
{
	size_t size = 8;

	while (size < n * 2)
		size <<= 1;
	t->slots = calloc(size, sizeof(*t->slots));
	if (t->slots == NULL)
		return -ENOMEM;
	t->mask = size - 1;
	return 0;
}

/* Returns the distribution already holding key, or NULL once inserted. */
static const struct cfg_dist *
sni_insert(struct cfg_sni *t, const char *key, const struct cfg_dist *d)
{
	size_t i = sni_hash(key) & t->mask;

	while (t->slots[i].key != NULL) {
		if (strcmp(t->slots[i].key, key) == 0)
			return t->slots[i].dist;
		i = (i + 1) & t->mask;
	}
	t->slots[i].key = key;
	t->slots[i].dist = d;
	return NULL;
}

static const struct cfg_dist *
sni_find(const struct cfg_sni *t, const char *key)
{
	size_t i;

	if (t->slots == NULL)
		return NULL;
	i = sni_hash(key) & t->mask;
	while (t->slots[i].key != NULL) {
		if (strcmp(t->slots[i].key, key) == 0)
			return t->slots[i].dist;
		i = (i + 1) & t->mask;
	}
	return NULL;
}

/* ---------------------------------------------------------------- freeing */

static void
free_strv(char **v, unsigned int n)
{
	unsigned int i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
cert_clear(struct cfg_cert *c)
{
	free(c->name);
	free(c->chain_pem);
	if (c->key_pem != NULL) {
		sodium_memzero(c->key_pem, strlen(c->key_pem));
		free(c->key_pem);
	}
	free(c->key_type);
	free_strv(c->sans, c->nb_sans);
}

static void
dist_clear(struct cfg_dist *d)
{
	unsigned int i;

	free(d->name);
	free_strv(d->aliases, d->nb_aliases);
	free(d->security_policy);
	for (i = 0; i < d->nb_origins; i++) {
		free(d->origins[i].id);
		free(d->origins[i].domain);
	}
	free(d->origins);
	for (i = 0; i < d->nb_behaviors; i++)
		free(d->behaviors[i].path_pattern);
	free(d->behaviors);
	free(d->resp_headers.hsts);
	free(d->resp_headers.frame_options);
	free(d->resp_headers.referrer_policy);
	free(d->resp_headers.content_security_policy);
	json_decref(d->json);
}

static void
snapshot_free(struct cfg_snapshot *s)
{
	unsigned int i;

	/* The TLS contexts hold copies of the keys and point into the
	 * objects below: they go first. */
	if (s->tls_free != NULL)
		s->tls_free(s->tls);
	for (i = 0; i < s->nb_certs; i++)
		cert_clear(&s->certs[i]);
	free(s->certs);
	for (i = 0; i < s->nb_stores; i++) {
		free(s->stores[i].name);
		free(s->stores[i].ca_pem);
		free(s->stores[i].crl_pem);
	}
	free(s->stores);
	for (i = 0; i < s->nb_dists; i++)
		dist_clear(&s->dists[i]);
	free(s->dists);
	free(s->exact.slots);
	free(s->wild.slots);
	free(s);
}

struct cfg_snapshot *
cfg_snapshot_get(struct cfg_snapshot *s)
{
	__atomic_add_fetch(&s->refcnt, 1, __ATOMIC_RELAXED);
	return s;
}

void
cfg_snapshot_put(struct cfg_snapshot *s)
{
	if (s == NULL)
		return;
	if (__atomic_sub_fetch(&s->refcnt, 1, __ATOMIC_ACQ_REL) == 0)
		snapshot_free(s);
}

/* ---------------------------------------------------------------- checks */

static bool
name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > CFG_NAME_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* A lower-case DNS name: labels of 1-63 [a-z0-9-], not starting or ending
 * with '-', at least two labels; or "*." followed by such a name. */
static bool
alias_valid(const char *s)
{
	size_t len = 0, total = 0;
	unsigned int labels = 0;
	const char *p = s;

	if (p[0] == '*') {
		if (p[1] != '.')
			return false;
		p += 2;
	}
	for (; ; p++) {
		if (*p == '.' || *p == '\0') {
			if (len == 0 || len > 63 || p[-1] == '-')
				return false;
			labels++;
			len = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') &&
		    *p != '-')
			return false;
		if (len == 0 && *p == '-')
			return false;
		len++;
		if (++total > CFG_HOST_MAX)
			return false;
	}
	return labels >= 2;
}

/* A string member, required or not; NULL with err set when malformed. */
static const char *
str_member(const json_t *o, const char *key, bool required, bool *bad,
	   const char *what, const char *name, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		if (required) {
			set_err(err, errlen, "%s \"%s\": \"%s\" is missing",
				what, name, key);
			*bad = true;
		}
		return NULL;
	}
	if (!json_is_string(v) || json_string_length(v) == 0) {
		set_err(err, errlen, "%s \"%s\": \"%s\" must be a non-empty "
			"string", what, name, key);
		*bad = true;
		return NULL;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		set_err(err, errlen, "%s \"%s\": \"%s\" contains a NUL byte",
			what, name, key);
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

static int
dup_str(char **dst, const char *src)
{
	if (src == NULL) {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(src);
	return *dst == NULL ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------- objects */

static int
build_cert(struct cfg_cert *c, const char *name, const json_t *o, char *err,
	   size_t errlen)
{
	const char *chain, *key = NULL, *type = NULL, *fp = NULL;
	const json_t *sans, *v;
	bool bad = false;
	size_t i;

	if (!json_is_object(o)) {
		set_err(err, errlen, "certificate \"%s\": not a JSON object",
			name);
		return -EINVAL;
	}
	chain = str_member(o, "chain_pem", true, &bad, "certificate", name,
			   err, errlen);
	if (!bad)
		key = str_member(o, "key_pem", true, &bad, "certificate", name,
				 err, errlen);
	if (!bad)
		type = str_member(o, "key_type", true, &bad, "certificate",
				  name, err, errlen);
	if (!bad)
		fp = str_member(o, "fingerprint", true, &bad, "certificate",
				name, err, errlen);
	if (bad)
		return -EINVAL;
	if (strstr(chain, "-----BEGIN CERTIFICATE-----") == NULL) {
		set_err(err, errlen, "certificate \"%s\": chain_pem holds no "
			"PEM certificate", name);
		return -EINVAL;
	}
	if (strstr(key, "-----BEGIN ") == NULL) {
		set_err(err, errlen, "certificate \"%s\": key_pem holds no "
			"PEM private key", name);
		return -EINVAL;
	}
	if (strncmp(type, "ECDSA", 5) == 0) {
		c->key_kind = CFG_KEY_ECDSA;
	} else if (strncmp(type, "RSA", 3) == 0) {
		c->key_kind = CFG_KEY_RSA;
	} else {
		set_err(err, errlen, "certificate \"%s\": key_type \"%s\" is "
			"neither ECDSA nor RSA", name, type);
		return -EINVAL;
	}
	if (cfg_hex_decode(fp, c->fingerprint, sizeof(c->fingerprint)) != 0) {
		set_err(err, errlen, "certificate \"%s\": fingerprint must be "
			"64 hex digits (SHA-256 of the leaf)", name);
		return -EINVAL;
	}
	sans = json_object_get(o, "sans");
	if (sans != NULL && !json_is_array(sans)) {
		set_err(err, errlen, "certificate \"%s\": sans must be an array "
			"of strings", name);
		return -EINVAL;
	}
	if (dup_str(&c->name, name) || dup_str(&c->chain_pem, chain) ||
	    dup_str(&c->key_pem, key) || dup_str(&c->key_type, type))
		goto nomem;
	if (sans == NULL || json_array_size(sans) == 0)
		return 0;
	c->sans = calloc(json_array_size(sans), sizeof(*c->sans));
	if (c->sans == NULL)
		goto nomem;
	json_array_foreach(sans, i, v) {
		if (!json_is_string(v)) {
			set_err(err, errlen, "certificate \"%s\": sans[%zu] is "
				"not a string", name, i);
			return -EINVAL;
		}
		if (dup_str(&c->sans[c->nb_sans], json_string_value(v)))
			goto nomem;
		c->nb_sans++;
	}
	return 0;
nomem:
	set_err(err, errlen, "certificate \"%s\": out of memory", name);
	return -ENOMEM;
}

static int
build_store(struct cfg_truststore *t, const char *name, const json_t *o,
	    char *err, size_t errlen)
{
	const char *ca, *crl = NULL;
	bool bad = false;

	if (!json_is_object(o)) {
		set_err(err, errlen, "trust store \"%s\": not a JSON object",
			name);
		return -EINVAL;
	}
	ca = str_member(o, "ca_pem", true, &bad, "trust store", name, err,
			errlen);
	if (!bad)
		crl = str_member(o, "crl_pem", false, &bad, "trust store",
				 name, err, errlen);
	if (bad)
		return -EINVAL;
	if (strstr(ca, "-----BEGIN CERTIFICATE-----") == NULL) {
		set_err(err, errlen, "trust store \"%s\": ca_pem holds no PEM "
			"certificate", name);
		return -EINVAL;
	}
	if (dup_str(&t->name, name) || dup_str(&t->ca_pem, ca) ||
	    dup_str(&t->crl_pem, crl)) {
		set_err(err, errlen, "trust store \"%s\": out of memory", name);
		return -ENOMEM;
	}
	return 0;
}

static const struct cfg_cert *
find_cert(const struct cfg_snapshot *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nb_certs; i++)
		if (strcmp(s->certs[i].name, name) == 0)
			return &s->certs[i];
	return NULL;
}

static const struct cfg_truststore *
find_store(const struct cfg_snapshot *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nb_stores; i++)
		if (strcmp(s->stores[i].name, name) == 0)
			return &s->stores[i];
	return NULL;
}

static int
dist_cert(const struct cfg_snapshot *s, const char *dname,
	  const json_t *certs, const char *which, enum cfg_key_kind kind,
	  const struct cfg_cert **out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(certs, which);
	const struct cfg_cert *c;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		set_err(err, errlen, "distribution \"%s\": certificates.%s must "
			"be a certificate name", dname, which);
		return -EINVAL;
	}
	c = find_cert(s, json_string_value(v));
	if (c == NULL) {
		set_err(err, errlen, "distribution \"%s\": certificates.%s "
			"names certificate \"%s\", which is not in the "
			"transaction; import it first", dname, which,
			json_string_value(v));
		return -ENOENT;
	}
	if (c->key_kind != kind) {
		set_err(err, errlen, "distribution \"%s\": certificates.%s "
			"names certificate \"%s\", which holds an %s key, not "
			"%s", dname, which, c->name, c->key_type,
			kind == CFG_KEY_ECDSA ? "ECDSA" : "RSA");
		return -EINVAL;
	}
	*out = c;
	return 0;
}

static int
dist_aliases(struct cfg_dist *d, const json_t *aliases, char *err,
	     size_t errlen)
{
	const json_t *v;
	size_t i, j;
	char *a;

	if (!json_is_array(aliases) || json_array_size(aliases) == 0 ||
	    json_array_size(aliases) > CFG_ALIASES_MAX) {
		set_err(err, errlen, "distribution \"%s\": aliases must be an "
			"array of 1 to %d host names", d->name,
			CFG_ALIASES_MAX);
		return -EINVAL;
	}
	d->aliases = calloc(json_array_size(aliases), sizeof(*d->aliases));
	if (d->aliases == NULL)
		return -ENOMEM;
	json_array_foreach(aliases, i, v) {
		if (!json_is_string(v)) {
			set_err(err, errlen, "distribution \"%s\": aliases[%zu] "
				"is not a string", d->name, i);
			return -EINVAL;
		}
		a = strdup(json_string_value(v));
		if (a == NULL)
			return -ENOMEM;
		d->aliases[d->nb_aliases++] = a;
		for (j = 0; a[j] != '\0'; j++)
			a[j] = (char)tolower((unsigned char)a[j]);
		if (!alias_valid(a)) {
			set_err(err, errlen, "distribution \"%s\": aliases[%zu] "
				"\"%s\" is not a host name or a one-label "
				"wildcard such as *.example.com", d->name, i,
				a);
			return -EINVAL;
		}
	}
	return 0;
}

static int
dist_tls(const struct cfg_snapshot *s, struct cfg_dist *d, const json_t *o,
	 char *err, size_t errlen)
{
	static const char *const policies[] = {
		"TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.3_2025",
	};
	const json_t *tls = json_object_get(o, "tls"), *mtls = NULL, *v;
	const char *pol = "TLSv1.2_2021", *mode = "off";
	unsigned int i;

	if (tls != NULL && !json_is_object(tls)) {
		set_err(err, errlen, "distribution \"%s\": tls must be an "
			"object", d->name);
		return -EINVAL;
	}
	v = json_object_get(tls, "security_policy");
	if (v != NULL) {
		pol = json_is_string(v) ? json_string_value(v) : "";
		for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
			if (strcmp(pol, policies[i]) == 0)
				break;
		if (i == sizeof(policies) / sizeof(policies[0])) {
			set_err(err, errlen, "distribution \"%s\": "
				"tls.security_policy must be one of "
				"TLSv1.2_2019, TLSv1.2_2021, TLSv1.3_2025",
				d->name);
			return -EINVAL;
		}
	}
	d->security_policy = strdup(pol);
	if (d->security_policy == NULL)
		return -ENOMEM;

	mtls = json_object_get(tls, "mtls");
	if (mtls != NULL && !json_is_object(mtls)) {
		set_err(err, errlen, "distribution \"%s\": tls.mtls must be an "
			"object", d->name);
		return -EINVAL;
	}
	v = json_object_get(mtls, "mode");
	if (v != NULL)
		mode = json_is_string(v) ? json_string_value(v) : "";
	if (strcmp(mode, "off") == 0) {
		d->mtls = CFG_MTLS_OFF;
	} else if (strcmp(mode, "optional") == 0) {
		d->mtls = CFG_MTLS_OPTIONAL;
	} else if (strcmp(mode, "required") == 0) {
		d->mtls = CFG_MTLS_REQUIRED;
	} else {
		set_err(err, errlen, "distribution \"%s\": tls.mtls.mode must "
			"be off, optional or required", d->name);
		return -EINVAL;
	}
	v = json_object_get(mtls, "trust_store");
	if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
		set_err(err, errlen, "distribution \"%s\": "
			"tls.mtls.trust_store must be a trust store name",
			d->name);
		return -EINVAL;
	}
	if (d->mtls == CFG_MTLS_OFF)
		return 0;
	if (!json_is_string(v)) {
		set_err(err, errlen, "distribution \"%s\": tls.mtls.mode is %s "
			"but no tls.mtls.trust_store is named", d->name, mode);
		return -EINVAL;
	}
	d->trust_store = find_store(s, json_string_value(v));
	if (d->trust_store == NULL) {
		set_err(err, errlen, "distribution \"%s\": tls.mtls.trust_store "
			"names trust store \"%s\", which is not in the "
			"transaction; create it first", d->name,
			json_string_value(v));
		return -ENOENT;
	}
	return 0;
}

/* ---------------------------------------------------------------- routing */

/*
 * The control plane validates distributions fully (controlplane/dist) and
 * pushes the normalised form; the checks here only make sure the
 * dataplane never publishes a snapshot a worker could misread: values
 * range-checked, references resolved, strings safe to write into a
 * header. Absent optional fields take the defaults of docs/CONTROL.md so
 * a hand-written push through the dataplane socket behaves the same.
 */

#define CFG_TIMEOUT_MIN_MS  100
#define CFG_TIMEOUT_MAX_MS  600000
#define CFG_HSTS_AGE_MAX    63072000
#define CFG_HDR_VALUE_MAX   1024
#define CFG_PIN_PREFIX      "sha256/"

static const char *const origin_protos[] = {
	[CFG_ORIGIN_HTTP_ONLY] = "http-only",
	[CFG_ORIGIN_HTTPS_ONLY] = "https-only",
	[CFG_ORIGIN_MATCH_VIEWER] = "match-viewer",
	NULL,
};
static const char *const verify_modes[] = {
	[CFG_VERIFY_STRICT] = "strict",
	[CFG_VERIFY_FULL] = "full",
	[CFG_VERIFY_PINNED] = "pinned",
	NULL,
};
static const char *const viewer_policies[] = {
	[CFG_VIEWER_ALLOW_ALL] = "allow-all",
	[CFG_VIEWER_REDIRECT_TO_HTTPS] = "redirect-to-https",
	[CFG_VIEWER_HTTPS_ONLY] = "https-only",
	NULL,
};
static const char *const frame_options[] = { "DENY", "SAMEORIGIN", NULL };
/* W3C Referrer Policy, section 3. */
static const char *const referrer_policies[] = {
	"no-referrer", "no-referrer-when-downgrade", "origin",
	"origin-when-cross-origin", "same-origin", "strict-origin",
	"strict-origin-when-cross-origin", "unsafe-url", NULL,
};

/* The JSON path of the member being parsed, for the error sentence:
 * "origins[1].verify.mode". */
struct cfg_at {
	const struct cfg_snapshot *s;   /* trust stores are looked up here */
	const struct cfg_dist *d;
	char path[96];
};

static int
at_fail(const struct cfg_at *at, const char *key, char *err, size_t errlen,
	const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	set_err(err, errlen, "distribution \"%s\": %s%s%s %s", at->d->name,
		at->path, at->path[0] != '\0' && key[0] != '\0' ? "." : "",
		key, what);
	return -EINVAL;
}

static int
get_int(const struct cfg_at *at, const json_t *o, const char *key,
	long long def, long long min, long long max, long long *out,
	char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return at_fail(at, key, err, errlen, "must be an integer "
			       "%lld-%lld", min, max);
	*out = json_integer_value(v);
	return 0;
}

static int
get_bool(const struct cfg_at *at, const json_t *o, const char *key, bool def,
	 bool *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return at_fail(at, key, err, errlen, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

/* The position of the member's value in names; def when absent (-1: the
 * member is required). */
static int
get_enum(const struct cfg_at *at, const json_t *o, const char *key,
	 const char *const *names, int def, int *out, char *err,
	 size_t errlen)
{
	const json_t *v = json_object_get(o, key);
	char list[160] = "";
	size_t n = 0;
	int i;

	if (v == NULL && def >= 0) {
		*out = def;
		return 0;
	}
	for (i = 0; names[i] != NULL; i++) {
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), names[i]) == 0) {
			*out = i;
			return 0;
		}
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				      i > 0 ? ", " : "", names[i]);
		if (n >= sizeof(list))
			n = sizeof(list) - 1;
	}
	return at_fail(at, key, err, errlen, "must be one of %s", list);
}

/* A string member: NULL in *out when absent and not required. */
static int
get_str(const struct cfg_at *at, const json_t *o, const char *key,
	bool required, const char **out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? at_fail(at, key, err, errlen, "is missing") :
				  0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return at_fail(at, key, err, errlen, "must be a non-empty "
			       "string without NUL bytes");
	*out = json_string_value(v);
	return 0;
}

/* Written verbatim into a header line: visible ASCII, spaces and tabs
 * (RFC 9110 field-value without obs-text), never CR or LF. */
static bool
header_value_safe(const char *v)
{
	for (; *v != '\0'; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') ||
		    (unsigned char)*v >= 0x7f)
			return false;
	return true;
}

/* Written into the Host header of origin requests. */
static bool
domain_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > CFG_HOST_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

static int
origin_pins(const struct cfg_at *at, struct cfg_origin *og, const json_t *pins,
	    char *err, size_t errlen)
{
	const size_t plen = sizeof(CFG_PIN_PREFIX) - 1;
	const char *pin, *end;
	const json_t *v;
	char key[32];
	size_t i, n;

	if (pins == NULL)
		return 0;
	if (!json_is_array(pins) || json_array_size(pins) > CFG_PINS_MAX)
		return at_fail(at, "pins", err, errlen, "must be an array of at "
			       "most %d SPKI pins", CFG_PINS_MAX);
	json_array_foreach(pins, i, v) {
		pin = json_string_value(v);
		end = NULL;
		n = 0;
		if (pin == NULL || strncmp(pin, CFG_PIN_PREFIX, plen) != 0 ||
		    sodium_base642bin(og->pins[og->nb_pins], CFG_PIN_LEN,
				      pin + plen, strlen(pin + plen), NULL, &n,
				      &end, sodium_base64_VARIANT_ORIGINAL) !=
		    0 || *end != '\0' || n != CFG_PIN_LEN) {
			snprintf(key, sizeof(key), "pins[%zu]", i);
			return at_fail(at, key, err, errlen, "is not "
				       "\"sha256/\" and the base64 of 32 "
				       "bytes");
		}
		og->nb_pins++;
	}
	return 0;
}

/* "resolved": {"addresses": [IPv4, ...], "ttl": N, "resolved_at": T},
 * pushed by the control plane for an origin named by domain only. */
static int
origin_resolved(const struct cfg_at *at, struct cfg_origin *og,
		const json_t *r, char *err, size_t errlen)
{
	const json_t *addrs, *v;
	struct cfg_at rat;
	long long n;
	size_t i;

	if (r == NULL)
		return 0;
	if (!json_is_object(r))
		return at_fail(at, "resolved", err, errlen, "must be an object");
	rat = *at;
	snprintf(rat.path, sizeof(rat.path), "%s.resolved", at->path);
	addrs = json_object_get(r, "addresses");
	if (!json_is_array(addrs) || json_array_size(addrs) == 0 ||
	    json_array_size(addrs) > CFG_RESOLVED_MAX)
		return at_fail(&rat, "addresses", err, errlen, "must be an "
			       "array of 1 to %d IPv4 addresses",
			       CFG_RESOLVED_MAX);
	json_array_foreach(addrs, i, v)
		if (!json_is_string(v) ||
		    inet_pton(AF_INET, json_string_value(v),
			      &og->resolved[i]) != 1)
			return at_fail(&rat, "addresses", err, errlen, "item "
				       "%zu is not an IPv4 address", i);
	if (get_int(&rat, r, "ttl", 0, 0, UINT32_MAX, &n, err, errlen) != 0)
		return -EINVAL;
	og->resolved_ttl = (uint32_t)n;
	if (get_int(&rat, r, "resolved_at", 0, 0, INT64_MAX, &n, err,
		    errlen) != 0)
		return -EINVAL;
	og->resolved_at = (uint64_t)n;
	og->nb_resolved = (unsigned int)json_array_size(addrs);
	return 0;
}

static int
build_origin(struct cfg_at *at, struct cfg_origin *og, const json_t *o,
	     char *err, size_t errlen)
{
	const json_t *protos, *verify, *v;
	const char *id, *domain, *addr, *ts;
	struct cfg_at vat;
	long long n = 0;
	size_t i, j;
	int e;

	if (!json_is_object(o))
		return at_fail(at, "", err, errlen, "must be an object");
	if (get_str(at, o, "id", true, &id, err, errlen) != 0 ||
	    get_str(at, o, "domain", true, &domain, err, errlen) != 0 ||
	    get_str(at, o, "address", false, &addr, err, errlen) != 0)
		return -EINVAL;
	if (!name_valid(id))
		return at_fail(at, "id", err, errlen, "\"%s\" is not 1-63 of "
			       "A-Z a-z 0-9 . _ - starting with a letter or "
			       "digit", id);
	og->id = strdup(id);
	og->domain = strdup(domain);
	if (og->id == NULL || og->domain == NULL)
		return -ENOMEM;
	for (i = 0; og->domain[i] != '\0'; i++)
		og->domain[i] = (char)tolower((unsigned char)og->domain[i]);
	if (!domain_valid(og->domain))
		return at_fail(at, "domain", err, errlen, "\"%s\" is not a host "
			       "name", domain);
	if (addr != NULL) {
		if (inet_pton(AF_INET, addr, &og->address) != 1)
			return at_fail(at, "address", err, errlen, "is not an "
				       "IPv4 address");
		og->has_address = true;
	}
	if (get_int(at, o, "http_port", 80, 1, 65535, &n, err, errlen) != 0)
		return -EINVAL;
	og->http_port = (uint16_t)n;
	if (get_int(at, o, "https_port", 443, 1, 65535, &n, err, errlen) != 0)
		return -EINVAL;
	og->https_port = (uint16_t)n;
	if (get_enum(at, o, "protocol_policy", origin_protos,
		     CFG_ORIGIN_HTTPS_ONLY, &e, err, errlen) != 0)
		return -EINVAL;
	og->protocol_policy = (enum cfg_origin_proto)e;

	protos = json_object_get(o, "tls_protocols");
	if (protos == NULL) {
		og->tls_protocols = CFG_ORIGIN_TLS12 | CFG_ORIGIN_TLS13;
	} else if (!json_is_array(protos) || json_array_size(protos) == 0) {
		return at_fail(at, "tls_protocols", err, errlen, "must list "
			       "TLSv1.2, TLSv1.3 or both");
	}
	json_array_foreach(protos, j, v) {
		const char *p = json_string_value(v);

		if (p != NULL && strcmp(p, "TLSv1.2") == 0)
			og->tls_protocols |= CFG_ORIGIN_TLS12;
		else if (p != NULL && strcmp(p, "TLSv1.3") == 0)
			og->tls_protocols |= CFG_ORIGIN_TLS13;
		else
			return at_fail(at, "tls_protocols", err, errlen, "must "
				       "hold only TLSv1.2 and TLSv1.3 (item "
				       "%zu is not)", j);
	}

	verify = json_object_get(o, "verify");
	if (verify != NULL && !json_is_object(verify))
		return at_fail(at, "verify", err, errlen, "must be an object");
	vat = *at;
	snprintf(vat.path, sizeof(vat.path), "%s.verify", at->path);
	if (get_enum(&vat, verify, "mode", verify_modes, CFG_VERIFY_STRICT, &e,
		     err, errlen) != 0 ||
	    origin_pins(&vat, og, json_object_get(verify, "pins"), err,
			errlen) != 0)
		return -EINVAL;
	og->verify = (enum cfg_verify_mode)e;
	if (og->verify == CFG_VERIFY_PINNED && og->nb_pins == 0)
		return at_fail(&vat, "pins", err, errlen, "must hold at least "
			       "one pin when mode is pinned");
	if (get_str(&vat, verify, "trust_store", false, &ts, err, errlen) != 0)
		return -EINVAL;
	if (ts != NULL) {
		og->trust_store = find_store(at->s, ts);
		if (og->trust_store == NULL)
			return at_fail(&vat, "trust_store", err, errlen, "names "
				       "trust store \"%s\", which is not in "
				       "the transaction; create it first", ts);
	}

	if (get_bool(at, o, "forward_host", false, &og->forward_host, err,
		     errlen) != 0 ||
	    get_int(at, o, "connect_timeout_ms", 5000, CFG_TIMEOUT_MIN_MS,
		    CFG_TIMEOUT_MAX_MS, &n, err, errlen) != 0)
		return -EINVAL;
	og->connect_timeout_ms = (uint32_t)n;
	if (get_int(at, o, "response_timeout_ms", 30000, CFG_TIMEOUT_MIN_MS,
		    CFG_TIMEOUT_MAX_MS, &n, err, errlen) != 0)
		return -EINVAL;
	og->response_timeout_ms = (uint32_t)n;
	if (get_int(at, o, "max_connections", 0, 0, CFG_MAX_CONNS_MAX, &n, err,
		    errlen) != 0)
		return -EINVAL;
	og->max_connections = (uint32_t)n;
	return origin_resolved(at, og, json_object_get(o, "resolved"), err,
			       errlen);
}

const struct cfg_origin *
cfg_dist_find_origin(const struct cfg_dist *d, const char *id)
{
	unsigned int i;

	for (i = 0; i < d->nb_origins; i++)
		if (strcmp(d->origins[i].id, id) == 0)
			return &d->origins[i];
	return NULL;
}

/* The origin and viewer policy of a behavior; pattern is not touched. */
static int
behavior_common(const struct cfg_at *at, const struct cfg_dist *d,
		struct cfg_behavior *b, const json_t *o, char *err,
		size_t errlen)
{
	const char *id;
	int e;

	if (get_str(at, o, "origin", true, &id, err, errlen) != 0)
		return -EINVAL;
	b->origin = cfg_dist_find_origin(d, id);
	if (b->origin == NULL)
		return at_fail(at, "origin", err, errlen, "names origin \"%s\", "
			       "which the distribution does not define", id);
	if (get_enum(at, o, "viewer_protocol_policy", viewer_policies,
		     CFG_VIEWER_REDIRECT_TO_HTTPS, &e, err, errlen) != 0)
		return -EINVAL;
	b->viewer_policy = (enum cfg_viewer_policy)e;
	return 0;
}

static int
build_behavior(const struct cfg_at *at, const struct cfg_dist *d,
	       struct cfg_behavior *b, const json_t *o, char *err,
	       size_t errlen)
{
	const char *pat, *p;
	unsigned int k;

	if (!json_is_object(o))
		return at_fail(at, "", err, errlen, "must be an object");
	if (get_str(at, o, "path_pattern", true, &pat, err, errlen) != 0)
		return -EINVAL;
	if ((pat[0] != '/' && strcmp(pat, "*") != 0) ||
	    strlen(pat) > CFG_PATTERN_MAX)
		return at_fail(at, "path_pattern", err, errlen, "must start "
			       "with \"/\" or be \"*\", at most %d bytes",
			       CFG_PATTERN_MAX);
	for (p = pat; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return at_fail(at, "path_pattern", err, errlen, "may "
				       "only hold printable ASCII without "
				       "spaces");
	/* A duplicate could never match: the earlier one wins. */
	for (k = 0; &d->behaviors[k] != b; k++)
		if (strcmp(d->behaviors[k].path_pattern, pat) == 0)
			return at_fail(at, "path_pattern", err, errlen, "\"%s\" "
				       "repeats behaviors[%u]", pat, k);
	b->path_pattern = strdup(pat);
	if (b->path_pattern == NULL)
		return -ENOMEM;
	b->pattern_len = strlen(pat);
	return behavior_common(at, d, b, o, err, errlen);
}

static int
hsts_value(const struct cfg_at *at, struct cfg_resp_headers *rh,
	   const json_t *hsts, char *err, size_t errlen)
{
	bool sub = false, preload = false;
	long long age = 0;
	char buf[96];

	if (hsts == NULL || json_is_null(hsts))
		return 0;
	if (!json_is_object(hsts))
		return at_fail(at, "hsts", err, errlen, "must be an object");
	if (json_object_get(hsts, "max_age") == NULL)
		return at_fail(at, "hsts.max_age", err, errlen, "is missing");
	if (get_int(at, hsts, "max_age", 0, 0, CFG_HSTS_AGE_MAX, &age, err,
		    errlen) != 0 ||
	    get_bool(at, hsts, "include_subdomains", false, &sub, err,
		     errlen) != 0 ||
	    get_bool(at, hsts, "preload", false, &preload, err, errlen) != 0)
		return -EINVAL;
	/* RFC 6797 section 6.1; the preload list's own requirements are
	 * the control plane's to enforce. */
	snprintf(buf, sizeof(buf), "max-age=%lld%s%s", age,
		 sub ? "; includeSubDomains" : "", preload ? "; preload" : "");
	rh->hsts = strdup(buf);
	return rh->hsts == NULL ? -ENOMEM : 0;
}

static int
build_resp_headers(struct cfg_dist *d, const json_t *o, char *err,
		   size_t errlen)
{
	struct cfg_resp_headers *rh = &d->resp_headers;
	struct cfg_at at = { .d = d };
	const char *csp;
	int e, rc;

	rh->override = true;
	if (o == NULL || json_is_null(o))
		return 0;
	snprintf(at.path, sizeof(at.path), "response_headers");
	if (!json_is_object(o))
		return at_fail(&at, "", err, errlen, "must be an object");
	rc = hsts_value(&at, rh, json_object_get(o, "hsts"), err, errlen);
	if (rc != 0)
		return rc;
	if (get_bool(&at, o, "content_type_options", false,
		     &rh->content_type_options, err, errlen) != 0 ||
	    get_bool(&at, o, "override", true, &rh->override, err, errlen) != 0)
		return -EINVAL;
	if (json_object_get(o, "frame_options") != NULL) {
		if (get_enum(&at, o, "frame_options", frame_options, -1, &e, err,
			     errlen) != 0)
			return -EINVAL;
		rh->frame_options = strdup(frame_options[e]);
		if (rh->frame_options == NULL)
			return -ENOMEM;
	}
	if (json_object_get(o, "referrer_policy") != NULL) {
		if (get_enum(&at, o, "referrer_policy", referrer_policies, -1,
			     &e, err, errlen) != 0)
			return -EINVAL;
		rh->referrer_policy = strdup(referrer_policies[e]);
		if (rh->referrer_policy == NULL)
			return -ENOMEM;
	}
	if (get_str(&at, o, "content_security_policy", false, &csp, err,
		    errlen) != 0)
		return -EINVAL;
	if (csp != NULL) {
		if (strlen(csp) > CFG_HDR_VALUE_MAX || !header_value_safe(csp))
			return at_fail(&at, "content_security_policy", err,
				       errlen, "must be at most %d bytes of "
				       "printable ASCII", CFG_HDR_VALUE_MAX);
		rh->content_security_policy = strdup(csp);
		if (rh->content_security_policy == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int
dist_routing(const struct cfg_snapshot *s, struct cfg_dist *d,
	     const json_t *o, char *err, size_t errlen)
{
	const json_t *origins = json_object_get(o, "origins");
	const json_t *behaviors = json_object_get(o, "behaviors");
	const json_t *dflt = json_object_get(o, "default_behavior");
	struct cfg_at at = { .s = s, .d = d };
	const json_t *v;
	size_t i;
	int rc;

	if (origins == NULL && behaviors == NULL && dflt == NULL)
		return build_resp_headers(d, json_object_get(o,
				"response_headers"), err, errlen);
	if (!json_is_array(origins) || json_array_size(origins) == 0 ||
	    json_array_size(origins) > CFG_ORIGINS_MAX)
		return at_fail(&at, "origins", err, errlen, "must be an array "
			       "of 1 to %d origins", CFG_ORIGINS_MAX);
	d->origins = calloc(json_array_size(origins), sizeof(*d->origins));
	if (d->origins == NULL)
		return -ENOMEM;
	json_array_foreach(origins, i, v) {
		snprintf(at.path, sizeof(at.path), "origins[%zu]", i);
		/* Counted first so a failure half-way frees the copies. */
		rc = build_origin(&at, &d->origins[d->nb_origins++], v, err,
				  errlen);
		if (rc != 0)
			return rc;
		if (cfg_dist_find_origin(d, d->origins[i].id) !=
		    &d->origins[i])
			return at_fail(&at, "id", err, errlen, "\"%s\" is used "
				       "by an earlier origin",
				       d->origins[i].id);
	}

	if (behaviors != NULL && (!json_is_array(behaviors) ||
				  json_array_size(behaviors) >
				  CFG_BEHAVIORS_MAX)) {
		at.path[0] = '\0';
		return at_fail(&at, "behaviors", err, errlen, "must be an array "
			       "of at most %d behaviors", CFG_BEHAVIORS_MAX);
	}
	if (json_array_size(behaviors) > 0) {
		d->behaviors = calloc(json_array_size(behaviors),
				      sizeof(*d->behaviors));
		if (d->behaviors == NULL)
			return -ENOMEM;
	}
	json_array_foreach(behaviors, i, v) {
		snprintf(at.path, sizeof(at.path), "behaviors[%zu]", i);
		rc = build_behavior(&at, d, &d->behaviors[d->nb_behaviors++], v,
				    err, errlen);
		if (rc != 0)
			return rc;
	}

	at.path[0] = '\0';
	if (!json_is_object(dflt))
		return at_fail(&at, "default_behavior", err, errlen, "must be an "
			       "object naming an origin");
	snprintf(at.path, sizeof(at.path), "default_behavior");
	rc = behavior_common(&at, d, &d->default_behavior, dflt, err, errlen);
	if (rc != 0)
		return rc;
	return build_resp_headers(d, json_object_get(o, "response_headers"),
				  err, errlen);
}

static int
build_dist(const struct cfg_snapshot *s, struct cfg_dist *d,
	   const char *name, const json_t *o, char *err, size_t errlen)
{
	const json_t *v, *certs, *listen;
	int rc;

	if (!json_is_object(o)) {
		set_err(err, errlen, "distribution \"%s\": not a JSON object",
			name);
		return -EINVAL;
	}
	d->name = strdup(name);
	if (d->name == NULL)
		return -ENOMEM;
	v = json_object_get(o, "name");
	if (v != NULL && (!json_is_string(v) ||
			  strcmp(json_string_value(v), name) != 0)) {
		set_err(err, errlen, "distribution \"%s\": its \"name\" field "
			"differs from the name it was staged under", name);
		return -EINVAL;
	}
	v = json_object_get(o, "enabled");
	if (v != NULL && !json_is_boolean(v)) {
		set_err(err, errlen, "distribution \"%s\": enabled must be true "
			"or false", name);
		return -EINVAL;
	}
	d->enabled = v == NULL || json_is_true(v);
	v = json_object_get(o, "default");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v)) {
		set_err(err, errlen, "distribution \"%s\": default must be true "
			"or false", name);
		return -EINVAL;
	}
	d->is_default = json_is_true(v);
	rc = dist_aliases(d, json_object_get(o, "aliases"), err, errlen);
	if (rc != 0)
		return rc;

	certs = json_object_get(o, "certificates");
	if (!json_is_object(certs)) {
		set_err(err, errlen, "distribution \"%s\": certificates must be "
			"an object naming an ecdsa and/or an rsa certificate",
			name);
		return -EINVAL;
	}
	rc = dist_cert(s, name, certs, "ecdsa", CFG_KEY_ECDSA, &d->ecdsa, err,
		       errlen);
	if (rc == 0)
		rc = dist_cert(s, name, certs, "rsa", CFG_KEY_RSA, &d->rsa, err,
			       errlen);
	if (rc != 0)
		return rc;
	if (d->ecdsa == NULL && d->rsa == NULL) {
		set_err(err, errlen, "distribution \"%s\": certificates names "
			"neither an ecdsa nor an rsa certificate", name);
		return -EINVAL;
	}

	listen = json_object_get(o, "listen");
	if (listen != NULL && !json_is_object(listen)) {
		set_err(err, errlen, "distribution \"%s\": listen must be an "
			"object", name);
		return -EINVAL;
	}
	v = json_object_get(listen, "address");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    inet_pton(AF_INET, json_string_value(v), &d->listen) != 1) {
			set_err(err, errlen, "distribution \"%s\": "
				"listen.address is not an IPv4 address", name);
			return -EINVAL;
		}
		d->has_listen = true;
	}
	rc = dist_tls(s, d, o, err, errlen);
	if (rc == 0)
		rc = dist_routing(s, d, o, err, errlen);
	if (rc != 0)
		return rc;
	d->json = json_deep_copy(o);
	return d->json == NULL ? -ENOMEM : 0;
}

/* Aliases unique in the node, dedicated listen addresses unique too. */
static int
build_index(struct cfg_snapshot *s, char *err, size_t errlen)
{
	const struct cfg_dist *owner;
	size_t n = 0;
	unsigned int i, j, k;

	for (i = 0; i < s->nb_dists; i++)
		n += s->dists[i].nb_aliases;
	if (sni_init(&s->exact, n) != 0 || sni_init(&s->wild, n) != 0)
		return -ENOMEM;
	for (i = 0; i < s->nb_dists; i++) {
		const struct cfg_dist *d = &s->dists[i];

		for (j = 0; j < d->nb_aliases; j++) {
			const char *a = d->aliases[j];

			if (a[0] == '*')
				owner = sni_insert(&s->wild, a + 2, d);
			else
				owner = sni_insert(&s->exact, a, d);
			if (owner == NULL)
				continue;
			if (owner == d)
				set_err(err, errlen, "distribution \"%s\": alias "
					"\"%s\" is listed twice", d->name, a);
			else
				set_err(err, errlen, "distribution \"%s\": alias "
					"\"%s\" is already claimed by "
					"distribution \"%s\"", d->name, a,
					owner->name);
			return -EEXIST;
		}
		if (d->is_default) {
			if (s->dflt != NULL) {
				set_err(err, errlen, "distribution \"%s\": "
					"\"default\": true, but distribution "
					"\"%s\" is already the default; at "
					"most one may be", d->name,
					s->dflt->name);
				return -EEXIST;
			}
			s->dflt = d;
		}
		if (!d->has_listen)
			continue;
		for (k = 0; k < i; k++) {
			if (!s->dists[k].has_listen ||
			    s->dists[k].listen.s_addr != d->listen.s_addr)
				continue;
			set_err(err, errlen, "distribution \"%s\": listen address "
				"%s is already used by distribution \"%s\"",
				d->name, inet_ntoa(d->listen),
				s->dists[k].name);
			return -EEXIST;
		}
	}
	return 0;
}

static int
check_kind(const json_t *o, const char *kind, char *err, size_t errlen)
{
	const char *name;
	json_t *v;

	if (o == NULL)
		return 0;
	if (!json_is_object(o)) {
		set_err(err, errlen, "the staged %ss are not a JSON object",
			kind);
		return -EINVAL;
	}
	json_object_foreach((json_t *)o, name, v) {
		(void)v;
		if (!name_valid(name)) {
			set_err(err, errlen, "%s \"%.80s\": a name is 1-63 of "
				"A-Z a-z 0-9 . _ - starting with a letter or "
				"digit", kind, name);
			return -EINVAL;
		}
	}
	return 0;
}

struct cfg_snapshot *
cfg_snapshot_build(uint64_t generation, const json_t *certs,
		   const json_t *truststores, const json_t *dists, char *err,
		   size_t errlen)
{
	struct cfg_snapshot *s;
	const char *name;
	json_t *v;
	int rc;

	if (generation == 0) {
		set_err(err, errlen, "generation must be greater than 0");
		return NULL;
	}
	if (check_kind(certs, "certificate", err, errlen) != 0 ||
	    check_kind(truststores, "trust store", err, errlen) != 0 ||
	    check_kind(dists, "distribution", err, errlen) != 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto nomem;
	s->refcnt = 1;
	s->generation = generation;
	s->certs = calloc(json_object_size(certs) + 1, sizeof(*s->certs));
	s->stores = calloc(json_object_size(truststores) + 1,
			   sizeof(*s->stores));
	s->dists = calloc(json_object_size(dists) + 1, sizeof(*s->dists));
	if (s->certs == NULL || s->stores == NULL || s->dists == NULL)
		goto nomem;

	/* Entries are counted as soon as they are touched so a failure
	 * half-way still frees what was copied. */
	json_object_foreach((json_t *)certs, name, v) {
		rc = build_cert(&s->certs[s->nb_certs++], name, v, err, errlen);
		if (rc != 0)
			goto fail;
	}
	json_object_foreach((json_t *)truststores, name, v) {
		rc = build_store(&s->stores[s->nb_stores++], name, v, err,
				 errlen);
		if (rc != 0)
			goto fail;
	}
	json_object_foreach((json_t *)dists, name, v) {
		s->dists[s->nb_dists].index = s->nb_dists;
		rc = build_dist(s, &s->dists[s->nb_dists++], name, v, err,
				errlen);
		if (rc != 0)
			goto fail;
	}
	rc = build_index(s, err, errlen);
	if (rc != 0)
		goto fail;
	return s;

fail:
	if (rc == -ENOMEM)
		set_err(err, errlen, "out of memory building the snapshot");
	snapshot_free(s);
	return NULL;
nomem:
	set_err(err, errlen, "out of memory building the snapshot");
	if (s != NULL)
		snapshot_free(s);
	return NULL;
}

/* ---------------------------------------------------------------- readers */

uint64_t
cfg_snapshot_generation(const struct cfg_snapshot *s)
{
	return s->generation;
}

unsigned int
cfg_snapshot_nb_dists(const struct cfg_snapshot *s)
{
	return s->nb_dists;
}

unsigned int
cfg_snapshot_nb_certs(const struct cfg_snapshot *s)
{
	return s->nb_certs;
}

unsigned int
cfg_snapshot_nb_truststores(const struct cfg_snapshot *s)
{
	return s->nb_stores;
}

const struct cfg_dist *
cfg_snapshot_dist(const struct cfg_snapshot *s, unsigned int i)
{
	return i < s->nb_dists ? &s->dists[i] : NULL;
}

const struct cfg_cert *
cfg_snapshot_find_cert(const struct cfg_snapshot *s, const char *name)
{
	return find_cert(s, name);
}

const struct cfg_dist *
cfg_snapshot_find_dist(const struct cfg_snapshot *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nb_dists; i++)
		if (strcmp(s->dists[i].name, name) == 0)
			return &s->dists[i];
	return NULL;
}

const struct cfg_dist *
cfg_snapshot_find_host(const struct cfg_snapshot *s, const char *host)
{
	char h[CFG_HOST_MAX + 2];
	const struct cfg_dist *d;
	const char *parent;
	size_t i, n = strlen(host);

	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 0 || n > CFG_HOST_MAX)
		return NULL;
	for (i = 0; i < n; i++)
		h[i] = (char)tolower((unsigned char)host[i]);
	h[n] = '\0';
	d = sni_find(&s->exact, h);
	if (d == NULL) {
		parent = strchr(h, '.');
		if (parent == NULL || parent == h)
			return NULL;
		d = sni_find(&s->wild, parent + 1);
	}
	return d != NULL && d->enabled ? d : NULL;
}

const struct cfg_dist *
cfg_snapshot_default(const struct cfg_snapshot *s)
{
	return s->dflt != NULL && s->dflt->enabled ? s->dflt : NULL;
}

const struct cfg_dist *
cfg_snapshot_find_listen(const struct cfg_snapshot *s, uint32_t addr)
{
	unsigned int i;

	/* A handful of dedicated addresses per node: a scan is enough. */
	for (i = 0; i < s->nb_dists; i++)
		if (s->dists[i].has_listen && s->dists[i].enabled &&
		    s->dists[i].listen.s_addr == addr)
			return &s->dists[i];
	return NULL;
}

void
cfg_snapshot_set_tls(struct cfg_snapshot *s, void *ext,
		     void (*free_fn)(void *ext))
{
	if (s->tls_free != NULL)
		s->tls_free(s->tls);
	s->tls = ext;
	s->tls_free = free_fn;
}

void *
cfg_snapshot_tls(const struct cfg_snapshot *s)
{
	return s->tls;
}

/* ---------------------------------------------------------------- publication */

void
cfg_snapshot_publish(struct cfg_snapshot **slot, struct cfg_snapshot *s)
{
	struct cfg_snapshot *old;

	old = rcu_xchg_pointer(slot, s);
	/* After the grace period no worker can still be between its
	 * rcu_dereference and its next quiescent state with old in hand;
	 * those that kept it took their own reference. */
	synchronize_rcu();
	cfg_snapshot_put(old);
}

struct cfg_snapshot *
cfg_snapshot_current(struct cfg_snapshot *const *slot)
{
	return rcu_dereference(*slot);
}

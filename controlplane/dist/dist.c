/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Distribution validation. The schema of docs/CONTROL.md is data (the
 * dist_field tables below) walked by one generic function, so a field's
 * type, range, default and path-bearing error come from a single table row;
 * only rules that relate several fields are code (the post hooks, then the
 * reference checks against the rest of the state).
 *
 * The normalised form is the walk's output: keys in table order, every
 * field with a default present, aliases and domains lower-cased. Fields
 * without a default (comment, listen.address, origins[].address,
 * certificates.*, tls.mtls.trust_store, origins[].verify.trust_store,
 * response_headers.hsts /
 * frame_options / referrer_policy / content_security_policy) stay absent
 * when not given: absence is their meaning ("none").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "controlplane/dist/dist.h"

#define DIST_PATH_MAX     256
#define DIST_MSG_MAX      512
#define DIST_QUOTE_MAX    64      /* bytes of a user value echoed in errors */
#define DIST_QUOTE_BUF    (DIST_QUOTE_MAX * 2 + 8)
#define DIST_HOST_MAX     253
#define DIST_LABEL_MAX    63
#define DIST_NAME_MAX     63
#define DIST_PIN_PREFIX   "sha256/"
#define DIST_PIN_BYTES    32
#define DIST_SANS_SHOWN   200     /* bytes of a certificate's names listed */
#define HSTS_PRELOAD_MIN  31536000

struct dist_ctx {
	const struct dist_refs *refs;
	const char *name;               /* for the error prefix; "?" if bad */
	char path[DIST_PATH_MAX];       /* JSON path being walked */
	size_t path_len;
	char *err;
	size_t errlen;
};

enum dist_kind { DK_STRING, DK_BOOL, DK_INT, DK_OBJECT, DK_ARRAY };

struct dist_field {
	const char *key;                /* NULL ends a table */
	enum dist_kind kind;
	bool required;
	const char *def;                /* JSON text of the default, or NULL */
	/* DK_STRING */
	size_t max_len;                 /* bytes; 0: unlimited */
	const char *const *oneof;       /* NULL-terminated allowed values */
	int (*check)(struct dist_ctx *c, char *s);  /* may rewrite s */
	/* DK_INT */
	json_int_t min, max;
	/* DK_OBJECT */
	const struct dist_field *fields;
	bool fill;                      /* absent: an object of its defaults */
	int (*post)(struct dist_ctx *c, json_t *obj);
	/* DK_ARRAY */
	const struct dist_field *item;
	size_t min_items, max_items;
	bool unique;                    /* scalar items must all differ */
	const char *unique_key;         /* object items: this key must differ */
};

/* ---- errors and paths ---- */

/* Echo a user-supplied string in quotes, escaped and cut short, so an error
 * stays one printable line whatever the input held. */
static const char *
dist_quote(char *buf, size_t size, const char *s)
{
	size_t o = 0, i;

	buf[o++] = '"';
	for (i = 0; s[i] != '\0' && o + 6 < size; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i == DIST_QUOTE_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ch == '"' || ch == '\\')
			buf[o++] = '\\';
		buf[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static int
dist_fail(struct dist_ctx *c, const char *fmt, ...)
{
	char msg[DIST_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err != NULL && c->errlen > 0)
		snprintf(c->err, c->errlen, "distribution \"%s\": %s: %s",
			 c->name, c->path, msg);
	return -EINVAL;
}

/* Returns the length to restore with dist_path_pop. Unknown keys come from
 * the user: non-printable bytes are shown as '?'. */
static size_t
dist_path_key(struct dist_ctx *c, const char *key)
{
	size_t mark = c->path_len, room = sizeof(c->path) - 1 - mark;
	size_t k = strlen(key), i;

	/* ".key", cut to what is left of the buffer. */
	if (room > 0) {
		if (k > room - 1)
			k = room - 1;
		c->path[mark] = '.';
		memcpy(c->path + mark + 1, key, k);
		c->path_len = mark + 1 + k;
		c->path[c->path_len] = '\0';
	}
	for (i = mark; i < c->path_len; i++)
		if ((unsigned char)c->path[i] < 0x20 || c->path[i] == 0x7f)
			c->path[i] = '?';
	return mark;
}

static size_t
dist_path_index(struct dist_ctx *c, size_t idx)
{
	size_t mark = c->path_len;
	int n;

	n = snprintf(c->path + mark, sizeof(c->path) - mark, "[%zu]", idx);
	if (n < 0 || (size_t)n >= sizeof(c->path) - mark)
		c->path_len = sizeof(c->path) - 1;
	else
		c->path_len = mark + (size_t)n;
	return mark;
}

static void
dist_path_pop(struct dist_ctx *c, size_t mark)
{
	c->path_len = mark;
	c->path[mark] = '\0';
}

static const char *
dist_json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:  return "an object";
	case JSON_ARRAY:   return "an array";
	case JSON_STRING:  return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL:    return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:   return "a boolean";
	case JSON_NULL:    return "null";
	}
	return "something else";
}

static int
dist_type_error(struct dist_ctx *c, const char *want, const json_t *v)
{
	return dist_fail(c, "expected %s, got %s", want, dist_json_kind(v));
}

/* ---- string rules ---- */

static int
check_name(struct dist_ctx *c, char *s)
{
	char q[DIST_QUOTE_BUF];

	if (dist_name_valid(s))
		return 0;
	return dist_fail(c, "%s is not a valid name: use 1-63 of A-Z a-z 0-9 "
			 ". _ -, starting with a letter or digit",
			 dist_quote(q, sizeof(q), s));
}

/* Lower-cases s and returns NULL when it is a hostname (with one leading
 * "*." label when wildcard), or why it is not. */
static const char *
dist_host_problem(char *s, bool wildcard)
{
	unsigned char a6[16];
	char *p, *label, *last = s;
	size_t len;

	for (p = s; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	len = strlen(s);
	if (len == 0)
		return "it is empty";
	if (inet_pton(AF_INET, s, a6) == 1 || inet_pton(AF_INET6, s, a6) == 1)
		return "an IP address is not a hostname";
	if (len > DIST_HOST_MAX)
		return "longer than 253 bytes";
	label = s;
	if (s[0] == '*') {
		if (!wildcard)
			return "wildcards are not allowed here";
		if (s[1] != '.')
			return "a wildcard must be a whole left-most label, \"*.\"";
		label = s + 2;
		if (strchr(label, '.') == NULL)
			return "a wildcard needs at least two labels after \"*.\"";
	}
	for (;;) {
		size_t n = strcspn(label, ".");
		size_t i;

		if (n == 0)
			return "it has an empty label";
		if (n > DIST_LABEL_MAX)
			return "a label is longer than 63 bytes";
		for (i = 0; i < n; i++) {
			char ch = label[i];

			if (ch == '*')
				return "only one leading \"*.\" wildcard label is allowed";
			if (!((ch >= 'a' && ch <= 'z') ||
			      (ch >= '0' && ch <= '9') || ch == '-'))
				return "labels may only hold a-z, 0-9 and '-'";
		}
		if (label[0] == '-' || label[n - 1] == '-')
			return "a label starts or ends with '-'";
		last = label;
		if (label[n] == '\0')
			break;
		label += n + 1;
	}
	/* No top-level domain is numeric; "10.1.2" is a mistyped address. */
	if (strspn(last, "0123456789") == strlen(last))
		return "the last label is all digits, like an IP address";
	return NULL;
}

static int
dist_check_host(struct dist_ctx *c, char *s, bool wildcard)
{
	char q[DIST_QUOTE_BUF], orig[DIST_QUOTE_MAX + 1];
	const char *why;

	snprintf(orig, sizeof(orig), "%s", s);
	why = dist_host_problem(s, wildcard);
	if (why == NULL)
		return 0;
	return dist_fail(c, "%s is not a valid hostname: %s",
			 dist_quote(q, sizeof(q), orig), why);
}

static int
check_alias(struct dist_ctx *c, char *s)
{
	return dist_check_host(c, s, true);
}

static int
check_hostname(struct dist_ctx *c, char *s)
{
	return dist_check_host(c, s, false);
}

static int
check_ipv4(struct dist_ctx *c, char *s)
{
	char q[DIST_QUOTE_BUF];
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) == 1)
		return 0;
	return dist_fail(c, "%s is not an IPv4 address",
			 dist_quote(q, sizeof(q), s));
}

static int
check_pin(struct dist_ctx *c, char *s)
{
	size_t plen = sizeof(DIST_PIN_PREFIX) - 1;
	unsigned char bin[DIST_PIN_BYTES];
	char q[DIST_QUOTE_BUF];
	const char *end = NULL;
	size_t n = 0;

	if (strncmp(s, DIST_PIN_PREFIX, plen) == 0 &&
	    sodium_base642bin(bin, sizeof(bin), s + plen, strlen(s + plen),
			      NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) == 0 &&
	    *end == '\0' && n == DIST_PIN_BYTES)
		return 0;
	return dist_fail(c, "%s is not an SPKI pin: expected \"sha256/\" and "
			 "the base64 of 32 bytes", dist_quote(q, sizeof(q), s));
}

static int
check_path_pattern(struct dist_ctx *c, char *s)
{
	char q[DIST_QUOTE_BUF];
	const char *p;

	if (s[0] != '/' && strcmp(s, "*") != 0)
		return dist_fail(c, "%s must start with \"/\" or be \"*\"",
				 dist_quote(q, sizeof(q), s));
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return dist_fail(c, "%s may only hold printable ASCII "
					 "without spaces",
					 dist_quote(q, sizeof(q), s));
	return 0;
}

static int
check_header_value(struct dist_ctx *c, char *s)
{
	if (strpbrk(s, "\r\n") != NULL)
		return dist_fail(c, "must not contain CR or LF");
	return 0;
}

/* ---- cross-field rules inside one object ---- */

static int
post_certificates(struct dist_ctx *c, json_t *obj)
{
	if (json_object_get(obj, "ecdsa") == NULL &&
	    json_object_get(obj, "rsa") == NULL)
		return dist_fail(c, "name at least one certificate, "
				 "\"ecdsa\" or \"rsa\"");
	return 0;
}

static int
post_mtls(struct dist_ctx *c, json_t *obj)
{
	const char *mode = json_string_value(json_object_get(obj, "mode"));
	size_t mark;
	int rc = 0;

	if (strcmp(mode, "off") != 0 &&
	    json_object_get(obj, "trust_store") == NULL) {
		mark = dist_path_key(c, "trust_store");
		rc = dist_fail(c, "required when mode is \"%s\"", mode);
		dist_path_pop(c, mark);
	}
	return rc;
}

static int
post_verify(struct dist_ctx *c, json_t *obj)
{
	const char *mode = json_string_value(json_object_get(obj, "mode"));
	size_t pins = json_array_size(json_object_get(obj, "pins"));
	size_t mark = dist_path_key(c, "pins");
	int rc = 0;

	if (strcmp(mode, "pinned") == 0 && pins == 0)
		rc = dist_fail(c, "mode \"pinned\" needs 1-8 pins");
	else if (strcmp(mode, "pinned") != 0 && pins > 0)
		rc = dist_fail(c, "pins are only used with mode \"pinned\", "
			       "but mode is \"%s\"", mode);
	dist_path_pop(c, mark);
	if (rc == 0 && strcmp(mode, "strict") != 0 &&
	    json_object_get(obj, "trust_store") != NULL) {
		mark = dist_path_key(c, "trust_store");
		rc = dist_fail(c, "a trust store is only used with mode "
			       "\"strict\", but mode is \"%s\"", mode);
		dist_path_pop(c, mark);
	}
	return rc;
}

static int
post_hsts(struct dist_ctx *c, json_t *obj)
{
	json_int_t age = json_integer_value(json_object_get(obj, "max_age"));
	size_t mark;
	int rc = 0;

	if (!json_is_true(json_object_get(obj, "preload")))
		return 0;
	mark = dist_path_key(c, "preload");
	if (age < HSTS_PRELOAD_MIN)
		rc = dist_fail(c, "preload needs max_age >= %d, but max_age "
			       "is %" JSON_INTEGER_FORMAT, HSTS_PRELOAD_MIN, age);
	else if (!json_is_true(json_object_get(obj, "include_subdomains")))
		rc = dist_fail(c, "preload needs include_subdomains");
	dist_path_pop(c, mark);
	return rc;
}

static int post_distribution(struct dist_ctx *c, json_t *d);

/* ---- the schema ---- */

static const char *const security_policies[] = {
	"TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.3_2025", NULL };
static const char *const mtls_modes[] = {
	"off", "optional", "required", NULL };
static const char *const protocol_policies[] = {
	"http-only", "https-only", "match-viewer", NULL };
static const char *const tls_protocols[] = { "TLSv1.2", "TLSv1.3", NULL };
static const char *const verify_modes[] = {
	"strict", "full", "pinned", NULL };
static const char *const viewer_policies[] = {
	"allow-all", "redirect-to-https", "https-only", NULL };
static const char *const frame_options[] = { "DENY", "SAMEORIGIN", NULL };
/* W3C Referrer Policy, section 3. */
static const char *const referrer_policies[] = {
	"no-referrer", "no-referrer-when-downgrade", "origin",
	"origin-when-cross-origin", "same-origin", "strict-origin",
	"strict-origin-when-cross-origin", "unsafe-url", NULL };

static const struct dist_field alias_item = {
	.kind = DK_STRING, .check = check_alias };
static const struct dist_field pin_item = {
	.kind = DK_STRING, .check = check_pin };
static const struct dist_field tls_protocol_item = {
	.kind = DK_STRING, .oneof = tls_protocols };

static const struct dist_field certificates_fields[] = {
	{ .key = "ecdsa", .kind = DK_STRING, .check = check_name },
	{ .key = "rsa", .kind = DK_STRING, .check = check_name },
	{ 0 }
};

static const struct dist_field listen_fields[] = {
	{ .key = "address", .kind = DK_STRING, .check = check_ipv4 },
	{ 0 }
};

static const struct dist_field mtls_fields[] = {
	{ .key = "mode", .kind = DK_STRING, .def = "\"off\"",
	  .oneof = mtls_modes },
	{ .key = "trust_store", .kind = DK_STRING, .check = check_name },
	{ 0 }
};

static const struct dist_field tls_fields[] = {
	{ .key = "security_policy", .kind = DK_STRING,
	  .def = "\"TLSv1.2_2021\"", .oneof = security_policies },
	{ .key = "mtls", .kind = DK_OBJECT, .fields = mtls_fields,
	  .fill = true, .post = post_mtls },
	{ 0 }
};

static const struct dist_field verify_fields[] = {
	{ .key = "mode", .kind = DK_STRING, .def = "\"strict\"",
	  .oneof = verify_modes },
	{ .key = "pins", .kind = DK_ARRAY, .def = "[]", .item = &pin_item,
	  .max_items = 8, .unique = true },
	{ .key = "trust_store", .kind = DK_STRING, .check = check_name },
	{ 0 }
};

static const struct dist_field origin_fields[] = {
	{ .key = "id", .kind = DK_STRING, .required = true,
	  .check = check_name },
	{ .key = "domain", .kind = DK_STRING, .required = true,
	  .check = check_hostname },
	{ .key = "address", .kind = DK_STRING, .check = check_ipv4 },
	{ .key = "http_port", .kind = DK_INT, .def = "80",
	  .min = 1, .max = 65535 },
	{ .key = "https_port", .kind = DK_INT, .def = "443",
	  .min = 1, .max = 65535 },
	{ .key = "protocol_policy", .kind = DK_STRING, .def = "\"https-only\"",
	  .oneof = protocol_policies },
	{ .key = "tls_protocols", .kind = DK_ARRAY,
	  .def = "[\"TLSv1.2\", \"TLSv1.3\"]", .item = &tls_protocol_item,
	  .min_items = 1, .max_items = 2, .unique = true },
	{ .key = "verify", .kind = DK_OBJECT, .fields = verify_fields,
	  .fill = true, .post = post_verify },
	{ .key = "forward_host", .kind = DK_BOOL, .def = "false" },
	{ .key = "connect_timeout_ms", .kind = DK_INT, .def = "5000",
	  .min = 100, .max = 600000 },
	{ .key = "response_timeout_ms", .kind = DK_INT, .def = "30000",
	  .min = 100, .max = 600000 },
	{ .key = "max_connections", .kind = DK_INT, .def = "0",
	  .min = 0, .max = 100000 },
	{ 0 }
};

static const struct dist_field origin_item = {
	.kind = DK_OBJECT, .fields = origin_fields };

static const struct dist_field behavior_fields[] = {
	{ .key = "path_pattern", .kind = DK_STRING, .required = true,
	  .max_len = 255, .check = check_path_pattern },
	{ .key = "origin", .kind = DK_STRING, .required = true,
	  .check = check_name },
	{ .key = "viewer_protocol_policy", .kind = DK_STRING,
	  .def = "\"redirect-to-https\"", .oneof = viewer_policies },
	{ 0 }
};

static const struct dist_field behavior_item = {
	.kind = DK_OBJECT, .fields = behavior_fields };

static const struct dist_field default_behavior_fields[] = {
	{ .key = "origin", .kind = DK_STRING, .required = true,
	  .check = check_name },
	{ .key = "viewer_protocol_policy", .kind = DK_STRING,
	  .def = "\"redirect-to-https\"", .oneof = viewer_policies },
	{ 0 }
};

static const struct dist_field hsts_fields[] = {
	{ .key = "max_age", .kind = DK_INT, .required = true,
	  .min = 0, .max = 63072000 },
	{ .key = "include_subdomains", .kind = DK_BOOL, .def = "false" },
	{ .key = "preload", .kind = DK_BOOL, .def = "false" },
	{ 0 }
};

static const struct dist_field response_headers_fields[] = {
	{ .key = "hsts", .kind = DK_OBJECT, .fields = hsts_fields,
	  .post = post_hsts },
	{ .key = "content_type_options", .kind = DK_BOOL, .def = "false" },
	{ .key = "frame_options", .kind = DK_STRING, .oneof = frame_options },
	{ .key = "referrer_policy", .kind = DK_STRING,
	  .oneof = referrer_policies },
	{ .key = "content_security_policy", .kind = DK_STRING,
	  .max_len = 1024, .check = check_header_value },
	{ .key = "override", .kind = DK_BOOL, .def = "true" },
	{ 0 }
};

static const struct dist_field distribution_fields[] = {
	{ .key = "name", .kind = DK_STRING, .required = true,
	  .check = check_name },
	{ .key = "comment", .kind = DK_STRING, .max_len = 256 },
	{ .key = "enabled", .kind = DK_BOOL, .def = "true" },
	{ .key = "default", .kind = DK_BOOL, .def = "false" },
	{ .key = "aliases", .kind = DK_ARRAY, .required = true,
	  .item = &alias_item, .min_items = 1, .max_items = 100,
	  .unique = true },
	{ .key = "certificates", .kind = DK_OBJECT, .required = true,
	  .fields = certificates_fields, .post = post_certificates },
	{ .key = "listen", .kind = DK_OBJECT, .fields = listen_fields,
	  .fill = true },
	{ .key = "tls", .kind = DK_OBJECT, .fields = tls_fields, .fill = true },
	{ .key = "origins", .kind = DK_ARRAY, .required = true,
	  .item = &origin_item, .min_items = 1, .max_items = 16,
	  .unique_key = "id" },
	{ .key = "behaviors", .kind = DK_ARRAY, .def = "[]",
	  .item = &behavior_item, .max_items = 64,
	  .unique_key = "path_pattern" },
	{ .key = "default_behavior", .kind = DK_OBJECT, .required = true,
	  .fields = default_behavior_fields },
	{ .key = "response_headers", .kind = DK_OBJECT,
	  .fields = response_headers_fields, .fill = true },
	{ 0 }
};

static const struct dist_field distribution = {
	.kind = DK_OBJECT, .fields = distribution_fields,
	.post = post_distribution };

/* ---- the walk ---- */

static int dist_walk(struct dist_ctx *c, const struct dist_field *f,
		     json_t *v, json_t **out);

static int
dist_one_of(struct dist_ctx *c, const char *const *oneof, const char *s)
{
	char list[DIST_MSG_MAX / 2] = "", q[DIST_QUOTE_BUF];
	size_t i, o = 0;

	for (i = 0; oneof[i] != NULL; i++) {
		if (strcmp(oneof[i], s) == 0)
			return 0;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
				      i > 0 ? ", " : "", oneof[i]);
		if (o >= sizeof(list))
			o = sizeof(list) - 1;
	}
	return dist_fail(c, "%s is not one of %s",
			 dist_quote(q, sizeof(q), s), list);
}

static int
dist_walk_string(struct dist_ctx *c, const struct dist_field *f, json_t *v,
		 json_t **out)
{
	size_t len;
	char *s;
	int rc;

	if (!json_is_string(v))
		return dist_type_error(c, "a string", v);
	len = json_string_length(v);
	if (memchr(json_string_value(v), '\0', len) != NULL)
		return dist_fail(c, "contains a NUL byte");
	if (f->max_len > 0 && len > f->max_len)
		return dist_fail(c, "is %zu bytes long; at most %zu are allowed",
				 len, f->max_len);
	if (f->oneof != NULL) {
		rc = dist_one_of(c, f->oneof, json_string_value(v));
		if (rc == 0 && (*out = json_copy(v)) == NULL)
			rc = dist_fail(c, "out of memory");
		return rc;
	}
	s = strdup(json_string_value(v));
	if (s == NULL)
		return dist_fail(c, "out of memory");
	rc = f->check != NULL ? f->check(c, s) : 0;
	if (rc == 0) {
		*out = json_string(s);
		if (*out == NULL)
			rc = dist_fail(c, "out of memory");
	}
	free(s);
	return rc;
}

static int
dist_walk_int(struct dist_ctx *c, const struct dist_field *f, json_t *v,
	      json_t **out)
{
	json_int_t n;

	if (!json_is_integer(v))
		return dist_type_error(c, "an integer", v);
	n = json_integer_value(v);
	if (n < f->min || n > f->max)
		return dist_fail(c, "%" JSON_INTEGER_FORMAT " is out of range %"
				 JSON_INTEGER_FORMAT "-%" JSON_INTEGER_FORMAT,
				 n, f->min, f->max);
	*out = json_integer(n);
	return *out != NULL ? 0 : dist_fail(c, "out of memory");
}

static const struct dist_field *
dist_field_find(const struct dist_field *fields, const char *key)
{
	for (; fields->key != NULL; fields++)
		if (strcmp(fields->key, key) == 0)
			return fields;
	return NULL;
}

/* The value of an absent field: its default, an object of its own
 * defaults, nothing, or an error when it is required. */
static int
dist_default(struct dist_ctx *c, const struct dist_field *f, json_t **out)
{
	json_t *empty;
	int rc;

	if (f->required)
		return dist_fail(c, "required field is missing");
	if (f->kind == DK_OBJECT && f->fill) {
		empty = json_object();
		if (empty == NULL)
			return dist_fail(c, "out of memory");
		rc = dist_walk(c, f, empty, out);
		json_decref(empty);
		return rc;
	}
	if (f->def != NULL) {
		*out = json_loads(f->def, JSON_DECODE_ANY, NULL);
		if (*out == NULL)
			return dist_fail(c, "out of memory");
	}
	return 0;
}

static int
dist_walk_object(struct dist_ctx *c, const struct dist_field *f, json_t *v,
		 json_t **out)
{
	const struct dist_field *sf;
	const char *key;
	json_t *obj, *sub, *val;
	size_t mark;
	int rc = 0;

	if (!json_is_object(v))
		return dist_type_error(c, "an object", v);
	/* Unknown keys first: a misspelt optional field would otherwise be
	 * silently replaced by its default. */
	json_object_foreach(v, key, val) {
		if (dist_field_find(f->fields, key) == NULL) {
			dist_path_key(c, key);
			return dist_fail(c, "unknown field");
		}
	}
	obj = json_object();
	if (obj == NULL)
		return dist_fail(c, "out of memory");
	for (sf = f->fields; sf->key != NULL && rc == 0; sf++) {
		sub = NULL;
		mark = dist_path_key(c, sf->key);
		val = json_object_get(v, sf->key);
		rc = val != NULL ? dist_walk(c, sf, val, &sub) :
				   dist_default(c, sf, &sub);
		if (rc == 0 && sub != NULL &&
		    json_object_set_new(obj, sf->key, sub) != 0)
			rc = dist_fail(c, "out of memory");
		if (rc == 0)
			dist_path_pop(c, mark);
	}
	if (rc == 0 && f->post != NULL)
		rc = f->post(c, obj);
	if (rc != 0) {
		json_decref(obj);
		return rc;
	}
	*out = obj;
	return 0;
}

/* Which earlier item of arr has the same value (or the same value under
 * key); -1 when none. */
static long
dist_find_dup(json_t *arr, json_t *item, const char *key)
{
	json_t *want = key != NULL ? json_object_get(item, key) : item;
	size_t i;

	for (i = 0; i < json_array_size(arr); i++) {
		json_t *have = json_array_get(arr, i);

		if (key != NULL)
			have = json_object_get(have, key);
		if (json_equal(have, want))
			return (long)i;
	}
	return -1;
}

static int
dist_walk_array(struct dist_ctx *c, const struct dist_field *f, json_t *v,
		json_t **out)
{
	size_t n, i, arr_mark, mark;
	json_t *arr, *item;
	char q[DIST_QUOTE_BUF];
	long dup;
	int rc = 0;

	if (!json_is_array(v))
		return dist_type_error(c, "an array", v);
	n = json_array_size(v);
	if (n < f->min_items)
		return dist_fail(c, "needs at least %zu item%s, got %zu",
				 f->min_items, f->min_items == 1 ? "" : "s", n);
	if (n > f->max_items)
		return dist_fail(c, "has %zu items; at most %zu are allowed",
				 n, f->max_items);
	arr = json_array();
	if (arr == NULL)
		return dist_fail(c, "out of memory");
	arr_mark = c->path_len;
	for (i = 0; i < n && rc == 0; i++) {
		item = NULL;
		mark = dist_path_index(c, i);
		rc = dist_walk(c, f->item, json_array_get(v, i), &item);
		if (rc != 0)
			break;
		dup = f->unique || f->unique_key != NULL ?
		      dist_find_dup(arr, item, f->unique_key) : -1;
		if (dup >= 0) {
			const json_t *s = f->unique_key != NULL ?
				json_object_get(item, f->unique_key) : item;

			if (f->unique_key != NULL)
				dist_path_key(c, f->unique_key);
			rc = dist_fail(c, "duplicate %s, already at %.*s[%ld]%s%s",
				       dist_quote(q, sizeof(q),
						  json_string_value(s)),
				       (int)arr_mark, c->path, dup,
				       f->unique_key != NULL ? "." : "",
				       f->unique_key != NULL ?
				       f->unique_key : "");
			json_decref(item);
			break;
		}
		if (json_array_append_new(arr, item) != 0)
			rc = dist_fail(c, "out of memory");
		else
			dist_path_pop(c, mark);
	}
	if (rc != 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

static int
dist_walk(struct dist_ctx *c, const struct dist_field *f, json_t *v,
	  json_t **out)
{
	switch (f->kind) {
	case DK_STRING:
		return dist_walk_string(c, f, v, out);
	case DK_BOOL:
		if (!json_is_boolean(v))
			return dist_type_error(c, "a boolean", v);
		*out = json_boolean(json_is_true(v));
		return 0;
	case DK_INT:
		return dist_walk_int(c, f, v, out);
	case DK_OBJECT:
		return dist_walk_object(c, f, v, out);
	case DK_ARRAY:
		return dist_walk_array(c, f, v, out);
	}
	return dist_fail(c, "internal error: unknown schema kind");
}

/* ---- rules across the distribution and references to the state ---- */

/* RFC 6125 section 6.4.3, narrowed: a wildcard is a whole left-most label
 * and stands for exactly one label; a wildcard alias is served only by the
 * identical wildcard SAN, since one certificate must cover every name the
 * alias may match. */
static bool
dist_san_covers(const char *san, const char *host)
{
	const char *dot;

	if (strcasecmp(san, host) == 0)
		return true;
	if (host[0] == '*' || san[0] != '*' || san[1] != '.')
		return false;
	dot = strchr(host, '.');
	return dot != NULL && dot != host && strcasecmp(dot + 1, san + 2) == 0;
}

static bool
dist_cert_covers(const struct cert_info *ci, const char *host)
{
	unsigned int i;

	for (i = 0; i < ci->n_sans && i < CERT_MAX_SANS; i++)
		if (ci->sans[i] != NULL && dist_san_covers(ci->sans[i], host))
			return true;
	return false;
}

static void
dist_cert_names(const struct cert_info *ci, char *buf, size_t size)
{
	size_t o = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < ci->n_sans && i < CERT_MAX_SANS; i++) {
		if (o > DIST_SANS_SHOWN) {
			snprintf(buf + o, size - o, ", ...");
			return;
		}
		o += (size_t)snprintf(buf + o, size - o, "%s%s",
				      i > 0 ? ", " : "", ci->sans[i]);
		if (o >= size)
			return;
	}
}

static const char *
dist_key_name(enum cert_key_kind k)
{
	return k == CERT_KEY_ECDSA ? "ECDSA" : "RSA";
}

static int
dist_check_cert(struct dist_ctx *c, json_t *d, const char *slot,
		enum cert_key_kind want)
{
	json_t *aliases = json_object_get(d, "aliases"), *a;
	char q[DIST_QUOTE_BUF], names[DIST_SANS_SHOWN + 64];
	const struct cert_info *ci;
	const char *name, *alias;
	size_t i, mark = c->path_len;

	name = json_string_value(json_object_get(
			json_object_get(d, "certificates"), slot));
	if (name == NULL || c->refs->cert == NULL)
		return 0;
	dist_path_key(c, "certificates");
	dist_path_key(c, slot);
	ci = c->refs->cert(name, c->refs->arg);
	if (ci == NULL)
		return dist_fail(c, "certificate \"%s\" does not exist", name);
	if (ci->key_kind != want)
		return dist_fail(c, "certificate \"%s\" has an %s key, not %s",
				 name, dist_key_name(ci->key_kind),
				 dist_key_name(want));
	json_array_foreach(aliases, i, a) {
		alias = json_string_value(a);
		if (dist_cert_covers(ci, alias))
			continue;
		if (ci->n_sans == 0)
			return dist_fail(c, "certificate \"%s\" does not cover "
					 "alias %s (it has no DNS names)", name,
					 dist_quote(q, sizeof(q), alias));
		dist_cert_names(ci, names, sizeof(names));
		return dist_fail(c, "certificate \"%s\" does not cover alias %s "
				 "(its names: %s)", name,
				 dist_quote(q, sizeof(q), alias), names);
	}
	dist_path_pop(c, mark);
	return 0;
}

static int
dist_check_refs(struct dist_ctx *c, json_t *d)
{
	const struct dist_refs *r = c->refs;
	json_t *aliases = json_object_get(d, "aliases"), *o;
	char q[DIST_QUOTE_BUF];
	const char *s, *owner;
	size_t i;
	int rc;

	for (i = 0; r->alias_owner != NULL && i < json_array_size(aliases);
	     i++) {
		s = json_string_value(json_array_get(aliases, i));
		owner = r->alias_owner(s, c->name, r->arg);
		if (owner != NULL) {
			dist_path_key(c, "aliases");
			dist_path_index(c, i);
			return dist_fail(c, "%s already belongs to distribution "
					 "\"%s\"", dist_quote(q, sizeof(q), s),
					 owner);
		}
	}
	s = json_string_value(json_object_get(json_object_get(d, "listen"),
					      "address"));
	if (s != NULL && r->address_owner != NULL &&
	    (owner = r->address_owner(s, c->name, r->arg)) != NULL) {
		dist_path_key(c, "listen");
		dist_path_key(c, "address");
		return dist_fail(c, "%s is already used by distribution \"%s\"",
				 dist_quote(q, sizeof(q), s), owner);
	}
	if (json_is_true(json_object_get(d, "default")) &&
	    r->default_owner != NULL &&
	    (owner = r->default_owner(c->name, r->arg)) != NULL) {
		dist_path_key(c, "default");
		return dist_fail(c, "distribution \"%s\" is already the default; "
				 "set \"default\": false there first", owner);
	}
	rc = dist_check_cert(c, d, "ecdsa", CERT_KEY_ECDSA);
	if (rc == 0)
		rc = dist_check_cert(c, d, "rsa", CERT_KEY_RSA);
	if (rc != 0)
		return rc;
	s = json_string_value(json_object_get(json_object_get(
			json_object_get(d, "tls"), "mtls"), "trust_store"));
	if (s != NULL && r->truststore_exists != NULL &&
	    !r->truststore_exists(s, r->arg)) {
		dist_path_key(c, "tls");
		dist_path_key(c, "mtls");
		dist_path_key(c, "trust_store");
		return dist_fail(c, "trust store %s does not exist",
				 dist_quote(q, sizeof(q), s));
	}
	json_array_foreach(json_object_get(d, "origins"), i, o) {
		s = json_string_value(json_object_get(json_object_get(o,
				"verify"), "trust_store"));
		if (s == NULL || r->truststore_exists == NULL ||
		    r->truststore_exists(s, r->arg))
			continue;
		dist_path_key(c, "origins");
		dist_path_index(c, i);
		dist_path_key(c, "verify");
		dist_path_key(c, "trust_store");
		return dist_fail(c, "trust store %s does not exist",
				 dist_quote(q, sizeof(q), s));
	}
	return 0;
}

static bool
dist_has_origin(json_t *d, const char *id)
{
	json_t *origins = json_object_get(d, "origins"), *o;
	const char *have;
	size_t i;

	json_array_foreach(origins, i, o) {
		have = json_string_value(json_object_get(o, "id"));
		if (strcmp(have, id) == 0)
			return true;
	}
	return false;
}

static int
post_distribution(struct dist_ctx *c, json_t *d)
{
	json_t *behaviors = json_object_get(d, "behaviors"), *b;
	char q[DIST_QUOTE_BUF];
	const char *id;
	size_t i;

	json_array_foreach(behaviors, i, b) {
		id = json_string_value(json_object_get(b, "origin"));
		if (!dist_has_origin(d, id)) {
			dist_path_key(c, "behaviors");
			dist_path_index(c, i);
			dist_path_key(c, "origin");
			return dist_fail(c, "no origin with id %s",
					 dist_quote(q, sizeof(q), id));
		}
	}
	id = json_string_value(json_object_get(
			json_object_get(d, "default_behavior"), "origin"));
	if (!dist_has_origin(d, id)) {
		dist_path_key(c, "default_behavior");
		dist_path_key(c, "origin");
		return dist_fail(c, "no origin with id %s",
				 dist_quote(q, sizeof(q), id));
	}
	return dist_check_refs(c, d);
}

/* ---- public ---- */

json_t *
dist_validate(const json_t *in, const struct dist_refs *refs,
	      char *err, size_t errlen)
{
	static const struct dist_refs no_refs;
	struct dist_ctx c = {
		.refs = refs != NULL ? refs : &no_refs,
		.name = "?",
		.path = "$",
		.path_len = 1,
		.err = err,
		.errlen = errlen,
	};
	const char *name = json_string_value(json_object_get(in, "name"));
	json_t *out = NULL;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (name != NULL && dist_name_valid(name))
		c.name = name;
	if (in == NULL) {
		dist_fail(&c, "expected an object, got nothing");
		return NULL;
	}
	/* The walk only reads in; jansson's iterators just lack const. */
	if (dist_walk(&c, &distribution, (json_t *)in, &out) != 0)
		return NULL;
	return out;
}

bool
dist_name_valid(const char *name)
{
	size_t len, i;

	if (name == NULL)
		return false;
	len = strlen(name);
	if (len == 0 || len > DIST_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char ch = name[i];
		bool alnum = (ch >= 'a' && ch <= 'z') ||
			     (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');

		if (!alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-')))
			return false;
	}
	return true;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* Distribution validation: the docs/CONTROL.md example, a table of broken
 * inputs each pinned to its JSON path and wording, references to the rest
 * of the state, defaults, key order and idempotence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controlplane/dist/dist.h"

/* The example of docs/CONTROL.md, "Distributions", verbatim. */
static const char example_json[] =
	"{\n"
	"  \"name\": \"shop\",\n"
	"  \"comment\": \"storefront\",\n"
	"  \"enabled\": true,\n"
	"  \"default\": false,\n"
	"  \"aliases\": [\"shop.example.com\", \"*.cdn.example.com\"],\n"
	"  \"certificates\": { \"ecdsa\": \"shop-ec\", \"rsa\": \"shop-rsa\" },\n"
	"  \"listen\": { \"address\": \"198.51.100.10\" },\n"
	"  \"tls\": {\n"
	"    \"security_policy\": \"TLSv1.2_2021\",\n"
	"    \"mtls\": { \"mode\": \"off\", \"trust_store\": \"partners\" }\n"
	"  },\n"
	"  \"origins\": [\n"
	"    {\n"
	"      \"id\": \"web\",\n"
	"      \"domain\": \"origin.example.com\",\n"
	"      \"address\": \"192.0.2.80\",\n"
	"      \"http_port\": 80,\n"
	"      \"https_port\": 443,\n"
	"      \"protocol_policy\": \"https-only\",\n"
	"      \"tls_protocols\": [\"TLSv1.2\", \"TLSv1.3\"],\n"
	"      \"verify\": { \"mode\": \"strict\", \"pins\": [] },\n"
	"      \"forward_host\": false,\n"
	"      \"connect_timeout_ms\": 5000,\n"
	"      \"response_timeout_ms\": 30000,\n"
	"      \"max_connections\": 0\n"
	"    }\n"
	"  ],\n"
	"  \"behaviors\": [\n"
	"    { \"path_pattern\": \"/api/*\", \"origin\": \"web\", "
	"\"viewer_protocol_policy\": \"https-only\" }\n"
	"  ],\n"
	"  \"default_behavior\": { \"origin\": \"web\", "
	"\"viewer_protocol_policy\": \"redirect-to-https\" },\n"
	"  \"response_headers\": {\n"
	"    \"hsts\": { \"max_age\": 31536000, \"include_subdomains\": true, "
	"\"preload\": false },\n"
	"    \"content_type_options\": true,\n"
	"    \"frame_options\": \"DENY\",\n"
	"    \"referrer_policy\": \"strict-origin-when-cross-origin\",\n"
	"    \"content_security_policy\": \"default-src 'self'\",\n"
	"    \"override\": true\n"
	"  }\n"
	"}\n";

#define PIN_OK   "\"sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\""
#define PIN_31   "\"sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\""

/* ---- the rest of the state, as the refs callbacks see it ---- */

static struct cert_info cert_shop_ec = {
	.key_kind = CERT_KEY_ECDSA,
	.sans = { "shop.example.com", "*.cdn.example.com" },
	.n_sans = 2,
};
static struct cert_info cert_shop_rsa = {
	.key_kind = CERT_KEY_RSA,
	.sans = { "shop.example.com", "*.cdn.example.com" },
	.n_sans = 2,
};
static struct cert_info cert_ec1 = {
	.key_kind = CERT_KEY_ECDSA,
	.sans = { "a.example.com", "b.example.com" },
	.n_sans = 2,
};
static struct cert_info cert_bare = { .key_kind = CERT_KEY_ECDSA };
/* Rewritten by the SAN-coverage test before each probe. */
static struct cert_info cert_probe = { .key_kind = CERT_KEY_ECDSA };

static const struct {
	const char *name;
	const struct cert_info *info;
} certs[] = {
	{ "shop-ec", &cert_shop_ec },
	{ "shop-rsa", &cert_shop_rsa },
	{ "ec1", &cert_ec1 },
	{ "bare", &cert_bare },
	{ "probe", &cert_probe },
};

/* What the validator asked, to check it passes its own name along. */
struct seen {
	char self_name[64];
	unsigned int alias_calls;
};

static const struct cert_info *
fake_cert(const char *name, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		if (strcmp(certs[i].name, name) == 0)
			return certs[i].info;
	return NULL;
}

static bool
fake_truststore(const char *name, void *arg)
{
	(void)arg;
	return strcmp(name, "partners") == 0;
}

static const char *
fake_alias_owner(const char *alias, const char *self_name, void *arg)
{
	struct seen *seen = arg;

	snprintf(seen->self_name, sizeof(seen->self_name), "%s", self_name);
	seen->alias_calls++;
	if (strcmp(alias, "taken.example.com") == 0 &&
	    strcmp(self_name, "other") != 0)
		return "other";
	return NULL;
}

static const char *
fake_address_owner(const char *addr, const char *self_name, void *arg)
{
	(void)arg;
	if (strcmp(addr, "198.51.100.99") == 0 &&
	    strcmp(self_name, "other") != 0)
		return "other";
	return NULL;
}

static const char *
fake_default_owner(const char *self_name, void *arg)
{
	(void)arg;
	return strcmp(self_name, "other") != 0 ? "other" : NULL;
}

static struct seen seen;
static const struct dist_refs refs = {
	.cert = fake_cert,
	.truststore_exists = fake_truststore,
	.alias_owner = fake_alias_owner,
	.address_owner = fake_address_owner,
	.default_owner = fake_default_owner,
	.arg = &seen,
};

/* ---- helpers ---- */

static json_t *
load(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &e);

	if (j == NULL)
		fail_msg("bad test JSON (%s): %s", e.text, text);
	return j;
}

/* "%s" in tmpl replaced by fill repeated n times. */
static char *
expand(const char *tmpl, const char *fill, unsigned int n)
{
	const char *mark = strstr(tmpl, "%s");
	size_t flen = strlen(fill), o;
	char *s = malloc(strlen(tmpl) + flen * n + 1);
	unsigned int i;

	assert_non_null(s);
	assert_non_null(mark);
	o = (size_t)(mark - tmpl);
	memcpy(s, tmpl, o);
	for (i = 0; i < n; i++, o += flen)
		memcpy(s + o, fill, flen);
	strcpy(s + o, mark + 2);
	return s;
}

/* Set (value != NULL) or delete the member at where ("origins/0/verify"),
 * creating objects on the way; an index equal to the array's size
 * appends. */
static void
mutate(json_t *root, const char *where, json_t *value)
{
	char buf[256], *seg, *next, *save = NULL;
	json_t *cur = root, *child;
	int rc;

	snprintf(buf, sizeof(buf), "%s", where);
	seg = strtok_r(buf, "/", &save);
	while ((next = strtok_r(NULL, "/", &save)) != NULL) {
		if (json_is_array(cur)) {
			child = json_array_get(cur, strtoul(seg, NULL, 10));
		} else {
			child = json_object_get(cur, seg);
			if (child == NULL) {
				child = json_object();
				json_object_set_new(cur, seg, child);
			}
		}
		assert_non_null(child);
		cur = child;
		seg = next;
	}
	if (json_is_array(cur)) {
		size_t idx = strtoul(seg, NULL, 10);

		if (value == NULL)
			rc = json_array_remove(cur, idx);
		else if (idx == json_array_size(cur))
			rc = json_array_append_new(cur, value);
		else
			rc = json_array_set_new(cur, idx, value);
	} else if (value == NULL) {
		rc = json_object_del(cur, seg);
	} else {
		rc = json_object_set_new(cur, seg, value);
	}
	if (rc != 0)
		fail_msg("cannot change %s in the test input", where);
}

#define DEL ((const char *)NULL)

struct bad_case {
	/* Up to three changes to the example; the first may be expanded
	 * (fill x repeat into its "%s") or copied into an array. */
	struct {
		const char *where;
		const char *value;      /* JSON text, DEL to remove */
	} m[3];
	const char *fill;
	unsigned int repeat;
	unsigned int copies;
	const char *path;           /* the JSON path the error must name */
	const char *words;          /* what the error must say after it */
	const char *name;           /* NAME in the prefix; NULL: "shop" */
};

static json_t *
case_input(const struct bad_case *bc)
{
	json_t *in = load(example_json);
	size_t k;

	for (k = 0; k < 3 && bc->m[k].where != NULL; k++) {
		const char *text = bc->m[k].value;
		char *owned = NULL;
		json_t *v = NULL;
		unsigned int i;

		if (k == 0 && bc->repeat > 0)
			text = owned = expand(text, bc->fill, bc->repeat);
		if (text != NULL)
			v = load(text);
		if (k == 0 && bc->copies > 0) {
			json_t *arr = json_array();

			for (i = 0; i < bc->copies; i++)
				json_array_append(arr, v);
			json_decref(v);
			v = arr;
		}
		mutate(in, bc->m[k].where, v);
		free(owned);
	}
	return in;
}

static void
run_cases(const struct bad_case *cases, size_t n)
{
	char err[512], prefix[300];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct bad_case *bc = &cases[i];
		json_t *in = case_input(bc);
		json_t *out;

		memset(err, 'X', sizeof(err));
		out = dist_validate(in, &refs, err, sizeof(err));
		json_decref(in);
		if (out != NULL) {
			json_decref(out);
			fail_msg("case %zu (%s): accepted, expected %s: %s", i,
				 bc->m[0].where, bc->path, bc->words);
		}
		snprintf(prefix, sizeof(prefix), "distribution \"%s\": %s: ",
			 bc->name != NULL ? bc->name : "shop", bc->path);
		if (strncmp(err, prefix, strlen(prefix)) != 0 ||
		    strstr(err + strlen(prefix), bc->words) == NULL ||
		    strchr(err, '\n') != NULL)
			fail_msg("case %zu (%s):\n  got:  %s\n  want: %s...%s",
				 i, bc->m[0].where, err, prefix, bc->words);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the example ---- */

static void
test_example_validates(void **state)
{
	json_t *in = load(example_json), *out;
	char *before = json_dumps(in, JSON_SORT_KEYS);
	char *after;
	char err[256];

	(void)state;
	seen.alias_calls = 0;
	out = dist_validate(in, &refs, err, sizeof(err));
	if (out == NULL)
		fail_msg("example refused: %s", err);
	/* Every field the example sets is already explicit: nothing to add,
	 * nothing to change. */
	assert_true(json_equal(in, out));
	/* The input is only read. */
	after = json_dumps(in, JSON_SORT_KEYS);
	assert_string_equal(before, after);
	/* Both aliases were checked for owners, under the right name. */
	assert_int_equal(seen.alias_calls, 2);
	assert_string_equal(seen.self_name, "shop");
	free(before);
	free(after);
	json_decref(out);
	json_decref(in);
}

static void
test_example_without_refs(void **state)
{
	json_t *in = load(example_json), *out;
	char err[256];

	(void)state;
	/* Unknown certificates are fine when nobody can be asked. */
	mutate(in, "certificates/ecdsa", json_string("not-imported-yet"));
	out = dist_validate(in, NULL, err, sizeof(err));
	if (out == NULL)
		fail_msg("refused without refs: %s", err);
	json_decref(out);
	json_decref(in);
}

static void
test_not_an_object(void **state)
{
	json_t *arr = json_array();
	char err[256];

	(void)state;
	assert_null(dist_validate(arr, &refs, err, sizeof(err)));
	assert_string_equal(err,
			    "distribution \"?\": $: expected an object, got an array");
	assert_null(dist_validate(NULL, &refs, err, sizeof(err)));
	assert_non_null(strstr(err, "distribution \"?\": $: expected an object"));
	json_decref(arr);
}

/* ---- the schema, one broken field at a time ---- */

static const struct bad_case schema_cases[] = {
	/* name */
	{ .m = { { "name", DEL } }, .name = "?",
	  .path = "$.name", .words = "required field is missing" },
	{ .m = { { "name", "\"shop front\"" } }, .name = "?",
	  .path = "$.name", .words = "\"shop front\" is not a valid name" },
	{ .m = { { "name", "\"-shop\"" } }, .name = "?",
	  .path = "$.name", .words = "is not a valid name" },
	{ .m = { { "name", "\"%s\"" } }, .fill = "a", .repeat = 64, .name = "?",
	  .path = "$.name", .words = "is not a valid name" },
	{ .m = { { "name", "42" } }, .name = "?",
	  .path = "$.name", .words = "expected a string, got an integer" },
	/* top level */
	{ .m = { { "colour", "\"blue\"" } },
	  .path = "$.colour", .words = "unknown field" },
	{ .m = { { "enabled", "\"yes\"" } },
	  .path = "$.enabled", .words = "expected a boolean, got a string" },
	{ .m = { { "default", "1" } },
	  .path = "$.default", .words = "expected a boolean, got an integer" },
	{ .m = { { "comment", "\"%s\"" } }, .fill = "c", .repeat = 257,
	  .path = "$.comment", .words = "is 257 bytes long; at most 256" },
	/* aliases */
	{ .m = { { "aliases", DEL } },
	  .path = "$.aliases", .words = "required field is missing" },
	{ .m = { { "aliases", "[]" } },
	  .path = "$.aliases", .words = "needs at least 1 item, got 0" },
	{ .m = { { "aliases", "\"shop.example.com\"" } },
	  .path = "$.aliases", .words = "expected an array, got a string" },
	{ .m = { { "aliases", "\"x.example.com\"" } }, .copies = 101,
	  .path = "$.aliases", .words = "has 101 items; at most 100" },
	{ .m = { { "aliases/1", "\"SHOP.Example.com\"" } },
	  .path = "$.aliases[1]",
	  .words = "duplicate \"shop.example.com\", already at $.aliases[0]" },
	{ .m = { { "aliases/1", "\"*.*.example.com\"" } },
	  .path = "$.aliases[1]",
	  .words = "only one leading \"*.\" wildcard label" },
	{ .m = { { "aliases/1", "\"a.*.example.com\"" } },
	  .path = "$.aliases[1]",
	  .words = "only one leading \"*.\" wildcard label" },
	{ .m = { { "aliases/1", "\"*shop.example.com\"" } },
	  .path = "$.aliases[1]", .words = "whole left-most label" },
	{ .m = { { "aliases/1", "\"*.com\"" } },
	  .path = "$.aliases[1]", .words = "at least two labels after" },
	{ .m = { { "aliases/0", "\"198.51.100.10\"" } },
	  .path = "$.aliases[0]", .words = "an IP address is not a hostname" },
	{ .m = { { "aliases/0", "\"2001:db8::1\"" } },
	  .path = "$.aliases[0]", .words = "an IP address is not a hostname" },
	{ .m = { { "aliases/0", "\"10.1.2\"" } },
	  .path = "$.aliases[0]", .words = "the last label is all digits" },
	{ .m = { { "aliases/0", "\"-shop.example.com\"" } },
	  .path = "$.aliases[0]", .words = "starts or ends with '-'" },
	{ .m = { { "aliases/0", "\"shop-.example.com\"" } },
	  .path = "$.aliases[0]", .words = "starts or ends with '-'" },
	{ .m = { { "aliases/0", "\"shop_1.example.com\"" } },
	  .path = "$.aliases[0]", .words = "may only hold a-z, 0-9 and '-'" },
	{ .m = { { "aliases/0", "\"shop..example.com\"" } },
	  .path = "$.aliases[0]", .words = "empty label" },
	{ .m = { { "aliases/0", "\"shop.example.com.\"" } },
	  .path = "$.aliases[0]", .words = "empty label" },
	{ .m = { { "aliases/0", "\"\"" } },
	  .path = "$.aliases[0]", .words = "it is empty" },
	{ .m = { { "aliases/0", "\"%s.example.com\"" } }, .fill = "a",
	  .repeat = 64,
	  .path = "$.aliases[0]", .words = "a label is longer than 63 bytes" },
	{ .m = { { "aliases/0", "\"%sexample.com\"" } }, .fill = "abcdefghi.",
	  .repeat = 25,
	  .path = "$.aliases[0]", .words = "longer than 253 bytes" },
	{ .m = { { "aliases/0", "7" } },
	  .path = "$.aliases[0]", .words = "expected a string, got an integer" },
	/* certificates */
	{ .m = { { "certificates", DEL } },
	  .path = "$.certificates", .words = "required field is missing" },
	{ .m = { { "certificates", "{}" } },
	  .path = "$.certificates",
	  .words = "name at least one certificate, \"ecdsa\" or \"rsa\"" },
	{ .m = { { "certificates/ed25519", "\"x\"" } },
	  .path = "$.certificates.ed25519", .words = "unknown field" },
	{ .m = { { "certificates/rsa", "\"shop rsa\"" } },
	  .path = "$.certificates.rsa", .words = "is not a valid name" },
	{ .m = { { "certificates/rsa", "null" } },
	  .path = "$.certificates.rsa", .words = "expected a string, got null" },
	/* listen, tls */
	{ .m = { { "listen/address", "\"198.51.100.300\"" } },
	  .path = "$.listen.address",
	  .words = "\"198.51.100.300\" is not an IPv4 address" },
	{ .m = { { "listen/address", "\"shop.example.com\"" } },
	  .path = "$.listen.address", .words = "is not an IPv4 address" },
	{ .m = { { "listen", "\"198.51.100.10\"" } },
	  .path = "$.listen", .words = "expected an object, got a string" },
	{ .m = { { "tls/security_policy", "\"TLSv1.0_2010\"" } },
	  .path = "$.tls.security_policy",
	  .words = "\"TLSv1.0_2010\" is not one of TLSv1.2_2019, "
		   "TLSv1.2_2021, TLSv1.3_2025" },
	{ .m = { { "tls/mtls/mode", "\"sometimes\"" } },
	  .path = "$.tls.mtls.mode",
	  .words = "is not one of off, optional, required" },
	{ .m = { { "tls/mtls/mode", "\"required\"" },
		 { "tls/mtls/trust_store", DEL } },
	  .path = "$.tls.mtls.trust_store",
	  .words = "required when mode is \"required\"" },
	{ .m = { { "tls/mtls/mode", "\"optional\"" },
		 { "tls/mtls/trust_store", DEL } },
	  .path = "$.tls.mtls.trust_store",
	  .words = "required when mode is \"optional\"" },
	{ .m = { { "tls/mtls/crl", "true" } },
	  .path = "$.tls.mtls.crl", .words = "unknown field" },
	/* origins */
	{ .m = { { "origins", DEL } },
	  .path = "$.origins", .words = "required field is missing" },
	{ .m = { { "origins", "[]" } },
	  .path = "$.origins", .words = "needs at least 1 item, got 0" },
	{ .m = { { "origins", "{\"id\":\"web\",\"domain\":\"o.example.com\"}" } },
	  .copies = 17,
	  .path = "$.origins", .words = "has 17 items; at most 16" },
	{ .m = { { "origins/1", "{\"id\":\"web\",\"domain\":\"o.example.com\"}" } },
	  .path = "$.origins[1].id",
	  .words = "duplicate \"web\", already at $.origins[0].id" },
	{ .m = { { "origins/1", "{\"id\":\"api\",\"domain\":\"api.example.com\","
		   "\"verify\":{\"mode\":\"strictest\"}}" } },
	  .path = "$.origins[1].verify.mode",
	  .words = "\"strictest\" is not one of strict, full, pinned" },
	{ .m = { { "origins/0/verfy", "{}" } },
	  .path = "$.origins[0].verfy", .words = "unknown field" },
	{ .m = { { "origins/0/id", DEL } },
	  .path = "$.origins[0].id", .words = "required field is missing" },
	{ .m = { { "origins/0/domain", DEL } },
	  .path = "$.origins[0].domain", .words = "required field is missing" },
	{ .m = { { "origins/0/domain", "\"*.example.com\"" } },
	  .path = "$.origins[0].domain",
	  .words = "wildcards are not allowed here" },
	{ .m = { { "origins/0/domain", "\"192.0.2.80\"" } },
	  .path = "$.origins[0].domain",
	  .words = "an IP address is not a hostname" },
	{ .m = { { "origins/0/address", "\"192.0.2\"" } },
	  .path = "$.origins[0].address", .words = "is not an IPv4 address" },
	{ .m = { { "origins/0/http_port", "0" } },
	  .path = "$.origins[0].http_port", .words = "0 is out of range 1-65535" },
	{ .m = { { "origins/0/https_port", "65536" } },
	  .path = "$.origins[0].https_port",
	  .words = "65536 is out of range 1-65535" },
	{ .m = { { "origins/0/https_port", "\"443\"" } },
	  .path = "$.origins[0].https_port",
	  .words = "expected an integer, got a string" },
	{ .m = { { "origins/0/protocol_policy", "\"https\"" } },
	  .path = "$.origins[0].protocol_policy",
	  .words = "\"https\" is not one of http-only, https-only, match-viewer" },
	{ .m = { { "origins/0/tls_protocols", "[\"TLSv1.3\", \"TLSv1.1\"]" } },
	  .path = "$.origins[0].tls_protocols[1]",
	  .words = "\"TLSv1.1\" is not one of TLSv1.2, TLSv1.3" },
	{ .m = { { "origins/0/tls_protocols", "[]" } },
	  .path = "$.origins[0].tls_protocols", .words = "needs at least 1 item" },
	{ .m = { { "origins/0/tls_protocols", "[\"TLSv1.3\", \"TLSv1.3\"]" } },
	  .path = "$.origins[0].tls_protocols[1]", .words = "duplicate \"TLSv1.3\"" },
	{ .m = { { "origins/0/verify/mode", "\"pinned\"" } },
	  .path = "$.origins[0].verify.pins",
	  .words = "mode \"pinned\" needs 1-8 pins" },
	{ .m = { { "origins/0/verify/pins", "[" PIN_OK "]" } },
	  .path = "$.origins[0].verify.pins",
	  .words = "pins are only used with mode \"pinned\", but mode is \"strict\"" },
	{ .m = { { "origins/0/verify/pins", "[\"sha256/abc\"]" },
		 { "origins/0/verify/mode", "\"pinned\"" } },
	  .path = "$.origins[0].verify.pins[0]", .words = "is not an SPKI pin" },
	{ .m = { { "origins/0/verify/pins", "[" PIN_31 "]" },
		 { "origins/0/verify/mode", "\"pinned\"" } },
	  .path = "$.origins[0].verify.pins[0]",
	  .words = "the base64 of 32 bytes" },
	{ .m = { { "origins/0/verify/pins", "[\"sha1/AAECAwQFBgcICQoLDA0ODxAREhM=\"]" },
		 { "origins/0/verify/mode", "\"pinned\"" } },
	  .path = "$.origins[0].verify.pins[0]", .words = "is not an SPKI pin" },
	{ .m = { { "origins/0/verify/pins", PIN_OK } }, .copies = 9,
	  .path = "$.origins[0].verify.pins", .words = "has 9 items; at most 8" },
	/* verify.trust_store: a name, and only with mode strict */
	{ .m = { { "origins/0/verify/trust_store", "\"origin ca\"" } },
	  .path = "$.origins[0].verify.trust_store",
	  .words = "\"origin ca\" is not a valid name" },
	{ .m = { { "origins/0/verify/trust_store", "\"\"" } },
	  .path = "$.origins[0].verify.trust_store",
	  .words = "is not a valid name" },
	{ .m = { { "origins/0/verify/trust_store", "[\"partners\"]" } },
	  .path = "$.origins[0].verify.trust_store",
	  .words = "expected a string, got an array" },
	{ .m = { { "origins/0/verify/trust_store", "\"partners\"" },
		 { "origins/0/verify/mode", "\"full\"" } },
	  .path = "$.origins[0].verify.trust_store",
	  .words = "a trust store is only used with mode \"strict\", but "
		   "mode is \"full\"" },
	{ .m = { { "origins/0/verify/trust_store", "\"partners\"" },
		 { "origins/0/verify/mode", "\"pinned\"" },
		 { "origins/0/verify/pins", "[" PIN_OK "]" } },
	  .path = "$.origins[0].verify.trust_store",
	  .words = "a trust store is only used with mode \"strict\", but "
		   "mode is \"pinned\"" },
	{ .m = { { "origins/1", "{\"id\":\"api\",\"domain\":\"api.example.com\","
		   "\"verify\":{\"mode\":\"full\",\"trust_store\":\"partners\"}}" } },
	  .path = "$.origins[1].verify.trust_store",
	  .words = "a trust store is only used with mode \"strict\"" },
	{ .m = { { "origins/0/forward_host", "\"no\"" } },
	  .path = "$.origins[0].forward_host",
	  .words = "expected a boolean, got a string" },
	{ .m = { { "origins/0/connect_timeout_ms", "99" } },
	  .path = "$.origins[0].connect_timeout_ms",
	  .words = "99 is out of range 100-600000" },
	{ .m = { { "origins/0/response_timeout_ms", "1.5" } },
	  .path = "$.origins[0].response_timeout_ms",
	  .words = "expected an integer, got a number" },
	{ .m = { { "origins/0/max_connections", "100001" } },
	  .path = "$.origins[0].max_connections",
	  .words = "100001 is out of range 0-100000" },
	{ .m = { { "origins/0/max_connections", "-1" } },
	  .path = "$.origins[0].max_connections",
	  .words = "-1 is out of range 0-100000" },
	/* behaviors */
	{ .m = { { "behaviors", "{}" } },
	  .path = "$.behaviors", .words = "expected an array, got an object" },
	{ .m = { { "behaviors/0/origin", "\"api\"" } },
	  .path = "$.behaviors[0].origin", .words = "no origin with id \"api\"" },
	{ .m = { { "behaviors/1", "{\"path_pattern\":\"/a\",\"origin\":\"web\"}" },
		 { "behaviors/2", "{\"path_pattern\":\"/img/*\",\"origin\":\"api\"}" } },
	  .path = "$.behaviors[2].origin", .words = "no origin with id \"api\"" },
	{ .m = { { "behaviors/1", "{\"path_pattern\":\"/api/*\",\"origin\":\"web\"}" } },
	  .path = "$.behaviors[1].path_pattern",
	  .words = "duplicate \"/api/*\", already at $.behaviors[0].path_pattern" },
	{ .m = { { "behaviors/0/path_pattern", "\"api/*\"" } },
	  .path = "$.behaviors[0].path_pattern",
	  .words = "must start with \"/\" or be \"*\"" },
	{ .m = { { "behaviors/0/path_pattern", "\"/a b\"" } },
	  .path = "$.behaviors[0].path_pattern",
	  .words = "printable ASCII without spaces" },
	{ .m = { { "behaviors/0/path_pattern", "\"/%s\"" } }, .fill = "p",
	  .repeat = 255,
	  .path = "$.behaviors[0].path_pattern",
	  .words = "is 256 bytes long; at most 255" },
	{ .m = { { "behaviors/0/viewer_protocol_policy", "\"http\"" } },
	  .path = "$.behaviors[0].viewer_protocol_policy",
	  .words = "is not one of allow-all, redirect-to-https, https-only" },
	{ .m = { { "behaviors", "{\"path_pattern\":\"/x\",\"origin\":\"web\"}" } },
	  .copies = 65,
	  .path = "$.behaviors", .words = "has 65 items; at most 64" },
	/* default_behavior */
	{ .m = { { "default_behavior", DEL } },
	  .path = "$.default_behavior", .words = "required field is missing" },
	{ .m = { { "default_behavior/origin", DEL } },
	  .path = "$.default_behavior.origin", .words = "required field is missing" },
	{ .m = { { "default_behavior/origin", "\"nowhere\"" } },
	  .path = "$.default_behavior.origin",
	  .words = "no origin with id \"nowhere\"" },
	/* response_headers */
	{ .m = { { "response_headers/hsts/preload", "true" },
		 { "response_headers/hsts/max_age", "600" } },
	  .path = "$.response_headers.hsts.preload",
	  .words = "preload needs max_age >= 31536000, but max_age is 600" },
	{ .m = { { "response_headers/hsts/preload", "true" },
		 { "response_headers/hsts/include_subdomains", "false" } },
	  .path = "$.response_headers.hsts.preload",
	  .words = "preload needs include_subdomains" },
	{ .m = { { "response_headers/hsts/max_age", "63072001" } },
	  .path = "$.response_headers.hsts.max_age",
	  .words = "63072001 is out of range 0-63072000" },
	{ .m = { { "response_headers/hsts/max_age", DEL } },
	  .path = "$.response_headers.hsts.max_age",
	  .words = "required field is missing" },
	{ .m = { { "response_headers/frame_options", "\"ALLOW-FROM x\"" } },
	  .path = "$.response_headers.frame_options",
	  .words = "is not one of DENY, SAMEORIGIN" },
	{ .m = { { "response_headers/referrer_policy", "\"never\"" } },
	  .path = "$.response_headers.referrer_policy",
	  .words = "\"never\" is not one of no-referrer," },
	{ .m = { { "response_headers/content_security_policy",
		   "\"default-src 'self'\\r\\nX-Evil: 1\"" } },
	  .path = "$.response_headers.content_security_policy",
	  .words = "must not contain CR or LF" },
	{ .m = { { "response_headers/content_security_policy", "\"%s\"" } },
	  .fill = "s", .repeat = 1025,
	  .path = "$.response_headers.content_security_policy",
	  .words = "is 1025 bytes long; at most 1024" },
	{ .m = { { "response_headers/override", "1" } },
	  .path = "$.response_headers.override",
	  .words = "expected a boolean, got an integer" },
	{ .m = { { "response_headers/x_powered_by", "false" } },
	  .path = "$.response_headers.x_powered_by", .words = "unknown field" },
};

static void
test_schema_errors(void **state)
{
	(void)state;
	assert_true(N(schema_cases) >= 30);
	run_cases(schema_cases, N(schema_cases));
}

/* ---- references to the rest of the state ---- */

static const struct bad_case ref_cases[] = {
	{ .m = { { "certificates/ecdsa", "\"x\"" } },
	  .path = "$.certificates.ecdsa",
	  .words = "certificate \"x\" does not exist" },
	{ .m = { { "certificates/rsa", "\"ec1\"" } },
	  .path = "$.certificates.rsa",
	  .words = "certificate \"ec1\" has an ECDSA key, not RSA" },
	{ .m = { { "certificates/ecdsa", "\"shop-rsa\"" } },
	  .path = "$.certificates.ecdsa",
	  .words = "certificate \"shop-rsa\" has an RSA key, not ECDSA" },
	{ .m = { { "certificates/ecdsa", "\"ec1\"" } },
	  .path = "$.certificates.ecdsa",
	  .words = "certificate \"ec1\" does not cover alias \"shop.example.com\" "
		   "(its names: a.example.com, b.example.com)" },
	{ .m = { { "certificates/ecdsa", "\"bare\"" } },
	  .path = "$.certificates.ecdsa",
	  .words = "does not cover alias \"shop.example.com\" (it has no DNS names)" },
	/* The ECDSA certificate covers the new alias, the RSA one is checked
	 * too. */
	{ .m = { { "aliases/2", "\"www.example.com\"" } },
	  .path = "$.certificates.ecdsa",
	  .words = "does not cover alias \"www.example.com\"" },
	{ .m = { { "aliases/2", "\"cdn.example.com\"" } },
	  .path = "$.certificates.ecdsa",
	  .words = "does not cover alias \"cdn.example.com\"" },
	{ .m = { { "aliases/2", "\"a.b.cdn.example.com\"" } },
	  .path = "$.certificates.ecdsa",
	  .words = "does not cover alias \"a.b.cdn.example.com\"" },
	{ .m = { { "tls/mtls/trust_store", "\"nobody\"" } },
	  .path = "$.tls.mtls.trust_store",
	  .words = "trust store \"nobody\" does not exist" },
	{ .m = { { "origins/0/verify/trust_store", "\"nobody\"" } },
	  .path = "$.origins[0].verify.trust_store",
	  .words = "trust store \"nobody\" does not exist" },
	{ .m = { { "origins/1", "{\"id\":\"api\",\"domain\":\"api.example.com\","
		   "\"verify\":{\"trust_store\":\"partners\"}}" },
		 { "origins/2", "{\"id\":\"img\",\"domain\":\"img.example.com\","
		   "\"verify\":{\"trust_store\":\"origin-ca\"}}" } },
	  .path = "$.origins[2].verify.trust_store",
	  .words = "trust store \"origin-ca\" does not exist" },
	{ .m = { { "aliases/1", "\"Taken.example.com\"" } },
	  .path = "$.aliases[1]",
	  .words = "\"taken.example.com\" already belongs to distribution \"other\"" },
	{ .m = { { "listen/address", "\"198.51.100.99\"" } },
	  .path = "$.listen.address",
	  .words = "\"198.51.100.99\" is already used by distribution \"other\"" },
	{ .m = { { "default", "true" } },
	  .path = "$.default",
	  .words = "distribution \"other\" is already the default; set "
		   "\"default\": false there first" },
};

static void
test_reference_errors(void **state)
{
	(void)state;
	run_cases(ref_cases, N(ref_cases));
}

/* The claims of other distributions do not apply to themselves. */
static void
test_own_alias_and_address(void **state)
{
	json_t *in = load(example_json), *out;
	char err[256];

	(void)state;
	mutate(in, "name", json_string("other"));
	mutate(in, "aliases/1", json_string("taken.example.com"));
	mutate(in, "listen/address", json_string("198.51.100.99"));
	mutate(in, "certificates", load("{\"ecdsa\":\"probe\"}"));
	cert_probe.sans[0] = "shop.example.com";
	cert_probe.sans[1] = "taken.example.com";
	cert_probe.n_sans = 2;
	out = dist_validate(in, &refs, err, sizeof(err));
	if (out == NULL)
		fail_msg("refused its own alias: %s", err);
	assert_string_equal(seen.self_name, "other");
	json_decref(out);
	json_decref(in);
}

/* RFC 6125 coverage of each alias by the certificate's DNS SANs. */
static void
test_san_coverage(void **state)
{
	static const struct {
		const char *san;
		const char *alias;
		bool covered;
	} t[] = {
		{ "*.example.com", "a.example.com", true },
		{ "*.example.com", "*.example.com", true },
		{ "*.example.com", "example.com", false },
		{ "*.example.com", "a.b.example.com", false },
		{ "*.example.com", "*.b.example.com", false },
		{ "a.example.com", "a.example.com", true },
		{ "a.example.com", "b.example.com", false },
		{ "a.example.com", "*.example.com", false },
		{ "*.b.example.com", "*.example.com", false },
		{ "*.example.com", "a.example.org", false },
		{ "*.example.com", "aexample.com", false },
		{ "example.com", "a.example.com", false },
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < N(t); i++) {
		json_t *in = load(example_json), *out;
		json_t *aliases = json_array();

		json_array_append_new(aliases, json_string(t[i].alias));
		mutate(in, "aliases", aliases);
		mutate(in, "certificates", load("{\"ecdsa\":\"probe\"}"));
		cert_probe.sans[0] = (char *)t[i].san;
		cert_probe.n_sans = 1;
		out = dist_validate(in, &refs, err, sizeof(err));
		if ((out != NULL) != t[i].covered)
			fail_msg("SAN %s, alias %s: expected %s, got: %s",
				 t[i].san, t[i].alias,
				 t[i].covered ? "covered" : "refused",
				 out != NULL ? "covered" : err);
		if (out == NULL)
			assert_non_null(strstr(err, "$.certificates.ecdsa: "
					       "certificate \"probe\" does not cover"));
		json_decref(out);
		json_decref(in);
	}
}

/* An origin's verify.trust_store with mode strict (the default) is kept
 * as given, is checked against the stores that exist only when someone
 * can be asked, and survives a second validation. */
static void
test_origin_trust_store(void **state)
{
	json_t *in = load(example_json), *out, *again, *v;
	char err[512];

	(void)state;
	mutate(in, "origins/0/verify/trust_store", json_string("partners"));
	mutate(in, "origins/1", load("{\"id\":\"api\",\"domain\":"
				     "\"api.example.com\",\"verify\":"
				     "{\"trust_store\":\"partners\"}}"));
	out = dist_validate(in, &refs, err, sizeof(err));
	if (out == NULL)
		fail_msg("strict origin with a trust store refused: %s", err);
	v = json_object_get(json_array_get(json_object_get(out, "origins"), 0),
			    "verify");
	assert_string_equal(json_string_value(json_object_get(v, "mode")),
			    "strict");
	assert_string_equal(json_string_value(json_object_get(v,
			    "trust_store")), "partners");
	/* Filled in around it: the default mode, no pins. */
	v = load("{\"mode\":\"strict\",\"pins\":[],\"trust_store\":\"partners\"}");
	assert_true(json_equal(json_object_get(json_array_get(json_object_get(
			out, "origins"), 1), "verify"), v));
	json_decref(v);
	again = dist_validate(out, &refs, err, sizeof(err));
	if (again == NULL)
		fail_msg("normalised form refused: %s", err);
	assert_true(json_equal(out, again));
	json_decref(again);
	json_decref(out);

	/* Not pushed yet is fine when nobody can be asked. */
	mutate(in, "origins/0/verify/trust_store", json_string("later"));
	out = dist_validate(in, NULL, err, sizeof(err));
	if (out == NULL)
		fail_msg("refused without refs: %s", err);
	json_decref(out);
	json_decref(in);
}

/* ---- normalised form ---- */

static const char minimal_json[] =
	"{\"name\":\"min\",\"aliases\":[\"Shop.Example.COM\"],"
	"\"certificates\":{\"ecdsa\":\"shop-ec\"},"
	"\"origins\":[{\"id\":\"web\",\"domain\":\"Origin.Example.com\"}],"
	"\"default_behavior\":{\"origin\":\"web\"}}";

/* Every default of the docs/CONTROL.md table, in the normalised key
 * order. */
static const char minimal_normalised[] =
	"{\"name\": \"min\", \"enabled\": true, \"default\": false, "
	"\"aliases\": [\"shop.example.com\"], "
	"\"certificates\": {\"ecdsa\": \"shop-ec\"}, "
	"\"listen\": {}, "
	"\"tls\": {\"security_policy\": \"TLSv1.2_2021\", "
	"\"mtls\": {\"mode\": \"off\"}}, "
	"\"origins\": [{\"id\": \"web\", \"domain\": \"origin.example.com\", "
	"\"http_port\": 80, \"https_port\": 443, "
	"\"protocol_policy\": \"https-only\", "
	"\"tls_protocols\": [\"TLSv1.2\", \"TLSv1.3\"], "
	"\"verify\": {\"mode\": \"strict\", \"pins\": []}, "
	"\"forward_host\": false, \"connect_timeout_ms\": 5000, "
	"\"response_timeout_ms\": 30000, \"max_connections\": 0}], "
	"\"behaviors\": [], "
	"\"default_behavior\": {\"origin\": \"web\", "
	"\"viewer_protocol_policy\": \"redirect-to-https\"}, "
	"\"response_headers\": {\"content_type_options\": false, "
	"\"override\": true}}";

static void
test_defaults_filled(void **state)
{
	json_t *in = load(minimal_json), *out;
	char err[256], *text;

	(void)state;
	out = dist_validate(in, &refs, err, sizeof(err));
	if (out == NULL)
		fail_msg("minimal refused: %s", err);
	text = json_dumps(out, 0);
	assert_string_equal(text, minimal_normalised);
	free(text);
	json_decref(out);
	json_decref(in);
}

static void
test_behavior_defaults(void **state)
{
	json_t *in = load(minimal_json), *out, *hsts;
	char err[256];

	(void)state;
	mutate(in, "behaviors", load("[{\"path_pattern\":\"*\",\"origin\":\"web\"}]"));
	mutate(in, "response_headers", load("{\"hsts\":{\"max_age\":0}}"));
	out = dist_validate(in, &refs, err, sizeof(err));
	if (out == NULL)
		fail_msg("refused: %s", err);
	hsts = load("{\"max_age\":0,\"include_subdomains\":false,"
		    "\"preload\":false}");
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(out, "behaviors"), 0),
		"viewer_protocol_policy")), "redirect-to-https");
	/* Given HSTS gets its flags spelled out. */
	assert_true(json_equal(json_object_get(json_object_get(out,
			"response_headers"), "hsts"), hsts));
	json_decref(hsts);
	json_decref(out);
	json_decref(in);
}

/* Validating the normalised form gives it back unchanged, keys and all:
 * the control plane stores it and validates it again on every load. */
static void
test_idempotent(void **state)
{
	const char *inputs[] = { example_json, minimal_json };
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < N(inputs); i++) {
		json_t *in = load(inputs[i]), *once, *twice;
		char *a, *b;

		once = dist_validate(in, &refs, err, sizeof(err));
		if (once == NULL)
			fail_msg("input %zu refused: %s", i, err);
		twice = dist_validate(once, &refs, err, sizeof(err));
		if (twice == NULL)
			fail_msg("normalised %zu refused: %s", i, err);
		assert_true(json_equal(once, twice));
		a = json_dumps(once, 0);
		b = json_dumps(twice, 0);
		assert_string_equal(a, b);
		free(a);
		free(b);
		json_decref(twice);
		json_decref(once);
		json_decref(in);
	}
}

/* ---- odds and ends ---- */

static void
test_error_buffer(void **state)
{
	json_t *in = load(example_json), *out;
	char small[24];

	(void)state;
	mutate(in, "enabled", json_string("yes"));
	out = dist_validate(in, &refs, small, sizeof(small));
	assert_null(out);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_null(dist_validate(in, &refs, NULL, 0));
	json_decref(in);
}

static void
test_hostile_strings_stay_on_one_line(void **state)
{
	json_t *in = load(example_json);
	char err[512];

	(void)state;
	mutate(in, "aliases/0", json_string("evil\n\"injected\".example.com"));
	assert_null(dist_validate(in, &refs, err, sizeof(err)));
	assert_null(strchr(err, '\n'));
	assert_non_null(strstr(err, "$.aliases[0]: \"evil?\\\"injected\\\""));
	mutate(in, "aliases/0", json_string("shop.example.com"));
	mutate(in, "bad\nkey", json_true());
	assert_null(dist_validate(in, &refs, err, sizeof(err)));
	assert_string_equal(err, "distribution \"shop\": $.bad?key: unknown field");
	json_decref(in);
}

static void
test_name_valid(void **state)
{
	(void)state;
	assert_true(dist_name_valid("shop"));
	assert_true(dist_name_valid("Shop-2.prod_eu"));
	assert_true(dist_name_valid("0"));
	assert_true(dist_name_valid("a23456789012345678901234567890123456789012345678901234567890123"));
	assert_false(dist_name_valid("a234567890123456789012345678901234567890123456789012345678901234"));
	assert_false(dist_name_valid(""));
	assert_false(dist_name_valid(NULL));
	assert_false(dist_name_valid(".hidden"));
	assert_false(dist_name_valid("_x"));
	assert_false(dist_name_valid("-x"));
	assert_false(dist_name_valid("a b"));
	assert_false(dist_name_valid("a/b"));
	assert_false(dist_name_valid("caf\xc3\xa9"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_validates),
		cmocka_unit_test(test_example_without_refs),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_schema_errors),
		cmocka_unit_test(test_reference_errors),
		cmocka_unit_test(test_own_alias_and_address),
		cmocka_unit_test(test_san_coverage),
		cmocka_unit_test(test_origin_trust_store),
		cmocka_unit_test(test_defaults_filled),
		cmocka_unit_test(test_behavior_defaults),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_hostile_strings_stay_on_one_line),
		cmocka_unit_test(test_name_valid),
	};

	return cmocka_run_group_tests_name("dist", tests, NULL, NULL);
}

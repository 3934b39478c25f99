/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Distribution validation: the JSON schema of docs/CONTROL.md, checked
 * field by field so every error names its JSON path, then references
 * checked against the rest of the state. Pure functions (no I/O), so the
 * unit tests drive them directly.
 */
#ifndef RAMPART_DIST_H
#define RAMPART_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "crypto/cert.h"

/* What validation may look up in the current state; all callbacks may be
 * NULL in tests that do not exercise references. */
struct dist_refs {
	/* The certificate named name, or NULL when there is none. */
	const struct cert_info *(*cert)(const char *name, void *arg);
	/* True when a trust store of that name exists. */
	bool (*truststore_exists)(const char *name, void *arg);
	/* The name of another distribution (not self_name) that already
	 * claims alias / listen address, or NULL. */
	const char *(*alias_owner)(const char *alias, const char *self_name,
				   void *arg);
	const char *(*address_owner)(const char *addr, const char *self_name,
				     void *arg);
	/* The name of another distribution (not self_name) marked
	 * "default": true, or NULL. */
	const char *(*default_owner)(const char *self_name, void *arg);
	void *arg;
};

/*
 * Validate in (a distribution object) and return a new, normalised copy
 * (defaults filled, aliases lower-cased) or NULL with err set to one
 * sentence: `distribution "NAME": $.path: what is wrong` (NAME is "?" when
 * the name itself is missing or invalid).
 */
json_t *dist_validate(const json_t *in, const struct dist_refs *refs,
		      char *err, size_t errlen);

/* True when name is a valid object name (certificates, trust stores and
 * distributions share the rule: 1-63 of [A-Za-z0-9._-], starting with an
 * alphanumeric). */
bool dist_name_valid(const char *name);

#endif /* RAMPART_DIST_H */

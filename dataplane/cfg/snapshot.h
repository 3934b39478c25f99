/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration snapshot: certificates, trust stores and distributions
 * of one committed generation, plus the SNI index that maps a host name to
 * its distribution. A snapshot is built by the control thread from the
 * objects staged in a transaction (docs/CONTROL.md, txn_put) and never
 * changes afterwards, so workers read it without locks.
 *
 * Publication follows Knot DNS's conf swap: the control thread exchanges
 * the published pointer with rcu_xchg_pointer, waits for a grace period
 * (every worker passed a quiescent state, so none can still hold the old
 * pointer from rcu_dereference), then drops the published reference.
 * A worker that keeps the snapshot past one poll-loop iteration (a
 * connection in the middle of a handshake) takes its own reference with
 * cfg_snapshot_get and releases it with cfg_snapshot_put, so the old
 * snapshot outlives the swap exactly as long as it is still in use.
 */
#ifndef RAMPART_CFG_SNAPSHOT_H
#define RAMPART_CFG_SNAPSHOT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CFG_FINGERPRINT_LEN 32          /* SHA-256 of the leaf DER */
#define CFG_NAME_MAX        63          /* object names, docs/CONTROL.md */
#define CFG_HOST_MAX        253         /* a DNS name, without the dot */

enum cfg_key_kind { CFG_KEY_ECDSA, CFG_KEY_RSA };

enum cfg_mtls_mode { CFG_MTLS_OFF, CFG_MTLS_OPTIONAL, CFG_MTLS_REQUIRED };

struct cfg_cert {
	char *name;
	char *chain_pem;                /* leaf first */
	char *key_pem;                  /* wiped when the snapshot is freed */
	enum cfg_key_kind key_kind;
	char *key_type;                 /* as pushed: "ECDSA P-256", "RSA 2048" */
	uint8_t fingerprint[CFG_FINGERPRINT_LEN];
	char **sans;
	unsigned int nb_sans;
};

struct cfg_truststore {
	char *name;
	char *ca_pem;
	char *crl_pem;                  /* NULL: no CRL */
};

/* Origins, cache behaviors and response headers (docs/CONTROL.md,
 * "Distributions"), parsed from the normalised JSON when the snapshot is
 * built so that workers read plain structs and never call jansson. */

enum cfg_origin_proto {
	CFG_ORIGIN_HTTP_ONLY,
	CFG_ORIGIN_HTTPS_ONLY,
	CFG_ORIGIN_MATCH_VIEWER,
};

enum cfg_verify_mode { CFG_VERIFY_STRICT, CFG_VERIFY_FULL, CFG_VERIFY_PINNED };

enum cfg_viewer_policy {
	CFG_VIEWER_ALLOW_ALL,
	CFG_VIEWER_REDIRECT_TO_HTTPS,
	CFG_VIEWER_HTTPS_ONLY,
};

/* Bits of cfg_origin.tls_protocols. */
#define CFG_ORIGIN_TLS12    0x1u
#define CFG_ORIGIN_TLS13    0x2u

#define CFG_PIN_LEN         32          /* SHA-256 of a SubjectPublicKeyInfo */
#define CFG_PINS_MAX        8
#define CFG_ORIGINS_MAX     16
#define CFG_BEHAVIORS_MAX   64
#define CFG_PATTERN_MAX     255
#define CFG_RESOLVED_MAX    8           /* origin addresses pushed */
#define CFG_MAX_CONNS_MAX   100000      /* origins[].max_connections */

struct cfg_origin {
	char *id;
	char *domain;                   /* lower-case host name */
	bool has_address;
	struct in_addr address;         /* when has_address; otherwise the
					 * control plane resolves domain */
	uint16_t http_port;
	uint16_t https_port;
	enum cfg_origin_proto protocol_policy;
	unsigned int tls_protocols;     /* CFG_ORIGIN_TLS12 | CFG_ORIGIN_TLS13 */
	enum cfg_verify_mode verify;
	uint8_t pins[CFG_PINS_MAX][CFG_PIN_LEN];  /* "sha256/<base64>" decoded */
	unsigned int nb_pins;
	/* strict: the anchors; NULL: the dataplane's CA bundle
	 * (--origin-ca-bundle). */
	const struct cfg_truststore *trust_store;
	bool forward_host;
	uint32_t connect_timeout_ms;
	uint32_t response_timeout_ms;
	uint32_t max_connections;       /* per dataplane; 0: no limit */
	/* The addresses the control plane resolved domain to (the optional
	 * "resolved" member, docs/CONTROL.md "Origin addresses"), so no
	 * worker ever does DNS. Only meaningful without has_address (which
	 * wins when both are pushed); nb_resolved 0: not resolved (yet). */
	struct in_addr resolved[CFG_RESOLVED_MAX];
	unsigned int nb_resolved;
	uint32_t resolved_ttl;          /* seconds, as the control plane kept it */
	uint64_t resolved_at;           /* unix seconds of that answer */
};

struct cfg_behavior {
	char *path_pattern;             /* NULL for the default behavior */
	size_t pattern_len;
	const struct cfg_origin *origin;
	enum cfg_viewer_policy viewer_policy;
};

/* Security headers added to responses. A NULL string is a header the
 * distribution does not set. */
struct cfg_resp_headers {
	char *hsts;                     /* the Strict-Transport-Security value,
					 * "max-age=N[; includeSubDomains]
					 * [; preload]" */
	bool content_type_options;      /* X-Content-Type-Options: nosniff */
	char *frame_options;            /* "DENY", "SAMEORIGIN" */
	char *referrer_policy;
	char *content_security_policy;
	bool override;                  /* replace the origin's own header;
					 * false: keep the origin's */
};

struct cfg_dist {
	char *name;
	unsigned int index;             /* position in the snapshot */
	bool enabled;
	bool is_default;                /* "default": true; at most one */
	char **aliases;                 /* lower-case; "*.example.com" allowed */
	unsigned int nb_aliases;
	const struct cfg_cert *ecdsa;   /* NULL when not configured */
	const struct cfg_cert *rsa;     /* NULL when not configured */
	bool has_listen;
	struct in_addr listen;          /* dedicated address when has_listen */
	char *security_policy;          /* "TLSv1.2_2021", ... */
	enum cfg_mtls_mode mtls;
	const struct cfg_truststore *trust_store;  /* NULL when mtls is off */
	/* Routing. A distribution pushed without "origins" (only possible
	 * through the dataplane socket directly; the control plane always
	 * fills them in) has none: nb_origins is 0 and
	 * default_behavior.origin is NULL, and requests to it are refused. */
	struct cfg_origin *origins;
	unsigned int nb_origins;
	struct cfg_behavior *behaviors; /* in order: the first match wins */
	unsigned int nb_behaviors;
	struct cfg_behavior default_behavior;
	struct cfg_resp_headers resp_headers;
	json_t *json;                   /* the normalised object, for later use */
};

struct cfg_snapshot;

/*
 * Build a snapshot of generation `generation` (> 0) from the staged
 * objects: certs, truststores and dists are JSON objects mapping a name to
 * the object pushed with txn_put (any of them may be NULL: none of that
 * kind). The snapshot copies what it needs; the caller keeps its
 * references. Returns a snapshot holding one reference, or NULL with a
 * sentence in err naming the object and what is wrong: a malformed object,
 * a distribution naming a missing certificate or one of the wrong key
 * type, a missing trust store, an alias claimed twice, a behavior naming a
 * missing origin. Absent optional fields of origins, behaviors and
 * response_headers take the defaults of docs/CONTROL.md. Control thread.
 */
struct cfg_snapshot *cfg_snapshot_build(uint64_t generation,
					const json_t *certs,
					const json_t *truststores,
					const json_t *dists,
					char *err, size_t errlen);

/* Take one more reference. Any thread holding a reference, or a worker
 * between rcu_dereference and its next quiescent state. */
struct cfg_snapshot *cfg_snapshot_get(struct cfg_snapshot *s);

/* Drop a reference; the last one frees the snapshot and wipes the private
 * keys. NULL is ignored. Any thread. */
void cfg_snapshot_put(struct cfg_snapshot *s);

uint64_t cfg_snapshot_generation(const struct cfg_snapshot *s);
unsigned int cfg_snapshot_nb_dists(const struct cfg_snapshot *s);
unsigned int cfg_snapshot_nb_certs(const struct cfg_snapshot *s);
unsigned int cfg_snapshot_nb_truststores(const struct cfg_snapshot *s);

/* Objects by position (0 .. nb-1) or name; NULL when absent. The result
 * lives as long as the snapshot. */
const struct cfg_dist *cfg_snapshot_dist(const struct cfg_snapshot *s,
					 unsigned int i);
const struct cfg_cert *cfg_snapshot_find_cert(const struct cfg_snapshot *s,
					      const char *name);
const struct cfg_dist *cfg_snapshot_find_dist(const struct cfg_snapshot *s,
					      const char *name);

/*
 * The enabled distribution serving host (an SNI or Host value, any case,
 * an optional trailing dot): an exact alias first, then the wildcard
 * "*.<parent>" where parent is host without its first label (one label
 * only, as in RFC 6125). NULL when none, or when the distribution that
 * claims the name is disabled. Any thread holding the snapshot.
 */
const struct cfg_dist *cfg_snapshot_find_host(const struct cfg_snapshot *s,
					      const char *host);

/* The origin of d with this id, or NULL. Any thread holding the snapshot. */
const struct cfg_origin *cfg_dist_find_origin(const struct cfg_dist *d,
					      const char *id);

/* The enabled distribution marked "default": true, or NULL. */
const struct cfg_dist *cfg_snapshot_default(const struct cfg_snapshot *s);

/* The enabled distribution whose dedicated listen.address is addr
 * (network order), or NULL. */
const struct cfg_dist *cfg_snapshot_find_listen(const struct cfg_snapshot *s,
						uint32_t addr);

/*
 * An opaque extension built after cfg_snapshot_build and before
 * publication: the TLS contexts of dataplane/tls (tls_ctx.h), kept out of
 * this module so cfg/ stays free of wolfSSL. The snapshot owns ext from
 * here on and calls free_fn(ext) when its last reference goes, so
 * contexts live exactly as long as a connection may still use them.
 * Replaces (and frees) a previous extension. Only before publication:
 * the control thread holding the only reference.
 */
void cfg_snapshot_set_tls(struct cfg_snapshot *s, void *ext,
			  void (*free_fn)(void *ext));

/* The extension set above, or NULL. Any thread holding the snapshot. */
void *cfg_snapshot_tls(const struct cfg_snapshot *s);

/*
 * Publication. *slot is the published pointer (NULL before the first
 * commit). cfg_snapshot_publish stores s (taking over the caller's
 * reference), waits for an RCU grace period and drops the reference the
 * slot held on the previous snapshot. The caller must be a registered QSBR
 * thread (it may be online: synchronize_rcu puts it offline while it
 * waits). Control thread only, one publisher at a time.
 */
void cfg_snapshot_publish(struct cfg_snapshot **slot, struct cfg_snapshot *s);

/* The published snapshot, valid until the caller's next quiescent state
 * (take a reference to keep it longer). Registered, online threads. */
struct cfg_snapshot *cfg_snapshot_current(struct cfg_snapshot *const *slot);

#endif /* RAMPART_CFG_SNAPSHOT_H */

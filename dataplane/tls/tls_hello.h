/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A peek at the ClientHello before any TLS object exists: the worker reads
 * the server name, the signature algorithms and the offered versions from
 * the raw bytes, picks the distribution and the certificate (ECDSA when the
 * client can verify it, RSA otherwise), and only then creates the wolfSSL
 * session on the right context. Stateless and zero-copy in the
 * picohttpparser manner: the caller owns the buffer and calls again with
 * more bytes. No wolfSSL, no DPDK: unit-tested on plain buffers.
 */
#ifndef RAMPART_TLS_HELLO_H
#define RAMPART_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A ClientHello larger than this (post-quantum key shares fit) is refused. */
#define TLS_HELLO_MAX   (16u << 10)

struct tls_hello {
	char sni[254];          /* host_name, lower-cased; "" when absent */
	bool has_sni;
	bool sni_invalid;       /* present but not a valid DNS name */
	/* Could the client verify an ECDSA (P-256/P-384) or an RSA server
	 * signature? From signature_algorithms (TLS 1.2/1.3); when the
	 * extension is absent, RFC 5246 7.4.1.4.1 defaults apply (RSA, and
	 * ECDSA only if the client offered an ECDHE_ECDSA suite). */
	bool ecdsa_ok;
	bool rsa_ok;
	bool offers_tls13;      /* supported_versions lists 0x0304 */
	uint16_t legacy_version;        /* client_version field */
	bool status_request;    /* asks for an OCSP staple */
	bool alpn_http11;       /* ALPN offers "http/1.1" */
	bool alpn_h2;           /* ALPN offers "h2" */
	bool has_alpn;
	bool early_data;        /* TLS 1.3 early_data extension present */
};

/*
 * Parse the ClientHello at the start of a TLS byte stream buf[0..len),
 * which may span several handshake records. Returns 1 when complete (*h
 * filled), 0 when more bytes are needed, -EBADMSG when the bytes are not a
 * well-formed TLS ClientHello (not a handshake record, bad lengths,
 * duplicate extensions, trailing bytes, SSLv2 hello), -EMSGSIZE when it
 * grows past TLS_HELLO_MAX. Never reads past buf + len.
 */
int tls_hello_parse(const uint8_t *buf, size_t len, struct tls_hello *h);

#endif /* RAMPART_TLS_HELLO_H */

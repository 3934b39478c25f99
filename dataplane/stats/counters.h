/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-lcore dataplane counters. Each worker writes only its own block; a
 * reader (the control thread, or main at exit) sums the blocks. Writers use
 * relaxed atomic stores so a concurrent reader sees whole values; on x86-64
 * that is an ordinary add and store.
 */
#ifndef RAMPART_STATS_COUNTERS_H
#define RAMPART_STATS_COUNTERS_H

#include <stdint.h>

#include <rte_common.h>

/* Names are the operator-visible keys (rampartctl, tests, docs). */
#define DP_COUNTERS(X) \
	X(eth_short)            /* frame shorter than an Ethernet header */ \
	X(eth_not_for_us)       /* unicast to another MAC, or multicast */ \
	X(eth_unknown_type)     /* ethertype other than ARP/IPv4/IPv6 */ \
	X(eth_ipv6)             /* IPv6 frames (not handled yet) */ \
	X(arp_malformed)        /* short, or not Ethernet/IPv4 sizes */ \
	X(arp_not_for_us)       /* request for an address we do not own */ \
	X(arp_requests_in) \
	X(arp_replies_in) \
	X(arp_replies_out) \
	X(arp_requests_out) \
	X(arp_gratuitous_out) \
	X(arp_learned)          /* neighbour entries created or refreshed */ \
	X(arp_unresolved)       /* next hop never answered; held frames freed */ \
	X(arp_hold_dropped)     /* frames dropped while waiting for ARP */ \
	X(ip_short)             /* shorter than a minimal IPv4 header */ \
	X(ip_bad_version) \
	X(ip_bad_ihl)           /* IHL < 5 or beyond the frame */ \
	X(ip_bad_checksum) \
	X(ip_bad_length)        /* total length inconsistent with the frame */ \
	X(ip_bad_src)           /* broadcast/multicast/zero source */ \
	X(ip_fragment)          /* fragments are counted and dropped */ \
	X(ip_not_for_us) \
	X(ip_unknown_proto) \
	X(ip_no_route) \
	X(icmp_malformed) \
	X(icmp_bad_checksum) \
	X(icmp_echo_in) \
	X(icmp_echo_out) \
	X(icmp_other)           /* ICMP types other than echo request */ \
	X(tcp_short)            /* shorter than a TCP header */ \
	X(tcp_bad_offset)       /* data offset < 5 or beyond the segment */ \
	X(tcp_bad_checksum) \
	X(tcp_bad_options)      /* option lengths that overrun or are absurd */ \
	X(tcp_no_listener)      /* SYN/segment for no connection: RST sent */ \
	X(tcp_passive_opens) \
	X(tcp_active_opens) \
	X(tcp_established)      /* handshakes completed */ \
	X(tcp_closed)           /* connections freed */ \
	X(tcp_resets_in)        /* acceptable RSTs that closed a connection */ \
	X(tcp_resets_out) \
	X(tcp_challenge_acks)   /* RFC 5961 */ \
	X(tcp_challenge_limited) /* challenge ACKs over the per-second limit */ \
	X(tcp_out_of_window)    /* unacceptable segments */ \
	X(tcp_paws_drops)       /* RFC 7323 PAWS rejections */ \
	X(tcp_ack_unsent)       /* ACK for data never sent */ \
	X(tcp_segs_in) \
	X(tcp_segs_out) \
	X(tcp_bytes_in)         /* payload delivered in order */ \
	X(tcp_bytes_out)        /* payload sent, retransmissions included */ \
	X(tcp_retransmits)      /* segments sent again */ \
	X(tcp_rto)              /* retransmission timeouts */ \
	X(tcp_fast_retransmits) \
	X(tcp_tlp_probes)       /* tail loss probes (RFC 8985) */ \
	X(tcp_timeouts)         /* connections given up */ \
	X(tcp_ooo_segments)     /* queued out of order */ \
	X(tcp_ooo_dropped)      /* out-of-order queue full */ \
	X(tcp_dup_segments)     /* entirely old data */ \
	X(tcp_zero_window_probes) \
	X(tcp_keepalive_probes) \
	X(tcp_conn_limit)       /* SYN or connect refused: no free object */ \
	X(tcp_backlog_full)     /* SYN_RCVD limit reached on a listener */ \
	X(tcp_syncookies_sent) \
	X(tcp_syncookies_ok) \
	X(tcp_syncookies_bad) \
	X(tcp_tw_reuse)         /* TIME_WAIT taken over by a new SYN */ \
	X(tcp_tw_recycled)      /* oldest TIME_WAIT freed: no free object */ \
	X(tcp_nomem)            /* mbuf allocation failed */ \
	X(tcp_steered)          /* handed to the owning worker */ \
	X(tcp_steer_dropped)    /* owner's inbox full */ \
	X(tls_handshakes)       /* full handshakes completed */ \
	X(tls_resumed)          /* handshakes resumed from a ticket */ \
	X(tls_handshake_failures) /* every failed handshake; by cause: */ \
	X(tls_fail_timeout)     /* handshake or request not done in time */ \
	X(tls_fail_bad_hello)   /* not a TLS ClientHello, or oversized */ \
	X(tls_fail_unknown_sni) /* no distribution and no default */ \
	X(tls_fail_protocol_version) /* no common protocol version */ \
	X(tls_fail_handshake)   /* no common suite/group, bad messages */ \
	X(tls_fail_bad_certificate) /* viewer certificate refused (mTLS) */ \
	X(tls_fail_other)       /* peer reset, alerts, internal errors */ \
	X(tls_refused_busy)     /* reset: handshake cap or pool exhausted */ \
	X(tls_staples_served)   /* handshakes that carried an OCSP staple */ \
	X(tls_mtls_ok)          /* viewer certificate verified */ \
	X(tls_mtls_none)        /* mTLS optional and no certificate sent */ \
	X(tls_mtls_failed)      /* optional: certificate sent, not verified */ \
	X(tls_v12) \
	X(tls_v13) \
	X(tls_aes128gcm)        /* suite mix, by bulk cipher */ \
	X(tls_aes256gcm) \
	X(tls_chacha20) \
	X(tls_cbc)              /* TLSv1.2_2019's CBC suites */ \
	X(tls_tickets_renewed)  /* ticket opened with an older ring key */ \
	X(tls_renegotiation_refused) /* client asked to renegotiate */ \
	X(tls_active)           /* gauge: established TLS connections */ \
	X(tls_heap_bytes)       /* gauge: wolfSSL heap held by the worker */ \
	X(http_conns)           /* plain-HTTP viewer connections accepted */ \
	X(http_active)          /* gauge: viewer connections in the engine */ \
	X(http_refused_busy)    /* connection or head buffer pool exhausted */ \
	X(http_requests)        /* request heads parsed (or refused) */ \
	X(http_responses_2xx)   /* answers sent to viewers, by class */ \
	X(http_responses_3xx) \
	X(http_responses_4xx) \
	X(http_responses_5xx) \
	X(http_edge_redirect)   /* the edge's own answers: 301/308 */ \
	X(http_edge_400) \
	X(http_edge_403) \
	X(http_edge_404) \
	X(http_edge_421) \
	X(http_edge_4xx_other)  /* 408, 413, 414, 417, 431 */ \
	X(http_edge_502) \
	X(http_edge_503) \
	X(http_edge_504) \
	X(http_edge_5xx_other)  /* 501, 505 */ \
	X(http_header_timeouts) /* head not complete in time: closed */ \
	X(http_keepalive_timeouts) /* idle between requests: closed */ \
	X(http_body_timeouts)   /* request body stalled: 408, closed */ \
	X(http_send_timeouts)   /* viewer stopped reading a response: reset */ \
	X(http_log_dropped)     /* access-log records lost: ring full */ \
	X(px_origin_connects)   /* origin connections opened */ \
	X(px_origin_reused)     /* requests on a pooled origin connection */ \
	X(px_origin_retries)    /* pooled connection found closed: retried */ \
	X(px_origin_queued)     /* waited for a connection (max_connections) */ \
	X(px_origin_errors_limit) /* waited past the connect timeout: 503 */ \
	X(px_origin_idle)       /* gauge: pooled idle origin connections */ \
	X(px_origin_errors_refused) /* refused or no route: 502 */ \
	X(px_origin_errors_timeout) /* connect or response timeout: 504 */ \
	X(px_origin_errors_reset) /* reset or closed early: 502 / cut body */ \
	X(px_origin_errors_protocol) /* invalid response head or body */ \
	X(px_origin_tls_handshakes) /* full TLS handshakes with origins */ \
	X(px_origin_tls_resumed) /* resumed TLS handshakes with origins */ \
	X(px_origin_tls_fail_untrusted) /* unknown CA, self-signed: 502 */ \
	X(px_origin_tls_fail_expired) /* expired or not yet valid: 502 */ \
	X(px_origin_tls_fail_name) /* certificate names another host: 502 */ \
	X(px_origin_tls_fail_chain) /* chain out of order: 502 */ \
	X(px_origin_tls_fail_pin) /* no pinned key vouches: 502 */ \
	X(px_origin_tls_fail_revoked) /* revoked (trust store CRL): 502 */ \
	X(px_origin_tls_fail_handshake) /* protocol, suite, alert: 502 */ \
	X(px_origin_no_address) /* origin without an address: 502 */ \
	X(px_bytes_up)          /* bytes written to origins */ \
	X(px_bytes_down)        /* bytes written to viewers by the proxy */ \
	X(busy_cycles)          /* TSC cycles of poll loops that did work */ \
	X(idle_cycles)          /* TSC cycles of empty poll loops */ \
	X(loops)

enum dp_counter {
#define DPC_ENUM(n) DPC_##n,
	DP_COUNTERS(DPC_ENUM)
#undef DPC_ENUM
	DPC_MAX
};

extern const char *const dp_counter_names[DPC_MAX];

struct dp_counters {
	uint64_t v[DPC_MAX];
} __rte_cache_aligned;

/* Owner lcore only. */
static inline void
dpc_add(struct dp_counters *c, enum dp_counter i, uint64_t n)
{
	__atomic_store_n(&c->v[i], c->v[i] + n, __ATOMIC_RELAXED);
}

static inline void
dpc_inc(struct dp_counters *c, enum dp_counter i)
{
	dpc_add(c, i, 1);
}

/* Any thread. */
static inline uint64_t
dpc_read(const struct dp_counters *c, enum dp_counter i)
{
	return __atomic_load_n(&c->v[i], __ATOMIC_RELAXED);
}

#endif /* RAMPART_STATS_COUNTERS_H */

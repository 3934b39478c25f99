/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Asynchronous IPv4 lookups with c-ares (docs/DEPENDENCIES.md says why
 * c-ares and not getaddrinfo in a thread: it reports TTLs). No thread: the
 * channel's sockets join the control plane's poll() loop (rs_dns_pollfds,
 * rs_dns_timeout_ms, rs_dns_process), so a slow or dead name server never
 * stalls rampartctl requests or dataplane pushes.
 *
 * Lookups follow the system's configuration (/etc/resolv.conf name
 * servers, /etc/hosts and the order of /etc/nsswitch.conf) except that
 * search domains are never appended: an origin domain is a fully qualified
 * name, and a suffixed guess could reach another host. `servers` replaces
 * the name servers (tests point it at their own).
 *
 * Thread-safety: one thread (the event loop) per rs_dns. Call
 * rs_dns_library_init once before any thread starts.
 */
#ifndef RAMPART_CP_DNS_H
#define RAMPART_CP_DNS_H

#include <poll.h>
#include <stddef.h>

#include "resolve.h"

#define RS_DNS_FDS_MAX    16    /* ARES_GETSOCK_MAXNUM */
#define RS_DNS_TIMEOUT_MS 2000  /* per try and name server */
#define RS_DNS_TRIES      2

struct rs_dns;

/* Called once per lookup, from rs_dns_lookup itself (an /etc/hosts hit,
 * a numeric name) or from rs_dns_process; never after rs_dns_free. name is
 * the looked-up name; a is valid during the call. */
typedef void (*rs_dns_done_fn)(void *arg, const char *name,
			       const struct rs_answer *a);

/* c-ares' global init; 0 or -EIO. Main thread, before any other. */
int rs_dns_library_init(void);
void rs_dns_library_fini(void);

/* A channel over the system configuration; servers (may be NULL) is a
 * comma-separated list of ADDR or ADDR:PORT that replaces the name
 * servers. NULL with a sentence in err. */
struct rs_dns *rs_dns_new(const char *servers, char *err, size_t errlen);

/* Start an IPv4 lookup of name; done is called exactly once. Returns 0,
 * or -ENOMEM/-EINVAL (done not called). */
int rs_dns_lookup(struct rs_dns *d, const char *name, rs_dns_done_fn done,
		  void *arg);

/* Lookups started and not answered yet. */
unsigned int rs_dns_pending(const struct rs_dns *d);

/* Fill up to max (>= RS_DNS_FDS_MAX) pollfds with the channel's sockets;
 * returns how many. */
unsigned int rs_dns_pollfds(struct rs_dns *d, struct pollfd *p,
			    unsigned int max);

/* max_ms, or less when a c-ares timer (a retry) is due sooner. */
int rs_dns_timeout_ms(struct rs_dns *d, int max_ms);

/* After poll(): the n pollfds rs_dns_pollfds filled, and the timers. */
void rs_dns_process(struct rs_dns *d, const struct pollfd *p, unsigned int n);

/* Cancel what is pending (no callbacks) and free. NULL is ignored. */
void rs_dns_free(struct rs_dns *d);

#endif /* RAMPART_CP_DNS_H */

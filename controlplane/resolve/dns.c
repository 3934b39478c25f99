/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <ares.h>

#include "dns.h"

struct rs_dns {
	ares_channel ch;
	unsigned int pending;
	bool closing;
};

struct rs_job {
	struct rs_dns *d;
	rs_dns_done_fn done;
	void *arg;
	char name[RS_DOMAIN_MAX + 1];
};

int
rs_dns_library_init(void)
{
	return ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS ? 0 : -EIO;
}

void
rs_dns_library_fini(void)
{
	ares_library_cleanup();
}

struct rs_dns *
rs_dns_new(const char *servers, char *err, size_t errlen)
{
	struct ares_options o;
	struct rs_dns *d;
	int rc;

	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memset(&o, 0, sizeof(o));
	/* NOSEARCH: see dns.h. The rest of the flags stay c-ares' own. */
	o.flags = ARES_FLAG_NOSEARCH;
	o.timeout = RS_DNS_TIMEOUT_MS;
	o.tries = RS_DNS_TRIES;
	rc = ares_init_options(&d->ch, &o, ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS |
			       ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "the resolver did not start: %s",
			 ares_strerror(rc));
		free(d);
		return NULL;
	}
	if (servers != NULL) {
		rc = ares_set_servers_ports_csv(d->ch, servers);
		if (rc != ARES_SUCCESS) {
			snprintf(err, errlen, "name servers \"%s\": %s (expected "
				 "ADDR or ADDR:PORT, comma-separated)", servers,
				 ares_strerror(rc));
			ares_destroy(d->ch);
			free(d);
			return NULL;
		}
	}
	return d;
}

static int
rs_errno(int status)
{
	switch (status) {
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
		return -ENOENT;
	case ARES_ETIMEOUT:
		return -ETIMEDOUT;
	case ARES_ECONNREFUSED:
	case ARES_EREFUSED:
		return -ECONNREFUSED;
	case ARES_ESERVFAIL:
		return -EAGAIN;
	case ARES_ENOMEM:
		return -ENOMEM;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

static void
rs_on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct rs_job *j = arg;
	struct rs_dns *d = j->d;
	const struct ares_addrinfo_node *n;
	const struct ares_addrinfo_cname *c;
	struct rs_answer a;
	long ttl = LONG_MAX;

	(void)timeouts;
	d->pending--;
	if (d->closing) {
		ares_freeaddrinfo(res);
		free(j);
		return;
	}
	memset(&a, 0, sizeof(a));
	if (status != ARES_SUCCESS) {
		a.rc = rs_errno(status);
		snprintf(a.err, sizeof(a.err), "cannot resolve %.200s: %s", j->name,
			 ares_strerror(status));
	} else {
		/* The answer lives as long as its shortest record: a CNAME
		 * with a short TTL ends the A records' validity too. */
		for (n = res != NULL ? res->nodes : NULL; n != NULL;
		     n = n->ai_next) {
			if (n->ai_family != AF_INET || n->ai_addr == NULL)
				continue;
			if (a.n < sizeof(a.addrs) / sizeof(a.addrs[0]))
				a.addrs[a.n++] = ((const struct sockaddr_in *)
						  (const void *)n->ai_addr)->sin_addr;
			if (n->ai_ttl < ttl)
				ttl = n->ai_ttl;
		}
		for (c = res != NULL ? res->cnames : NULL; c != NULL;
		     c = c->next)
			if (c->ttl < ttl)
				ttl = c->ttl;
		a.ttl = ttl < 0 ? 0 : ttl > UINT32_MAX ? UINT32_MAX :
			(uint32_t)ttl;
		if (a.n == 0) {
			a.rc = -ENOENT;
			snprintf(a.err, sizeof(a.err), "cannot resolve %.200s: no "
				 "IPv4 address in the answer", j->name);
		}
	}
	ares_freeaddrinfo(res);
	j->done(j->arg, j->name, &a);
	free(j);
}

int
rs_dns_lookup(struct rs_dns *d, const char *name, rs_dns_done_fn done,
	      void *arg)
{
	struct ares_addrinfo_hints hints;
	struct rs_job *j;

	if (name == NULL || name[0] == '\0' || strlen(name) > RS_DOMAIN_MAX)
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return -ENOMEM;
	j->d = d;
	j->done = done;
	j->arg = arg;
	strcpy(j->name, name);
	memset(&hints, 0, sizeof(hints));
	/* The dataplane is IPv4 only: no AAAA query at all. */
	hints.ai_family = AF_INET;
	d->pending++;
	ares_getaddrinfo(d->ch, j->name, NULL, &hints, rs_on_addrinfo, j);
	return 0;
}

unsigned int
rs_dns_pending(const struct rs_dns *d)
{
	return d->pending;
}

unsigned int
rs_dns_pollfds(struct rs_dns *d, struct pollfd *p, unsigned int max)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	unsigned int i, n = 0, bits;

	/* ARES_GETSOCK_WRITABLE shifts a signed 1 into bit 31: UB. */
	bits = (unsigned int)ares_getsock(d->ch, socks, ARES_GETSOCK_MAXNUM);
	for (i = 0; i < ARES_GETSOCK_MAXNUM && n < max; i++) {
		short ev = 0;

		if (bits & (1u << i))
			ev |= POLLIN;
		if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
			ev |= POLLOUT;
		if (ev == 0)
			continue;
		p[n++] = (struct pollfd){ .fd = socks[i], .events = ev };
	}
	return n;
}

int
rs_dns_timeout_ms(struct rs_dns *d, int max_ms)
{
	struct timeval maxtv, tv, *t;
	long ms;

	if (d->pending == 0)
		return max_ms;
	maxtv.tv_sec = max_ms / 1000;
	maxtv.tv_usec = (max_ms % 1000) * 1000;
	t = ares_timeout(d->ch, &maxtv, &tv);
	if (t == NULL)
		return max_ms;
	/* Round up: waking a millisecond early would spin. */
	ms = (long)t->tv_sec * 1000 + (t->tv_usec + 999) / 1000;
	return ms < max_ms ? (int)ms : max_ms;
}

void
rs_dns_process(struct rs_dns *d, const struct pollfd *p, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (p[i].revents == 0)
			continue;
		ares_process_fd(d->ch,
				p[i].revents & (POLLIN | POLLERR | POLLHUP) ?
				p[i].fd : ARES_SOCKET_BAD,
				p[i].revents & POLLOUT ? p[i].fd :
				ARES_SOCKET_BAD);
	}
	/* Retries and timeouts, whether or not a socket was ready. */
	ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

void
rs_dns_free(struct rs_dns *d)
{
	if (d == NULL)
		return;
	d->closing = true;
	ares_destroy(d->ch);
	free(d);
}

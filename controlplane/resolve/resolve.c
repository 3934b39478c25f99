/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolve.h"

void
rs_table_init(struct rs_table *t)
{
	memset(t, 0, sizeof(*t));
}

void
rs_table_fini(struct rs_table *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

struct rs_entry *
rs_table_find(const struct rs_table *t, const char *domain)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->e[i].domain, domain) == 0)
			return &t->e[i];
	return NULL;
}

void
rs_table_mark(struct rs_table *t)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		t->e[i].used = false;
}

static struct rs_entry *
rs_table_add(struct rs_table *t, const char *domain)
{
	struct rs_entry *e;
	unsigned int cap;

	if (domain[0] == '\0' || strlen(domain) > RS_DOMAIN_MAX)
		return NULL;
	if (t->n == t->cap) {
		cap = t->cap ? 2 * t->cap : 8;
		e = realloc(t->e, cap * sizeof(*e));
		if (e == NULL)
			return NULL;
		t->e = e;
		t->cap = cap;
	}
	e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	strcpy(e->domain, domain);
	return e;
}

int
rs_table_want(struct rs_table *t, const char *domain)
{
	struct rs_entry *e = rs_table_find(t, domain);

	if (e == NULL) {
		if (domain[0] == '\0' || strlen(domain) > RS_DOMAIN_MAX)
			return -EINVAL;
		e = rs_table_add(t, domain);
		if (e == NULL)
			return -ENOMEM;
	}
	e->used = true;
	return 0;
}

unsigned int
rs_table_sweep(struct rs_table *t)
{
	unsigned int i, o = 0;

	for (i = 0; i < t->n; i++)
		if (t->e[i].used)
			t->e[o++] = t->e[i];
	i = t->n - o;
	t->n = o;
	return i;
}

bool
rs_entry_due(const struct rs_entry *e, uint64_t now)
{
	return !e->in_flight && now >= e->next_try;
}

uint32_t
rs_clamp_ttl(const struct rs_policy *p, uint32_t ttl)
{
	if (ttl < p->min_ttl_s)
		return p->min_ttl_s;
	if (ttl > p->max_ttl_s)
		return p->max_ttl_s;
	return ttl;
}

uint32_t
rs_retry_delay(const struct rs_policy *p, unsigned int failures)
{
	uint32_t cap = p->max_ttl_s < RS_RETRY_MAX_S ? p->max_ttl_s :
		       RS_RETRY_MAX_S;
	uint64_t d = p->min_ttl_s ? p->min_ttl_s : 1;

	while (failures-- > 1 && d < cap)
		d *= 2;
	return d < cap ? (uint32_t)d : cap;
}

static int
addr_cmp(const void *a, const void *b)
{
	uint32_t x = ntohl(((const struct in_addr *)a)->s_addr);
	uint32_t y = ntohl(((const struct in_addr *)b)->s_addr);

	return x < y ? -1 : x > y;
}

bool
rs_entry_answer(struct rs_entry *e, const struct rs_answer *a, uint64_t now,
		const struct rs_policy *p)
{
	struct in_addr sorted[sizeof(a->addrs) / sizeof(a->addrs[0])];
	unsigned int i, n = 0, total = a->n;
	bool changed;

	e->in_flight = false;
	if (total > sizeof(sorted) / sizeof(sorted[0]))
		total = sizeof(sorted) / sizeof(sorted[0]);
	if (a->rc != 0 || total == 0) {
		e->failures++;
		e->failed_at = now;
		if (a->rc != 0)
			snprintf(e->last_error, sizeof(e->last_error), "%s",
				 a->err);
		else
			snprintf(e->last_error, sizeof(e->last_error),
				 "%.200s has no IPv4 address", e->domain);
		e->next_try = now + rs_retry_delay(p, e->failures);
		return false;
	}
	memcpy(sorted, a->addrs, total * sizeof(sorted[0]));
	qsort(sorted, total, sizeof(sorted[0]), addr_cmp);
	for (i = 0; i < total && n < RS_ADDRS_MAX; i++)
		if (n == 0 || sorted[i].s_addr != sorted[n - 1].s_addr)
			sorted[n++] = sorted[i];
	changed = n != e->n ||
		  memcmp(sorted, e->addrs, n * sizeof(sorted[0])) != 0;
	memcpy(e->addrs, sorted, n * sizeof(sorted[0]));
	e->n = n;
	e->ttl = rs_clamp_ttl(p, a->ttl);
	e->resolved_at = now;
	e->next_try = now + e->ttl;
	e->failures = 0;
	e->last_error[0] = '\0';
	return changed;
}

json_t *
rs_entry_json(const struct rs_entry *e)
{
	char buf[INET_ADDRSTRLEN];
	json_t *addrs;
	unsigned int i;

	if (e->n == 0)
		return NULL;
	addrs = json_array();
	for (i = 0; addrs != NULL && i < e->n; i++) {
		inet_ntop(AF_INET, &e->addrs[i], buf, sizeof(buf));
		if (json_array_append_new(addrs, json_string(buf)) != 0) {
			json_decref(addrs);
			return NULL;
		}
	}
	return json_pack("{s:o*, s:I, s:I}", "addresses", addrs,
			 "ttl", (json_int_t)e->ttl,
			 "resolved_at", (json_int_t)e->resolved_at);
}

json_t *
rs_table_save(const struct rs_table *t)
{
	json_t *domains = json_object(), *v;
	unsigned int i;

	for (i = 0; domains != NULL && i < t->n; i++) {
		v = rs_entry_json(&t->e[i]);
		if (v != NULL && json_object_set_new(domains, t->e[i].domain,
						     v) != 0) {
			json_decref(domains);
			return NULL;
		}
	}
	return json_pack("{s:o*}", "domains", domains);
}

int
rs_table_load(struct rs_table *t, const json_t *j, char *err, size_t errlen)
{
	const json_t *domains = json_object_get(j, "domains"), *v, *a;
	const json_t *addrs, *ttl, *at;
	struct rs_entry *e;
	const char *d;
	size_t i;

	if (!json_is_object(domains)) {
		snprintf(err, errlen, "\"domains\" is not an object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)domains, d, v) {
		addrs = json_object_get(v, "addresses");
		ttl = json_object_get(v, "ttl");
		at = json_object_get(v, "resolved_at");
		if (!json_is_array(addrs) || json_array_size(addrs) == 0 ||
		    json_array_size(addrs) > RS_ADDRS_MAX ||
		    !json_is_integer(ttl) || json_integer_value(ttl) < 0 ||
		    json_integer_value(ttl) > UINT32_MAX ||
		    !json_is_integer(at) || json_integer_value(at) < 0) {
			snprintf(err, errlen, "domain \"%.253s\": needs "
				 "addresses (1-%d), ttl and resolved_at", d,
				 RS_ADDRS_MAX);
			return -EINVAL;
		}
		if (rs_table_find(t, d) != NULL)
			continue;
		e = rs_table_add(t, d);
		if (e == NULL) {
			snprintf(err, errlen, "domain \"%.253s\": not a host "
				 "name, or out of memory", d);
			return -EINVAL;
		}
		json_array_foreach(addrs, i, a) {
			if (!json_is_string(a) ||
			    inet_pton(AF_INET, json_string_value(a),
				      &e->addrs[i]) != 1) {
				t->n--;
				snprintf(err, errlen, "domain \"%.253s\": "
					 "address %zu is not IPv4", d, i);
				return -EINVAL;
			}
		}
		e->n = (unsigned int)json_array_size(addrs);
		qsort(e->addrs, e->n, sizeof(e->addrs[0]), addr_cmp);
		e->ttl = (uint32_t)json_integer_value(ttl);
		e->resolved_at = (uint64_t)json_integer_value(at);
		/* Due at once: what was true at the last run may not be. */
		e->next_try = 0;
	}
	return 0;
}

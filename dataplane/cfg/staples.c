/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "staples.h"

#define CFG_STAPLE_MAX (64u << 10)

struct cfg_staples {
	struct cds_lfht *ht;
	unsigned long count;            /* written by the control thread */
};

/* The key is already a SHA-256 digest: its first bytes are as good a
 * hash as any. */
static unsigned long
fp_hash(const uint8_t fp[CFG_FINGERPRINT_LEN])
{
	unsigned long h;

	memcpy(&h, fp, sizeof(h));
	return h;
}

static int
fp_match(struct cds_lfht_node *node, const void *key)
{
	const struct cfg_staple *s =
		caa_container_of(node, struct cfg_staple, node);

	return memcmp(s->fingerprint, key, CFG_FINGERPRINT_LEN) == 0;
}

static void
staple_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct cfg_staple, rcu));
}

struct cfg_staples *
cfg_staples_new(void)
{
	struct cfg_staples *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	/* Name the flavour explicitly rather than through the rcu_flavor
	 * macro, so the table cannot end up waiting on another flavour's
	 * grace periods whatever was included first. */
	st->ht = cds_lfht_new_flavor(16, 16, 0, CDS_LFHT_AUTO_RESIZE |
				     CDS_LFHT_ACCOUNTING, &urcu_qsbr_flavor,
				     NULL);
	if (st->ht == NULL) {
		free(st);
		return NULL;
	}
	return st;
}

void
cfg_staples_free(struct cfg_staples *st)
{
	struct cds_lfht_iter it;
	struct cfg_staple *s;

	if (st == NULL)
		return;
	/* Nobody reads or writes any more, so there is no grace period to
	 * wait for: unlink and free directly. */
	cds_lfht_for_each_entry(st->ht, &it, s, node) {
		cds_lfht_del(st->ht, &s->node);
		free(s);
	}
	cds_lfht_destroy(st->ht, NULL);
	free(st);
}

int
cfg_staples_set(struct cfg_staples *st,
		const uint8_t fp[CFG_FINGERPRINT_LEN], const char *cert,
		const uint8_t *der, size_t len, int64_t next_update)
{
	struct cds_lfht_node *old;
	struct cfg_staple *s;

	if (len == 0 || len > CFG_STAPLE_MAX)
		return -EINVAL;
	s = malloc(sizeof(*s) + len);
	if (s == NULL)
		return -ENOMEM;
	cds_lfht_node_init(&s->node);
	memcpy(s->fingerprint, fp, CFG_FINGERPRINT_LEN);
	snprintf(s->cert, sizeof(s->cert), "%s", cert != NULL ? cert : "");
	s->next_update = next_update;
	s->len = len;
	memcpy(s->der, der, len);

	rcu_read_lock();
	old = cds_lfht_add_replace(st->ht, fp_hash(fp), fp_match, fp,
				   &s->node);
	rcu_read_unlock();
	if (old != NULL)
		call_rcu(&caa_container_of(old, struct cfg_staple, node)->rcu,
			 staple_free_rcu);
	else
		st->count++;
	return 0;
}

int
cfg_staples_del(struct cfg_staples *st,
		const uint8_t fp[CFG_FINGERPRINT_LEN])
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	int rc = -ENOENT;

	rcu_read_lock();
	cds_lfht_lookup(st->ht, fp_hash(fp), fp_match, fp, &it);
	node = cds_lfht_iter_get_node(&it);
	if (node != NULL && cds_lfht_del(st->ht, node) == 0) {
		call_rcu(&caa_container_of(node, struct cfg_staple, node)->rcu,
			 staple_free_rcu);
		st->count--;
		rc = 0;
	}
	rcu_read_unlock();
	return rc;
}

const struct cfg_staple *
cfg_staples_lookup(struct cfg_staples *st,
		   const uint8_t fp[CFG_FINGERPRINT_LEN], int64_t now)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	const struct cfg_staple *s;

	/* A no-op in QSBR; it documents the read side. */
	rcu_read_lock();
	cds_lfht_lookup(st->ht, fp_hash(fp), fp_match, fp, &it);
	node = cds_lfht_iter_get_node(&it);
	rcu_read_unlock();
	if (node == NULL)
		return NULL;
	s = caa_container_of(node, struct cfg_staple, node);
	return now < s->next_update ? s : NULL;
}

unsigned long
cfg_staples_count(struct cfg_staples *st)
{
	return st->count;
}

int
cfg_staples_foreach(struct cfg_staples *st,
		    int (*fn)(const struct cfg_staple *s, void *arg),
		    void *arg)
{
	struct cds_lfht_iter it;
	struct cfg_staple *s;
	int rc = 0;

	rcu_read_lock();
	cds_lfht_for_each_entry(st->ht, &it, s, node) {
		rc = fn(s, arg);
		if (rc != 0)
			break;
	}
	rcu_read_unlock();
	return rc;
}

/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <urcu-qsbr.h>

#include "hex.h"
#include "ticket_ring.h"

static int
parse_key(struct cfg_ticket_key *k, const json_t *o, size_t i, char *err,
	  size_t errlen)
{
	const json_t *id, *secret, *enc;

	if (!json_is_object(o)) {
		snprintf(err, errlen, "keys[%zu] is not an object", i);
		return -EINVAL;
	}
	id = json_object_get(o, "id");
	secret = json_object_get(o, "secret");
	enc = json_object_get(o, "encrypt");
	if (!json_is_string(id) ||
	    cfg_hex_decode(json_string_value(id), k->id, sizeof(k->id)) != 0) {
		snprintf(err, errlen, "keys[%zu].id must be %d hex digits", i,
			 CFG_TICKET_ID_LEN * 2);
		return -EINVAL;
	}
	if (!json_is_string(secret) ||
	    cfg_hex_decode(json_string_value(secret), k->secret,
			   sizeof(k->secret)) != 0) {
		/* Never echo the secret back, not even in an error. */
		snprintf(err, errlen, "keys[%zu].secret must be %d hex digits",
			 i, CFG_TICKET_SECRET_LEN * 2);
		return -EINVAL;
	}
	if (!json_is_boolean(enc)) {
		snprintf(err, errlen, "keys[%zu].encrypt must be true or false",
			 i);
		return -EINVAL;
	}
	k->encrypt = json_is_true(enc);
	return 0;
}

struct cfg_ticket_ring *
cfg_ticket_ring_from_json(const json_t *keys, char *err, size_t errlen)
{
	struct cfg_ticket_ring *r;
	unsigned int nb_enc = 0;
	const json_t *o;
	size_t i, j;
	char hex[CFG_TICKET_ID_LEN * 2 + 1];

	if (!json_is_array(keys) || json_array_size(keys) == 0 ||
	    json_array_size(keys) > CFG_TICKET_KEYS_MAX) {
		snprintf(err, errlen, "keys must be an array of 1 to %d ticket "
			 "keys", CFG_TICKET_KEYS_MAX);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_array_foreach(keys, i, o) {
		if (parse_key(&r->keys[i], o, i, err, errlen) != 0)
			goto fail;
		r->nb_keys++;
		if (r->keys[i].encrypt) {
			nb_enc++;
			r->encrypt = (unsigned int)i;
		}
		for (j = 0; j < i; j++) {
			if (memcmp(r->keys[j].id, r->keys[i].id,
				   CFG_TICKET_ID_LEN) != 0)
				continue;
			cfg_hex_encode(r->keys[i].id, CFG_TICKET_ID_LEN, hex);
			snprintf(err, errlen, "keys[%zu] and keys[%zu] have the "
				 "same id %s", j, i, hex);
			goto fail;
		}
	}
	if (nb_enc != 1) {
		snprintf(err, errlen, "exactly one key must encrypt; %u of %u "
			 "have \"encrypt\": true", nb_enc, r->nb_keys);
		goto fail;
	}
	return r;
fail:
	cfg_ticket_ring_free(r);
	return NULL;
}

void
cfg_ticket_ring_free(struct cfg_ticket_ring *r)
{
	if (r == NULL)
		return;
	sodium_memzero(r, sizeof(*r));
	free(r);
}

const struct cfg_ticket_key *
cfg_ticket_ring_encrypt_key(const struct cfg_ticket_ring *r)
{
	return &r->keys[r->encrypt];
}

const struct cfg_ticket_key *
cfg_ticket_ring_find(const struct cfg_ticket_ring *r,
		     const uint8_t id[CFG_TICKET_ID_LEN])
{
	unsigned int i;

	for (i = 0; i < r->nb_keys; i++)
		if (memcmp(r->keys[i].id, id, CFG_TICKET_ID_LEN) == 0)
			return &r->keys[i];
	return NULL;
}

void
cfg_ticket_ring_publish(struct cfg_ticket_ring **slot,
			struct cfg_ticket_ring *r)
{
	struct cfg_ticket_ring *old;

	old = rcu_xchg_pointer(slot, r);
	synchronize_rcu();
	cfg_ticket_ring_free(old);
}

const struct cfg_ticket_ring *
cfg_ticket_ring_current(struct cfg_ticket_ring *const *slot)
{
	return rcu_dereference(*slot);
}

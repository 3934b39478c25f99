/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "controlplane/proto/ctlmsg.h"
#include "controlplane/server/daemon.h"
#include "dpsync.h"

void
dps_init(struct dpsync *d, const char *path)
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	snprintf(d->path, sizeof(d->path), "%s", path);
}

void
dps_close(struct dpsync *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	d->synced = false;
	json_decref(d->status);
	d->status = NULL;
}

/* Lost the connection (or never had it): log once per transition. */
static void
dps_down(struct dpsync *d, const char *why)
{
	bool was_up = d->fd >= 0;

	dps_close(d);
	snprintf(d->last_error, sizeof(d->last_error), "%s", why);
	d->next_connect_ms = cp_mono_ms() + DPS_RECONNECT_MS;
	if (was_up || !d->down_logged)
		cp_log("warn", "dataplane not reachable; changes are kept and "
		       "pushed when it is back", "socket=%s error=%s",
		       cp_q(d->path), cp_q(why));
	d->down_logged = true;
}

bool
dps_connect(struct dpsync *d, bool force)
{
	char err[256];
	int fd;

	if (d->fd >= 0)
		return false;
	if (!force && cp_mono_ms() < d->next_connect_ms)
		return false;
	fd = ctlmsg_connect(d->path, err, sizeof(err));
	if (fd < 0) {
		dps_down(d, err);
		return false;
	}
	d->fd = fd;
	d->down_logged = false;
	d->ever_up = true;
	d->last_error[0] = '\0';
	d->next_status_ms = 0;
	cp_log("info", "dataplane connected", "socket=%s", cp_q(d->path));
	return true;
}

int
dps_call(struct dpsync *d, const json_t *req, json_t **resp, int timeout_ms,
	 char *err, size_t errlen)
{
	char why[256];
	json_t *r = NULL;
	int rc;

	*resp = NULL;
	if (d->fd < 0) {
		snprintf(err, errlen, "the dataplane is not reachable at %s: "
			 "%s", d->path, d->last_error[0] ? d->last_error :
			 "not connected");
		return -ENOTCONN;
	}
	rc = ctlmsg_call(d->fd, req, &r, timeout_ms, why, sizeof(why));
	if (rc != 0) {
		/* A half-read answer leaves the stream out of step: the
		 * only safe continuation is a new connection. */
		dps_down(d, why);
		snprintf(err, errlen, "the dataplane is not reachable at %s: "
			 "%s", d->path, why);
		return rc == -ENOTCONN ? -ECONNRESET : rc;
	}
	if (!ctlmsg_resp_ok(r, err, errlen)) {
		json_decref(r);
		return -EREMOTEIO;
	}
	*resp = r;
	return 0;
}

int
dps_refresh_status(struct dpsync *d, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s}", "op", "status"), *r;
	const char *inst;
	json_int_t gen;
	int rc;

	if (req == NULL)
		return -ENOMEM;
	rc = dps_call(d, req, &r, DPS_STATUS_MS, err, errlen);
	json_decref(req);
	d->next_status_ms = cp_mono_ms() + DPS_POLL_MS;
	if (rc != 0)
		return rc;
	inst = json_string_value(json_object_get(r, "instance"));
	gen = json_integer_value(json_object_get(r, "generation"));
	snprintf(d->instance, sizeof(d->instance), "%s", inst ? inst : "");
	d->generation = gen > 0 ? (uint64_t)gen : 0;
	json_decref(d->status);
	d->status = r;
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's one connection to the dataplane's control socket:
 * connect, reconnect once a second while it is down, and bounded calls so
 * a hung dataplane cannot wedge the event loop for more than a few
 * seconds. What is pushed over it lives in push.c.
 *
 * Thread-safety: the control plane's event-loop thread only.
 */
#ifndef RAMPART_CP_DPSYNC_H
#define RAMPART_CP_DPSYNC_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define DPS_CALL_MS       5000    /* one call, a full push as a whole */
#define DPS_STATUS_MS     2000    /* the periodic status poll */
#define DPS_RECONNECT_MS  1000
#define DPS_POLL_MS       1000
#define DPS_INSTANCE_MAX  64

struct dpsync {
	char path[108];
	int fd;                         /* -1 while down */
	char last_error[256];
	bool ever_up;
	bool down_logged;
	uint64_t next_connect_ms;
	uint64_t next_status_ms;

	/* From the latest status answer. */
	char instance[DPS_INSTANCE_MAX];
	uint64_t generation;
	json_t *status;                 /* the whole answer, or NULL */

	/* What this dataplane instance holds from us. */
	char synced_instance[DPS_INSTANCE_MAX];
	uint64_t synced_generation;
	bool synced;
	/* A full push the dataplane refused; not retried until the
	 * instance or the generation to push changes. */
	char refused_instance[DPS_INSTANCE_MAX];
	uint64_t refused_generation;
};

void dps_init(struct dpsync *d, const char *path);

/* Close the connection (no log). */
void dps_close(struct dpsync *d);

static inline bool
dps_up(const struct dpsync *d)
{
	return d->fd >= 0;
}

/* Connect when down and the retry delay has passed (or force). Returns
 * true when a new connection was made. Logs once per state change. */
bool dps_connect(struct dpsync *d, bool force);

/*
 * One request (req is not consumed) with timeout_ms. Returns 0 with the
 * response in *resp (ok true), -EREMOTEIO when the dataplane answered
 * ok=false (its sentence in err, the connection stays), -ENOTCONN when
 * down, or another -errno after which the connection is closed, with a
 * sentence in err naming the socket.
 */
int dps_call(struct dpsync *d, const json_t *req, json_t **resp,
	     int timeout_ms, char *err, size_t errlen);

/* Ask for status and record instance/generation. 0 or as dps_call. */
int dps_refresh_status(struct dpsync *d, char *err, size_t errlen);

#endif /* RAMPART_CP_DPSYNC_H */

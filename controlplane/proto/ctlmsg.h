/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control protocol: one library shared by rampart-dataplane,
 * rampart-controlplane and rampartctl, so the wire format lives in exactly
 * one place (the shape of Knot DNS's libknot/control).
 *
 * A frame is a 12-byte header followed by a UTF-8 JSON object:
 *
 *   0      4        5       6        8                12
 *   +------+--------+-------+--------+-----------------+----------------+
 *   | "RMPC" magic  | ver=1 | flags=0| reserved=0 (2)  | length (u32 BE)| JSON ...
 *
 * A request is {"op": "<name>", ...arguments}; every request gets exactly
 * one response, {"ok": true, ...results} or {"ok": false, "error": "<a
 * sentence for a human>"}. The payload is at most CTLMSG_MAX_PAYLOAD bytes;
 * a peer that sends a bad magic, an unknown version, a frame over the limit
 * or a body that is not a JSON object gets one error response (when it can
 * still be framed) and is disconnected. docs/CONTROL.md lists the ops.
 *
 * All functions are thread-safe (no shared state); the blocking I/O helpers
 * take a deadline so a silent peer cannot hold a server thread.
 */
#ifndef RAMPART_CTLMSG_H
#define RAMPART_CTLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#define CTLMSG_MAGIC        "RMPC"
#define CTLMSG_VERSION      1
#define CTLMSG_HDR_LEN      12
/* Big enough for a full state push with hundreds of certificates and a
 * Mozilla-sized CA bundle; small enough that a garbage length cannot make
 * a daemon allocate gigabytes. */
#define CTLMSG_MAX_PAYLOAD  (16u << 20)

/* Default socket paths (both daemons and the CLI accept overrides). */
#define CTLMSG_DATAPLANE_SOCK    "/run/rampart/dataplane.sock"
#define CTLMSG_CONTROLPLANE_SOCK "/run/rampart/controlplane.sock"

/*
 * Encode body (a JSON object) as one frame. On success *frame is a malloc'd
 * buffer of *len bytes owned by the caller. Returns 0, -EINVAL (not an
 * object), -EMSGSIZE (payload over CTLMSG_MAX_PAYLOAD) or -ENOMEM.
 */
int ctlmsg_encode(const json_t *body, uint8_t **frame, size_t *len);

/*
 * Check a frame header (exactly CTLMSG_HDR_LEN bytes at hdr) and return the
 * payload length in *payload_len. Returns 0, -EPROTO (bad magic or non-zero
 * flags/reserved), -EPROTONOSUPPORT (version other than CTLMSG_VERSION) or
 * -EMSGSIZE (over CTLMSG_MAX_PAYLOAD); err gets a sentence.
 */
int ctlmsg_parse_hdr(const uint8_t *hdr, uint32_t *payload_len,
		     char *err, size_t errlen);

/*
 * Decode a payload of len bytes into a new JSON object reference (caller
 * json_decref()s it). NULL with a sentence in err when it is not valid
 * UTF-8 JSON or not an object.
 */
json_t *ctlmsg_decode_body(const uint8_t *p, size_t len,
			   char *err, size_t errlen);

/*
 * Decode one complete frame held in buf[0..len). Returns the number of bytes
 * consumed (> 0) and the body in *body; 0 when buf holds only part of a
 * frame; a negative errno (as ctlmsg_parse_hdr, or -EBADMSG for a body that
 * is not a JSON object) with a sentence in err.
 */
ssize_t ctlmsg_decode(const uint8_t *buf, size_t len, json_t **body,
		      char *err, size_t errlen);

/*
 * Blocking helpers on a connected stream socket; timeout_ms bounds the
 * whole call (-1: no limit). ctlmsg_send returns 0 or -errno.
 * ctlmsg_recv returns 0 with a new reference in *body, -ECONNRESET when the
 * peer closed cleanly before a frame started, -ETIMEDOUT, or another
 * -errno from ctlmsg_decode/read, with a sentence in err.
 */
int ctlmsg_send(int fd, const json_t *body, int timeout_ms);
int ctlmsg_recv(int fd, json_t **body, int timeout_ms,
		char *err, size_t errlen);

/*
 * One request/response round trip: send req, receive the response. Returns
 * 0 with *resp set when a response arrived (which may still say ok=false:
 * check with ctlmsg_resp_ok), or -errno with a sentence in err.
 */
int ctlmsg_call(int fd, const json_t *req, json_t **resp, int timeout_ms,
		char *err, size_t errlen);

/* True when resp is {"ok": true, ...}; otherwise copies its "error"
 * sentence (or a generic one) into err. */
bool ctlmsg_resp_ok(const json_t *resp, char *err, size_t errlen);

/* New response objects (caller owns the reference). */
json_t *ctlmsg_ok(void);
json_t *ctlmsg_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/*
 * Bind and listen on a Unix stream socket at path with the given mode
 * (0660 for both daemons), creating the parent directory 0750 if it is
 * missing. A stale socket (nobody answers) is replaced; a live one is
 * refused with -EADDRINUSE. If group is not NULL the socket is chown'ed
 * to that group. Returns the listening fd (non-blocking, CLOEXEC) or
 * -errno with a sentence in err.
 */
int ctlmsg_listen(const char *path, unsigned int mode, const char *group,
		  char *err, size_t errlen);

/* Connect to path; returns a blocking CLOEXEC fd or -errno with a sentence
 * (which names the path and says whether the daemon looks down). */
int ctlmsg_connect(const char *path, char *err, size_t errlen);

/*
 * SO_PEERCRED check shared by both daemons: root, the daemon's own
 * effective uid, and members of the socket's group (gid, or (gid_t)-1 for
 * none) are allowed. Returns 0, or -EACCES with a sentence naming the uid
 * in err.
 */
int ctlmsg_peer_check(int fd, gid_t gid, char *err, size_t errlen);

#endif /* RAMPART_CTLMSG_H */

/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctlmsg.h"

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int
ctlmsg_encode(const json_t *body, uint8_t **frame, size_t *len)
{
	size_t n;
	uint8_t *buf;

	if (!json_is_object(body))
		return -EINVAL;
	n = json_dumpb(body, NULL, 0, JSON_COMPACT);
	if (n == 0)
		return -EINVAL;
	if (n > CTLMSG_MAX_PAYLOAD)
		return -EMSGSIZE;
	buf = malloc(CTLMSG_HDR_LEN + n);
	if (buf == NULL)
		return -ENOMEM;
	memcpy(buf, CTLMSG_MAGIC, 4);
	buf[4] = CTLMSG_VERSION;
	buf[5] = 0;
	buf[6] = 0;
	buf[7] = 0;
	put_be32(buf + 8, (uint32_t)n);
	if (json_dumpb(body, (char *)buf + CTLMSG_HDR_LEN, n, JSON_COMPACT) != n) {
		free(buf);
		return -EINVAL;
	}
	*frame = buf;
	*len = CTLMSG_HDR_LEN + n;
	return 0;
}

int
ctlmsg_parse_hdr(const uint8_t *hdr, uint32_t *payload_len,
		 char *err, size_t errlen)
{
	uint32_t n;

	if (memcmp(hdr, CTLMSG_MAGIC, 4) != 0) {
		snprintf(err, errlen, "not a rampart control frame (bad magic); "
			 "is the peer speaking this protocol?");
		return -EPROTO;
	}
	if (hdr[4] != CTLMSG_VERSION) {
		snprintf(err, errlen, "unsupported protocol version %u "
			 "(this side speaks %u); upgrade the older side",
			 hdr[4], CTLMSG_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (hdr[5] != 0 || hdr[6] != 0 || hdr[7] != 0) {
		snprintf(err, errlen, "frame header has non-zero flags or "
			 "reserved bytes");
		return -EPROTO;
	}
	n = get_be32(hdr + 8);
	if (n > CTLMSG_MAX_PAYLOAD) {
		snprintf(err, errlen, "frame of %u bytes is over the %u-byte "
			 "limit", n, CTLMSG_MAX_PAYLOAD);
		return -EMSGSIZE;
	}
	*payload_len = n;
	return 0;
}

json_t *
ctlmsg_decode_body(const uint8_t *p, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *body;

	body = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL) {
		snprintf(err, errlen, "frame body is not valid JSON: %s "
			 "(at byte %d)", jerr.text, jerr.position);
		return NULL;
	}
	if (!json_is_object(body)) {
		snprintf(err, errlen, "frame body must be a JSON object");
		json_decref(body);
		return NULL;
	}
	return body;
}

ssize_t
ctlmsg_decode(const uint8_t *buf, size_t len, json_t **body,
	      char *err, size_t errlen)
{
	uint32_t n;
	int rc;

	if (len < CTLMSG_HDR_LEN) {
		/* Reject a bad magic as soon as its bytes arrive, so garbage
		 * is answered without waiting for twelve bytes. */
		size_t m = len < 4 ? len : 4;

		if (memcmp(buf, CTLMSG_MAGIC, m) != 0) {
			snprintf(err, errlen, "not a rampart control frame "
				 "(bad magic); is the peer speaking this "
				 "protocol?");
			return -EPROTO;
		}
		return 0;
	}
	rc = ctlmsg_parse_hdr(buf, &n, err, errlen);
	if (rc != 0)
		return rc;
	if (len - CTLMSG_HDR_LEN < n)
		return 0;
	*body = ctlmsg_decode_body(buf + CTLMSG_HDR_LEN, n, err, errlen);
	if (*body == NULL)
		return -EBADMSG;
	return (ssize_t)(CTLMSG_HDR_LEN + n);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline (-1: none), at least 0. */
static int
ms_left(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	return left < 0 ? 0 : (int)left;
}

static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int rc;

	for (;;) {
		rc = poll(&pfd, 1, ms_left(deadline));
		if (rc > 0)
			return 0;
		if (rc == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int
ctlmsg_send(int fd, const json_t *body, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	uint8_t *frame;
	size_t len, off = 0;
	ssize_t n;
	int rc;

	rc = ctlmsg_encode(body, &frame, &len);
	if (rc != 0)
		return rc;
	while (off < len) {
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc != 0)
			break;
		n = send(fd, frame + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			rc = -errno;
			break;
		}
		off += (size_t)n;
	}
	/* Frames carry private keys and ticket secrets: leave none in freed
	 * heap memory. */
	explicit_bzero(frame, len);
	free(frame);
	return rc;
}

/* Read exactly len bytes; -ECONNRESET if the peer closes first. */
static int
read_full(int fd, uint8_t *p, size_t len, int64_t deadline, size_t *got)
{
	ssize_t n;
	int rc;

	*got = 0;
	while (*got < len) {
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc != 0)
			return rc;
		n = recv(fd, p + *got, len - *got, MSG_DONTWAIT);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		*got += (size_t)n;
	}
	return 0;
}

int
ctlmsg_recv(int fd, json_t **body, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	uint8_t hdr[CTLMSG_HDR_LEN], *payload;
	uint32_t n;
	size_t got;
	int rc;

	rc = read_full(fd, hdr, sizeof(hdr), deadline, &got);
	if (rc == -ECONNRESET && got == 0) {
		snprintf(err, errlen, "the peer closed the connection");
		return rc;
	}
	if (rc != 0)
		goto io_error;
	rc = ctlmsg_parse_hdr(hdr, &n, err, errlen);
	if (rc != 0)
		return rc;
	payload = malloc(n ? n : 1);
	if (payload == NULL)
		return -ENOMEM;
	rc = read_full(fd, payload, n, deadline, &got);
	if (rc != 0) {
		free(payload);
		goto io_error;
	}
	*body = ctlmsg_decode_body(payload, n, err, errlen);
	free(payload);
	return *body != NULL ? 0 : -EBADMSG;

io_error:
	if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "no complete answer within %d ms",
			 timeout_ms);
	else if (rc == -ECONNRESET)
		snprintf(err, errlen, "the peer closed the connection in the "
			 "middle of a frame");
	else
		snprintf(err, errlen, "reading the answer failed: %s",
			 strerror(-rc));
	return rc;
}

int
ctlmsg_call(int fd, const json_t *req, json_t **resp, int timeout_ms,
	    char *err, size_t errlen)
{
	int rc;

	rc = ctlmsg_send(fd, req, timeout_ms);
	if (rc == -EPIPE || rc == -ECONNRESET) {
		/* A server that refuses a peer (permissions, connection cap)
		 * answers at accept and closes; its sentence is waiting in our
		 * receive queue and says more than "broken pipe". */
		char rerr[64];

		if (ctlmsg_recv(fd, resp, 0, rerr, sizeof(rerr)) == 0)
			return 0;
	}
	if (rc != 0) {
		snprintf(err, errlen, "sending the request failed: %s",
			 rc == -EMSGSIZE ? "request over the 16 MiB frame limit"
					 : strerror(-rc));
		return rc;
	}
	return ctlmsg_recv(fd, resp, timeout_ms, err, errlen);
}

bool
ctlmsg_resp_ok(const json_t *resp, char *err, size_t errlen)
{
	const char *msg;

	if (json_is_true(json_object_get(resp, "ok")))
		return true;
	msg = json_string_value(json_object_get(resp, "error"));
	snprintf(err, errlen, "%s", msg != NULL ? msg
		 : "the daemon refused the request without a reason");
	return false;
}

json_t *
ctlmsg_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

json_t *
ctlmsg_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static int
fill_addr(struct sockaddr_un *sa, const char *path, char *err, size_t errlen)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		snprintf(err, errlen, "socket path %s is longer than %zu bytes",
			 path, sizeof(sa->sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

static int
make_parent_dir(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

int
ctlmsg_listen(const char *path, unsigned int mode, const char *group,
	      char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct group *gr = NULL;
	int fd, probe, rc;

	rc = fill_addr(&sa, path, err, errlen);
	if (rc != 0)
		return rc;
	if (group != NULL) {
		gr = getgrnam(group);
		if (gr == NULL) {
			snprintf(err, errlen, "group %s does not exist", group);
			return -ENOENT;
		}
	}
	rc = make_parent_dir(path, err, errlen);
	if (rc != 0)
		return rc;

	/* A socket file may be left by a daemon that crashed; only refuse
	 * when something still answers on it. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		snprintf(err, errlen, "%s is in use by a running daemon; stop "
			 "it first or choose another path", path);
		return -EADDRINUSE;
	}
	close(probe);
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale %s: %s", path,
			 strerror(errno));
		return -errno;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot bind %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	if (chmod(path, (mode_t)mode) != 0 ||
	    (gr != NULL && chown(path, (uid_t)-1, gr->gr_gid) != 0)) {
		rc = -errno;
		snprintf(err, errlen, "cannot set the mode or group of %s: %s",
			 path, strerror(errno));
		goto fail_unlink;
	}
	/* A burst of clients (a script's loop, a test opening the connection
	 * cap at once) must queue, not see EAGAIN from connect(). */
	if (listen(fd, SOMAXCONN) != 0) {
		rc = -errno;
		snprintf(err, errlen, "listen on %s: %s", path,
			 strerror(errno));
		goto fail_unlink;
	}
	return fd;

fail_unlink:
	unlink(path);
fail:
	close(fd);
	return rc;
}

int
ctlmsg_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd, rc;

	rc = fill_addr(&sa, path, err, errlen);
	if (rc != 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot connect to %s: %s%s", path,
			 strerror(errno),
			 (errno == ENOENT || errno == ECONNREFUSED)
			 ? " (is the daemon running?)"
			 : errno == EACCES ? " (run as root or as a member of "
					     "the socket's group)" : "");
		close(fd);
		return rc;
	}
	return fd;
}

/* SO_PEERCRED only carries the primary gid; a user may be in the socket's
 * group as a supplementary member, which is what `usermod -aG` gives. */
static bool
peer_in_group(const struct ucred *cred, gid_t gid)
{
	struct passwd pw, *res = NULL;
	gid_t groups[256];
	int n = (int)(sizeof(groups) / sizeof(groups[0]));
	char buf[4096];

	if (cred->gid == gid)
		return true;
	if (getpwuid_r(cred->uid, &pw, buf, sizeof(buf), &res) != 0 ||
	    res == NULL)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

int
ctlmsg_peer_check(int fd, gid_t gid, char *err, size_t errlen)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		snprintf(err, errlen, "permission denied: cannot read the "
			 "peer's credentials: %s", strerror(errno));
		return -EACCES;
	}
	if (cred.uid == 0 || cred.uid == geteuid() ||
	    (gid != (gid_t)-1 && peer_in_group(&cred, gid)))
		return 0;
	snprintf(err, errlen, "permission denied: uid %u is not root, the "
		 "daemon's user or in its socket group", (unsigned)cred.uid);
	return -EACCES;
}

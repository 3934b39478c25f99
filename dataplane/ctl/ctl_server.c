/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_server.h"

#define CTL_LINE_MAX     256
#define CTL_POLL_MS      200
#define CTL_READ_MS      2000

/* Only root and the dataplane's own user may query it. */
static bool
ctl_peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

/* Read one command line with a deadline; a slow or silent client cannot
 * hold the thread for more than CTL_READ_MS. */
static int
ctl_read_line(int fd, char *buf, size_t size)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size) {
		if (poll(&pfd, 1, CTL_READ_MS) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len) != NULL)
			break;
	}
	buf[len] = '\0';
	if (len + 1 >= size && memchr(buf, '\n', len) == NULL)
		return -EMSGSIZE;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static void
ctl_serve_one(struct ctl_server *cs, int fd)
{
	char line[CTL_LINE_MAX];
	FILE *f;
	int rc;

	f = fdopen(fd, "r+");
	if (f == NULL) {
		close(fd);
		return;
	}
	if (!ctl_peer_allowed(fd)) {
		fputs("error permission denied: only root or the dataplane's "
		      "user may use this socket\n", f);
		goto out;
	}
	rc = ctl_read_line(fd, line, sizeof(line));
	if (rc == -EMSGSIZE) {
		fprintf(f, "error command longer than %d bytes\n",
			CTL_LINE_MAX - 1);
		goto out;
	}
	if (rc != 0) {
		fputs("error no command received\n", f);
		goto out;
	}
	if (cs->handler(f, line, cs->arg) == -ENOENT)
		fprintf(f, "error unknown command '%.64s'; try 'help'\n", line);
out:
	fclose(f);
}

static void *
ctl_thread(void *arg)
{
	struct ctl_server *cs = arg;
	struct pollfd pfd = { .fd = cs->fd, .events = POLLIN };
	int fd;

	while (!__atomic_load_n(cs->quit, __ATOMIC_RELAXED)) {
		if (poll(&pfd, 1, CTL_POLL_MS) <= 0)
			continue;
		fd = accept4(cs->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		ctl_serve_one(cs, fd);
	}
	return NULL;
}

static int
ctl_bind(struct ctl_server *cs, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--control '%s': path longer than %zu "
			 "bytes", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	if (mkdir(dirname(dir), 0750) != 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "--control '%s': cannot create its "
			 "directory: %s", path, strerror(errno));
		return rc;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		return rc;
	}
	/* A socket file left by a crashed instance is removed; one that
	 * still answers belongs to a running dataplane and is kept. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		snprintf(err, errlen, "--control '%s': another dataplane is "
			 "already serving this socket", path);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0660) != 0 || listen(fd, 16) != 0) {
		rc = -errno;
		snprintf(err, errlen, "--control '%s': %s", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	cs->fd = fd;
	return 0;
}

int
ctl_server_start(struct ctl_server *cs, const char *path,
		 const volatile bool *quit, ctl_handler_t handler, void *arg,
		 char *err, size_t errlen)
{
	int rc;

	memset(cs, 0, sizeof(*cs));
	cs->fd = -1;
	cs->quit = quit;
	cs->handler = handler;
	cs->arg = arg;
	rc = ctl_bind(cs, path, err, errlen);
	if (rc != 0)
		return rc;
	snprintf(cs->path, sizeof(cs->path), "%s", path);
	rc = pthread_create(&cs->thread, NULL, ctl_thread, cs);
	if (rc != 0) {
		snprintf(err, errlen, "control thread: %s", strerror(rc));
		close(cs->fd);
		unlink(cs->path);
		return -rc;
	}
	pthread_setname_np(cs->thread, "rampart-ctl");
	cs->running = true;
	return 0;
}

void
ctl_server_stop(struct ctl_server *cs)
{
	if (!cs->running)
		return;
	pthread_join(cs->thread, NULL);
	close(cs->fd);
	unlink(cs->path);
	cs->running = false;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's control socket (Unix stream). This foundation version
 * serves read-only text queries, one per connection: the client sends a
 * command line ("stats", "status", "help") and reads `name value` lines until
 * the server closes. The control-plane issue replaces the wire format with
 * the shared framed protocol; the thread model stays: one non-worker thread,
 * never touching worker state except relaxed counter reads.
 */
#ifndef RAMPART_CTL_SERVER_H
#define RAMPART_CTL_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

/* Answer cmd on f. Return 0, or -ENOENT for an unknown command. */
typedef int (*ctl_handler_t)(FILE *f, const char *cmd, void *arg);

struct ctl_server {
	int fd;
	char path[108];
	pthread_t thread;
	bool running;
	const volatile bool *quit;
	ctl_handler_t handler;
	void *arg;
};

/*
 * Bind path (mode 0660; its directory created 0750 if missing) and start
 * the serving thread. Refuses a path where a live server answers; removes a
 * stale socket. Returns 0 or -errno with a sentence in err.
 * Main thread.
 */
int ctl_server_start(struct ctl_server *cs, const char *path,
		     const volatile bool *quit, ctl_handler_t handler,
		     void *arg, char *err, size_t errlen);

/* Wait for the thread (it exits once *quit is set), unlink the socket. */
void ctl_server_stop(struct ctl_server *cs);

#endif /* RAMPART_CTL_SERVER_H */

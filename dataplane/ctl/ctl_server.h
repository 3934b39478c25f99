/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's control socket: a Unix stream socket speaking the framed
 * protocol of controlplane/proto/ctlmsg.h. One non-worker thread serves
 * every connection with poll(): the control plane keeps one connection
 * open for as long as it runs; rampartctl and tests connect briefly.
 *
 * Requests are dispatched through a keyword table (the HAProxy CLI shape);
 * each request gets exactly one response. A peer that breaks the framing
 * (bad magic, another version, an oversized length, a body that is not a
 * JSON object, a frame not completed within CTL_FRAME_TIMEOUT_MS) gets one
 * error response and is disconnected; the others are not affected. Peers
 * are checked with SO_PEERCRED at accept (root, the dataplane's own user,
 * members of the socket's group).
 *
 * The thread is a registered liburcu QSBR thread, online only while an op
 * runs, so ops may publish with synchronize_rcu and update RCU hash
 * tables; it never blocks the workers' grace periods while idle.
 */
#ifndef RAMPART_CTL_SERVER_H
#define RAMPART_CTL_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define CTL_MAX_CONNS        64
#define CTL_FRAME_TIMEOUT_MS 5000

struct ctl_conn;

/* One op. fn answers req (a JSON object with a string "op") and returns a
 * new response: ctlmsg_ok() with results added, or ctlmsg_error(...);
 * NULL means out of memory. Runs on the control thread, RCU online. */
struct ctl_op {
	const char *name;
	json_t *(*fn)(struct ctl_conn *c, const json_t *req, void *arg);
};

struct ctl_server_params {
	const char *path;               /* socket path, bound 0660 */
	const char *group;              /* socket group name, or NULL */
	gid_t gid;                      /* its gid, or (gid_t)-1 */
	const struct ctl_op *ops;       /* ends with a NULL name */
	void *arg;                      /* passed to the ops */
	/* Called on the control thread when a connection closes, to drop
	 * what the ops kept in *ctl_conn_data(c) (an open transaction).
	 * May be NULL. */
	void (*conn_closed)(struct ctl_conn *c, void *arg);
};

struct ctl_server {
	int fd;
	char path[108];
	pthread_t thread;
	bool running;
	const volatile bool *quit;
	struct ctl_server_params p;
	struct ctl_conn *conns[CTL_MAX_CONNS];
	unsigned int nb_conns;
};

/*
 * Bind p->path (ctlmsg_listen: mode 0660, directory 0750, group p->group)
 * and start the serving thread. Refuses a path where a live server
 * answers; replaces a stale socket. p's strings and tables must outlive
 * the server. Returns 0 or -errno with a sentence in err. Main thread.
 */
int ctl_server_start(struct ctl_server *cs,
		     const struct ctl_server_params *p,
		     const volatile bool *quit, char *err, size_t errlen);

/* Wait for the thread (it exits once *quit is set; open connections are
 * closed and their data released), unlink the socket. Main thread. */
void ctl_server_stop(struct ctl_server *cs);

/* Per-connection slot for the ops (NULL when the connection opens).
 * Control thread. */
void **ctl_conn_data(struct ctl_conn *c);

#endif /* RAMPART_CTL_SERVER_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The access log: one JSON line per request. A worker fills a fixed-size
 * record and pushes it into its own single-producer single-consumer ring;
 * it never waits: a full ring drops the record and the worker counts it
 * (http_log_dropped). One logger thread (not a worker) drains every ring,
 * formats the lines and writes them to a file or stderr.
 *
 * No DPDK: the ring and the formatter are unit-tested plainly.
 */
#ifndef RAMPART_PROXY_PX_LOG_H
#define RAMPART_PROXY_PX_LOG_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PX_LOG_METHOD_MAX 16
#define PX_LOG_HOST_MAX   64
#define PX_LOG_PATH_MAX   256
#define PX_LOG_NAME_MAX   64

/* Strings are NUL-terminated copies, cut at their size (path_cut says the
 * path was). reason points to a static string or is NULL. */
struct px_log_rec {
	uint64_t start_tsc;             /* when the request's first byte came */
	uint64_t end_tsc;               /* when its response was done */
	uint64_t bytes_in;              /* request bytes from the viewer */
	uint64_t bytes_out;             /* response bytes to the viewer */
	const char *reason;             /* why the edge answered, or NULL */
	uint32_t client;                /* IPv4, network order */
	uint16_t client_port;
	uint16_t status;                /* sent to the viewer; 0: none */
	uint16_t origin_status;         /* the origin's; 0: none */
	uint8_t worker;
	bool https;
	bool path_cut;
	bool edge;                      /* the edge answered itself */
	bool origin_reused;             /* on a pooled origin connection */
	char method[PX_LOG_METHOD_MAX];
	char host[PX_LOG_HOST_MAX];
	char path[PX_LOG_PATH_MAX];
	char dist[PX_LOG_NAME_MAX];
	char origin[PX_LOG_NAME_MAX];
};

struct px_log_ring {
	uint32_t mask;
	uint32_t head __attribute__((aligned(64)));    /* producer */
	uint32_t tail __attribute__((aligned(64)));    /* consumer */
	struct px_log_rec *recs;
};

/* size: records, rounded up to a power of two (at least 2). 0 or
 * -ENOMEM. Main thread. */
int px_log_ring_init(struct px_log_ring *r, uint32_t size);
void px_log_ring_fini(struct px_log_ring *r);

/* Producer (the owning worker): copy rec in; false when full. */
bool px_log_push(struct px_log_ring *r, const struct px_log_rec *rec);

/* Consumer (the logger thread): copy the oldest record out; false when
 * empty. */
bool px_log_pop(struct px_log_ring *r, struct px_log_rec *rec);

/*
 * One JSON object and a newline for rec into buf; returns its length
 * (cut, still valid JSON, when size is too small for the strings; size
 * must be at least 256). Time: realtime_ns is the wall clock that goes
 * with TSC base_tsc, hz the TSC rate. Any thread.
 */
size_t px_log_format(const struct px_log_rec *rec, uint64_t base_tsc,
		     uint64_t realtime_ns, uint64_t hz, char *buf,
		     size_t size);

struct px_logger;

/*
 * Start the logger thread over rings[0..n) (they must outlive it),
 * writing to path (appended, created 0640) or to stderr when path is NULL,
 * on the CPUs in cpus (NULL: the caller's). Returns NULL with
 * *err = -errno. Main thread.
 */
struct px_logger *px_logger_start(struct px_log_ring *const *rings,
				  unsigned int n, const char *path,
				  uint64_t hz, const cpu_set_t *cpus,
				  int *err);

/* Drain what is left, stop and free the thread. NULL is ignored. Main
 * thread, after the workers stopped. */
void px_logger_stop(struct px_logger *lg);

#endif /* RAMPART_PROXY_PX_LOG_H */

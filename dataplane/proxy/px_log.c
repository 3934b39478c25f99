/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "px_log.h"

#define PX_LOG_MAX_RINGS 128
#define PX_LOG_IDLE_NS   (10 * 1000 * 1000)

int
px_log_ring_init(struct px_log_ring *r, uint32_t size)
{
	uint32_t n = 2;

	while (n < size && n < (1u << 24))
		n <<= 1;
	memset(r, 0, sizeof(*r));
	r->recs = calloc(n, sizeof(*r->recs));
	if (r->recs == NULL)
		return -ENOMEM;
	r->mask = n - 1;
	return 0;
}

void
px_log_ring_fini(struct px_log_ring *r)
{
	free(r->recs);
	r->recs = NULL;
}

/* Lamport's ring: the producer owns head, the consumer tail; the release
 * store publishes the record's bytes together with the index. */
bool
px_log_push(struct px_log_ring *r, const struct px_log_rec *rec)
{
	uint32_t head = r->head;
	uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	if (head - tail > r->mask)
		return false;
	r->recs[head & r->mask] = *rec;
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return true;
}

bool
px_log_pop(struct px_log_ring *r, struct px_log_rec *rec)
{
	uint32_t tail = r->tail;
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	if (head == tail)
		return false;
	*rec = r->recs[tail & r->mask];
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

/* ---------------------------------------------------------------- format */

struct out {
	char *p;
	size_t size;
	size_t len;
};

static void
emit(struct out *o, const char *s, size_t n)
{
	if (n > o->size - o->len)
		n = o->size - o->len;
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
emitf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
emitf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len += (size_t)n < o->size - o->len ? (size_t)n :
		  o->size - o->len - 1;
}

/* A JSON string; stops early rather than leave half an escape when room
 * runs short (reserve keeps space for what follows). */
static void
emit_str(struct out *o, const char *key, const char *s, size_t reserve)
{
	static const char hex[] = "0123456789abcdef";
	char esc[8];
	size_t n;

	emitf(o, ",\"%s\":\"", key);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
		} else {
			esc[0] = (char)c;
			n = 1;
		}
		if (o->len + n + reserve >= o->size)
			break;
		emit(o, esc, n);
	}
	emit(o, "\"", 1);
}

size_t
px_log_format(const struct px_log_rec *rec, uint64_t base_tsc,
	      uint64_t realtime_ns, uint64_t hz, char *buf, size_t size)
{
	struct out o = { buf, size - 1, 0 };
	char addr[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = rec->client };
	struct tm tm;
	uint64_t ns, dur_us;
	time_t secs;
	/* Room for every fixed part after the strings. */
	const size_t reserve = 200;

	if (hz == 0)
		hz = 1;
	ns = realtime_ns;
	if (rec->start_tsc >= base_tsc)
		ns += (uint64_t)((double)(rec->start_tsc - base_tsc) * 1e9 /
				 (double)hz);
	else
		ns -= (uint64_t)((double)(base_tsc - rec->start_tsc) * 1e9 /
				 (double)hz);
	dur_us = rec->end_tsc > rec->start_tsc ?
		 (uint64_t)((double)(rec->end_tsc - rec->start_tsc) * 1e6 /
			    (double)hz) : 0;
	secs = (time_t)(ns / 1000000000u);
	gmtime_r(&secs, &tm);
	inet_ntop(AF_INET, &a, addr, sizeof(addr));
	emitf(&o, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06uZ\"",
	      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	      tm.tm_min, tm.tm_sec, (unsigned int)(ns % 1000000000u / 1000));
	emitf(&o, ",\"worker\":%u,\"client\":\"%s:%u\",\"scheme\":\"%s\"",
	      rec->worker, addr, rec->client_port,
	      rec->https ? "https" : "http");
	emit_str(&o, "method", rec->method, reserve);
	emit_str(&o, "host", rec->host, reserve);
	emit_str(&o, "path", rec->path, reserve);
	emitf(&o, ",\"status\":%u", rec->status);
	emit_str(&o, "distribution", rec->dist, reserve);
	emit_str(&o, "origin", rec->origin, reserve);
	if (rec->origin_status != 0)
		emitf(&o, ",\"origin_status\":%u", rec->origin_status);
	emitf(&o, ",\"origin_reused\":%s,\"edge\":%s",
	      rec->origin_reused ? "true" : "false",
	      rec->edge ? "true" : "false");
	if (rec->reason != NULL)
		emit_str(&o, "reason", rec->reason, reserve);
	emitf(&o, ",\"bytes_in\":%llu,\"bytes_out\":%llu,"
	      "\"duration_us\":%llu%s}\n",
	      (unsigned long long)rec->bytes_in,
	      (unsigned long long)rec->bytes_out,
	      (unsigned long long)dur_us,
	      rec->path_cut ? ",\"path_truncated\":true" : "");
	buf[o.len] = '\0';
	return o.len;
}

/* ---------------------------------------------------------------- thread */

struct px_logger {
	pthread_t thread;
	struct px_log_ring *rings[PX_LOG_MAX_RINGS];
	unsigned int nb_rings;
	int fd;
	bool own_fd;
	uint64_t hz;
	uint64_t base_tsc;
	uint64_t base_ns;
	volatile bool quit;
};

static uint64_t
rdtsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;         /* a full disk loses lines, not workers */
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Drain every ring once; returns the records written. */
static unsigned int
drain(struct px_logger *lg, char *batch, size_t batch_size)
{
	struct px_log_rec rec;
	unsigned int i, done = 0;
	size_t used = 0;

	for (i = 0; i < lg->nb_rings; i++) {
		while (px_log_pop(lg->rings[i], &rec)) {
			if (batch_size - used < 2048) {
				write_all(lg->fd, batch, used);
				used = 0;
			}
			used += px_log_format(&rec, lg->base_tsc, lg->base_ns,
					      lg->hz, batch + used, 2048);
			done++;
		}
	}
	if (used > 0)
		write_all(lg->fd, batch, used);
	return done;
}

static void *
logger_main(void *arg)
{
	struct px_logger *lg = arg;
	struct timespec idle = { 0, PX_LOG_IDLE_NS };
	static char batch[64 * 1024];

	while (!__atomic_load_n(&lg->quit, __ATOMIC_ACQUIRE)) {
		if (drain(lg, batch, sizeof(batch)) == 0)
			nanosleep(&idle, NULL);
	}
	drain(lg, batch, sizeof(batch));
	return NULL;
}

struct px_logger *
px_logger_start(struct px_log_ring *const *rings, unsigned int n,
		const char *path, uint64_t hz, const cpu_set_t *cpus, int *err)
{
	struct px_logger *lg;
	struct timespec ts;
	pthread_attr_t attr;
	int rc;

	if (n > PX_LOG_MAX_RINGS) {
		*err = -EINVAL;
		return NULL;
	}
	lg = calloc(1, sizeof(*lg));
	if (lg == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	memcpy(lg->rings, rings, n * sizeof(*rings));
	lg->nb_rings = n;
	lg->hz = hz;
	lg->fd = STDERR_FILENO;
	if (path != NULL) {
		lg->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0640);
		if (lg->fd < 0) {
			*err = -errno;
			free(lg);
			return NULL;
		}
		lg->own_fd = true;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	lg->base_tsc = rdtsc();
	lg->base_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	rc = pthread_attr_init(&attr);
	if (rc == 0 && cpus != NULL)
		rc = pthread_attr_setaffinity_np(&attr, sizeof(*cpus), cpus);
	if (rc == 0)
		rc = pthread_create(&lg->thread, &attr, logger_main, lg);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		if (lg->own_fd)
			close(lg->fd);
		free(lg);
		*err = -rc;
		return NULL;
	}
	pthread_setname_np(lg->thread, "rampart-log");
	return lg;
}

void
px_logger_stop(struct px_logger *lg)
{
	if (lg == NULL)
		return;
	__atomic_store_n(&lg->quit, true, __ATOMIC_RELEASE);
	pthread_join(lg->thread, NULL);
	if (lg->own_fd)
		close(lg->fd);
	free(lg);
}

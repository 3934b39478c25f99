/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcpload: a load generator for the echo and chargen diagnostic services
 * (the dataplane's, or tools/bench/kserver's on kernel sockets). One thread,
 * non-blocking sockets, level-triggered epoll, libc only.
 *
 *   tcpload conn   HOST PORT [-s echo|chargen] [-c C] [-d S]
 *       short connections: chargen "1\n" and read 1 byte + EOF, or echo
 *       1 byte (send, shut down, read it back + EOF); connections/s
 *   tcpload rr     HOST PORT [-b BYTES] [-c C] [-d S]
 *       persistent echo connections doing BYTES ping-pong; transactions/s
 *   tcpload bulk   HOST PORT [-n BYTES] [-c C] [-d S]
 *       chargen BYTES per connection, every byte checked; MB/s
 *   tcpload upload HOST PORT [-n BYTES] [-c C] [-d S]
 *       send BYTES to echo, shut down, read them back (checked); MB/s
 *   tcpload tsc
 *       the TSC rate, rdtsc against CLOCK_MONOTONIC over 0.5 s
 *
 * Common options: -t S (a connection without progress for S seconds is a
 * stall: counted and reset), -C NAME (congestion control of each socket).
 *
 * Every received byte is checked against the expected pattern with memcmp
 * on a table that repeats the pattern (a rolling offset into it), so the
 * check costs about as much as one copy. Each run prints one line of
 * key=value pairs starting with "result" and one line for people.
 *
 * The result line also carries the client's own CPU time (cpu_us, from
 * getrusage) and latency percentiles of the units (connection lifetimes,
 * or request-to-response times in rr).
 *
 * Exit: 0 the run completed (connection errors are counted, not fatal),
 * 1 usage or setup error, 3 wrong bytes, or more bytes than asked for,
 * were received.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHARGEN_MOD   251   /* the services' chargen pattern: byte i = i mod 251 */
#define ECHO_MOD      241   /* what tcpload sends to echo: byte i = i mod 241 */
#define IO_CHUNK      (256 * 1024)
#define MAX_EVENTS    256
#define LAT_BUCKETS   (1024 * 34)

enum mode { M_CONN, M_RR, M_BULK, M_UPLOAD };
enum service { S_ECHO, S_CHARGEN };

enum slot_state {
	ST_IDLE,
	ST_CONNECTING,
	ST_RUNNING,
};

struct slot {
	int fd;
	enum slot_state st;
	uint32_t events;        /* current epoll interest */
	uint64_t t_unit;        /* start of the unit being timed, ns */
	uint64_t t_progress;    /* last byte moved, ns (stall detection) */
	uint64_t sent;          /* stream offsets */
	uint64_t recvd;
	uint64_t send_total;    /* bytes this unit sends */
	uint64_t recv_total;    /* bytes this unit expects back */
	bool shut_wr;
};

struct load {
	enum mode mode;
	enum service svc;
	struct sockaddr_in dst;
	unsigned int conc;
	double seconds;
	double stall_s;
	const char *cc;         /* congestion control, or NULL: the default */
	uint64_t size;          /* bulk/upload bytes per connection; rr bytes */
	char req[32];           /* chargen request line */
	size_t req_len;
	int ep;
	struct slot *slots;
	uint8_t *buf;           /* receive buffer */
	uint8_t *echo_pat;      /* ECHO_MOD pattern, repeated */
	uint8_t *chargen_pat;   /* CHARGEN_MOD pattern, repeated */
	bool stopping;

	/* results */
	uint64_t units;         /* connections (conn/bulk/upload) or transactions */
	uint64_t bytes;         /* payload bytes received and checked */
	uint64_t conns;         /* connections opened */
	uint64_t err_connect;
	uint64_t err_reset;     /* ECONNRESET/EPIPE/other socket errors */
	uint64_t err_short;     /* EOF before every byte arrived */
	uint64_t err_extra;     /* bytes beyond the expected count */
	uint64_t err_bad;       /* wrong bytes */
	uint64_t err_stall;     /* no progress for stall_s */
	uint64_t first_bad_off;
	uint32_t lat[LAT_BUCKETS];
	uint64_t lat_n;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Log-linear latency buckets in microseconds: exact below 1024 us, then
 * 512 steps per power of two (0.2 % precision). */
static unsigned int
lat_idx(uint64_t us)
{
	unsigned int e;

	if (us < 1024)
		return (unsigned int)us;
	e = (unsigned int)(63 - __builtin_clzll(us)) - 9;
	if (e > 32)
		return LAT_BUCKETS - 1;
	return 1024 * e + (unsigned int)(us >> e);
}

static uint64_t
lat_value(unsigned int idx)
{
	if (idx < 1024)
		return idx;
	return (uint64_t)(idx % 1024) << (idx / 1024);
}

static uint64_t
lat_pct(const struct load *L, double p)
{
	uint64_t want = (uint64_t)(p * (double)L->lat_n + 0.5), seen = 0;
	unsigned int i;

	if (L->lat_n == 0)
		return 0;
	if (want == 0)
		want = 1;
	for (i = 0; i < LAT_BUCKETS; i++) {
		seen += L->lat[i];
		if (seen >= want)
			return lat_value(i);
	}
	return lat_value(LAT_BUCKETS - 1);
}

static uint8_t *
pattern_new(unsigned int mod)
{
	uint8_t *p = malloc(mod + IO_CHUNK);
	size_t i;

	if (p == NULL)
		return NULL;
	for (i = 0; i < mod + (size_t)IO_CHUNK; i++)
		p[i] = (uint8_t)(i % mod);
	return p;
}

static void
slot_close(struct load *L, struct slot *s, bool abort)
{
	if (s->fd < 0)
		return;
	if (abort) {
		/* RST: the server drops the connection without TIME_WAIT. */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	epoll_ctl(L->ep, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
	s->st = ST_IDLE;
}

static int
slot_want(struct load *L, struct slot *s, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = s };

	if (s->events == ev)
		return 0;
	s->events = ev;
	return epoll_ctl(L->ep, EPOLL_CTL_MOD, s->fd, &e);
}

/* What this slot's current unit sends and expects. */
static void
unit_begin(struct load *L, struct slot *s, uint64_t now)
{
	s->t_unit = now;
	s->t_progress = now;
	switch (L->mode) {
	case M_RR:
		/* Stream offsets run on across transactions. */
		s->send_total = s->sent + L->size;
		s->recv_total = s->recvd + L->size;
		break;
	case M_CONN:
	case M_BULK:
	case M_UPLOAD:
		s->sent = s->recvd = 0;
		s->shut_wr = false;
		if (L->svc == S_CHARGEN) {
			s->send_total = L->req_len;
			s->recv_total = L->size;
		} else {
			s->send_total = L->size;
			s->recv_total = L->size;
		}
		break;
	}
}

static int
slot_open(struct load *L, struct slot *s, uint64_t now)
{
	struct epoll_event e;
	int one = 1;

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		perror("tcpload: socket");
		return -errno;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (L->cc != NULL && setsockopt(s->fd, IPPROTO_TCP, TCP_CONGESTION, L->cc,
					(socklen_t)strlen(L->cc)) != 0) {
		fprintf(stderr, "tcpload: congestion control '%s': %s\n", L->cc,
			strerror(errno));
		return -EINVAL;
	}
	L->conns++;
	if (connect(s->fd, (const struct sockaddr *)&L->dst, sizeof(L->dst)) != 0 &&
	    errno != EINPROGRESS) {
		L->err_connect++;
		close(s->fd);
		s->fd = -1;
		return 0;       /* retried on the next pass */
	}
	s->st = ST_CONNECTING;
	s->events = EPOLLOUT;
	e.events = s->events;
	e.data.ptr = s;
	if (epoll_ctl(L->ep, EPOLL_CTL_ADD, s->fd, &e) != 0) {
		perror("tcpload: epoll_ctl");
		return -errno;
	}
	s->sent = s->recvd = 0;
	s->shut_wr = false;
	unit_begin(L, s, now);
	return 0;
}

static void
unit_done(struct load *L, struct slot *s, uint64_t now)
{
	L->units++;
	L->lat[lat_idx((now - s->t_unit) / 1000)]++;
	L->lat_n++;
}

/* Send what the unit still has to send; 0, or -1 after a socket error. */
static int
slot_send(struct load *L, struct slot *s)
{
	while (s->sent < s->send_total) {
		const uint8_t *src;
		uint64_t left = s->send_total - s->sent;
		size_t len = left < IO_CHUNK ? (size_t)left : IO_CHUNK;
		ssize_t n;

		if (L->svc == S_CHARGEN)
			src = (const uint8_t *)L->req + s->sent;
		else
			src = L->echo_pat + s->sent % ECHO_MOD;
		n = send(s->fd, src, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		s->sent += (uint64_t)n;
	}
	/* Echo streams end with our FIN: the server closes after it. */
	if (!s->shut_wr && L->mode != M_RR && L->svc == S_ECHO) {
		shutdown(s->fd, SHUT_WR);
		s->shut_wr = true;
	}
	return 0;
}

/* Read and check. Returns 1 when the unit is complete, 0 to wait, -1 on
 * a socket error, -2 on EOF too early, -3 on extra or wrong bytes. */
static int
slot_recv(struct load *L, struct slot *s)
{
	const uint8_t *pat = L->svc == S_CHARGEN ? L->chargen_pat : L->echo_pat;
	unsigned int mod = L->svc == S_CHARGEN ? CHARGEN_MOD : ECHO_MOD;
	bool want_eof = L->mode != M_RR;

	for (;;) {
		ssize_t n = recv(s->fd, L->buf, IO_CHUNK, 0);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		if (n == 0) {
			if (s->recvd < s->recv_total)
				return -2;
			return want_eof ? 1 : -2;
		}
		if (s->recvd + (uint64_t)n > s->recv_total) {
			L->err_extra++;
			return -3;
		}
		if (memcmp(L->buf, pat + s->recvd % mod, (size_t)n) != 0) {
			uint64_t i;

			for (i = 0; i < (uint64_t)n; i++)
				if (L->buf[i] != pat[(s->recvd + i) % mod])
					break;
			if (L->err_bad++ == 0)
				L->first_bad_off = s->recvd + i;
			return -3;
		}
		s->recvd += (uint64_t)n;
		L->bytes += (uint64_t)n;
		if (s->recvd == s->recv_total) {
			if (!want_eof)
				return 1;
			continue;       /* the FIN usually came with the data */
		}
		if ((size_t)n < IO_CHUNK)
			return 0;       /* drained; epoll says when more comes */
	}
}

static int
slot_event(struct load *L, struct slot *s, uint32_t ev, uint64_t now)
{
	int rc, err = 0;
	socklen_t len = sizeof(err);

	if (s->st == ST_CONNECTING) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
		    err != 0) {
			L->err_connect++;
			slot_close(L, s, false);
			return 0;
		}
		s->st = ST_RUNNING;
		s->t_progress = now;
	}
	if (ev & EPOLLIN || ev & EPOLLERR || ev & EPOLLHUP) {
		rc = slot_recv(L, s);
		if (rc != 0)
			s->t_progress = now;
		if (rc == 1) {
			unit_done(L, s, now);
			if (L->mode == M_RR && !L->stopping) {
				unit_begin(L, s, now);
			} else {
				slot_close(L, s, false);
				return 0;
			}
		} else if (rc < 0) {
			if (rc == -1)
				L->err_reset++;
			else if (rc == -2)
				L->err_short++;
			slot_close(L, s, true);
			return 0;
		}
	}
	if (s->sent < s->send_total || (!s->shut_wr && L->svc == S_ECHO &&
					L->mode != M_RR)) {
		uint64_t before = s->sent;

		if (slot_send(L, s) != 0) {
			L->err_reset++;
			slot_close(L, s, true);
			return 0;
		}
		if (s->sent != before)
			s->t_progress = now;
	}
	return slot_want(L, s, s->sent < s->send_total ?
			 EPOLLIN | EPOLLOUT : EPOLLIN);
}

static int
run(struct load *L)
{
	struct epoll_event ev[MAX_EVENTS];
	uint64_t t0, deadline, now, last_scan;
	uint64_t stall_ns = (uint64_t)(L->stall_s * 1e9);
	unsigned int i;
	int n, k;

	L->ep = epoll_create1(EPOLL_CLOEXEC);
	if (L->ep < 0) {
		perror("tcpload: epoll_create1");
		return -1;
	}
	t0 = now_ns();
	deadline = t0 + (uint64_t)(L->seconds * 1e9);
	last_scan = t0;
	now = t0;
	while (now < deadline) {
		for (i = 0; i < L->conc; i++)
			if (L->slots[i].fd < 0 && slot_open(L, &L->slots[i], now) != 0)
				return -1;
		n = epoll_wait(L->ep, ev, MAX_EVENTS, 50);
		if (n < 0 && errno != EINTR) {
			perror("tcpload: epoll_wait");
			return -1;
		}
		now = now_ns();
		for (k = 0; k < n; k++)
			if (slot_event(L, ev[k].data.ptr, ev[k].events, now) != 0) {
				perror("tcpload: epoll_ctl");
				return -1;
			}
		if (now - last_scan > 100000000u) {
			last_scan = now;
			for (i = 0; i < L->conc; i++) {
				struct slot *s = &L->slots[i];

				if (s->fd >= 0 && now - s->t_progress > stall_ns) {
					L->err_stall++;
					slot_close(L, s, true);
				}
			}
		}
	}
	L->stopping = true;
	L->seconds = (double)(now - t0) / 1e9;
	/* Whatever is still in flight is cut off with RST. */
	for (i = 0; i < L->conc; i++)
		slot_close(L, &L->slots[i], true);
	close(L->ep);
	return 0;
}

static inline uint64_t
rdtsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
#else
	return 0;
#endif
}

static int
tsc_hz(void)
{
	struct timespec req = { .tv_sec = 0, .tv_nsec = 500000000 };
	uint64_t t0, c0, t1, c1;

	t0 = now_ns();
	c0 = rdtsc();
	nanosleep(&req, NULL);
	t1 = now_ns();
	c1 = rdtsc();
	if (c1 == c0) {
		fprintf(stderr, "tcpload: no TSC on this architecture\n");
		return 1;
	}
	printf("result mode=tsc tsc_hz=%.0f\n",
	       (double)(c1 - c0) * 1e9 / (double)(t1 - t0));
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: tcpload conn|rr|bulk|upload HOST PORT [options]\n"
		"       tcpload tsc\n"
		"  -c C       concurrent connections (default conn 32, rr 16, "
		"bulk/upload 4)\n"
		"  -d S       duration in seconds (default 10)\n"
		"  -s SVC     conn: echo or chargen (default chargen)\n"
		"  -b BYTES   rr: request size (default 64)\n"
		"  -n BYTES   bulk/upload: bytes per connection (default 8388608)\n"
		"  -t S       a connection with no progress for S seconds is a "
		"stall (default 5)\n"
		"  -C NAME    congestion control of every socket (TCP_CONGESTION)\n");
}

static bool
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return false;
	*out = v;
	return true;
}

static const char *const mode_names[] = { "conn", "rr", "bulk", "upload" };

int
main(int argc, char **argv)
{
	static struct load L;
	struct rusage ru;
	const char *unit;
	uint64_t v;
	unsigned int i;
	int opt;
	double rate;

	if (argc >= 2 && strcmp(argv[1], "tsc") == 0)
		return tsc_hz();
	if (argc < 4) {
		usage(stderr);
		return 1;
	}
	for (i = 0; i < 4; i++)
		if (strcmp(argv[1], mode_names[i]) == 0)
			break;
	if (i == 4) {
		fprintf(stderr, "tcpload: unknown mode '%s'\n", argv[1]);
		usage(stderr);
		return 1;
	}
	L.mode = (enum mode)i;
	L.dst.sin_family = AF_INET;
	if (inet_pton(AF_INET, argv[2], &L.dst.sin_addr) != 1) {
		fprintf(stderr, "tcpload: '%s' is not an IPv4 address\n", argv[2]);
		return 1;
	}
	if (!parse_u64(argv[3], &v) || v == 0 || v > 65535) {
		fprintf(stderr, "tcpload: '%s' is not a port\n", argv[3]);
		return 1;
	}
	L.dst.sin_port = htons((uint16_t)v);
	L.seconds = 10;
	L.stall_s = 5;
	L.conc = L.mode == M_CONN ? 32 : L.mode == M_RR ? 16 : 4;
	L.svc = L.mode == M_BULK || L.mode == M_CONN ? S_CHARGEN : S_ECHO;
	L.size = L.mode == M_RR ? 64 : L.mode == M_CONN ? 1 : 8u << 20;

	optind = 4;
	while ((opt = getopt(argc, argv, "c:d:s:b:n:t:C:h")) != -1) {
		switch (opt) {
		case 'c':
			if (!parse_u64(optarg, &v) || v == 0 || v > 65536) {
				fprintf(stderr, "tcpload: -c wants 1..65536\n");
				return 1;
			}
			L.conc = (unsigned int)v;
			break;
		case 'd':
		case 't': {
			char *end;
			double d = strtod(optarg, &end);

			if (end == optarg || *end != '\0' || !(d > 0) || d > 86400) {
				fprintf(stderr, "tcpload: -%c wants seconds\n", opt);
				return 1;
			}
			if (opt == 'd')
				L.seconds = d;
			else
				L.stall_s = d;
			break;
		}
		case 's':
			if (L.mode != M_CONN) {
				fprintf(stderr, "tcpload: -s is for conn mode\n");
				return 1;
			}
			if (strcmp(optarg, "echo") == 0)
				L.svc = S_ECHO;
			else if (strcmp(optarg, "chargen") == 0)
				L.svc = S_CHARGEN;
			else {
				fprintf(stderr, "tcpload: -s echo|chargen\n");
				return 1;
			}
			break;
		case 'b':
		case 'n':
			if (!parse_u64(optarg, &v) || v == 0 ||
			    (opt == 'b' && v > IO_CHUNK)) {
				fprintf(stderr, "tcpload: -%c wants a byte count%s\n",
					opt, opt == 'b' ? " up to 262144" : "");
				return 1;
			}
			if ((opt == 'b') != (L.mode == M_RR) ||
			    (opt == 'n' && L.mode == M_CONN)) {
				fprintf(stderr, "tcpload: -%c does not apply to %s\n",
					opt, mode_names[L.mode]);
				return 1;
			}
			L.size = v;
			break;
		case 'C':
			L.cc = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	L.req_len = (size_t)snprintf(L.req, sizeof(L.req), "%llu\n",
				     (unsigned long long)L.size);

	/* One descriptor per slot plus slack. */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < L.conc + 64u) {
			rl.rlim_cur = rl.rlim_max < L.conc + 64u ? rl.rlim_max :
				      L.conc + 64u;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	L.slots = calloc(L.conc, sizeof(*L.slots));
	L.buf = malloc(IO_CHUNK);
	L.echo_pat = pattern_new(ECHO_MOD);
	L.chargen_pat = pattern_new(CHARGEN_MOD);
	if (L.slots == NULL || L.buf == NULL || L.echo_pat == NULL ||
	    L.chargen_pat == NULL) {
		fprintf(stderr, "tcpload: out of memory\n");
		return 1;
	}
	for (i = 0; i < L.conc; i++)
		L.slots[i].fd = -1;
	signal(SIGPIPE, SIG_IGN);

	if (run(&L) != 0)
		return 1;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		memset(&ru, 0, sizeof(ru));
	rate = (double)L.units / L.seconds;
	printf("result mode=%s service=%s host=%s port=%u conc=%u size=%llu cc=%s "
	       "secs=%.3f units=%llu rate=%.1f bytes=%llu mb_s=%.2f conns=%llu "
	       "err_connect=%llu err_reset=%llu err_short=%llu err_extra=%llu "
	       "err_bad=%llu err_stall=%llu p50_us=%llu p99_us=%llu "
	       "p999_us=%llu max_us=%llu cpu_us=%llu\n",
	       mode_names[L.mode], L.svc == S_ECHO ? "echo" : "chargen",
	       argv[2], ntohs(L.dst.sin_port), L.conc,
	       (unsigned long long)L.size, L.cc != NULL ? L.cc : "default",
	       L.seconds,
	       (unsigned long long)L.units, rate, (unsigned long long)L.bytes,
	       (double)L.bytes / L.seconds / 1e6, (unsigned long long)L.conns,
	       (unsigned long long)L.err_connect,
	       (unsigned long long)L.err_reset,
	       (unsigned long long)L.err_short,
	       (unsigned long long)L.err_extra,
	       (unsigned long long)L.err_bad,
	       (unsigned long long)L.err_stall,
	       (unsigned long long)lat_pct(&L, 0.50),
	       (unsigned long long)lat_pct(&L, 0.99),
	       (unsigned long long)lat_pct(&L, 0.999),
	       (unsigned long long)lat_pct(&L, 1.0),
	       (unsigned long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	       1000000u + (unsigned long long)(ru.ru_utime.tv_usec +
					       ru.ru_stime.tv_usec));
	unit = L.mode == M_RR ? "transactions" : "connections";
	printf("%s %s:%u (%s, %u concurrent): %llu %s in %.2f s = %.1f/s, "
	       "%.2f MB/s received, p50 %llu us, p99 %llu us, errors: "
	       "connect %llu reset %llu short %llu extra %llu bad %llu "
	       "stall %llu\n",
	       mode_names[L.mode], argv[2], ntohs(L.dst.sin_port),
	       L.svc == S_ECHO ? "echo" : "chargen", L.conc,
	       (unsigned long long)L.units, unit, L.seconds, rate,
	       (double)L.bytes / L.seconds / 1e6,
	       (unsigned long long)lat_pct(&L, 0.50),
	       (unsigned long long)lat_pct(&L, 0.99),
	       (unsigned long long)L.err_connect,
	       (unsigned long long)L.err_reset,
	       (unsigned long long)L.err_short,
	       (unsigned long long)L.err_extra,
	       (unsigned long long)L.err_bad,
	       (unsigned long long)L.err_stall);
	if (L.err_bad > 0)
		fprintf(stderr, "tcpload: %llu connection(s) received wrong "
			"bytes; the first at stream offset %llu\n",
			(unsigned long long)L.err_bad,
			(unsigned long long)L.first_bad_off);
	if (L.err_extra > 0)
		fprintf(stderr, "tcpload: %llu connection(s) received more "
			"bytes than they asked for\n",
			(unsigned long long)L.err_extra);
	return L.err_bad > 0 || L.err_extra > 0 ? 3 : 0;
}

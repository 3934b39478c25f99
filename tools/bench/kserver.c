/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kserver: the dataplane's echo and chargen diagnostic services on Linux
 * kernel sockets, the baseline for tools/bench/tcp-vs-kernel. Same
 * protocols as dataplane/diag:
 *
 *   echo:    every byte received is sent back; the connection closes after
 *            the peer's FIN once everything was echoed.
 *   chargen: reads a decimal byte count N and a newline ('\r' ignored),
 *            sends N bytes where byte i is (i mod 251), then closes. A
 *            malformed request gets a one-line "error: ..." and a close.
 *
 * One thread, non-blocking sockets, level-triggered epoll, TCP_NODELAY on
 * every connection, libc only. An echo connection whose peer does not read
 * stops being read until its pending bytes are sent (back-pressure, as the
 * dataplane's window does).
 *
 *   kserver [--addr ADDR] [--echo-port P] [--chargen-port P] [--cc NAME]
 *
 * --cc sets the congestion control of every socket (TCP_CONGESTION; a
 * network namespace other than the first may only default to the
 * "allowed" ones, a socket of root may use any the kernel has).
 *
 * Prints "kserver: ready ..." once listening; on SIGTERM/SIGINT prints its
 * counters and getrusage() and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHARGEN_MOD   251
#define CHARGEN_LINE  24
#define IO_CHUNK      (256 * 1024)
#define MAX_EVENTS    256
#define ACCEPT_BATCH  64

enum kind { K_FREE, K_LISTEN_ECHO, K_LISTEN_CHARGEN, K_ECHO, K_CHARGEN };

struct kconn {
	uint8_t kind;
	bool peer_done;         /* echo: FIN received */
	bool sending;           /* chargen: request parsed */
	uint8_t line_len;
	uint32_t events;
	char line[CHARGEN_LINE];
	uint64_t remaining;     /* chargen bytes still to send */
	uint64_t offset;
	uint8_t *pend;          /* echo bytes the socket did not take */
	size_t pend_off, pend_len;
};

struct kserver {
	int ep;
	const char *cc;         /* congestion control, or NULL: the default */
	struct kconn *conns;    /* indexed by fd */
	size_t nb_conns;
	uint8_t *scratch;
	uint8_t *pattern;       /* CHARGEN_MOD pattern, repeated */
	uint64_t accepted, closed, resets, bytes_in, bytes_out;
};

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static const char chargen_err[] =
	"error: expected a decimal byte count and a newline\n";

static int
ks_want(struct kserver *ks, int fd, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.fd = fd };

	if (ks->conns[fd].events == ev)
		return 0;
	ks->conns[fd].events = ev;
	return epoll_ctl(ks->ep, EPOLL_CTL_MOD, fd, &e);
}

static void
ks_close(struct kserver *ks, int fd)
{
	struct kconn *c = &ks->conns[fd];
	uint8_t drain[4096];

	/* Unread input would turn close() into a RST; the dataplane reads
	 * and ignores it, so do the same before the FIN. */
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	epoll_ctl(ks->ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(c->pend);
	memset(c, 0, sizeof(*c));
	ks->closed++;
}

static void
ks_reset(struct kserver *ks, int fd)
{
	ks->resets++;
	epoll_ctl(ks->ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(ks->conns[fd].pend);
	memset(&ks->conns[fd], 0, sizeof(ks->conns[fd]));
	ks->closed++;
}

static int
ks_listen(struct kserver *ks, struct in_addr addr, uint16_t port, enum kind k)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = addr,
	};
	struct epoll_event e;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ks->cc != NULL && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, ks->cc,
					 (socklen_t)strlen(ks->cc)) != 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 4096) != 0 || (size_t)fd >= ks->nb_conns) {
		int err = errno ? errno : EMFILE;

		close(fd);
		return -err;
	}
	ks->conns[fd].kind = (uint8_t)k;
	ks->conns[fd].events = EPOLLIN;
	e.events = EPOLLIN;
	e.data.fd = fd;
	if (epoll_ctl(ks->ep, EPOLL_CTL_ADD, fd, &e) != 0)
		return -errno;
	return 0;
}

static void
ks_accept(struct kserver *ks, int lfd)
{
	enum kind k = ks->conns[lfd].kind == K_LISTEN_ECHO ? K_ECHO : K_CHARGEN;
	struct epoll_event e;
	int i, fd, one = 1;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;         /* EAGAIN, or an aborted handshake */
		if ((size_t)fd >= ks->nb_conns) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (ks->cc != NULL)
			setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, ks->cc,
				   (socklen_t)strlen(ks->cc));
		memset(&ks->conns[fd], 0, sizeof(ks->conns[fd]));
		ks->conns[fd].kind = (uint8_t)k;
		ks->conns[fd].events = EPOLLIN;
		e.events = EPOLLIN;
		e.data.fd = fd;
		if (epoll_ctl(ks->ep, EPOLL_CTL_ADD, fd, &e) != 0) {
			close(fd);
			continue;
		}
		ks->accepted++;
	}
}

/* --- echo --- */

/* Send the pending tail; true when nothing is left. */
static bool
echo_flush(struct kserver *ks, int fd, struct kconn *c)
{
	while (c->pend_off < c->pend_len) {
		ssize_t n = send(fd, c->pend + c->pend_off,
				 c->pend_len - c->pend_off, MSG_NOSIGNAL);

		if (n < 0)
			return false;
		c->pend_off += (size_t)n;
		ks->bytes_out += (uint64_t)n;
	}
	free(c->pend);
	c->pend = NULL;
	c->pend_off = c->pend_len = 0;
	return true;
}

static void
echo_event(struct kserver *ks, int fd, uint32_t ev)
{
	struct kconn *c = &ks->conns[fd];
	ssize_t n, w;

	if (c->pend != NULL) {
		if (!echo_flush(ks, fd, c)) {
			if (errno != EAGAIN && errno != EINTR)
				ks_reset(ks, fd);
			return;
		}
		if (c->peer_done) {
			ks_close(ks, fd);
			return;
		}
		ks_want(ks, fd, EPOLLIN);
	}
	if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) && c->pend == NULL)
		return;
	for (;;) {
		n = read(fd, ks->scratch, IO_CHUNK);
		if (n == 0) {
			c->peer_done = true;
			ks_close(ks, fd);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				ks_reset(ks, fd);
			return;
		}
		ks->bytes_in += (uint64_t)n;
		w = send(fd, ks->scratch, (size_t)n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				ks_reset(ks, fd);
				return;
			}
			w = 0;
		}
		ks->bytes_out += (uint64_t)w;
		if (w < n) {
			/* Stop reading until the peer takes what we owe it. */
			c->pend_len = (size_t)(n - w);
			c->pend = malloc(c->pend_len);
			if (c->pend == NULL) {
				ks_reset(ks, fd);
				return;
			}
			memcpy(c->pend, ks->scratch + w, c->pend_len);
			c->pend_off = 0;
			ks_want(ks, fd, EPOLLOUT);
			return;
		}
		if ((size_t)n < IO_CHUNK)
			return;
	}
}

/* --- chargen --- */

static void
chargen_pump(struct kserver *ks, int fd, struct kconn *c)
{
	while (c->remaining > 0) {
		size_t len = c->remaining < IO_CHUNK ? (size_t)c->remaining :
			     IO_CHUNK;
		ssize_t n = send(fd, ks->pattern + c->offset % CHARGEN_MOD, len,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				ks_want(ks, fd, EPOLLOUT);
				return;
			}
			ks_reset(ks, fd);
			return;
		}
		c->remaining -= (uint64_t)n;
		c->offset += (uint64_t)n;
		ks->bytes_out += (uint64_t)n;
	}
	ks_close(ks, fd);
}

/* Parse the request; true once it is complete (c->sending), false to wait
 * for more. A malformed one is answered and closed (c->kind is K_FREE). */
static bool
chargen_parse(struct kserver *ks, int fd, struct kconn *c, const char *p,
	      size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char ch = p[i];

		if (ch == '\r')
			continue;
		if (ch == '\n') {
			char *end;

			c->line[c->line_len] = '\0';
			errno = 0;
			c->remaining = strtoull(c->line, &end, 10);
			if (c->line_len == 0 || *end != '\0' || errno != 0)
				break;
			c->sending = true;
			return true;
		}
		if (ch < '0' || ch > '9' || c->line_len + 1 >= CHARGEN_LINE)
			break;
		c->line[c->line_len++] = ch;
	}
	if (i == len)
		return false;
	send(fd, chargen_err, sizeof(chargen_err) - 1, MSG_NOSIGNAL);
	ks_close(ks, fd);
	return false;
}

static void
chargen_event(struct kserver *ks, int fd, uint32_t ev)
{
	struct kconn *c = &ks->conns[fd];
	ssize_t n;

	if (c->sending) {
		if (ev & (EPOLLERR | EPOLLHUP) && !(ev & EPOLLOUT)) {
			ks_reset(ks, fd);
			return;
		}
		chargen_pump(ks, fd, c);
		return;
	}
	n = read(fd, ks->scratch, IO_CHUNK);
	if (n == 0) {
		ks_close(ks, fd);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			ks_reset(ks, fd);
		return;
	}
	ks->bytes_in += (uint64_t)n;
	if (chargen_parse(ks, fd, c, (const char *)ks->scratch, (size_t)n))
		chargen_pump(ks, fd, c);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: kserver [--addr ADDR] [--echo-port P] "
		"[--chargen-port P] [--cc NAME]\n");
}

static int
parse_port(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "echo-port", required_argument, NULL, 'e' },
		{ "chargen-port", required_argument, NULL, 'g' },
		{ "cc", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kserver ks = { .ep = -1 };
	struct epoll_event ev[MAX_EVENTS];
	struct in_addr addr = { .s_addr = htonl(INADDR_ANY) };
	uint16_t echo_port = 0, chargen_port = 0;
	struct sigaction sa;
	struct rlimit rl;
	struct rusage ru;
	size_t i;
	int opt, n, k, rc;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &addr) != 1) {
				fprintf(stderr, "kserver: --addr '%s' is not an "
					"IPv4 address\n", optarg);
				return 1;
			}
			break;
		case 'e':
		case 'g':
			if (parse_port(optarg, opt == 'e' ? &echo_port :
				       &chargen_port) != 0) {
				fprintf(stderr, "kserver: '%s' is not a port\n",
					optarg);
				return 1;
			}
			break;
		case 'c':
			ks.cc = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc || (echo_port == 0 && chargen_port == 0)) {
		usage(stderr);
		return 1;
	}

	/* As many connections as the hard limit allows: TIME_WAIT costs no
	 * descriptor, so this bounds only concurrent connections. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	ks.nb_conns = rl.rlim_cur > 1u << 20 ? 1u << 20 : (size_t)rl.rlim_cur;
	ks.conns = calloc(ks.nb_conns, sizeof(*ks.conns));
	ks.scratch = malloc(IO_CHUNK);
	ks.pattern = malloc(CHARGEN_MOD + IO_CHUNK);
	if (ks.conns == NULL || ks.scratch == NULL || ks.pattern == NULL) {
		fprintf(stderr, "kserver: out of memory\n");
		return 1;
	}
	for (i = 0; i < CHARGEN_MOD + (size_t)IO_CHUNK; i++)
		ks.pattern[i] = (uint8_t)(i % CHARGEN_MOD);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ks.ep = epoll_create1(EPOLL_CLOEXEC);
	if (ks.ep < 0) {
		perror("kserver: epoll_create1");
		return 1;
	}
	if (echo_port != 0 &&
	    (rc = ks_listen(&ks, addr, echo_port, K_LISTEN_ECHO)) != 0) {
		fprintf(stderr, "kserver: echo port %u: %s\n", echo_port,
			strerror(-rc));
		return 1;
	}
	if (chargen_port != 0 &&
	    (rc = ks_listen(&ks, addr, chargen_port, K_LISTEN_CHARGEN)) != 0) {
		fprintf(stderr, "kserver: chargen port %u: %s\n", chargen_port,
			strerror(-rc));
		return 1;
	}
	printf("kserver: ready addr=%s echo=%u chargen=%u cc=%s pid=%d\n",
	       inet_ntoa(addr), echo_port, chargen_port,
	       ks.cc != NULL ? ks.cc : "default", (int)getpid());
	fflush(stdout);

	while (!quit) {
		n = epoll_wait(ks.ep, ev, MAX_EVENTS, 500);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("kserver: epoll_wait");
			return 1;
		}
		for (k = 0; k < n; k++) {
			int fd = ev[k].data.fd;

			switch (ks.conns[fd].kind) {
			case K_LISTEN_ECHO:
			case K_LISTEN_CHARGEN:
				ks_accept(&ks, fd);
				break;
			case K_ECHO:
				echo_event(&ks, fd, ev[k].events);
				break;
			case K_CHARGEN:
				chargen_event(&ks, fd, ev[k].events);
				break;
			default:
				break;  /* closed earlier in this batch */
			}
		}
	}

	getrusage(RUSAGE_SELF, &ru);
	printf("kserver: accepted %llu closed %llu resets %llu bytes_in %llu "
	       "bytes_out %llu utime_us %lld stime_us %lld\n",
	       (unsigned long long)ks.accepted, (unsigned long long)ks.closed,
	       (unsigned long long)ks.resets, (unsigned long long)ks.bytes_in,
	       (unsigned long long)ks.bytes_out,
	       (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
	return 0;
}

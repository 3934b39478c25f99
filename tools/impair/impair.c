/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rampart-impair: a userspace L2 bridge between two interfaces that impairs
 * what it forwards: random loss, delay with jitter, reordering, duplication,
 * a rate limit and blackouts (configured windows, or SIGUSR1 "from now").
 *
 * The test kernels have no netem (nor any classifier qdisc to build one
 * from), so the TCP stack's impaired-path tests put this bridge between two
 * veths instead. It is one thread: AF_PACKET sockets read in batches
 * (recvmmsg), a frame that has to wait goes into a per-direction min-heap
 * keyed by its release time (CLOCK_MONOTONIC), ppoll() sleeps until the next
 * socket event or release, and frames leave in batches (sendmmsg).
 *
 * Every random decision comes from a seeded splitmix64 stream per direction,
 * four draws per frame whatever is enabled, so a run is repeatable from its
 * seed given the same frames in the same order in each direction.
 *
 * See tools/impair/README.md for the semantics of each impairment.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define IMP_PROG		"rampart-impair"
#define IMP_MAX_FRAME		9216u	/* largest frame forwarded, L2 header included */
#define IMP_VLAN_ROOM		4u	/* headroom to put back a VLAN tag the NIC stripped */
#define IMP_SLOT		9280u	/* IMP_VLAN_ROOM + IMP_MAX_FRAME, rounded up to 64 */
#define IMP_BATCH		64u
#define IMP_TXQ			(2u * IMP_BATCH)	/* a batch, every frame duplicated */
#define IMP_RX_BUDGET		16u	/* batches per socket before looking at the other */
#define IMP_MAX_BLACKOUTS	16u
#define IMP_SOCKBUF		(16 * 1024 * 1024)

#define NS_PER_MS		UINT64_C(1000000)
#define NS_PER_S		UINT64_C(1000000000)
#define IMP_MAX_MS		3600000.0	/* one hour: longer is surely a typo */

enum imp_dir { IMP_AB, IMP_BA, IMP_NDIR };
static const char *const imp_dir_name[IMP_NDIR] = { "ab", "ba" };

/* Impairments settable for both directions or one (--X, --X-ab, --X-ba). */
enum imp_key { K_LOSS, K_DELAY, K_JITTER, K_REORDER, K_DUP, K_RATE, K_NKEYS };
enum imp_scope { S_BOTH, S_AB, S_BA, S_NSCOPES };

struct imp_dir_cfg {
	double loss;		/* probabilities, 0..1 */
	double duplicate;
	double reorder;
	uint64_t delay_ns;
	uint64_t jitter_ns;
	uint64_t rate_bps;	/* 0: no limit */
	bool impaired;		/* false: forwarded untouched (--a-to-b-only, ...) */
};

struct imp_window {
	uint64_t start_ns;	/* relative to ready while parsing, absolute after */
	uint64_t end_ns;
};

struct imp_cfg {
	const char *if_name[2];
	uint64_t seed;
	bool seed_set;
	struct imp_dir_cfg dir[IMP_NDIR];
	uint64_t reorder_gap_ns;
	uint64_t rate_queue_ns;
	bool jitter_reorders;
	uint64_t signal_blackout_ns;
	struct imp_window blackout[IMP_MAX_BLACKOUTS];
	unsigned n_blackouts;
	uint32_t limit_frames;
	uint64_t limit_bytes;
	const char *stats_file;
};

#define IMP_COUNTERS(X) \
	X(rx_frames) X(rx_bytes) X(forwarded) X(tx_bytes) X(loss_drops) \
	X(duplicated) X(reordered) X(delayed) X(blackout_drops) \
	X(queue_full_drops) X(rate_drops) X(oversize_frames) \
	X(truncated_drops) X(partial_csum_frames) X(tx_errors) X(kernel_drops)

struct imp_counters {
#define X(n) uint64_t n;
	IMP_COUNTERS(X)
#undef X
};

struct imp_frame {
	uint32_t len;
	unsigned char data[];
};

struct imp_slot {
	uint64_t release_ns;
	uint64_t seq;		/* FIFO among equal release times */
	struct imp_frame *f;
};

struct imp_heap {
	struct imp_slot *v;
	uint32_t n;
	uint32_t cap;
};

/* Frames for one egress socket; owned[i] is freed after the send, or NULL
 * when the frame still lies in the receive buffer. */
struct imp_txq {
	struct mmsghdr msg[IMP_TXQ];
	struct iovec iov[IMP_TXQ];
	struct imp_frame *owned[IMP_TXQ];
	unsigned n;
};

struct imp_dir_state {
	uint64_t rng;
	uint64_t last_release_ns;	/* keeps non-reordered frames in order */
	uint64_t link_free_ns;		/* --rate: when the emulated link is idle */
	struct imp_heap heap;
	struct imp_txq txq;
	struct imp_counters c;
	bool warned_oversize, warned_trunc, warned_csum, warned_tx;
};

/* Port 0 is --a, port 1 is --b; direction d enters on port d. */
struct imp_port {
	const char *name;
	int fd;
	int ifindex;
	unsigned mtu;
};

union imp_cmsg {
	struct cmsghdr h;
	char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
};

struct imp_bridge {
	struct imp_cfg cfg;
	struct imp_port port[2];
	struct imp_dir_state dir[IMP_NDIR];
	int sigfd;
	bool stop;
	uint64_t start_ns;
	uint64_t seq;
	uint32_t queued_frames;
	uint32_t peak_queued_frames;
	uint64_t queued_bytes;
	struct imp_window sig_blackout;
	uint64_t signal_blackouts;
	unsigned char *rxbuf;
	struct mmsghdr rxmsg[IMP_BATCH];
	struct iovec rxiov[IMP_BATCH];
	struct sockaddr_ll rxsll[IMP_BATCH];
	union imp_cmsg rxcmsg[IMP_BATCH];
};

/* ---------------------------------------------------------------- utilities */

static uint64_t imp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t imp_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double imp_rand01(uint64_t *s)
{
	return (double)(imp_splitmix64(s) >> 11) * 0x1.0p-53;
}

static void imp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void imp_log(const char *fmt, ...)
{
	va_list ap;

	fputs(IMP_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---------------------------------------------------------------- heap */

static bool imp_slot_before(const struct imp_slot *x, const struct imp_slot *y)
{
	return x->release_ns < y->release_ns ||
	       (x->release_ns == y->release_ns && x->seq < y->seq);
}

static void imp_heap_push(struct imp_heap *h, struct imp_slot s)
{
	uint32_t i = h->n++;

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (!imp_slot_before(&s, &h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = s;
}

static struct imp_slot imp_heap_pop(struct imp_heap *h)
{
	struct imp_slot top = h->v[0];
	struct imp_slot last = h->v[--h->n];
	uint32_t i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && imp_slot_before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!imp_slot_before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
	return top;
}

/* ---------------------------------------------------------------- blackouts */

static bool imp_in_blackout(const struct imp_bridge *br, uint64_t now)
{
	unsigned i;

	if (now >= br->sig_blackout.start_ns && now < br->sig_blackout.end_ns)
		return true;
	for (i = 0; i < br->cfg.n_blackouts; i++)
		if (now >= br->cfg.blackout[i].start_ns && now < br->cfg.blackout[i].end_ns)
			return true;
	return false;
}

static void imp_signal_blackout(struct imp_bridge *br)
{
	uint64_t now = imp_now_ns();

	/* A signal during a running signal blackout extends it. */
	if (now >= br->sig_blackout.end_ns)
		br->sig_blackout.start_ns = now;
	br->sig_blackout.end_ns = now + br->cfg.signal_blackout_ns;
	br->signal_blackouts++;
	printf(IMP_PROG ": blackout for %" PRIu64 " ms from now\n",
	       br->cfg.signal_blackout_ns / NS_PER_MS);
}

/* ---------------------------------------------------------------- stats */

static void imp_collect_kernel_drops(struct imp_bridge *br)
{
	unsigned p;

	/* PACKET_STATISTICS resets on read, so accumulate. */
	for (p = 0; p < 2; p++) {
		struct tpacket_stats st;
		socklen_t len = sizeof(st);

		if (getsockopt(br->port[p].fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
			br->dir[p].c.kernel_drops += st.tp_drops;
	}
}

static void imp_stats_print(struct imp_bridge *br, FILE *f)
{
	unsigned d;

	imp_collect_kernel_drops(br);
	fprintf(f, "uptime_ms %" PRIu64 "\n", (imp_now_ns() - br->start_ns) / NS_PER_MS);
	fprintf(f, "seed %" PRIu64 "\n", br->cfg.seed);
	fprintf(f, "queued_frames %" PRIu32 "\n", br->queued_frames);
	fprintf(f, "queued_bytes %" PRIu64 "\n", br->queued_bytes);
	fprintf(f, "peak_queued_frames %" PRIu32 "\n", br->peak_queued_frames);
	fprintf(f, "signal_blackouts %" PRIu64 "\n", br->signal_blackouts);
	for (d = 0; d < IMP_NDIR; d++) {
#define X(n) fprintf(f, "%s_" #n " %" PRIu64 "\n", imp_dir_name[d], br->dir[d].c.n);
		IMP_COUNTERS(X)
#undef X
	}
}

/* Write to PATH.tmp and rename, so a reader never sees half a file. */
static void imp_stats_write(struct imp_bridge *br)
{
	const char *path = br->cfg.stats_file;
	char tmp[4096];
	FILE *f;

	if (!path)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		imp_log("stats file name too long: %s", path);
		return;
	}
	f = fopen(tmp, "w");
	if (!f) {
		imp_log("cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	imp_stats_print(br, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		imp_log("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
}

/* ---------------------------------------------------------------- transmit */

static void imp_txq_flush(struct imp_bridge *br, enum imp_dir d)
{
	struct imp_dir_state *ds = &br->dir[d];
	struct imp_txq *q = &ds->txq;
	int fd = br->port[1 - d].fd;
	unsigned i = 0, j;

	/* sendmmsg stops at the first frame that fails and reports what went
	 * before it; that frame is counted and skipped, never retried. */
	while (i < q->n) {
		int r = sendmmsg(fd, &q->msg[i], q->n - i, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			ds->c.tx_errors++;
			if (!ds->warned_tx) {
				ds->warned_tx = true;
				imp_log("warning: sending a %zu-byte frame on %s: %s (counted in %s_tx_errors)",
					q->iov[i].iov_len, br->port[1 - d].name, strerror(errno),
					imp_dir_name[d]);
			}
			i++;
			continue;
		}
		for (j = i; j < i + (unsigned)r; j++) {
			ds->c.forwarded++;
			ds->c.tx_bytes += q->iov[j].iov_len;
		}
		i += (unsigned)r;
	}
	for (i = 0; i < q->n; i++)
		free(q->owned[i]);
	q->n = 0;
}

static void imp_txq_add(struct imp_bridge *br, enum imp_dir d, unsigned char *data,
			uint32_t len, struct imp_frame *owned)
{
	struct imp_txq *q = &br->dir[d].txq;

	if (q->n == IMP_TXQ)
		imp_txq_flush(br, d);
	q->iov[q->n].iov_base = data;
	q->iov[q->n].iov_len = len;
	q->msg[q->n].msg_hdr = (struct msghdr){
		.msg_iov = &q->iov[q->n],
		.msg_iovlen = 1,
	};
	q->owned[q->n] = owned;
	q->n++;
}

/* Send every queued frame whose release time has come. */
static void imp_drain(struct imp_bridge *br, uint64_t now)
{
	unsigned d;

	for (d = 0; d < IMP_NDIR; d++) {
		struct imp_dir_state *ds = &br->dir[d];
		bool dark = imp_in_blackout(br, now);

		while (ds->heap.n > 0 && ds->heap.v[0].release_ns <= now) {
			struct imp_frame *f = imp_heap_pop(&ds->heap).f;

			br->queued_frames--;
			br->queued_bytes -= f->len;
			/* The link is down when the frame would leave: lost on the wire. */
			if (dark) {
				ds->c.blackout_drops++;
				free(f);
				continue;
			}
			imp_txq_add(br, d, f->data, f->len, f);
		}
		if (ds->txq.n > 0)
			imp_txq_flush(br, d);
	}
}

/* Nanoseconds until the next release; -1 when nothing is queued. */
static int64_t imp_next_release(const struct imp_bridge *br, uint64_t now)
{
	int64_t best = -1;
	unsigned d;

	for (d = 0; d < IMP_NDIR; d++) {
		const struct imp_heap *h = &br->dir[d].heap;
		int64_t wait;

		if (h->n == 0)
			continue;
		wait = h->v[0].release_ns > now ? (int64_t)(h->v[0].release_ns - now) : 0;
		if (best < 0 || wait < best)
			best = wait;
	}
	return best;
}

/* ---------------------------------------------------------------- receive */

static void imp_enqueue(struct imp_bridge *br, enum imp_dir d, const unsigned char *data,
			uint32_t len, uint64_t release)
{
	struct imp_dir_state *ds = &br->dir[d];
	struct imp_frame *f;

	if (br->queued_frames >= br->cfg.limit_frames ||
	    br->queued_bytes + len > br->cfg.limit_bytes) {
		ds->c.queue_full_drops++;
		return;
	}
	f = malloc(sizeof(*f) + len);
	if (!f) {
		ds->c.queue_full_drops++;
		return;
	}
	f->len = len;
	memcpy(f->data, data, len);
	imp_heap_push(&ds->heap, (struct imp_slot){ .release_ns = release, .seq = br->seq++, .f = f });
	br->queued_frames++;
	br->queued_bytes += len;
	if (br->queued_frames > br->peak_queued_frames)
		br->peak_queued_frames = br->queued_frames;
}

/* A frame longer than the MTU allows: nearly always GRO/LRO on the bridged
 * interface or TSO/GSO on the sender, which the user should turn off. */
static void imp_oversize(struct imp_bridge *br, enum imp_dir d, uint32_t len, uint32_t limit)
{
	struct imp_dir_state *ds = &br->dir[d];
	const struct imp_port *p = &br->port[d];

	ds->c.oversize_frames++;
	if (ds->warned_oversize)
		return;
	ds->warned_oversize = true;
	imp_log("warning: %s: received a %" PRIu32 "-byte frame, more than MTU %u + %u: "
		"GRO/LRO on %s or TSO/GSO on the sender is on; turn them off "
		"(ethtool -K IF tso off gso off gro off)",
		p->name, len, p->mtu, limit - p->mtu, p->name);
}

/* Checks on the frame as received; returns its final length (a stripped
 * VLAN tag put back, *data moved to the new start) or 0 to drop it. */
static uint32_t imp_rx_fixup(struct imp_bridge *br, enum imp_dir d, unsigned i,
			     unsigned char **data)
{
	struct imp_dir_state *ds = &br->dir[d];
	struct msghdr *mh = &br->rxmsg[i].msg_hdr;
	uint32_t len = br->rxmsg[i].msg_len;
	unsigned char *buf = *data;
	struct cmsghdr *cm;
	uint32_t limit;

	ds->c.rx_frames++;
	ds->c.rx_bytes += len;
	if (len > IMP_MAX_FRAME) {
		imp_oversize(br, d, len, br->port[d].mtu + ETH_HLEN);
		ds->c.truncated_drops++;
		if (!ds->warned_trunc) {
			ds->warned_trunc = true;
			imp_log("warning: %s: dropped a %" PRIu32 "-byte frame (the limit is %u)",
				br->port[d].name, len, IMP_MAX_FRAME);
		}
		return 0;
	}
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		struct tpacket_auxdata aux;

		if (cm->cmsg_level != SOL_PACKET || cm->cmsg_type != PACKET_AUXDATA ||
		    cm->cmsg_len < CMSG_LEN(sizeof(aux)))
			continue;
		memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
		if (aux.tp_status & TP_STATUS_CSUMNOTREADY) {
			ds->c.partial_csum_frames++;
			if (!ds->warned_csum) {
				ds->warned_csum = true;
				imp_log("warning: %s: frames arrive with partial checksums and leave "
					"with wrong ones: turn tx checksum offload off on the sender "
					"(ethtool -K IF tx off)", br->port[d].name);
			}
		}
		if ((aux.tp_status & TP_STATUS_VLAN_VALID) && len >= 2 * ETH_ALEN) {
			uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ?
					aux.tp_vlan_tpid : ETH_P_8021Q;
			uint16_t be;

			if (len + 4 > IMP_MAX_FRAME) {
				ds->c.truncated_drops++;
				return 0;
			}
			memmove(buf - 4, buf, 2 * ETH_ALEN);
			buf -= 4;
			be = htons(tpid);
			memcpy(buf + 12, &be, 2);
			be = htons(aux.tp_vlan_tci);
			memcpy(buf + 14, &be, 2);
			len += 4;
		}
	}
	limit = br->port[d].mtu + ETH_HLEN;
	if (len >= ETH_HLEN && ((buf[12] == 0x81 && buf[13] == 0x00) ||
				(buf[12] == 0x88 && buf[13] == 0xa8)))
		limit += 4;
	if (len > limit)
		imp_oversize(br, d, len, limit);
	*data = buf;
	return len;
}

static void imp_ingress(struct imp_bridge *br, enum imp_dir d, unsigned i, uint64_t now)
{
	const struct imp_dir_cfg *dc = &br->cfg.dir[d];
	struct imp_dir_state *ds = &br->dir[d];
	unsigned char *data = br->rxbuf + (size_t)i * IMP_SLOT + IMP_VLAN_ROOM;
	double u_loss, u_dup, u_reorder, u_jitter;
	uint64_t release = now;
	unsigned copies, k;
	uint32_t len;

	/* PACKET_IGNORE_OUTGOING should have dropped these already. */
	if (br->rxsll[i].sll_pkttype == PACKET_OUTGOING)
		return;
	len = imp_rx_fixup(br, d, i, &data);
	if (len == 0)
		return;
	if (!dc->impaired) {
		imp_txq_add(br, d, data, len, NULL);
		return;
	}
	/* Always four draws, so enabling one impairment does not change the
	 * pattern of another for the same seed. */
	u_loss = imp_rand01(&ds->rng);
	u_dup = imp_rand01(&ds->rng);
	u_reorder = imp_rand01(&ds->rng);
	u_jitter = imp_rand01(&ds->rng);

	if (imp_in_blackout(br, now)) {
		ds->c.blackout_drops++;
		return;
	}
	if (u_loss < dc->loss) {
		ds->c.loss_drops++;
		return;
	}
	copies = u_dup < dc->duplicate ? 2 : 1;
	if (dc->rate_bps) {
		uint64_t start = ds->link_free_ns > now ? ds->link_free_ns : now;

		if (start - now > br->cfg.rate_queue_ns) {
			ds->c.rate_drops++;
			return;
		}
		ds->link_free_ns = start + (uint64_t)len * copies * 8 * NS_PER_S / dc->rate_bps;
		release = ds->link_free_ns;
	}
	release += dc->delay_ns;
	if (dc->jitter_ns) {
		/* Uniform in [-jitter, +jitter], never before now. */
		int64_t off = (int64_t)(u_jitter * (double)(2 * dc->jitter_ns + 1)) -
			      (int64_t)dc->jitter_ns;

		if (off < 0 && (uint64_t)-off > release - now)
			release = now;
		else
			release = (uint64_t)((int64_t)release + off);
	}
	if (u_reorder < dc->reorder) {
		/* Held back past its successors; it does not move last_release,
		 * so the frames after it overtake it. */
		release += br->cfg.reorder_gap_ns;
		ds->c.reordered++;
	} else if (!br->cfg.jitter_reorders) {
		if (release < ds->last_release_ns)
			release = ds->last_release_ns;
		ds->last_release_ns = release;
	}
	if (copies == 2)
		ds->c.duplicated++;
	if (release > now)
		ds->c.delayed++;
	/* imp_drain(now) ran before this batch, so nothing queued is due at or
	 * before now: a frame due now may go straight out without overtaking. */
	for (k = 0; k < copies; k++) {
		if (release <= now)
			imp_txq_add(br, d, data, len, NULL);
		else
			imp_enqueue(br, d, data, len, release);
	}
}

static void imp_rx_prepare(struct imp_bridge *br)
{
	unsigned i;

	for (i = 0; i < IMP_BATCH; i++) {
		br->rxiov[i].iov_base = br->rxbuf + (size_t)i * IMP_SLOT + IMP_VLAN_ROOM;
		br->rxiov[i].iov_len = IMP_MAX_FRAME;
		br->rxmsg[i].msg_hdr = (struct msghdr){
			.msg_name = &br->rxsll[i],
			.msg_namelen = sizeof(br->rxsll[i]),
			.msg_iov = &br->rxiov[i],
			.msg_iovlen = 1,
			.msg_control = br->rxcmsg[i].buf,
			.msg_controllen = sizeof(br->rxcmsg[i].buf),
		};
	}
}

/* Returns -ENODEV when the interface is gone, else 0. */
static int imp_rx(struct imp_bridge *br, enum imp_dir d)
{
	struct imp_port *p = &br->port[d];
	unsigned round, i;

	for (round = 0; round < IMP_RX_BUDGET; round++) {
		uint64_t now;
		int n;

		imp_rx_prepare(br);
		/* MSG_TRUNC: msg_len is the frame's real length, so a frame
		 * longer than the buffer is seen as such and dropped. */
		n = recvmmsg(p->fd, br->rxmsg, IMP_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (n < 0) {
			int err = errno;

			if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
				return 0;
			if (if_nametoindex(p->name) != (unsigned)p->ifindex) {
				imp_log("%s: interface went away (%s)", p->name, strerror(err));
				return -ENODEV;
			}
			/* ENETDOWN and the like: the socket's pending error, reported once. */
			imp_log("warning: %s: %s", p->name, strerror(err));
			return 0;
		}
		now = imp_now_ns();
		imp_drain(br, now);
		for (i = 0; i < (unsigned)n; i++)
			imp_ingress(br, d, i, now);
		if (br->dir[d].txq.n > 0)
			imp_txq_flush(br, d);
		if ((unsigned)n < IMP_BATCH)
			return 0;
	}
	return 0;
}

/* ---------------------------------------------------------------- setup */

static void imp_check_offloads(const struct imp_port *p)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GGRO };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->name);
	ifr.ifr_data = (char *)&ev;
	if (ioctl(p->fd, SIOCETHTOOL, &ifr) == 0 && ev.data)
		imp_log("warning: %s: GRO is on, so frames may be merged into ones larger "
			"than the MTU: ethtool -K %s gro off", p->name, p->name);
	ev = (struct ethtool_value){ .cmd = ETHTOOL_GFLAGS };
	if (ioctl(p->fd, SIOCETHTOOL, &ifr) == 0 && (ev.data & ETH_FLAG_LRO))
		imp_log("warning: %s: LRO is on: ethtool -K %s lro off", p->name, p->name);
}

static int imp_port_open(struct imp_port *p)
{
	struct packet_mreq mr;
	struct sockaddr_ll sll;
	struct ifreq ifr;
	int one = 1, sz = IMP_SOCKBUF;

	p->ifindex = (int)if_nametoindex(p->name);
	if (p->ifindex == 0) {
		imp_log("no interface %s: %s", p->name, strerror(errno));
		return -ENODEV;
	}
	/* Protocol 0 receives nothing until bind, so no frame from another
	 * interface slips in between socket() and bind(). */
	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		imp_log("AF_PACKET socket: %s (needs CAP_NET_RAW)", strerror(errno));
		return -errno;
	}
	if (setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		imp_log("warning: PACKET_IGNORE_OUTGOING: %s; filtering by packet type instead",
			strerror(errno));
	if (setsockopt(p->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
		imp_log("warning: PACKET_AUXDATA: %s; VLAN tags stripped by %s are lost",
			strerror(errno), p->name);
	/* Room for a burst that arrives while frames are being sent. */
	if (setsockopt(p->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(p->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));

	memset(&mr, 0, sizeof(mr));
	mr.mr_ifindex = p->ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		imp_log("%s: cannot set promiscuous: %s", p->name, strerror(errno));
		return -errno;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = p->ifindex;
	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		imp_log("bind to %s: %s", p->name, strerror(errno));
		return -errno;
	}

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->name);
	if (ioctl(p->fd, SIOCGIFMTU, &ifr) < 0) {
		imp_log("%s: cannot read the MTU: %s", p->name, strerror(errno));
		return -errno;
	}
	p->mtu = (unsigned)ifr.ifr_mtu;
	if (ioctl(p->fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP))
		imp_log("warning: %s is down; nothing is forwarded until it is up", p->name);
	imp_check_offloads(p);
	return 0;
}

/* ---------------------------------------------------------------- options */

enum {
	OPT_A = 256, OPT_B, OPT_SEED, OPT_AB_ONLY, OPT_BA_ONLY, OPT_BLACKOUT,
	OPT_SIGNAL_BLACKOUT, OPT_REORDER_GAP, OPT_JITTER_REORDERS, OPT_RATE_QUEUE,
	OPT_LIMIT, OPT_MEM_LIMIT, OPT_STATS_FILE,
	OPT_KEY_BASE = 512,	/* + key * S_NSCOPES + scope */
};

#define IMP_KEY_OPTS(name, k) \
	{ name, required_argument, NULL, OPT_KEY_BASE + (k) * S_NSCOPES + S_BOTH }, \
	{ name "-ab", required_argument, NULL, OPT_KEY_BASE + (k) * S_NSCOPES + S_AB }, \
	{ name "-ba", required_argument, NULL, OPT_KEY_BASE + (k) * S_NSCOPES + S_BA }

static const struct option imp_options[] = {
	{ "a", required_argument, NULL, OPT_A },
	{ "b", required_argument, NULL, OPT_B },
	{ "seed", required_argument, NULL, OPT_SEED },
	IMP_KEY_OPTS("loss", K_LOSS),
	IMP_KEY_OPTS("delay", K_DELAY),
	IMP_KEY_OPTS("jitter", K_JITTER),
	IMP_KEY_OPTS("reorder", K_REORDER),
	IMP_KEY_OPTS("duplicate", K_DUP),
	IMP_KEY_OPTS("rate", K_RATE),
	{ "reorder-gap", required_argument, NULL, OPT_REORDER_GAP },
	{ "jitter-reorders", no_argument, NULL, OPT_JITTER_REORDERS },
	{ "rate-queue", required_argument, NULL, OPT_RATE_QUEUE },
	{ "blackout", required_argument, NULL, OPT_BLACKOUT },
	{ "signal-blackout", required_argument, NULL, OPT_SIGNAL_BLACKOUT },
	{ "a-to-b-only", no_argument, NULL, OPT_AB_ONLY },
	{ "b-to-a-only", no_argument, NULL, OPT_BA_ONLY },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "mem-limit", required_argument, NULL, OPT_MEM_LIMIT },
	{ "stats-file", required_argument, NULL, OPT_STATS_FILE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void imp_usage(FILE *f)
{
	fputs(
"Usage: " IMP_PROG " --a IFACE --b IFACE [OPTIONS]\n"
"\n"
"A userspace L2 bridge between two interfaces that impairs what it forwards.\n"
"Direction ab is frames received on --a and sent on --b; ba the reverse.\n"
"Each impairment applies to both directions; its -ab / -ba form sets one\n"
"direction and wins over the plain form whatever the order.\n"
"\n"
"  --a IFACE, --b IFACE     the two interfaces (set promiscuous while running)\n"
"  --seed N                 PRNG seed (default: from the clock; printed at start)\n"
"  --loss[-ab|-ba] PCT      drop each frame with probability PCT (0..100)\n"
"  --delay[-ab|-ba] MS      hold each frame MS milliseconds\n"
"  --jitter[-ab|-ba] MS     add a uniform offset in [-MS, +MS] to the delay\n"
"                           (never below zero); frames stay in order unless\n"
"                           --jitter-reorders\n"
"  --jitter-reorders        let jitter reorder frames, as netem does\n"
"  --reorder[-ab|-ba] PCT   hold PCT of frames an extra --reorder-gap, so the\n"
"                           frames after them overtake them\n"
"  --reorder-gap MS         the extra hold of a reordered frame (default 5)\n"
"  --duplicate[-ab|-ba] PCT send PCT of frames twice\n"
"  --rate[-ab|-ba] MBIT     serialise frames at MBIT megabit/s (L2 bytes)\n"
"  --rate-queue MS          drop a frame that would wait more than MS for the\n"
"                           rate-limited link (default 200)\n"
"  --blackout START:DUR     drop everything from START ms after ready for DUR\n"
"                           ms, queued frames included (repeatable, max 16)\n"
"  --signal-blackout MS     length of the blackout SIGUSR1 starts (default 2000)\n"
"  --a-to-b-only            impair only ab; ba is forwarded untouched\n"
"  --b-to-a-only            impair only ba; ab is forwarded untouched\n"
"  --limit N                most frames queued at once, both directions\n"
"                           (default 65536); beyond it frames are dropped\n"
"  --mem-limit MIB          most bytes queued at once (default 256 MiB)\n"
"  --stats-file PATH        write counters (NAME VALUE lines) to PATH on\n"
"                           SIGUSR2 and at exit\n"
"  -h, --help               this text\n"
"\n"
"Signals: SIGUSR1 starts a blackout (--signal-blackout ms from now, in each\n"
"impaired direction), SIGUSR2 writes the stats file, SIGINT/SIGTERM/SIGHUP\n"
"exit after printing the counters. '" IMP_PROG ": ready' is printed on stdout\n"
"once both interfaces are open.\n"
"\n"
"Offloads must be off on both bridged links (on the sender too):\n"
"  ethtool -K IFACE tx off rx off tso off gso off gro off\n"
"otherwise the bridge sees 64 KB super-frames and partial checksums.\n",
	      f);
}

static int imp_parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		imp_log("--%s %s: expected a number from %g to %g", opt, s, lo, hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int imp_parse_ms(const char *opt, const char *s, uint64_t *ns)
{
	double ms;

	if (imp_parse_double(opt, s, 0, IMP_MAX_MS, &ms) < 0)
		return -EINVAL;
	*ns = (uint64_t)(ms * (double)NS_PER_MS + 0.5);
	return 0;
}

static int imp_parse_blackout(struct imp_cfg *cfg, const char *s)
{
	char buf[64], *colon;
	uint64_t start, dur;

	if (cfg->n_blackouts == IMP_MAX_BLACKOUTS) {
		imp_log("--blackout: at most %u windows", IMP_MAX_BLACKOUTS);
		return -EINVAL;
	}
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf) ||
	    !(colon = strchr(buf, ':'))) {
		imp_log("--blackout %s: expected START_MS:DURATION_MS", s);
		return -EINVAL;
	}
	*colon = '\0';
	if (imp_parse_ms("blackout", buf, &start) < 0 ||
	    imp_parse_ms("blackout", colon + 1, &dur) < 0)
		return -EINVAL;
	cfg->blackout[cfg->n_blackouts].start_ns = start;
	cfg->blackout[cfg->n_blackouts].end_ns = start + dur;
	cfg->n_blackouts++;
	return 0;
}

static int imp_parse_key(enum imp_key k, const char *opt, const char *s, double *v)
{
	switch (k) {
	case K_LOSS:
	case K_REORDER:
	case K_DUP:
		if (imp_parse_double(opt, s, 0, 100, v) < 0)
			return -EINVAL;
		*v /= 100.0;
		return 0;
	case K_DELAY:
	case K_JITTER:
		if (imp_parse_double(opt, s, 0, IMP_MAX_MS, v) < 0)
			return -EINVAL;
		*v *= (double)NS_PER_MS;
		return 0;
	case K_RATE:
		if (imp_parse_double(opt, s, 0.001, 1e6, v) < 0)
			return -EINVAL;
		*v *= 1e6;
		return 0;
	default:
		return -EINVAL;
	}
}

static void imp_apply_key(struct imp_dir_cfg *dc, enum imp_key k, double v)
{
	switch (k) {
	case K_LOSS: dc->loss = v; break;
	case K_DUP: dc->duplicate = v; break;
	case K_REORDER: dc->reorder = v; break;
	case K_DELAY: dc->delay_ns = (uint64_t)(v + 0.5); break;
	case K_JITTER: dc->jitter_ns = (uint64_t)(v + 0.5); break;
	case K_RATE: dc->rate_bps = (uint64_t)(v + 0.5); break;
	default: break;
	}
}

/* Returns 0 to run, 1 after --help, -EINVAL on a bad command line. */
static int imp_parse(int argc, char **argv, struct imp_cfg *cfg)
{
	double val[K_NKEYS][S_NSCOPES] = { { 0 } };
	bool set[K_NKEYS][S_NSCOPES] = { { false } };
	bool ab_only = false, ba_only = false;
	double v;
	int c, idx, k, d;

	cfg->reorder_gap_ns = 5 * NS_PER_MS;
	cfg->rate_queue_ns = 200 * NS_PER_MS;
	cfg->signal_blackout_ns = 2000 * NS_PER_MS;
	cfg->limit_frames = 65536;
	cfg->limit_bytes = 256ull << 20;

	while ((c = getopt_long(argc, argv, "h", imp_options, &idx)) != -1) {
		const char *name = c >= 256 ? imp_options[idx].name : "";

		if (c >= OPT_KEY_BASE) {
			k = (c - OPT_KEY_BASE) / S_NSCOPES;
			if (imp_parse_key((enum imp_key)k, name, optarg, &v) < 0)
				return -EINVAL;
			val[k][(c - OPT_KEY_BASE) % S_NSCOPES] = v;
			set[k][(c - OPT_KEY_BASE) % S_NSCOPES] = true;
			continue;
		}
		switch (c) {
		case OPT_A:
			cfg->if_name[0] = optarg;
			break;
		case OPT_B:
			cfg->if_name[1] = optarg;
			break;
		case OPT_SEED: {
			char *end;

			errno = 0;
			cfg->seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || optarg[0] == '-') {
				imp_log("--seed %s: expected an unsigned 64-bit number", optarg);
				return -EINVAL;
			}
			cfg->seed_set = true;
			break;
		}
		case OPT_AB_ONLY:
			ab_only = true;
			break;
		case OPT_BA_ONLY:
			ba_only = true;
			break;
		case OPT_BLACKOUT:
			if (imp_parse_blackout(cfg, optarg) < 0)
				return -EINVAL;
			break;
		case OPT_SIGNAL_BLACKOUT:
			if (imp_parse_ms(name, optarg, &cfg->signal_blackout_ns) < 0)
				return -EINVAL;
			break;
		case OPT_REORDER_GAP:
			if (imp_parse_ms(name, optarg, &cfg->reorder_gap_ns) < 0)
				return -EINVAL;
			break;
		case OPT_JITTER_REORDERS:
			cfg->jitter_reorders = true;
			break;
		case OPT_RATE_QUEUE:
			if (imp_parse_ms(name, optarg, &cfg->rate_queue_ns) < 0)
				return -EINVAL;
			break;
		case OPT_LIMIT:
			if (imp_parse_double(name, optarg, 1, 1 << 22, &v) < 0)
				return -EINVAL;
			cfg->limit_frames = (uint32_t)v;
			break;
		case OPT_MEM_LIMIT:
			if (imp_parse_double(name, optarg, 1, 1 << 16, &v) < 0)
				return -EINVAL;
			cfg->limit_bytes = (uint64_t)(v * 1048576.0);
			break;
		case OPT_STATS_FILE:
			cfg->stats_file = optarg;
			break;
		case 'h':
			imp_usage(stdout);
			return 1;
		default:
			imp_usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		imp_log("unexpected argument '%s' (see --help)", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->if_name[0] || !cfg->if_name[1]) {
		imp_log("--a and --b are both required (see --help)");
		return -EINVAL;
	}
	if (strcmp(cfg->if_name[0], cfg->if_name[1]) == 0) {
		imp_log("--a and --b name the same interface %s", cfg->if_name[0]);
		return -EINVAL;
	}
	if (ab_only && ba_only) {
		imp_log("--a-to-b-only and --b-to-a-only exclude each other");
		return -EINVAL;
	}
	for (d = 0; d < IMP_NDIR; d++) {
		int scope = d == IMP_AB ? S_AB : S_BA;

		for (k = 0; k < K_NKEYS; k++) {
			if (set[k][scope])
				imp_apply_key(&cfg->dir[d], (enum imp_key)k, val[k][scope]);
			else if (set[k][S_BOTH])
				imp_apply_key(&cfg->dir[d], (enum imp_key)k, val[k][S_BOTH]);
		}
	}
	cfg->dir[IMP_AB].impaired = !ba_only;
	cfg->dir[IMP_BA].impaired = !ab_only;
	return 0;
}

static void imp_print_config(const struct imp_bridge *br)
{
	unsigned d, i;

	printf(IMP_PROG ": seed %" PRIu64 " (repeat with --seed %" PRIu64 ")\n",
	       br->cfg.seed, br->cfg.seed);
	for (d = 0; d < IMP_NDIR; d++) {
		const struct imp_dir_cfg *dc = &br->cfg.dir[d];
		char rate[32] = "unlimited";

		if (!dc->impaired) {
			printf(IMP_PROG ": %s %s -> %s: not impaired\n", imp_dir_name[d],
			       br->port[d].name, br->port[1 - d].name);
			continue;
		}
		if (dc->rate_bps)
			snprintf(rate, sizeof(rate), "%g Mbit/s", (double)dc->rate_bps / 1e6);
		printf(IMP_PROG ": %s %s -> %s: loss %g%% delay %g ms jitter %g ms%s "
		       "reorder %g%% (gap %g ms) duplicate %g%% rate %s\n",
		       imp_dir_name[d], br->port[d].name, br->port[1 - d].name,
		       dc->loss * 100, (double)dc->delay_ns / NS_PER_MS,
		       (double)dc->jitter_ns / NS_PER_MS,
		       br->cfg.jitter_reorders ? " (reorders)" : "",
		       dc->reorder * 100, (double)br->cfg.reorder_gap_ns / NS_PER_MS,
		       dc->duplicate * 100, rate);
	}
	for (i = 0; i < br->cfg.n_blackouts; i++)
		printf(IMP_PROG ": blackout from %g ms for %g ms after ready\n",
		       (double)br->cfg.blackout[i].start_ns / NS_PER_MS,
		       (double)(br->cfg.blackout[i].end_ns - br->cfg.blackout[i].start_ns) / NS_PER_MS);
}

/* ---------------------------------------------------------------- main loop */

static void imp_signals(struct imp_bridge *br)
{
	struct signalfd_siginfo si;

	while (read(br->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGUSR1:
			imp_signal_blackout(br);
			break;
		case SIGUSR2:
			imp_stats_write(br);
			break;
		default:
			br->stop = true;
			break;
		}
	}
}

static int imp_run(struct imp_bridge *br)
{
	struct pollfd pfd[3] = {
		{ .fd = br->port[0].fd, .events = POLLIN },
		{ .fd = br->port[1].fd, .events = POLLIN },
		{ .fd = br->sigfd, .events = POLLIN },
	};

	while (!br->stop) {
		uint64_t now = imp_now_ns();
		struct timespec ts, *tsp = NULL;
		int64_t wait;
		unsigned p;

		imp_drain(br, now);
		wait = imp_next_release(br, now);
		if (wait >= 0) {
			ts.tv_sec = (time_t)(wait / (int64_t)NS_PER_S);
			ts.tv_nsec = (long)(wait % (int64_t)NS_PER_S);
			tsp = &ts;
		}
		if (ppoll(pfd, 3, tsp, NULL) < 0) {
			if (errno == EINTR)
				continue;
			imp_log("ppoll: %s", strerror(errno));
			return -errno;
		}
		if (pfd[2].revents)
			imp_signals(br);
		for (p = 0; p < 2; p++)
			if (pfd[p].revents && imp_rx(br, (enum imp_dir)p) < 0)
				return -ENODEV;
	}
	return 0;
}

static void imp_free(struct imp_bridge *br)
{
	unsigned d, i;

	for (d = 0; d < IMP_NDIR; d++) {
		for (i = 0; i < br->dir[d].heap.n; i++)
			free(br->dir[d].heap.v[i].f);
		free(br->dir[d].heap.v);
	}
	for (i = 0; i < 2; i++)
		if (br->port[i].fd >= 0)
			close(br->port[i].fd);
	if (br->sigfd >= 0)
		close(br->sigfd);
	free(br->rxbuf);
	free(br);
}

int main(int argc, char **argv)
{
	struct imp_bridge *br;
	sigset_t mask;
	unsigned d, i;
	int rc;

	br = calloc(1, sizeof(*br));
	if (!br) {
		imp_log("out of memory");
		return 1;
	}
	br->sigfd = br->port[0].fd = br->port[1].fd = -1;
	rc = imp_parse(argc, argv, &br->cfg);
	if (rc != 0) {
		imp_free(br);
		return rc > 0 ? 0 : 2;
	}
	/* Line-buffered so the ready line reaches a log file at once. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	br->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (br->sigfd < 0) {
		imp_log("signalfd: %s", strerror(errno));
		goto fail;
	}

	if (!br->cfg.seed_set)
		br->cfg.seed = imp_now_ns() ^ ((uint64_t)getpid() << 32);
	for (d = 0; d < IMP_NDIR; d++) {
		br->dir[d].rng = br->cfg.seed ^ (d * 0xd1b54a32d192ed03ull);
		br->dir[d].heap.cap = br->cfg.limit_frames;
		br->dir[d].heap.v = calloc(br->cfg.limit_frames, sizeof(struct imp_slot));
		if (!br->dir[d].heap.v) {
			imp_log("out of memory for a %" PRIu32 "-frame queue", br->cfg.limit_frames);
			goto fail;
		}
	}
	br->rxbuf = aligned_alloc(64, (size_t)IMP_BATCH * IMP_SLOT);
	if (!br->rxbuf) {
		imp_log("out of memory");
		goto fail;
	}
	for (i = 0; i < 2; i++) {
		br->port[i].name = br->cfg.if_name[i];
		if (imp_port_open(&br->port[i]) < 0)
			goto fail;
	}

	imp_print_config(br);
	br->start_ns = imp_now_ns();
	for (i = 0; i < br->cfg.n_blackouts; i++) {
		br->cfg.blackout[i].start_ns += br->start_ns;
		br->cfg.blackout[i].end_ns += br->start_ns;
	}
	printf(IMP_PROG ": ready a=%s b=%s seed=%" PRIu64 "\n",
	       br->port[0].name, br->port[1].name, br->cfg.seed);

	rc = imp_run(br);

	imp_stats_write(br);
	fputs(IMP_PROG ": counters\n", stderr);
	imp_stats_print(br, stderr);
	imp_free(br);
	return rc < 0 ? 1 : 0;

fail:
	imp_free(br);
	return 1;
}

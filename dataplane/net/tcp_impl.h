/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP internals shared by tcp_conn.c (table, open/close), tcp_input.c,
 * tcp_output.c and tcp_timer.c. Not for users of the stack: see tcp.h.
 */
#ifndef RAMPART_NET_TCP_IMPL_H
#define RAMPART_NET_TCP_IMPL_H

#include <sys/queue.h>

#include <rte_tcp.h>

#include "net.h"
#include "tcp.h"

/* RFC 9293 states. */
enum tcp_state {
	TCP_CLOSED = 0,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RCVD,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

extern const char *const tcp_state_names[];

/* Sequence-space comparisons (RFC 9293 3.4), modulo 2^32. */
#define SEQ_LT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b)  ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

#define TCP_MSS_DEFAULT      536     /* RFC 9293: without the option */
#define TCP_MSS_MAX          1460    /* Ethernet MTU 1500 */
#define TCP_WSCALE_MAX       14
#define TCP_SACK_BLOCKS_MAX  4
#define TCP_TIMER_SLOTS      4096    /* 1 ms ticks: one lap is ~4 s */
#define TCP_HASH_BUCKETS_MIN 1024
#define TCP_LISTENERS_MAX    64
#define TCP_OOO_MAX          32
#define TCP_SCORE_MAX        8       /* SACKed ranges remembered */
/* mbuf.hash.usr of a segment passed between workers: tag | hops. */
#define TCP_HOP_TAG          0x7c9e0000u
#define TCP_HOP_MASK         0xffffu

/* Option kinds (RFC 9293, 7323, 2018). */
#define TCPOPT_EOL        0
#define TCPOPT_NOP        1
#define TCPOPT_MSS        2
#define TCPOPT_WSCALE     3
#define TCPOPT_SACK_PERM  4
#define TCPOPT_SACK       5
#define TCPOPT_TS         8

/* Timer kinds: one timer object each per connection. */
enum tcp_timer_kind {
	TCP_T_RTX = 0,   /* retransmission, SYN retries, zero-window persist */
	TCP_T_DELACK,
	TCP_T_IDLE,      /* keep-alive, FIN_WAIT_2, TIME_WAIT */
	TCP_T_MAX,
};

TAILQ_HEAD(tcp_timer_list, tcp_timer);

struct tcp_timer {
	TAILQ_ENTRY(tcp_timer) link;
	struct tcp_timer_list *head;    /* the list it is on while armed */
	uint64_t expire;                /* ms */
	uint8_t kind;
	uint8_t armed;
};

struct tcp_key {
	rte_be32_t laddr;
	rte_be32_t raddr;
	rte_be16_t lport;
	rte_be16_t rport;
};

struct tcp_listener {
	rte_be32_t addr;                /* 0: any */
	uint16_t port;                  /* host order */
	uint32_t nb_syn_rcvd;
	uint64_t last_cookie_ms;        /* 0: never sent a SYN cookie */
	const struct tcp_ops *ops;
	void *arg;
};

/* Options seen in one segment. */
struct tcp_opts {
	uint16_t mss;
	uint8_t wscale;
	uint8_t has_mss:1, has_wscale:1, sack_ok:1, has_ts:1;
	uint8_t nb_sack;
	uint32_t tsval, tsecr;
	uint32_t sack[TCP_SACK_BLOCKS_MAX][2];
};

/* Connection flags. */
#define TCPF_TS          (1u << 0)   /* timestamps negotiated */
#define TCPF_SACK        (1u << 1)   /* SACK permitted both ways */
#define TCPF_WSCALE      (1u << 2)   /* window scaling both ways */
#define TCPF_FIN_QUEUED  (1u << 3)   /* app closed: FIN after data */
#define TCPF_FIN_SENT    (1u << 4)
#define TCPF_ACK_NOW     (1u << 5)
#define TCPF_WANT_WRITE  (1u << 6)   /* tell the app when space frees */
#define TCPF_IN_RECOVERY (1u << 7)
#define TCPF_PEER_FIN    (1u << 8)   /* FIN received and consumed */
#define TCPF_NOTIFIED    (1u << 9)   /* `closed` already called */
#define TCPF_PASSIVE     (1u << 10)
#define TCPF_RTT_TIMING  (1u << 11)  /* one segment is being timed */
#define TCPF_PERSIST     (1u << 12)  /* RTX timer is probing a 0 window */
#define TCPF_IN_CALLBACK (1u << 13)
#define TCPF_TLP_ARMED   (1u << 14)  /* RTX timer holds a tail-loss probe */
#define TCPF_TLP_SENT    (1u << 15)  /* one probe per flight (RFC 8985) */
#define TCPF_TS_COOKIE   (1u << 16)  /* SYN-ACK TSval carries a cookie */
#define TCPF_FIN_ACKED   (1u << 17)
#define TCPF_CORKED      (1u << 18)  /* on tcp_stack.corked: output due */

struct tcp_conn {
	struct tcp_key key;
	struct tcp_conn *hnext;         /* hash chain */
	struct net_lcore *nl;
	const struct tcp_ops *ops;
	void *user;
	struct tcp_listener *listener;  /* passive: for backlog accounting */
	uint16_t port;                  /* interface index */
	uint8_t state;
	uint8_t snd_wscale;             /* peer's shift, applied to its wnd */
	uint8_t rcv_wscale;             /* our shift */
	uint8_t dupacks;
	uint8_t retries;                /* consecutive RTOs */
	uint8_t nb_sack_out;            /* SACK blocks to report */
	uint32_t flags;

	/* Send sequence space (RFC 9293 3.3.1). */
	uint32_t iss;
	uint32_t snd_una;
	uint32_t snd_nxt;
	uint32_t snd_max;               /* highest sequence ever sent */
	uint32_t snd_wnd;               /* peer's window, scaled */
	uint32_t max_snd_wnd;
	uint32_t snd_wl1, snd_wl2;
	uint16_t mss;                   /* effective send MSS (data bytes) */
	uint16_t peer_mss;

	/* Receive sequence space. */
	uint32_t irs;
	uint32_t rcv_nxt;
	uint32_t rcv_adv;               /* right edge we advertised */
	uint32_t rcv_unread;            /* delivered, not tcp_recved() */
	uint32_t ooo_bytes;
	uint32_t rcv_buf;
	uint32_t segs_unacked;          /* full segments since our last ACK */

	/* Timestamps (RFC 7323). */
	uint32_t ts_recent;
	uint32_t ts_cookie;             /* TSval of a SYN-cookie SYN-ACK */
	uint64_t ts_recent_age;         /* ms */
	uint32_t last_ack_sent;

	/* RTT (RFC 6298), ms, srtt scaled by 8 and rttvar by 4. */
	uint32_t srtt8, rttvar4, rto;
	uint32_t rtt_seq;
	uint64_t rtt_start;

	/* Congestion control (RFC 5681 / 6582 NewReno). */
	uint32_t cwnd, ssthresh, recover;
	uint32_t bytes_acked;           /* congestion avoidance accumulator */
	uint32_t lt_allow;              /* limited transmit (RFC 3042) */
	/* CUBIC (RFC 9438), in segments and ms. */
	double cubic_wmax, cubic_k, cubic_origin, cubic_west, cwnd_frac;
	uint64_t cubic_epoch;

	/* SACK scoreboard (RFC 6675): ranges above snd_una the peer holds,
	 * sorted and merged; rtx_next is where hole retransmission goes on
	 * during recovery. */
	uint32_t sacked[TCP_SCORE_MAX][2];
	uint8_t nb_sacked;
	uint32_t sacked_bytes;
	uint32_t rtx_next;
	uint8_t rtx_lapped;             /* dupacks since every hole was resent */

	/* Send queue: bytes [snd_una, snd_una + sndq_len) as an mbuf chain;
	 * sndq_off bytes of the head mbuf are already acknowledged. */
	struct rte_mbuf *sndq_head, *sndq_tail;
	uint32_t sndq_len;
	uint16_t sndq_off;
	struct rte_mbuf *sndq_cur;      /* copy cursor (tcp_sndq_copy) */
	uint32_t sndq_cur_seq;          /* sequence of sndq_cur's first byte */
	uint32_t snd_buf;

	/* Out-of-order segments: sorted, non-overlapping, payload only;
	 * sequence number in m->hash.usr. A small bounded array. */
	struct rte_mbuf *ooo[TCP_OOO_MAX];
	uint8_t nb_ooo;
	uint32_t sack_out[TCP_SACK_BLOCKS_MAX][2];

	/* Keep-alive. */
	uint32_t ka_idle_ms, ka_intvl_ms;
	uint8_t ka_cnt, ka_probes;
	uint64_t last_rcv;              /* ms */

	struct tcp_timer timers[TCP_T_MAX];
	TAILQ_ENTRY(tcp_conn) tw_link;  /* on tcp_stack.tw_list in TIME_WAIT */
	TAILQ_ENTRY(tcp_conn) cork_link; /* on tcp_stack.corked */
};
TAILQ_HEAD(tcp_conn_list, tcp_conn);

struct tcp_stack {
	struct tcp_params p;
	unsigned int index, nb_workers;
	uint64_t now_ms;                /* derived from net_lcore.now */
	uint64_t wheel_ms;              /* last tick processed */
	struct tcp_timer_list wheel[TCP_TIMER_SLOTS];
	struct tcp_conn **hash;
	uint32_t hash_mask;
	struct tcp_conn *conns;         /* max_conns objects */
	struct tcp_conn *free_list;     /* through hnext */
	struct tcp_conn_list tw_list;   /* TIME_WAIT, oldest first */
	/* tcp_cork .. tcp_uncork: connections whose sends wait for the
	 * uncork to go out together. */
	bool cork;
	struct tcp_conn_list corked;
	struct tcp_conn *grave;         /* dropped during this batch */
	struct tcp_conn *in_input;      /* connection tcp_input is on */
	uint64_t challenge_epoch;       /* ms: start of the budget second */
	uint32_t challenge_left;
	uint32_t nb_conns;
	uint32_t port_cursor;           /* ephemeral allocation cursor */
	uint8_t secret[16];             /* ISN and SYN-cookie key */
	uint32_t nb_listeners;
	struct tcp_listener listeners[TCP_LISTENERS_MAX];
};

static inline struct tcp_stack *
tcp_stack(const struct net_lcore *nl)
{
	return nl->tcp;
}

/* tcp_conn.c */
void tcp_tw_add(struct tcp_stack *ts, struct tcp_conn *c);
struct tcp_conn *tcp_lookup(struct tcp_stack *ts, const struct tcp_key *k);
struct tcp_conn *tcp_conn_new(struct net_lcore *nl, const struct tcp_key *k,
			      uint16_t port);
void tcp_conn_hash_insert(struct tcp_stack *ts, struct tcp_conn *c);
/* Drop c: call `closed` (err) unless already, free buffers and object. */
void tcp_conn_drop(struct tcp_conn *c, int err);
/* Return connections dropped in this batch to the free list. */
void tcp_conn_reap(struct tcp_stack *ts);
struct tcp_listener *tcp_listener_find(struct tcp_stack *ts, rte_be32_t a,
				       uint16_t port);
uint32_t tcp_isn(struct tcp_stack *ts, const struct tcp_key *k);
void tcp_set_state(struct tcp_conn *c, enum tcp_state s);
uint16_t tcp_mss_for(const struct net_lcore *nl, uint16_t port);
uint8_t tcp_wscale_for(uint32_t buf);

/* tcp_input.c */
void tcp_apply_syn_opts(struct tcp_conn *c, const struct tcp_opts *o,
			uint16_t raw_wnd);

/* tcp_cc.c */
void tcp_cc_init(struct tcp_conn *c);
void tcp_cc_loss(struct tcp_conn *c, bool timeout);
void tcp_cc_ack_open(struct tcp_conn *c, uint32_t acked);

/* tcp_syncookie.c */
void tcp_syncookie_send(struct net_lcore *nl, uint16_t port,
			struct tcp_listener *l, const struct tcp_key *k,
			const struct rte_tcp_hdr *th,
			const struct tcp_opts *o, uint32_t seq);
/* A connection rebuilt from a valid cookie in the ACK, or NULL. */
struct tcp_conn *tcp_syncookie_check(struct net_lcore *nl, uint16_t port,
				     struct tcp_listener *l,
				     const struct tcp_key *k,
				     const struct rte_tcp_hdr *th,
				     const struct tcp_opts *o, uint32_t seq,
				     uint32_t ack);

/* tcp_output.c */
int tcp_output(struct tcp_conn *c);
int tcp_send_ack(struct tcp_conn *c);
int tcp_send_syn(struct tcp_conn *c);           /* SYN or SYN-ACK */
void tcp_retransmit_una(struct tcp_conn *c);
/* Resend [seq, seq + len) (len <= MSS), with the FIN if it ends there. */
void tcp_retransmit_range(struct tcp_conn *c, uint32_t seq, uint32_t len);
/* First hole at or after `from` below the highest SACKed byte. */
bool tcp_next_hole(const struct tcp_conn *c, uint32_t from, uint32_t *start,
		   uint32_t *len);
void tcp_send_probe(struct tcp_conn *c);        /* seq snd_una-1, no data */
/* RST in answer to segment (th, len) that has no connection. */
void tcp_send_reset(struct net_lcore *nl, uint16_t port,
		    const struct rte_ipv4_hdr *ip, const struct rte_tcp_hdr *th,
		    uint32_t seg_len);
void tcp_send_rst_conn(struct tcp_conn *c);
uint32_t tcp_rcv_window(const struct tcp_conn *c);
void tcp_sndq_ack(struct tcp_conn *c, uint32_t acked);

/* tcp_timer.c */
void tcp_timer_arm(struct tcp_stack *ts, struct tcp_conn *c,
		   enum tcp_timer_kind k, uint32_t after_ms);
void tcp_timer_cancel(struct tcp_stack *ts, struct tcp_conn *c,
		      enum tcp_timer_kind k);
void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_ms);
void tcp_arm_rtx(struct tcp_conn *c);

static inline uint64_t
tcp_now(const struct tcp_conn *c)
{
	return tcp_stack(c->nl)->now_ms;
}

/* Bytes of SACK option the next segment carries (tcp_write_opts). */
static inline uint32_t
tcp_sack_opt_len(const struct tcp_conn *c)
{
	unsigned int room, nb;

	if (c->nb_sack_out == 0)
		return 0;
	room = (40 - ((c->flags & TCPF_TS) ? 12 : 0) - 4) / 8;
	nb = c->nb_sack_out < room ? c->nb_sack_out : room;
	return 4 + 8 * nb;
}

/* Payload of a full segment now: the MSS less the options it carries
 * beyond the fixed ones (RFC 6691), or SACK blocks would push the frame
 * past the MTU. */
static inline uint32_t
tcp_seg_size(const struct tcp_conn *c)
{
	return c->mss - tcp_sack_opt_len(c);
}

static inline uint32_t
tcp_in_flight(const struct tcp_conn *c)
{
	return c->snd_nxt - c->snd_una;
}

#endif /* RAMPART_NET_TCP_IMPL_H */

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Crafted TCP segments against the dataplane, with their replies checked.

Run inside the viewer namespace by test_tcp_crafted.sh and
test_tcp_synflood.sh. Segments are built here (scapy for the Ethernet and
IPv4 layers, the TCP header by hand so that any field can be wrong) and
sent as raw frames on an AF_PACKET socket at the dataplane's MAC, as
malformed.py does; replies are read from a second AF_PACKET socket. The
viewer's kernel never sees the replies to our ports: the test drops them in
its input hook (otherwise it would answer the dataplane's SYN-ACKs with
RSTs), so the source ports used here stay within --port-lo..--port-hi.

One group of checks per run (the first argument). Output, one per line:

    pass TEXT               a check on the wire that held
    fail TEXT               one that did not, with what was seen
    expect NAMES OP N       the dataplane counters NAMES (a+b) must have
                            moved by OP N (a test(1) operator) in this run
    info TEXT               for the log
"""

import argparse
import logging
import random
import select
import socket
import struct
import sys
import time

# Quiet scapy's start-up chatter about interfaces it cannot use.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.layers.inet import IP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import checksum  # noqa: E402

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

FLAG_NAMES = [(SYN, "S"), (FIN, "F"), (RST, "R"), (PSH, "P"), (ACK, ".")]


def flag_str(f):
    return "".join(n for b, n in FLAG_NAMES if f & b) or "none"


def u32(x):
    return x & 0xFFFFFFFF


# ------------------------------------------------------------ options

def opt_mss(v):
    return struct.pack("!BBH", 2, 4, v)


def opt_ws(v):
    return struct.pack("!BBBB", 1, 3, 3, v)          # NOP + wscale


def opt_sack_perm():
    return b"\x01\x01\x04\x02"                        # NOP NOP SACK-permitted


def opt_ts(val, ecr):
    return b"\x01\x01" + struct.pack("!BBII", 8, 10, u32(val), u32(ecr))


def parse_opts(b):
    o = {}
    i = 0
    while i < len(b):
        k = b[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(b) or b[i + 1] < 2:
            o["malformed"] = True
            break
        n = b[i + 1]
        v = b[i + 2:i + n]
        if k == 2 and n == 4:
            o["mss"] = struct.unpack("!H", v)[0]
        elif k == 3 and n == 3:
            o["ws"] = v[0]
        elif k == 4 and n == 2:
            o["sack_perm"] = True
        elif k == 5 and (n - 2) % 8 == 0:
            o["sack"] = [struct.unpack("!II", v[j:j + 8]) for j in range(0, n - 2, 8)]
        elif k == 8 and n == 10:
            o["ts"] = struct.unpack("!II", v)
        i += n
    return o


# ------------------------------------------------------------ segments

class Seg:
    """A TCP segment the dataplane sent."""

    def __init__(self, src, dst, tcp, t):
        (self.sport, self.dport, self.seq, self.ack, off, self.flags,
         self.win, self.csum, _) = struct.unpack("!HHIIBBHHH", tcp[:20])
        self.src, self.dst, self.time = src, dst, t
        doff = (off >> 4) * 4
        self.opts = parse_opts(tcp[20:doff])
        self.payload = tcp[doff:]

    def __repr__(self):
        return "%s:%d > %s:%d [%s] seq %d ack %d win %d len %d%s" % (
            self.src, self.sport, self.dst, self.dport, flag_str(self.flags),
            self.seq, self.ack, self.win, len(self.payload),
            " opts %s" % self.opts if self.opts else "")


def tcp_segment(src, dst, sport, dport, seq, ack, flags, win=65535, opts=b"",
                payload=b"", doff=None, csum=None, bad_csum=False):
    """TCP header + payload as bytes. opts are used as given (pad them);
    doff defaults to the real header length; the checksum is computed
    unless given, and flipped when bad_csum."""
    if doff is None:
        doff = (20 + len(opts)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, u32(seq), u32(ack),
                      (doff & 15) << 4, flags, win, 0, 0) + opts + payload
    if csum is None:
        ph = (socket.inet_aton(src) + socket.inet_aton(dst) +
              struct.pack("!BBH", 0, 6, len(seg)))
        csum = checksum(ph + seg)
        if bad_csum:
            csum ^= 0x5A5A
    return seg[:16] + struct.pack("!H", csum) + seg[18:]


class Wire:
    """Raw frames out, the dataplane's TCP segments in."""

    def __init__(self, a):
        self.a = a
        self.rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        self.rx.bind((a.iface, ETH_P_IP))
        self.tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.tx.bind((a.iface, 0))
        self.eth = bytes(Ether(dst=a.dst_mac, src=a.src_mac, type=ETH_P_IP))
        self.pending = []
        self.ports = list(range(a.port_lo, a.port_hi + 1))
        random.shuffle(self.ports)
        self.ip_id = random.getrandbits(16)

    def new_port(self):
        return self.ports.pop()

    def frame(self, tcp, ip_payload=None):
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        ip = IP(src=self.a.src_ip, dst=self.a.dst_ip, proto=6, ttl=64, id=self.ip_id)
        return self.eth + bytes(ip / Raw(tcp if ip_payload is None else ip_payload))

    def send_raw(self, frame):
        self.tx.send(frame)

    def send(self, *args, **kw):
        self.send_raw(self.frame(tcp_segment(self.a.src_ip, self.a.dst_ip, *args, **kw)))

    def _read(self, timeout):
        r, _, _ = select.select([self.rx], [], [], max(timeout, 0))
        if not r:
            return
        now = time.monotonic()
        while True:
            try:
                data, addr = self.rx.recvfrom(65535, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            if addr[2] == PACKET_OUTGOING or len(data) < 34:
                continue
            ip = data[14:]
            if ip[9] != 6:
                continue
            ihl = (ip[0] & 15) * 4
            tot = struct.unpack("!H", ip[2:4])[0]
            src = socket.inet_ntoa(ip[12:16])
            if src != self.a.dst_ip:
                continue
            self.pending.append(Seg(src, socket.inet_ntoa(ip[16:20]), ip[ihl:tot], now))

    def wait(self, pred, timeout=1.0):
        """The first segment matching pred (consumed), or None."""
        deadline = time.monotonic() + timeout
        while True:
            for i, s in enumerate(self.pending):
                if pred(s):
                    del self.pending[i]
                    return s
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._read(left)

    def collect(self, pred, duration):
        """Every segment matching pred within duration (consumed)."""
        deadline = time.monotonic() + duration
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._read(left)
        got = [s for s in self.pending if pred(s)]
        self.pending = [s for s in self.pending if not pred(s)]
        return got

    def settle(self, duration=0.1):
        """Let in-flight replies arrive, then forget them."""
        self.collect(lambda s: True, duration)


# ------------------------------------------------------------ a connection

class Conn:
    """Our side of one connection, kept by hand."""

    def __init__(self, w, dport, mss=1000, sack=True, ts=True, syn_opts=None):
        self.w = w
        self.dport = dport
        self.sport = w.new_port()
        self.isn = random.getrandbits(32)
        self.snd_nxt = self.isn
        self.rcv_nxt = 0
        self.mss, self.sack, self.ts = mss, sack, ts
        self.syn_opts = syn_opts
        self.ts_val = random.getrandbits(31)
        self.ts_recent = 0
        self.peer_win = 0
        self.peer_mss = None

    def name(self):
        return "%s:%d" % (self.w.a.src_ip, self.sport)

    def mine(self, s):
        return s.sport == self.dport and s.dport == self.sport

    def opts(self):
        if not self.ts:
            return b""
        self.ts_val += 1
        return opt_ts(self.ts_val, self.ts_recent)

    def send(self, flags, payload=b"", seq=None, ack=None, opts=None, advance=True, **kw):
        if seq is None:
            seq = self.snd_nxt
        if ack is None:
            ack = self.rcv_nxt if flags & ACK else 0
        self.w.send(self.sport, self.dport, seq, ack, flags,
                    opts=self.opts() if opts is None else opts, payload=payload, **kw)
        if advance and seq == self.snd_nxt:
            self.snd_nxt = u32(seq + len(payload) + (1 if flags & (SYN | FIN) else 0))

    def note(self, s):
        if "ts" in s.opts:
            self.ts_recent = s.opts["ts"][0]
        self.peer_win = s.win

    def handshake(self):
        """Returns the SYN-ACK, or an error string."""
        if self.syn_opts is not None:
            o = self.syn_opts
        else:
            o = opt_mss(self.mss)
            if self.sack:
                o += opt_sack_perm()
            if self.ts:
                o += opt_ts(self.ts_val, 0)
        self.send(SYN, opts=o)
        sa = self.w.wait(lambda s: self.mine(s) and s.flags & SYN, 1.0)
        if sa is None:
            return "no SYN-ACK within 1 s"
        if sa.flags & (SYN | ACK | RST | FIN) != SYN | ACK or sa.ack != self.snd_nxt:
            return "bad SYN-ACK: %r (want ack %d)" % (sa, self.snd_nxt)
        self.rcv_nxt = u32(sa.seq + 1)
        self.peer_mss = sa.opts.get("mss")
        self.note(sa)
        self.send(ACK)
        return sa

    def receive(self, nbytes, timeout=2.0, until_fin=False):
        """Collect nbytes of in-order data from the dataplane, ACKing as
        it arrives. Returns (data, segments, fin_seen)."""
        data = b""
        segs = []
        fin = False
        ooo = {}
        deadline = time.monotonic() + timeout
        while len(data) < nbytes or (until_fin and not fin):
            s = self.w.wait(lambda s: self.mine(s), deadline - time.monotonic())
            if s is None:
                break
            segs.append(s)
            self.note(s)
            if s.payload or s.flags & FIN:
                ooo[s.seq] = s
                while self.rcv_nxt in ooo:
                    q = ooo.pop(self.rcv_nxt)
                    data += q.payload
                    self.rcv_nxt = u32(self.rcv_nxt + len(q.payload))
                    if q.flags & FIN:
                        fin = True
                        self.rcv_nxt = u32(self.rcv_nxt + 1)
                self.send(ACK)
        return data, segs, fin

    def echo(self, payload, timeout=2.0):
        """Send payload, read the echo; returns an error string or None."""
        self.send(PSH | ACK, payload)
        got, _, _ = self.receive(len(payload), timeout)
        if got != payload:
            return "sent %d bytes, %d came back%s" % (
                len(payload), len(got), "" if len(got) != len(payload) else " (different)")
        return None


# ------------------------------------------------------------ reporting

class Report:
    def __init__(self):
        self.failed = 0

    def ok(self, msg):
        print("pass " + msg, flush=True)

    def fail(self, msg):
        print("fail " + msg, flush=True)
        self.failed += 1

    def check(self, cond, msg, why=""):
        if cond:
            self.ok(msg)
        else:
            self.fail(msg + (": " + why if why else ""))
        return cond

    @staticmethod
    def expect(names, op, n):
        print("expect %s %s %d" % (names, op, n), flush=True)

    @staticmethod
    def info(msg):
        print("info " + msg, flush=True)


def still_works(r, c, what):
    err = c.echo(b"still there? " + what.encode())
    r.check(err is None, "connection still echoes after %s" % what, err or "")


# ------------------------------------------------------------ groups

def group_malformed(w, r, a):
    """Segments that must be dropped before any state is touched."""
    echo = a.echo_port
    ports = []

    def syn(desc, **kw):
        p = w.new_port()
        ports.append((p, desc))
        w.send(p, kw.pop("dport", echo), random.getrandbits(32), 0, SYN,
               opts=kw.pop("opts", opt_mss(1460)), **kw)

    for _ in range(5):
        syn("SYN with a bad checksum", bad_csum=True)
    syn("SYN with a bad checksum to a closed port", dport=a.closed_port, bad_csum=True)
    r.expect("tcp_bad_checksum", "-eq", 6)

    for d in range(5):
        syn("SYN with data offset %d" % d, opts=b"", doff=d)
    syn("SYN with data offset 15 in a 20-byte segment", opts=b"", doff=15)
    syn("SYN with data offset 6 in a 20-byte segment", opts=b"", doff=6)
    # Offset 15 (60 bytes) over a 24-byte header + 10 bytes of payload.
    syn("SYN with data offset 15 past header and payload", opts=opt_mss(1460),
        doff=15, payload=b"0123456789")
    r.expect("tcp_bad_offset", "-eq", 8)

    bad_opts = [
        ("MSS option of length 0", b"\x02\x00\x05\xb4"),
        ("timestamp option of length 1", b"\x08\x01\x01\x01"),
        ("MSS option of length 40 in 4 bytes", b"\x02\x28\x05\xb4"),
        ("option kind with no length byte at the end", b"\x01\x01\x01\x02"),
        ("unknown option of length 10 in 4 bytes", b"\x63\x0a\x00\x00"),
        ("SACK option of length 255 in 8 bytes", b"\x01\x01\x05\xff\x00\x00\x00\x00"),
    ]
    for desc, o in bad_opts:
        syn("SYN with " + desc, opts=o)
    r.expect("tcp_bad_options", "-eq", len(bad_opts))

    # Shorter than a TCP header: IP carries 8 and 19 bytes of it.
    for n in (8, 19):
        p = w.new_port()
        ports.append((p, "TCP segment of %d bytes" % n))
        tcp = tcp_segment(a.src_ip, a.dst_ip, p, echo, 1, 0, SYN)
        w.send_raw(w.frame(None, ip_payload=tcp[:n]))
    r.expect("tcp_short", "-eq", 2)

    got = w.collect(lambda s: any(s.dport == p for p, _ in ports), 0.5)
    for p, desc in ports:
        replies = [s for s in got if s.dport == p]
        r.check(not replies, "%s: dropped, no reply" % desc,
                "got %s" % "; ".join(map(repr, replies)))
    r.expect("tcp_passive_opens", "-eq", 1)   # the one valid SYN below
    r.expect("tcp_resets_out", "-eq", 0)

    # A known option with the wrong length but within the header is
    # ignored (as Linux does), not fatal: the SYN opens a connection, and
    # without a usable MSS option the dataplane must fall back to 536.
    c = Conn(w, echo, sack=False, ts=False, syn_opts=b"\x02\x03\x05\x01")
    sa = c.handshake()
    if r.check(not isinstance(sa, str),
               "SYN with an MSS option of length 3 (ignored) is answered", str(sa)):
        payload = bytes(random.getrandbits(8) for _ in range(3000))
        c.send(PSH | ACK, payload[:1000])
        c.send(PSH | ACK, payload[1000:2000])
        c.send(PSH | ACK, payload[2000:])
        got, segs, _ = c.receive(len(payload))
        biggest = max([len(s.payload) for s in segs] or [0])
        r.check(got == payload, "its connection echoes 3000 bytes",
                "%d bytes came back" % len(got))
        r.check(0 < biggest <= 536, "the dataplane used the default MSS 536 "
                "(largest segment %d bytes)" % biggest)
        c.send(RST)
        r.expect("tcp_resets_in", "-eq", 1)


def group_closed(w, r, a):
    """RFC 9293 3.10.7.1: segments for no connection get a reset."""
    closed, echo = a.closed_port, a.echo_port
    n_reset = 0

    def probe(desc, dport, flags, payload=b"", ack=0):
        nonlocal n_reset
        p = w.new_port()
        seq = random.getrandbits(32)
        w.send(p, dport, seq, ack, flags, payload=payload)
        rst = w.wait(lambda s: s.dport == p, 1.0)
        seg_len = len(payload) + (1 if flags & SYN else 0) + (1 if flags & FIN else 0)
        if flags & RST:
            r.check(rst is None, "%s: no reply (a reset is never answered)" % desc,
                    "got %r" % rst)
            return
        n_reset += 1
        if rst is None:
            r.fail("%s: no reset within 1 s" % desc)
            return
        if flags & ACK:
            want = "RST seq %d (its ack), no ACK flag" % ack
            good = rst.flags == RST and rst.seq == ack
        else:
            want = "RST+ACK seq 0 ack %d (seq + %d)" % (u32(seq + seg_len), seg_len)
            good = (rst.flags == RST | ACK and rst.ack == u32(seq + seg_len)
                    and rst.seq == 0)
        r.check(good, "%s: %s" % (desc, want), "got %r" % rst)

    probe("SYN to closed port %d" % closed, closed, SYN)
    probe("SYN with 10 bytes of data to closed port %d" % closed, closed, SYN,
          payload=b"0123456789")
    probe("ACK to closed port %d" % closed, closed, ACK, ack=random.getrandbits(32))
    probe("FIN+ACK with 5 bytes to closed port %d" % closed, closed, FIN | ACK | PSH,
          payload=b"hello", ack=random.getrandbits(32))
    probe("segment with no flags and 4 bytes to closed port %d" % closed, closed, 0,
          payload=b"abcd")
    probe("FIN without ACK to closed port %d" % closed, closed, FIN)
    probe("ACK with data to the echo port, no connection", echo, ACK | PSH,
          payload=b"stray", ack=random.getrandbits(32))
    probe("SYN+ACK to the echo port, no connection", echo, SYN | ACK,
          ack=random.getrandbits(32))
    probe("RST to closed port %d" % closed, closed, RST)
    probe("RST+ACK to closed port %d" % closed, closed, RST | ACK, ack=random.getrandbits(32))
    probe("RST to the echo port, no connection", echo, RST)
    r.expect("tcp_no_listener", "-eq", n_reset)
    r.expect("tcp_resets_out", "-eq", n_reset)
    r.expect("tcp_passive_opens", "-eq", 0)


def group_established(w, r, a):
    """RFC 5961 and RFC 9293 acceptance checks on a connection made here."""
    c = Conn(w, a.echo_port, mss=1000, sack=True, ts=True)
    sa = c.handshake()
    if isinstance(sa, str):
        r.fail("handshake with the echo port: " + sa)
        return
    r.ok("handshake %s -> echo: SYN-ACK %r" % (c.name(), sa))
    r.check(sa.opts.get("mss") == 1460 and sa.opts.get("sack_perm") and "ts" in sa.opts
            and "ws" not in sa.opts,
            "SYN-ACK offers MSS 1460, SACK and timestamps, and no window scale "
            "(none was offered)", "options %s" % sa.opts)
    err = c.echo(b"hello, dataplane")
    r.check(err is None, "echo of 16 bytes", err or "")
    expect = {"tcp_out_of_window": 0, "tcp_challenge_acks": 0, "tcp_paws_drops": 0,
              "tcp_ack_unsent": 0, "tcp_bad_checksum": 0, "tcp_ooo_segments": 0,
              "tcp_dup_segments": 0}

    def quiet(what, duration=0.3):
        got = w.collect(c.mine, duration)
        r.check(not got, "%s: no reply" % what, "got %s" % "; ".join(map(repr, got)))

    def ack_back(what, timeout=1.0):
        s = w.wait(lambda s: c.mine(s) and s.flags & (SYN | FIN | RST) == 0, timeout)
        good = (s is not None and s.flags & ACK and not s.payload
                and s.ack == c.snd_nxt and s.seq == c.rcv_nxt)
        r.check(good, "%s: answered by an ACK (seq %d ack %d)" % (what, c.rcv_nxt, c.snd_nxt),
                "got %r" % s)
        if s is not None:
            c.note(s)
        return s

    # RFC 5961 3.2: a RST outside the window is dropped silently.
    w.settle()
    c.send(RST, seq=u32(c.snd_nxt + 200000), advance=False)
    quiet("RST 200000 bytes beyond RCV.NXT")
    expect["tcp_out_of_window"] += 1
    still_works(r, c, "an out-of-window RST")

    # In the window but not exactly RCV.NXT: a challenge ACK, no reset.
    w.settle()
    c.send(RST, seq=u32(c.snd_nxt + 1), advance=False)
    ack_back("RST at RCV.NXT + 1 (challenge ACK)")
    expect["tcp_challenge_acks"] += 1
    w.settle()
    c.send(RST | ACK, seq=u32(c.snd_nxt + 30000), advance=False)
    ack_back("RST+ACK at RCV.NXT + 30000 (challenge ACK)")
    expect["tcp_challenge_acks"] += 1
    still_works(r, c, "two in-window RSTs")

    # RFC 5961 4.2: a SYN on a synchronized connection gets a challenge ACK.
    w.settle()
    c.send(SYN, seq=c.snd_nxt, advance=False, opts=opt_mss(1000) + c.opts())
    ack_back("SYN at RCV.NXT on the established connection (challenge ACK)")
    expect["tcp_challenge_acks"] += 1
    w.settle()
    c.send(SYN, seq=u32(c.snd_nxt - 5000000), advance=False, opts=opt_mss(1000) + c.opts())
    ack_back("SYN with an old sequence number on the established connection")
    expect["tcp_out_of_window"] += 1
    still_works(r, c, "two SYNs")

    # Data beyond the advertised window: not delivered, answered by an ACK.
    w.settle()
    wnd = c.peer_win
    c.send(PSH | ACK, b"X" * 100, seq=u32(c.snd_nxt + wnd + 1000), advance=False)
    ack_back("100 bytes at RCV.NXT + window (%d) + 1000" % wnd)
    expect["tcp_out_of_window"] += 1
    still_works(r, c, "data beyond the window (and none of it was echoed)")

    # Old data again (a duplicate): ACKed, not delivered twice.
    payload = b"0123456789" * 10
    err = c.echo(payload)
    r.check(err is None, "echo of 100 bytes", err or "")
    w.settle()
    c.send(PSH | ACK, payload, seq=u32(c.snd_nxt - 100), advance=False)
    ack_back("the same 100 bytes again (a duplicate)")
    expect["tcp_dup_segments"] += 1     # entirely old data: a duplicate
    # Overlapping: 50 old bytes and 50 new ones; only the new ones count.
    w.settle()
    new = b"N" * 50
    c.send(PSH | ACK, payload[50:] + new, seq=u32(c.snd_nxt - 50), advance=False)
    c.snd_nxt = u32(c.snd_nxt + 50)
    got, _, _ = c.receive(50)
    extra = w.collect(lambda s: c.mine(s) and s.payload, 0.3)
    r.check(got == new and not extra,
            "a segment of 50 old and 50 new bytes: only the 50 new ones are echoed",
            "got %r then %d more segments" % (got[:60], len(extra)))

    # Out of order: held, SACKed, delivered once the hole fills.
    w.settle()
    hole, later = b"h" * 500, b"L" * 100
    base = c.snd_nxt
    c.send(PSH | ACK, later, seq=u32(base + 500), advance=False)
    s = w.wait(lambda s: c.mine(s) and not s.payload, 1.0)
    blocks = s.opts.get("sack", []) if s else []
    r.check(s is not None and s.ack == base and (u32(base + 500), u32(base + 600)) in blocks,
            "100 bytes after a 500-byte hole: ACK %d with SACK block %d-%d" % (
                base, u32(base + 500), u32(base + 600)), "got %r" % s)
    expect["tcp_ooo_segments"] += 1
    c.send(PSH | ACK, hole, seq=base, advance=False)
    c.snd_nxt = u32(base + 600)
    got, _, _ = c.receive(600)
    r.check(got == hole + later, "the hole filled: 600 bytes echoed in order",
            "got %d bytes" % len(got))

    # An ACK for data the dataplane never sent: an ACK back, nothing else.
    w.settle()
    c.send(ACK, ack=u32(c.rcv_nxt + 100000), advance=False)
    ack_back("ACK for 100000 bytes never sent")
    expect["tcp_ack_unsent"] += 1
    still_works(r, c, "an ACK of unsent data")

    # PAWS (RFC 7323 5): an older timestamp means an old duplicate.
    w.settle()
    old_ts = opt_ts(c.ts_val - 100000, c.ts_recent)
    c.send(PSH | ACK, b"stale", opts=old_ts, advance=False)
    ack_back("5 bytes with a timestamp older than the last one (PAWS)")
    expect["tcp_paws_drops"] += 1
    still_works(r, c, "a PAWS-rejected segment (the stale bytes were not echoed)")

    # A bad checksum on the connection: dropped, nothing echoed.
    w.settle()
    c.send(PSH | ACK, b"corrupt", bad_csum=True, advance=False)
    quiet("7 bytes with a bad checksum on the connection")
    expect["tcp_bad_checksum"] += 1
    still_works(r, c, "a segment with a bad checksum")

    # Finally an exact RST: the connection is gone.
    w.settle()
    c.send(RST)
    quiet("RST at exactly RCV.NXT")
    c.send(PSH | ACK, b"anyone?", advance=False)
    s = w.wait(c.mine, 1.0)
    r.check(s is not None and s.flags == RST and s.seq == c.rcv_nxt,
            "after the exact RST the connection is gone: data gets RST seq %d" % c.rcv_nxt,
            "got %r" % s)
    for k, v in sorted(expect.items()):
        r.expect(k, "-eq", v)
    r.expect("tcp_resets_in", "-eq", 1)
    r.expect("tcp_passive_opens", "-eq", 1)


def fin_after_rto(w, r, a, service):
    """The dataplane's FIN, lost and retransmitted by an RTO, then
    acknowledged by an ACK that covers it (the peer did get the first one):
    that ACK must complete the close, with no second FIN."""
    port = a.echo_port if service == "echo" else a.chargen_port
    # No SACK: no tail loss probe, so the first retransmission is the RTO.
    c = Conn(w, port, mss=1000, sack=False, ts=False)
    sa = c.handshake()
    if isinstance(sa, str):
        r.fail("%s: handshake: %s" % (service, sa))
        return
    first = c.rcv_nxt
    if service == "echo":
        # The client closes first: the dataplane goes LAST_ACK.
        payload = bytes(random.getrandbits(8) for _ in range(3000))
        c.send(PSH | ACK, payload[:1000])
        c.send(PSH | ACK, payload[1000:2000])
        c.send(FIN | PSH | ACK, payload[2000:])
        want = 3000
    else:
        # The dataplane closes first: FIN_WAIT_1.
        c.send(PSH | ACK, b"3000\n")
        want = 3000
    # Read the data and the FIN without acknowledging any of it.
    segs, fin_seq, deadline = [], None, time.monotonic() + 2
    while fin_seq is None and time.monotonic() < deadline:
        s = w.wait(c.mine, deadline - time.monotonic())
        if s is None:
            break
        segs.append(s)
        if s.flags & FIN:
            fin_seq = u32(s.seq + len(s.payload))
    if fin_seq is None or u32(fin_seq - first) != want:
        r.fail("%s: expected %d bytes then a FIN; got %s" % (service, want, segs))
        return
    r.ok("%s: %d bytes and a FIN at seq %d, not acknowledged" % (service, want, fin_seq))
    # Wait for the retransmission timeout to resend the first segment.
    t0 = time.monotonic()
    rtx = w.wait(lambda s: c.mine(s) and s.seq == first and s.payload, 5.0)
    if rtx is None:
        r.fail("%s: no retransmission of the first segment within 5 s" % service)
        return
    r.ok("%s: RTO after %.2f s: %r" % (service, time.monotonic() - t0, rtx))
    # Now acknowledge everything, the FIN included.
    c.rcv_nxt = u32(fin_seq + 1)
    c.send(ACK)
    later = w.collect(c.mine, 1.5)
    bad = [s for s in later if s.flags & FIN and u32(s.seq + len(s.payload)) != fin_seq]
    r.check(not bad, "%s: the ACK of seq %d (FIN included) ends the dataplane's sending: "
            "no FIN beyond seq %d" % (service, fin_seq + 1, fin_seq),
            "got %s" % "; ".join(map(repr, bad)))
    if service == "echo":
        r.expect("tcp_closed", "-eq", 1)      # LAST_ACK -> CLOSED on that ACK
    else:
        # FIN_WAIT_2 now: our FIN gets its ACK and TIME_WAIT follows.
        c.send(FIN | ACK)
        s = w.wait(lambda s: c.mine(s) and s.ack == c.snd_nxt, 1.0)
        r.check(s is not None and s.flags & ACK and not s.flags & (FIN | RST)
                and s.seq == u32(fin_seq + 1),
                "chargen: our FIN is acknowledged with seq %d" % (fin_seq + 1), "got %r" % s)
        # Counters are compared with the group's start: echo's close is
        # the only one; TIME_WAIT keeps the chargen connection.
        r.expect("tcp_closed", "-eq", 1)


def group_finrto(w, r, a):
    fin_after_rto(w, r, a, "echo")
    fin_after_rto(w, r, a, "chargen")
    r.expect("tcp_passive_opens", "-eq", 2)
    r.expect("tcp_rto", "-ge", 2)


def group_synflood(w, r, a):
    """SYNs from ports that never answer, at a fixed rate."""
    gap = 1.0 / a.pps if a.pps > 0 else 0
    t0 = time.monotonic()
    next_t = t0
    sent = 0
    frames = []
    span = a.port_hi - a.port_lo + 1
    ports = (random.sample(range(a.port_lo, a.port_hi + 1), a.count) if a.count <= span
             else [random.randint(a.port_lo, a.port_hi) for _ in range(a.count)])
    for p in ports:
        frames.append(w.frame(tcp_segment(a.src_ip, a.dst_ip, p, a.flood_port,
                                          random.getrandbits(32), 0, SYN,
                                          opts=opt_mss(1460) + opt_sack_perm())))
    for f in frames:
        w.send_raw(f)
        sent += 1
        next_t += gap
        d = next_t - time.monotonic()
        if d > 0:
            time.sleep(d)
    secs = time.monotonic() - t0
    synacks = w.collect(lambda s: s.flags & (SYN | ACK) == SYN | ACK, 0.5)
    r.info("sent %d SYNs to port %d in %.2f s; %d SYN-ACKs seen meanwhile" % (
        sent, a.flood_port, secs, len(synacks)))
    r.check(len(synacks) > 0, "the dataplane answered flood SYNs with SYN-ACKs (%d)" % len(synacks))
    print("sent %d" % sent, flush=True)


GROUPS = {
    "malformed": group_malformed,
    "closed": group_closed,
    "established": group_established,
    "finrto": group_finrto,
    "synflood": group_synflood,
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("group", choices=sorted(GROUPS))
    p.add_argument("--iface", required=True)
    p.add_argument("--src-mac", required=True)
    p.add_argument("--dst-mac", required=True)
    p.add_argument("--src-ip", default="192.0.2.1")
    p.add_argument("--dst-ip", default="192.0.2.10")
    p.add_argument("--echo-port", type=int, default=7)
    p.add_argument("--chargen-port", type=int, default=19)
    p.add_argument("--closed-port", type=int, default=9)
    p.add_argument("--port-lo", type=int, default=20000)
    p.add_argument("--port-hi", type=int, default=29999)
    p.add_argument("--flood-port", type=int, default=7)
    p.add_argument("--count", type=int, default=5000, help="synflood: SYNs")
    p.add_argument("--pps", type=float, default=2000, help="synflood: rate; 0 unpaced")
    p.add_argument("--seed", type=int, default=0, help="0: random")
    a = p.parse_args()
    random.seed(a.seed or None)
    w = Wire(a)
    r = Report()
    GROUPS[a.group](w, r, a)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A precise client for the dataplane's echo and chargen services.

Run inside the viewer namespace by the test_tcp_*.sh scripts, with the
kernel's TCP as the peer of the dataplane's. Standard library only.

    tcp_peer.py echo HOST PORT --size N [--conns M] [--parallel K] [--seed S]
        Each connection sends N seeded random bytes while reading the echo
        back at the same time, half-closes after the last byte (the client
        closes first) and reads until the dataplane's FIN. The bytes that
        come back must equal those sent: compared as they arrive, so a
        mismatch names its first offset, and as sha256 digests at the end.

    tcp_peer.py chargen HOST PORT --size N [--conns M] [--parallel K]
        Each connection sends "N\\n" and reads until the dataplane closes;
        byte i must be i mod 251 and exactly N bytes must arrive.

    tcp_peer.py request HOST PORT --send TEXT --expect-prefix TEXT
        Send TEXT (backslash escapes allowed), read until EOF, and check
        that the reply starts with the expected prefix.

M connections run K at a time (selectors, one thread). Every failure is
printed on its own line, naming the connection, the bytes moved each way
and what went wrong:

    FAIL conn 17: received 32768 of 65536 bytes, then EOF
    FAIL conn 3: byte 1234567 is 0x41, expected 0x9c
    FAIL conn 5: connect: [Errno 111] Connection refused
    FAIL conn 9: stalled 20 s: sent 1048576/1048576, received 524288/1048576

The last line is a summary ("ok ..." or "FAILED ..."); exit status 0 when
every connection succeeded, 1 otherwise, 2 on usage errors.
"""

import argparse
import codecs
import errno
import hashlib
import random
import selectors
import socket
import sys
import time

CHARGEN_MOD = 251
RECV_SIZE = 256 * 1024
SEND_SIZE = 256 * 1024
BLOCK = 64 * 1024


class Stream:
    """The seeded byte stream of one echo connection. Produced in fixed
    64 KiB blocks so the sender and the checker, reading it in different
    slices, see the same bytes."""

    def __init__(self, seed, total):
        self.rng = random.Random(seed)
        self.left = total
        self.buf = b""
        self.pos = 0

    def read(self, n):
        out = []
        while n > 0 and (self.pos < len(self.buf) or self.left > 0):
            if self.pos == len(self.buf):
                k = min(BLOCK, self.left)
                self.buf = self.rng.randbytes(k)
                self.pos = 0
                self.left -= k
            take = min(n, len(self.buf) - self.pos)
            out.append(self.buf[self.pos:self.pos + take])
            self.pos += take
            n -= take
        return b"".join(out)


def chargen_pattern(size):
    reps = (size + 2 * CHARGEN_MOD) // CHARGEN_MOD
    return bytes(range(CHARGEN_MOD)) * reps


PATTERN = chargen_pattern(RECV_SIZE)


def first_diff(a, b):
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return i
    return min(len(a), len(b))


class Conn:
    def __init__(self, run, idx):
        self.run = run
        self.idx = idx
        self.sock = None
        self.error = None
        self.done = False
        self.connected = False
        self.tx_sent = 0
        self.tx_pending = b""
        self.tx_closed = False
        self.rx_got = 0
        self.rx_eof = False
        self.last_progress = time.monotonic()
        self.started = None
        a = run.a
        if a.mode == "echo":
            seed = (a.seed << 20) + idx
            self.tx_total = a.size
            self.tx_stream = Stream(seed, a.size)
            self.rx_stream = Stream(seed, a.size)
            self.rx_total = a.size
            self.tx_hash = hashlib.sha256()
            self.rx_hash = hashlib.sha256()
        elif a.mode == "chargen":
            self.tx_pending = b"%d\n" % a.size
            self.tx_total = len(self.tx_pending)
            self.rx_total = a.size
        else:
            self.tx_pending = a.send
            self.tx_total = len(a.send)
            self.rx_total = None
            self.reply = bytearray()

    def fail(self, msg):
        if self.error is None:
            self.error = msg
        self.finish()

    def finish(self):
        if self.done:
            return
        self.done = True
        if self.sock is not None:
            try:
                self.run.sel.unregister(self.sock)
            except (KeyError, ValueError):
                pass
            self.sock.close()
        self.run.finished(self)

    def start(self):
        a = self.run.a
        self.started = time.monotonic()
        self.last_progress = self.started
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as e:
            self.fail("socket: %s" % e)
            return
        self.sock = s
        s.setblocking(False)
        if a.bind:
            s.bind((a.bind, 0))
        rc = s.connect_ex((a.host, a.port))
        if rc not in (0, errno.EINPROGRESS):
            self.fail("connect: [Errno %d] %s" % (rc, errno.errorcode.get(rc, "?")))
            return
        self.run.sel.register(s, selectors.EVENT_WRITE, self)

    def progress(self):
        self.last_progress = time.monotonic()

    def update_events(self):
        ev = selectors.EVENT_READ
        if not self.tx_closed:
            ev |= selectors.EVENT_WRITE
        self.run.sel.modify(self.sock, ev, self)

    def on_event(self, mask):
        if not self.connected:
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.fail("connect: [Errno %d] %s" % (err, errno.errorcode.get(err, "?")))
                return
            self.connected = True
            self.progress()
            self.update_events()
            return
        if mask & selectors.EVENT_READ:
            self.on_read()
        if not self.done and mask & selectors.EVENT_WRITE and not self.tx_closed:
            self.on_write()

    def on_write(self):
        a = self.run.a
        while True:
            if not self.tx_pending and a.mode == "echo":
                self.tx_pending = self.tx_stream.read(SEND_SIZE)
                self.tx_hash.update(self.tx_pending)
            if not self.tx_pending:
                break
            try:
                n = self.sock.send(self.tx_pending)
            except BlockingIOError:
                return
            except OSError as e:
                self.fail("send after %d bytes sent, %d received: %s" %
                          (self.tx_sent, self.rx_got, e))
                return
            self.tx_pending = self.tx_pending[n:]
            self.tx_sent += n
            self.progress()
        # Everything is sent. Echo clients close first (half-close, then
        # read the rest); chargen and request clients wait for the server.
        if a.mode == "echo" or a.half_close:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError as e:
                self.fail("shutdown after %d bytes sent: %s" % (self.tx_sent, e))
                return
        self.tx_closed = True
        self.update_events()

    def on_read(self):
        while not self.done:
            try:
                data = self.sock.recv(RECV_SIZE)
            except BlockingIOError:
                return
            except OSError as e:
                self.fail("recv after %d bytes sent, %d received: %s" %
                          (self.tx_sent, self.rx_got, e))
                return
            if not data:
                self.on_eof()
                return
            self.progress()
            if not self.check(data):
                return

    def check(self, data):
        a = self.run.a
        off = self.rx_got
        self.rx_got += len(data)
        if a.mode == "request":
            self.reply += data
            if len(self.reply) > 65536:
                self.fail("reply longer than 64 KiB")
                return False
            return True
        if self.rx_got > self.rx_total:
            self.fail("received %d bytes, more than the %d expected" %
                      (self.rx_got, self.rx_total))
            return False
        if a.mode == "echo":
            want = self.rx_stream.read(len(data))
            self.rx_hash.update(data)
        else:
            s = off % CHARGEN_MOD
            want = PATTERN[s:s + len(data)]
        if data != want:
            i = first_diff(data, want)
            self.fail("byte %d is 0x%02x, expected 0x%02x (%d bytes received so far)" %
                      (off + i, data[i], want[i], self.rx_got))
            return False
        return True

    def on_eof(self):
        a = self.run.a
        self.rx_eof = True
        if a.mode == "request":
            if not self.reply.startswith(a.expect_prefix):
                self.fail("reply %r does not start with %r" %
                          (bytes(self.reply[:200]), a.expect_prefix))
                return
            self.finish()
            return
        if self.rx_got != self.rx_total:
            self.fail("received %d of %d bytes, then EOF (sent %d of %d)" %
                      (self.rx_got, self.rx_total, self.tx_sent, self.tx_total))
            return
        if not self.tx_closed:
            self.fail("EOF before the request was sent (%d of %d bytes sent)" %
                      (self.tx_sent, self.tx_total))
            return
        if a.mode == "echo":
            tx, rx = self.tx_hash.hexdigest(), self.rx_hash.hexdigest()
            if tx != rx:
                self.fail("sha256 of sent %s != received %s" % (tx, rx))
                return
            if a.verbose:
                print("conn %d: sha256 %s both ways (%d bytes)" % (self.idx, tx, self.tx_sent))
        self.finish()

    def stall_report(self):
        return ("stalled %.0f s: %s, sent %d/%d, received %d/%s" %
                (time.monotonic() - self.last_progress,
                 "connected" if self.connected else "connecting",
                 self.tx_sent, self.tx_total, self.rx_got,
                 "?" if self.rx_total is None else self.rx_total))


class Run:
    def __init__(self, a):
        self.a = a
        self.sel = selectors.DefaultSelector()
        self.next_idx = 0
        self.active = set()
        self.failures = []
        self.ok = 0
        self.bytes_rx = 0
        self.bytes_tx = 0

    def start_more(self):
        while len(self.active) < self.a.parallel and self.next_idx < self.a.conns:
            c = Conn(self, self.next_idx)
            self.next_idx += 1
            self.active.add(c)
            c.start()

    def finished(self, c):
        self.active.discard(c)
        self.bytes_rx += c.rx_got
        self.bytes_tx += c.tx_sent
        if c.error is not None:
            self.failures.append(c)
            print("FAIL conn %d: %s" % (c.idx, c.error), flush=True)
            if self.a.max_failures and len(self.failures) >= self.a.max_failures:
                return
        else:
            self.ok += 1

    def stop_early(self):
        return self.a.max_failures and len(self.failures) >= self.a.max_failures

    def loop(self):
        a = self.a
        t0 = time.monotonic()
        deadline = t0 + a.timeout
        self.start_more()
        while self.active:
            now = time.monotonic()
            if now >= deadline:
                for c in list(self.active):
                    c.fail("time limit %.0f s reached: %s" % (a.timeout, c.stall_report()))
                break
            for key, mask in self.sel.select(timeout=0.5):
                key.data.on_event(mask)
            now = time.monotonic()
            for c in list(self.active):
                if now - c.last_progress > a.stall:
                    c.fail(c.stall_report())
            if self.stop_early():
                for c in list(self.active):
                    c.fail("not finished: stopping after %d failures" % len(self.failures))
                break
            self.start_more()
        return time.monotonic() - t0


def unescape(s):
    return codecs.escape_decode(s.encode())[0]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["echo", "chargen", "request"])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--size", type=int, default=0, help="bytes per connection")
    p.add_argument("--conns", type=int, default=1, help="connections in all")
    p.add_argument("--parallel", type=int, default=1, help="connections at a time")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--bind", default="", help="local address")
    p.add_argument("--half-close", action="store_true",
                   help="chargen/request: shut down writing after the request")
    p.add_argument("--timeout", type=float, default=120, help="whole run, seconds")
    p.add_argument("--stall", type=float, default=30,
                   help="fail a connection that moves no byte for this long")
    p.add_argument("--max-failures", type=int, default=20,
                   help="stop after this many failed connections (0: never)")
    p.add_argument("--send", default="", help="request: bytes to send")
    p.add_argument("--expect-prefix", default="", help="request: reply prefix")
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args()
    a.send = unescape(a.send)
    a.expect_prefix = unescape(a.expect_prefix)
    if a.parallel < 1 or a.conns < 1 or a.size < 0:
        p.error("--conns and --parallel must be >= 1, --size >= 0")

    r = Run(a)
    secs = r.loop()
    what = "%s %d conn(s) x %d bytes, %d at a time" % (a.mode, a.conns, a.size, a.parallel)
    moved = r.bytes_rx + r.bytes_tx
    rate = moved / secs / 1e6 if secs > 0 else 0.0
    if r.failures or r.ok != a.conns:
        print("FAILED %s: %d ok, %d failed, %d not run; %.2f s" %
              (what, r.ok, len(r.failures), a.conns - r.ok - len(r.failures), secs))
        return 1
    print("ok %s: sent %d, received %d bytes in %.2f s (%.1f MB/s both ways)" %
          (what, r.bytes_tx, r.bytes_rx, secs, rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())

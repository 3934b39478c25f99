#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A streaming HTTP/1.1 origin for the bulk-transfer test (test_http_bulk.sh).

    bulk_origin.py serve ADDR PORT   answer requests (prints "listening")
    bulk_origin.py gen SEED N        write stream(SEED, N) to stdout

Nothing is ever held whole: bodies go out and come in in pieces of at most
1 MiB, so a 1 GiB transfer costs the origin a few MiB.

  GET [/P]/cl/N?seed=S       200, Content-Length: N, the body stream(S, N)
  GET [/P]/chunked/N?seed=S  200, Transfer-Encoding: chunked, the same
                             bytes in chunks of varied sizes (1 B - 256 KiB)
  PUT|POST any               reads the body (Content-Length or chunked), at
                             most R bytes/s with ?rate=R (a slow origin),
                             and answers 200 "length: N\\nsha256: HEX\\n
                             framing: F\\n" (F: chunked or length)

stream(S, N): piece i (1 MiB) is a window of a 5 MiB pseudo-random block
(random.Random(S)) at an offset derived from SHA-256(S, i). Slicing copies
nothing, so the origin moves GB/s and is never the bottleneck; the pieces
differ, so a lost, repeated or reordered piece changes the digest.
"""
import hashlib
import http.server
import random
import socketserver
import sys
import time
import urllib.parse

PIECE = 1 << 20
_BASES = {}


def _base(seed):
    b = _BASES.get(seed)
    if b is None:
        b = memoryview(random.Random(seed).randbytes(5 * PIECE))
        _BASES[seed] = b
    return b


def stream(seed, n):
    """Yield stream(seed, n) as memoryviews of at most 1 MiB."""
    base = _base(seed)
    i = 0
    while n > 0:
        d = hashlib.sha256(("%s:%d" % (seed, i)).encode()).digest()
        off = int.from_bytes(d[:8], "big") % (4 * PIECE)
        k = min(n, PIECE)
        yield base[off:off + k]
        n -= k
        i += 1


def chunk_sizes(seed):
    rng = random.Random("chunks:%s" % seed)
    sizes = (1, 7, 100, 1000, 4096, 16384, 65536, 131072, 262144)
    while True:
        yield rng.choice(sizes)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bulk-origin"

    def log_message(self, fmt, *args):
        pass

    def head(self, extra):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        seed = q.get("seed", ["0"])[0]
        kind, n = (["", ""] + u.path.split("/"))[-2:]
        if kind not in ("cl", "chunked") or not n.isdigit():
            self.send_error(404)
            return
        n = int(n)
        w = self.connection
        if kind == "cl":
            self.head([("Content-Length", str(n))])
            for piece in stream(seed, n):
                w.sendall(piece)
            return
        self.head([("Transfer-Encoding", "chunked")])
        sizes = chunk_sizes(seed)
        for piece in stream(seed, n):
            while len(piece):
                k = min(next(sizes), len(piece))
                w.sendall(b"%x\r\n" % k)
                w.sendall(piece[:k])
                w.sendall(b"\r\n")
                piece = piece[k:]
        w.sendall(b"0\r\n\r\n")

    def chunked(self):
        return "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()

    def read_body(self, sink):
        r = self.rfile
        if self.chunked():
            while True:
                size = int(r.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while r.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                self.read_exact(size, sink)
                if r.readline() != b"\r\n":
                    raise ConnectionError("bad chunk framing")
        self.read_exact(int(self.headers.get("Content-Length") or 0), sink)

    def read_exact(self, left, sink):
        while left:
            b = self.rfile.read(min(left, PIECE))
            if not b:
                raise ConnectionError("body cut short")
            sink(b)
            left -= len(b)

    def do_PUT(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        rate = float(q.get("rate", ["0"])[0])
        h = hashlib.sha256()
        n = [0]
        t0 = time.monotonic()

        def sink(b):
            h.update(b)
            n[0] += len(b)
            if rate:
                ahead = n[0] / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        self.read_body(sink)
        body = ("length: %d\nsha256: %s\nframing: %s\n" % (
            n[0], h.hexdigest(),
            "chunked" if self.chunked() else "length")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "gen":
        out = sys.stdout.buffer
        for piece in stream(sys.argv[2], int(sys.argv[3])):
            out.write(piece)
        out.flush()
        return
    if len(sys.argv) != 4 or sys.argv[1] != "serve":
        sys.exit(__doc__)
    srv = Server((sys.argv[2], int(sys.argv[3])), Handler)
    print("listening", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()

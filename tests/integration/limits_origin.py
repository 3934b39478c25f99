#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""An HTTP/1.1 origin for the body-stall and connection-limit test
(test_http_limits.sh).

    limits_origin.py ADDR PORT [PORT...]

Listens on every PORT (one threaded server each) and prints "listening"
once all are bound. What it saw goes to stdout, one line per event, for
the test to read:

    conn PORT open N        a connection accepted; N now open on PORT
    conn PORT close N       a connection ended; N still open on PORT
    req PORT METHOD PATH    a request head read
    upload PORT GOT/WANT HOW  a request body ended: complete, eof or reset
    held PORT PATH HOW      a held connection ended: eof, reset or timeout

Answers keep the connection (HTTP/1.1, Content-Length) unless the path
says otherwise. The last path segment picks the answer, so a behaviour's
prefix (/lim1/slow) does not matter:

    slow?ms=M          200 "slow\\n" after M ms (default 1500)
    fast               200 "fast\\n"
    close              200 "close\\n", Connection: close, then closes
    hang               reads the head, never answers (held until the
                       peer closes)
    stallbody?len=L&sent=S
                       head with Content-Length L, S body bytes, then
                       nothing (held until the peer closes)
    big                head with Content-Length 1 GiB, then zeros as fast
                       as the peer takes them, until it goes
    drip?n=N&ms=M      head with Content-Length N, then one byte every M ms
    POST upload        reads the Content-Length body as it comes (the
                       bytes received are logged however it ends), then
                       200 "got N\\n"
"""
import http.server
import socketserver
import sys
import threading
import time
import urllib.parse

LOCK = threading.Lock()
OPEN = {}


def event(*words):
    with LOCK:
        print(*words, flush=True)


def conn_delta(port, d):
    with LOCK:
        OPEN[port] = OPEN.get(port, 0) + d
        print("conn", port, "open" if d > 0 else "close", OPEN[port],
              flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "limits-origin"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        self.port = self.server.server_address[1]
        conn_delta(self.port, +1)
        super().setup()

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        finally:
            conn_delta(self.port, -1)

    def answer(self, body, close=False):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def hold(self, what):
        """Wait until the peer closes or resets (60 s at most)."""
        c = self.connection
        c.settimeout(60)
        how = "timeout"
        try:
            while True:
                if not c.recv(65536):
                    how = "eof"
                    break
        except ConnectionResetError:
            how = "reset"
        except OSError:
            pass
        event("held", self.port, what, how)
        self.close_connection = True

    def route(self):
        u = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
        event("req", self.port, self.command, u.path)
        return u.path.rsplit("/", 1)[-1], q

    def do_GET(self):
        name, q = self.route()
        w = self.connection
        if name == "slow":
            time.sleep(int(q.get("ms", "1500")) / 1000)
            self.answer(b"slow\n")
        elif name == "fast":
            self.answer(b"fast\n")
        elif name == "close":
            self.answer(b"close\n", close=True)
        elif name == "hang":
            self.hold("hang")
        elif name == "stallbody":
            self.send_response(200)
            self.send_header("Content-Length", q.get("len", "1000000"))
            self.end_headers()
            self.wfile.flush()
            w.sendall(b"s" * int(q.get("sent", "1000")))
            self.hold("stallbody")
        elif name == "big":
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 30))
            self.end_headers()
            self.wfile.flush()
            piece = bytes(65536)
            try:
                for _ in range((1 << 30) // len(piece)):
                    w.sendall(piece)
            except OSError:
                pass
            event("held", self.port, "big", "gone")
            self.close_connection = True
        elif name == "drip":
            n = int(q.get("n", "10"))
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            self.wfile.flush()
            for _ in range(n):
                time.sleep(int(q.get("ms", "300")) / 1000)
                w.sendall(b"d")
        else:
            self.send_error(404)

    def do_POST(self):
        name, _ = self.route()
        if name != "upload":
            self.send_error(404)
            return
        want = int(self.headers.get("Content-Length") or 0)
        got = 0
        how = "complete"
        try:
            while got < want:
                b = self.rfile.read1(min(want - got, 65536))
                if not b:
                    how = "eof"
                    break
                got += len(b)
        except ConnectionResetError:
            how = "reset"
        except OSError:
            how = "eof"
        event("upload", self.port, "%d/%d" % (got, want), how)
        if how != "complete":
            self.close_connection = True
            return
        self.answer(b"got %d\n" % got)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        pass


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    servers = [Server((sys.argv[1], int(p)), Handler) for p in sys.argv[2:]]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("listening", flush=True)
    servers[0].serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small HTTP/1.1 origin for the TLS and HTTPS integration tests.

    echo_origin.py ADDR PORT

Every answer is 200 with keep-alive (HTTP/1.1, Content-Length):

  GET /blob/N     N bytes of a fixed pseudo-random pattern (blob_bytes
                  below; tests rebuild it to compare byte for byte)
  POST|PUT any    reads the request body (Content-Length or chunked) and
                  answers "length: N\\nsha256: HEX\\n"
  anything else   the TLS session facts the edge forwarded, one
                  "key: value" line each, as the TLS engine's former fixed
                  response had them:
                    distribution   X-Rampart-Distribution
                    protocol       X-Rampart-Viewer-TLS, first field
                    cipher         X-Rampart-Viewer-TLS, second field
                    resumed        yes (sessionResumed) / no
                    mtls           X-Client-Verify: SUCCESS ok, NONE none,
                                   FAILED failed, absent off
                    client_subject X-Client-Subject, or -
                    scheme         X-Forwarded-Proto
                    path           the request target
The process prints "listening" once the socket is bound.
"""
import hashlib
import http.server
import socketserver
import sys

BLOB_SEED = b"rampart-blob"


def blob_bytes(n):
    """The blob of n bytes: SHA-256 counter-mode stream of BLOB_SEED."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(BLOB_SEED + i.to_bytes(8, "big")).digest() * 64
        i += 1
    return bytes(out[:n])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "echo-origin"

    def log_message(self, fmt, *args):
        pass

    def answer(self, body, ctype="text/plain"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def facts(self):
        h = self.headers
        tls = (h.get("X-Rampart-Viewer-TLS") or "").split(":")
        verify = {"SUCCESS": "ok", "NONE": "none", "FAILED": "failed"}
        lines = [
            ("distribution", h.get("X-Rampart-Distribution") or "-"),
            ("protocol", tls[0] if len(tls) == 3 else "-"),
            ("cipher", tls[1] if len(tls) == 3 else "-"),
            ("resumed", {"sessionResumed": "yes", "fullHandshake": "no"}
             .get(tls[-1], "-")),
            ("mtls", verify.get(h.get("X-Client-Verify"), "off")),
            ("client_subject", h.get("X-Client-Subject") or "-"),
            ("scheme", h.get("X-Forwarded-Proto") or "-"),
            ("path", self.path),
        ]
        return "".join("%s: %s\n" % kv for kv in lines).encode()

    def do_GET(self):
        if self.path.startswith("/blob/"):
            self.answer(blob_bytes(int(self.path[6:].split("?")[0])),
                        "application/octet-stream")
        else:
            self.answer(self.facts())

    do_HEAD = do_GET

    def read_body(self, sink):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                left = size
                while left:
                    b = self.rfile.read(min(left, 65536))
                    if not b:
                        raise ConnectionError("body cut short")
                    sink(b)
                    left -= len(b)
                self.rfile.readline()
        left = int(self.headers.get("Content-Length") or 0)
        while left:
            b = self.rfile.read(min(left, 65536))
            if not b:
                raise ConnectionError("body cut short")
            sink(b)
            left -= len(b)

    def do_POST(self):
        h = hashlib.sha256()
        n = [0]

        def sink(b):
            h.update(b)
            n[0] += len(b)
        self.read_body(sink)
        self.answer(("length: %d\nsha256: %s\n" % (n[0], h.hexdigest()))
                    .encode())

    do_PUT = do_POST


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server((sys.argv[1], int(sys.argv[2])), Handler)
    print("listening", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()

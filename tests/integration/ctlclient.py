#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small client of the Rampart control protocol, for the tests.

A frame is the 12-byte header (magic "RMPC", version 1, flags 0, two zero
bytes, payload length as a big-endian u32) and a JSON object
(docs/CONTROL.md). Modes:

  ctlclient.py SOCK OP [KEY=VALUE ...]   one request; VALUE is parsed as
                                         JSON when it can be, else a string
  ctlclient.py SOCK --batch FILE|-       a JSON array of requests, sent one
                                         after the other on one connection
  ctlclient.py SOCK --raw HEX [--hold S] raw bytes (garbage, broken headers)

--repeat N [--interval S] sends the request N times on one connection (a
long-lived client, like the control plane's).

Output: each response as one line of JSON, or with --text as the
`name value` lines the integration tests read (lib.sh's dp_stats), or with
--expr the value of a Python expression over the response `r`.
In --raw mode: the response frame (or NO-RESPONSE), then CLOSED or OPEN
for whether the server closed the connection after it.

Exit status: 0 every response ok, 1 a response said ok:false (its error
on stderr), 3 cannot connect, protocol error or no response.
"""

import argparse
import json
import socket
import struct
import sys
import time

MAGIC = b"RMPC"
HDR = struct.Struct(">4sBBHI")


def frame(obj):
    body = json.dumps(obj, separators=(",", ":")).encode()
    return HDR.pack(MAGIC, 1, 0, 0, len(body)) + body


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def recv_frame(sock):
    hdr = recv_exact(sock, HDR.size)
    if hdr is None:
        return None
    magic, ver, flags, _, length = HDR.unpack(hdr)
    if magic != MAGIC or ver != 1 or flags != 0:
        raise ValueError("bad response header %r" % hdr)
    body = recv_exact(sock, length)
    if body is None:
        raise ValueError("response truncated")
    return json.loads(body)


def connect(path, timeout):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def parse_value(v):
    try:
        return json.loads(v)
    except ValueError:
        return v


# ------------------------------------------------------------ text rendering

def text_stats(r):
    """The `name value` lines of the former text protocol."""
    out = []
    for k, v in r.get("total", {}).items():
        out.append("%s %s" % (k, v))
    for p in r.get("ports", []):
        for q in p.get("queues", []):
            for k in ("rx_packets", "tx_packets", "tx_dropped"):
                out.append("port%d.q%d.%s %s" % (p["port"], q["queue"], k, q[k]))
        for k, v in p.get("device", {}).items():
            out.append("port%d.dev.%s %s" % (p["port"], k, v))
    for lc in r.get("lcores", []):
        for k, v in lc.get("counters", {}).items():
            out.append("lcore%d.%s %s" % (lc["lcore"], k, v))
    return out


def text_generic(r, prefix=""):
    """Scalars as `name value`; a list as its length, then its items under
    name.N (or portN./lcoreN. for port/lcore objects)."""
    out = []
    for k, v in r.items():
        name = prefix + k
        if isinstance(v, dict):
            out.extend(text_generic(v, name + "."))
        elif isinstance(v, list):
            out.append("%s %d" % (name, len(v)))
            for i, item in enumerate(v):
                if isinstance(item, dict):
                    if "port" in item:
                        sub = "%sport%s." % (prefix, item["port"])
                    elif "lcore" in item:
                        sub = "%slcore%s." % (prefix, item["lcore"])
                    else:
                        sub = "%s.%d." % (name, i)
                    out.extend(text_generic(item, sub))
                else:
                    out.append("%s.%d %s" % (name, i, json.dumps(item)))
        elif isinstance(v, bool):
            out.append("%s %s" % (name, "true" if v else "false"))
        else:
            out.append("%s %s" % (name, v))
    return out


def show(args, req, r):
    if args.expr:
        v = eval(args.expr, {"r": r, "len": len})  # test helper only
        print(v if not isinstance(v, (dict, list)) else json.dumps(v))
    elif args.text and r.get("ok"):
        lines = text_stats(r) if req.get("op") == "stats" else text_generic(r)
        print("\n".join(lines))
    else:
        print(json.dumps(r, separators=(",", ":")))
    if not r.get("ok"):
        print("error: %s" % r.get("error", "(no error sentence)"), file=sys.stderr)
        return 1
    return 0


# ------------------------------------------------------------ modes

def run_requests(args, reqs):
    try:
        s = connect(args.socket, args.timeout)
    except OSError as e:
        print("cannot connect to %s: %s" % (args.socket, e), file=sys.stderr)
        return 3
    rc = 0
    with s:
        for i, req in enumerate(reqs):
            if i and args.interval:
                time.sleep(args.interval)
            try:
                try:
                    s.sendall(frame(req))
                except OSError:
                    # A server refusing us answers once and closes at
                    # once; its answer still waits in our receive buffer.
                    pass
                r = recv_frame(s)
            except (OSError, ValueError) as e:
                print("protocol error: %s" % e, file=sys.stderr)
                return 3
            if r is None:
                print("the server closed the connection without a response",
                      file=sys.stderr)
                return 3
            rc = max(rc, show(args, req, r))
    return rc


def run_raw(args):
    data = bytes.fromhex(args.raw)
    try:
        s = connect(args.socket, args.timeout)
    except OSError as e:
        print("cannot connect to %s: %s" % (args.socket, e), file=sys.stderr)
        return 3
    with s:
        s.sendall(data)
        if args.hold:
            time.sleep(args.hold)
        try:
            r = recv_frame(s)
        except socket.timeout:
            r = None
        except (OSError, ValueError) as e:
            print("protocol error: %s" % e, file=sys.stderr)
            r = None
        print(json.dumps(r, separators=(",", ":")) if r is not None
              else "NO-RESPONSE")
        try:
            closed = s.recv(1) == b""
        except socket.timeout:
            closed = False
        except OSError:
            closed = True
        print("CLOSED" if closed else "OPEN")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("socket")
    ap.add_argument("op", nargs="?")
    ap.add_argument("args", nargs="*", metavar="KEY=VALUE")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--text", action="store_true")
    ap.add_argument("--expr")
    ap.add_argument("--batch", metavar="FILE")
    ap.add_argument("--raw", metavar="HEX")
    ap.add_argument("--hold", type=float, default=0.0,
                    help="seconds to wait after sending raw bytes")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--interval", type=float, default=0.0)
    args = ap.parse_args()

    if args.raw is not None:
        return run_raw(args)
    if args.batch is not None:
        f = sys.stdin if args.batch == "-" else open(args.batch)
        return run_requests(args, json.load(f))
    if not args.op:
        ap.error("give an OP, --batch or --raw")
    req = {"op": args.op}
    for kv in args.args:
        k, sep, v = kv.partition("=")
        if not sep:
            ap.error("argument %r is not KEY=VALUE" % kv)
        req[k] = parse_value(v)
    return run_requests(args, [req] * args.repeat)


if __name__ == "__main__":
    sys.exit(main())

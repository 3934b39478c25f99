#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Print the ARP frames arriving on an interface, one line each.

    arp op=OP eth_src=MAC eth_dst=MAC sha=MAC spa=IP tha=MAC tpa=IP

The socket is bound before --ready-file is created, so a test that waits for
that file knows nothing sent afterwards is missed. Stops after --timeout
seconds, or at the first gratuitous ARP for --until-garp.
"""

import argparse
import select
import socket
import struct
import sys
import time

ETH_P_ARP = 0x0806


def mac(b):
    return ":".join("%02x" % x for x in b)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iface", required=True)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--ready-file")
    p.add_argument("--until-garp", metavar="IP")
    a = p.parse_args()

    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    s.bind((a.iface, ETH_P_ARP))
    if a.ready_file:
        open(a.ready_file, "w").close()
    end = time.monotonic() + a.timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return 0
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        f, addr = s.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING or len(f) < 42:
            continue
        ht, pt, hl, pl, op = struct.unpack("!HHBBH", f[14:22])
        if (ht, pt, hl, pl) != (1, 0x0800, 6, 4):
            continue
        spa = socket.inet_ntoa(f[28:32])
        tpa = socket.inet_ntoa(f[38:42])
        print("arp op=%d eth_src=%s eth_dst=%s sha=%s spa=%s tha=%s tpa=%s" % (
            op, mac(f[6:12]), mac(f[0:6]), mac(f[22:28]), spa, mac(f[32:38]), tpa),
            flush=True)
        if a.until_garp and spa == a.until_garp and tpa == a.until_garp:
            return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send a seeded, bounded flood of malformed frames at the dataplane.

Run inside the viewer namespace by test_malformed.sh. Frames are built with
scapy but sent as raw bytes on a plain AF_PACKET socket: scapy's own L2
socket pads frames the kernel refuses (shorter than 14 bytes) to 60 bytes,
which would hide exactly what is being tested. The kernel does not touch a
frame sent this way (no checksum fix-up: offloads are off on the veth).

Each kind of frame names the counters it must raise. The script prints:

    sent KIND N            frames of KIND that reach the dataplane
    refused KIND N ERROR   frames of KIND the kernel would not send
    absorbed KIND N WHY    frames sent that the kernel keeps from the
                           dataplane (fragments: see below)
    expect NAME[+NAME] N   the sum of these counters must rise by >= N

The test compares the `expect` lines with the dataplane's stats. Kinds with
no counter of their own (random garbage) are only there to find crashes.
"""

import argparse
import errno
import logging
import random
import socket
import struct
import sys
import time

# Quiet scapy's start-up chatter about interfaces it cannot use.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.layers.inet import ICMP, IP  # noqa: E402
from scapy.layers.l2 import ARP, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import checksum  # noqa: E402

ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
IPPROTO_ICMP = 1

# Kinds whose frames may be counted as any of a family of IP length errors:
# which of IHL/length is "the" error depends on the order of the checks.
IP_LENGTH_FAMILY = "ip_short+ip_bad_ihl+ip_bad_length"


class Flood:
    def __init__(self, args, rng):
        self.a = args
        self.rng = rng
        self.frames = []  # (kind, bytes)
        self.expect = []  # (counter names, [kinds])

    # ------------------------------------------------------------ building

    def eth(self, etype, dst=None):
        return bytes(Ether(dst=dst or self.a.dst_mac, src=self.a.src_mac, type=etype))

    def payload(self, lo, hi):
        return bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(lo, hi)))

    def echo(self, data_len=None):
        """A valid ICMP echo request (bytes), checksum filled in."""
        if data_len is None:
            data_len = self.rng.randint(0, 64)
        return bytes(ICMP(type=8, code=0, id=self.rng.getrandbits(16),
                          seq=self.rng.getrandbits(16)) / Raw(self.payload(data_len, data_len)))

    def ipv4(self, l4, dst=None, **kw):
        """IPv4 header + l4 bytes. Fields left out are valid; the header
        checksum is computed over the header as built unless given."""
        fields = dict(src=self.a.src_ip, dst=dst or self.a.dst_ip, proto=IPPROTO_ICMP,
                      id=self.rng.getrandbits(16), ttl=64)
        fields.update(kw)
        return bytes(IP(**fields) / Raw(l4))

    def add(self, kind, frame):
        self.frames.append((kind, frame))

    def kinds(self, n, expect, kind, make):
        for _ in range(n):
            self.add(kind, make())
        if expect:
            self.expect.append((expect, [kind]))

    # ------------------------------------------------------------ the kinds

    def build(self):
        n = self.a.count
        r = self.rng

        # Shorter than an Ethernet header: a veth refuses to carry these
        # (dev_validate_header), so they are usually all "refused".
        self.kinds(n, "eth_short", "eth_short",
                   lambda: bytes.fromhex(self.a.dst_mac.replace(":", ""))[:r.randint(1, 6)] +
                   self.payload(0, 7))

        # IPv4 ethertype, fewer than 20 bytes of IP (runts down to 14 bytes).
        self.kinds(n, "ip_short", "ip_short",
                   lambda: self.eth(ETH_P_IP) + b"\x45" + self.payload(0, 18)
                   if r.random() < 0.9 else self.eth(ETH_P_IP))

        # Version other than 4 (mostly 6) in an IPv4 ethertype, header valid.
        self.kinds(n, "ip_bad_version", "ip_bad_version",
                   lambda: self.eth(ETH_P_IP) +
                   self.ipv4(self.echo(), version=6 if r.random() < 0.5 else
                             r.choice([0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15])))

        # IHL below 5.
        self.kinds(n, None, "ip_ihl_below_5",
                   lambda: self.eth(ETH_P_IP) + self.ipv4(self.echo(), ihl=r.randint(0, 4)))

        # IHL above the total length: the options are in the frame and the
        # checksum covers them, but total length ends inside the header.
        def ihl_over_len():
            ihl = r.randint(6, 15)
            return self.eth(ETH_P_IP) + self.ipv4(
                self.echo(), ihl=ihl, options=[b"\x01" * ((ihl - 5) * 4)],
                len=r.randint(20, ihl * 4 - 1))
        self.kinds(n, None, "ip_ihl_over_len", ihl_over_len)

        # IHL beyond the end of the frame.
        def ihl_over_frame():
            ihl = r.randint(6, 15)
            ip = self.ipv4(b"", ihl=ihl, options=[b"\x01" * ((ihl - 5) * 4)])
            return self.eth(ETH_P_IP) + ip[:r.randint(20, ihl * 4 - 1)]
        self.kinds(n, None, "ip_ihl_over_frame", ihl_over_frame)
        self.expect.append(("ip_bad_ihl", ["ip_ihl_below_5", "ip_ihl_over_frame"]))

        # Total length larger than the frame carries (checksum valid).
        def len_long():
            l4 = self.echo()
            return self.eth(ETH_P_IP) + self.ipv4(
                l4, len=r.randint(20 + len(l4) + 1, 65535))
        self.kinds(n, "ip_bad_length", "ip_len_over_frame", len_long)

        # Total length smaller than the header.
        self.kinds(n, None, "ip_len_below_header",
                   lambda: self.eth(ETH_P_IP) + self.ipv4(self.echo(), len=r.randint(0, 19)))

        self.expect.append((IP_LENGTH_FAMILY,
                            ["ip_short", "ip_ihl_below_5", "ip_ihl_over_len",
                             "ip_ihl_over_frame", "ip_len_over_frame",
                             "ip_len_below_header"]))

        # Valid packet, corrupted header checksum.
        def bad_csum():
            ip = bytearray(self.ipv4(self.echo()))
            ip[10] ^= r.randint(1, 255)
            return self.eth(ETH_P_IP) + bytes(ip)
        self.kinds(n, "ip_bad_checksum", "ip_bad_checksum", bad_csum)

        # Fragments: first fragment (MF, offset 0) and later ones (offset > 0).
        # DPDK's net_af_packet joins a PACKET_FANOUT group with
        # PACKET_FANOUT_FLAG_DEFRAG, so the kernel holds (and later frees)
        # well-formed fragments instead of handing them over: these are
        # "absorbed" below and expect nothing from the dataplane. They stay
        # in the flood for ports that deliver them.
        self.kinds(n, None, "ip_fragment_first",
                   lambda: self.eth(ETH_P_IP) + self.ipv4(self.echo(32), flags="MF", frag=0))
        self.kinds(n, None, "ip_fragment_later",
                   lambda: self.eth(ETH_P_IP) +
                   self.ipv4(self.payload(8, 64), flags=r.choice([0, 1]), frag=r.randint(1, 8191)))
        self.expect.append(("ip_fragment", ["ip_fragment_first", "ip_fragment_later"]))

        # Unknown protocols, half of them in full 1514-byte frames.
        self.kinds(n, "ip_unknown_proto", "ip_unknown_proto",
                   lambda: self.eth(ETH_P_IP) +
                   self.ipv4(self.payload(1480, 1480) if r.random() < 0.5 else self.payload(0, 100),
                             proto=r.choice([253, 254])))

        # Valid echo requests to an address that is not the dataplane's.
        self.kinds(n, "ip_not_for_us", "ip_not_for_us",
                   lambda: self.eth(ETH_P_IP) + self.ipv4(self.echo(), dst=self.a.other_ip))

        # Valid echo requests to another station's MAC.
        self.kinds(n, "eth_not_for_us", "eth_not_for_us",
                   lambda: self.eth(ETH_P_IP, dst="02:00:5e:%02x:%02x:%02x" % (
                       r.getrandbits(8), r.getrandbits(8), r.getrandbits(8))) +
                   self.ipv4(self.echo()))

        # Ethertypes nobody here speaks (IEEE local experimental and others),
        # from runts to full-size frames.
        self.kinds(n, "eth_unknown_type", "eth_unknown_type",
                   lambda: self.eth(r.choice([0x88B5, 0x88B6, 0x1234, 0x9000, 0xFFFF, 0x0801])) +
                   self.payload(0, 1500))

        # ARP with other hardware/protocol address sizes.
        def arp_sizes():
            hlen, plen = 6, 4
            while (hlen, plen) == (6, 4):
                hlen = r.choice([0, 1, 4, 6, 8, 16, 255])
                plen = r.choice([0, 2, 4, 6, 16, 255])
            fixed = struct.pack("!HHBBH", 1, ETH_P_IP, hlen, plen, 1)
            return self.eth(ETH_P_ARP) + fixed + self.payload(20, 40)
        self.kinds(n, None, "arp_bad_sizes", arp_sizes)

        # ARP request for us cut short of its 28 bytes.
        def arp_short():
            body = bytes(ARP(op=1, hwsrc=self.a.src_mac, psrc=self.a.src_ip, pdst=self.a.dst_ip))
            return self.eth(ETH_P_ARP) + body[:r.randint(0, 27)]
        self.kinds(n, None, "arp_truncated", arp_short)
        self.expect.append(("arp_malformed", ["arp_bad_sizes", "arp_truncated"]))

        # ICMP echo with a wrong checksum.
        def icmp_csum():
            e = bytearray(self.echo())
            e[2] ^= r.randint(1, 255)
            return self.eth(ETH_P_IP) + self.ipv4(bytes(e))
        self.kinds(n, "icmp_bad_checksum", "icmp_bad_checksum", icmp_csum)

        # ICMP shorter than its 8-byte header, checksum valid for what is
        # there; half carry the rest of the echo as Ethernet padding past
        # the IP total length, which must not be read as ICMP.
        def icmp_short():
            e = bytearray(self.echo(16))
            cut = r.randint(4, 7)
            head = e[:cut]
            head[2:4] = b"\0\0"
            ck = checksum(bytes(head))
            head[2:4] = bytes([ck >> 8, ck & 0xff])
            frame = self.eth(ETH_P_IP) + self.ipv4(bytes(head))
            if r.random() < 0.5:
                frame += bytes(e[cut:])
            return frame
        self.kinds(n, "icmp_malformed", "icmp_truncated", icmp_short)

        # ICMP of 0-3 bytes: no room for a checksum, malformed either way.
        self.kinds(n, None, "icmp_tiny",
                   lambda: self.eth(ETH_P_IP) + self.ipv4(self.payload(0, 3)))
        self.expect.append(("icmp_malformed+icmp_bad_checksum",
                            ["icmp_bad_checksum", "icmp_truncated", "icmp_tiny"]))

        # Valid echo requests and ARP requests that real NICs pad to 60 bytes
        # or that carry trailing bytes: these must be answered.
        self.kinds(n, None, "echo_padded",
                   lambda: self.eth(ETH_P_IP) + self.ipv4(self.echo(r.randint(0, 16))) +
                   self.payload(1, 40))
        self.kinds(n, None, "echo_runt",
                   lambda: self.eth(ETH_P_IP) + self.ipv4(self.echo(0)))
        self.expect.append(("icmp_echo_in", ["echo_padded", "echo_runt"]))
        self.expect.append(("icmp_echo_out", ["echo_padded", "echo_runt"]))
        self.kinds(n, None, "arp_padded",
                   lambda: self.eth(ETH_P_ARP, dst="ff:ff:ff:ff:ff:ff") +
                   bytes(ARP(op=1, hwsrc=self.a.src_mac, psrc=self.a.src_ip,
                             pdst=self.a.dst_ip)) + b"\0" * 18)
        self.expect.append(("arp_requests_in", ["arp_padded"]))
        self.expect.append(("arp_replies_out", ["arp_padded"]))

        # Garbage: random bytes to our MAC, and random bytes as IPv4.
        self.kinds(n, None, "garbage",
                   lambda: bytes.fromhex(self.a.dst_mac.replace(":", "")) + self.payload(8, 1508))
        self.kinds(n, None, "garbage_ipv4",
                   lambda: self.eth(ETH_P_IP) + self.payload(0, 1500))

        self.rng.shuffle(self.frames)

    # ------------------------------------------------------------ sending

    @staticmethod
    def kernel_absorbs(frame):
        """True if the kernel's af_packet fanout defrag (ip_check_defrag)
        takes this frame into a reassembly queue instead of delivering it:
        a version-4 fragment with a sane IHL and total length."""
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            return False
        ip = frame[14:]
        ihl, version = ip[0] & 15, ip[0] >> 4
        tot_len = struct.unpack("!H", ip[2:4])[0]
        if ihl < 5 or version != 4 or len(ip) < tot_len or tot_len < ihl * 4:
            return False
        return struct.unpack("!H", ip[6:8])[0] & 0x3FFF != 0

    def send(self):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        s.bind((self.a.iface, 0))
        sent, refused, self.absorbed = {}, {}, {}
        gap = 1.0 / self.a.pps if self.a.pps > 0 else 0
        next_t = time.monotonic()
        for kind, frame in self.frames:
            sent.setdefault(kind, 0)
            try:
                s.send(frame)
                if self.kernel_absorbs(frame):
                    self.absorbed[kind] = self.absorbed.get(kind, 0) + 1
                else:
                    sent[kind] += 1
            except OSError as e:
                key = (kind, errno.errorcode.get(e.errno, str(e.errno)))
                refused[key] = refused.get(key, 0) + 1
            # Pace the flood so the af_packet ring (512 frames) never
            # overflows: a frame the kernel drops was never "received".
            next_t += gap
            d = next_t - time.monotonic()
            if d > 0:
                time.sleep(d)
        s.close()
        return sent, refused


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iface", required=True)
    p.add_argument("--src-mac", required=True)
    p.add_argument("--dst-mac", required=True)
    p.add_argument("--src-ip", default="192.0.2.1")
    p.add_argument("--dst-ip", default="192.0.2.10")
    p.add_argument("--other-ip", default="192.0.2.99")
    p.add_argument("--count", type=int, default=40, help="frames per kind")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pps", type=float, default=2000, help="send rate; 0: unpaced")
    a = p.parse_args()

    f = Flood(a, random.Random(a.seed))
    f.build()
    sent, refused = f.send()
    total = 0
    for kind in sorted(sent):
        print("sent %s %d" % (kind, sent[kind]))
        total += sent[kind]
    for (kind, err), k in sorted(refused.items()):
        print("refused %s %d %s" % (kind, k, err))
    for kind, k in sorted(f.absorbed.items()):
        print("absorbed %s %d kernel-defrag" % (kind, k))
    for counters, kinds in f.expect:
        print("expect %s %d" % (counters, sum(sent.get(k, 0) for k in kinds)))
    print("expect rx_packets %d" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())

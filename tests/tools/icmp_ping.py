#!/usr/bin/env python3
"""ICMP echo for machines without ping(1): icmp_ping.py DST COUNT INTERVAL_MS [SRC]

Sends COUNT echo requests to DST, one every INTERVAL_MS, each waiting for its
own reply (2 s at most); binds to address SRC when given (so policy routing
picks the path). Prints "AVG MIN MAX MEDIAN RECEIVED SENT" (ms), or
"- - - - 0 SENT" when nothing came back. Needs a raw socket (root).
"""
import os
import socket
import struct
import sys
import time


def checksum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xFFFF)
    t += t >> 16
    return ~t & 0xFFFF


def main():
    dst, n, ival = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) / 1000
    src = sys.argv[4] if len(sys.argv) > 4 else ""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    if src:
        s.bind((src, 0))
    ident = os.getpid() & 0xFFFF
    rtts = []
    for seq in range(n):
        body = bytes(56)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + body), ident, seq) + body
        t0 = time.monotonic()
        s.sendto(pkt, (dst, 0))
        while True:
            left = t0 + 2.0 - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                d = s.recv(2048)
            except socket.timeout:
                break
            ihl = (d[0] & 15) * 4
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", d[ihl:ihl + 8])
            if typ == 0 and rid == ident and rseq == seq:
                rtts.append((time.monotonic() - t0) * 1000)
                break
        time.sleep(max(0.0, t0 + ival - time.monotonic()))
    if rtts:
        med = sorted(rtts)[len(rtts) // 2]
        print("%.3f %.3f %.3f %.3f %d %d" % (sum(rtts) / len(rtts), min(rtts), max(rtts), med, len(rtts), n))
    else:
        print("- - - - 0 %d" % n)


if __name__ == "__main__":
    main()

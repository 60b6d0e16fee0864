#!/usr/bin/env python3
"""UDP loss / RTT probe for bench/udp_loss.sh (runs in the testbed's cli namespace).

    udp_loss.py --dest IP:PORT [--proxy HOST:PORT | --bind IP] [--count N]
                [--interval S] [--size B] [--deadline-ms MS] [--drain S]

Sends COUNT datagrams, one every INTERVAL seconds, each carrying a sequence
number and its send time (monotonic ns), either through a SOCKS5 UDP
ASSOCIATE (PySocks, --proxy) or straight from a socket bound to --bind.
The echo server (tests/integration/udp_echo_server.py) answers
b"echo:" + payload XOR 0xFF. For every datagram: answered or not, and the
round-trip time. Prints one JSON object on stdout:

    {"sent", "answered", "late", "lost_or_late_pct", "p50_ms", "p99_ms", "max_ms", "dups"}

"late" = answered after DEADLINE ms; "lost_or_late" counts unanswered + late.
p50/p99 are over the answered datagrams (late ones included).
Exit 0 on a completed run, 77 without PySocks when --proxy is given, 1 on error.
"""
import argparse
import json
import select
import socket
import struct
import sys
import time

HDR = struct.Struct(">IQ")  # sequence, send time (ns, CLOCK_MONOTONIC)


def hostport(s):
    h, _, p = s.rpartition(":")
    return h, int(p)


def pct(sorted_vals, q):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(q * (len(sorted_vals) - 1)))))
    return sorted_vals[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dest", required=True)
    ap.add_argument("--proxy")
    ap.add_argument("--bind")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--interval", type=float, default=0.01)
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--deadline-ms", type=float, default=100.0)
    ap.add_argument("--drain", type=float, default=1.0)
    ap.add_argument("--settle", type=float, default=1.0)
    ap.add_argument("--dump", help="write 'seq send_ms rtt_ms' per datagram (rtt '-' when lost) to this file")
    a = ap.parse_args()
    if not (1 <= a.count <= 100000 and 0.001 <= a.interval <= 1 and HDR.size <= a.size <= 1400):
        print("bad arguments", file=sys.stderr)
        return 1
    dest = hostport(a.dest)

    if a.proxy:
        try:
            import socks  # python3-socks
        except ImportError:
            print("SKIP: python3-socks (PySocks) is not installed", file=sys.stderr)
            return 77
        socket.setdefaulttimeout(10)
        s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
        ph, pp = hostport(a.proxy)
        s.set_proxy(socks.SOCKS5, ph, pp, rdns=True)
        s.settimeout(5)
        s.bind(("127.0.0.1", 0))  # PySocks sends UDP ASSOCIATE here
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a.bind or "0.0.0.0", 0))
    # (let the datagram carrier's first probes measure the paths)
    time.sleep(a.settle)

    pad = bytes(a.size - HDR.size)
    rtt = {}  # seq -> ms
    sent_at = {}  # seq -> ms since the first send
    dups = 0
    foreign = 0

    def take():
        nonlocal dups, foreign
        try:
            data, _ = s.recvfrom(70000)
        except (BlockingIOError, socket.timeout):
            return
        now = time.monotonic_ns()
        if not data.startswith(b"echo:") or len(data) < 5 + HDR.size:
            foreign += 1
            return
        body = bytes(b ^ 0xFF for b in data[5:5 + HDR.size])
        seq, t = HDR.unpack(body)
        if seq >= a.count:
            foreign += 1
            return
        if seq in rtt:
            dups += 1
            return
        rtt[seq] = (now - t) / 1e6

    def pump(until):
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([s], [], [], left)
            if r:
                take()

    send_errors = 0
    t0 = time.monotonic()
    for i in range(a.count):
        pump(t0 + i * a.interval)
        sent_at[i] = (time.monotonic() - t0) * 1000
        try:
            s.sendto(HDR.pack(i, time.monotonic_ns()) + pad, dest)
        except OSError as e:  # (a local firewall drop returns EPERM: count it as lost)
            send_errors += 1
            if send_errors == 1:
                print("first send error: %s" % e, file=sys.stderr)
    pump(time.monotonic() + a.drain)
    elapsed = time.monotonic() - t0
    s.close()

    vals = sorted(rtt.values())
    late = sum(1 for v in vals if v > a.deadline_ms)
    if a.dump:
        with open(a.dump, "w") as f:
            for i in range(a.count):
                f.write("%d %.1f %s\n" % (i, sent_at.get(i, -1), "%.2f" % rtt[i] if i in rtt else "-"))
    # Late datagrams in runs of consecutive sequence numbers (gaps of lost
    # ones bridged): a stall shows as one run, scattered late ones as many.
    late_seqs = sorted(q for q, v in rtt.items() if v > a.deadline_ms)
    bursts = []
    for q in late_seqs:
        if bursts and q - bursts[-1][1] <= 3:
            bursts[-1][1] = q
            bursts[-1][2] += 1
        else:
            bursts.append([q, q, 1])
    lost = a.count - len(vals)
    r = lambda v: None if v is None else round(v, 2)
    print(json.dumps({
        "sent": a.count,
        "answered": len(vals),
        "lost": lost,
        "late": late,
        "lost_or_late_pct": round(100.0 * (lost + late) / a.count, 2),
        "lost_pct": round(100.0 * lost / a.count, 2),
        "p50_ms": r(pct(vals, 0.50)),
        "p99_ms": r(pct(vals, 0.99)),
        "max_ms": r(vals[-1] if vals else None),
        "dups": dups,
        "late_bursts": [{"first": b[0], "last": b[1], "n": b[2]} for b in bursts],
        "foreign": foreign,
        "send_errors": send_errors,
        "elapsed_s": round(elapsed, 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

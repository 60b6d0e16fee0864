#!/usr/bin/env python3
"""Step-by-step timing of one proxied HTTP request, for bench/ttfb.sh.

    ttfb.py --dest IP:PORT --path /ttfb.txt [--proxy HOST:PORT] [--count N] [--gap S]

For each of COUNT requests (a new connection each time, GAP seconds apart)
it records, in ms from the start of connect():

    tcp     the TCP connection to the proxy (or, without --proxy, to the
            destination) is established
    greet   the SOCKS5 method reply arrived (RFC 1928 §3; "no auth" offered)
    reply   the SOCKS5 CONNECT reply arrived (§6; IPv4 destination)
    first   the first byte of the HTTP response arrived (request sent right
            after the reply, or right after connect without a proxy)

and prints one JSON object: {"runs": N, "ok": M, "median": {step: ms},
"min": {...}, "max": {...}, "errors": [...]}. Each step waits for the
previous one, as curl does: this is the peers' way of speaking SOCKS5.
Exit 0 when at least one request completed, 1 otherwise.
"""
import argparse
import json
import socket
import statistics
import sys
import time


def hostport(s):
    h, _, p = s.rpartition(":")
    return h, int(p)


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise OSError("connection closed after %d of %d bytes" % (len(b), n))
        b += chunk
    return b


def one(proxy, dest, path):
    t = {}
    t0 = time.monotonic()
    ms = lambda: (time.monotonic() - t0) * 1000
    s = socket.create_connection(proxy or dest, timeout=10)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t["tcp"] = ms()
        if proxy:
            s.sendall(b"\x05\x01\x00")
            if recv_exact(s, 2) != b"\x05\x00":
                raise OSError("SOCKS5 method refused")
            t["greet"] = ms()
            ip = socket.inet_aton(dest[0])
            s.sendall(b"\x05\x01\x00\x01" + ip + dest[1].to_bytes(2, "big"))
            head = recv_exact(s, 4)
            if head[1] != 0:
                raise OSError("SOCKS5 reply %d" % head[1])
            alen = {1: 4, 4: 16}.get(head[3])
            if alen is None:
                alen = recv_exact(s, 1)[0]
            recv_exact(s, alen + 2)
            t["reply"] = ms()
        req = "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, dest[0])
        s.sendall(req.encode())
        if not s.recv(1):
            raise OSError("no response")
        t["first"] = ms()
        while s.recv(65536):  # read to the end so the server finishes cleanly
            pass
    finally:
        s.close()
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dest", required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--proxy")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--gap", type=float, default=0.2)
    a = ap.parse_args()
    proxy = hostport(a.proxy) if a.proxy else None
    dest = hostport(a.dest)
    runs, errors = [], []
    for i in range(a.count):
        if i:
            time.sleep(a.gap)
        try:
            runs.append(one(proxy, dest, a.path))
        except OSError as e:
            errors.append(str(e))
    out = {"runs": a.count, "ok": len(runs), "errors": errors[:3]}
    if runs:
        keys = [k for k in ("tcp", "greet", "reply", "first") if k in runs[0]]
        out["median"] = {k: round(statistics.median(r[k] for r in runs), 2) for k in keys}
        out["min"] = {k: round(min(r[k] for r in runs), 2) for k in keys}
        out["max"] = {k: round(max(r[k] for r in runs), 2) for k in keys}
    print(json.dumps(out))
    return 0 if runs else 1


if __name__ == "__main__":
    sys.exit(main())

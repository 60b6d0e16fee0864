#!/usr/bin/env python3
"""UDP echo server for the Braid UDP integration tests (runs in ns net).

    udp_echo_server.py ADDR PORT [PORT...]

Every datagram is answered from the port it arrived on, to its sender, with a
deterministic transform of the payload, so a test can tell a real answer from
its own datagram reflected back:

    reply = b"echo:" + bytes(b ^ 0xFF for b in payload)

except for the payload b"empty-reply?" which is answered with an empty
datagram (to check that zero-length replies are relayed).

One log line per datagram on stdout:
    rx from IP:PORT to PORT len N head HEX(first 16 bytes)
"""
import select
import socket
import sys

EMPTY_PROBE = b"empty-reply?"


def transform(payload: bytes) -> bytes:
    if payload == EMPTY_PROBE:
        return b""
    return b"echo:" + bytes(b ^ 0xFF for b in payload)


def main() -> int:
    addr = sys.argv[1]
    socks = []
    for p in sys.argv[2:]:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, int(p)))
        socks.append(s)
    print("udp echo listening on %s ports %s" % (addr, " ".join(sys.argv[2:])), flush=True)
    while True:
        ready, _, _ = select.select(socks, [], [])
        for s in ready:
            data, peer = s.recvfrom(65535)
            print("rx from %s:%d to %d len %d head %s"
                  % (peer[0], peer[1], s.getsockname()[1], len(data), data[:16].hex()), flush=True)
            s.sendto(transform(data), peer)


if __name__ == "__main__":
    sys.exit(main())

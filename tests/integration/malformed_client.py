#!/usr/bin/env python3
"""Bad clients for hardening_test.sh.

  malformed_client.py flood HOST PORT --count N [--source ADDR] [--progress FILE]
      N connections in a row to the concentrator, each with one kind of bad
      input: random bytes, garbage shaped like a TLS record, a TLS handshake
      cut short, nothing at all; and, inside a real TLS 1.3 session (the
      certificate is not checked: the attacker has no pin), wire headers with
      a wrong version, bad flags, an empty user, an unknown address type, an
      empty domain, a header cut short, and an "oversized" one that declares
      every length at its maximum and then sends far more than a header.
      Prints one line per kind: "kind K sent S answered A closed C".
  malformed_client.py stall HOST PORT --count N --seconds S [--source ADDR]
      N TLS connections that send half a header and then wait S seconds.
  malformed_client.py udp PROXY_HOST PROXY_PORT DEST_HOST DEST_PORT
      One datagram through a SOCKS5 proxy (PySocks); prints "reply N bytes"
      or "no reply".

No code from other projects; only the Python standard library and PySocks.
"""

import argparse
import os
import random
import socket
import ssl
import sys
import time

RNG = random.Random(7)
VERSION = 0x02  # the wire protocol's VER (docs/PROTOCOL.md)


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def connect(host, port, source, timeout=5.0):
    s = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0) if source else None)
    s.settimeout(timeout)
    return s


def header(user=b"u", token=b"t", kind=1, flags=0, address=b"\x01\x0a\x1f\x09\x02\x00\x50"):
    return bytes([VERSION, kind, flags, len(user)]) + user + bytes([len(token)]) + token + address


def randbytes(n):
    return bytes(RNG.getrandbits(8) for _ in range(n))


# Plain TCP: what reaches the TLS layer before any handshake.
def plain_random():
    return randbytes(RNG.randint(1, 1500))


def plain_tls_shaped():
    body = randbytes(RNG.randint(0, 600))
    return bytes([0x16, 0x03, 0x01, len(body) >> 8, len(body) & 0xFF]) + body


def plain_wire_header():
    # A well-formed header in clear: the concentrator speaks TLS first.
    return header()


def plain_empty():
    return b""


# Inside TLS: the wire header itself is bad.
def tls_bad_version():
    return bytes([0x07]) + randbytes(RNG.randint(0, 40))


def tls_bad_flags():
    return header(flags=0x55)


def tls_empty_user():
    return bytes([VERSION, 1, 0, 0]) + randbytes(20)


def tls_bad_atyp():
    return header(address=b"\x09\x00\x00\x00\x00\x00\x00")


def tls_empty_domain():
    return header(address=b"\x03\x00\x00\x50")


def tls_cut_short():
    full = header()
    return full[: RNG.randint(1, len(full) - 1)]


def tls_oversized():
    # Every length at its maximum, an invalid address type where the address
    # should start, then 16 KiB more than any header could hold.
    return bytes([VERSION, 1, 0, 255]) + b"u" * 255 + bytes([255]) + b"t" * 255 + b"\x09" + randbytes(16384)


def tls_random():
    return randbytes(RNG.randint(1, 3000))


PLAIN = [plain_random, plain_tls_shaped, plain_wire_header, plain_empty]
INSIDE_TLS = [tls_bad_version, tls_bad_flags, tls_empty_user, tls_bad_atyp, tls_empty_domain, tls_cut_short,
              tls_oversized, tls_random]


def read_some(s):
    """Bytes, b"" when the peer closed (or reset), None when it said nothing in time."""
    try:
        return s.recv(4096)
    except socket.timeout:
        return None
    except (OSError, ssl.SSLError):
        return b""


def one(host, port, source, make, inside_tls, ctx):
    """Returns "answered" (bytes came back), "closed" (EOF or reset) or "timeout"."""
    s = connect(host, port, source)
    try:
        if inside_tls:
            s = ctx.wrap_socket(s, server_hostname="concentrator")
        data = make()
        try:
            if data:
                s.sendall(data)
        except (OSError, ssl.SSLError):
            return "closed"
        if make in (tls_cut_short, plain_empty):
            # Gone before the header is complete: nothing to wait for.
            return "closed"
        got = read_some(s)
        if got:
            return "answered"
        return "closed" if got == b"" else "timeout"
    finally:
        try:
            s.close()
        except OSError:
            pass


def flood(args):
    ctx = tls_context()
    kinds = [(f, False) for f in PLAIN] + [(f, True) for f in INSIDE_TLS]
    stats = {f.__name__: [0, 0, 0] for f, _ in kinds}
    for i in range(args.count):
        make, inside = kinds[i % len(kinds)]
        try:
            result = one(args.host, args.port, args.source, make, inside, ctx)
        except (OSError, ssl.SSLError) as e:
            # The TLS handshake itself refused (garbage never gets this far,
            # but a concentrator at its limit may close early).
            result = "closed" if not isinstance(e, socket.timeout) else "timeout"
        st = stats[make.__name__]
        st[0] += 1
        st[1] += result == "answered"
        st[2] += result == "closed"
        if args.progress and (i + 1) % 50 == 0:
            with open(args.progress, "w") as f:
                f.write(f"{i + 1}\n")
    for name, (sent, answered, closed) in stats.items():
        print(f"kind {name} sent {sent} answered {answered} closed {closed}")
    print(f"total {args.count}")


def stall(args):
    ctx = tls_context()
    held = []
    for _ in range(args.count):
        s = ctx.wrap_socket(connect(args.host, args.port, args.source), server_hostname="concentrator")
        s.sendall(header()[:5])
        held.append(s)
    print(f"holding {len(held)}", flush=True)
    time.sleep(args.seconds)
    closed = 0
    for s in held:
        closed += read_some(s) == b""
        s.close()
    print(f"closed by the concentrator {closed}")


def udp(args):
    import socks  # PySocks (python3-socks)

    s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
    s.set_proxy(socks.SOCKS5, args.proxy_host, args.proxy_port)
    s.settimeout(3)
    s.sendto(b"hardening-" + os.urandom(8).hex().encode(), (args.dest_host, args.dest_port))
    try:
        data, _ = s.recvfrom(65535)
        print(f"reply {len(data)} bytes")
    except (socket.timeout, OSError):
        print("no reply")
    s.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("flood")
    f.add_argument("host")
    f.add_argument("port", type=int)
    f.add_argument("--count", type=int, default=1000)
    f.add_argument("--source")
    f.add_argument("--progress")
    st = sub.add_parser("stall")
    st.add_argument("host")
    st.add_argument("port", type=int)
    st.add_argument("--count", type=int, default=10)
    st.add_argument("--seconds", type=float, default=5)
    st.add_argument("--source")
    u = sub.add_parser("udp")
    u.add_argument("proxy_host")
    u.add_argument("proxy_port", type=int)
    u.add_argument("dest_host")
    u.add_argument("dest_port", type=int)
    args = p.parse_args()
    {"flood": flood, "stall": stall, "udp": udp}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())

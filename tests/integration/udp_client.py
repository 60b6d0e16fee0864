#!/usr/bin/env python3
"""SOCKS5 UDP ASSOCIATE clients for the Braid UDP integration tests (ns cli).

  udp_client.py echo     PySocks (python3-socks) against udp_echo_server.py:
                         datagrams of varied sizes and random content, one at a
                         time; every reply's content and source address checked.
  udp_client.py dns      PySocks: one DNS query (built by hand) through the relay.
  udp_client.py security a hand-written SOCKS5 client: foreign source address,
                         foreign source port, FRAG != 0, malformed headers, end of
                         the association with its TCP control connection or its
                         idle timeout.

Every subcommand prints what it did on stdout ("KEY value" lines the shell test
reads: relay, sent_total, received_total, expect_counters ...) and exits 0 when
everything it checks held, 1 otherwise (with "FAIL: reason" on stderr).
Everything is bounded by timeouts.
"""
import argparse
import os
import random
import re
import socket
import struct
import sys
import time

EMPTY_PROBE = b"empty-reply?"  # udp_echo_server.py answers it with an empty datagram


def transform(payload: bytes) -> bytes:
    """The echo server's answer (see udp_echo_server.py)."""
    if payload == EMPTY_PROBE:
        return b""
    return b"echo:" + bytes(b ^ 0xFF for b in payload)


def fail(msg: str) -> None:
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def out(*a) -> None:
    print(*a, flush=True)


def hostport(s: str):
    h, _, p = s.rpartition(":")
    return h, int(p)


def import_socks():
    try:
        import socks  # noqa: F401  (python3-socks, PySocks)
    except ImportError:
        print("SKIP: python3-socks (PySocks) is not installed", file=sys.stderr)
        sys.exit(77)
    return socks


def pysocks_socket(proxy, timeout):
    socks = import_socks()
    s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
    ph, pp = hostport(proxy)
    s.set_proxy(socks.SOCKS5, ph, pp, rdns=True)
    s.settimeout(timeout)
    return s


def pysocks_relay(s) -> str:
    # PySocks connect()s its UDP socket to (proxy host, BND.PORT).
    h, p = socket.socket.getpeername(s)
    return "%s:%d" % (h, p)


# ----------------------------------------------------------------------- echo
def cmd_echo(a) -> int:
    # The control connection is made by PySocks with a plain socket: bound it.
    socket.setdefaulttimeout(10)
    rng = random.Random(a.seed)
    s = pysocks_socket(a.proxy, a.timeout)
    dest = hostport(a.dest)
    want_from = hostport(a.expect_from)
    if a.sizes:
        sizes = [int(x) for x in a.sizes.split(",")]
    else:
        sizes = [rng.randint(a.min, a.max) for _ in range(a.count)]
        # make sure the extremes are there
        if a.count >= 2:
            sizes[0], sizes[-1] = a.min, a.max
    sent_total = received_total = lost = retries = stale = payload_bytes_sent = 0
    bytes_ok = 0
    earlier = set()
    t0 = time.monotonic()
    for i, size in enumerate(sizes):
        payload = EMPTY_PROBE if size == -1 else rng.randbytes(size)
        expected = transform(payload)
        got = False
        for attempt in range(1 + a.retries):
            if attempt:
                retries += 1
                out("retry datagram %d (%d bytes), attempt %d" % (i, len(payload), attempt + 1))
            s.sendto(payload, dest)
            sent_total += 1
            payload_bytes_sent += len(payload)
            if i == 0 and attempt == 0:
                out("relay", pysocks_relay(s))
            deadline = time.monotonic() + a.timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    data, src = s.recvfrom(70000)
                except socket.timeout:
                    break
                received_total += 1
                src = (src[0].decode() if isinstance(src[0], bytes) else src[0], src[1])
                if data == expected:
                    if src != want_from:
                        fail("datagram %d (%d bytes): reply came from %s:%d, want %s:%d"
                             % (i, len(payload), src[0], src[1], want_from[0], want_from[1]))
                    got = True
                    break
                if data in earlier:
                    stale += 1  # a late answer to an earlier (retried) datagram
                    continue
                if data == payload and len(payload) > 0:
                    fail("datagram %d (%d bytes): got our own datagram reflected back, not the echo"
                         % (i, len(payload)))
                fail("datagram %d (%d bytes): unexpected reply of %d bytes from %s:%d: %s..., want %d bytes %s..."
                     % (i, len(payload), len(data), src[0], src[1], data[:24].hex(),
                        len(expected), expected[:24].hex()))
            if got:
                break
        earlier.add(expected)
        if got:
            bytes_ok += len(payload)
        else:
            lost += 1
            out("no reply to datagram %d (%d bytes) after %d attempts" % (i, len(payload), 1 + a.retries))
    elapsed = time.monotonic() - t0
    out("datagrams %d sizes %d..%d payload_bytes_ok %d lost %d retries %d stale %d elapsed %.2fs"
        % (len(sizes), min(sizes), max(sizes), bytes_ok, lost, retries, stale, elapsed))
    out("sent_total", sent_total)
    out("payload_bytes_sent", payload_bytes_sent)
    out("received_total", received_total)
    out("lost", lost)
    if a.hold > 0:
        time.sleep(a.hold)
    s.close()
    if lost > a.max_lost:
        fail("%d of %d datagrams got no reply (allowed %d)" % (lost, len(sizes), a.max_lost))
    return 0


# ------------------------------------------------------------------------ dns
def dns_name(name: str) -> bytes:
    b = b""
    for label in name.rstrip(".").split("."):
        b += bytes([len(label)]) + label.encode()
    return b + b"\x00"


QTYPES = {"A": 1, "TXT": 16, "AAAA": 28}


def dns_query(qid: int, name: str, qtype: str, edns: int) -> bytes:
    hdr = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0)
    q = dns_name(name) + struct.pack(">HH", QTYPES[qtype], 1)
    opt = b"\x00" + struct.pack(">HHIH", 41, edns, 0, 0) if edns else b""
    return hdr + q + opt


def read_name(msg: bytes, off: int):
    labels, jumped, end, hops = [], False, off, 0
    while True:
        if off >= len(msg) or hops > 64:
            raise ValueError("bad name")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            ptr = ((n & 0x3F) << 8) | msg[off + 1]
            if not jumped:
                end = off + 2
            jumped, off, hops = True, ptr, hops + 1
            continue
        if n == 0:
            if not jumped:
                end = off + 1
            return ".".join(labels), end
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n


def dns_parse(msg: bytes):
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        _, off = read_name(msg, off)
        off += 4
    answers = []
    for _ in range(an):
        name, off = read_name(msg, off)
        rtype, rclass, ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        rdata = msg[off:off + rdlen]
        off += rdlen
        if rtype == 1:
            answers.append(("A", name, socket.inet_ntoa(rdata)))
        elif rtype == 16:
            strings, i = [], 0
            while i < len(rdata):
                ln = rdata[i]
                strings.append(rdata[i + 1:i + 1 + ln])
                i += 1 + ln
            answers.append(("TXT", name, b"".join(strings)))
        else:
            answers.append((str(rtype), name, rdata.hex()))
    return {"id": qid, "qr": bool(flags & 0x8000), "tc": bool(flags & 0x0200), "rcode": flags & 0xF,
            "answers": answers}


def cmd_dns(a) -> int:
    socket.setdefaulttimeout(10)
    s = pysocks_socket(a.proxy, a.timeout)
    server = hostport(a.server)
    want_from = hostport(a.expect_from) if a.expect_from else None
    qid = random.randrange(1, 65535)
    q = dns_query(qid, a.name, a.qtype, a.edns)
    resp = src = None
    for attempt in range(3):  # a resolver retries too; the testbed loses nothing
        s.sendto(q, server)
        if attempt == 0:
            out("relay", pysocks_relay(s))
        try:
            resp, src = s.recvfrom(70000)
            break
        except socket.timeout:
            out("no answer within %.1fs (attempt %d)" % (a.timeout, attempt + 1))
    s.close()
    if resp is None:
        fail("no DNS answer for %s %s from %s via the SOCKS5 UDP relay" % (a.qtype, a.name, a.server))
    src = (src[0].decode() if isinstance(src[0], bytes) else src[0], src[1])
    out("answer of %d bytes from %s:%d" % (len(resp), src[0], src[1]))
    if want_from and src != want_from:
        fail("DNS answer came from %s:%d, want %s:%d" % (src[0], src[1], want_from[0], want_from[1]))
    try:
        r = dns_parse(resp)
    except Exception as e:  # noqa: BLE001
        fail("cannot parse the DNS answer (%d bytes %s...): %s" % (len(resp), resp[:32].hex(), e))
    out("dns id %d qr %s tc %s rcode %d answers %d" % (r["id"], r["qr"], r["tc"], r["rcode"], len(r["answers"])))
    for t, n, v in r["answers"]:
        if t != "TXT":
            out("  %s %s %s" % (t, n, v))
    txt = [v for t, _, v in r["answers"] if t == "TXT"]
    if txt:
        out("  TXT: %d records, %d bytes" % (len(txt), sum(len(v) for v in txt)))
    if r["id"] != qid or not r["qr"]:
        fail("not an answer to our query (id %d, want %d; qr %s)" % (r["id"], qid, r["qr"]))
    if r["tc"]:
        fail("answer truncated (TC set): %d bytes" % len(resp))
    if a.expect_rcode is not None:
        if r["rcode"] != a.expect_rcode:
            fail("rcode %d, want %d" % (r["rcode"], a.expect_rcode))
        return 0
    if r["rcode"] != 0:
        fail("rcode %d, want 0 (NOERROR)" % r["rcode"])
    if a.expect_a:
        got = [v for t, _, v in r["answers"] if t == "A"]
        if got != [a.expect_a]:
            fail("A records %s, want [%s]" % (got, a.expect_a))
    if a.expect_txt_len:
        got = [len(v) for t, _, v in r["answers"] if t == "TXT"]
        if sum(got) != a.expect_txt_len:
            fail("TXT records of %s bytes, want %d in all" % (got, a.expect_txt_len))
        if len(resp) < a.expect_txt_len:
            fail("answer is %d bytes, shorter than the TXT record" % len(resp))
    return 0


# ------------------------------------------------------------------- security
def socks_udp_header(dst, frag=0) -> bytes:
    return b"\x00\x00" + bytes([frag]) + b"\x01" + socket.inet_aton(dst[0]) + struct.pack(">H", dst[1])


def parse_socks_udp(d: bytes):
    if len(d) < 10 or d[0:2] != b"\x00\x00" or d[3] != 1:
        return None
    return d[2], (socket.inet_ntoa(d[4:8]), struct.unpack(">H", d[8:10])[0]), d[10:]


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        chunk = c.recv(n - len(b))
        if not chunk:
            raise ConnectionError("the proxy closed the control connection after %d of %d bytes" % (len(b), n))
        b += chunk
    return b


def associate(proxy):
    """RFC 1928 handshake (no auth) + UDP ASSOCIATE with DST 0.0.0.0:0.
    Returns (control socket, BND.ADDR, BND.PORT)."""
    c = socket.create_connection(hostport(proxy), timeout=10)
    c.sendall(b"\x05\x01\x00")
    if recv_exact(c, 2) != b"\x05\x00":
        fail("SOCKS5 method negotiation failed")
    c.sendall(b"\x05\x03\x00\x01" + b"\x00" * 6)
    head = recv_exact(c, 4)
    if head[0] != 5 or head[1] != 0:
        fail("UDP ASSOCIATE refused: reply %s" % head.hex())
    if head[3] != 1:
        fail("UDP ASSOCIATE reply with ATYP %d, want 1 (IPv4) for a control connection over 127.0.0.1" % head[3])
    rest = recv_exact(c, 6)
    bnd = socket.inet_ntoa(rest[:4])
    port = struct.unpack(">H", rest[4:])[0]
    return c, bnd, port


def udp_sock(bind_ip="127.0.0.1"):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((bind_ip, 0))
    return u


def expect_reply(u, payload, echo, what, timeout):
    """Wait for the echo of payload on u; fail on anything else."""
    want = transform(payload)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            fail("%s: no reply within %.1fs" % (what, timeout))
        u.settimeout(left)
        try:
            d, _ = u.recvfrom(70000)
        except socket.timeout:
            continue
        p = parse_socks_udp(d)
        if p is None:
            fail("%s: reply with a bad SOCKS5 UDP header: %s" % (what, d[:16].hex()))
        frag, src, data = p
        if data != want:
            fail("%s: unexpected reply %s... (%d bytes)" % (what, data[:16].hex(), len(data)))
        if frag != 0 or src != echo:
            fail("%s: reply header FRAG %d source %s:%d, want FRAG 0 source %s:%d"
                 % (what, frag, src[0], src[1], echo[0], echo[1]))
        out("ok: %s -> reply from %s:%d" % (what, src[0], src[1]))
        return


def expect_silence(socks_, what, quiet):
    """No datagram may arrive on any of socks_ for `quiet` seconds."""
    deadline = time.monotonic() + quiet
    for u in socks_:
        u.setblocking(True)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for u in socks_:
            u.settimeout(max(0.01, left / len(socks_)))
            try:
                d, src = u.recvfrom(70000)
            except socket.timeout:
                continue
            except ConnectionRefusedError:
                continue  # ICMP port unreachable on a connected socket: no reply either
            fail("%s: got a %d-byte datagram from %s:%d, want none" % (what, len(d), src[0], src[1]))
    out("ok: %s -> no reply in %.1fs" % (what, quiet))


def marker(tag):
    """A payload the echo server's log can be searched for (head = first 16 bytes)."""
    return ("%-16s" % (tag[:8] + os.urandom(4).hex())).encode()[:16] + os.urandom(8)


def wait_log(path, regex, secs, after=0):
    """Wait up to secs for a line matching regex in the log at path, looking
    only at lines that start at or after byte offset `after`. Returns (match,
    offset of the end of that line) or (None, after)."""
    deadline = time.monotonic() + secs
    rx = re.compile(regex)
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                f.seek(after)
                pos = after
                for raw in f:
                    if not raw.endswith(b"\n"):
                        break  # a line still being written
                    pos += len(raw)
                    m = rx.search(raw.decode(errors="replace"))
                    if m:
                        return m, pos
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    return None, after


def cmd_security(a) -> int:
    echo = hostport(a.echo)
    quiet = a.quiet
    never = []  # payloads that must never reach the echo server
    seen = []  # payloads that must reach it

    c, bnd, port = associate(a.proxy)
    relay = (bnd, port)
    out("relay %s:%d" % relay)
    if bnd != "127.0.0.1" or port == 0:
        fail("BND %s:%d, want 127.0.0.1 (the control connection's local address) and a port" % relay)
    # braid numbers sessions from s1 each time it starts: look only at what
    # it logged after the last start of braid before this association.
    with open(a.braid_log, "rb") as f:
        starts = [m.start() for m in re.finditer(rb"(?m)^.* braid \S+ up$", f.read())]
    start = starts[-1] if starts else 0
    m, at = wait_log(a.braid_log, r"\[s(\d+)\] SOCKS5 UDP ASSOCIATE on 127\.0\.0\.1:%d\b" % port, 5, start)
    if not m:
        fail("braid did not log the association on 127.0.0.1:%d" % port)
    sid = m.group(1)
    out("session s" + sid)

    counters = dict(up=0, down=0, foreign=0, frag=0, malformed=0)
    s1 = udp_sock("127.0.0.1")
    s2 = udp_sock("127.0.0.1")  # same IP, another port
    fx = udp_sock(a.foreign_ip)  # another address of this host

    # 1. The first datagram comes from a foreign address: dropped, and it does
    #    not pin the association to that address.
    p = marker("foreign1")
    fx.sendto(socks_udp_header(echo) + p, relay)
    never.append(p)
    counters["foreign"] += 1
    expect_silence([fx, s1], "datagram from %s (first of the association)" % a.foreign_ip, quiet)

    # 2. The client's own address works (and pins s1's port).
    p = b"legit-1-" + os.urandom(32)
    seen.append(p)
    s1.sendto(socks_udp_header(echo) + p, relay)
    counters["up"] += 1
    counters["down"] += 1
    expect_reply(s1, p, echo, "datagram from 127.0.0.1 (s1)", 5)

    # 3. Foreign address again, and the same IP from another port: dropped.
    p = marker("foreign2")
    fx.sendto(socks_udp_header(echo) + p, relay)
    never.append(p)
    counters["foreign"] += 1
    p = marker("otherprt")
    s2.sendto(socks_udp_header(echo) + p, relay)
    never.append(p)
    counters["foreign"] += 1
    expect_silence([fx, s1, s2], "datagrams from %s and from 127.0.0.1 on another port" % a.foreign_ip, quiet)

    # 4. FRAG != 0 from the right source: dropped (no reassembly, RFC 1928 §7).
    for frag in (1, 0x81):
        p = marker("frag%02x" % frag)
        s1.sendto(socks_udp_header(echo, frag) + p, relay)
        never.append(p)
        counters["frag"] += 1
    expect_silence([s1], "datagrams with FRAG 1 and 0x81", quiet)

    # 5. Malformed headers from the right source: dropped.
    bad = [
        b"\x00\x01\x00\x01" + socket.inet_aton(echo[0]) + struct.pack(">H", echo[1]) + marker("rsv"),  # RSV != 0
        b"\x00\x00\x00\x09" + socket.inet_aton(echo[0]) + struct.pack(">H", echo[1]) + marker("atyp9"),  # ATYP 9
        b"\x00\x00\x00\x01\x0a\x1f",  # truncated address
    ]
    for b in bad:
        s1.sendto(b, relay)
        counters["malformed"] += 1
    never.append(bad[0][10:])
    never.append(bad[1][10:])
    expect_silence([s1], "malformed datagrams (RSV != 0, ATYP 9, truncated)", quiet)

    # 6. The association still works.
    p = b"legit-2-" + os.urandom(700)
    seen.append(p)
    s1.sendto(socks_udp_header(echo) + p, relay)
    counters["up"] += 1
    counters["down"] += 1
    expect_reply(s1, p, echo, "datagram from s1 after the dropped ones", 5)

    if a.end == "close":
        # 7. Close the TCP control connection: the association ends.
        c.close()
        what = "after closing the control connection"
    else:
        # 7'. Stay idle: braid ends the association after limits.idle_timeout_ms
        #     and closes the control connection itself. Meanwhile, for
        #     idle_min - 0.5 s, garbage (foreign address, FRAG 1) keeps coming:
        #     it must not count as activity, so the end comes at most idle_max
        #     after the client's last good datagram.
        t0 = time.monotonic()
        garbage_until = t0 + max(0.0, a.idle_min - 0.5)
        d = None
        while d is None:
            now = time.monotonic()
            if now - t0 > a.idle_wait:
                fail("braid kept the idle association open for more than %.1fs" % a.idle_wait)
            if now < garbage_until:
                p = marker("idlefx")
                fx.sendto(socks_udp_header(echo) + p, relay)
                never.append(p)
                counters["foreign"] += 1
                p = marker("idlefrag")
                s1.sendto(socks_udp_header(echo, 1) + p, relay)
                never.append(p)
                counters["frag"] += 1
                c.settimeout(min(0.25, max(0.01, garbage_until - now)))
            else:
                c.settimeout(max(0.01, a.idle_wait - (now - t0)))
            try:
                d = c.recv(100)
            except socket.timeout:
                continue
            except ConnectionResetError:
                d = b""
        took = time.monotonic() - t0
        if d:
            fail("unexpected bytes on the control connection: %s" % d.hex())
        out("ok: braid closed the idle control connection %.2fs after the last good datagram "
            "(garbage sent for the first %.2fs)" % (took, garbage_until - t0))
        if took < a.idle_min:
            fail("the association ended after %.2fs, before the idle timeout" % took)
        if took > a.idle_max:
            fail("the association ended only after %.2fs (want at most %.1fs): did dropped datagrams count as "
                 "activity?" % (took, a.idle_max))
        c.close()
        what = "after the idle timeout"
    m, _ = wait_log(a.braid_log, r"\[s%s\] UDP association: (\d+) [a-z ]*datagrams [a-z ]+, (\d+) [a-z ]+; dropped: (\d+) from other "
                 r"addresses, (\d+) fragments, (\d+) malformed, (\d+) late, (\d+) queue full, (\d+) unsendable" % sid, 5, at)
    if not m:
        fail("braid did not log the end of the association s%s within 5 s %s" % (sid, what))
    out("log " + m.group(0))
    p = marker("afterend")
    s1.sendto(socks_udp_header(echo) + p, relay)
    never.append(p)
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # connected: sees ICMP port unreachable
    r.bind(("127.0.0.1", 0))
    r.connect(relay)
    p2 = marker("aftere2")
    r.send(socks_udp_header(echo) + p2)
    never.append(p2)
    refused = False
    r.settimeout(1.0)
    try:
        r.recv(100)
        fail("a datagram to the relay port %s got an answer %s" % (relay[1], what))
    except ConnectionRefusedError:
        refused = True
    except socket.timeout:
        pass
    out("relay port %d %s" % (relay[1], "closed (ICMP port unreachable)" if refused else "silent"))
    if not refused:
        import subprocess
        ss = subprocess.run(["ss", "-Huan", "sport = :%d" % relay[1]], capture_output=True, text=True).stdout
        if ss.strip():
            fail("the relay port %d is still open %s: %s" % (relay[1], what, ss.strip()))
        out("note: no ICMP port unreachable (rate limit?), but nothing is bound to port %d" % relay[1])
    expect_silence([s1], "datagram %s" % what, quiet)

    # The dropped datagrams never reached the server.
    time.sleep(0.2)
    with open(a.echo_log, errors="replace") as f:
        log = f.read()
    for p in seen:  # (proves the search below can find something)
        if "head " + p[:16].hex() not in log:
            fail("the echo server's log does not show the good datagram %r" % p[:16])
    for p in never:
        if p[:16].hex() in log:
            fail("a dropped datagram reached the echo server: payload %r" % p[:16])
    out("ok: none of the %d dropped datagrams reached the echo server" % len(never))
    out("expect_counters up=%(up)d down=%(down)d foreign=%(foreign)d frag=%(frag)d malformed=%(malformed)d" % counters)
    got = dict(up=int(m.group(1)), down=int(m.group(2)), foreign=int(m.group(3)), frag=int(m.group(4)),
               malformed=int(m.group(5)), late=int(m.group(6)), full=int(m.group(7)), unsendable=int(m.group(8)))
    want = dict(counters, late=0, full=0, unsendable=0)
    if got != want:
        fail("braid's counters for s%s are %s, want %s" % (sid, got, want))
    out("ok: braid's counters " + " ".join("%s=%d" % kv for kv in got.items()))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("echo")
    e.add_argument("--proxy", default="127.0.0.1:1080")
    e.add_argument("--dest", required=True, help="HOST:PORT (HOST may be a name, sent as ATYP 3)")
    e.add_argument("--expect-from", required=True, help="IP:PORT every reply must come from")
    e.add_argument("--count", type=int, default=200)
    e.add_argument("--min", type=int, default=1)
    e.add_argument("--max", type=int, default=1400)
    e.add_argument("--sizes", help="comma-separated payload sizes instead of random ones (-1: empty-reply probe)")
    e.add_argument("--seed", type=int, default=None)
    e.add_argument("--timeout", type=float, default=2.0)
    e.add_argument("--retries", type=int, default=2)
    e.add_argument("--max-lost", type=int, default=0)
    e.add_argument("--hold", type=float, default=0, help="seconds to keep the association open at the end")
    d = sub.add_parser("dns")
    d.add_argument("--proxy", default="127.0.0.1:1080")
    d.add_argument("--server", required=True)
    d.add_argument("--name", required=True)
    d.add_argument("--qtype", default="A", choices=sorted(QTYPES))
    d.add_argument("--edns", type=int, default=0, help="advertise this EDNS0 UDP payload size")
    d.add_argument("--expect-from")
    d.add_argument("--expect-a")
    d.add_argument("--expect-txt-len", type=int, help="total bytes of TXT data in the answer")
    d.add_argument("--expect-rcode", type=int)
    d.add_argument("--timeout", type=float, default=3.0)
    s = sub.add_parser("security")
    s.add_argument("--proxy", default="127.0.0.1:1080")
    s.add_argument("--echo", required=True, help="IP:PORT of the echo server")
    s.add_argument("--echo-log", required=True)
    s.add_argument("--braid-log", required=True)
    s.add_argument("--foreign-ip", required=True, help="another local address to send from")
    s.add_argument("--quiet", type=float, default=1.0, help="seconds of silence that count as no reply")
    s.add_argument("--end", choices=("close", "idle"), default="close")
    s.add_argument("--idle-wait", type=float, default=10.0)
    s.add_argument("--idle-min", type=float, default=0.0, help="the idle end may not come earlier (s)")
    s.add_argument("--idle-max", type=float, default=1e9, help="the idle end must come by then (s)")
    a = ap.parse_args()
    return {"echo": cmd_echo, "dns": cmd_dns, "security": cmd_security}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())

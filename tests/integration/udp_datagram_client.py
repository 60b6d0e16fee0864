#!/usr/bin/env python3
"""Streaming SOCKS5 UDP client for udp_datagram_test.sh (runs in ns cli, as root).

    udp_datagram_client.py stream --dest IP:PORT --expect-from IP:PORT [options]

PySocks (python3-socks) opens one UDP association through braid, waits
--settle seconds (so the datagram carrier's probes have found the paths),
then sends --count datagrams, one every --interval seconds, without waiting
for answers and without retrying (datagram semantics). Every datagram starts
with its index ("%06d|") followed by random bytes; udp_echo_server.py answers
"echo:" + the payload with every byte inverted, so each reply is matched to
exactly one datagram, its content checked, and its source (the SOCKS5 UDP
header) must be --expect-from. A second reply to the same datagram fails the
run (the app must see each datagram once, whatever the carrier duplicated).

While it runs it can (all of this happens inside the cli namespace):
  --at SEC:CMD      run the shell command CMD SEC seconds after the first
                    datagram (e.g. an nft blackhole); "{busiest}" / "{other}"
                    in CMD become the interface that carried the most / the
                    fewest of this association's data packets so far (needs
                    --capture).
  --capture         watch the packets leaving for the concentrator's UDP port
                    (AF_PACKET): per interface, how many data packets (TYPE 1)
                    of this association left, before and after the first --at
                    action; the association id (bytes 2..5 of every packet).
After the last datagram and --drain seconds for late replies, with the
association still open:
  --forge N         N packets to the concentrator's UDP port with the live
                    association id, a data body addressed to --dest and a
                    random (wrong) 16-byte tag;
  --unknown N       N well-formed packets (random tag) with association ids
                    that are not live;
  --replay N        N of the captured data packets of this association, sent
                    again byte for byte from another socket (a replay);
then --quiet seconds in which no reply may reach the app. With --echo-log,
the echo server's log must show none of the forged / unknown payloads and
no datagram of this run more than once (packet bodies are encrypted, so a
replayed packet's datagram cannot be named; a replay that got through would
show as its datagram twice), and no captured packet may carry a datagram's
content in clear.

Prints "KEY value" lines (sent, received, lost, lost_ranges, assoc, ...) and
exits 0 when every check held, 1 otherwise ("FAIL: reason" on stderr).
Everything is bounded by timeouts.
"""
import argparse
import collections
import os
import random
import select
import socket
import struct
import subprocess
import sys
import threading
import time

MAGIC = 0xB7
TAG_LEN = 16
HEADER_LEN = 15  # MAGIC TYPE ASSOC(4) SEQ(8) PATH(1)
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def fail(msg: str) -> None:
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def out(*a) -> None:
    print(*a, flush=True)


def hostport(s: str):
    h, _, p = s.rpartition(":")
    return h, int(p)


def transform(payload: bytes) -> bytes:
    return b"echo:" + bytes(b ^ 0xFF for b in payload)


def ranges(ix):
    """[1,2,3,7,9,10] -> '1-3,7,9-10'"""
    if not ix:
        return "-"
    ix = sorted(ix)
    parts, start, prev = [], ix[0], ix[0]
    for i in ix[1:] + [None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(str(start) if start == prev else "%d-%d" % (start, prev))
        if i is not None:
            start = prev = i
    return ",".join(parts)


class Capture(threading.Thread):
    """Outgoing UDP packets to PORT on any interface of this namespace."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        self.sock.settimeout(0.1)
        self.stop = False
        self.lock = threading.Lock()
        self.assoc = collections.Counter()  # association id -> packets
        self.data = []  # (time, ifname, dst (ip, port), udp payload) of TYPE 1 packets
        self.other = collections.Counter()  # (ifname, type) -> packets of other types

    def run(self):
        while not self.stop:
            try:
                pkt, addr = self.sock.recvfrom(70000)
            except socket.timeout:
                continue
            except OSError:
                return
            ifname, _, pkttype = addr[0], addr[1], addr[2]
            if pkttype != PACKET_OUTGOING or len(pkt) < 28 or pkt[0] >> 4 != 4 or pkt[9] != 17:
                continue
            ihl = (pkt[0] & 0x0F) * 4
            udp = pkt[ihl:]
            if len(udp) < 8:
                continue
            dport = struct.unpack(">H", udp[2:4])[0]
            if dport != self.port:
                continue
            body = udp[8:]
            if len(body) < HEADER_LEN + TAG_LEN or body[0] != MAGIC:
                continue
            assoc = struct.unpack(">I", body[2:6])[0]
            dst = (socket.inet_ntoa(pkt[16:20]), dport)
            with self.lock:
                self.assoc[assoc] += 1
                # TYPE bits 0-3; bits 4-5 of data name the client's scheduler
                # for the destination (docs/PROTOCOL.md).
                if body[1] & 0x0F == 1:
                    self.data.append((time.monotonic(), ifname, dst, assoc, bytes(body)))
                else:
                    self.other[(ifname, body[1])] += 1

    def live_assoc(self):
        with self.lock:
            return self.assoc.most_common(1)[0][0] if self.assoc else None

    def data_by_if(self, assoc, before=None, after=None):
        c = collections.Counter()
        with self.lock:
            for t, ifname, _, a, _ in self.data:
                if a != assoc:
                    continue
                if before is not None and t >= before:
                    continue
                if after is not None and t < after:
                    continue
                c[ifname] += 1
        return c


def data_body(dest, payload: bytes) -> bytes:
    return b"\x01" + socket.inet_aton(dest[0]) + struct.pack(">H", dest[1]) + payload


def cmd_stream(a) -> int:
    try:
        import socks  # python3-socks (PySocks)
    except ImportError:
        print("SKIP: python3-socks (PySocks) is not installed", file=sys.stderr)
        sys.exit(77)
    socket.setdefaulttimeout(10)  # PySocks' control connection
    rng = random.Random(a.seed)
    dest = hostport(a.dest)
    want_from = hostport(a.expect_from)
    conc = hostport(a.conc) if a.conc else None

    cap = None
    if a.capture or a.replay or a.forge or a.unknown:
        cap = Capture(conc[1] if conc else 7300)
        cap.start()

    s = socks.socksocket(socket.AF_INET, socket.SOCK_DGRAM)
    ph, pp = hostport(a.proxy)
    s.set_proxy(socks.SOCKS5, ph, pp, rdns=True)
    s.settimeout(5)
    s.bind(("127.0.0.1", 0))  # PySocks sends UDP ASSOCIATE here
    t_assoc = time.monotonic()
    relay = socket.socket.getpeername(s)
    out("relay %s:%d" % relay)
    time.sleep(a.settle)

    payloads, sent_at, got_at = [], [], {}
    for i in range(a.count):
        size = rng.randint(max(a.min, 16), max(a.max, 16))
        payloads.append(b"%06d|" % i + rng.randbytes(size - 7))
    expected = {transform(p): i for i, p in enumerate(payloads)}
    actions = []
    for spec in a.at:
        sec, _, cmd = spec.partition(":")
        actions.append([float(sec), cmd, None, None])  # (at, cmd, ran at, next index)
    actions.sort(key=lambda x: x[0])

    def take_reply():
        data, src = s.recvfrom(70000)
        now = time.monotonic()
        src = (src[0].decode() if isinstance(src[0], bytes) else src[0], src[1])
        i = expected.get(data)
        if i is None:
            fail("unexpected reply of %d bytes from %s:%d: %s..." % (len(data), src[0], src[1], data[:24].hex()))
        if src != want_from:
            fail("reply to datagram %d came from %s:%d, want %s:%d" % (i, src[0], src[1], *want_from))
        if i in got_at:
            fail("the app got the reply to datagram %d twice" % i)
        got_at[i] = now

    def pump(until):
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([s], [], [], left)
            if r:
                try:
                    take_reply()
                except (BlockingIOError, socket.timeout):
                    pass
                except OSError as e:  # PySocks: "Packet filtered" from another source
                    fail("recvfrom on the relay socket: %s" % e)

    def run_action(act, t0, i):
        cmd = act[1]
        if cap and ("{busiest}" in cmd or "{other}" in cmd):
            by_if = cap.data_by_if(cap.live_assoc())
            names = [n for n in a.paths.split(",")]
            ordered = sorted(names, key=lambda n: by_if.get(n, 0), reverse=True)
            cmd = cmd.replace("{busiest}", ordered[0]).replace("{other}", ordered[-1])
            out("action_busiest %s (data packets so far: %s)" % (ordered[0], dict(by_if)))
        r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10)
        act[2], act[3] = time.monotonic(), i
        out("action at +%.3fs (%.3fs after the association started) before datagram %d: %s -> rc %d %s"
            % (act[2] - t0, act[2] - t_assoc, i, cmd, r.returncode, r.stderr.strip()))
        if r.returncode != 0:
            fail("action failed: %s: %s" % (cmd, r.stderr.strip()))

    t0 = time.monotonic()
    nact = 0
    for i, p in enumerate(payloads):
        due = t0 + i * a.interval
        pump(due)
        while nact < len(actions) and time.monotonic() - t0 >= actions[nact][0]:
            run_action(actions[nact], t0, i)
            nact += 1
        sent_at.append(time.monotonic())
        s.sendto(p, dest)
    pump(time.monotonic() + a.drain)
    for act in actions[nact:]:  # actions scheduled after the stream
        run_action(act, t0, a.count)

    lost = [i for i in range(a.count) if i not in got_at]
    rtts = sorted((got_at[i] - sent_at[i]) * 1000 for i in got_at)
    out("sent", a.count)
    out("received", len(got_at))
    out("lost", len(lost))
    out("lost_ranges", ranges(lost))
    if rtts:
        out("reply_ms median %.2f p99 %.2f max %.2f" % (rtts[len(rtts) // 2], rtts[int(len(rtts) * 0.99)], rtts[-1]))
    if lost:
        # send times of the first and last lost datagram, after the association started
        out("lost_since_associate %.3f %.3f" % (sent_at[lost[0]] - t_assoc, sent_at[lost[-1]] - t_assoc))
    else:
        out("lost_since_associate - -")
    if actions and actions[0][2] is not None:
        ta = actions[0][2]
        out("action_index", actions[0][3])
        out("action_since_associate %.3f" % (ta - t_assoc))
        if lost:
            rel = [sent_at[i] - ta for i in lost]
            out("lost_window %.3f %.3f" % (min(rel), max(rel)))  # send times relative to the first action
            out("lost_before_action", sum(1 for x in rel if x < 0))
        else:
            out("lost_window - -")
            out("lost_before_action", 0)
        after = [i for i in range(a.count) if sent_at[i] >= ta]
        last_lost_after = max([i for i in lost if sent_at[i] >= ta], default=None)
        if last_lost_after is not None and last_lost_after + 1 < a.count:
            out("recovered_after %.3f" % (sent_at[last_lost_after + 1] - ta))
        else:
            out("recovered_after %s" % ("0.000" if last_lost_after is None else "never"))
        out("datagrams_after_action", len(after))

    assoc = None
    if cap:
        time.sleep(0.05)
        assoc = cap.live_assoc()
        out("assoc", assoc if assoc is not None else "none")
        if assoc is not None:
            out("assoc_hex %08x" % assoc)
            total = cap.data_by_if(assoc)
            out("captured_data", " ".join("%s=%d" % kv for kv in sorted(total.items())) or "-")
            if actions and actions[0][2] is not None:
                before = cap.data_by_if(assoc, before=actions[0][2])
                after = cap.data_by_if(assoc, after=actions[0][2])
                out("captured_data_before_action", " ".join("%s=%d" % kv for kv in sorted(before.items())) or "-")
                out("captured_data_after_action", " ".join("%s=%d" % kv for kv in sorted(after.items())) or "-")
            with cap.lock:
                probes = dict(("%s/type%d" % k, v) for k, v in cap.other.items())
            out("captured_other", " ".join("%s=%d" % kv for kv in sorted(probes.items())) or "-")

    # ---- forged / unknown / replayed packets, the association still open
    never, once = [], []
    if a.forge or a.unknown or a.replay:
        if assoc is None:
            fail("no packet of the association was captured: cannot forge or replay (datagram carrier not used?)")
        if conc is None:
            fail("--conc is required for --forge/--unknown/--replay")
        # (what braid sent, before anything of ours joins the capture)
        with cap.lock:
            mine = [d for d in cap.data if d[3] == assoc]
        cap.stop = True
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if a.forge_from:
            raw.bind((a.forge_from, 0))
        for k in range(a.forge):
            marker = ("F%03d" % k).encode() + os.urandom(6).hex().encode()
            never.append(marker)
            body = bytes([MAGIC, 1]) + struct.pack(">IQB", assoc, rng.getrandbits(40) + 1_000_000, 0)
            raw.sendto(body + data_body(dest, marker + os.urandom(16)) + os.urandom(TAG_LEN), conc)
            time.sleep(0.002)
        out("forged_sent", a.forge)
        for k in range(a.unknown):
            other = assoc
            while other == assoc or other == 0:
                other = rng.getrandbits(32)
            marker = ("U%03d" % k).encode() + os.urandom(6).hex().encode()
            never.append(marker)
            body = bytes([MAGIC, 1]) + struct.pack(">IQB", other, k + 1, 0)
            raw.sendto(body + data_body(dest, marker + os.urandom(16)) + os.urandom(TAG_LEN), conc)
            time.sleep(0.002)
        out("unknown_sent", a.unknown)
        if a.replay:
            if len(mine) < a.replay:
                fail("only %d data packets of the association were captured, want %d to replay" % (len(mine), a.replay))
            pick = mine[:: max(1, len(mine) // a.replay)][: a.replay]
            for _, ifname, dst, _, body in pick:
                raw.sendto(body, dst)
                time.sleep(0.002)
            out("replayed_sent", len(pick))
            # The bodies are ciphertext: no datagram's content shows in any
            # captured packet. The echo server logs each datagram's first 16
            # bytes, so every datagram of this run is checked for "once".
            for _, _, _, _, body in mine:
                for p in payloads:
                    if p[:16] in body:
                        fail("a captured data packet carries datagram %r in clear" % p[:7])
            once = [p[:16] for p in payloads]
            out("captured_encrypted %d data packets, none carries a datagram in clear" % len(mine))
        raw.close()
        # Nothing may come back to the app from any of that.
        before = len(got_at)
        quiet_until = time.monotonic() + a.quiet
        while time.monotonic() < quiet_until:
            r, _, _ = select.select([s], [], [], max(0.0, quiet_until - time.monotonic()))
            if r:
                data, src = s.recvfrom(70000)
                i = expected.get(data)
                fail("during the quiet period the app got a %d-byte reply (%s) from %s"
                     % (len(data), "a second reply to datagram %d" % i if i is not None else "unknown", src))
        out("quiet_ok %.1fs (replies %d)" % (a.quiet, len(got_at) - before))

    if a.echo_log and (never or once):
        time.sleep(0.3)
        with open(a.echo_log, errors="replace") as f:
            log = f.read()
        leaked = [m for m in never if "head " + m.hex() + "\n" in log]
        if leaked:
            fail("%d forged/unknown packets reached the echo server, e.g. %r" % (len(leaked), leaked[0]))
        for h in once:
            n = log.count("head " + h.hex() + "\n")
            if n > 1:
                fail("a datagram reached the echo server %d times, want at most once (head %s): a replay got through"
                     % (n, h.hex()))
        out("echo_log_ok none of %d forged/unknown reached the echo server; none of the %d datagrams reached it twice"
            % (len(never), len(once)))

    if a.hold > 0:
        time.sleep(a.hold)
    if cap:
        cap.stop = True
    s.close()
    out("elapsed %.2fs" % (time.monotonic() - t0))
    if len(lost) > a.max_lost:
        fail("%d of %d datagrams got no reply (allowed %d): %s" % (len(lost), a.count, a.max_lost, ranges(lost)))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("stream")
    e.add_argument("--proxy", default="127.0.0.1:1080")
    e.add_argument("--dest", required=True)
    e.add_argument("--expect-from", required=True)
    e.add_argument("--conc", help="the concentrator's UDP address (IP:PORT), for --capture/--forge/--replay")
    e.add_argument("--count", type=int, default=200)
    e.add_argument("--interval", type=float, default=0.02)
    e.add_argument("--min", type=int, default=16)
    e.add_argument("--max", type=int, default=1200)
    e.add_argument("--seed", type=int, default=None)
    e.add_argument("--settle", type=float, default=0.0, help="seconds between UDP ASSOCIATE and the first datagram")
    e.add_argument("--drain", type=float, default=1.0, help="seconds to wait for replies after the last datagram")
    e.add_argument("--at", action="append", default=[], metavar="SEC:CMD")
    e.add_argument("--paths", default="wifi0,cell0", help="interfaces {busiest}/{other} choose from")
    e.add_argument("--capture", action="store_true")
    e.add_argument("--forge", type=int, default=0)
    e.add_argument("--unknown", type=int, default=0)
    e.add_argument("--replay", type=int, default=0)
    e.add_argument("--forge-from", help="local address to send forged/replayed packets from")
    e.add_argument("--quiet", type=float, default=1.0)
    e.add_argument("--echo-log")
    e.add_argument("--hold", type=float, default=0.0)
    e.add_argument("--max-lost", type=int, default=0)
    a = ap.parse_args()
    return {"stream": cmd_stream}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())

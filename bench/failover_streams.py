#!/usr/bin/env python3
"""Constant-rate streams for the failover benchmark (bench/failover.sh).

Each stream is one TCP connection carrying RATE bit/s in each direction:
the server sends to the client (download) and the client sends to the
server (upload), in 1,250-byte chunks whose first 16 bytes are a magic,
a sequence number and the send time (CLOCK_REALTIME, shared by all network
namespaces of the host). Each receiver timestamps every read; the longest
gap between two reads is the stall a user of the stream would see.

  failover_streams.py serve --bind IP --port P --rate BPS --report FILE [--mptcp]
      accept streams; per connection a sender and a receiver thread; when
      the client ends the stream (EOF) or it breaks, append one JSON line to
      FILE with the upload side's record
  failover_streams.py run --dest IP:PORT [--socks HOST:PORT | --mptcp] --streams N
                          --rate BPS --seconds S --out FILE
      open N streams (through a SOCKS5 proxy, or straight with an MPTCP
      socket), run them for S seconds, end each with shutdown(SHUT_WR) and
      write the download side's records to FILE (JSON)
  failover_streams.py summary --client FILE --server FILE --event T --rate BPS
      one tab-separated line of key=value for bench/failover.sh: longest
      gap down/up (over the whole run and around the event), broken
      streams, delivered ÷ expected

A stream is broken when either end saw an error or an EOF before the
client ended it on purpose.
"""

import argparse
import json
import os
import socket
import struct
import sys
import threading
import time

CHUNK = 1250
MAGIC = 0x42524149  # "BRAI"
HDR = struct.Struct("!IId")  # magic, sequence, send time
IPPROTO_MPTCP = 262


class Recorder:
    """Timestamps every read of one direction of a stream and the send time
    carried by every chunk header, to find gaps and late chunks."""

    def __init__(self):
        self.reads = []  # (time, bytes)
        self.total = 0
        self.hdr = b""
        self.max_late = 0.0
        self.max_late_at = 0.0
        self.bad_magic = 0

    def feed(self, data, now):
        self.reads.append((now, len(data)))
        i = 0
        while i < len(data):
            off = self.total % CHUNK
            if off < HDR.size:
                take = min(HDR.size - off, len(data) - i)
                self.hdr += data[i:i + take]
                if len(self.hdr) == HDR.size:
                    magic, _, sent = HDR.unpack(self.hdr)
                    self.hdr = b""
                    if magic != MAGIC:
                        self.bad_magic += 1
                    elif now - sent > self.max_late:
                        self.max_late, self.max_late_at = now - sent, now
            else:
                take = min(CHUNK - off, len(data) - i)
            i += take
            self.total += take

    def record(self, **extra):
        d = {"bytes": self.total, "reads": [(round(t, 4), n) for t, n in self.reads],
             "max_late": round(self.max_late, 4), "max_late_at": round(self.max_late_at, 4),
             "bad_magic": self.bad_magic}
        d.update(extra)
        return d


def pace_sender(sock, rate, stop, errors, first=b""):
    """Sends chunks so that RATE bit/s leave on average; after a blocked
    send it catches up, as a real-time source with a buffer would."""
    per_s = rate / 8 / CHUNK
    seq, t0 = 0, time.time()
    pad = bytes(CHUNK - HDR.size)
    try:
        if first:
            sock.sendall(first)
        while not stop.is_set():
            due = int((time.time() - t0) * per_s) + 1
            while seq < due and not stop.is_set():
                sock.sendall(HDR.pack(MAGIC, seq, time.time()) + pad)
                seq += 1
            stop.wait(max(0.0, t0 + seq / per_s - time.time()))
    except OSError as e:
        if not stop.is_set():
            errors.append(f"send: {e}")


# ---------------------------------------------------------------- server
def serve(a):
    fam = IPPROTO_MPTCP if a.mptcp else 0
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, fam)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(64)
    lock = threading.Lock()
    print(f"listening {a.bind}:{a.port}{' (MPTCP)' if a.mptcp else ''}", flush=True)

    def handle(c, peer):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stop, errors = threading.Event(), []
        rec = Recorder()
        ident = b""
        try:
            while len(ident) < 16:  # stream name, sent first by the client
                d = c.recv(16 - len(ident))
                if not d:
                    raise OSError("EOF before the stream name")
                ident += d
        except OSError as e:
            c.close()
            print(f"stream from {peer}: {e}", file=sys.stderr, flush=True)
            return
        name = ident.decode(errors="replace").strip()
        sender = threading.Thread(target=pace_sender, args=(c, a.rate, stop, errors), daemon=True)
        sender.start()
        eof = False
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    eof = True
                    break
                rec.feed(d, time.time())
        except OSError as e:
            errors.append(f"recv: {e}")
        stop.set()
        sender.join(5)
        end = time.time()
        try:
            c.close()
        except OSError:
            pass
        line = json.dumps(rec.record(name=name, eof=eof, errors=errors, end=round(end, 4)))
        with lock:
            with open(a.report, "a") as f:
                f.write(line + "\n")

    while True:
        c, peer = ls.accept()
        threading.Thread(target=handle, args=(c, peer), daemon=True).start()


# ---------------------------------------------------------------- client
def socks5_connect(proxy, dest, timeout=10):
    host, port = proxy
    s = socket.create_connection((host, port), timeout=timeout)
    s.sendall(b"\x05\x01\x00")
    if s.recv(2) != b"\x05\x00":
        raise OSError("SOCKS5 method refused")
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(dest[0]) + struct.pack("!H", dest[1]))
    rep = b""
    while len(rep) < 10:
        d = s.recv(10 - len(rep))
        if not d:
            raise OSError("EOF in the SOCKS5 reply")
        rep += d
    if rep[1] != 0:
        raise OSError(f"SOCKS5 CONNECT refused (REP {rep[1]})")
    s.settimeout(None)
    return s


def run(a):
    host, port = a.dest.rsplit(":", 1)
    dest = (host, int(port))
    streams = []
    t_open = time.time()
    for i in range(a.streams):
        name = f"s{i}-{os.getpid()}".ljust(16)[:16]
        if a.socks:
            ph, pp = a.socks.rsplit(":", 1)
            s = socks5_connect((ph, int(pp)), dest)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP if a.mptcp else 0)
            s.settimeout(10)
            s.connect(dest)
            s.settimeout(None)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        st = {"name": name.strip(), "sock": s, "rec": Recorder(), "errors": [], "eof": False, "stop": threading.Event()}
        st["sender"] = threading.Thread(target=pace_sender, args=(s, a.rate, st["stop"], st["errors"], name.encode()),
                                        daemon=True)
        streams.append(st)
    t0 = time.time()
    for st in streams:
        st["sender"].start()

    def reader(st):
        s = st["sock"]
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    st["eof"] = True
                    return
                st["rec"].feed(d, time.time())
        except OSError as e:
            st["errors"].append(f"recv: {e}")

    readers = [threading.Thread(target=reader, args=(st,), daemon=True) for st in streams]
    for r in readers:
        r.start()
    time.sleep(max(0.0, t0 + a.seconds - time.time()))
    t_end = time.time()
    # End on purpose: stop sending, half-close, let the server close.
    eof_before_end = [st["eof"] for st in streams]
    for st in streams:
        st["stop"].set()
    for st in streams:
        st["sender"].join(5)
        try:
            st["sock"].shutdown(socket.SHUT_WR)
        except OSError as e:
            st["errors"].append(f"shutdown: {e}")
    for r in readers:
        r.join(5)
    for st in streams:
        st["sock"].close()
    out = {"start": round(t0, 4), "end": round(t_end, 4), "open_s": round(t0 - t_open, 3), "streams": [
        st["rec"].record(name=st["name"], errors=st["errors"], eof_before_end=e)
        for st, e in zip(streams, eof_before_end)]}
    with open(a.out, "w") as f:
        json.dump(out, f)


# ---------------------------------------------------------------- summary
def gaps(reads, start, end):
    """Longest gap between reads (and from start / to end), and where it began."""
    times = [start] + [t for t, _ in reads if start <= t <= end] + [end]
    best, at = 0.0, start
    for x, y in zip(times, times[1:]):
        if y - x > best:
            best, at = y - x, x
    return best, at


def summary(a):
    with open(a.client) as f:
        cl = json.load(f)
    srv = {}
    try:
        with open(a.server) as f:
            for line in f:
                d = json.loads(line)
                srv[d["name"]] = d
    except OSError:
        pass
    start, end, ev = cl["start"], cl["end"], a.event
    # The first second is the streams settling (and the other side's first
    # chunk arriving); gaps count from then on.
    settle = start + 1.0
    out = {"streams": len(cl["streams"])}
    broken, notes = 0, []
    worst = {"down": (0.0, 0.0, ""), "up": (0.0, 0.0, "")}
    before = {"down": 0.0, "up": 0.0}
    delivered = {"down": 0, "up": 0}
    late = {"down": 0.0, "up": 0.0}
    for st in cl["streams"]:
        name = st["name"]
        up = srv.get(name)
        sides = [("down", st)] + ([("up", up)] if up else [])
        why = []
        if not up:
            why.append("the server has no record of it")
        elif up["errors"] or not up["eof"]:
            why.append(f"server side: {'; '.join(up['errors']) or 'no EOF'}")
        if st["errors"] or st["eof_before_end"]:
            why.append(f"client side: {'; '.join(st['errors']) or 'EOF before the end'}")
        if why:
            broken += 1
            notes.append(f"{name}: {', '.join(why)}")
        for side, rec in sides:
            g, at = gaps(rec["reads"], settle, end)
            if g > worst[side][0]:
                worst[side] = (g, at, name)
            gb, _ = gaps(rec["reads"], settle, min(ev, end))
            before[side] = max(before[side], gb)
            delivered[side] += rec["bytes"]
            late[side] = max(late[side], rec["max_late"])
    expected = a.rate / 8 * (end - start) * len(cl["streams"])
    for side in ("down", "up"):
        g, at, name = worst[side]
        out[f"gap_{side}"] = round(g, 3)
        out[f"gap_{side}_from"] = round(at - ev, 3)  # seconds after the event the gap began
        out[f"gap_{side}_before"] = round(before[side], 3)
        out[f"late_{side}"] = round(late[side], 3)
        out[f"delivered_{side}"] = round(delivered[side] / expected, 3) if expected else 0
    out["broken"] = broken
    out["notes"] = "; ".join(notes)[:300]
    print("\t".join(f"{k}={v}" for k, v in out.items()))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--bind", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--rate", type=float, default=1e6)
    s.add_argument("--report", required=True)
    s.add_argument("--mptcp", action="store_true")
    r = sub.add_parser("run")
    r.add_argument("--dest", required=True)
    r.add_argument("--socks")
    r.add_argument("--mptcp", action="store_true")
    r.add_argument("--streams", type=int, default=4)
    r.add_argument("--rate", type=float, default=1e6)
    r.add_argument("--seconds", type=float, default=20)
    r.add_argument("--out", required=True)
    m = sub.add_parser("summary")
    m.add_argument("--client", required=True)
    m.add_argument("--server", required=True)
    m.add_argument("--event", type=float, required=True)
    m.add_argument("--rate", type=float, default=1e6)
    a = p.parse_args()
    {"serve": serve, "run": run, "summary": summary}[a.cmd](a)


if __name__ == "__main__":
    main()

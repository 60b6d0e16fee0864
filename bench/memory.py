#!/usr/bin/env python3
"""Memory per idle proxied connection, braid vs the peers, on loopback.

For each proxy (bench/proxies.py): start it, read its memory with no
connections, then open SOCKS5 CONNECT sessions through it to a local sink
until LEVELS (default 1,000 then 10,000) are open, and read its memory again
after each level has settled. Each session exchanges one byte each way when
it opens (the sink sends one, the client sends one), so every buffer a proxy
allocates on first use is in place; then nothing flows while memory is read.

Memory = PSS summed over the proxy's process tree (smaps_rollup; equal to RSS
for one process apart from the shared-library share, and not charging a
process pool's workers for the same library pages), RSS shown too.
Bytes per connection = (PSS at n − PSS at 0) / n: user-space memory only;
kernel socket buffers are not in it.

Usage: memory.py BIN_DIR   (environment: BENCH_MEM_LEVELS="1000 10000",
BENCH_MEM_ONLY=braid-direct,..., BENCH_MEM_EXCHANGE=0 to skip the one-byte
exchange, BENCH_KEEP=1 to keep the work directory)
Prints a Markdown section on stdout, progress on stderr. Exit 0 even when a
target is missed; 1 when no proxy could be measured at all.
"""

import os
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxies  # noqa: E402

TARGET_BYTES = 8 * 1024
SETTLE_S = 2.0
OPEN_BUDGET_S = 120  # per proxy, for all levels


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] memory: {msg}", file=sys.stderr, flush=True)


class Sink:
    """Accepts connections on 127.0.0.1, sends one byte on each, holds them."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((proxies.HOST, 0))
        self.sock.listen(4096)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop_flag.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            try:
                c.sendall(b"y")
            except OSError:
                pass
            self.held.append(c)

    def drop_all(self):
        held, self.held = self.held, []
        for c in held:
            c.close()

    def close(self):
        self.stop_flag.set()
        self.thread.join(2)
        self.drop_all()
        self.sock.close()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"EOF after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def open_session(port, sink_port, exchange):
    s = socket.create_connection((proxies.HOST, port), timeout=10)
    try:
        s.sendall(b"\x05\x01\x00")
        if recv_exact(s, 2) != b"\x05\x00":
            raise ConnectionError("SOCKS5 method selection refused")
        s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(proxies.HOST) + struct.pack(">H", sink_port))
        rep = recv_exact(s, 4)
        if rep[1] != 0:
            raise ConnectionError(f"SOCKS5 CONNECT refused, REP {rep[1]}")
        recv_exact(s, {1: 6, 4: 18}.get(rep[3], 0) or (recv_exact(s, 1)[0] + 2))
        if exchange:
            s.sendall(b"x")
            if recv_exact(s, 1) != b"y":
                raise ConnectionError("wrong byte from the sink")
    except BaseException:
        s.close()
        raise
    return s


def measure(kind, bin_dir, work, levels, exchange):
    """Returns a dict: label, per-process samples {level: (rss, pss, nproc)}, notes, error."""
    top = max(levels)
    nofile = 2 * top + 1024
    res = {"kind": kind, "samples": {}, "fds": {}, "per_session_fds": {}, "busiest_fds": {}, "level_as": {}, "notes": [],
           "error": None, "label": kind, "names": []}
    nofile_limit = proxies.nofile_granted(nofile)
    try:
        px = proxies.start(kind, bin_dir, os.path.join(work, kind), nofile, top + 1000)
    except proxies.Skip as e:
        res["error"] = f"skipped: {e}"
        return res
    res["label"] = px.label
    res["names"] = [n for n, _ in px.procs]
    res["notes"] += px.notes
    sink = Sink()
    clients = []
    try:
        time.sleep(1.0)

        def sample(level):
            res["samples"][level] = {name: proxies.memory_kib(pid) for name, pid in px.pids().items()}
            res["fds"][level] = {name: fd_count(pid) for name, pid in px.pids().items()}

        sample(0)
        t0 = time.time()
        for level in sorted(levels):
            # A proxy that holds more than two descriptors per session (braid's
            # zero-copy relay keeps two pipes per session) runs out of them
            # before the top level: measure it at the largest level that fits.
            if res["per_session_fds"]:
                room = {n: (nofile_limit - 64 - res["fds"][0][n][1]) / f
                        for n, f in res["busiest_fds"].items() if f > 0}
                fit = int(min(room.values()) // 500 * 500) if room else level
                if fit < level:
                    busiest = max(res["busiest_fds"].values())
                    if fit <= len(clients):
                        res["notes"].append(f"level {level:,} not measured: with {busiest:.1f} descriptors per session "
                                            f"in one process the open-file limit ({nofile_limit}) is reached first")
                        break
                    res["notes"].append(f"measured at {fit:,} instead of {level:,}: one of its processes holds "
                                        f"{busiest:.1f} descriptors per session and the open-file limit is {nofile_limit}")
                    res["level_as"][level] = fit
                    level = fit
            while len(clients) < level:
                if time.time() - t0 > OPEN_BUDGET_S:
                    raise RuntimeError(f"opening took longer than {OPEN_BUDGET_S} s ({len(clients)} open)")
                try:
                    clients.append(open_session(px.port, sink.port, exchange))
                except (OSError, ConnectionError) as e:
                    raise RuntimeError(f"session {len(clients) + 1} failed: {e}")
            # every session reached the sink (the proxy really connected upstream)
            deadline = time.time() + 10
            while len(sink.held) < level and time.time() < deadline:
                time.sleep(0.05)
            if len(sink.held) < level:
                raise RuntimeError(f"only {len(sink.held)} of {level} sessions reached the sink")
            time.sleep(SETTLE_S)
            sample(level)
            if not res["per_session_fds"]:
                res["per_session_fds"] = {n: (res["fds"][level][n][0] - res["fds"][0][n][0]) / level
                                          for n in res["fds"][level]}
                res["busiest_fds"] = {n: (res["fds"][level][n][1] - res["fds"][0][n][1]) / level
                                      for n in res["fds"][level]}
            log(f"{kind}: {level} open after {time.time() - t0:.1f} s; " +
                ", ".join(f"{n} PSS {v[1] / 1024:.1f} MiB ({v[2]} proc)" for n, v in res["samples"][level].items()))
        res["open_seconds"] = time.time() - t0
        res["opened"] = len(clients)
    except RuntimeError as e:
        res["error"] = str(e)
        log(f"{kind}: {e}")
    finally:
        dead = px.died()
        if dead:
            res["notes"].append("**process not running at the end: " + ", ".join(dead) + "**")
        for name, count, first in px.warn_lines():
            res["notes"].append(f"{name} log: {count} warn/error line(s); first: `{first}`")
        for c in clients:
            c.close()
        sink.close()
        px.stop()
    return res


def fd_count(pid):
    """(open descriptors of pid and its descendants, of the busiest one of
    them): the limit applies per process, so a process pool spreads them."""
    total = busiest = 0
    for p in proxies.descendants(pid):
        try:
            n = len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            continue
        total += n
        busiest = max(busiest, n)
    return total, busiest


def fmt_kib(k):
    return f"{k / 1024:.1f}"


def main():
    bin_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "build", "bin")
    levels = [int(x) for x in os.environ.get("BENCH_MEM_LEVELS", "1000 10000").split()]
    only = [k for k in os.environ.get("BENCH_MEM_ONLY", "").split(",") if k]
    kinds = [k for k in proxies.KINDS if not only or k in only]
    exchange = os.environ.get("BENCH_MEM_EXCHANGE", "1") != "0"
    # A proxy holds two descriptors per session (client side, upstream side),
    # and so does this process (client end, sink end): each needs 2n plus a
    # few. When the hard limit cannot be raised (no CAP_SYS_RESOURCE), the top
    # level shrinks to the largest multiple of 500 that fits, and says so.
    asked = list(levels)
    got = proxies.raise_nofile(2 * max(levels) + 1024)
    fit = (got - 512) // 2 // 500 * 500
    levels = sorted({min(l, fit) for l in levels if min(l, fit) > 0})
    if not levels:
        print(f"SKIP: the open-file limit ({got}) is too low even for 500 connections", file=sys.stderr)
        return 77
    shrunk = levels != sorted(asked)
    work = tempfile.mkdtemp(prefix="braid-bench-memory.")
    results = []
    t_start = time.time()
    try:
        for kind in kinds:
            log(f"{kind}: starting")
            results.append(measure(kind, bin_dir, work, levels, exchange))
    finally:
        if os.environ.get("BENCH_KEEP") == "1":
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print("### Memory per idle proxied connection")
    print()
    print(f"SOCKS5 CONNECT sessions to a sink on 127.0.0.1, opened one after another and held idle; "
          f"{'each exchanged one byte each way when it opened, then ' if exchange else ''}"
          f"nothing flows while memory is read ({SETTLE_S:g} s after the last one opened). "
          "Memory = PSS summed over the proxy's processes (smaps_rollup), RSS in parentheses, MiB. "
          "**bytes per connection = (PSS at n − PSS at 0) ÷ n**: user-space memory only, "
          "kernel socket buffers are not in it. fds/conn = open descriptors per session (at the first level). "
          "Target for braid (issue 6): ≤ 8 KiB per idle connection, each process.")
    print()
    cols = " | ".join(f"at {l:,}" for l in levels)
    print(f"| proxy | process | at 0 | {cols} | " + " | ".join(f"bytes/conn at {l:,}" for l in levels) +
          " | fds/conn | target |")
    print("|---|---|---|" + "---|" * len(levels) * 2 + "---|---|")
    failures = []
    per_conn = {}  # kind -> total bytes per connection at the top level
    for r in results:
        if r["error"] and not r["samples"]:
            failures.append(f"{r['label']}: {r['error']}")
            continue
        names = r["names"] + (["total"] if len(r["names"]) > 1 else [])
        for name in names:
            def get(level):
                s = r["samples"].get(r["level_as"].get(level, level))
                if s is None:
                    return None
                if name == "total":
                    return tuple(sum(v[i] for v in s.values()) for i in range(3))
                return s.get(name)

            base = get(0)
            cells, pcs = [], []
            for l in levels:
                v = get(l)
                if v is None or base is None:
                    cells.append("–")
                    pcs.append(None)
                    continue
                procs = f", {v[2]} proc" if v[2] > 1 else ""
                real = r["level_as"].get(l, l)
                at = f" at {real:,}" if real != l else ""
                cells.append(f"{fmt_kib(v[1])} ({fmt_kib(v[0])}{procs}){at}")
                pcs.append((v[1] - base[1]) * 1024 / real)
            base_txt = f"{fmt_kib(base[1])} ({fmt_kib(base[0])})" if base else "–"
            pc_txt = ["–" if p is None else f"**{p:,.0f}**" for p in pcs]
            target = ""
            if r["kind"].startswith("braid") and name != "total":
                known = [p for p in pcs if p is not None]
                if known:
                    target = "≤ 8 KiB: " + ("met" if all(p <= TARGET_BYTES for p in known) else "**not met**")
            label = r["label"] if name == names[0] else ""
            if name == "total":
                fps = sum(r["per_session_fds"].values()) if r["per_session_fds"] else None
            else:
                fps = r["per_session_fds"].get(name)
            fps_txt = "–" if fps is None else f"{fps:.1f}"
            print(f"| {label} | {name} | {base_txt} | " + " | ".join(cells) + " | " + " | ".join(pc_txt) +
                  f" | {fps_txt} | {target} |")
            if name == names[-1] and pcs and pcs[-1] is not None:
                per_conn[r["kind"]] = pcs[-1]
        if r["error"]:
            failures.append(f"{r['label']}: {r['error']}")
    print()
    notes = []
    peers = {k: v for k, v in per_conn.items() if not k.startswith("braid")}
    if peers:
        best = min(peers, key=peers.get)
        for k in ("braid-direct", "braid-conc"):
            if k in per_conn and peers[best] > 0:
                notes.append(f"{k} (all processes) ÷ best peer ({best}, {peers[best]:,.0f} B): "
                             f"{per_conn[k] / peers[best]:.2f}× the bytes per connection at {levels[-1]:,}")
    if "ss" in per_conn:
        pair = ""
        if "braid-conc" in per_conn and per_conn["ss"] > 0:
            pair = (f": braid → concentrator total ÷ ss-local + ss-server total = "
                    f"{per_conn['braid-conc'] / per_conn['ss']:.2f}×")
        notes.append("shadowsocks is a local + remote pair like braid + concentrator, so its total compares with "
                     "the braid → concentrator total (microsocks and dante compare with braid's direct mode)" + pair)
    for r in results:
        for n in r["notes"]:
            notes.append(f"{r['label']}: {n}")
        if r.get("open_seconds"):
            notes.append(f"{r['label']}: opening {r['opened']:,} sessions took {r['open_seconds']:.1f} s")
        extra = {n: f for n, f in r["busiest_fds"].items() if f > 2.5}
        if extra:
            notes.append(f"{r['label']}: " + ", ".join(f"{n} holds {f:.1f}" for n, f in extra.items()) +
                         " descriptors per idle session (2 are its sockets): at 10,000 sessions that is "
                         f"{max(extra.values()) * 10000:,.0f} descriptors in one process")
    if shrunk:
        _, hard = proxies.resource.getrlimit(proxies.resource.RLIMIT_NOFILE)
        notes.append(f"levels asked: {', '.join(f'{l:,}' for l in asked)}; measured at {', '.join(f'{l:,}' for l in levels)}: "
                     f"the open-file limit is {got} (hard limit {hard}"
                     f"{'' if proxies.can_raise_hard_limit() else ', cannot be raised without CAP_SYS_RESOURCE'}) and "
                     "each process needs 2 descriptors per session. Bytes per connection is a slope, so the "
                     "level hardly matters for it.")
    for f in failures:
        notes.append(f"**failed**: {f}")
    notes.append(f"part took {time.time() - t_start:.0f} s")
    for n in notes:
        print(f"- {n}")
    print()
    measured = [r for r in results if r["samples"]]
    return 0 if measured else 1


if __name__ == "__main__":
    sys.exit(main())

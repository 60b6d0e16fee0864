#!/usr/bin/env python3
"""New proxied connections per second on loopback, braid vs the peers.

bench/connrate.c (compiled here with cc) is both ends: a server on 127.0.0.1
that answers a one-byte request with one byte and closes, and a client that
keeps CONCURRENT connections in flight, each doing connect, SOCKS5 greeting,
CONNECT 127.0.0.1:server, send the request byte, read the answer, close, and starts
a new one as each finishes, for SECONDS (or until MAX have finished). Both
are single-threaded epoll loops; the "direct" row (no proxy) shows what they
reach on their own on this machine.

Rows: direct (no proxy), braid direct mode, braid → braid-concentrator,
microsocks, dante, ss-local → ss-server (bench/proxies.py starts them all
before the first run). Repetitions are interleaved over the rows.

Usage: connrate.py BIN_DIR   (environment: BENCH_CONNRATE_SECONDS (5),
BENCH_CONNRATE_CONCURRENCY (16), BENCH_CONNRATE_MAX (200000 per run),
BENCH_REPS (3), BENCH_CONNRATE_ONLY=direct,braid-direct,..., BENCH_KEEP=1)
Markdown on stdout, progress on stderr; exit 0 unless nothing could run.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxies  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] connrate: {msg}", file=sys.stderr, flush=True)


def env_int(name, default, lo, hi):
    v = os.environ.get(name, "")
    if not v:
        return default
    if not v.isdigit() or not lo <= int(v) <= hi:
        raise SystemExit(f"{name} must be {lo}..{hi}")
    return int(v)


def parse(line):
    d = {}
    for field in line.split():
        k, _, v = field.partition("=")
        d[k] = float(v)
    return d


def main():
    bin_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build", "bin")
    seconds = env_int("BENCH_CONNRATE_SECONDS", 5, 1, 60)
    conc = env_int("BENCH_CONNRATE_CONCURRENCY", 16, 1, 1024)
    max_n = env_int("BENCH_CONNRATE_MAX", 200000, 100, 5000000)
    reps = env_int("BENCH_REPS", 3, 1, 10)
    only = [k for k in os.environ.get("BENCH_CONNRATE_ONLY", "").split(",") if k]
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        print("SKIP: no C compiler (cc) to build bench/connrate.c", file=sys.stderr)
        return 77
    t_start = time.time()
    work = tempfile.mkdtemp(prefix="braid-bench-connrate.")
    exe = os.path.join(work, "connrate")
    r = subprocess.run([cc, "-O2", "-o", exe, os.path.join(HERE, "connrate.c")], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"cannot build bench/connrate.c:\n{r.stderr}", file=sys.stderr)
        return 1
    proxies.raise_nofile(8192)
    tck = os.sysconf("SC_CLK_TCK")
    server = subprocess.Popen([exe, "serve"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    rows = []  # (id, label, Proxy or None)
    skipped = []
    running = []
    try:
        line = server.stdout.readline().split()
        if len(line) != 2 or line[0] != "port":
            print("connrate server did not start", file=sys.stderr)
            return 1
        target = int(line[1])
        if not only or "direct" in only:
            rows.append(("direct", "direct, no proxy (client → server)", None))
        for kind in proxies.KINDS:
            if only and kind not in only:
                continue
            try:
                px = proxies.start(kind, bin_dir, os.path.join(work, kind), 8192, 4096)
            except proxies.Skip as e:
                skipped.append(f"{kind}: {e}")
                continue
            running.append(px)
            rows.append((kind, px.label, px))
        if not rows:
            print("SKIP: nothing to measure", file=sys.stderr)
            return 77
        time.sleep(1.0)
        log(f"{len(rows)} rows × {reps} reps × {seconds} s, {conc} connections in flight")
        results = {rid: [] for rid, _, _ in rows}
        for rep in range(1, reps + 1):
            for rid, label, px in rows:
                argv = [exe, "run", str(target), "-c", str(conc), "-t", str(seconds), "-n", str(max_n)]
                if px:
                    argv += ["-s", str(px.port)]
                before = {n: proxies.cpu_ticks(p) for n, p in px.pids().items()} if px else {}
                try:
                    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
                    res = parse(out.stdout) if out.returncode == 0 and "ok=" in out.stdout else None
                    err = (out.stderr or out.stdout).strip()[:200]
                except subprocess.TimeoutExpired:
                    res, err = None, f"client did not finish within {seconds + 30} s"
                after = {n: proxies.cpu_ticks(p) for n, p in px.pids().items()} if px else {}
                if res is None:
                    results[rid].append({"error": err})
                    log(f"{rid} rep {rep}: FAILED: {err}")
                else:
                    res["cpu"] = {n: (after[n] - before[n]) / tck for n in before}
                    results[rid].append(res)
                    log(f"{rid:12s} rep {rep}: {res['rate']:8.0f} conn/s, {int(res['errors'])} errors, "
                        f"p50 {res['p50_us'] / 1000:.2f} ms")
                time.sleep(1.0)  # let TIME_WAIT and the proxy's closing settle between runs
        deaths = [(px.label, px.died()) for px in running if px.died()]
        warns = [(px.label, w) for px in running for w in px.warn_lines()]
        notes_px = [(px.label, n) for px in running for n in px.notes]
    finally:
        for px in running:
            px.stop()
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
        if os.environ.get("BENCH_KEEP") == "1":
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    # ---------------------------------------------------------------- report
    def med(rid):
        ok = [x for x in results[rid] if "error" not in x]
        return statistics.median(x["rate"] for x in ok) if ok else None

    peers = {rid: med(rid) for rid, _, _ in rows if rid in ("microsocks", "dante", "ss") and med(rid)}
    best = max(peers, key=peers.get) if peers else None
    direct = med("direct") if "direct" in results else None
    print("### New proxied connections per second (loopback)")
    print()
    print(f"`bench/connrate.c`: {conc} connections in flight from one epoll client, each: connect, SOCKS5 greeting, "
          f"CONNECT 127.0.0.1 (a server that answers a 1-byte request with 1 byte and closes), send the request, read "
          f"the answer, close; a new one starts as each finishes, for {seconds} s per run (at most {max_n:,}). {reps} runs per row, interleaved; median "
          "(min–max). Latency = connect to answer received, all connections of the median run. CPU = user+system time "
          "of the proxy's processes per 1,000 connections. The direct row (no proxy) is the ceiling of client and "
          "server together on this machine: a proxied row shares the same CPUs with them.")
    print()
    print("| path | connections/s | ÷ best peer | ÷ direct | p50 / p99 ms | errors | proxy CPU ms per 1,000 conn |")
    print("|---|---|---|---|---|---|---|")
    failures = []
    for rid, label, px in rows:
        ok = [x for x in results[rid] if "error" not in x]
        for x in results[rid]:
            if "error" in x:
                failures.append(f"{label}: {x['error']}")
        if not ok:
            print(f"| {label} | fail | – | – | – | – | – |")
            continue
        rates = [x["rate"] for x in ok]
        m = statistics.median(rates)
        cell = f"{m:,.0f}" + (f" ({min(rates):,.0f}–{max(rates):,.0f})" if len(rates) > 1 else "")
        mrun = min(ok, key=lambda x: abs(x["rate"] - m))
        vs_best = f"{m / peers[best]:.2f}×" if best and rid not in ("direct",) else "–"
        if rid == best:
            vs_best = "1.00× (best peer)"
        vs_direct = f"{m / direct:.2f}×" if direct and rid != "direct" else "–"
        errs = sum(int(x["errors"]) for x in ok)
        total = sum(int(x["ok"]) for x in ok)
        err_txt = f"{errs} of {total + errs:,}" if errs else "0"
        cpu = "–"
        if px:
            names = [n for n, _ in px.procs]
            parts = []
            for n in names:
                ms = sum(x["cpu"].get(n, 0) for x in ok) * 1000 / max(1, total) * 1000
                parts.append(f"{n} {ms:.0f}")
            cpu = " + ".join(parts)
        print(f"| {label} | {cell} | {vs_best} | {vs_direct} | {mrun['p50_us'] / 1000:.2f} / "
              f"{mrun['p99_us'] / 1000:.2f} | {err_txt} | {cpu} |")
    print()
    notes = []
    if best:
        notes.append(f"best peer: {dict((r[0], r[1]) for r in rows)[best]} ({peers[best]:,.0f} connections/s); "
                     "no target in issue 6 beyond the ratio.")
    if "ss" in peers and med("braid-conc"):
        notes.append(f"local + remote pairs: braid → concentrator ÷ ss-local → ss-server = "
                     f"{med('braid-conc') / peers['ss']:.2f}×")
    if "microsocks" in results:
        notes.append("microsocks writes a log line per connection (to a file here); that is its default.")
    if "ss" in results:
        notes.append("the client speaks first (like HTTP or TLS): ss-local waits about 50 ms for client data before "
                     "it dials ss-server (seen here), so a server-speaks-first protocol (SSH, SMTP) would see "
                     "shadowsocks at ≈ 20 connections/s per client connection in flight.")
    for label, d in deaths:
        notes.append(f"**{label}: process not running at the end: {', '.join(d)}**")
    for label, (name, count, first) in warns:
        notes.append(f"{label}: {name} log has {count} warn/error line(s); first: `{first}`")
    for label, n in notes_px:
        notes.append(f"{label}: {n}")
    for s in skipped:
        notes.append(f"skipped: {s}")
    for f in failures:
        notes.append(f"**failed run**: {f}")
    notes.append(f"load average at the end: {open('/proc/loadavg').read().split()[0:3]}; part took "
                 f"{time.time() - t_start:.0f} s")
    for n in notes:
        print(f"- {n}")
    print()
    return 0 if any(x for v in results.values() for x in v if "error" not in x) else 1


if __name__ == "__main__":
    sys.exit(main())

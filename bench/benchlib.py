#!/usr/bin/env python3
"""Small helpers for the Braid benchmarks (bench/run.sh and friends).

Subcommands (all print to stdout, diagnostics to stderr):

  freeports N                 N distinct free TCP ports on 127.0.0.1 (space separated)
  cputicks PID...             utime+stime+cutime+cstime (clock ticks) of each PID plus
                              all its living descendants, summed; 0 for vanished PIDs
  iperf JSONFILE              "<receiver bits/s> <receiver bytes> <retransmits>" from
                              an iperf3 -J result, or exit 1 with the error on stderr
  curlrate OUTPUT             parse curl -w '%{size_download} %{time_total}
                              %{time_starttransfer} %{http_code}' -> "<bytes> <total s> <ttfb s> <code>"
  loopback-table TSV          markdown tables for the loopback benchmark (see loopback.sh)
  bonding-table TSV           markdown table for the testbed benchmark (see bonding.sh)

The TSV formats are produced by the shell scripts; each line is
key=value pairs separated by tabs, so columns can be added without breaking
older lines.
"""

import json
import os
import socket
import statistics
import sys


def die(msg, code=1):
    print(msg, file=sys.stderr)
    sys.exit(code)


# --------------------------------------------------------------- processes
def _children_map():
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                data = f.read()
        except OSError:
            continue
        # comm may contain spaces/parens: split after the last ')'
        rest = data[data.rfind(")") + 2:].split()
        ppid = int(rest[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def _ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return 0
    rest = data[data.rfind(")") + 2:].split()
    # stat(5) fields 14-17: utime, stime, cutime, cstime (rest[0] is field 3).
    # cutime/cstime hold children that exited and were reaped, so a process
    # pool (dante) is counted fully when its workers come and go.
    return sum(int(x) for x in rest[11:15])


def cmd_cputicks(pids):
    kids = _children_map()
    seen = set()
    total = 0
    stack = [int(p) for p in pids if p.isdigit()]
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _ticks(p)
        stack.extend(kids.get(p, []))
    print(total)


def cmd_freeports(n):
    socks = []
    ports = []
    try:
        while len(ports) < n:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    print(" ".join(str(p) for p in ports))


# --------------------------------------------------------------- parsers
def cmd_iperf(path):
    try:
        with open(path) as f:
            j = json.load(f)
    except (OSError, ValueError) as e:
        die(f"cannot read iperf3 JSON {path}: {e}")
    if j.get("error"):
        die(f"iperf3: {j['error']}")
    try:
        end = j["end"]
        rcv = end["sum_received"]
        snd = end.get("sum_sent", {})
        print(f"{rcv['bits_per_second']:.0f} {rcv['bytes']} {snd.get('retransmits', 0)}")
    except (KeyError, TypeError) as e:
        die(f"iperf3 JSON without end.sum_received ({e})")


def cmd_curlrate(text):
    parts = text.split()
    if len(parts) < 4:
        die(f"unexpected curl -w output: {text!r}")
    print(" ".join(parts[:4]))


# --------------------------------------------------------------- tables
def read_tsv(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                d = {}
                for field in line.split("\t"):
                    k, _, v = field.partition("=")
                    d[k] = v
                rows.append(d)
    except OSError:
        pass
    return rows


def fmt(x, nd=2):
    return "–" if x is None else f"{x:.{nd}f}"


def med_range(vals, scale, nd):
    if not vals:
        return None, "fail"
    v = [x / scale for x in vals]
    m = statistics.median(v)
    if len(v) == 1:
        return m, f"{m:.{nd}f}"
    return m, f"{m:.{nd}f} ({min(v):.{nd}f}–{max(v):.{nd}f})"


def cmd_loopback_table(path):
    rows = read_tsv(path)
    meta = [r for r in rows if r.get("kind") == "config"]
    runs = [r for r in rows if r.get("kind") == "run"]
    tck = os.sysconf("SC_CLK_TCK")
    order = [m["id"] for m in meta]
    info = {m["id"]: m for m in meta}

    def stats(cid, direction):
        ok = [r for r in runs if r["id"] == cid and r["dir"] == direction and r.get("ok") == "1"]
        bad = [r for r in runs if r["id"] == cid and r["dir"] == direction and r.get("ok") != "1"]
        bps = [float(r["bps"]) for r in ok]
        nbytes = sum(float(r["bytes"]) for r in ok)
        cpu = {}
        for r in ok:
            for k, v in r.items():
                if k.startswith("cpu_"):
                    cpu[k[4:]] = cpu.get(k[4:], 0) + int(v)
        return bps, nbytes, cpu, bad

    dirs = [("down", "download (server sends)"), ("up", "upload (client sends)")]
    # Per row and direction: median bit/s and CPU seconds per 10^9 bytes (all its processes together).
    med, cpu_gb, cpu_parts = {}, {}, {}
    for cid in order:
        for d, _ in dirs:
            bps, nbytes, cpu, _ = stats(cid, d)
            med[cid, d] = statistics.median(bps) if bps else None
            if cpu and nbytes > 0:
                per = {name: ticks / tck / (nbytes / 1e9) for name, ticks in cpu.items()}
                cpu_gb[cid, d] = sum(per.values())
                cpu_parts[cid, d] = per
    base = {d: med.get(("direct", d)) for d, _ in dirs}

    def best_peer(cls, d):
        """(id of the fastest peer, id of the cheapest peer) of this class in direction d."""
        peers = [c for c in order if info[c].get("role") == "peer" and info[c].get("class") == cls]
        fast = [c for c in peers if med.get((c, d))]
        cheap = [c for c in peers if cpu_gb.get((c, d))]
        return (max(fast, key=lambda c: med[c, d]) if fast else None,
                min(cheap, key=lambda c: cpu_gb[c, d]) if cheap else None)

    def both(vals):
        return " / ".join("–" if v is None else v for v in vals)

    out = ["| path | " + " | ".join(f"{t} Gbit/s" for _, t in dirs) +
           " | ÷ direct (down / up) | ÷ best peer (down / up) | proxy CPU s per GB (down / up) |"
           " CPU ÷ best peer (down / up) | target |",
           "|---|" + "---|" * len(dirs) + "---|---|---|---|---|"]
    failures = []
    for cid in order:
        m = info[cid]
        cls = m.get("class", "")
        cells, r_direct, r_peer, cpus, r_cpu = [], [], [], [], []
        ok_direct, ok_peer, ok_cpu = [], [], []
        for d, _ in dirs:
            bps, _, _, bad = stats(cid, d)
            _, txt = med_range(bps, 1e9, 2)
            cells.append(txt)
            for r in bad:
                failures.append(f"{m['label']} {d} rep {r.get('rep')}: {r.get('err', 'failed')}")
            v = med.get((cid, d))
            rd = v / base[d] if (v and base[d]) else None
            r_direct.append(None if rd is None else f"{rd:.2f}×")
            ok_direct.append(rd)
            fast, cheap = best_peer(cls, d) if cls else (None, None)
            rp = v / med[fast, d] if (v and fast and fast != cid) else None
            r_peer.append(None if rp is None else f"{rp:.2f}×")
            ok_peer.append(rp)
            if (cid, d) in cpu_parts:
                parts = cpu_parts[cid, d]
                txt = " + ".join(f"{n} {x:.2f}" for n, x in sorted(parts.items()))
                if len(parts) > 1:
                    txt += f" = {cpu_gb[cid, d]:.2f}"
                cpus.append(txt)
            else:
                cpus.append(None)
            rc = cpu_gb[cid, d] / cpu_gb[cheap, d] if ((cid, d) in cpu_gb and cheap and cheap != cid) else None
            r_cpu.append(None if rc is None else f"{rc:.2f}×")
            ok_cpu.append(rc)
        target = m.get("target", "")

        def verdict(vals, good):
            known = [x for x in vals if x is not None]
            if not known:
                return "no data"
            return "met" if all(good(x) for x in known) else "**not met**"

        if target == "braid":
            t = [f"≥ 0.8× direct: {verdict(ok_direct, lambda x: x >= 0.8)}"]
            if any(x is not None for x in ok_peer):
                t.append(f"≥ 1.2× best peer: {verdict(ok_peer, lambda x: x >= 1.2)}")
            if any(x is not None for x in ok_cpu):
                t.append(f"CPU ≤ 0.8× best peer: {verdict(ok_cpu, lambda x: x <= 0.8)}")
            target_txt = "; ".join(t)
        elif target:
            tv = float(target)
            target_txt = f"≥ {tv:g}× direct: {verdict(ok_direct, lambda x: x >= tv)}"
        else:
            target_txt = m.get("note", "")
        out.append(f"| {m['label']} | " + " | ".join(cells) + f" | {both(r_direct)} | {both(r_peer)} | "
                   f"{both(cpus)} | {both(r_cpu)} | {target_txt} |")
    print("\n".join(out))
    lines = []
    for cls, what in (("local", "braid's direct mode"), ("pair", "braid → concentrator")):
        per_dir = []
        for d, _ in dirs:
            fast, cheap = best_peer(cls, d)
            if fast or cheap:
                per_dir.append(f"{d}: {fast or '–'} fastest, {cheap or '–'} cheapest in CPU")
        if per_dir:
            lines.append(f"best peer for {what}: " + "; ".join(per_dir))
    if lines:
        print()
        for l in lines:
            print(f"- {l}")
    if failures:
        print("\nFailed measurements:\n")
        for f in failures:
            print(f"- {f}")


def cmd_bonding_table(path):
    rows = read_tsv(path)
    meta = {r["id"]: r for r in rows if r.get("kind") == "config"}
    runs = [r for r in rows if r.get("kind") == "run"]
    order = [r["id"] for r in rows if r.get("kind") == "config"]
    shaped = None
    for r in rows:
        if r.get("kind") == "shaped":
            shaped = float(r["mbps"])

    def med(cid):
        v = [float(r["mbps"]) for r in runs if r["id"] == cid and r.get("ok") == "1"]
        return v

    kern = med("mptcp")
    kern_m = statistics.median(kern) if kern else None
    out = ["| measurement | goodput Mbit/s (median, min–max) | runs | ÷ shaped sum | ÷ kernel MPTCP | target | notes |",
           "|---|---|---|---|---|---|---|"]
    failures = []
    for cid in order:
        m = meta[cid]
        v = med(cid)
        mm, txt = med_range(v, 1, 1)
        n_all = len([r for r in runs if r["id"] == cid])
        r_shaped = f"{mm / shaped:.2f}" if (mm is not None and shaped) else "–"
        r_kern = f"{mm / kern_m:.2f}" if (mm is not None and kern_m and cid != "mptcp") else "–"
        targets = []
        if m.get("target_shaped") and mm is not None and shaped:
            t = float(m["target_shaped"])
            targets.append(f"÷shaped ≥ {t:g}: " + ("met" if mm / shaped >= t else "**not met**"))
        if m.get("target_kernel") and mm is not None and kern_m:
            t = float(m["target_kernel"])
            targets.append(f"÷kernel ≥ {t:g}: " + ("met" if mm / kern_m >= t else "**not met**"))
        # Notes of the run closest to the median (one run's story, not all of them).
        ok = [r for r in runs if r["id"] == cid and r.get("ok") == "1"]
        note_txt = m.get("note", "")
        if ok and mm is not None:
            r = min(ok, key=lambda r: abs(float(r["mbps"]) - mm))
            if r.get("note"):
                note_txt = f"median run (rep {r.get('rep')}): {r['note']}"
        out.append(f"| {m['label']} | {txt} | {len(v)}/{n_all} | {r_shaped} | {r_kern} | {'; '.join(targets)} | {note_txt} |")
        for r in runs:
            if r["id"] == cid and r.get("ok") != "1":
                failures.append(f"{m['label']} rep {r.get('rep')}: {r.get('err', 'failed')}")
    print("\n".join(out))
    if failures:
        print("\nFailed measurements:\n")
        for f in failures:
            print(f"- {f}")


def main(argv):
    if len(argv) < 2:
        die(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "freeports":
        cmd_freeports(int(args[0]) if args else 1)
    elif cmd == "cputicks":
        cmd_cputicks(args)
    elif cmd == "iperf":
        cmd_iperf(args[0])
    elif cmd == "curlrate":
        cmd_curlrate(" ".join(args))
    elif cmd == "loopback-table":
        cmd_loopback_table(args[0])
    elif cmd == "bonding-table":
        cmd_bonding_table(args[0])
    else:
        die(f"unknown subcommand {cmd!r}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv)

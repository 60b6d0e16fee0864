#!/usr/bin/env python3
"""Cost of braid's once-a-second telemetry sampling with many live connections.

Starts braid-concentrator and braid on loopback (upstream MPTCP), opens N
idle SOCKS5 CONNECT sessions through braid to a local sink, and measures the
CPU time braid spends per second while they sit idle (each second braid reads
MPTCP_TCPINFO + MPTCP_SUBFLOW_ADDRS for every live upstream). The same
measurement with no connections is the baseline in the same run.

Usage: telemetry_cost.py BIN_DIR [N] [SECONDS]
Prints a Markdown table; never fails on a slow result.
"""
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_port(port, proc, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"process exited early ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def main():
    bin_dir = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * n + 1000))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < 3 * n + 100:
        print(f"skip: the open-file limit ({want}) is too low for {n} connections")
        return 0

    sink = socket.socket()
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sink.bind(("127.0.0.1", 0))
    sink.listen(4096)
    sink_port = sink.getsockname()[1]
    accepted = []
    stop = threading.Event()

    def accept_loop():
        sink.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = sink.accept()
                accepted.append(c)
            except OSError:
                pass

    threading.Thread(target=accept_loop, daemon=True).start()

    tmp = tempfile.mkdtemp(prefix="braid-telemetry-")
    conc_port, socks_port = free_port(), free_port()
    with open(os.path.join(tmp, "braid.json"), "w") as f:
        f.write('{"control": null, "manage_endpoints": false, "state_file": "", "http": null,'
                f' "limits": {{"max_connections": {n + 100}}}}}')
    # `init` makes the TLS key, users file and config and prints the access key.
    key = subprocess.run([f"{bin_dir}/braid-concentrator", "init", "--dir", os.path.join(tmp, "conc"), "--host",
                          "127.0.0.1", "--port", str(conc_port), "--user", "bench"],
                         capture_output=True, text=True, check=True).stdout.strip()
    conc_cfg = os.path.join(tmp, "conc", "concentrator.json")
    with open(conc_cfg) as f:
        cfg = json.load(f)
    cfg.update({"mptcp_subflows": 0, "limits": {"max_connections": n + 100}})
    with open(conc_cfg, "w") as f:
        json.dump(cfg, f)
    env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_STATE_HOME=tmp)
    conc = subprocess.Popen([f"{bin_dir}/braid-concentrator", "-c", conc_cfg, "--allow", "127.0.0.0/8",
                             "--listen", f"127.0.0.1:{conc_port}", "--log-level", "warn"], stderr=subprocess.DEVNULL, env=env,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard)))
    braid = subprocess.Popen([f"{bin_dir}/braid", "up", "-c", os.path.join(tmp, "braid.json"), "--socks",
                              f"127.0.0.1:{socks_port}", "--access-key", key,
                              "--log-level", "warn"], stderr=subprocess.DEVNULL, env=env,
                             preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard)))
    rows = []
    try:
        wait_port(conc_port, conc)
        wait_port(socks_port, braid)

        def measure(label, conns):
            time.sleep(1.5)  # let set-up work settle
            c0, t0 = cpu_seconds(braid.pid), time.time()
            time.sleep(seconds)
            c1, t1 = cpu_seconds(braid.pid), time.time()
            rows.append((label, conns, (c1 - c0) / (t1 - t0) * 1000, rss_kib(braid.pid)))

        measure("idle, no connections", 0)
        clients = []
        req = b"\x05\x01\x00\x01\x7f\x00\x00\x01" + struct.pack(">H", sink_port)
        for _ in range(n):
            c = socket.create_connection(("127.0.0.1", socks_port))
            c.sendall(b"\x05\x01\x00")
            c.recv(2)
            c.sendall(req)
            rep = c.recv(10)
            if len(rep) < 2 or rep[1] != 0:
                raise SystemExit(f"SOCKS5 connect failed after {len(clients)} connections: {rep!r}")
            clients.append(c)
        measure(f"{n} idle proxied connections (MPTCP upstreams sampled each second)", n)
        for c in clients:
            c.close()
    finally:
        stop.set()
        braid.terminate()
        conc.terminate()
        braid.wait(10)
        conc.wait(10)

    base = rows[0][2]
    print("| state | connections | braid CPU ms per second | ratio to idle | braid RSS MiB |")
    print("|---|---|---|---|---|")
    for label, conns, ms, rss in rows:
        ratio = f"{ms / base:.1f}x" if base else "—"
        print(f"| {label} | {conns} | {ms:.1f} | {ratio} | {rss / 1024:.1f} |")
    per_conn_us = (rows[1][2] - rows[0][2]) * 1000 / n
    print(f"\nSampling cost: {per_conn_us:.2f} µs of CPU per connection per second "
          f"({rows[1][2] / 10:.2f}% of one core at {n} connections). Target: cheap — well under 10% of a core.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Start the SOCKS5 proxies under test on loopback, for bench/memory.py and
bench/connrate.py (bench/loopback.sh starts its own in shell, but takes the
concentrator's config from here).

Kinds (each listens for SOCKS5 on 127.0.0.1):
  braid-direct  `braid up` without a concentrator (upstream: MPTCP socket that
                falls back to TCP, since the local servers are plain TCP)
  braid-conc    `braid up` → `braid-concentrator`, both on loopback; the hop
                between them is MPTCP, with TLS (the default)
  braid-conc-plain  the same with --insecure-plaintext on both ends: a
                diagnostic row that shows what TLS costs
  microsocks    thread per connection
  dante         `danted`, process pool
  ss            shadowsocks-libev: ss-local (SOCKS5) → ss-server, AEAD cipher
                (BENCH_SS_METHOD, default aes-256-gcm: what TLS 1.3 picks by
                default, so the braid hop with TLS costs the same kind of crypto)

Every process gets RLIMIT_NOFILE raised to the number asked for (the hard
limit too with CAP_SYS_RESOURCE, which root in a container may lack;
otherwise the soft limit stops at the hard one: `nofile_granted()` says how
far), a private HOME/XDG tree and its own log file.

Command line (for shell scripts):
  proxies.py conc-setup BIN_DIR DIR PORT MAX_CONNECTIONS
      prepare a concentrator on 127.0.0.1:PORT (`init` in DIR: TLS key and
      certificate, users file, config with enough connections) and write
      DIR/conc.args and DIR/client.args, one argument per line, to add to
      the braid-concentrator and `braid up` command lines; prints "tls", or
      "legacy ..." for a binary from before `init`
"""

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time

import benchlib  # beside this file

HOST = "127.0.0.1"


class Skip(Exception):
    """The proxy cannot be measured here (not installed, did not start)."""


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def can_raise_hard_limit():
    """CAP_SYS_RESOURCE (bit 24) in the effective set: root in a container may lack it."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) & (1 << 24))
    except OSError:
        pass
    return False


def nofile_granted(want):
    """The RLIMIT_NOFILE soft limit a child will get when `want` is asked for."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if can_raise_hard_limit():
        try:
            with open("/proc/sys/fs/nr_open") as f:
                return min(want, int(f.read()))
        except OSError:
            return min(want, hard)
    return min(want, hard)


def raise_nofile(want):
    """Raises this process's RLIMIT_NOFILE as far as allowed; returns the new soft limit."""
    want = nofile_granted(want)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
    return max(soft, want)


def listening(port):
    """True when a TCP (or MPTCP) listener exists on 127.0.0.1:port."""
    want = f"{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                p = line.split()
                if p[3] == "0A" and p[1].endswith(":" + want):
                    return True
    except OSError:
        pass
    out = subprocess.run(["ss", "-HlMn", f"sport = :{port}"], capture_output=True, text=True).stdout
    return bool(out.strip())


def descendants(pid):
    """pid and all its living descendants."""
    kids = benchlib._children_map()
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(kids.get(p, []))
    return out


def memory_kib(pid):
    """(RSS, PSS, process count) in KiB summed over pid and its descendants.
    PSS shares each shared page among the processes mapping it, so a process
    pool (dante) is not charged its shared libraries once per worker."""
    rss = pss = n = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
            n += 1
        except OSError:
            pass
    return rss, pss, n


def cpu_ticks(pid):
    """utime+stime+cutime+cstime of pid and its living descendants."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                data = f.read()
        except OSError:
            continue
        total += sum(int(x) for x in data[data.rfind(")") + 2:].split()[11:15])
    return total


class Proxy:
    """One proxy under test: its SOCKS5 port and the processes that make it up."""

    def __init__(self, kind, label, work):
        self.kind = kind
        self.label = label
        self.work = work
        self.port = None
        self.procs = []  # (name, Popen), in start order
        self.notes = []

    def pids(self):
        return {name: p.pid for name, p in self.procs}

    def died(self):
        return [f"{name} (exit {p.returncode})" for name, p in self.procs if p.poll() is not None]

    def log_tail(self, name, n=3):
        try:
            with open(os.path.join(self.work, f"{self.kind}-{name}.log"), errors="replace") as f:
                return " ".join(l.strip() for l in f.readlines()[-n:])
        except OSError:
            return ""

    def warn_lines(self):
        """(name, count, first) of warn/error lines in each braid log."""
        out = []
        for name, _ in self.procs:
            if not name.startswith(("braid", "conc")):
                continue
            try:
                with open(os.path.join(self.work, f"{self.kind}-{name}.log"), errors="replace") as f:
                    # (the INSECURE warning is expected in the plaintext diagnostic)
                    lines = [l.strip() for l in f
                             if ("warn" in l.lower() or "error" in l.lower()) and "INSECURE" not in l]
            except OSError:
                continue
            if lines:
                out.append((name, len(lines), lines[0][:160]))
        return out

    def spawn(self, name, argv, nofile, env=None):
        log = open(os.path.join(self.work, f"{self.kind}-{name}.log"), "ab")

        def limits():
            n = nofile_granted(nofile)
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (n, max(hard, n)))

        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                             preexec_fn=limits, start_new_session=True)
        log.close()
        self.procs.append((name, p))
        return p

    def wait_listen(self, port, proc, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if listening(port):
                return True
            if proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def stop(self):
        for name, p in reversed(self.procs):
            if p.poll() is not None:
                continue
            tree = descendants(p.pid)
            for q in tree:
                try:
                    os.kill(q, signal.SIGTERM)
                except OSError:
                    pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
            for q in tree:
                try:
                    os.kill(q, signal.SIGKILL)
                except OSError:
                    pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass


def private_env(work):
    """A HOME/XDG tree of its own, so no user config or state is read."""
    home = os.path.join(work, "home")
    for d in (".config", ".local/state", "run"):
        os.makedirs(os.path.join(home, d), exist_ok=True)
    os.chmod(os.path.join(home, "run"), 0o700)
    return dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                XDG_STATE_HOME=os.path.join(home, ".local/state"), XDG_RUNTIME_DIR=os.path.join(home, "run"))


# ---------------------------------------------------------------- braid
def client_config(max_connections):
    """`braid up`'s config for the benchmarks: no control API (its fixed port
    would collide between instances), no endpoint management, no state file,
    no HTTP front end, and room for the connections the benchmark opens."""
    return {"control": None, "manage_endpoints": False, "state_file": "", "http": None,
            "limits": {"max_connections": max_connections}}


def has_init(bin_dir):
    """True when braid-concentrator has `init` (TLS, users file, access keys)."""
    r = subprocess.run([os.path.join(bin_dir, "braid-concentrator"), "init", "--help"], capture_output=True,
                       stdin=subprocess.DEVNULL)
    return r.returncode == 0


def legacy_concentrator_config(token, max_connections, policy=True):
    """For a concentrator from before `init`: tokens in the config, no TLS."""
    c = {"tokens": [token], "mptcp_subflows": 0, "limits": {"max_connections": max_connections}}
    if policy:
        c["limits"]["max_connections_per_user"] = max_connections
        c["destinations"] = {"allow": [f"{HOST}/32"]}
    return c


def setup_concentrator(bin_dir, conf_dir, port, max_connections, plaintext=False):
    """Prepares a concentrator on 127.0.0.1:port the benchmarks can use and
    the matching client settings. Returns (concentrator args, client args,
    variant): `init` makes the key, certificate, users file and config, and
    prints the access key the client takes; the config then gets limits for
    the connections the benchmark opens (all from one user), and the
    destination policy must allow 127.0.0.1, where the benchmark servers
    are. plaintext: both ends with --insecure-plaintext (a diagnostic: what
    TLS costs). This is the one place to change when the hop changes."""
    exe = os.path.join(bin_dir, "braid-concentrator")
    os.makedirs(conf_dir, exist_ok=True)
    if has_init(bin_dir):
        r = subprocess.run([exe, "init", "--dir", conf_dir, "--host", HOST, "--port", str(port), "--user", "bench",
                            "--force"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        key = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
        if r.returncode != 0 or not key.startswith("braid://"):
            raise Skip(f"braid-concentrator init failed: {(r.stderr or r.stdout).strip()[:200]}")
        cfg = os.path.join(conf_dir, "concentrator.json")
        with open(cfg) as f:
            c = json.load(f)
        c.setdefault("limits", {}).update({"max_connections": max_connections,
                                           "max_connections_per_user": max_connections})
        c["mptcp_subflows"] = 0  # leave the host's MPTCP path-manager limits alone
        with open(cfg, "w") as f:
            json.dump(c, f, indent=2)
        conc = ["-c", cfg, "--allow", f"{HOST}/32"]
        client = ["--access-key", key]
        if plaintext:
            conc.append("--insecure-plaintext")
            client.append("--insecure-plaintext")
        return conc, client, "tls" if not plaintext else "plaintext"
    # Before `init`: a token on both ends, no TLS. Probe whether this binary
    # knows the destination policy (an older one rejects the key by name).
    token = f"bench-{os.getpid()}-{int(time.time())}"
    cfg = os.path.join(conf_dir, "concentrator.json")
    for policy in (True, False):
        with open(cfg, "w") as f:
            json.dump(legacy_concentrator_config(token, max_connections, policy), f)
        probe = free_port()
        p = subprocess.Popen([exe, "-c", cfg, "--listen", f"{HOST}:{probe}", "--log-level", "warn"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline, ok = time.time() + 10, False
        while time.time() < deadline and p.poll() is None:
            if listening(probe):
                ok = True
                break
            time.sleep(0.05)
        if p.poll() is None:
            p.terminate()
        try:
            _, err = p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        if ok:
            return ["-c", cfg], ["--concentrator", f"{HOST}:{port}", "--token", token], "legacy (token, no TLS)"
        if not policy or "destinations" not in (err or "") and "max_connections_per_user" not in (err or ""):
            raise Skip(f"braid-concentrator did not start with {cfg}: {(err or '').strip()[:200]}")
    raise Skip("braid-concentrator config probe failed")


def start_braid_direct(bin_dir, work, nofile, max_connections):
    px = Proxy("braid-direct", "braid SOCKS5, direct mode", work)
    exe = os.path.join(bin_dir, "braid")
    if not os.access(exe, os.X_OK):
        raise Skip(f"{exe} not found")
    cfg = os.path.join(work, "braid-direct.json")
    with open(cfg, "w") as f:
        json.dump(client_config(max_connections), f)
    px.port = free_port()
    p = px.spawn("braid", [exe, "up", "-c", cfg, "--socks", f"{HOST}:{px.port}", "--http", "off",
                           "--log-level", "warn"], nofile, private_env(work))
    if not px.wait_listen(px.port, p):
        px.stop()
        raise Skip(f"braid did not listen within 10 s: {px.log_tail('braid')}")
    return px


def start_braid_pair(bin_dir, work, nofile, max_connections, plaintext=False):
    """braid → braid-concentrator on loopback (see setup_concentrator)."""
    kind = "braid-conc-plain" if plaintext else "braid-conc"
    label = "braid SOCKS5 → braid-concentrator"
    if plaintext:
        label += ", `--insecure-plaintext` (diagnostic)"
    px = Proxy(kind, label, work)
    for exe in ("braid", "braid-concentrator"):
        if not os.access(os.path.join(bin_dir, exe), os.X_OK):
            raise Skip(f"{os.path.join(bin_dir, exe)} not found")
    cport = free_port()
    conc_args, client_args, variant = setup_concentrator(bin_dir, os.path.join(work, "conc"), cport, max_connections,
                                                         plaintext)
    if variant.startswith("legacy"):
        if plaintext:
            raise Skip("this concentrator predates TLS: the braid → concentrator row is already plaintext")
        px.notes.append(f"concentrator from before `init`: {variant}")
    px.variant = variant
    env = private_env(work)
    c = px.spawn("conc", [os.path.join(bin_dir, "braid-concentrator")] + conc_args +
                 ["--listen", f"{HOST}:{cport}", "--log-level", "warn"], nofile, env)
    if not px.wait_listen(cport, c):
        px.stop()
        raise Skip(f"braid-concentrator did not listen within 10 s: {px.log_tail('conc')}")
    cfg = os.path.join(work, f"{kind}.json")
    with open(cfg, "w") as f:
        json.dump(client_config(max_connections), f)
    px.port = free_port()
    b = px.spawn("braid", [os.path.join(bin_dir, "braid"), "up", "-c", cfg, "--socks", f"{HOST}:{px.port}",
                           "--http", "off"] + client_args + ["--log-level", "warn"], nofile, env)
    if not px.wait_listen(px.port, b):
        px.stop()
        raise Skip(f"braid did not listen within 10 s: {px.log_tail('braid')}")
    px.conc_port = cport
    return px


# ---------------------------------------------------------------- peers
def which(name, extra=()):
    for d in os.environ.get("PATH", "").split(":") + list(extra):
        p = os.path.join(d, name)
        if d and os.access(p, os.X_OK):
            return p
    return None


def start_microsocks(work, nofile):
    exe = which("microsocks")
    if not exe:
        raise Skip("microsocks not installed")
    px = Proxy("microsocks", "microsocks", work)
    px.port = free_port()
    p = px.spawn("microsocks", [exe, "-i", HOST, "-p", str(px.port)], nofile)
    if not px.wait_listen(px.port, p):
        px.stop()
        raise Skip(f"microsocks did not listen within 10 s: {px.log_tail('microsocks')}")
    return px


def start_dante(work, nofile):
    exe = which("danted", ("/usr/sbin", "/sbin")) or which("sockd", ("/usr/sbin", "/sbin"))
    if not exe:
        raise Skip("danted (dante-server) not installed")
    px = Proxy("dante", "dante (danted)", work)
    px.port = free_port()
    conf = os.path.join(work, "danted.conf")
    lines = [f"logoutput: {os.path.join(work, 'danted.out')}", f"internal: {HOST} port = {px.port}",
             f"external: {HOST}", "clientmethod: none", "socksmethod: none"]
    if os.geteuid() == 0:
        lines += ["user.privileged: root", "user.unprivileged: nobody"]
    lines += ["client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }",
              "socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect }"]
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(work, 0o755)
    p = px.spawn("dante", [exe, "-f", conf, "-p", os.path.join(work, "danted.pid")], nofile)
    if not px.wait_listen(px.port, p):
        px.stop()
        raise Skip(f"danted did not listen within 10 s: {px.log_tail('dante')}")
    return px


def ss_method():
    return os.environ.get("BENCH_SS_METHOD", "aes-256-gcm")


def start_ss(work, nofile):
    local, server = which("ss-local"), which("ss-server")
    if not (local and server):
        raise Skip("shadowsocks-libev (ss-local, ss-server) not installed")
    m = ss_method()
    px = Proxy("ss", f"shadowsocks-libev ss-local → ss-server ({m})", work)
    sport = free_port()
    pw = f"bench{os.getpid()}"
    # -n: shadowsocks sets its own RLIMIT_NOFILE from it.
    s = px.spawn("ss-server", [server, "-s", HOST, "-p", str(sport), "-k", pw, "-m", m, "-n", str(nofile_granted(nofile))],
                 nofile)
    if not px.wait_listen(sport, s):
        px.stop()
        raise Skip(f"ss-server did not listen within 10 s: {px.log_tail('ss-server')}")
    px.port = free_port()
    l = px.spawn("ss-local", [local, "-s", HOST, "-p", str(sport), "-b", HOST, "-l", str(px.port), "-k", pw, "-m", m,
                              "-n", str(nofile_granted(nofile))], nofile)
    if not px.wait_listen(px.port, l):
        px.stop()
        raise Skip(f"ss-local did not listen within 10 s: {px.log_tail('ss-local')}")
    # ss-local is the SOCKS5 server; list it first.
    px.procs = [px.procs[1], px.procs[0]]
    return px


KINDS = ["braid-direct", "braid-conc", "braid-conc-plain", "microsocks", "dante", "ss"]


def start(kind, bin_dir, work, nofile, max_connections):
    """Starts one proxy; raises Skip with the reason when it cannot."""
    os.makedirs(work, exist_ok=True)
    if kind == "braid-direct":
        return start_braid_direct(bin_dir, work, nofile, max_connections)
    if kind == "braid-conc":
        return start_braid_pair(bin_dir, work, nofile, max_connections)
    if kind == "braid-conc-plain":
        return start_braid_pair(bin_dir, work, nofile, max_connections, plaintext=True)
    if kind == "microsocks":
        return start_microsocks(work, nofile)
    if kind == "dante":
        return start_dante(work, nofile)
    if kind == "ss":
        return start_ss(work, nofile)
    raise ValueError(kind)


def main(argv):
    if len(argv) >= 6 and argv[1] == "conc-setup":
        # conc-setup BIN_DIR DIR PORT MAX_CONNECTIONS: writes DIR/conc.args and
        # DIR/client.args (one argument per line) for a shell script.
        try:
            conc, client, variant = setup_concentrator(argv[2], argv[3], int(argv[4]), int(argv[5]))
        except Skip as e:
            print(e, file=sys.stderr)
            return 1
        for name, args in (("conc.args", conc), ("client.args", client)):
            with open(os.path.join(argv[3], name), "w") as f:
                f.write("\n".join(args) + "\n")
        print(variant)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

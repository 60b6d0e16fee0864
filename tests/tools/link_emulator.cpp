// braid-link-emu: a small user-space link emulator on a TUN device.
//
// The kernel on the test machines has tbf/htb but no netem, so delay, jitter
// and random loss are done here. The emulator reads every IP packet the
// router namespace routes into the TUN device, decides its direction (a2b or
// b2a) from its destination (else source) address, applies per direction
//   random loss -> queue limit (tail drop) -> rate (serialisation) -> delay+jitter
// and writes it back into the TUN device, from where the kernel routes it on.
// See tests/tools/README.md for the namespace / policy-routing setup.
//
// Usage:
//   braid-link-emu --dev emu0 --a-net 10.77.1.0/24 --b-net 10.77.2.0/24
//                  [--a2b "delay=20 loss=1"] [--b2a "..."] [--both "..."]
//                  [--ctl /path/ctl.sock] [--config FILE] [--seed N]
//                  [--spin-us N]  (busy-poll the last N us before a packet is
//                                  due; default 300, 0 = always sleep)
//   braid-link-emu --ctl /path/ctl.sock --send "a2b delay=60"   (client mode)
//
// Control lines (datagrams on --ctl, or lines of --config re-read on SIGHUP):
//   a2b|b2a|both [delay=MS] [jitter=MS] [loss=PCT] [rate=KBITPS] [queue=PKTS]
//                [queue_bytes=BYTES] [reorder=0|1]
//   stats        -> replies with the counters
//   reset        -> zero the counters
// Unmentioned keys keep their value. rate=0 / queue=0 / queue_bytes=0 mean
// unlimited. Each control datagram gets a reply "ok ..." or "error ...".
// SIGUSR1 prints the counters on stderr; they are printed at exit too
// (SIGINT/SIGTERM).

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Params {
  double delay_ms = 0, jitter_ms = 0, loss_pct = 0;
  uint64_t rate_kbps = 0;    // 0 = unlimited
  uint64_t queue_pkts = 1000;  // 0 = unlimited
  uint64_t queue_bytes = 0;  // 0 = unlimited
  bool reorder = false;      // let jitter reorder packets
};

struct Counters {
  uint64_t in = 0, fwd = 0, fwd_bytes = 0, drop_loss = 0, drop_queue = 0, drop_write = 0;
  // How late delayed packets left versus their scheduled time (timer accuracy).
  uint64_t delayed = 0, late_ns_sum = 0, late_ns_max = 0;
};

struct Direction {
  const char* name;
  Params p;
  Counters c;
  int64_t link_free_ns = 0;      // when the serialiser is free again
  int64_t last_deliver_ns = 0;   // for in-order delivery
  std::deque<std::pair<int64_t, uint32_t>> backlog;  // (serialisation end, bytes)
  uint64_t backlog_bytes = 0;
};

struct Pending {
  int64_t t;
  uint64_t seq;
  std::vector<uint8_t> pkt;
  Direction* dir;
};
struct Later {
  bool operator()(const Pending& x, const Pending& y) const {
    return x.t != y.t ? x.t > y.t : x.seq > y.seq;
  }
};

struct Net {
  int family = 0;  // AF_INET / AF_INET6
  uint8_t addr[16]{};
  int len = 0;
  bool contains(int fam, const uint8_t* a) const {
    if (fam != family) return false;
    int full = len / 8, rest = len % 8;
    if (std::memcmp(addr, a, full) != 0) return false;
    if (rest == 0) return true;
    uint8_t mask = uint8_t(0xff << (8 - rest));
    return (addr[full] & mask) == (a[full] & mask);
  }
};

bool parse_net(const std::string& s, Net& n) {
  auto slash = s.find('/');
  std::string a = s.substr(0, slash);
  int maxlen;
  if (inet_pton(AF_INET, a.c_str(), n.addr) == 1) {
    n.family = AF_INET;
    maxlen = 32;
  } else if (inet_pton(AF_INET6, a.c_str(), n.addr) == 1) {
    n.family = AF_INET6;
    maxlen = 128;
  } else {
    return false;
  }
  n.len = slash == std::string::npos ? maxlen : std::atoi(s.c_str() + slash + 1);
  return n.len >= 0 && n.len <= maxlen;
}

// Applies "key=value ..." to p. Returns an error message or "".
std::string apply_kv(std::istringstream& in, Params& p) {
  std::string tok;
  while (in >> tok) {
    auto eq = tok.find('=');
    if (eq == std::string::npos) return "bad token '" + tok + "'";
    std::string k = tok.substr(0, eq), v = tok.substr(eq + 1);
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(d >= 0) || !std::isfinite(d)) return "bad value in '" + tok + "'";
    if (k == "delay") p.delay_ms = d;
    else if (k == "jitter") p.jitter_ms = d;
    else if (k == "loss") {
      if (d > 100) return "loss > 100";
      p.loss_pct = d;
    } else if (k == "rate") p.rate_kbps = uint64_t(d);
    else if (k == "queue") p.queue_pkts = uint64_t(d);
    else if (k == "queue_bytes") p.queue_bytes = uint64_t(d);
    else if (k == "reorder") p.reorder = d != 0;
    else return "unknown key '" + k + "'";
  }
  return "";
}

std::string describe(const Direction& d) {
  char b[640];
  std::snprintf(b, sizeof b,
                "%s delay=%g jitter=%g loss=%g rate=%llu queue=%llu queue_bytes=%llu reorder=%d | "
                "in=%llu forwarded=%llu fwd_bytes=%llu drop_loss=%llu drop_queue=%llu drop_write=%llu "
                "late_us_avg=%.1f late_us_max=%.1f",
                d.name, d.p.delay_ms, d.p.jitter_ms, d.p.loss_pct, (unsigned long long)d.p.rate_kbps,
                (unsigned long long)d.p.queue_pkts, (unsigned long long)d.p.queue_bytes, int(d.p.reorder),
                (unsigned long long)d.c.in, (unsigned long long)d.c.fwd, (unsigned long long)d.c.fwd_bytes,
                (unsigned long long)d.c.drop_loss, (unsigned long long)d.c.drop_queue,
                (unsigned long long)d.c.drop_write,
                d.c.delayed ? double(d.c.late_ns_sum) / double(d.c.delayed) / 1e3 : 0.0,
                double(d.c.late_ns_max) / 1e3);
  return b;
}

struct Emu {
  Direction a2b{"a2b", {}, {}, 0, 0, {}, 0};
  Direction b2a{"b2a", {}, {}, 0, 0, {}, 0};
  Net a_net, b_net;
  uint64_t other_fwd = 0;  // packets of neither direction, passed straight through
  int tun = -1;
  std::vector<Pending> heap;  // min-heap on (t, seq) via Later
  uint64_t seq = 0;
  std::mt19937_64 rng;
  static constexpr size_t kMaxPending = 200000;  // hard memory bound

  std::string stats() const {
    return describe(a2b) + "\n" + describe(b2a) + "\nother forwarded=" + std::to_string(other_fwd) + "\n";
  }

  // One control line. Returns "ok ..." or "error ...".
  std::string control(const std::string& line) {
    std::istringstream in(line);
    std::string dir;
    if (!(in >> dir) || dir[0] == '#') return "ok";
    if (dir == "stats") return "ok\n" + stats();
    if (dir == "reset") {
      a2b.c = {};
      b2a.c = {};
      other_fwd = 0;
      return "ok";
    }
    std::vector<Direction*> ds;
    if (dir == "a2b") ds = {&a2b};
    else if (dir == "b2a") ds = {&b2a};
    else if (dir == "both") ds = {&a2b, &b2a};
    else return "error: unknown direction '" + dir + "' (a2b, b2a, both, stats, reset)";
    std::string rest((std::istreambuf_iterator<char>(in)), {});
    for (Direction* d : ds) {
      Params p = d->p;
      std::istringstream kv(rest);
      std::string err = apply_kv(kv, p);
      if (!err.empty()) return "error: " + err;
      d->p = p;
    }
    std::string r = "ok";
    for (Direction* d : ds) r += "\n" + describe(*d);
    return r;
  }

  Direction* classify(const uint8_t* pkt, size_t n) {
    int fam;
    const uint8_t *src, *dst;
    if (n >= 20 && (pkt[0] >> 4) == 4) {
      fam = AF_INET;
      src = pkt + 12;
      dst = pkt + 16;
    } else if (n >= 40 && (pkt[0] >> 4) == 6) {
      fam = AF_INET6;
      src = pkt + 8;
      dst = pkt + 24;
    } else {
      return nullptr;
    }
    if (b_net.contains(fam, dst)) return &a2b;
    if (a_net.contains(fam, dst)) return &b2a;
    if (a_net.contains(fam, src)) return &a2b;
    if (b_net.contains(fam, src)) return &b2a;
    return nullptr;
  }

  void write_out(const uint8_t* pkt, size_t n, Direction* d) {
    ssize_t w = ::write(tun, pkt, n);
    if (!d) {
      if (w == ssize_t(n)) ++other_fwd;
      return;
    }
    if (w == ssize_t(n)) {
      ++d->c.fwd;
      d->c.fwd_bytes += n;
    } else {
      ++d->c.drop_write;
    }
  }

  void arrive(const uint8_t* pkt, size_t n, int64_t now) {
    Direction* d = classify(pkt, n);
    if (!d) {
      write_out(pkt, n, nullptr);
      return;
    }
    ++d->c.in;
    const Params& p = d->p;
    // 1. random loss, per packet
    if (p.loss_pct > 0 && std::uniform_real_distribution<double>(0, 100)(rng) < p.loss_pct) {
      ++d->c.drop_loss;
      return;
    }
    // 2. queue limit: packets/bytes still waiting for the serialiser (tail drop)
    while (!d->backlog.empty() && d->backlog.front().first <= now) {
      d->backlog_bytes -= d->backlog.front().second;
      d->backlog.pop_front();
    }
    if ((p.queue_pkts && d->backlog.size() >= p.queue_pkts) ||
        (p.queue_bytes && d->backlog_bytes + n > p.queue_bytes) || heap.size() >= kMaxPending) {
      ++d->c.drop_queue;
      return;
    }
    // 3. rate: serialisation delay of the whole IP packet at rate_kbps
    int64_t t = now;
    if (p.rate_kbps) {
      int64_t start = std::max(now, d->link_free_ns);
      int64_t ser = int64_t(double(n) * 8.0 * 1e6 / double(p.rate_kbps));  // ns
      d->link_free_ns = start + ser;
      t = d->link_free_ns;
      d->backlog.emplace_back(t, uint32_t(n));
      d->backlog_bytes += n;
    }
    // 4. propagation delay + uniform jitter in [-jitter, +jitter]
    double ms = p.delay_ms;
    if (p.jitter_ms > 0) ms += std::uniform_real_distribution<double>(-p.jitter_ms, p.jitter_ms)(rng);
    t += int64_t(std::max(0.0, ms) * 1e6);
    if (!p.reorder) t = std::max(t, d->last_deliver_ns);  // keep order within a direction
    d->last_deliver_ns = std::max(d->last_deliver_ns, t);
    if (t <= now && heap.empty()) {
      write_out(pkt, n, d);
      return;
    }
    heap.push_back(Pending{t, seq++, std::vector<uint8_t>(pkt, pkt + n), d});
    std::push_heap(heap.begin(), heap.end(), Later{});
  }

  // Sends everything due. Bounded by the heap size.
  void release(int64_t now) {
    while (!heap.empty() && heap.front().t <= now) {
      std::pop_heap(heap.begin(), heap.end(), Later{});
      Pending p = std::move(heap.back());
      heap.pop_back();
      uint64_t late = uint64_t(now - p.t);
      ++p.dir->c.delayed;
      p.dir->c.late_ns_sum += late;
      p.dir->c.late_ns_max = std::max(p.dir->c.late_ns_max, late);
      write_out(p.pkt.data(), p.pkt.size(), p.dir);
    }
  }
};

int open_tun(const std::string& name) {
  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    std::perror("open /dev/net/tun");
    return -1;
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    std::perror("TUNSETIFF");
    ::close(fd);
    return -1;
  }
  return fd;
}

bool make_unix_addr(const std::string& path, sockaddr_un& sa) {
  sa = {};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return false;
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  return true;
}

// Client mode: send one line, print the reply. Exit 0 on "ok".
int send_control(const std::string& path, const std::string& line) {
  sockaddr_un sa;
  if (!make_unix_addr(path, sa)) return 2;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sa_family_t fam = AF_UNIX;  // autobind to an abstract address so the reply can reach us
  sockaddr_un self{};
  std::memcpy(&self, &fam, sizeof fam);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof(sa_family_t)) < 0) {
    std::perror("socket/bind");
    return 2;
  }
  if (sendto(fd, line.data(), line.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    std::perror("sendto");
    return 2;
  }
  pollfd pfd{fd, POLLIN, 0};
  if (poll(&pfd, 1, 2000) != 1) {
    std::fprintf(stderr, "no reply from %s\n", path.c_str());
    return 2;
  }
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
  if (n < 0) return 2;
  buf[n] = 0;
  std::printf("%s\n", buf);
  return std::strncmp(buf, "ok", 2) == 0 ? 0 : 1;
}

void usage() {
  std::fprintf(stderr,
               "usage: braid-link-emu --dev TUN --a-net CIDR --b-net CIDR [--a2b PARAMS] [--b2a PARAMS]\n"
               "                      [--both PARAMS] [--ctl SOCKPATH] [--config FILE] [--seed N] [--spin-us N]\n"
               "       braid-link-emu --ctl SOCKPATH --send LINE\n"
               "PARAMS: \"delay=MS jitter=MS loss=PCT rate=KBITPS queue=PKTS queue_bytes=B reorder=0|1\"\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string dev, ctl, config, send_line, a2b_s, b2a_s, both_s, a_net_s, b_net_s;
  uint64_t seed = std::random_device{}();
  bool send_mode = false;
  int64_t spin_ns = 300'000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](std::string& out) {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      out = argv[++i];
    };
    if (a == "--dev") val(dev);
    else if (a == "--ctl") val(ctl);
    else if (a == "--config") val(config);
    else if (a == "--a2b") val(a2b_s);
    else if (a == "--b2a") val(b2a_s);
    else if (a == "--both") val(both_s);
    else if (a == "--a-net") val(a_net_s);
    else if (a == "--b-net") val(b_net_s);
    else if (a == "--send") {
      val(send_line);
      send_mode = true;
    } else if (a == "--spin-us") {
      std::string s;
      val(s);
      spin_ns = std::strtoll(s.c_str(), nullptr, 10) * 1000;
    } else if (a == "--seed") {
      std::string s;
      val(s);
      seed = std::strtoull(s.c_str(), nullptr, 10);
    } else {
      usage();
      return 2;
    }
  }
  if (send_mode) return ctl.empty() ? (usage(), 2) : send_control(ctl, send_line);

  Emu emu;
  emu.rng.seed(seed);
  if (dev.empty() || !parse_net(a_net_s, emu.a_net) || !parse_net(b_net_s, emu.b_net)) {
    usage();
    return 2;
  }
  for (auto [dir, s] : {std::pair{"both", &both_s}, {"a2b", &a2b_s}, {"b2a", &b2a_s}}) {
    if (s->empty()) continue;
    std::string r = emu.control(std::string(dir) + " " + *s);
    if (r.rfind("ok", 0) != 0) {
      std::fprintf(stderr, "--%s: %s\n", dir, r.c_str());
      return 2;
    }
  }
  auto load_config = [&]() {
    if (config.empty()) return;
    std::ifstream f(config);
    if (!f) {
      std::fprintf(stderr, "cannot read %s\n", config.c_str());
      return;
    }
    std::string line;
    while (std::getline(f, line)) {
      std::string r = emu.control(line);
      if (r.rfind("error", 0) == 0) std::fprintf(stderr, "%s: %s: %s\n", config.c_str(), line.c_str(), r.c_str());
    }
  };
  load_config();

  // Timers of 1 ms precision need little timer slack (default 50 us).
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  emu.tun = open_tun(dev);
  if (emu.tun < 0) return 1;

  int cfd = -1;
  if (!ctl.empty()) {
    sockaddr_un sa;
    if (!make_unix_addr(ctl, sa)) {
      std::fprintf(stderr, "control path too long\n");
      return 2;
    }
    ::unlink(ctl.c_str());
    cfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (cfd < 0 || bind(cfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
      std::perror("control socket");
      return 1;
    }
  }
  std::fprintf(stderr, "braid-link-emu: %s up (seed %llu)\n%s", dev.c_str(), (unsigned long long)seed,
               emu.stats().c_str());

  std::vector<uint8_t> buf(65536);
  bool running = true;
  while (running) {
    int64_t now = now_ns();
    emu.release(now);
    timespec ts{}, *tsp = nullptr;
    if (!emu.heap.empty()) {
      // Wake up to spin_ns early, then poll without sleeping until the
      // packet is due: waking from a sleep costs ~0.1-0.3 ms here.
      int64_t wait = std::max<int64_t>(0, emu.heap.front().t - now);
      wait = wait > spin_ns ? wait - spin_ns : 0;
      ts.tv_sec = wait / 1'000'000'000;
      ts.tv_nsec = wait % 1'000'000'000;
      tsp = &ts;
    }
    pollfd pfds[3] = {{emu.tun, POLLIN, 0}, {sfd, POLLIN, 0}, {cfd, POLLIN, 0}};
    int r = ppoll(pfds, cfd >= 0 ? 3 : 2, tsp, nullptr);
    if (r < 0 && errno != EINTR) {
      std::perror("ppoll");
      break;
    }
    if (r <= 0) continue;
    if (pfds[0].revents & POLLIN) {
      // Bounded batch so timers and control are not starved.
      for (int i = 0; i < 256; ++i) {
        ssize_t n = ::read(emu.tun, buf.data(), buf.size());
        if (n <= 0) break;
        emu.arrive(buf.data(), size_t(n), now_ns());
      }
    }
    if (pfds[1].revents & POLLIN) {
      signalfd_siginfo si{};
      while (::read(sfd, &si, sizeof si) == ssize_t(sizeof si)) {
        if (si.ssi_signo == SIGUSR1) {
          std::fprintf(stderr, "%s", emu.stats().c_str());
        } else if (si.ssi_signo == SIGHUP) {
          load_config();
          std::fprintf(stderr, "config reloaded\n%s", emu.stats().c_str());
        } else {
          running = false;
        }
      }
    }
    if (cfd >= 0 && (pfds[2].revents & POLLIN)) {
      for (int i = 0; i < 64; ++i) {
        char cbuf[1024];
        sockaddr_un from{};
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(cfd, cbuf, sizeof cbuf - 1, 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n < 0) break;
        cbuf[n] = 0;
        std::string line(cbuf);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        std::string reply = emu.control(line);
        if (line.rfind("stats", 0) != 0) std::fprintf(stderr, "control: %s -> %s\n", line.c_str(), reply.c_str());
        if (fl > sizeof(sa_family_t))
          sendto(cfd, reply.data(), reply.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), fl);
      }
    }
  }
  std::fprintf(stderr, "braid-link-emu: exiting\n%s", emu.stats().c_str());
  if (!ctl.empty()) ::unlink(ctl.c_str());
  return 0;
}

#include "client/pool.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "braid/platform.hpp"
#include "net/errors.hpp"
#include "net/log.hpp"

namespace braid::client {

namespace {
constexpr uint64_t kFirstBackoffMs = 500;
constexpr uint64_t kMaxBackoffMs = 30000;
// An idle connection the concentrator closes this soon after it became
// ready was refused, not aged out: it counts as a failure (back off).
constexpr uint64_t kEarlyCloseMs = 1000;
// TCP keepalive on idle connections: a path that died silently is noticed
// (and the connection dropped) before it is handed out, where the kernel
// allows it on the socket.
constexpr unsigned kKeepaliveDelayS = 20;
constexpr uint64_t kResolveCacheMs = 60000;
// An idle connection whose MPTCP fell back to plain TCP (a path that drops
// MPTCP options, or the kernel's blackhole detection) is used only when no
// other is idle, and replaced this soon, so the pool recovers once MPTCP
// works again.
constexpr uint64_t kFallenBackIdleMs = 10000;
constexpr size_t kReadChunk = 16 * 1024;
}  // namespace

struct Pool::Conn {
  explicit Conn(Pool* p) : pool(p) {}
  enum class State { connecting, handshake, idle, dead };
  Pool* pool;
  State state = State::connecting;
  uv_tcp_t* tcp = nullptr;  ///< the attempt in progress, then the connection
  std::unique_ptr<net::TlsEngine> tls;
  std::string first_flight;  ///< the ClientHello, sent with (or right after) each attempt's SYN
  std::vector<net::DialTarget> targets;
  size_t next = 0;
  int error = 0;  ///< the last attempt's failure
  net::Attempt attempt;
  std::string device;
  std::vector<std::string> paths;  ///< the usable paths when it was dialled (its subflows follow them)
  bool fell_back = false;          ///< an MPTCP socket whose connection runs plain TCP
  uint64_t deadline = 0;  ///< of the attempt, then of the handshake
  uint64_t ready_at = 0;
  int refs = 0;    ///< handles and requests that may still call back with this Conn
  int writes = 0;  ///< writes in flight
};

struct Pool::ConnectReq {
  uv_connect_t req;
  Conn* conn;
};

struct Pool::WriteReq {
  uv_write_t req;
  Conn* conn;
  char* buf;
};

struct Pool::DnsReq {
  uv_getaddrinfo_t req;
  Pool* pool;
};

Pool::Pool(uv_loop_t* loop, const config::ClientConfig& cfg, const net::TlsContext* tls, Devices devices)
    : loop_(loop), cfg_(cfg), tls_(tls), devices_(std::move(devices)) {
  const auto& c = *cfg_.concentrator;
  server_name_ = c.server_name.empty() ? c.address.host() : c.server_name;
  sockaddr_storage ss{};
  if (c.address.to_sockaddr(ss)) addrs_.push_back(ss);  // a literal needs no lookup
  rng_ = uv_hrtime() | 1;
  stats_.enabled = cfg_.pool.enabled();
  stats_.min = cfg_.pool.min;
  stats_.max = cfg_.pool.max;
}

Pool::~Pool() = default;

void Pool::start() {
  if (!cfg_.pool.enabled() || timer_) return;
  timer_ = new uv_timer_t;
  uv_timer_init(loop_, timer_);
  timer_->data = this;
  kick();
}

void Pool::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (timer_) {
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
  }
  if (dns_) uv_cancel(reinterpret_cast<uv_req_t*>(&dns_->req));
  while (!conns_.empty()) drop(conns_.back());
}

// ------------------------------------------------------------------ size

void Pool::count_connect() {
  const uint64_t second = uv_now(loop_) / 1000;
  // Seconds that passed since the last connect start at zero.
  for (uint64_t s = connects_second_ + 1; s <= second && s <= connects_second_ + connects_.size(); ++s)
    connects_[s % connects_.size()] = 0;
  connects_second_ = std::max(connects_second_, second);
  ++connects_[second % connects_.size()];
}

uint32_t Pool::target() {
  // As many idle connections as connects came in the last 10 s: a burst
  // (a page opening a dozen connections) is likely followed by another,
  // and at a steady rate a refill (two round trips) is far quicker than the
  // window, so the pool does not run dry.
  const uint64_t second = uv_now(loop_) / 1000;
  uint32_t recent = 0;
  for (size_t i = 0; i < connects_.size(); ++i) {
    const uint64_t s = second - i;
    if (s <= connects_second_ && connects_second_ - s < connects_.size()) recent += connects_[s % connects_.size()];
  }
  stats_.target = std::clamp(recent, cfg_.pool.min, cfg_.pool.max);
  return stats_.target;
}

std::optional<PooledConnection> Pool::take() {
  if (!cfg_.pool.enabled() || stopped_) return std::nullopt;
  count_connect();
  // The freshest: it proved the path alive most recently (the oldest is the
  // one most likely to have died silently, and is replaced at max_idle_ms
  // anyway). Its subflows joined during its handshake. One that fell back
  // to TCP only when there is nothing else.
  Conn* best = nullptr;
  for (Conn* c : conns_) {
    if (c->state != Conn::State::idle || c->writes != 0) continue;
    if (!best || (best->fell_back && !c->fell_back) ||
        (best->fell_back == c->fell_back && c->ready_at > best->ready_at))
      best = c;
  }
  kick();
  if (!best) {
    ++stats_.misses;
    return std::nullopt;
  }
  ++stats_.hits;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(best->tcp));
  PooledConnection out;
  out.tcp = best->tcp;
  out.tls = std::move(best->tls);
  out.mptcp = best->attempt.mptcp;
  out.mptcp_error = best->attempt.mptcp_error;
  out.device = best->device;
  out.idle_ms = uv_now(loop_) - best->ready_at;
  // The handle is the taker's now.
  best->tcp = nullptr;
  --best->refs;
  drop(best);
  return out;
}

// ------------------------------------------------------------------ filling

void Pool::kick() {
  if (!timer_ || stopped_) return;
  // Never from inside the caller (take() runs in a session's callback).
  uv_timer_start(
      timer_, [](uv_timer_t* t) { static_cast<Pool*>(t->data)->on_timer(); }, 0, 0);
}

void Pool::on_timer() {
  if (stopped_) return;
  const uint64_t now = uv_now(loop_);
  const std::vector<Conn*> all = conns_;
  for (Conn* c : all) {
    if (c->state == Conn::State::connecting && now >= c->deadline) {
      c->error = UV_ETIMEDOUT;
      close_tcp(c);
      next_attempt(c);
    } else if (c->state == Conn::State::handshake && now >= c->deadline) {
      fail(c, "no TLS handshake within " + std::to_string(cfg_.limits.connect_timeout_ms / 1000) + " s");
    } else if (c->state == Conn::State::idle && now - c->ready_at >= max_idle(c)) {
      // Replaced before the concentrator's own limit (limits.pool_idle_ms) closes it.
      ++stats_.expired;
      drop(c);
    }
  }
  refill();
  schedule();
}

void Pool::schedule() {
  if (!timer_ || stopped_) return;
  const uint64_t now = uv_now(loop_);
  uint64_t next = UINT64_MAX;
  for (const Conn* c : conns_) {
    if (c->state == Conn::State::idle)
      next = std::min(next, c->ready_at + max_idle(c));
    else
      next = std::min(next, c->deadline);
  }
  if (retry_at_ > now && conns_.size() < target()) next = std::min(next, retry_at_);
  if (next == UINT64_MAX) {
    uv_timer_stop(timer_);
    return;
  }
  uv_timer_start(
      timer_, [](uv_timer_t* t) { static_cast<Pool*>(t->data)->on_timer(); }, next > now ? next - now : 0, 0);
}

void Pool::refill() {
  if (stopped_ || !cfg_.pool.enabled() || uv_now(loop_) < retry_at_) return;
  const uint32_t want = target();
  size_t have = conns_.size();
  while (have < want) {
    if (!addresses_ready()) {
      resolve();
      return;
    }
    // After failures, one attempt at a time probes whether the concentrator is back.
    if (failures_ > 0 && have > stats_.idle) return;
    open_one();
    ++have;
    if (failures_ > 0) return;
  }
}

bool Pool::addresses_ready() const {
  if (cfg_.concentrator->address.type != Destination::Type::domain) return !addrs_.empty();
  return !addrs_.empty() && uv_now(loop_) - resolved_at_ < kResolveCacheMs;
}

void Pool::resolve() {
  if (dns_) return;
  auto* r = new DnsReq{{}, this};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  const auto& a = cfg_.concentrator->address;
  const std::string service = std::to_string(a.port);
  const int rc = uv_getaddrinfo(
      loop_, &r->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        auto* d = reinterpret_cast<DnsReq*>(req);
        Pool* p = d->pool;
        delete d;
        p->dns_ = nullptr;
        std::vector<sockaddr_storage> addrs;
        if (status == 0) addrs = socket_addresses(res);
        uv_freeaddrinfo(res);
        if (status == UV_ECANCELED || p->stopped_) return;
        if (status == 0 && addrs.empty()) status = UV_EAI_NODATA;
        if (status < 0) {
          p->fail(nullptr, "cannot resolve " + p->cfg_.concentrator->address.host() + ": " + net::describe_error(status));
          p->schedule();
          return;
        }
        p->addrs_ = std::move(addrs);
        p->resolved_at_ = uv_now(p->loop_);
        p->kick();
      },
      a.domain.c_str(), service.c_str(), &hints);
  if (rc < 0) {
    delete r;
    fail(nullptr, "cannot resolve " + a.host() + ": " + net::describe_error(rc));
    return;
  }
  dns_ = r;
}

void Pool::open_one() {
  auto* c = new Conn(this);
  if (devices_) c->paths = devices_();
  c->targets = net::dial_targets(addrs_, c->paths);
  conns_.push_back(c);
  ++stats_.opening;
  if (tls_) {
    c->tls = std::make_unique<net::TlsEngine>(*tls_, server_name_);
    if (!c->tls->start()) {
      fail(c, "cannot start TLS: " + c->tls->error());
      return;
    }
    // Ready before connecting, so it can ride in the SYN (TCP Fast Open).
    c->first_flight.swap(c->tls->ciphertext());
  }
  next_attempt(c);
}

void Pool::next_attempt(Conn* c) {
  while (c->next < c->targets.size()) {
    const net::DialTarget& t = c->targets[c->next++];
    c->tcp = new uv_tcp_t;
    uv_tcp_init(loop_, c->tcp);
    c->tcp->data = c;
    ++c->refs;
    auto* req = new ConnectReq{{}, c};
    ++c->refs;
    const int rc = net::start_attempt(
        c->tcp, &req->req, t, {cfg_.mptcp, cfg_.tcp_fastopen}, c->first_flight,
        [](uv_connect_t* r, int status) {
          auto* cr = reinterpret_cast<ConnectReq*>(r);
          Conn* conn = cr->conn;
          auto* handle = reinterpret_cast<uv_tcp_t*>(r->handle);
          delete cr;
          --conn->refs;
          Pool* p = conn->pool;
          if (status == UV_ECANCELED || conn->state != Conn::State::connecting || handle != conn->tcp) {
            p->maybe_free(conn);
            return;
          }
          if (status < 0) {
            conn->error = status;
            p->close_tcp(conn);
            // A refusal is the host's answer: other paths would hear the same.
            if (status == UV_ECONNREFUSED) {
              const sockaddr_storage refused = conn->targets[conn->next - 1].address;
              while (conn->next < conn->targets.size() &&
                     std::memcmp(&conn->targets[conn->next].address, &refused, sizeof refused) == 0)
                ++conn->next;
            }
            p->next_attempt(conn);
            return;
          }
          p->connected(conn);
        },
        c->attempt);
    if (rc < 0) {
      if (!c->attempt.started) {
        delete req;
        --c->refs;
      }
      c->error = rc;
      close_tcp(c);
      continue;
    }
    c->device = t.device;
    c->deadline = uv_now(loop_) + net::attempt_timeout_ms(c->next < c->targets.size(), cfg_.limits.connect_timeout_ms);
    schedule();
    return;
  }
  fail(c, "cannot connect to " + cfg_.concentrator->address.to_string() + ": " +
              net::describe_error(c->error ? c->error : UV_EHOSTUNREACH));
}

void Pool::connected(Conn* c) {
  if (c->attempt.first_sent < c->first_flight.size())
    write(c, c->first_flight.data() + c->attempt.first_sent, c->first_flight.size() - c->attempt.first_sent);
  c->first_flight.clear();
  if (c->state == Conn::State::dead) return;
  const int rc = uv_read_start(
      reinterpret_cast<uv_stream_t*>(c->tcp),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        buf->base = static_cast<char*>(std::malloc(kReadChunk));
        buf->len = buf->base ? kReadChunk : 0;
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* conn = static_cast<Conn*>(s->data);
        conn->pool->on_read(conn, nread, buf->base);
      });
  if (rc < 0) {
    fail(c, "cannot read: " + net::describe_error(rc));
    return;
  }
  if (!c->tls) {
    become_idle(c);  // insecure_plaintext: nothing to wait for
    return;
  }
  c->state = Conn::State::handshake;
  c->deadline = uv_now(loop_) + cfg_.limits.connect_timeout_ms;
  schedule();
}

void Pool::become_idle(Conn* c) {
  c->state = Conn::State::idle;
  c->ready_at = uv_now(loop_);
  --stats_.opening;
  ++stats_.idle;
  ++stats_.opened;
  uv_tcp_keepalive(c->tcp, 1, kKeepaliveDelayS);  // best effort: an error leaves it without
  uv_os_fd_t fd = -1;
  if (c->attempt.mptcp && uv_fileno(reinterpret_cast<uv_handle_t*>(c->tcp), &fd) == 0 && !platform::mptcp_active(fd)) {
    c->fell_back = true;
    BRAID_LOG(debug, "pool: a connection fell back to plain TCP (the path or the concentrator does not do MPTCP)");
  }
  if (failures_ > 0)
    BRAID_LOG(info, "pool: the concentrator %s answers again; pre-warming connections",
              cfg_.concentrator->address.to_string().c_str());
  failures_ = 0;
  retry_at_ = 0;
  stats_.last_error.clear();
  BRAID_LOG(debug, "pool: a connection is ready (%s, %s)", c->device.empty() ? "default route" : c->device.c_str(),
            c->attempt.mptcp ? "MPTCP" : "TCP");
  schedule();
}

void Pool::on_read(Conn* c, ssize_t nread, char* owned) {
  if (nread == 0 || c->state == Conn::State::dead) {
    std::free(owned);
    return;
  }
  const bool idle = c->state == Conn::State::idle;
  if (nread < 0) {
    std::free(owned);
    const std::string why = nread == UV_EOF ? "closed by the concentrator" : net::describe_error(static_cast<int>(nread));
    if (!idle) {
      fail(c, (c->tls ? "during the TLS handshake: " : "") + why);
    } else if (uv_now(loop_) - c->ready_at < kEarlyCloseMs) {
      fail(c, "an idle connection was " + why + " at once");
    } else {
      // Aged out at the concentrator, or the network dropped it: quietly replace it.
      BRAID_LOG(debug, "pool: an idle connection was %s after %llu s", why.c_str(),
                static_cast<unsigned long long>((uv_now(loop_) - c->ready_at) / 1000));
      ++stats_.closed_idle;
      drop(c);
    }
    return;
  }
  if (!c->tls) {
    std::free(owned);
    // The concentrator says nothing before a request: this is not ours to hand out.
    ++stats_.closed_idle;
    drop(c);
    return;
  }
  const bool ok = c->tls->feed(owned, static_cast<size_t>(nread));
  std::free(owned);
  flush_tls(c);  // handshake messages, or the alert that explains a failure
  if (c->state == Conn::State::dead) return;
  if (!ok) {
    fail(c, c->tls->error());
    return;
  }
  if (!c->tls->plaintext().empty() || c->tls->peer_closed()) {
    if (idle) ++stats_.closed_idle;
    if (idle) drop(c); else fail(c, "the concentrator spoke first");
    return;
  }
  if (!idle && c->tls->handshake_done()) become_idle(c);
}

void Pool::flush_tls(Conn* c) {
  std::string& out = c->tls->ciphertext();
  if (out.empty()) return;
  write(c, out.data(), out.size());
  out.clear();
}

void Pool::write(Conn* c, const char* data, size_t len) {
  auto* w = new WriteReq{{}, c, static_cast<char*>(std::malloc(len))};
  std::memcpy(w->buf, data, len);
  ++c->refs;
  ++c->writes;
  uv_buf_t b = uv_buf_init(w->buf, static_cast<unsigned>(len));
  const int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(c->tcp), &b, 1, [](uv_write_t* req, int status) {
    auto* wr = reinterpret_cast<WriteReq*>(req);
    Conn* conn = wr->conn;
    std::free(wr->buf);
    delete wr;
    --conn->refs;
    --conn->writes;
    Pool* p = conn->pool;
    if (status < 0 && status != UV_ECANCELED && conn->state != Conn::State::dead) {
      if (conn->state == Conn::State::idle) {
        ++p->stats_.closed_idle;
        p->drop(conn);
      } else {
        p->fail(conn, "cannot write: " + net::describe_error(status));
      }
    }
    p->maybe_free(conn);
  });
  if (rc < 0) {
    std::free(w->buf);
    delete w;
    --c->refs;
    --c->writes;
    fail(c, "cannot write: " + net::describe_error(rc));
  }
}

// ------------------------------------------------------------------ endings

void Pool::fail(Conn* c, const std::string& why) {
  ++stats_.refill_failures;
  ++failures_;
  // Exponential backoff with ±20 % jitter, so many clients do not retry in step.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  const uint64_t base = std::min(kMaxBackoffMs, kFirstBackoffMs << std::min<uint32_t>(failures_ - 1, 16));
  const uint64_t wait = base * (80 + rng_ % 41) / 100;
  retry_at_ = uv_now(loop_) + wait;
  stats_.last_error = why;
  if (failures_ == 1)
    BRAID_LOG(warn, "pool: cannot pre-warm a connection to the concentrator %s: %s; retrying in %.1f s (connects dial "
              "their own meanwhile)",
              cfg_.concentrator->address.to_string().c_str(), why.c_str(), static_cast<double>(wait) / 1000);
  else
    BRAID_LOG(debug, "pool: failure %u in a row: %s; retrying in %.1f s", failures_, why.c_str(),
              static_cast<double>(wait) / 1000);
  if (c) drop(c);
}

void Pool::drop(Conn* c) {
  if (c->state == Conn::State::dead) return;
  if (c->state == Conn::State::idle)
    --stats_.idle;
  else
    --stats_.opening;
  c->state = Conn::State::dead;
  conns_.erase(std::remove(conns_.begin(), conns_.end(), c), conns_.end());
  c->tls.reset();
  close_tcp(c);
  maybe_free(c);
  kick();
}

void Pool::close_tcp(Conn* c) {
  if (!c->tcp) return;
  uv_close(reinterpret_cast<uv_handle_t*>(c->tcp), [](uv_handle_t* h) {
    auto* conn = static_cast<Conn*>(h->data);
    delete reinterpret_cast<uv_tcp_t*>(h);
    --conn->refs;
    conn->pool->maybe_free(conn);
  });
  c->tcp = nullptr;
}

void Pool::maybe_free(Conn* c) {
  if (c->state == Conn::State::dead && c->refs == 0) delete c;
}

void Pool::paths_changed() {
  if (stopped_ || !devices_) return;
  // A connection's subflows follow the paths usable when it was dialled: the
  // kernel does not add a subflow for a path that comes back later, and one
  // whose initial path went away or off must not be handed out. So when the
  // set of usable paths changes, idle connections are replaced.
  auto now = devices_();
  std::sort(now.begin(), now.end());
  const std::vector<Conn*> all = conns_;
  for (Conn* c : all) {
    auto then = c->paths;
    std::sort(then.begin(), then.end());
    if (then == now) continue;
    BRAID_LOG(debug, "pool: replacing a connection dialled on %s (the usable paths changed)",
              c->device.empty() ? "the default route" : c->device.c_str());
    ++stats_.path_drops;
    drop(c);
  }
}

uint64_t Pool::max_idle(const Conn* c) const {
  return c->fell_back ? std::min<uint64_t>(cfg_.pool.max_idle_ms, kFallenBackIdleMs) : cfg_.pool.max_idle_ms;
}

PoolStats Pool::stats() const {
  PoolStats s = stats_;
  const uint64_t now = uv_now(loop_);
  s.backoff_ms = retry_at_ > now ? retry_at_ - now : 0;
  return s;
}

}  // namespace braid::client

// The UDP egress of a session: lazily created IPv4/IPv6 sockets towards
// destinations, a small per-session DNS cache, and replies handed back to the
// protocol on top (the concentrator's UDP carriers and the client's direct
// mode). Handles belong to the session and close with it.
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>

#include "net/errors.hpp"
#include "net/session.hpp"

namespace braid::net {

namespace {
constexpr size_t kMaxWaiting = 64;
constexpr uint64_t kDnsCacheMs = 60000;
constexpr size_t kMaxCachedNames = 256;
constexpr size_t kUdpBuffer = 65536;
}  // namespace

struct Session::UdpEgress {
  uv_udp_t* v4 = nullptr;
  uv_udp_t* v6 = nullptr;
  struct Cached {
    sockaddr_storage addr;
    uint64_t until_ms;
  };
  std::map<std::string, Cached> dns;
  struct Waiting {
    Destination to;
    std::string data;
  };
  std::deque<Waiting> waiting;
  std::string resolving;  ///< the name being resolved, "" when none
};

// Defined here, where UdpEgress is complete.
Session::~Session() { delete egress_; }

void Session::alloc_datagram(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = static_cast<char*>(std::malloc(kUdpBuffer));
  buf->len = buf->base ? kUdpBuffer : 0;
}

bool Session::udp_send_to(const Destination& to, const char* data, size_t len) {
  if (closing_) return false;
  if (!egress_) egress_ = new UdpEgress;  // freed in the destructor
  sockaddr_storage ss{};
  if (to.to_sockaddr(ss)) return udp_send_resolved(ss, data, len);
  auto it = egress_->dns.find(to.domain);
  if (it != egress_->dns.end() && it->second.until_ms > uv_now(loop_)) {
    sockaddr_storage addr = it->second.addr;
    if (addr.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(to.port);
    if (addr.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(to.port);
    return udp_send_resolved(addr, data, len);
  }
  if (egress_->waiting.size() >= kMaxWaiting) {
    ++udp_send_failures_;
    return false;
  }
  egress_->waiting.push_back({to, std::string(data, len)});
  if (egress_->resolving.empty()) resolve_for_udp(to.domain);
  return true;
}

void Session::resolve_for_udp(const std::string& name) {
  egress_->resolving = name;
  struct Req {
    uv_getaddrinfo_t req;
    Session* s;
  };
  Req* r = lookup_may_start() ? new Req{{}, this} : nullptr;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_ADDRCONFIG;
  int rc = !r ? UV_EBUSY : uv_getaddrinfo(
      loop_, &r->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        auto* rq = reinterpret_cast<Req*>(req);
        Session* s = rq->s;
        delete rq;
        --s->refs_;
        s->lookup_finished();
        sockaddr_storage found{};
        bool ok = false, allowed = false;
        for (addrinfo* ai = res; ai && status == 0 && !allowed; ai = ai->ai_next) {
          if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
          sockaddr_storage ss{};
          std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
          // The first address the destination policy allows, else the first
          // (refused when sent, and counted there).
          const bool this_allowed = s->udp_refusal(ss).empty();
          if (!ok || this_allowed) {
            found = ss;
            ok = true;
            allowed = this_allowed;
          }
        }
        uv_freeaddrinfo(res);
        if (s->closing_) {
          s->release();
          return;
        }
        UdpEgress& e = *s->egress_;
        const std::string name = e.resolving;
        e.resolving.clear();
        if (ok) {
          if (e.dns.size() >= kMaxCachedNames) e.dns.clear();  // bounded; names are re-resolved
          e.dns[name] = {found, uv_now(s->loop_) + kDnsCacheMs};
        }
        // Send (or drop) everything that waited for this name, then resolve the next name.
        std::deque<UdpEgress::Waiting> rest;
        for (auto& w : e.waiting) {
          if (w.to.domain != name) {
            rest.push_back(std::move(w));
            continue;
          }
          if (!ok) {
            ++s->udp_send_failures_;
            continue;
          }
          sockaddr_storage addr = found;
          if (addr.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(w.to.port);
          if (addr.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(w.to.port);
          s->udp_send_resolved(addr, w.data.data(), w.data.size());
        }
        e.waiting = std::move(rest);
        if (!ok) BRAID_LOG(debug, "[s%llu] UDP: cannot resolve %s", static_cast<unsigned long long>(s->id_), name.c_str());
        if (!e.waiting.empty()) s->resolve_for_udp(e.waiting.front().to.domain);
      },
      name.c_str(), nullptr, &hints);
  if (rc < 0) {
    if (r) {
      delete r;
      lookup_finished();
    }
    egress_->resolving.clear();
    // Drop what waited for this name; it cannot be resolved.
    std::deque<UdpEgress::Waiting> rest;
    for (auto& w : egress_->waiting)
      if (w.to.domain != name) rest.push_back(std::move(w));
      else ++udp_send_failures_;
    egress_->waiting = std::move(rest);
    return;
  }
  ++refs_;
}

bool Session::udp_send_resolved(const sockaddr_storage& to, const char* data, size_t len) {
  if (const std::string why = udp_refusal(to); !why.empty()) {
    if (udp_refused_++ == 0)
      BRAID_LOG(info, "[s%llu] UDP to %s refused: not allowed, %s (further refusals are counted)",
                static_cast<unsigned long long>(id_), sockaddr_to_string(reinterpret_cast<const sockaddr*>(&to)).c_str(),
                why.c_str());
    return false;
  }
  uv_udp_t*& sock = to.ss_family == AF_INET6 ? egress_->v6 : egress_->v4;
  if (!sock) {
    sock = new_udp();
    sockaddr_storage any{};
    if (to.ss_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&any);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr = in6addr_any;
    } else {
      auto* sin = reinterpret_cast<sockaddr_in*>(&any);
      sin->sin_family = AF_INET;
    }
    int rc = uv_udp_bind(sock, reinterpret_cast<const sockaddr*>(&any), 0);
    if (rc == 0)
      rc = uv_udp_recv_start(
          sock, alloc_datagram,
          [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned) {
            auto* s = static_cast<Session*>(h->data);
            // n == 0 with an address is an empty datagram, a legal one.
            if (n >= 0 && from && !s->closing_) {
              s->touch();
              s->on_udp_reply(from, buf->base, static_cast<size_t>(n));
            }
            std::free(buf->base);
          });
    if (rc < 0) {
      BRAID_LOG(warn, "[s%llu] UDP socket: %s", static_cast<unsigned long long>(id_), describe_error(rc).c_str());
      ++udp_send_failures_;
      sock = nullptr;  // the handle closes with the session; the next send tries afresh
      return false;
    }
  }
  uv_buf_t b = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len));
  // try_send: a datagram that cannot go now is dropped, never queued without bound.
  int rc = uv_udp_try_send(sock, &b, 1, reinterpret_cast<const sockaddr*>(&to));
  if (rc < 0) {
    ++udp_send_failures_;
    return false;
  }
  return true;
}

}  // namespace braid::net

#include "concentrator/server.hpp"

#include <openssl/rand.h>

#include "braid/platform.hpp"
#include "concentrator/server_session.hpp"
#include "net/errors.hpp"
#include "net/log.hpp"

namespace braid::concentrator {

Server::Server(uv_loop_t* loop, config::ConcentratorConfig cfg)
    : loop_(loop), cfg_(std::move(cfg)), guard_(loop_, cfg_) {}

void Server::ensure_mptcp_limits() {
  if (!cfg_.mptcp || cfg_.mptcp_subflows == 0) return;
  // Each client path beyond the first arrives as an MP_JOIN; the server
  // accepts only as many extra subflows as its path manager's limit allows
  // (default 2), so raise it where we may.
  platform::MptcpLimits limits;
  if (int rc = platform::get_mptcp_limits(limits); rc < 0) {
    BRAID_LOG(warn, "cannot read the MPTCP path-manager limits: %s", net::describe_error(rc).c_str());
    return;
  }
  if (limits.subflows >= cfg_.mptcp_subflows) {
    BRAID_LOG(info, "MPTCP limits: %u subflows per connection", limits.subflows);
    return;
  }
  platform::MptcpLimits wanted = limits;
  wanted.subflows = cfg_.mptcp_subflows;
  if (int rc = platform::set_mptcp_limits(wanted); rc < 0) {
    BRAID_LOG(warn,
              "MPTCP limits: only %u extra subflows per connection and raising it failed (%s); as root run "
              "'ip mptcp limits set subflow %u' or grant CAP_NET_ADMIN",
              limits.subflows, net::describe_error(rc).c_str(), cfg_.mptcp_subflows);
    return;
  }
  BRAID_LOG(info, "MPTCP limits: raised subflows per connection from %u to %u", limits.subflows, wanted.subflows);
}

bool Server::reload_users(std::string& error) {
  auto users = Users::load(cfg_.users_file, error);
  if (!users) return false;
  // Sessions hold a pointer to auth_, so the users are replaced in place;
  // sessions already past their request keep running (revocation applies to
  // new connections).
  auth_.users = std::move(*users);
  return true;
}

bool Server::start(std::string& error) {
  if (!reload_users(error)) {
    error = "users: " + error;
    return false;
  }
  if (!cfg_.insecure_plaintext) {
    tls_ = net::TlsContext::server(cfg_.tls_cert, cfg_.tls_key, error);
    if (!tls_) return false;
  }
  ensure_mptcp_limits();
  guard_.refresh_own_addresses();
  std::string rules;
  for (const auto& r : cfg_.destinations.deny) rules += ", deny " + r.to_string();
  for (const auto& r : cfg_.destinations.allow) rules += ", allow " + r.to_string();
  BRAID_LOG(info, "destinations: refusing loopback, private, link-local, multicast and this machine's %zu addresses%s",
            guard_.policy().own_addresses().size(), rules.c_str());
  listener_ = std::make_unique<net::Listener>(loop_);
  if (listener_->listen(cfg_.listen, cfg_.mptcp, [this](uv_stream_t* s) { on_accept(s); }, error,
                        cfg_.tcp_fastopen ? kFastOpenQueue : 0) < 0)
    return false;
  if (cfg_.tcp_fastopen) report_fastopen();
  std::string why;
  if (!open_udp(why)) BRAID_LOG(warn, "datagram carrier unavailable: %s (UDP goes framed over MPTCP)", why.c_str());
  if (cfg_.mptcp && !listener_->is_mptcp())
    BRAID_LOG(warn, "listening with plain TCP: %s", platform::describe_mptcp_error(listener_->mptcp_error()).c_str());
  return true;
}

void Server::on_accept(uv_stream_t* server) {
  const bool full = sessions_.size() >= cfg_.limits.max_connections;
  auto* s = static_cast<ServerSession*>(sessions_.accept(
      server, [&](uint64_t id) { return std::make_unique<ServerSession>(loop_, id, cfg_, sessions_, this, guard_); }));
  if (!s) return;
  s->attach(&auth_, tls_ ? std::make_unique<net::TlsEngine>(*tls_) : nullptr);
  // An address that failed to log in too often is closed before any TLS
  // work is spent on it.
  if (auth_.limiter.blocked(s->peer(), uv_now(loop_))) {
    s->close("refused without checking: " + s->peer() + " failed to log in " +
             std::to_string(AuthLimiter::kMaxFailures) + " times within " +
             std::to_string(AuthLimiter::kWindowMs / 1000) + " s");
    return;
  }
  if (full) {
    s->refuse_busy();
    return;
  }
  s->begin();
}

void Server::report_fastopen() {
  // A client's ClientHello may ride in its SYN (RFC 7413): a cold connect
  // saves a round trip. Replaying such a SYN only replays a ClientHello,
  // which starts a handshake nobody can finish, so it is safe to accept.
  if (int rc = listener_->fastopen_error(); rc < 0) {
    BRAID_LOG(info, "TCP Fast Open: not available on the listening socket (%s)", net::describe_error(rc).c_str());
    return;
  }
  platform::FastOpenSysctl s;
  const int rc = platform::fastopen_server_sysctl(true, s);
  if (s.after >= 0 && (s.after & platform::kFastOpenServer)) {
    if (s.after != s.before)
      BRAID_LOG(info, "TCP Fast Open: on (raised net.ipv4.tcp_fastopen from %d to %d in this network namespace)",
                s.before, s.after);
    else
      BRAID_LOG(info, "TCP Fast Open: on");
    return;
  }
  BRAID_LOG(info,
            "TCP Fast Open: off: net.ipv4.tcp_fastopen is %d, without the server bit (2), and setting it failed (%s); "
            "cold connects from clients take one more round trip. As root: sysctl -w net.ipv4.tcp_fastopen=3",
            s.before, net::describe_error(rc).c_str());
}

bool Server::open_udp(std::string& error) {
  sockaddr_storage ss{};
  cfg_.listen.to_sockaddr(ss);
  udp_ = new uv_udp_t;
  uv_udp_init(loop_, udp_);
  udp_->data = this;
  int rc = uv_udp_bind(udp_, reinterpret_cast<const sockaddr*>(&ss), UV_UDP_REUSEADDR);
  if (rc == 0)
    rc = uv_udp_recv_start(
        udp_,
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          static char scratch[65536];
          *buf = uv_buf_init(scratch, sizeof scratch);
        },
        [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned) {
          auto* self = static_cast<Server*>(h->data);
          if (n <= 0 || !from) return;
          uint32_t id = 0;
          auto it = datagram::peek_association(bytes_of(buf->base, static_cast<size_t>(n)), id)
                        ? self->associations_.find(id)
                        : self->associations_.end();
          if (it == self->associations_.end()) {
            ++self->unknown_packets_;
            return;
          }
          it->second->on_datagram_packet(buf->base, static_cast<size_t>(n), from);
        });
  if (rc < 0) {
    error = "cannot open UDP " + cfg_.listen.to_string() + ": " + net::describe_error(rc);
    uv_close(reinterpret_cast<uv_handle_t*>(udp_), [](uv_handle_t* h) { delete reinterpret_cast<uv_udp_t*>(h); });
    udp_ = nullptr;
    return false;
  }
  return true;
}

uint32_t Server::register_association(ServerSession* s) {
  if (!udp_) return 0;
  uint32_t id = 0;
  // Random ids: an outsider cannot guess a live one (and needs its key anyway).
  do {
    RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id);
  } while (id == 0 || associations_.count(id));
  associations_[id] = s;
  return id;
}

void Server::unregister_association(uint32_t id) { associations_.erase(id); }

bool Server::send_packet(const sockaddr* to, const Bytes& packet) {
  if (!udp_) return false;
  uv_buf_t b = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(packet.data())),
                           static_cast<unsigned>(packet.size()));
  return uv_udp_try_send(udp_, &b, 1, to) >= 0;
}

uint16_t Server::udp_port() const {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (udp_) uv_udp_getsockname(udp_, reinterpret_cast<sockaddr*>(&ss), &len);
  return Destination::from_sockaddr(reinterpret_cast<sockaddr*>(&ss)).port;
}

void Server::stop(std::function<void()> done) {
  if (listener_) listener_->close();
  if (udp_) {
    uv_close(reinterpret_cast<uv_handle_t*>(udp_), [](uv_handle_t* h) { delete reinterpret_cast<uv_udp_t*>(h); });
    udp_ = nullptr;
    if (unknown_packets_) BRAID_LOG(info, "datagram port: dropped %llu packets of unknown associations",
                                    static_cast<unsigned long long>(unknown_packets_));
  }
  BRAID_LOG(info, "%s", guard_.summary().c_str());
  sessions_.close_all("the concentrator is shutting down", std::move(done));
}

}  // namespace braid::concentrator

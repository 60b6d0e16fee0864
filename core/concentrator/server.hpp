// The concentrator: accepts MPTCP connections from Braid clients, checks each
// request's token before connecting anywhere, connects to the destination and
// relays.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include <uv.h>

#include "concentrator/datagram_hub.hpp"
#include "concentrator/server_session.hpp"
#include "concentrator/guard.hpp"
#include "config/config.hpp"
#include "net/listener.hpp"
#include "net/session_table.hpp"

namespace braid::concentrator {

class Server final : public DatagramHub {
 public:
  Server(uv_loop_t* loop, config::ConcentratorConfig cfg);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Raises the path manager's subflow limit where it can and listens.
  /// Returns false with @p error when it cannot listen.
  bool start(std::string& error);
  void stop(std::function<void()> done);
  /// Reads the users file again (SIGHUP); on failure the old users stay.
  bool reload_users(std::string& error);
  size_t user_count() const { return auth_.users.size(); }
  /// Connections closed unchecked because their address failed too often.
  uint64_t refused_addresses() const { return auth_.limiter.refused(); }
  /// The certificate's fingerprint (nullptr without TLS).
  const net::TlsContext* tls() const { return tls_.get(); }
  Destination bound() const { return listener_ ? listener_->bound() : Destination{}; }
  bool listening_mptcp() const { return listener_ && listener_->is_mptcp(); }
  size_t session_count() const { return sessions_.size(); }
  /// Packets dropped because no association had their id.
  uint64_t unknown_packets() const { return unknown_packets_; }
  /// The destination policy, limits and refusal counters.
  const Guard& guard() const { return guard_; }

  // DatagramHub
  uint32_t register_association(ServerSession* s) override;
  void unregister_association(uint32_t id) override;
  bool send_packet(const sockaddr* to, const Bytes& packet) override;
  uint16_t udp_port() const override;

 private:
  void ensure_mptcp_limits();
  void report_fastopen();
  /// Pending TCP Fast Open requests the listener accepts at once.
  static constexpr int kFastOpenQueue = 256;
  void on_accept(uv_stream_t* server);
  bool open_udp(std::string& error);

  uv_loop_t* loop_;
  config::ConcentratorConfig cfg_;
  std::unique_ptr<net::Listener> listener_;
  std::unique_ptr<net::TlsContext> tls_;
  Auth auth_;
  Guard guard_;
  net::SessionTable sessions_;
  uv_udp_t* udp_ = nullptr;
  std::map<uint32_t, ServerSession*> associations_;
  uint64_t unknown_packets_ = 0;
};

}  // namespace braid::concentrator

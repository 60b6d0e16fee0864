// One client connection at the concentrator: reads the wire request, checks
// the token, connects to the destination, answers with a status and relays.
#pragma once

#include "config/config.hpp"
#include <map>
#include <memory>
#include <set>

#include "concentrator/datagram_hub.hpp"
#include "concentrator/auth_limiter.hpp"
#include "concentrator/guard.hpp"
#include "concentrator/users.hpp"
#include "net/datagram_queue.hpp"
#include "paths/udp_scheduler.hpp"
#include "tunnel/datagram.hpp"
#include "net/session.hpp"
#include "tunnel/wire.hpp"

namespace braid::concentrator {

/// What the server shares with its sessions to authenticate them: the users
/// (replaced in place on reload) and the failed-attempt limiter.
struct Auth {
  Users users;
  AuthLimiter limiter;
};

class ServerSession final : public net::Session {
 public:
  ServerSession(uv_loop_t* loop, uint64_t id, const config::ConcentratorConfig& cfg, net::SessionOwner& owner,
                DatagramHub* hub, Guard& guard);
  /// A packet for this session's association arrived on the UDP port.
  void on_datagram_packet(const char* data, size_t len, const sockaddr* from);
  /// Answers "busy" (after the TLS handshake, with TLS) and closes (the
  /// connection limit is reached).
  void refuse_busy();
  /// Before begin(): the users to check and, unless insecure_plaintext, TLS
  /// on the client connection.
  void attach(Auth* auth, std::unique_ptr<net::TlsEngine> tls);
  /// Starts reading the client. A connection may then wait for its request
  /// up to limits.pool_idle_ms once it is established (TLS done): clients
  /// keep pre-warmed connections.
  void begin();
  /// The client's IP address, as text.
  const std::string& peer() const { return peer_; }
  /// The authenticated user ("" before the request is accepted); limits
  /// and logs are per user.
  const std::string& user() const { return user_; }

 private:
  enum class State { request, connecting, relaying, udp };
  struct ClientPath {
    sockaddr_storage address{};  ///< where this client path's packets come from (NAT-friendly)
    bool known = false;
    datagram::PathReport report;  ///< the client's view of the path, from its probes
    uint64_t last_heard_ms = 0;   ///< the last authenticated packet from this path
  };

  void on_downstream_bytes() override;
  void on_resolved(int status, std::vector<sockaddr_storage> addrs) override;
  void on_dialed(int status) override;
  void on_handshake_timeout() override;
  void on_downstream_eof_in_handshake() override;
  void on_downstream_tls_ready() override;
  /// Established, no byte of a request yet: the wait is limits.pool_idle_ms.
  void await_request();
  void answer_and_close(uint8_t status, const std::string& why);
  bool idle_wait_ = false;  ///< waiting for the first byte of a request on an established connection

  // Hardening (guard.hpp): per-user sessions, the destination policy, lookups.
  /// Counts this session against user_'s limit once; false after refusing it.
  bool admit_user();
  /// Checks target_'s resolved addresses; false after refusing the request.
  bool keep_allowed(std::vector<sockaddr_storage>& addrs);
  std::string udp_refusal(const sockaddr_storage& to) const override;
  bool lookup_may_start() override;
  void lookup_finished() override;
  void on_tls_failed(bool upstream, const std::string& why) override;
  Guard& guard_;
  Auth* auth_ = nullptr;
  std::string peer_;    ///< the client's address, for the failed-attempt limiter and logs
  bool busy_ = false;   ///< answer "busy" once the request arrives
  std::string user_;
  bool user_counted_ = false;
  bool lookup_refused_ = false;

  // UDP framed carrier
  void start_udp();
  void on_udp_frames();
  void flush_frames_down();
  void on_drained(bool upstream) override;
  void on_udp_reply(const sockaddr* from, const char* data, size_t len) override;
  void on_closing() override;
  std::unique_ptr<net::DatagramQueue> down_frames_;
  uint64_t udp_up_ = 0, udp_down_ = 0;

  // Datagram carrier (KIND udp_datagram)
  bool start_datagram(size_t header_length);
  void send_datagram_down(const Destination& from, const char* data, size_t len, paths::Scheduler kind);
  DatagramHub* hub_;
  uint32_t association_ = 0;
  datagram::Key key_{};
  std::unique_ptr<paths::UdpScheduler> scheduler_;  ///< the association's SCHED: sources the client named none for
  /// The scheduler of the rule each destination matched at the client (from
  /// its datagrams' TYPE bits), one instance per kind for weighted's state.
  std::map<paths::Scheduler, std::unique_ptr<paths::UdpScheduler>> peer_schedulers_;
  uint32_t probe_interval_ms_ = 500;  ///< the client's, from its probes
  bool path_live(const ClientPath& cp) const;
  datagram::ReplayWindow replay_;
  uint64_t down_seq_ = 1;
  std::map<uint8_t, ClientPath> client_paths_;
  /// Destinations the client reaches by datagram, and the downstream scheduler for each.
  std::map<std::string, paths::Scheduler> datagram_peers_;
  uint64_t dg_in_ = 0, dg_out_ = 0, dg_forged_ = 0, dg_replayed_ = 0;

  const config::ConcentratorConfig& cfg_;
  State state_ = State::request;
  Destination target_;
};

}  // namespace braid::concentrator

// One local application's connection: speaks SOCKS5 or HTTP proxy to the
// application, opens the upstream (concentrator or direct) and relays.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "client/frontend.hpp"
#include "client/pool.hpp"
#include "config/config.hpp"
#include "net/datagram_queue.hpp"
#include "paths/udp_scheduler.hpp"
#include "tunnel/datagram.hpp"
#include "net/session.hpp"

namespace braid::client {

/// What a session asks of, and tells, the engine that owns it.
class ClientHooks {
 public:
  virtual ~ClientHooks() = default;
  /// Interfaces to pin new upstream connections' initial subflow to, best
  /// first (empty: let routing choose).
  virtual std::vector<std::string> bind_devices() = 0;
  /// A path the datagram carrier may use.
  struct UdpPathInfo {
    std::string name;     ///< interface to bind to
    bool backup = false;
    double weight = 1;    ///< measured capacity (for the weighted scheduler)
  };
  /// Usable paths that are on or backup, best first.
  virtual std::vector<UdpPathInfo> udp_paths() = 0;
  /// Direct mode: a destination whose MPTCP connection fell back to TCP. The
  /// kernel keeps a fallen-back socket's receive window small, so the next
  /// connections to it use plain TCP from the start.
  virtual void note_tcp_only(const sockaddr_storage& destination) = 0;
  virtual bool tcp_only(const sockaddr_storage& destination) = 0;
  /// A reading of the upstream connection's subflows.
  virtual void on_subflows(uint64_t session, const std::vector<platform::SubflowStats>& subflows) = 0;
  /// The session is closing; its final reading came just before.
  virtual void on_session_end(uint64_t session) = 0;
  /// TLS towards the concentrator (nullptr: insecure_plaintext).
  virtual const net::TlsContext* concentrator_tls() { return nullptr; }
  /// A pre-warmed connection to the concentrator, or nothing (the pool is
  /// empty or off); either way the connect is counted for the pool's size.
  virtual std::optional<PooledConnection> take_pooled() { return std::nullopt; }
  /// A pre-warmed connection failed before the concentrator answered and the
  /// session dials a fresh one.
  virtual void note_pool_fallback() {}
};

/// A snapshot of one session for the control API.
struct ConnectionInfo {
  uint64_t id = 0;
  std::string protocol;     ///< "socks5", "http-connect", "http"
  std::string destination;
  std::string state;        ///< "handshake", "connecting", "relaying"
  uint64_t age_ms = 0;
  uint64_t bytes_up = 0, bytes_down = 0;
  bool mptcp = false;
  bool prewarmed = false;   ///< the upstream came from the pool
};

class ClientSession final : public net::Session {
 public:
  ClientSession(uv_loop_t* loop, uint64_t id, const config::ClientConfig& cfg, Frontend frontend,
                net::SessionOwner& owner, ClientHooks* hooks);

  ConnectionInfo info() const;
  /// Reads the upstream's subflows and reports them to the hooks.
  void sample();
  /// Sends the request header (with early data) on an upstream that is
  /// ready for it: connected and, unless insecure_plaintext, TLS-established.
  /// A pre-warmed connection enters here after Session::adopt_upstream().
  void send_request_header();

 private:
  enum class State { detect, socks_greeting, socks_auth, socks_request, http_head, connecting, awaiting_reply, relaying, udp };
  enum class App { socks5, http_connect, http_forward, socks5_udp };

  void on_downstream_bytes() override;
  void on_upstream_bytes() override;
  void on_resolved(int status, std::vector<sockaddr_storage> addrs) override;
  void on_dialed(int status) override;
  void on_handshake_timeout() override;
  void on_downstream_eof_in_handshake() override;
  void on_closing() override;
  void on_upstream_tls_ready() override;
  void on_tls_failed(bool upstream, const std::string& why) override;
  void on_upstream_lost(const std::string& why) override;

  bool step();  // one handshake step; false when more bytes are needed or the session ended
  bool socks_greeting();
  bool socks_auth();
  bool socks_request();
  bool http_head();
  void open_upstream();
  void use_pooled(PooledConnection c);
  /// optimistic_reply: SOCKS5 / HTTP CONNECT success before the concentrator's reply.
  void answer_optimistically();
  /// Optimistic reply: what the application sends before the concentrator
  /// answers goes up at once (kept for a retry, within limits.buffer_bytes).
  void forward_before_reply();
  /// The upstream failed after the header went out and before any byte of
  /// the reply (a pre-warmed connection the concentrator had just closed):
  /// the request may be repeated once on a fresh connection.
  bool can_retry() const;
  void retry_fresh(const std::string& why);
  void upstream_ready(const Destination& bound);
  void upstream_failed(uint8_t socks_reply, int http_status, const std::string& why);
  bool via_concentrator() const { return cfg_.concentrator.has_value(); }
  bool use_mptcp(const sockaddr_storage& to) const;

  const config::ClientConfig& cfg_;
  Frontend frontend_;
  ClientHooks* hooks_;
  uint64_t started_ms_;
  void on_upstream_response_head();

  // UDP ASSOCIATE (client_session_udp.cpp)
  void udp_associate();
  void udp_start();
  void on_app_datagram(const sockaddr* from, const char* data, size_t len);
  void flush_frames_up();
  void deliver_to_app(const Destination& from, const char* data, size_t len);
  void on_drained(bool upstream) override;
  void on_udp_reply(const sockaddr* from, const char* data, size_t len) override;
  void on_udp_frames();
  uv_udp_t* app_udp_ = nullptr;
  sockaddr_storage app_addr_{};  ///< the client's address; its port is pinned by the first datagram
  bool app_pinned_ = false;
  Destination udp_bound_;
  std::unique_ptr<net::DatagramQueue> up_frames_;
  struct {
    uint64_t up = 0, down = 0, foreign = 0, frag = 0, malformed = 0;
  } udp_;

  // Datagram carrier: per-path UDP sockets to the concentrator's UDP port.
  struct UdpPath {
    uint8_t id = 0;
    std::string name;
    bool backup = false;
    double weight = 1;
    uv_udp_t* sock = nullptr;
    uint64_t last_reply_ms = 0;
    uint32_t rtt_us = 0;
    paths::PathProbes probes;  ///< loss, SRTT and liveness (udp_scheduler.hpp)
    bool was_live = false;     ///< liveness at the last probe tick (a change is reported at once)
    uint64_t next_probe_us = 0;  ///< when the next regular probe is due
    uint64_t sent = 0, received = 0;
  };
  void datagram_start();
  void send_probes();
  void on_path_packet(UdpPath& path, const char* data, size_t len);
  bool send_datagram(const Destination& to, const char* data, size_t len, const std::string& scheduler);
  std::vector<paths::UdpPathState> udp_path_states() const;
  bool datagram_ = false;
  datagram::Key key_{};
  uint32_t association_ = 0;
  sockaddr_storage conc_udp_{};
  std::vector<std::unique_ptr<UdpPath>> udp_paths_;
  uv_timer_t* probe_timer_ = nullptr;
  uint64_t dg_seq_ = 1;
  datagram::ReplayWindow dg_replay_;
  std::map<std::string, std::unique_ptr<paths::UdpScheduler>> schedulers_;
  bool dg_fallback_ = false;
  uint64_t dg_started_ms_ = 0;
  uint64_t dg_sent_ = 0, dg_received_ = 0, dg_duplicates_ = 0, dg_rejected_ = 0;

  bool prewarmed_ = false;        ///< the current upstream came from the pool
  bool retried_ = false;          ///< a failed pre-warmed connection was replaced once already
  bool optimistic_sent_ = false;  ///< the application was told "connected" before the concentrator said so
  std::string replay_;            ///< bytes sent after the header, kept until the reply for a retry
  bool replay_full_ = false;      ///< replay_ would pass limits.buffer_bytes: no retry

  State state_ = State::detect;
  App app_ = App::socks5;
  Destination target_;
  std::string early_;  ///< bytes the upstream gets first (a rewritten HTTP head)
};

}  // namespace braid::client

// The client's local proxy engine: SOCKS5, HTTP and mixed listeners on
// loopback, one session per accepted connection, each carried upstream over
// its own MPTCP connection (to the concentrator, or straight to the
// destination when none is configured); the paths it bonds, the traffic each
// path carries, and the control API that shows and steers them.
#pragma once

#include <functional>
#include <unordered_map>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "client/client_session.hpp"
#include "client/frontend.hpp"
#include "client/pool.hpp"
#include "config/config.hpp"
#include "control/api_server.hpp"
#include "net/listener.hpp"
#include "net/session_table.hpp"
#include "paths/path_manager.hpp"
#include "paths/telemetry.hpp"

namespace braid::client {

class Engine final : public ClientHooks {
 public:
  Engine(uv_loop_t* loop, config::ClientConfig cfg, std::string config_path = {});
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Opens the listeners, the path manager and the control API. Returns
  /// false with @p error naming what failed.
  bool start(std::string& error);
  /// Closes everything; @p done runs when every session is freed.
  void stop(std::function<void()> done);

  struct Listening {
    Frontend frontend;
    Destination address;
  };
  std::vector<Listening> listening() const;
  const config::ClientConfig& config() const { return cfg_; }
  const std::string& config_path() const { return config_path_; }
  size_t session_count() const { return sessions_.size(); }
  /// 0 when MPTCP sockets can be created here, else the negative errno.
  int mptcp_error() const { return mptcp_error_; }
  uint64_t uptime_ms() const { return uv_now(loop_) - started_ms_; }

  /// The path manager, or nullptr when paths cannot be followed here.
  paths::PathManager* paths() { return paths_.get(); }
  const paths::Telemetry& telemetry() const { return telemetry_; }
  std::vector<ConnectionInfo> connections() const;
  /// Closes session @p id; false when there is none.
  bool kill(uint64_t id);
  /// Where the control API listens (port 0 until started).
  Destination control_address() const { return api_ ? api_->bound() : Destination{}; }
  const std::string& control_token() const { return token_; }
  /// Saves remembered policies, mode and totals now.
  void save_state();
  /// The pool of pre-warmed connections (enabled false without one).
  PoolStats pool_stats() const { return pool_ ? pool_->stats() : PoolStats{}; }

  // ClientHooks
  std::vector<std::string> bind_devices() override;
  std::vector<UdpPathInfo> udp_paths() override;
  void note_tcp_only(const sockaddr_storage& destination) override;
  bool tcp_only(const sockaddr_storage& destination) override;
  void on_subflows(uint64_t session, const std::vector<platform::SubflowStats>& subflows) override;
  void on_session_end(uint64_t session) override;
  const net::TlsContext* concentrator_tls() override { return tls_.get(); }
  std::optional<PooledConnection> take_pooled() override;
  void note_pool_fallback() override {
    if (pool_) pool_->note_fallback();
  }

 private:
  void on_accept(uv_stream_t* server, Frontend f);
  void on_second();
  void load_state();
  bool start_control(std::string& error);

  uv_loop_t* loop_;
  config::ClientConfig cfg_;
  std::string config_path_;
  struct Bound {
    Frontend frontend;
    std::unique_ptr<net::Listener> listener;
  };
  std::vector<Bound> listeners_;
  net::SessionTable sessions_;
  int mptcp_error_ = 0;
  uint64_t started_ms_ = 0;

  std::unique_ptr<paths::PathManager> paths_;
  paths::Telemetry telemetry_;
  std::unique_ptr<control::ApiServer> api_;
  std::unique_ptr<net::TlsContext> tls_;  ///< towards the concentrator; null without one or in plaintext
  std::unique_ptr<Pool> pool_;            ///< pre-warmed connections to the concentrator; null without one or when off
  std::string token_;
  uv_timer_t* second_ = nullptr;
  uint64_t seconds_ = 0;
  std::map<std::string, paths::Policy> remembered_;
  std::string remembered_mode_;
  bool state_loaded_ = false;  ///< save_state() only after load_state(): never overwrite with nothing
  std::unordered_map<std::string, uint64_t> tcp_only_;  ///< destination IP → until (loop ms)
};

}  // namespace braid::client

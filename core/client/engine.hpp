// The client's local proxy engine: SOCKS5, HTTP and mixed listeners on
// loopback, one session per accepted connection, each carried upstream over
// its own MPTCP connection (to the concentrator, or straight to the
// destination when none is configured).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "config/config.hpp"
#include "net/listener.hpp"
#include "net/session_table.hpp"

namespace braid::client {

/// Which protocols a listener speaks.
enum class Frontend { socks5, http, mixed };

const char* frontend_name(Frontend f);

class Engine {
 public:
  Engine(uv_loop_t* loop, config::ClientConfig cfg);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Opens the configured listeners. Returns false with @p error naming the
  /// listener that failed.
  bool start(std::string& error);
  /// Closes the listeners and every session; @p done runs when all are freed.
  void stop(std::function<void()> done);

  struct Listening {
    Frontend frontend;
    Destination address;
  };
  std::vector<Listening> listening() const;
  const config::ClientConfig& config() const { return cfg_; }
  size_t session_count() const { return sessions_.size(); }
  /// 0 when MPTCP sockets can be created here, else the negative errno.
  int mptcp_error() const { return mptcp_error_; }

 private:
  void on_accept(uv_stream_t* server, Frontend f);

  uv_loop_t* loop_;
  config::ClientConfig cfg_;
  struct Bound {
    Frontend frontend;
    std::unique_ptr<net::Listener> listener;
  };
  std::vector<Bound> listeners_;
  net::SessionTable sessions_;
  int mptcp_error_ = 0;
};

}  // namespace braid::client

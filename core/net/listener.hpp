// A listening TCP or MPTCP socket on the loop that hands each new connection
// to a callback.
#pragma once

#include <functional>
#include <string>

#include <uv.h>

#include "net/address.hpp"

namespace braid::net {

class Listener {
 public:
  /// Called with the listening stream when a connection is ready for uv_accept().
  using AcceptFn = std::function<void(uv_stream_t* server)>;

  explicit Listener(uv_loop_t* loop) : loop_(loop) {}
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  /**
   * Binds and listens on @p at. With @p mptcp the socket is created as
   * IPPROTO_MPTCP (plain TCP clients are still accepted by such a listener);
   * if the kernel refuses MPTCP, mptcp_error() says why and TCP is used.
   * With @p fastopen_queue > 0 the socket accepts TCP Fast Open (data in
   * the SYN) for that many pending requests; fastopen_error() says why not.
   * Returns 0 or a negative libuv error; @p error describes a failure.
   */
  int listen(const Destination& at, bool mptcp, AcceptFn on_accept, std::string& error, int fastopen_queue = 0);
  /// The bound address (useful with port 0).
  Destination bound() const;
  bool is_mptcp() const { return mptcp_; }
  int mptcp_error() const { return mptcp_error_; }
  /// 0 when TCP Fast Open was asked for and set, else why not (negative errno).
  int fastopen_error() const { return fastopen_error_; }
  void close();

 private:
  uv_loop_t* loop_;
  uv_tcp_t* tcp_ = nullptr;
  AcceptFn on_accept_;
  bool mptcp_ = false;
  int mptcp_error_ = 0;
  int fastopen_error_ = 0;
};

}  // namespace braid::net

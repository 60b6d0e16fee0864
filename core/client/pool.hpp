// Pre-warmed connections to the concentrator: MPTCP connections that are
// already established, TLS done, their extra subflows joined by the kernel's
// path manager while they wait, so a proxied connect sends its request
// header (and the application's first bytes) at once and is bonded from its
// first byte (DESIGN.md, "Transport").
//
// The pool dials the way sessions do (net/dial.hpp: MPTCP socket, initial
// subflow pinned to the best usable path, TCP Fast Open), keeps reading every
// idle connection so that one the concentrator closed is dropped at once and
// never handed out, replaces idle connections before the concentrator's
// limit, and backs off exponentially while the concentrator cannot be
// reached. How many it keeps follows the connects of the last 10 s.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "config/config.hpp"
#include "net/dial.hpp"
#include "net/tls.hpp"

namespace braid::client {

/// A connection taken from the pool: connected, TLS established (unless
/// insecure_plaintext), no request sent yet. The handle belongs to the taker
/// (Session::adopt_upstream()), on the pool's loop.
struct PooledConnection {
  uv_tcp_t* tcp = nullptr;
  std::unique_ptr<net::TlsEngine> tls;
  bool mptcp = false;
  int mptcp_error = 0;
  std::string device;    ///< interface its initial subflow is pinned to ("" = routing's choice)
  uint64_t idle_ms = 0;  ///< how long it waited in the pool
};

/// What the pool did, for the status API.
struct PoolStats {
  bool enabled = false;
  uint32_t min = 0, max = 0;
  uint32_t target = 0;        ///< idle connections wanted now (connects of the last 10 s, within min..max)
  size_t idle = 0;            ///< ready to be taken
  size_t opening = 0;         ///< connecting or in the TLS handshake
  uint64_t hits = 0;          ///< connects served by a pre-warmed connection
  uint64_t misses = 0;        ///< connects that found the pool empty and dialled
  uint64_t fallbacks = 0;     ///< pre-warmed connections that failed before the reply (the session dialled afresh)
  uint64_t opened = 0;        ///< connections made ready
  uint64_t refill_failures = 0;  ///< dials, lookups or handshakes that failed
  uint64_t closed_idle = 0;   ///< closed by the concentrator (or the network) while idle
  uint64_t expired = 0;       ///< replaced after pool.max_idle_ms
  uint64_t path_drops = 0;    ///< replaced because the usable paths changed
  uint64_t backoff_ms = 0;    ///< wait left before the next attempt after failures
  std::string last_error;     ///< the last failure, "" once one succeeded
};

class Pool {
 public:
  /// Interfaces for new connections' initial subflow, best first (the engine's path manager).
  using Devices = std::function<std::vector<std::string>()>;

  /// @p cfg must have a concentrator and outlive the pool; @p tls is null
  /// with insecure_plaintext.
  Pool(uv_loop_t* loop, const config::ClientConfig& cfg, const net::TlsContext* tls, Devices devices);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// Starts filling (on the next loop turn).
  void start();
  /// Closes every connection and the timer; their close callbacks follow on
  /// the loop (the pool must outlive them). Idempotent.
  void stop();

  /// The freshest idle connection, or nothing. Either way the connect counts
  /// towards the pool's size, and refilling starts on the next loop turn.
  std::optional<PooledConnection> take();
  /// A taken connection failed before the concentrator's reply.
  void note_fallback() { ++stats_.fallbacks; }
  /// The usable paths changed: idle connections dialled under another set
  /// of paths (their initial path gone or off, or missing a subflow on a
  /// path that came back) are replaced.
  void paths_changed();

  PoolStats stats() const;

 private:
  struct Conn;
  struct ConnectReq;
  struct WriteReq;
  struct DnsReq;

  uint32_t target();
  void count_connect();
  void refill();
  bool addresses_ready() const;
  void resolve();
  void open_one();
  void next_attempt(Conn* c);
  void connected(Conn* c);
  void become_idle(Conn* c);
  void on_read(Conn* c, ssize_t nread, char* owned);
  void write(Conn* c, const char* data, size_t len);
  void flush_tls(Conn* c);
  /// Counts a failure, backs off, drops @p c (may be null: a lookup failed).
  void fail(Conn* c, const std::string& why);
  void drop(Conn* c);
  void close_tcp(Conn* c);
  void maybe_free(Conn* c);
  void kick();
  void on_timer();
  void schedule();
  /// How long @p c may stay idle (shorter when its MPTCP fell back).
  uint64_t max_idle(const Conn* c) const;

  uv_loop_t* loop_;
  const config::ClientConfig& cfg_;
  const net::TlsContext* tls_;
  Devices devices_;
  std::string server_name_;
  uv_timer_t* timer_ = nullptr;
  bool stopped_ = false;

  std::vector<Conn*> conns_;  ///< connecting, in the handshake, or idle
  std::vector<sockaddr_storage> addrs_;
  uint64_t resolved_at_ = 0;
  DnsReq* dns_ = nullptr;

  uint32_t failures_ = 0;  ///< in a row
  uint64_t retry_at_ = 0;  ///< no new attempt before (loop ms)
  uint64_t rng_ = 0;

  std::array<uint32_t, 10> connects_{};  ///< connects per second, the last 10 s
  uint64_t connects_second_ = 0;         ///< the second connects_ ends with

  PoolStats stats_;
};

}  // namespace braid::client

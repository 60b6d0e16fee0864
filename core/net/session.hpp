// The life of one proxied connection on a libuv loop: the accepted
// (downstream) connection, the dialled (upstream) one, timers, name
// resolution, the handshake phase and the relay with backpressure and
// half-close. Client and concentrator sessions derive from it and add only
// their protocol.
//
// Ownership (STYLE.md rule 3): a session table owns each session; the session
// owns its handles; close() is idempotent and the session tells its owner it
// is finished only after the last close callback, so no libuv callback ever
// sees freed memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "config/config.hpp"
#include "net/dial.hpp"
#include "net/log.hpp"
#include "net/tls.hpp"
#include "braid/platform.hpp"

namespace braid::net {

class Session;

/// Whoever owns sessions; told once per session, after its last close callback.
class SessionOwner {
 public:
  virtual ~SessionOwner() = default;
  virtual void session_finished(Session& s) = 0;
};

class Session {
 public:
  Session(uv_loop_t* loop, uint64_t id, const config::Limits& limits, SessionOwner& owner);
  virtual ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  uint64_t id() const { return id_; }
  bool closing() const { return closing_; }

  /// The handle the server accepts the new connection into.
  uv_tcp_t* downstream() { return down_; }
  /// Begins the handshake: reads from downstream and arms the handshake timer.
  void start();
  /// Ends the session; safe to call any number of times from any callback.
  void close(const std::string& reason);
  /// close(), logged at debug level: for ends that are routine, not news
  /// (an idle pre-warmed connection closing).
  void close_quietly(const std::string& reason);

 protected:
  // --- hooks for the protocol on top ---
  /// New bytes from downstream are in in_ (handshake phase only).
  virtual void on_downstream_bytes() = 0;
  /// New bytes from upstream are in up_in_ (handshake phase, after dial succeeded).
  virtual void on_upstream_bytes() {}
  /// Name resolution finished; @p addrs is empty when status < 0.
  virtual void on_resolved(int status, std::vector<sockaddr_storage> addrs) = 0;
  /// dial() finished: 0 with upstream() connected, or the last error.
  virtual void on_dialed(int status) = 0;
  /// The handshake timer fired before start_relay().
  virtual void on_handshake_timeout() { close("handshake timed out"); }
  /// Called once from close(), before handles are closed.
  virtual void on_closing() {}
  /// The upstream's TLS handshake completed (prepare_upstream_tls()).
  virtual void on_upstream_tls_ready() {}
  /// The downstream's TLS handshake completed (set_downstream_tls()).
  virtual void on_downstream_tls_ready() {}
  /// Before the relay: the upstream closed, failed or could not be written
  /// to (TLS failures go to on_tls_failed()). The default closes.
  virtual void on_upstream_lost(const std::string& why) { close(why); }
  /// A TLS side failed (handshake, bad record, truncation); the default closes.
  virtual void on_tls_failed(bool /*upstream*/, const std::string& why) { close(why); }
  /// Downstream sent EOF during the handshake.
  virtual void on_downstream_eof_in_handshake() { close("client closed during the handshake"); }

  // --- tools ---
  void send_down(const void* data, size_t len);
  void send_up(const void* data, size_t len);
  /// Sends a final message downstream and closes once it is written.
  void finish_down(const void* data, size_t len, const std::string& reason);
  /// Starts asynchronous resolution of host (a name) for @p port.
  void resolve(const std::string& host, uint16_t port);
  /// Connects to each address in turn until one answers (per-attempt connect
  /// timeout); MPTCP sockets when @p mptcp, falling back to TCP if refused.
  void dial(std::vector<sockaddr_storage> addrs, bool mptcp);
  /// Reads upstream in the handshake phase (for a reply that precedes the stream).
  void read_upstream();

  // --- TLS on one side (net/tls.hpp) ---
  // A side with TLS carries ciphertext on its socket; the hooks, in_/up_in_
  // and the relay see plaintext. Sides without TLS keep the copy-free relay.
  /// Puts TLS on the downstream; call before start().
  void set_downstream_tls(std::unique_ptr<TlsEngine> tls) { tls_[0] = std::move(tls); }
  /// Before dial(): TLS on the upstream. The ClientHello is made now, so it
  /// can leave in the SYN (TCP Fast Open, with @p fastopen, when the kernel
  /// has a cookie for the server) or right after connecting. After
  /// on_dialed(0) the handshake runs; on_upstream_tls_ready() follows, or
  /// on_tls_failed(). False (nothing changed) when OpenSSL cannot start.
  bool prepare_upstream_tls(std::unique_ptr<TlsEngine> tls, bool fastopen);
  /// Takes over a connected upstream whose TLS handshake is already done
  /// (a pre-warmed connection): the session may write its request at once.
  /// The handle must belong to this loop; the session closes it.
  void adopt_upstream(uv_tcp_t* connected, std::unique_ptr<TlsEngine> tls, bool mptcp, int mptcp_error);
  /// Before the relay: closes the upstream (and its TLS) so that a new one
  /// can be dialled; bytes read from it are discarded.
  void drop_upstream();
  /// Restarts the handshake timer with @p ms (phases that may wait longer or
  /// shorter than limits.handshake_timeout_ms).
  void restart_handshake_timer(uint64_t ms);
  TlsEngine* upstream_tls() const { return tls_[1].get(); }
  TlsEngine* downstream_tls() const { return tls_[0].get(); }
  /// Switches to relaying both ways; bytes already in in_ / up_in_ must have
  /// been forwarded by the caller.
  void start_relay();

  /// Manual mode (UDP associations): the derived class handles every byte
  /// itself through the hooks; no relay, and the timer is the idle timer.
  void start_manual();
  /// A UDP handle owned by the session and closed with it.
  uv_udp_t* new_udp();
  /// A timer owned by the session and closed with it (data = the session).
  uv_timer_t* new_timer();
  /// Records activity for the idle timer.
  void touch() { last_activity_ = uv_now(loop_); }
  size_t upstream_queued() const;
  size_t downstream_queued() const;
  /// A write to the upstream (true) or downstream (false) finished, in the
  /// handshake or manual phase.
  virtual void on_drained(bool /*upstream*/) {}

  // --- UDP towards destinations (concentrator, or client in direct mode) ---
  /// Sends one datagram to @p to; a name is resolved first (cached for a
  /// minute; while it resolves, up to 64 datagrams wait). Returns false when
  /// the datagram was dropped (no socket, queue full, send failed).
  bool udp_send_to(const Destination& to, const char* data, size_t len);
  /// libuv alloc callback for UDP sockets: one buffer large enough for any
  /// datagram (the receive callback frees it).
  static void alloc_datagram(uv_handle_t*, size_t, uv_buf_t* buf);
  /// A datagram arrived on one of the egress sockets from @p from.
  virtual void on_udp_reply(const sockaddr* /*from*/, const char* /*data*/, size_t /*len*/) {}
  uint64_t udp_send_failures_ = 0;
  /// Why datagrams may not go to @p to (the concentrator's destination
  /// policy), or "" when they may. Asked for every resolved address, so it
  /// must have no side effects.
  virtual std::string udp_refusal(const sockaddr_storage& /*to*/) const { return {}; }
  uint64_t udp_refused_ = 0;  ///< datagrams dropped because of udp_refusal()

  // --- name lookups (TCP and UDP) ---
  /// Asked before each lookup; false refuses it: resolve() then reports
  /// UV_EBUSY and the datagrams waiting for that name are dropped.
  virtual bool lookup_may_start() { return true; }
  /// Once per lookup that lookup_may_start() allowed, when libuv hands it
  /// back, even after close().
  virtual void lookup_finished() {}

  uv_tcp_t* upstream() const { return up_; }
  bool upstream_is_mptcp() const { return up_mptcp_; }
  int upstream_mptcp_error() const { return up_mptcp_error_; }
  bool relaying() const { return relaying_; }
  /// Either side runs TLS (the zero-copy relay cannot carry it).
  bool has_tls() const { return tls_[0] || tls_[1]; }
  uv_loop_t* loop() const { return loop_; }
  const config::Limits& limits() const { return limits_; }
  /// Local address of @p h as a socket address (zeros on failure).
  static sockaddr_storage local_address(uv_tcp_t* h);
  /// Reads the upstream's MPTCP subflows and keeps the reading with most bytes
  /// (subflows vanish as the connection closes).
  void sample_upstream_subflows();
  /// Reads the upstream's subflows now (also merged into upstream_subflows()).
  /// False when the upstream is not a live MPTCP connection.
  bool read_upstream_subflows(std::vector<platform::SubflowStats>& now);
  /// Interfaces the next dial() pins its initial subflow to, tried in order
  /// for each address (empty: let routing choose).
  std::vector<std::string> bind_devices_;
  /// While set during the relay, upstream bytes collect in up_in_ and
  /// on_upstream_bytes() is called instead of forwarding them (to rewrite a
  /// response head); clear it and send_down() what should go on.
  bool hold_upstream_ = false;
  const std::vector<platform::SubflowStats>& upstream_subflows() const { return subflows_; }

  std::string in_;     ///< downstream bytes not yet consumed by the handshake
  std::string up_in_;  ///< upstream bytes not yet consumed by the handshake
  uint64_t bytes_up_ = 0;    ///< relayed downstream → upstream
  uint64_t bytes_down_ = 0;  ///< relayed upstream → downstream

 private:
  struct WriteReq;
  struct DnsReq;
  struct ConnectReq;
  enum class Side { down, up };

  uv_tcp_t* new_tcp();
  void close_handle(uv_handle_t* h);
  void release();
  void write(Side side, char* owned, size_t len, bool close_after);
  void write_raw(Side side, char* owned, size_t len, bool close_after);
  void on_read(Side side, ssize_t nread, const uv_buf_t* buf);
  void on_bytes(Side side, char* owned, size_t n);
  void on_ciphertext(Side side, char* owned, size_t n);
  void flush_tls(Side side, bool close_after);
  void shutdown_side(Side side);
  void on_write_done(Side side, int status, bool close_after);
  void on_eof(Side from);
  void try_dial_next();
  void on_connected();
  void skip_same_address();
  void arm_timer(uint64_t ms);
  void on_timer();
  void maybe_finish_relay();

  static void alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf);
  static void read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);

  std::unique_ptr<TlsEngine> tls_[2];  ///< [0] downstream, [1] upstream; null = plain
  uv_loop_t* loop_;
  uint64_t id_;
  config::Limits limits_;
  SessionOwner& owner_;

  uv_tcp_t* down_ = nullptr;
  uv_tcp_t* up_ = nullptr;
  uv_tcp_t* attempt_ = nullptr;  ///< the upstream connect in progress
  uv_timer_t* timer_ = nullptr;          ///< handshake, then idle
  uv_timer_t* connect_timer_ = nullptr;  ///< one connect attempt
  DnsReq* dns_ = nullptr;

  std::vector<DialTarget> dial_targets_;
  size_t dial_index_ = 0;
  std::string first_flight_;  ///< upstream bytes ready before connecting (the ClientHello)
  size_t first_sent_ = 0;     ///< of first_flight_, what the SYN carried (TCP Fast Open)
  bool fastopen_ = false;
  bool quiet_close_ = false;
  bool dial_mptcp_ = false;
  int dial_error_ = 0;
  bool up_mptcp_ = false;
  int up_mptcp_error_ = 0;

  int refs_ = 0;  ///< open handles + pending requests that hold this session
  bool closing_ = false;
  bool finishing_ = false;  ///< a final answer is being written: nothing else may start
  bool relaying_ = false;
  bool manual_ = false;
  std::vector<uv_udp_t*> udps_;
  std::vector<uv_timer_t*> timers_;
  struct UdpEgress;
  UdpEgress* egress_ = nullptr;
  bool udp_send_resolved(const sockaddr_storage& to, const char* data, size_t len);
  void resolve_for_udp(const std::string& name);
  // --- zero-copy relay (session_splice.cpp) ---
  // Once relaying with nothing queued, a plain byte stream moves with
  // splice(2) through a pipe per direction, never entering user space.
  struct Pump;
  bool splicing_ = false;
  Pump* pumps_ = nullptr;             ///< [0] downstream → upstream, [1] upstream → downstream
  uv_poll_t* polls_[2] = {};          ///< [0] the downstream socket, [1] the upstream socket
  uv_timer_t* splice_timer_ = nullptr;  ///< switches on the next loop turn
  /// Asks for the switch to the zero-copy relay when it is possible.
  void maybe_start_splice();
  void start_splice();
  void splice_run(int dir);
  void splice_watch();
  void stop_splice();
  bool down_paused_ = false;  ///< downstream reading paused for backpressure
  bool up_paused_ = false;
  bool down_eof_ = false;     ///< downstream sent EOF
  bool up_eof_ = false;
  int shutdowns_done_ = 0;
  uint64_t last_activity_ = 0;
  std::vector<platform::SubflowStats> subflows_;
};

}  // namespace braid::net

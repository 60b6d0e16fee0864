#include "net/session.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <netinet/in.h>
#include <unistd.h>

#include "net/address.hpp"
#include "net/errors.hpp"

namespace braid::net {

namespace {
constexpr size_t kReadChunk = 64 * 1024;
// Subflow counters are read again after this many relayed bytes, so the last
// reading before the connection closes is never far behind.
constexpr uint64_t kSampleEvery = 1 << 20;

}  // namespace

struct Session::WriteReq {
  uv_write_t req;
  Session* session;
  Side side;
  char* buf;
  bool close_after;
};

struct Session::DnsReq {
  uv_getaddrinfo_t req;
  Session* session;
};

struct Session::ConnectReq {
  uv_connect_t req;
  Session* session;
};

Session::Session(uv_loop_t* loop, uint64_t id, const config::Limits& limits, SessionOwner& owner)
    : loop_(loop), id_(id), limits_(limits), owner_(owner) {
  down_ = new_tcp();
  timer_ = new uv_timer_t;
  uv_timer_init(loop_, timer_);
  timer_->data = this;
  ++refs_;
  connect_timer_ = new uv_timer_t;
  uv_timer_init(loop_, connect_timer_);
  connect_timer_->data = this;
  ++refs_;
}


uv_tcp_t* Session::new_tcp() {
  auto* h = new uv_tcp_t;
  uv_tcp_init(loop_, h);
  h->data = this;
  ++refs_;
  return h;
}

void Session::close_handle(uv_handle_t* h) {
  if (!h || uv_is_closing(h)) return;
  uv_close(h, [](uv_handle_t* handle) {
    auto* s = static_cast<Session*>(handle->data);
    if (handle->type == UV_TCP)
      delete reinterpret_cast<uv_tcp_t*>(handle);
    else if (handle->type == UV_UDP)
      delete reinterpret_cast<uv_udp_t*>(handle);
    else if (handle->type == UV_POLL)
      delete reinterpret_cast<uv_poll_t*>(handle);
    else
      delete reinterpret_cast<uv_timer_t*>(handle);
    --s->refs_;
    s->release();
  });
}

void Session::release() {
  // The owner deletes the session: nothing may touch it after this call.
  if (closing_ && refs_ == 0) owner_.session_finished(*this);
}

void Session::start() {
  last_activity_ = uv_now(loop_);
  // No Nagle on the accepted side either: a small answer (a SOCKS5 or wire
  // reply) still unacknowledged would otherwise hold back the next write
  // (the response) until the peer's delayed ACK, a round trip or more.
  uv_tcp_nodelay(down_, 1);
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(down_), alloc_cb, read_cb);
  if (rc < 0) {
    close("cannot read from the client: " + describe_error(rc));
    return;
  }
  arm_timer(limits_.handshake_timeout_ms);
}

void Session::close_quietly(const std::string& reason) {
  if (closing_) return;
  quiet_close_ = true;
  close(reason);
}

void Session::close(const std::string& reason) {
  if (closing_) return;
  closing_ = true;
  if (quiet_close_)
    BRAID_LOG(debug, "[s%llu] closed: %s", static_cast<unsigned long long>(id_), reason.c_str());
  else
    BRAID_LOG(info, "[s%llu] closed: %s (up %llu B, down %llu B)", static_cast<unsigned long long>(id_),
              reason.c_str(), static_cast<unsigned long long>(bytes_up_), static_cast<unsigned long long>(bytes_down_));
  on_closing();
  if (dns_) uv_cancel(reinterpret_cast<uv_req_t*>(&dns_->req));
  stop_splice();  // its watchers go before the sockets they watch
  close_handle(reinterpret_cast<uv_handle_t*>(down_));
  close_handle(reinterpret_cast<uv_handle_t*>(up_));
  close_handle(reinterpret_cast<uv_handle_t*>(attempt_));
  close_handle(reinterpret_cast<uv_handle_t*>(timer_));
  close_handle(reinterpret_cast<uv_handle_t*>(connect_timer_));
  for (auto* u : udps_) close_handle(reinterpret_cast<uv_handle_t*>(u));
  for (auto* t : timers_) close_handle(reinterpret_cast<uv_handle_t*>(t));
}

uv_timer_t* Session::new_timer() {
  auto* t = new uv_timer_t;
  uv_timer_init(loop_, t);
  t->data = this;
  ++refs_;
  timers_.push_back(t);
  return t;
}

uv_udp_t* Session::new_udp() {
  auto* h = new uv_udp_t;
  uv_udp_init(loop_, h);
  h->data = this;
  ++refs_;
  udps_.push_back(h);
  return h;
}

void Session::start_manual() {
  manual_ = true;
  touch();
  arm_timer(limits_.idle_timeout_ms);
  read_upstream();
}

size_t Session::upstream_queued() const {
  return up_ ? uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(up_)) : 0;
}

size_t Session::downstream_queued() const {
  return uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(down_));
}

void Session::alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = static_cast<char*>(std::malloc(kReadChunk));
  buf->len = buf->base ? kReadChunk : 0;
}

void Session::read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* s = static_cast<Session*>(stream->data);
  const Side side = stream == reinterpret_cast<uv_stream_t*>(s->down_) ? Side::down : Side::up;
  s->on_read(side, nread, buf);
}

void Session::on_read(Side side, ssize_t nread, const uv_buf_t* buf) {
  if (nread <= 0 || closing_) {
    std::free(buf->base);
    if (closing_ || nread == 0) return;
    if (nread == UV_EOF) {
      if (TlsEngine* t = tls_[static_cast<int>(side)].get()) {
        if (t->peer_closed()) return;  // the clean end (close_notify) was passed on already
        if (!t->handshake_done()) {
          on_tls_failed(side == Side::up, std::string(side == Side::down ? "the client" : "upstream") +
                                              " closed the connection during the TLS handshake");
          return;
        }
        // Mid-stream, a TCP FIN without close_notify may be an attacker
        // cutting the stream short (RFC 8446 §6.1): not a clean end.
        if (relaying_) {
          on_tls_failed(side == Side::up, std::string(side == Side::down ? "the client" : "upstream") +
                                              " ended the TLS stream without close_notify (truncated)");
          return;
        }
      }
      on_eof(side);
    } else {
      const std::string why = std::string(side == Side::down ? "client" : "upstream") +
                              " connection failed: " + describe_error(static_cast<int>(nread));
      // A peer that refuses us at accept resets the connection: during the
      // TLS handshake that is the channel failing, which the protocol on top
      // may want to answer.
      TlsEngine* t = tls_[static_cast<int>(side)].get();
      if (t && !t->handshake_done()) {
        on_tls_failed(side == Side::up, why + " during the TLS handshake");
        return;
      }
      if (side == Side::up && !relaying_ && !manual_) {
        on_upstream_lost(why);
        return;
      }
      close(why);
    }
    return;
  }
  last_activity_ = uv_now(loop_);
  if (tls_[static_cast<int>(side)]) {
    on_ciphertext(side, buf->base, static_cast<size_t>(nread));
    return;
  }
  on_bytes(side, buf->base, static_cast<size_t>(nread));
}

void Session::on_ciphertext(Side side, char* owned, size_t n) {
  TlsEngine& t = *tls_[static_cast<int>(side)];
  const bool was_done = t.handshake_done();
  const bool ok = t.feed(owned, n);
  std::free(owned);
  flush_tls(side, false);  // handshake messages, or the alert that explains a failure
  if (closing_) return;
  if (!ok) {
    on_tls_failed(side == Side::up, std::string(side == Side::down ? "client" : "upstream") + ": " + t.error());
    return;
  }
  if (!was_done && t.handshake_done()) {
    if (side == Side::up)
      on_upstream_tls_ready();
    else
      on_downstream_tls_ready();
    if (closing_) return;
  }
  if (!t.plaintext().empty()) {
    std::string& plain = t.plaintext();
    const size_t len = plain.size();
    char* copy = static_cast<char*>(std::malloc(len));
    std::memcpy(copy, plain.data(), len);
    plain.clear();
    on_bytes(side, copy, len);
    if (closing_) return;
  }
  // A final answer being written (finish_down) closes the session itself
  // once written; the peer's end must not cut it short.
  if (finishing_) return;
  const bool eof_seen = side == Side::down ? down_eof_ : up_eof_;
  if (t.peer_closed() && !eof_seen) on_eof(side);
}

void Session::flush_tls(Side side, bool close_after) {
  std::string& out = tls_[static_cast<int>(side)]->ciphertext();
  if (out.empty()) {
    if (close_after) close("answered and closed");
    return;
  }
  char* copy = static_cast<char*>(std::malloc(out.size()));
  std::memcpy(copy, out.data(), out.size());
  const size_t len = out.size();
  out.clear();
  write_raw(side, copy, len, close_after);
}

void Session::on_bytes(Side side, char* owned, size_t n) {
  if (finishing_) {
    std::free(owned);
    return;
  }
  if (!relaying_) {
    if (side == Side::down) {
      in_.append(owned, n);
      std::free(owned);
      // Bytes that arrive before the relay starts are held, but only up to
      // the buffer limit; past it the client waits (TCP backpressure).
      if (!manual_ && in_.size() >= limits_.buffer_bytes) {
        uv_read_stop(reinterpret_cast<uv_stream_t*>(down_));
        down_paused_ = true;
      }
      on_downstream_bytes();
    } else {
      up_in_.append(owned, n);
      std::free(owned);
      on_upstream_bytes();
    }
    return;
  }
  if (side == Side::up && hold_upstream_) {
    up_in_.append(owned, n);
    std::free(owned);
    on_upstream_bytes();
    return;
  }
  const uint64_t before = bytes_up_ + bytes_down_;
  (side == Side::down ? bytes_up_ : bytes_down_) += n;
  if ((before / kSampleEvery) != ((bytes_up_ + bytes_down_) / kSampleEvery)) sample_upstream_subflows();
  const Side to = side == Side::down ? Side::up : Side::down;
  write(to, owned, n, false);
  if (closing_) return;
  uv_tcp_t* target = to == Side::down ? down_ : up_;
  if (uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(target)) > limits_.buffer_bytes) {
    // The other side cannot keep up: stop reading this one until it drains.
    uv_read_stop(reinterpret_cast<uv_stream_t*>(side == Side::down ? down_ : up_));
    (side == Side::down ? down_paused_ : up_paused_) = true;
  }
}

void Session::write(Side side, char* owned, size_t len, bool close_after) {
  uv_tcp_t* h = side == Side::down ? down_ : up_;
  if (closing_ || !h) {
    std::free(owned);
    return;
  }
  if (TlsEngine* t = tls_[static_cast<int>(side)].get()) {
    const bool ok = t->write(owned, len);
    std::free(owned);
    // A final answer ends the TLS stream cleanly before the socket closes.
    if (close_after) t->close_notify();
    if (!ok) {
      flush_tls(side, false);
      on_tls_failed(side == Side::up, t->error());
      return;
    }
    flush_tls(side, close_after);
    return;
  }
  write_raw(side, owned, len, close_after);
}

void Session::write_raw(Side side, char* owned, size_t len, bool close_after) {
  uv_tcp_t* h = side == Side::down ? down_ : up_;
  auto* req = new WriteReq{{}, this, side, owned, close_after};
  uv_buf_t b = uv_buf_init(owned, static_cast<unsigned>(len));
  int rc = uv_write(&req->req, reinterpret_cast<uv_stream_t*>(h), &b, 1, [](uv_write_t* w, int status) {
    auto* r = reinterpret_cast<WriteReq*>(w);
    Session* s = r->session;
    const Side side = r->side;
    const bool close_after = r->close_after;
    uv_stream_t* handle = w->handle;
    std::free(r->buf);
    delete r;
    // On UV_ECANCELED the handle is closing and the session with it.
    if (status == UV_ECANCELED || s->closing_) return;
    // A write to an upstream that drop_upstream() let go of.
    if (handle != reinterpret_cast<uv_stream_t*>(side == Side::down ? s->down_ : s->up_)) return;
    if (status < 0) {
      const std::string why = std::string("writing to the ") + (side == Side::down ? "client" : "upstream") +
                              " failed: " + describe_error(status);
      if (side == Side::up && !s->relaying_ && !s->manual_)
        s->on_upstream_lost(why);
      else
        s->close(why);
      return;
    }
    s->on_write_done(side, status, close_after);
  });
  if (rc < 0) {
    std::free(owned);
    delete req;
    close("write failed: " + describe_error(rc));
  }
}

void Session::on_write_done(Side side, int, bool close_after) {
  if (close_after) {
    close("answered and closed");
    return;
  }
  if (!relaying_) {
    on_drained(side == Side::up);
    return;
  }
  if (splicing_) return;  // a write from before the switch
  uv_tcp_t* target = side == Side::down ? down_ : up_;
  bool& paused = side == Side::down ? up_paused_ : down_paused_;
  const bool source_eof = side == Side::down ? up_eof_ : down_eof_;
  if (paused && !source_eof &&
      uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(target)) <= limits_.buffer_bytes / 2) {
    paused = false;
    uv_read_start(reinterpret_cast<uv_stream_t*>(side == Side::down ? up_ : down_), alloc_cb, read_cb);
  }
  maybe_start_splice();
}

void Session::send_down(const void* data, size_t len) {
  if (len == 0) return;
  char* copy = static_cast<char*>(std::malloc(len));
  std::memcpy(copy, data, len);
  write(Side::down, copy, len, false);
}

void Session::send_up(const void* data, size_t len) {
  if (len == 0) return;
  char* copy = static_cast<char*>(std::malloc(len));
  std::memcpy(copy, data, len);
  write(Side::up, copy, len, false);
}

void Session::finish_down(const void* data, size_t len, const std::string& reason) {
  BRAID_LOG(info, "[s%llu] %s", static_cast<unsigned long long>(id_), reason.c_str());
  // The answer is final: a dial still under way must not complete into a relay.
  finishing_ = true;
  uv_timer_stop(connect_timer_);
  close_handle(reinterpret_cast<uv_handle_t*>(attempt_));
  attempt_ = nullptr;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(down_));
  if (up_) uv_read_stop(reinterpret_cast<uv_stream_t*>(up_));
  char* copy = static_cast<char*>(std::malloc(len));
  std::memcpy(copy, data, len);
  write(Side::down, copy, len, true);
}

void Session::on_eof(Side from) {
  if (!relaying_) {
    if (from == Side::down) {
      down_eof_ = true;
      on_downstream_eof_in_handshake();
    } else if (!manual_) {
      on_upstream_lost("upstream closed before the stream began");
    } else {
      close("upstream closed before the stream began");
    }
    return;
  }
  (from == Side::down ? down_eof_ : up_eof_) = true;
  if (from == Side::up) {
    sample_upstream_subflows();
    if (hold_upstream_) {
      // The stream ended before the held part was complete: pass it on as is.
      hold_upstream_ = false;
      bytes_down_ += up_in_.size();
      send_down(up_in_.data(), up_in_.size());
      up_in_.clear();
    }
  }
  // Half-close (STYLE.md rule 4): EOF from one side becomes a shutdown of the
  // other side's write direction, after everything queued has been written.
  shutdown_side(from == Side::down ? Side::up : Side::down);
}

void Session::shutdown_side(Side side) {
  uv_tcp_t* other = side == Side::up ? up_ : down_;
  if (TlsEngine* t = tls_[static_cast<int>(side)].get()) {
    // TLS 1.3 closes one direction with close_notify (RFC 8446 §6.1); the
    // TCP FIN follows it.
    t->close_notify();
    flush_tls(side, false);
    if (closing_) return;
  }
  auto* req = new uv_shutdown_t;
  req->data = this;
  int rc = uv_shutdown(req, reinterpret_cast<uv_stream_t*>(other), [](uv_shutdown_t* r, int status) {
    auto* s = static_cast<Session*>(r->data);
    delete r;
    if (status == UV_ECANCELED || s->closing_) return;
    if (status < 0) {
      s->close("half-close failed: " + describe_error(status));
      return;
    }
    ++s->shutdowns_done_;
    s->maybe_finish_relay();
  });
  if (rc < 0) {
    delete req;
    close("half-close failed: " + describe_error(rc));
  }
}

void Session::maybe_finish_relay() {
  if (down_eof_ && up_eof_ && shutdowns_done_ == 2) close("done");
}

void Session::resolve(const std::string& host, uint16_t port) {
  if (!lookup_may_start()) {
    on_resolved(UV_EBUSY, {});
    return;
  }
  auto* r = new DnsReq{{}, this};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  const std::string service = std::to_string(port);
  int rc = uv_getaddrinfo(
      loop_, &r->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        auto* d = reinterpret_cast<DnsReq*>(req);
        Session* s = d->session;
        delete d;
        s->dns_ = nullptr;
        --s->refs_;
        s->lookup_finished();
        std::vector<sockaddr_storage> addrs;
        if (status == 0) addrs = socket_addresses(res);
        uv_freeaddrinfo(res);
        if (s->closing_) {
          s->release();
          return;
        }
        if (s->finishing_) return;
        if (status == 0 && addrs.empty()) status = UV_EAI_NODATA;
        s->on_resolved(status, std::move(addrs));
      },
      host.c_str(), service.c_str(), &hints);
  if (rc < 0) {
    delete r;
    lookup_finished();
    on_resolved(rc, {});
    return;
  }
  dns_ = r;
  ++refs_;
}

void Session::dial(std::vector<sockaddr_storage> addrs, bool mptcp) {
  dial_targets_ = dial_targets(addrs, bind_devices_);
  dial_index_ = 0;
  dial_mptcp_ = mptcp;
  dial_error_ = 0;
  try_dial_next();
}

void Session::try_dial_next() {
  while (!closing_ && !finishing_) {
    if (dial_index_ >= dial_targets_.size()) {
      on_dialed(dial_error_ ? dial_error_ : UV_EHOSTUNREACH);
      return;
    }
    const DialTarget& target = dial_targets_[dial_index_++];
    attempt_ = new_tcp();
    auto* req = new ConnectReq{{}, this};
    Attempt a;
    const int rc = start_attempt(
        attempt_, &req->req, target, {dial_mptcp_, fastopen_}, first_flight_,
        [](uv_connect_t* c, int status) {
          auto* r = reinterpret_cast<ConnectReq*>(c);
          Session* s = r->session;
          uv_tcp_t* handle = reinterpret_cast<uv_tcp_t*>(c->handle);
          delete r;
          // Cancelled: the attempt timed out or the session is closing.
          if (status == UV_ECANCELED || s->closing_ || s->finishing_ || handle != s->attempt_) return;
          uv_timer_stop(s->connect_timer_);
          if (status < 0) {
            s->dial_error_ = status;
            // A refusal is the host's answer: other paths would hear the same.
            if (status == UV_ECONNREFUSED) s->skip_same_address();
            s->close_handle(reinterpret_cast<uv_handle_t*>(s->attempt_));
            s->attempt_ = nullptr;
            s->try_dial_next();
            return;
          }
          s->up_ = s->attempt_;
          s->attempt_ = nullptr;
          s->on_connected();
        },
        a);
    if (a.bind_error < 0)
      BRAID_LOG(debug, "[s%llu] cannot bind to %s: %s", static_cast<unsigned long long>(id_), target.device.c_str(),
                describe_error(a.bind_error).c_str());
    if (rc < 0) {
      if (!a.started) delete req;  // else its callback frees it, cancelled
      dial_error_ = rc;
      close_handle(reinterpret_cast<uv_handle_t*>(attempt_));
      attempt_ = nullptr;
      continue;
    }
    up_mptcp_ = a.mptcp;
    up_mptcp_error_ = a.mptcp_error;
    first_sent_ = a.first_sent;
    uv_timer_start(
        connect_timer_,
        [](uv_timer_t* t) {
          auto* s = static_cast<Session*>(t->data);
          if (s->closing_ || !s->attempt_) return;
          s->dial_error_ = UV_ETIMEDOUT;
          s->close_handle(reinterpret_cast<uv_handle_t*>(s->attempt_));
          s->attempt_ = nullptr;
          s->try_dial_next();
        },
        attempt_timeout_ms(dial_index_ < dial_targets_.size(), limits_.connect_timeout_ms), 0);
    return;
  }
}

void Session::on_connected() {
  if (first_sent_ < first_flight_.size()) {
    // What the SYN did not carry (all of it without a TFO cookie) goes
    // first, before anything the protocol on top writes.
    const size_t len = first_flight_.size() - first_sent_;
    char* copy = static_cast<char*>(std::malloc(len));
    std::memcpy(copy, first_flight_.data() + first_sent_, len);
    write_raw(Side::up, copy, len, false);
    if (closing_) return;
  }
  first_flight_.clear();
  first_sent_ = 0;
  if (tls_[1]) {
    read_upstream();  // the handshake's answer
    if (closing_) return;
  }
  on_dialed(0);
}

void Session::skip_same_address() {
  if (dial_index_ == 0) return;
  const sockaddr_storage failed = dial_targets_[dial_index_ - 1].address;
  while (dial_index_ < dial_targets_.size() &&
         std::memcmp(&dial_targets_[dial_index_].address, &failed, sizeof failed) == 0)
    ++dial_index_;
}

void Session::read_upstream() {
  if (!up_ || closing_) return;
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(up_), alloc_cb, read_cb);
  if (rc < 0 && rc != UV_EALREADY) close("cannot read from upstream: " + describe_error(rc));
}

bool Session::prepare_upstream_tls(std::unique_ptr<TlsEngine> tls, bool fastopen) {
  if (closing_ || up_ || attempt_ || !tls->start()) return false;  // start(): the ClientHello
  tls_[1] = std::move(tls);
  first_flight_.swap(tls_[1]->ciphertext());
  tls_[1]->ciphertext().clear();
  first_sent_ = 0;
  fastopen_ = fastopen;
  return true;
}

void Session::adopt_upstream(uv_tcp_t* connected, std::unique_ptr<TlsEngine> tls, bool mptcp, int mptcp_error) {
  up_ = connected;
  up_->data = this;
  ++refs_;  // released by its close callback, like a handle from new_tcp()
  up_mptcp_ = mptcp;
  up_mptcp_error_ = mptcp_error;
  tls_[1] = std::move(tls);
}

void Session::drop_upstream() {
  if (relaying_ || splicing_) return;
  // Writes still queued on it are cancelled by the close (their callbacks
  // see UV_ECANCELED); nothing of it is read any more.
  close_handle(reinterpret_cast<uv_handle_t*>(up_));
  up_ = nullptr;
  tls_[1].reset();
  up_in_.clear();
  up_eof_ = false;
  up_paused_ = false;
  first_flight_.clear();
  first_sent_ = 0;
  subflows_.clear();
}

void Session::restart_handshake_timer(uint64_t ms) {
  if (closing_ || relaying_ || manual_) return;
  arm_timer(ms);
}

void Session::start_relay() {
  if (closing_) return;
  relaying_ = true;
  last_activity_ = uv_now(loop_);
  arm_timer(limits_.idle_timeout_ms);
  read_upstream();
  if (closing_) return;
  if (down_eof_) {
    // The client half-closed during the handshake: pass it on now.
    down_eof_ = false;
    on_eof(Side::down);
    return;
  }
  down_paused_ = false;
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(down_), alloc_cb, read_cb);
  if (rc < 0 && rc != UV_EALREADY) {
    close("cannot read from the client: " + describe_error(rc));
    return;
  }
  maybe_start_splice();
}

void Session::arm_timer(uint64_t ms) {
  uv_timer_start(
      timer_, [](uv_timer_t* t) { static_cast<Session*>(t->data)->on_timer(); }, ms, 0);
}

void Session::on_timer() {
  if (closing_) return;
  if (!relaying_ && !manual_) {
    on_handshake_timeout();
    return;
  }
  const uint64_t idle = uv_now(loop_) - last_activity_;
  if (idle >= limits_.idle_timeout_ms) {
    close("idle for " + std::to_string(idle / 1000) + " s");
    return;
  }
  arm_timer(limits_.idle_timeout_ms - idle);
}

sockaddr_storage Session::local_address(uv_tcp_t* h) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (h) uv_tcp_getsockname(h, reinterpret_cast<sockaddr*>(&ss), &len);
  return ss;
}

void Session::sample_upstream_subflows() {
  std::vector<platform::SubflowStats> now;
  read_upstream_subflows(now);
}

bool Session::read_upstream_subflows(std::vector<platform::SubflowStats>& now) {
  now.clear();
  if (!up_ || !up_mptcp_) return false;
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(up_), &fd) != 0) return false;
  if (platform::read_subflows(fd, now) <= 0) return false;
  // Merge by subflow: a subflow that closed (its path went down) keeps its
  // last counters, so the totals never go backwards, and is marked not live.
  std::vector<std::string> keys;
  for (auto& old : subflows_) {
    old.live = false;
    keys.push_back(endpoint_pair_key(old.local, old.remote));
  }
  for (auto& fresh : now) {
    const std::string key = endpoint_pair_key(fresh.local, fresh.remote);
    bool merged = false;
    for (size_t i = 0; i < subflows_.size() && !merged; ++i) {
      if (keys[i] != key) continue;
      auto& old = subflows_[i];
      if (fresh.bytes_sent + fresh.bytes_received >= old.bytes_sent + old.bytes_received) old = fresh;
      old.live = true;
      merged = true;
    }
    if (!merged) {
      subflows_.push_back(fresh);
      keys.push_back(key);
    }
  }
  return true;
}

}  // namespace braid::net

// The UDP ASSOCIATE part of a client session (RFC 1928 §4, §7): a UDP relay
// socket on the address the client reached us at, datagrams accepted only
// from the client's address, FRAG ≠ 0 dropped (no reassembly), and carried
// either framed over the session's MPTCP connection to the concentrator or,
// without a concentrator, straight to the destination.
#include <cstdlib>
#include <cstring>

#include "client/client_session.hpp"
#include "net/errors.hpp"
#include "socks5/codec.hpp"
#include "socks5/udp.hpp"
#include "tunnel/wire.hpp"

namespace braid::client {

namespace {
// Frames go to the stream only while its write queue is short, so the
// deadline queue (not the socket buffer) is where datagrams wait.
constexpr size_t kStreamHigh = 64 * 1024;
constexpr size_t kQueueBytes = 1024 * 1024;
constexpr size_t kUdpBuffer = 65536;

bool same_ip(const sockaddr_storage& a, const sockaddr* b) {
  if (a.ss_family != b->sa_family) return false;
  if (a.ss_family == AF_INET)
    return reinterpret_cast<const sockaddr_in*>(&a)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(b)->sin_addr.s_addr;
  return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr,
                     &reinterpret_cast<const sockaddr_in6*>(b)->sin6_addr, 16) == 0;
}

uint16_t port_of(const sockaddr* a) {
  return ntohs(a->sa_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(a)->sin_port
                                       : reinterpret_cast<const sockaddr_in6*>(a)->sin6_port);
}
}  // namespace

void ClientSession::udp_associate() {
  app_ = App::socks5_udp;
  target_ = Destination::ipv4_any();
  // Datagrams are accepted only from the address the control connection
  // comes from; the port is learnt from the first datagram.
  int len = sizeof app_addr_;
  uv_tcp_getpeername(downstream(), reinterpret_cast<sockaddr*>(&app_addr_), &len);
  sockaddr_storage local = local_address(downstream());
  if (local.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&local)->sin_port = 0;
  if (local.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&local)->sin6_port = 0;
  app_udp_ = new_udp();
  int rc = uv_udp_bind(app_udp_, reinterpret_cast<const sockaddr*>(&local), 0);
  if (rc == 0)
    rc = uv_udp_recv_start(
        app_udp_,
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          buf->base = static_cast<char*>(std::malloc(kUdpBuffer));
          buf->len = buf->base ? kUdpBuffer : 0;
        },
        [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned flags) {
          auto* s = static_cast<ClientSession*>(static_cast<net::Session*>(h->data));
          if (n > 0 && from && !(flags & UV_UDP_PARTIAL)) s->on_app_datagram(from, buf->base, static_cast<size_t>(n));
          std::free(buf->base);
        });
  if (rc < 0) {
    upstream_failed(socks5::kGeneralFailure, 502, "cannot open the UDP relay socket: " + net::describe_error(rc));
    return;
  }
  sockaddr_storage bound{};
  len = sizeof bound;
  uv_udp_getsockname(app_udp_, reinterpret_cast<sockaddr*>(&bound), &len);
  udp_bound_ = Destination::from_sockaddr(reinterpret_cast<const sockaddr*>(&bound));
  up_frames_ = std::make_unique<net::DatagramQueue>(kQueueBytes, limits().udp_deadline_ms);
  if (via_concentrator()) {
    open_upstream();  // the reply to the client follows the concentrator's
    return;
  }
  udp_start();
}

void ClientSession::udp_start() {
  auto msg = socks5::reply(socks5::kSucceeded, udp_bound_);
  send_down(msg.data(), msg.size());
  state_ = State::udp;
  BRAID_LOG(info, "[s%llu] SOCKS5 UDP ASSOCIATE on %s, %s", static_cast<unsigned long long>(id()),
            udp_bound_.to_string().c_str(),
            via_concentrator() ? "framed over MPTCP to the concentrator" : "direct to destinations");
  start_manual();
  if (!up_in_.empty()) on_udp_frames();
}

void ClientSession::on_app_datagram(const sockaddr* from, const char* data, size_t len) {
  if (closing() || state_ != State::udp) return;
  if (!same_ip(app_addr_, from) || (app_pinned_ && port_of(from) != port_of(reinterpret_cast<sockaddr*>(&app_addr_)))) {
    ++udp_.foreign;
    return;
  }
  if (!app_pinned_) {
    std::memcpy(&app_addr_, from, from->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    app_pinned_ = true;
  }
  auto h = socks5::parse_udp(bytes_of(data, len));
  if (h.status != Parse::done) {
    ++udp_.malformed;
    return;
  }
  if (h.value.frag != 0) {
    // No reassembly: RFC 1928 §7 says drop.
    ++udp_.frag;
    return;
  }
  touch();
  ++udp_.up;
  const char* payload = data + h.value.payload_offset;
  const size_t payload_len = len - h.value.payload_offset;
  if (!via_concentrator()) {
    udp_send_to(h.value.destination, payload, payload_len);
    return;
  }
  Bytes frame;
  wire::encode_datagram(h.value.destination, bytes_of(payload, payload_len), frame);
  up_frames_->push(std::move(frame), uv_now(loop()));
  flush_frames_up();
}

void ClientSession::flush_frames_up() {
  while (up_frames_ && upstream_queued() < kStreamHigh) {
    auto f = up_frames_->pop(uv_now(loop()));
    if (!f) break;
    send_up(f->data(), f->size());
  }
}

void ClientSession::on_drained(bool upstream) {
  if (upstream && state_ == State::udp) flush_frames_up();
}

void ClientSession::on_udp_frames() {
  for (;;) {
    auto d = wire::decode_datagram(bytes_of(up_in_));
    if (d.status == Parse::need_more) return;
    if (d.status == Parse::error) {
      close(std::string("the concentrator sent a bad UDP frame: ") + wire::status_name(d.code));
      return;
    }
    deliver_to_app(d.value.address, d.value.payload.data(), d.value.payload.size());
    up_in_.erase(0, d.consumed);
  }
}

void ClientSession::on_udp_reply(const sockaddr* from, const char* data, size_t len) {
  deliver_to_app(Destination::from_sockaddr(from), data, len);
}

void ClientSession::deliver_to_app(const Destination& from, const char* data, size_t len) {
  if (!app_pinned_) return;  // the client has not sent anything yet: nowhere to deliver
  Bytes out;
  socks5::encode_udp(from, bytes_of(data, len), out);
  uv_buf_t b = uv_buf_init(reinterpret_cast<char*>(out.data()), static_cast<unsigned>(out.size()));
  if (uv_udp_try_send(app_udp_, &b, 1, reinterpret_cast<const sockaddr*>(&app_addr_)) >= 0) ++udp_.down;
}

}  // namespace braid::client

#include "net/dial.hpp"

#include <algorithm>

#include <unistd.h>

#include "braid/platform.hpp"
#include "net/address.hpp"

namespace braid::net {

namespace {
// A connect attempt that has other paths or addresses to fall back on gets
// this long before the next one is tried. Under 3 s on purpose: Linux sends
// its second SYN retransmission (1 s + 2 s) without MP_CAPABLE
// (net.mptcp.syn_retrans_before_tcp_fallback = 2), and should that one get
// through (a path that was silent and comes back) the connection is plain
// TCP and the kernel turns MPTCP off for new connections of the whole
// namespace for net.mptcp.blackhole_timeout (an hour). An attempt given up
// before then never sends it.
constexpr uint64_t kPathAttemptMs = 2500;
}  // namespace

std::vector<DialTarget> dial_targets(const std::vector<sockaddr_storage>& addrs,
                                     const std::vector<std::string>& devices) {
  std::vector<DialTarget> out;
  for (const auto& a : addrs) {
    if (devices.empty() || is_loopback(a)) {
      out.push_back({a, {}});
      continue;
    }
    for (const auto& d : devices) out.push_back({a, d});
  }
  return out;
}

uint64_t attempt_timeout_ms(bool more_targets, uint64_t connect_timeout_ms) {
  return more_targets ? std::min<uint64_t>(connect_timeout_ms, kPathAttemptMs) : connect_timeout_ms;
}

int start_attempt(uv_tcp_t* handle, uv_connect_t* req, const DialTarget& target, const AttemptOptions& options,
                  const std::string& first_flight, uv_connect_cb cb, Attempt& out) {
  out = Attempt{};
  platform::StreamSocket sock;
  if (int rc = platform::open_stream_socket(target.address.ss_family, options.mptcp, sock); rc < 0) return rc;
  if (int rc = uv_tcp_open(handle, sock.fd); rc < 0) {
    ::close(sock.fd);
    return rc;
  }
  out.mptcp = sock.mptcp;
  out.mptcp_error = sock.mptcp_error;
  if (!target.device.empty()) out.bind_error = platform::bind_to_device(sock.fd, target.device);
  uv_tcp_nodelay(handle, 1);
  // Only with bytes to send: a TFO socket's connect() returns at once, and
  // without a first send nothing would leave at all.
  const bool fastopen =
      options.fastopen && !first_flight.empty() && platform::enable_fastopen_connect(sock.fd) == 0;
  if (int rc = uv_tcp_connect(req, handle, reinterpret_cast<const sockaddr*>(&target.address), cb); rc < 0)
    return rc;
  out.started = true;
  if (fastopen) {
    // connect() only recorded the address; this send makes the SYN. libuv
    // then sees the socket become writable when the handshake completes, so
    // @p cb still means "connected". An error here (no route) is what
    // connect() would have said without TFO.
    const int sent = platform::send_in_syn(sock.fd, first_flight.data(), first_flight.size());
    if (sent < 0) return sent;
    out.first_sent = static_cast<size_t>(sent);
  }
  return 0;
}

}  // namespace braid::net

// One attempt at an upstream connection: the socket (MPTCP, falling back to
// TCP when the kernel refuses), its initial subflow pinned to a path, no
// Nagle, and TCP Fast Open when the first bytes are known before connecting.
// Sessions (one dial per proxied connection) and the client's pool of
// pre-warmed connections both dial through here, so path policy and TFO
// apply to both the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <uv.h>

#include <sys/socket.h>

namespace braid::net {

/// One address reached over one path ("" = let routing choose).
struct DialTarget {
  sockaddr_storage address{};
  std::string device;
};

/// Every address on every candidate path in turn (loopback addresses only
/// once, unbound): a path that is up but silent (dead Wi-Fi) must not keep
/// new connections from the others.
std::vector<DialTarget> dial_targets(const std::vector<sockaddr_storage>& addrs,
                                     const std::vector<std::string>& devices);

/// How long one attempt may take: short while other targets remain, so a
/// silent path gives way quickly; the full connect timeout for the last one.
uint64_t attempt_timeout_ms(bool more_targets, uint64_t connect_timeout_ms);

struct AttemptOptions {
  bool mptcp = true;
  /// TCP Fast Open when first_flight is not empty (the kernel decides
  /// whether the SYN can carry it: it needs a cookie from an earlier connection).
  bool fastopen = false;
};

struct Attempt {
  bool mptcp = false;      ///< the socket is IPPROTO_MPTCP
  int mptcp_error = 0;     ///< why MPTCP was refused (negative errno), 0 if not
  size_t first_sent = 0;   ///< bytes of the first flight the SYN carries
  int bind_error = 0;      ///< pinning to the device failed (negative errno); the attempt goes on unpinned
  bool started = false;    ///< @p req was handed to libuv: its callback will run (UV_ECANCELED once the handle closes)
};

/**
 * Opens the socket for @p target into @p handle (uv_tcp_init'ed, not yet
 * opened) and starts connecting with @p req and @p cb. With fastopen and a
 * @p first_flight, the first flight is sent at once: in the SYN when the
 * kernel has a cookie (out.first_sent bytes of it), the rest must be written
 * after @p cb reports the connection. @p cb fires when the connection is
 * really established, with or without TFO.
 * Returns 0, or a negative error: the attempt failed and the caller closes
 * @p handle; @p req is the caller's to free unless out.started (then its
 * callback runs, with UV_ECANCELED, and frees it there).
 */
int start_attempt(uv_tcp_t* handle, uv_connect_t* req, const DialTarget& target, const AttemptOptions& options,
                  const std::string& first_flight, uv_connect_cb cb, Attempt& out);

}  // namespace braid::net

// The concentrator's defences that span sessions: the destination policy
// with the concentrator's own addresses kept fresh, connections per user,
// name lookups in flight, and a count of everything it refused. One Guard
// per Server, shared by its sessions on the loop thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>

#include <uv.h>

#include "concentrator/destination_policy.hpp"
#include "config/config.hpp"

namespace braid::concentrator {

class Guard {
 public:
  /// What was refused; each has a counter.
  enum class Refusal : uint8_t {
    destination,        ///< the destination policy (TCP connections)
    udp_destination,    ///< the destination policy (datagrams)
    busy,               ///< limits.max_connections
    user_limit,         ///< limits.max_connections_per_user
    dns_limit,          ///< limits.max_dns_lookups
    bad_token,          ///< unknown token or user
    malformed,          ///< bad version, flags, address type, kind or frame
    handshake_timeout,  ///< no complete request within limits.handshake_timeout_ms
    tls_handshake,      ///< a client whose TLS handshake failed (garbage, wrong protocol)
  };
  static constexpr size_t kRefusalKinds = 9;
  /// Own addresses are read again when older than this.
  static constexpr uint64_t kRefreshMs = 5000;
  /// A summary of the counters is logged at most this often while refusals happen.
  static constexpr uint64_t kSummaryEveryMs = 60000;

  Guard(uv_loop_t* loop, const config::ConcentratorConfig& cfg);

  /// Checks a destination against the policy (own addresses refreshed when stale).
  PolicyVerdict check(const sockaddr* to);
  const DestinationPolicy& policy() const { return policy_; }

  /// Counts a session of @p user; false (and nothing counted) at the limit.
  bool add_user_session(const std::string& user);
  void remove_user_session(const std::string& user);
  uint32_t user_sessions(const std::string& user) const;

  /// Takes a slot for a name lookup; false when limits.max_dns_lookups are in flight.
  bool begin_lookup();
  void end_lookup();
  uint32_t lookups_in_flight() const { return lookups_; }

  void count(Refusal r, uint64_t n = 1);
  uint64_t refused(Refusal r) const { return refused_[static_cast<size_t>(r)]; }
  /// "refused since start: 3 destinations not allowed, 1 over the per-user limit" (or "nothing refused").
  std::string summary() const;
  static const char* name(Refusal r);

  /// Reads the interface addresses now (also done lazily by check()).
  void refresh_own_addresses();

 private:
  uv_loop_t* loop_;
  const config::Limits limits_;
  DestinationPolicy policy_;
  /// public_address when it is an IP literal: behind 1:1 NAT (a cloud VM)
  /// it is on no interface, yet reaching it loops back to this machine.
  std::vector<net::IpAddress> public_;
  uint64_t refreshed_ms_ = 0;
  bool refreshed_ = false;
  std::unordered_map<std::string, uint32_t> users_;
  uint32_t lookups_ = 0;
  std::array<uint64_t, kRefusalKinds> refused_{};
  uint64_t summary_ms_ = 0;
};

}  // namespace braid::concentrator

// The path model: a usable local interface (name, kind, addresses, state),
// the user's policy for it, and the pure rules that turn policies into what
// the kernel's path manager should have.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "braid/platform.hpp"

namespace braid::paths {

/// What the user wants of a path.
enum class Policy { on, backup, off };
/// What the path is doing now.
enum class State {
  up,       ///< usable and carrying (or ready to carry) traffic
  standby,  ///< usable, held back as a backup
  down,     ///< no carrier, no address or no route
  off,      ///< switched off by the user
};
/// Global presets over the per-path policies.
enum class Mode { aggregate, failover, custom };

const char* to_string(Policy p);
const char* to_string(State s);
const char* to_string(Mode m);
const char* to_string(platform::LinkKind k);
std::optional<Policy> parse_policy(const std::string& s);
std::optional<Mode> parse_mode(const std::string& s);
std::optional<platform::LinkKind> parse_kind(const std::string& s);

struct Path {
  std::string name;
  int ifindex = 0;
  platform::LinkKind kind = platform::LinkKind::other;
  std::vector<sockaddr_storage> addresses;
  bool link_up = false;
  bool has_route = false;
  Policy policy = Policy::on;

  bool usable() const { return link_up && has_route && !addresses.empty(); }
  State state() const;
};

/// An interface can be a path when it is not loopback and has a global address.
bool is_candidate(const platform::Interface& itf);

/// Default policy per kind: everything on (bonding is the point).
Policy default_policy(platform::LinkKind kind);

/// Endpoint flags for a policy; nullopt means "no endpoint" (off).
std::optional<uint32_t> endpoint_flags(Policy p);

/**
 * The path a new connection's initial subflow should leave on: the most
 * preferred usable path with policy on (Ethernet, then Wi-Fi, then other,
 * then cellular — metered last), else a usable backup path, else none.
 */
const Path* best_path(const std::vector<Path>& paths);

/// Policies a mode implies: aggregate = all on; failover = best path on, others backup.
std::vector<Policy> policies_for_mode(Mode m, const std::vector<Path>& paths);

}  // namespace braid::paths

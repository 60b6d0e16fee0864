#include "paths/path.hpp"

#include <netinet/in.h>

namespace braid::paths {

const char* to_string(Policy p) {
  switch (p) {
    case Policy::on: return "on";
    case Policy::backup: return "backup";
    case Policy::off: return "off";
  }
  return "?";
}

const char* to_string(State s) {
  switch (s) {
    case State::up: return "up";
    case State::standby: return "standby";
    case State::down: return "down";
    case State::off: return "off";
  }
  return "?";
}

const char* to_string(Mode m) {
  switch (m) {
    case Mode::aggregate: return "aggregate";
    case Mode::failover: return "failover";
    case Mode::custom: return "custom";
  }
  return "?";
}

const char* to_string(platform::LinkKind k) {
  switch (k) {
    case platform::LinkKind::wifi: return "wifi";
    case platform::LinkKind::cellular: return "cellular";
    case platform::LinkKind::ethernet: return "ethernet";
    case platform::LinkKind::other: return "other";
  }
  return "?";
}

std::optional<Policy> parse_policy(const std::string& s) {
  if (s == "on") return Policy::on;
  if (s == "backup") return Policy::backup;
  if (s == "off") return Policy::off;
  return std::nullopt;
}

std::optional<Mode> parse_mode(const std::string& s) {
  if (s == "aggregate") return Mode::aggregate;
  if (s == "failover") return Mode::failover;
  return std::nullopt;
}

std::optional<platform::LinkKind> parse_kind(const std::string& s) {
  if (s == "wifi") return platform::LinkKind::wifi;
  if (s == "cellular") return platform::LinkKind::cellular;
  if (s == "ethernet") return platform::LinkKind::ethernet;
  if (s == "other") return platform::LinkKind::other;
  return std::nullopt;
}

State Path::state() const {
  if (policy == Policy::off) return State::off;
  if (!usable()) return State::down;
  return policy == Policy::backup ? State::standby : State::up;
}

bool is_candidate(const platform::Interface& itf) { return !itf.loopback && !itf.addresses.empty(); }

Policy default_policy(platform::LinkKind) { return Policy::on; }

std::optional<uint32_t> endpoint_flags(Policy p) {
  switch (p) {
    case Policy::on: return platform::kEndpointSubflow;
    case Policy::backup: return platform::kEndpointSubflow | platform::kEndpointBackup;
    case Policy::off: return std::nullopt;
  }
  return std::nullopt;
}

namespace {
int preference(platform::LinkKind k) {
  switch (k) {
    case platform::LinkKind::ethernet: return 0;
    case platform::LinkKind::wifi: return 1;
    case platform::LinkKind::other: return 2;
    case platform::LinkKind::cellular: return 3;
  }
  return 4;
}
}  // namespace

const Path* best_path(const std::vector<Path>& paths) {
  const Path* best = nullptr;
  for (const Policy wanted : {Policy::on, Policy::backup}) {
    for (const auto& p : paths) {
      if (p.policy != wanted || !p.usable()) continue;
      if (!best || preference(p.kind) < preference(best->kind)) best = &p;
    }
    if (best) return best;
  }
  return nullptr;
}

std::vector<Policy> policies_for_mode(Mode m, const std::vector<Path>& paths) {
  std::vector<Policy> out(paths.size(), Policy::on);
  if (m != Mode::failover) return out;
  // Failover: the best usable path carries everything, the rest stand by.
  std::vector<Path> all_on = paths;
  for (auto& p : all_on) p.policy = Policy::on;
  const Path* best = best_path(all_on);
  for (size_t i = 0; i < paths.size(); ++i)
    out[i] = (best && all_on[i].name == best->name) ? Policy::on : Policy::backup;
  return out;
}

}  // namespace braid::paths

// Keeps the list of paths in step with the system (rtnetlink, no polling)
// and the kernel's MPTCP path manager in step with the user's policies
// (generic netlink "mptcp_pm"): on = subflow endpoint with dev, backup =
// subflow+backup endpoint (MP_PRIO on live connections), off = no endpoint.
//
// Braid removes only endpoints it created, and on stop() puts back what it
// changed, so the system is left as it was found. Without CAP_NET_ADMIN the
// paths are still listed and control is reported unavailable, with the reason.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <uv.h>

#include "braid/platform.hpp"
#include "paths/path.hpp"

namespace braid::paths {

class PathManager {
 public:
  struct Options {
    std::map<std::string, Policy> policies;               ///< remembered or configured, by interface name
    std::map<std::string, platform::LinkKind> kinds;      ///< user overrides, by interface name
    Mode mode = Mode::aggregate;
    bool manage_endpoints = true;  ///< false: never touch the kernel's endpoints
  };

  PathManager(uv_loop_t* loop, Options options);
  ~PathManager();
  PathManager(const PathManager&) = delete;
  PathManager& operator=(const PathManager&) = delete;

  /// Lists interfaces, applies policies and starts following changes.
  int start(std::string& error);
  /// Stops following changes and restores the endpoints Braid changed.
  void stop();

  const std::vector<Path>& paths() const { return paths_; }
  const Path* find(const std::string& name) const;
  /// The path whose interface owns @p local ("" if none).
  std::string path_of(const sockaddr_storage& local) const;
  /// Interfaces for new connections' initial subflows, best first: usable
  /// paths that are on, then usable backup paths.
  std::vector<std::string> bind_devices() const;

  /// Changes one path's policy; false with @p error when it cannot.
  bool set_policy(const std::string& name, Policy p, std::string& error);
  /// Applies a mode preset over all paths.
  bool set_mode(Mode m, std::string& error);
  Mode mode() const { return mode_; }
  /// Policies by name, for remembering across restarts.
  std::map<std::string, Policy> policies() const { return policies_; }

  bool control_available() const { return control_available_; }
  /// Why control is unavailable, and how to grant it ("" when available).
  const std::string& control_reason() const { return control_reason_; }

  /// Called after the paths or their policies changed.
  std::function<void()> on_change;

 private:
  void refresh();
  void reconcile();
  bool endpoint_call(int rc, const std::string& what);

  uv_loop_t* loop_;
  Options options_;
  std::vector<Path> paths_;
  std::map<std::string, Policy> policies_;
  Mode mode_;
  platform::LinkMonitor monitor_;
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* debounce_ = nullptr;
  bool control_available_ = true;
  std::string control_reason_;

  /// Endpoints Braid added (by address text) — removed on stop.
  std::map<std::string, platform::MptcpEndpoint> added_;
  /// Endpoints that were there before Braid and that it deleted or changed,
  /// in their original form — put back on stop.
  std::map<std::string, platform::MptcpEndpoint> originals_;
};

}  // namespace braid::paths

#include "paths/path_manager.hpp"

#include <algorithm>
#include <cerrno>

#include "net/address.hpp"
#include "net/errors.hpp"
#include "net/log.hpp"

namespace braid::paths {

namespace {

std::string key_of(const sockaddr_storage& a) {
  sockaddr_storage copy = a;
  // Endpoints and interface addresses are compared without a port.
  if (copy.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&copy)->sin_port = 0;
  if (copy.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&copy)->sin6_port = 0;
  return Destination::from_sockaddr(reinterpret_cast<const sockaddr*>(&copy)).host();
}

constexpr uint64_t kDebounceMs = 100;

}  // namespace

PathManager::PathManager(uv_loop_t* loop, Options options)
    : loop_(loop), options_(std::move(options)), policies_(options_.policies), mode_(options_.mode) {}

PathManager::~PathManager() { stop(); }

int PathManager::start(std::string& error) {
  if (int rc = monitor_.open(); rc < 0) {
    error = "cannot follow interface changes (rtnetlink): " + net::describe_error(rc);
    return rc;
  }
  poll_ = new uv_poll_t;
  uv_poll_init(loop_, poll_, monitor_.fd());
  poll_->data = this;
  debounce_ = new uv_timer_t;
  uv_timer_init(loop_, debounce_);
  debounce_->data = this;
  uv_poll_start(poll_, UV_READABLE, [](uv_poll_t* p, int status, int) {
    auto* self = static_cast<PathManager*>(p->data);
    if (status < 0 || !self->monitor_.drain()) return;
    // Changes come in bursts (link, then addresses, then routes): settle first.
    uv_timer_start(
        self->debounce_,
        [](uv_timer_t* t) {
          auto* pm = static_cast<PathManager*>(t->data);
          pm->refresh();
          pm->reconcile();
          if (pm->on_change) pm->on_change();
        },
        kDebounceMs, 0);
  });
  refresh();
  reconcile();
  return 0;
}

void PathManager::stop() {
  if (poll_) {
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  if (debounce_) {
    uv_close(reinterpret_cast<uv_handle_t*>(debounce_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    debounce_ = nullptr;
  }
  if (!options_.manage_endpoints || !control_available_ || (added_.empty() && originals_.empty())) return;
  // Leave the system as we found it.
  std::vector<platform::MptcpEndpoint> now;
  platform::list_mptcp_endpoints(now);
  for (const auto& [key, mine] : added_) {
    for (const auto& e : now)
      if (key_of(e.address) == key) platform::delete_mptcp_endpoint(e.id);
  }
  for (const auto& [key, original] : originals_) {
    // A named copy: clang before 16 cannot capture a structured binding.
    const auto& wanted = key;
    auto it = std::find_if(now.begin(), now.end(), [&](const auto& e) { return key_of(e.address) == wanted; });
    if (it == now.end()) {
      platform::add_mptcp_endpoint(original);
    } else if ((it->flags & platform::kEndpointBackup) != (original.flags & platform::kEndpointBackup)) {
      platform::set_mptcp_endpoint_backup(*it, original.flags & platform::kEndpointBackup);
    }
  }
  BRAID_LOG(info, "paths: restored the MPTCP endpoints braid had changed");
  added_.clear();
  originals_.clear();
}

void PathManager::refresh() {
  std::vector<platform::Interface> interfaces;
  if (int rc = platform::list_interfaces(interfaces); rc < 0) {
    BRAID_LOG(warn, "paths: cannot list interfaces: %s", net::describe_error(rc).c_str());
    return;
  }
  std::vector<Path> fresh;
  for (const auto& itf : interfaces) {
    if (!is_candidate(itf)) continue;
    Path p;
    p.name = itf.name;
    p.ifindex = itf.index;
    auto kind = options_.kinds.find(itf.name);
    p.kind = kind != options_.kinds.end() ? kind->second : itf.kind;
    p.addresses = itf.addresses;
    p.link_up = itf.up;
    p.has_route = itf.has_default_route;
    auto pol = policies_.find(itf.name);
    p.policy = pol != policies_.end() ? pol->second : default_policy(p.kind);
    fresh.push_back(std::move(p));
  }
  if (mode_ == Mode::failover) {
    auto pols = policies_for_mode(Mode::failover, fresh);
    for (size_t i = 0; i < fresh.size(); ++i) fresh[i].policy = pols[i];
  }
  for (const auto& p : fresh) {
    auto old = std::find_if(paths_.begin(), paths_.end(), [&](const Path& o) { return o.name == p.name; });
    if (old == paths_.end() || old->state() != p.state())
      BRAID_LOG(info, "path %s (%s): %s, policy %s", p.name.c_str(), to_string(p.kind), to_string(p.state()),
                to_string(p.policy));
  }
  for (const auto& o : paths_) {
    if (std::none_of(fresh.begin(), fresh.end(), [&](const Path& p) { return p.name == o.name; }))
      BRAID_LOG(info, "path %s: gone", o.name.c_str());
  }
  paths_ = std::move(fresh);
}

bool PathManager::endpoint_call(int rc, const std::string& what) {
  if (rc == 0 || rc == -EEXIST || rc == -ENOENT) return true;
  if (rc == -EPERM || rc == -EACCES) {
    control_available_ = false;
    control_reason_ =
        "path control needs CAP_NET_ADMIN (the kernel refused to change MPTCP endpoints); run braid as the "
        "system service or grant it once with: sudo setcap cap_net_admin+ep \"$(command -v braid)\"";
    BRAID_LOG(warn, "paths: %s", control_reason_.c_str());
    return false;
  }
  BRAID_LOG(warn, "paths: %s failed: %s", what.c_str(), net::describe_error(rc).c_str());
  return true;
}

void PathManager::reconcile() {
  if (!options_.manage_endpoints || !control_available_) return;
  std::vector<platform::MptcpEndpoint> endpoints;
  if (int rc = platform::list_mptcp_endpoints(endpoints); rc < 0) {
    control_available_ = false;
    control_reason_ = "the kernel's MPTCP path manager is not available: " + net::describe_error(rc);
    BRAID_LOG(warn, "paths: %s", control_reason_.c_str());
    return;
  }
  auto find = [&](const std::string& key) {
    return std::find_if(endpoints.begin(), endpoints.end(), [&](const auto& e) { return key_of(e.address) == key; });
  };
  std::vector<std::string> wanted_keys;
  for (const auto& p : paths_) {
    const auto flags = endpoint_flags(p.policy);
    for (const auto& a : p.addresses) {
      const std::string key = key_of(a);
      wanted_keys.push_back(key);
      auto it = find(key);
      const bool mine = added_.count(key) > 0;
      if (!flags) {
        if (it == endpoints.end()) continue;
        if (!mine && !originals_.count(key)) originals_[key] = *it;
        if (!endpoint_call(platform::delete_mptcp_endpoint(it->id), "removing endpoint " + key)) return;
        added_.erase(key);
        BRAID_LOG(info, "paths: %s off: removed MPTCP endpoint %s (its subflows close)", p.name.c_str(), key.c_str());
        continue;
      }
      if (it == endpoints.end()) {
        platform::MptcpEndpoint e;
        e.address = a;
        e.flags = *flags;
        e.ifindex = p.ifindex;
        if (!endpoint_call(platform::add_mptcp_endpoint(e), "adding endpoint " + key)) return;
        if (!originals_.count(key)) added_[key] = e;
        BRAID_LOG(info, "paths: %s %s: MPTCP endpoint %s dev %s subflow%s", p.name.c_str(), to_string(p.policy),
                  key.c_str(), p.name.c_str(), p.policy == Policy::backup ? " backup" : "");
        continue;
      }
      const bool want_backup = *flags & platform::kEndpointBackup;
      if (static_cast<bool>(it->flags & platform::kEndpointBackup) != want_backup) {
        if (!mine && !originals_.count(key)) originals_[key] = *it;
        if (!endpoint_call(platform::set_mptcp_endpoint_backup(*it, want_backup), "changing endpoint " + key)) return;
        BRAID_LOG(info, "paths: %s %s: endpoint %s %s", p.name.c_str(), to_string(p.policy), key.c_str(),
                  want_backup ? "marked backup (MP_PRIO sent on live connections)" : "no longer backup");
      }
    }
  }
  // Endpoints Braid added for addresses that went away.
  for (auto it = added_.begin(); it != added_.end();) {
    if (std::find(wanted_keys.begin(), wanted_keys.end(), it->first) != wanted_keys.end()) {
      ++it;
      continue;
    }
    auto e = find(it->first);
    if (e != endpoints.end()) {
      endpoint_call(platform::delete_mptcp_endpoint(e->id), "removing endpoint " + it->first);
      BRAID_LOG(info, "paths: removed MPTCP endpoint %s (its address is gone)", it->first.c_str());
    }
    it = added_.erase(it);
  }
}

const Path* PathManager::find(const std::string& name) const {
  auto it = std::find_if(paths_.begin(), paths_.end(), [&](const Path& p) { return p.name == name; });
  return it == paths_.end() ? nullptr : &*it;
}

std::string PathManager::path_of(const sockaddr_storage& local) const {
  const std::string key = key_of(local);
  for (const auto& p : paths_)
    for (const auto& a : p.addresses)
      if (key_of(a) == key) return p.name;
  return {};
}

std::vector<std::string> PathManager::bind_devices() const {
  std::vector<Path> left = paths_;
  std::vector<std::string> out;
  while (const Path* best = best_path(left)) {
    out.push_back(best->name);
    left.erase(left.begin() + (best - left.data()));
  }
  return out;
}

bool PathManager::set_policy(const std::string& name, Policy p, std::string& error) {
  if (!find(name)) {
    error = "no path named '" + name + "'; known paths:";
    for (const auto& q : paths_) error += " " + q.name;
    return false;
  }
  if (options_.manage_endpoints && !control_available_) {
    error = control_reason_;
    return false;
  }
  policies_[name] = p;
  mode_ = Mode::custom;
  refresh();
  reconcile();
  if (!control_available_) {
    error = control_reason_;
    return false;
  }
  if (on_change) on_change();
  return true;
}

bool PathManager::set_mode(Mode m, std::string& error) {
  if (m == Mode::custom) {
    error = "mode must be aggregate or failover";
    return false;
  }
  if (options_.manage_endpoints && !control_available_) {
    error = control_reason_;
    return false;
  }
  auto pols = policies_for_mode(m, paths_);
  for (size_t i = 0; i < paths_.size(); ++i) policies_[paths_[i].name] = pols[i];
  mode_ = m;
  refresh();
  reconcile();
  if (on_change) on_change();
  return true;
}

}  // namespace braid::paths

#include "paths/telemetry.hpp"

#include "net/address.hpp"

namespace braid::paths {

namespace {
// Growth of a counter; a counter that went backwards belongs to a new subflow
// that reused the key, so all of it is new.
uint64_t growth(uint64_t now, uint64_t before) { return now >= before ? now - before : now; }
}  // namespace

void Telemetry::observe(uint64_t conn, const std::vector<platform::SubflowStats>& subflows, const PathOf& path_of) {
  Conn& c = conns_[conn];
  for (const auto& s : subflows) {
    const std::string key = endpoint_pair_key(s.local, s.remote);
    auto it = c.subflows.find(key);
    if (it == c.subflows.end()) it = c.subflows.emplace(key, SubflowSeen{path_of(s.local), {}, 0}).first;
    SubflowSeen& seen = it->second;
    const Counters now{s.bytes_acked, s.bytes_received};
    const Counters delta{growth(now.up, seen.last.up), growth(now.down, seen.last.down)};
    seen.last = now;
    seen.rtt_us = s.rtt_us;
    seen.live = s.live;
    if (seen.path.empty()) continue;
    Acc& acc = paths_[seen.path];
    acc.session += delta;
    acc.this_second += delta;
    if (s.rtt_us && s.live) acc.rtt_us = s.rtt_us;
    c.per_path[seen.path] += delta;
  }
}

void Telemetry::forget(uint64_t conn) { conns_.erase(conn); }

void Telemetry::tick() {
  for (auto& [name, acc] : paths_) {
    acc.last_second = acc.this_second;
    acc.window.push_back(acc.this_second);
    if (acc.window.size() > 10) acc.window.pop_front();
    acc.this_second = {};
  }
  // Live subflows per path, from what each connection last showed.
  for (auto& [name, acc] : paths_) acc.subflows = 0;
  for (const auto& [id, c] : conns_)
    for (const auto& [key, seen] : c.subflows)
      if (!seen.path.empty() && seen.live) ++paths_[seen.path].subflows;
}

void Telemetry::set_base(const std::string& path, Counters c) { paths_[path].base = c; }

PathTraffic Telemetry::path(const std::string& name) const {
  PathTraffic t;
  auto it = paths_.find(name);
  if (it == paths_.end()) return t;
  const Acc& a = it->second;
  t.session = a.session;
  t.total = a.base;
  t.total += a.session;
  t.up_bps_1s = static_cast<double>(a.last_second.up) * 8;
  t.down_bps_1s = static_cast<double>(a.last_second.down) * 8;
  Counters sum;
  for (const auto& c : a.window) sum += c;
  if (!a.window.empty()) {
    t.up_bps_10s = static_cast<double>(sum.up) * 8 / static_cast<double>(a.window.size());
    t.down_bps_10s = static_cast<double>(sum.down) * 8 / static_cast<double>(a.window.size());
  }
  t.rtt_us = a.rtt_us;
  t.subflows = a.subflows;
  return t;
}

std::vector<std::string> Telemetry::paths() const {
  std::vector<std::string> out;
  for (const auto& [name, acc] : paths_) out.push_back(name);
  return out;
}

std::map<std::string, Counters> Telemetry::connection(uint64_t conn) const {
  auto it = conns_.find(conn);
  return it == conns_.end() ? std::map<std::string, Counters>{} : it->second.per_path;
}

}  // namespace braid::paths

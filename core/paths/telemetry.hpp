// Per-path traffic accounting from the kernel's per-subflow counters.
//
// Every live upstream connection is read about once a second
// (MPTCP_TCPINFO + MPTCP_SUBFLOW_ADDRS); the growth of each subflow's
// counters since the previous reading is credited to the path its local
// address belongs to. A connection's last reading is taken as it closes, so
// closed connections' bytes stay in the totals. Pure bookkeeping: no
// sockets, no clock — the caller says when a second has passed.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "braid/platform.hpp"

namespace braid::paths {

struct Counters {
  uint64_t up = 0;    ///< bytes delivered towards the concentrator (acked)
  uint64_t down = 0;  ///< bytes received from it
  Counters& operator+=(const Counters& o) {
    up += o.up;
    down += o.down;
    return *this;
  }
};

struct PathTraffic {
  Counters session;     ///< since braid started
  Counters total;       ///< including earlier runs (see set_base)
  double up_bps_1s = 0, down_bps_1s = 0;    ///< bits per second over the last second
  double up_bps_10s = 0, down_bps_10s = 0;  ///< averaged over the last ten seconds
  uint32_t rtt_us = 0;  ///< smoothed RTT of the path's most recent subflow reading
  uint32_t subflows = 0;  ///< live subflows on this path at the last readings
};

class Telemetry {
 public:
  /// Maps a subflow's local address to a path name ("" when none matches).
  using PathOf = std::function<std::string(const sockaddr_storage&)>;

  /// A reading of connection @p conn's subflows.
  void observe(uint64_t conn, const std::vector<platform::SubflowStats>& subflows, const PathOf& path_of);
  /// Connection @p conn closed (after its final observe()).
  void forget(uint64_t conn);
  /// One second has passed: rates move on.
  void tick();
  /// Bytes from earlier runs, added to the totals.
  void set_base(const std::string& path, Counters c);

  PathTraffic path(const std::string& name) const;
  std::vector<std::string> paths() const;
  /// Bytes connection @p conn carried on each path.
  std::map<std::string, Counters> connection(uint64_t conn) const;
  size_t connections() const { return conns_.size(); }

 private:
  struct SubflowSeen {
    std::string path;
    Counters last;
    uint32_t rtt_us = 0;
    bool live = true;
  };
  struct Conn {
    std::map<std::string, SubflowSeen> subflows;  ///< key: "local>remote"
    std::map<std::string, Counters> per_path;
  };
  struct Acc {
    Counters session, base, this_second, last_second;
    std::deque<Counters> window;  ///< the last ≤ 10 whole seconds
    uint32_t rtt_us = 0;
    uint32_t subflows = 0;
  };

  std::unordered_map<uint64_t, Conn> conns_;
  std::map<std::string, Acc> paths_;
};

}  // namespace braid::paths

// Which paths carry the next datagram of a multipath association. Pure: the
// caller passes the paths' state as probes measured it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace braid::paths {

enum class Scheduler {
  redundant,   ///< every live path; the receiver keeps the first copy
  lowest_rtt,  ///< the live path with the lowest RTT, skipping lossy ones
  weighted,    ///< spread by weight (measured capacity)
};

const char* to_string(Scheduler s);
std::optional<Scheduler> parse_scheduler(const std::string& s);

struct UdpPathState {
  uint8_t id = 0;
  bool backup = false;       ///< policy backup: used only when no "on" path is live
  bool live = false;         ///< a probe answer arrived recently
  uint32_t rtt_us = 0;
  uint8_t loss_percent = 0;
  double weight = 1;         ///< for weighted: measured capacity (any unit)
};

class UdpScheduler {
 public:
  explicit UdpScheduler(Scheduler s) : kind_(s) {}
  Scheduler kind() const { return kind_; }
  /**
   * The path ids to send the next datagram on. Only live paths are used;
   * backup paths only when no "on" path is live. With nothing live, every
   * path is tried (a datagram sent may arrive; one not sent cannot).
   */
  std::vector<uint8_t> pick(const std::vector<UdpPathState>& paths);

  /// lowest-rtt avoids a path losing at least this share of probes.
  static constexpr uint8_t kLossyPercent = 20;

 private:
  Scheduler kind_;
  std::vector<double> credit_;  ///< smooth weighted round robin state, by position
};

}  // namespace braid::paths

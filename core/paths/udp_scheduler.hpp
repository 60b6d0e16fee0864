// Which paths carry the next datagram of a multipath association. Pure: the
// caller passes the paths' state as probes measured it.
#pragma once

#include <cstdint>
#include <deque>
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

  /**
   * lowest-rtt avoids a path only when it loses at least kLossyPercent of its
   * probes AND clearly more than the best other path (≥ 2 × its loss +
   * kLossMarginPercent); PathProbes reports no loss before kMinLossSamples. Loss measured from a few probes is noisy: with 5 %
   * loss each way on both paths, "2 of the last 9 probes lost" happens a
   * fifth of the time, and moving to a slower path that loses as much only
   * adds delay.
   */
  static constexpr uint8_t kLossyPercent = 25;
  static constexpr uint8_t kLossMarginPercent = 15;
  /// lowest-rtt keeps its path unless another is faster by more than this
  /// share (and 1 ms): paths of nearly equal RTT do not flap (reordering).
  static constexpr double kRttHysteresis = 0.1;

 private:
  Scheduler kind_;
  std::vector<double> credit_;  ///< smooth weighted round robin state, by position
  std::optional<uint8_t> current_;  ///< lowest-rtt: the path of the last pick
};

/**
 * One path's probes as the client sees them. Pure (times are passed in), so
 * the decisions can be tested without sockets.
 *
 * Loss is the share of the last kLossWindow regular probes, old enough to have
 * been answered, that were not. Liveness reacts faster than the probe
 * interval: a probe not answered within timeout_us() is a miss and is
 * retried at once; kDeadAfterMisses misses in a row (≈ 0.1 % of the time at
 * 10 % round-trip loss, by chance) mark the path dead until an answer comes.
 */
class PathProbes {
 public:
  static constexpr size_t kLossWindow = 20;
  static constexpr unsigned kMinLossSamples = 10;  ///< loss is 0 until this many probes are due
  static constexpr unsigned kDeadAfterMisses = 3;

  /// A probe stamped @p sent_us left; @p retry: sent because the one before went unanswered.
  void sent(uint64_t sent_us, bool retry);
  /// The answer to the probe stamped @p sent_us arrived at @p now_us; false
  /// for a stamp not sent (or forgotten). Updates the smoothed RTT.
  bool answered(uint64_t sent_us, uint64_t now_us);
  /// How long an answer may take: 2 × SRTT (at least SRTT + 25 ms), within
  /// [30 ms, interval]; half the interval before any answer.
  uint64_t timeout_us(uint64_t interval_us) const;
  /// Probes in a row, newest first (past those still in time), not answered within the timeout.
  unsigned misses(uint64_t now_us, uint64_t interval_us) const;
  bool live(uint64_t now_us, uint64_t interval_us) const;
  /// The newest probe went unanswered and the path is not yet dead: probe again now.
  bool retry_due(uint64_t now_us, uint64_t interval_us) const;
  /// When retry_due() may next become true (0: nothing outstanding).
  uint64_t next_check_us(uint64_t interval_us) const;
  uint8_t loss_percent(uint64_t now_us, uint64_t interval_us) const;
  uint32_t srtt_us() const { return srtt_us_; }
  uint64_t last_answer_us() const { return last_answer_us_; }

 private:
  struct Probe {
    uint64_t sent_us;
    bool retry;
    bool answered;
  };
  std::deque<Probe> probes_;  ///< newest last
  uint32_t srtt_us_ = 0;
  uint64_t last_answer_us_ = 0;
};

}  // namespace braid::paths

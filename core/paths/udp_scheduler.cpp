#include "paths/udp_scheduler.hpp"

#include <algorithm>

namespace braid::paths {

const char* to_string(Scheduler s) {
  switch (s) {
    case Scheduler::redundant: return "redundant";
    case Scheduler::lowest_rtt: return "lowest-rtt";
    case Scheduler::weighted: return "weighted";
  }
  return "?";
}

std::optional<Scheduler> parse_scheduler(const std::string& s) {
  if (s == "redundant") return Scheduler::redundant;
  if (s == "lowest-rtt") return Scheduler::lowest_rtt;
  if (s == "weighted") return Scheduler::weighted;
  return std::nullopt;
}

std::vector<uint8_t> UdpScheduler::pick(const std::vector<UdpPathState>& paths) {
  std::vector<const UdpPathState*> usable;
  for (bool backups : {false, true}) {
    for (const auto& p : paths)
      if (p.live && p.backup == backups) usable.push_back(&p);
    if (!usable.empty()) break;
  }
  if (usable.empty()) {
    std::vector<uint8_t> all;
    for (const auto& p : paths) all.push_back(p.id);
    return all;
  }
  switch (kind_) {
    case Scheduler::redundant: {
      std::vector<uint8_t> out;
      for (const auto* p : usable) out.push_back(p->id);
      return out;
    }
    case Scheduler::lowest_rtt: {
      const UdpPathState* best = nullptr;
      for (bool allow_lossy : {false, true}) {
        for (const auto* p : usable) {
          if (!allow_lossy && p->loss_percent >= kLossyPercent) continue;
          if (!best || p->rtt_us < best->rtt_us) best = p;
        }
        if (best) break;
      }
      return {best->id};
    }
    case Scheduler::weighted: {
      // Smooth weighted round robin (as nginx does it): deterministic and
      // proportional over any window.
      credit_.resize(usable.size(), 0);
      double total = 0;
      size_t chosen = 0;
      for (size_t i = 0; i < usable.size(); ++i) {
        const double w = std::max(usable[i]->weight, 0.001);
        credit_[i] += w;
        total += w;
        if (credit_[i] > credit_[chosen]) chosen = i;
      }
      credit_[chosen] -= total;
      return {usable[chosen]->id};
    }
  }
  return {};
}

}  // namespace braid::paths

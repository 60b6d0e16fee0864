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
      // A path is lossy against the least lossy of the others, not on its own.
      auto lossy = [&](const UdpPathState* p) {
        if (p->loss_percent < kLossyPercent) return false;
        for (const auto* q : usable)
          if (q != p && p->loss_percent >= 2 * q->loss_percent + kLossMarginPercent) return true;
        return false;
      };
      const UdpPathState* best = nullptr;
      const UdpPathState* current = nullptr;
      for (bool allow_lossy : {false, true}) {
        for (const auto* p : usable) {
          if (!allow_lossy && lossy(p)) continue;
          if (!best || p->rtt_us < best->rtt_us) best = p;
          if (current_ && p->id == *current_) current = p;
        }
        if (best) break;
      }
      if (current && current != best &&
          current->rtt_us <= best->rtt_us * (1 + kRttHysteresis) + 1000)
        best = current;
      current_ = best->id;
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

void PathProbes::sent(uint64_t sent_us, bool retry) {
  probes_.push_back({sent_us, retry, false});
  // Keep the loss window's regular probes (and the retries among them).
  size_t regular = 0;
  for (const auto& p : probes_) regular += !p.retry;
  while (probes_.size() > 1 && (regular > kLossWindow || probes_.size() > 2 * kLossWindow)) {
    regular -= !probes_.front().retry;
    probes_.pop_front();
  }
}

bool PathProbes::answered(uint64_t sent_us, uint64_t now_us) {
  for (auto& p : probes_) {
    if (p.sent_us != sent_us) continue;
    if (!p.answered && now_us >= sent_us) {
      const auto sample = static_cast<uint32_t>(now_us - sent_us);
      srtt_us_ = srtt_us_ ? (srtt_us_ * 7 + sample) / 8 : sample;  // RFC 6298-style smoothing
    }
    p.answered = true;
    last_answer_us_ = std::max(last_answer_us_, now_us);
    return true;
  }
  return false;
}

uint64_t PathProbes::timeout_us(uint64_t interval_us) const {
  if (!srtt_us_) return interval_us / 2;
  const uint64_t t = std::max<uint64_t>(2ull * srtt_us_, srtt_us_ + 25000);
  return std::clamp<uint64_t>(t, 30000, std::max<uint64_t>(interval_us, 30000));
}

unsigned PathProbes::misses(uint64_t now_us, uint64_t interval_us) const {
  const uint64_t timeout = timeout_us(interval_us);
  unsigned n = 0;
  for (auto it = probes_.rbegin(); it != probes_.rend(); ++it) {
    if (it->answered) break;
    if (now_us - it->sent_us < timeout) continue;  // still in time: neither a miss nor an answer
    ++n;
  }
  return n;
}

bool PathProbes::live(uint64_t now_us, uint64_t interval_us) const {
  // The second test is a backstop for a client that stopped probing.
  return last_answer_us_ && misses(now_us, interval_us) < kDeadAfterMisses &&
         now_us - last_answer_us_ <= 3 * interval_us + timeout_us(interval_us);
}

bool PathProbes::retry_due(uint64_t now_us, uint64_t interval_us) const {
  if (probes_.empty() || probes_.back().answered) return false;
  if (now_us - probes_.back().sent_us < timeout_us(interval_us)) return false;
  return misses(now_us, interval_us) < kDeadAfterMisses;
}

uint64_t PathProbes::next_check_us(uint64_t interval_us) const {
  if (probes_.empty() || probes_.back().answered) return 0;
  return probes_.back().sent_us + timeout_us(interval_us);
}

uint8_t PathProbes::loss_percent(uint64_t now_us, uint64_t interval_us) const {
  unsigned due = 0, lost = 0;
  for (const auto& p : probes_) {
    if (p.retry || now_us - p.sent_us < 2 * interval_us) continue;
    ++due;
    lost += !p.answered;
  }
  // A handful of probes says little: 1 of 4 lost is 25 % but happens a
  // third of the time at 10 % loss.
  return due >= kMinLossSamples ? static_cast<uint8_t>(lost * 100 / due) : 0;
}

}  // namespace braid::paths

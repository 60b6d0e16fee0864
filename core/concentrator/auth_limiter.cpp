#include "concentrator/auth_limiter.hpp"

#include <cstdint>

namespace braid::concentrator {

bool AuthLimiter::blocked(const std::string& address, uint64_t now_ms) {
  auto it = entries_.find(address);
  if (it == entries_.end()) return false;
  if (now_ms - it->second.window_start_ms >= kWindowMs) {
    entries_.erase(it);
    return false;
  }
  if (it->second.failures < kMaxFailures) return false;
  ++refused_;
  return true;
}

void AuthLimiter::failed(const std::string& address, uint64_t now_ms) {
  auto it = entries_.find(address);
  if (it != entries_.end() && now_ms - it->second.window_start_ms >= kWindowMs) {
    it->second = Entry{now_ms, 0};
  }
  if (it == entries_.end()) {
    if (entries_.size() >= kMaxAddresses) {
      // Drop expired entries; if none, the oldest window goes.
      std::string oldest;
      uint64_t oldest_ms = UINT64_MAX;
      for (auto e = entries_.begin(); e != entries_.end();) {
        if (now_ms - e->second.window_start_ms >= kWindowMs) {
          e = entries_.erase(e);
          continue;
        }
        if (e->second.window_start_ms < oldest_ms) {
          oldest_ms = e->second.window_start_ms;
          oldest = e->first;
        }
        ++e;
      }
      if (entries_.size() >= kMaxAddresses) entries_.erase(oldest);
    }
    it = entries_.emplace(address, Entry{now_ms, 0}).first;
  }
  ++it->second.failures;
}

}  // namespace braid::concentrator

// Failed logins per source address: after kMaxFailures failures within
// kWindowMs, new connections from that address are closed at once, before
// any TLS work, until the window passes. The table is bounded; when it is
// full the oldest entry goes, so a flood of addresses cannot grow it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace braid::concentrator {

class AuthLimiter {
 public:
  static constexpr uint32_t kMaxFailures = 10;
  static constexpr uint64_t kWindowMs = 60000;
  static constexpr size_t kMaxAddresses = 4096;

  /// True when connections from @p address are refused at @p now_ms.
  bool blocked(const std::string& address, uint64_t now_ms);
  /// Records a failed attempt (wrong user or token) from @p address.
  void failed(const std::string& address, uint64_t now_ms);
  size_t size() const { return entries_.size(); }
  uint64_t refused() const { return refused_; }

 private:
  struct Entry {
    uint64_t window_start_ms = 0;
    uint32_t failures = 0;
  };
  std::unordered_map<std::string, Entry> entries_;
  uint64_t refused_ = 0;
};

}  // namespace braid::concentrator

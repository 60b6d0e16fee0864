// A bounded queue of datagrams waiting for a stream to take them, with a
// deadline: a datagram that waited too long is dropped rather than delivered
// late (real-time traffic prefers loss to delay). Pure; the caller passes the
// clock.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "net/bytes.hpp"

namespace braid::net {

/// Framed datagrams are handed to the stream only while its write queue is
/// below this, so the deadline queue (not the socket buffer) is where they wait.
constexpr size_t kFramedStreamHigh = 64 * 1024;
/// Bytes of framed datagrams an association may hold waiting.
constexpr size_t kFramedQueueBytes = 1024 * 1024;

class DatagramQueue {
 public:
  DatagramQueue(size_t max_bytes, uint64_t deadline_ms) : max_bytes_(max_bytes), deadline_ms_(deadline_ms) {}

  /// Queues @p frame; false (and counted) when that would exceed max_bytes.
  bool push(Bytes frame, uint64_t now_ms);
  /// The oldest datagram still within its deadline; older ones are dropped and counted.
  std::optional<Bytes> pop(uint64_t now_ms);

  bool empty() const { return items_.empty(); }
  size_t bytes() const { return bytes_; }
  uint64_t dropped_late() const { return dropped_late_; }
  uint64_t dropped_full() const { return dropped_full_; }

 private:
  struct Item {
    uint64_t queued_ms;
    Bytes frame;
  };
  size_t max_bytes_;
  uint64_t deadline_ms_;
  std::deque<Item> items_;
  size_t bytes_ = 0;
  uint64_t dropped_late_ = 0;
  uint64_t dropped_full_ = 0;
};

}  // namespace braid::net

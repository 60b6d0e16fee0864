#include "net/datagram_queue.hpp"

namespace braid::net {

bool DatagramQueue::push(Bytes frame, uint64_t now_ms) {
  if (bytes_ + frame.size() > max_bytes_) {
    ++dropped_full_;
    return false;
  }
  bytes_ += frame.size();
  items_.push_back({now_ms, std::move(frame)});
  return true;
}

std::optional<Bytes> DatagramQueue::pop(uint64_t now_ms) {
  while (!items_.empty()) {
    Item item = std::move(items_.front());
    items_.pop_front();
    bytes_ -= item.frame.size();
    if (now_ms - item.queued_ms > deadline_ms_) {
      ++dropped_late_;
      continue;
    }
    return std::move(item.frame);
  }
  return std::nullopt;
}

}  // namespace braid::net

#include "gui/throughput_history.hpp"

#include <algorithm>

namespace braid::gui {

ThroughputHistory::ThroughputHistory(int capacity) : ring_(static_cast<size_t>(std::max(capacity, 1))) {}

void ThroughputHistory::append(ThroughputSample sample) {
  const int cap = capacity();
  if (count_ < cap) {
    ring_[static_cast<size_t>((first_ + count_) % cap)] = std::move(sample);
    ++count_;
    return;
  }
  ring_[static_cast<size_t>(first_)] = std::move(sample);
  first_ = (first_ + 1) % cap;
}

void ThroughputHistory::clear() {
  first_ = 0;
  count_ = 0;
}

const ThroughputSample& ThroughputHistory::at(int i) const {
  return ring_[static_cast<size_t>((first_ + i) % capacity())];
}

QStringList ThroughputHistory::path_names() const {
  QStringList names;
  for (int i = 0; i < count_; ++i) {
    const auto& rates = at(i).rates;
    QStringList here = rates.keys();
    here.sort();  // QHash order is arbitrary; keep the result stable
    for (const auto& n : here)
      if (!names.contains(n)) names.append(n);
  }
  return names;
}

}  // namespace braid::gui

// The last few minutes of per-path rates, one sample per traffic event
// (once a second), in a fixed ring so memory stays bounded however long the
// tray app runs.
#pragma once

#include <vector>

#include <QHash>
#include <QString>
#include <QStringList>

namespace braid::gui {

struct PathRate {
  double up_bps = 0;
  double down_bps = 0;
};

struct ThroughputSample {
  qint64 at_ms = 0;                 ///< when it arrived (ms since the epoch)
  QHash<QString, PathRate> rates;   ///< by path name
};

class ThroughputHistory {
 public:
  /// Five minutes at one sample a second.
  static constexpr int kDefaultCapacity = 300;

  explicit ThroughputHistory(int capacity = kDefaultCapacity);

  void append(ThroughputSample sample);
  void clear();
  int size() const { return count_; }
  int capacity() const { return static_cast<int>(ring_.size()); }
  /// 0 is the oldest sample kept.
  const ThroughputSample& at(int i) const;
  const ThroughputSample* latest() const { return count_ ? &at(count_ - 1) : nullptr; }
  /// Every path that appears in the kept samples, in order of first appearance.
  QStringList path_names() const;

 private:
  std::vector<ThroughputSample> ring_;
  int first_ = 0;
  int count_ = 0;
};

}  // namespace braid::gui

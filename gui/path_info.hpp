// One path as the control API describes it (GET /v1/paths, the "paths" and
// "traffic" events): a local interface, what it is doing and what it carried.
#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace braid::gui {

struct ByteCounters {
  quint64 up = 0;    ///< delivered to the far end
  quint64 down = 0;  ///< received

  static ByteCounters from_json(const QJsonObject& j);
};

struct PathInfo {
  QString name;
  QString kind;    ///< wifi, cellular, ethernet, other
  QString state;   ///< up, standby, down, off
  QString policy;  ///< on, backup, off
  QStringList addresses;
  bool link_up = false;
  bool has_route = false;
  ByteCounters session;  ///< since the daemon started
  ByteCounters total;    ///< including earlier runs
  double up_bps = 0;     ///< over the last second
  double down_bps = 0;
  double rtt_ms = 0;
  int subflows = 0;

  /// An element of GET /v1/paths (or of a "paths" event).
  static PathInfo from_json(const QJsonObject& j);
  /// Folds in this path's entry of a "traffic" event.
  void apply_traffic(const QJsonObject& j);
};

/// "Wi-Fi", "Cellular", "Ethernet", "Other".
QString kind_label(const QString& kind);

}  // namespace braid::gui

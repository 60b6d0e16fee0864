// The daemon as GET /v1/status describes it, less the paths (PathInfo).
#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>

namespace braid::gui {

struct Listener {
  QString protocol;  ///< SOCKS5, HTTP, mixed
  QString address;
};

struct DaemonStatus {
  QString version;
  double uptime_s = 0;
  int connections = 0;
  QList<Listener> listening;
  QString concentrator;  ///< empty: direct to destinations
  bool mptcp_enabled = true;
  bool mptcp_available = true;
  QString mptcp_detail;
  bool path_control_available = false;
  QString path_control_reason;
  QString mode;  ///< aggregate, failover, custom

  static DaemonStatus from_json(const QJsonObject& j);
};

}  // namespace braid::gui

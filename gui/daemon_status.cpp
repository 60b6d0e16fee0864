#include "gui/daemon_status.hpp"

#include <QJsonArray>

namespace braid::gui {

DaemonStatus DaemonStatus::from_json(const QJsonObject& j) {
  DaemonStatus s;
  s.version = j.value(QStringLiteral("version")).toString();
  s.uptime_s = j.value(QStringLiteral("uptime_s")).toDouble();
  s.connections = j.value(QStringLiteral("connections")).toInt();
  for (const auto& l : j.value(QStringLiteral("listening")).toArray()) {
    const auto o = l.toObject();
    s.listening.append({o.value(QStringLiteral("protocol")).toString(), o.value(QStringLiteral("address")).toString()});
  }
  s.concentrator = j.value(QStringLiteral("concentrator")).toString();
  const auto mptcp = j.value(QStringLiteral("mptcp")).toObject();
  s.mptcp_enabled = mptcp.value(QStringLiteral("enabled")).toBool(true);
  s.mptcp_available = mptcp.value(QStringLiteral("available")).toBool(true);
  s.mptcp_detail = mptcp.value(QStringLiteral("detail")).toString();
  const auto control = j.value(QStringLiteral("path_control")).toObject();
  s.path_control_available = control.value(QStringLiteral("available")).toBool();
  s.path_control_reason = control.value(QStringLiteral("reason")).toString();
  s.mode = j.value(QStringLiteral("mode")).toString();
  return s;
}

}  // namespace braid::gui

#include "gui/tray_state.hpp"

#include <QStringList>

namespace braid::gui {

QString state_name(TrayState s) {
  switch (s) {
    case TrayState::bonded: return QStringLiteral("bonded");
    case TrayState::single: return QStringLiteral("single");
    case TrayState::degraded: return QStringLiteral("degraded");
    case TrayState::disconnected: return QStringLiteral("disconnected");
    case TrayState::error: return QStringLiteral("error");
  }
  return {};
}

QString state_icon_name(TrayState s) { return QStringLiteral("tray-") + state_name(s); }

TrayVerdict judge_tray_state(DaemonLink link, const QString& link_problem, const DaemonStatus& status,
                             const QList<PathInfo>& paths) {
  if (link == DaemonLink::connecting)
    return {TrayState::disconnected, QStringLiteral("Connecting to the daemon…"), link_problem};
  if (link == DaemonLink::unreachable)
    return {TrayState::disconnected, QStringLiteral("Daemon not reachable"), link_problem};
  if (link == DaemonLink::rejected)
    return {TrayState::error, QStringLiteral("The daemon refuses the tray app"), link_problem};

  QStringList up, standby, down;
  for (const auto& p : paths) {
    if (p.state == QLatin1String("up") && p.policy == QLatin1String("on")) up.append(p.name);
    else if (p.state == QLatin1String("up") || p.state == QLatin1String("standby")) standby.append(p.name);
    else if (p.state == QLatin1String("down")) down.append(p.name);
  }
  if (up.isEmpty() && standby.isEmpty()) {
    const QString why = paths.isEmpty() ? QStringLiteral("no network interface with an address was found")
                        : down.isEmpty() ? QStringLiteral("every path is switched off; switch one on")
                                         : QStringLiteral("down: %1").arg(down.join(QStringLiteral(", ")));
    return {TrayState::error, QStringLiteral("No usable path"), why};
  }

  QStringList problems;
  if (!down.isEmpty()) problems.append(QStringLiteral("down: %1").arg(down.join(QStringLiteral(", "))));
  if (up.isEmpty()) problems.append(QStringLiteral("only backup paths are left (%1)").arg(standby.join(QStringLiteral(", "))));
  if (status.mptcp_enabled && !status.mptcp_available)
    problems.append(QStringLiteral("MPTCP unavailable, no bonding: %1").arg(status.mptcp_detail));
  if (!status.path_control_available)
    problems.append(QStringLiteral("path control unavailable: %1").arg(status.path_control_reason));

  const QString carrying = up.isEmpty()      ? QStringLiteral("backup only")
                           : up.size() == 1  ? QStringLiteral("1 path (%1)").arg(up.first())
                                          : QStringLiteral("%1 paths (%2)").arg(up.size()).arg(up.join(QStringLiteral(", ")));
  if (!problems.isEmpty())
    return {TrayState::degraded, QStringLiteral("Degraded: %1").arg(carrying), problems.join(QStringLiteral("; "))};
  if (up.size() >= 2) return {TrayState::bonded, QStringLiteral("Bonded: %1").arg(carrying), {}};
  return {TrayState::single, QStringLiteral("Single path: %1").arg(up.first()),
          standby.isEmpty() ? QString() : QStringLiteral("backup: %1").arg(standby.join(QStringLiteral(", ")))};
}

}  // namespace braid::gui

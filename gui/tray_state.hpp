// The one-word state the tray icon shows, judged from what the daemon
// reports. Pure, so the rules can be tested without a daemon or a desktop.
//
//   disconnected  the daemon does not answer
//   error         it answers but cannot be used (token), or no path can carry traffic
//   degraded      a path is down, path control or MPTCP is unavailable, or only backups are left
//   bonded        two or more paths are up and switched on
//   single        exactly one path is up and switched on
#pragma once

#include <QList>
#include <QString>

#include "gui/daemon_link.hpp"
#include "gui/daemon_status.hpp"
#include "gui/path_info.hpp"

namespace braid::gui {

enum class TrayState { bonded, single, degraded, disconnected, error };

struct TrayVerdict {
  TrayState state = TrayState::disconnected;
  QString headline;  ///< "Bonded: 2 paths", "Daemon not reachable"
  QString detail;    ///< why, and what to do about it
};

TrayVerdict judge_tray_state(DaemonLink link, const QString& link_problem, const DaemonStatus& status,
                             const QList<PathInfo>& paths);

/// "bonded", "single", "degraded", "disconnected", "error".
QString state_name(TrayState s);
/// The SVG resource name for the state ("tray-bonded").
QString state_icon_name(TrayState s);

}  // namespace braid::gui

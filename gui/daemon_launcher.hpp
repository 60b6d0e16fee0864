// Starts `braid up` for a user whose daemon is not running: the braid next
// to this binary first (a build tree or one install prefix), then PATH. The
// API has no stop call, so the tray app only ever starts a daemon.
#pragma once

#include <QString>

namespace braid::gui {

class DaemonLauncher {
 public:
  /// The braid program to run, or empty when there is none.
  static QString find_braid();
  /// Starts it detached (it outlives the tray app); false with @p error.
  /// @p config_path is passed as --config when set.
  static bool start(const QString& config_path, QString* error);
};

}  // namespace braid::gui

// "Start at login": the XDG autostart entry
// ($XDG_CONFIG_HOME/autostart/braid-gui.desktop, Desktop Application
// Autostart Specification), installed from packaging/braid-gui-autostart.desktop
// with Exec pointing at this very binary, or removed.
#pragma once

#include <QString>

namespace braid::gui {

class AutostartEntry {
 public:
  /// Where the entry lives.
  static QString path();
  static bool installed();
  /// Writes the entry; false with @p error on failure.
  static bool install(QString* error);
  /// Removes it (no entry is not an error).
  static bool remove(QString* error);
  /// The entry's text for @p program (absolute path of braid-gui).
  static QString contents(const QString& program);
};

}  // namespace braid::gui

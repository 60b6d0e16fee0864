// The tray icon: its picture tells the state (bonded, single, degraded,
// disconnected, error), its tooltip the live rate of each path, and its menu
// switches paths and the mode, starts a daemon that is not running, opens the
// dashboard and quits. The menu exists even where the desktop has no tray,
// so the dashboard and the tests can use it.
#pragma once

#include <QObject>
#include <QTimer>

#include "gui/tray_state.hpp"

class QAction;
class QMenu;
class QSystemTrayIcon;

namespace braid::gui {

class DaemonModel;

class Tray : public QObject {
  Q_OBJECT
 public:
  explicit Tray(DaemonModel& model, QObject* parent = nullptr);
  ~Tray() override;

  /// Whether the desktop has a system tray to show the icon in.
  static bool system_tray_available();
  /// Shows the icon (where there is a tray).
  void show();

  QMenu* menu() const { return menu_; }
  QSystemTrayIcon* icon() const { return icon_; }
  const TrayVerdict& verdict() const { return verdict_; }
  QString tooltip() const { return tooltip_; }
  /// Finds a menu action by object name ("path-wlan0", "policy-wlan0-backup", "mode-failover").
  QAction* action(const QString& object_name) const;
  /// Rebuilds the menu now rather than on the next turn of the event loop.
  void rebuild_menu_now() { rebuild_menu(); }

 signals:
  void dashboard_requested();
  void quit_requested();

 private:
  void schedule_rebuild();
  void rebuild_menu();
  void update_state();
  void update_tooltip();

  DaemonModel& model_;
  QMenu* menu_;
  QSystemTrayIcon* icon_;
  QTimer rebuild_timer_;
  bool rebuild_when_hidden_ = false;
  TrayVerdict verdict_;
  QString tooltip_;
};

}  // namespace braid::gui

// The dashboard: a status banner over four tabs — Overview (path cards and
// the throughput chart), Connections, Settings and Log. It only arranges
// the pages; each page keeps itself current from the DaemonModel.
#pragma once

#include <QMainWindow>

class QTabWidget;

namespace braid::gui {

class ConnectionsView;
class DaemonModel;
class LogView;
class OverviewPage;
class SettingsPage;
class StatusBanner;

class DashboardWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit DashboardWindow(DaemonModel& model, QWidget* parent = nullptr);

  /// Brings the window up and to the front.
  void present();
  /// Shows a tab by name: overview, connections, settings, log.
  bool show_tab(const QString& name);
  /// Whether closing the window hides it (a tray icon remains) or quits.
  void set_hide_on_close(bool hide) { hide_on_close_ = hide; }

  StatusBanner* banner() const { return banner_; }
  OverviewPage* overview() const { return overview_; }
  ConnectionsView* connections() const { return connections_; }
  SettingsPage* settings() const { return settings_; }
  LogView* log() const { return log_; }

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  StatusBanner* banner_;
  QTabWidget* tabs_;
  OverviewPage* overview_;
  ConnectionsView* connections_;
  SettingsPage* settings_;
  LogView* log_;
  bool hide_on_close_ = false;
};

}  // namespace braid::gui

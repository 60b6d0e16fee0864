// The strip at the top of the dashboard: the tray state's icon and words,
// why (path control, MPTCP, the daemon's absence), and the one action that
// helps when the daemon is not reachable: start it.
#pragma once

#include <QFrame>

class QLabel;
class QPushButton;

namespace braid::gui {

class DaemonModel;

class StatusBanner : public QFrame {
  Q_OBJECT
 public:
  explicit StatusBanner(DaemonModel& model, QWidget* parent = nullptr);

  /// Shown when the desktop has no system tray, so the window is Braid's only face.
  void set_tray_notice(const QString& notice);
  QString headline() const;
  QString detail() const;

 private:
  void sync();
  void start_daemon();

  DaemonModel& model_;
  QLabel* icon_;
  QLabel* headline_;
  QLabel* detail_;
  QLabel* tray_notice_;
  QPushButton* start_;
  QPushButton* retry_;
  QString launch_note_;
};

}  // namespace braid::gui

// --screenshot / --tray-menu-screenshot: saves what the user sees as PNG
// files at given times, then quits (scripts/screenshots.sh uses it):
//  - the dashboard window, with QWidget::grab();
//  - the tray menu opened from the icon with its path-policy submenu: where a
//    real tray host shows the icon, a grab of that corner of the screen;
//    where there is none (offscreen), the menus drawn under a sketched panel.
#pragma once

#include <QList>
#include <QObject>
#include <QString>

namespace braid::gui {

class DashboardWindow;
class Tray;

struct Screenshot {
  enum class Kind { dashboard, tray_menu };
  Kind kind = Kind::dashboard;
  QString png;
  double at_seconds = 5;  ///< after start
};

class ScreenshotRunner : public QObject {
  Q_OBJECT
 public:
  ScreenshotRunner(QList<Screenshot> shots, DashboardWindow& window, Tray& tray, QObject* parent = nullptr);
  /// Schedules every shot; the application exits after the last one.
  void start();

  /// Parses "PATH" or "PATH@SECONDS" (the time defaults to @p default_seconds).
  static Screenshot parse(Screenshot::Kind kind, const QString& spec, double default_seconds);

 private:
  void take(const Screenshot& shot);
  void open_tray_menu(const Screenshot& shot);
  void grab_tray_menu(const Screenshot& shot);
  bool save_sketched_tray_menu(const Screenshot& shot);
  bool save(const QImage& image, const QString& path);
  void one_done();

  QList<Screenshot> shots_;
  DashboardWindow& window_;
  Tray& tray_;
  int pending_ = 0;
  int failures_ = 0;
  bool restore_window_ = false;
};

}  // namespace braid::gui

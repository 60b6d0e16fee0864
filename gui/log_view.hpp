// The daemon's recent log (GET /v1/logs?lines=200), refreshed every two
// seconds while the tab is on screen, following the end unless the user
// scrolled up to read.
#pragma once

#include <QTimer>
#include <QWidget>

class QCheckBox;
class QLabel;
class QPlainTextEdit;

namespace braid::gui {

class DaemonModel;

class LogView : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kRefreshMs = 2000;
  static constexpr int kLines = 200;

  explicit LogView(DaemonModel& model, QWidget* parent = nullptr);
  void refresh();
  QString text() const;

 protected:
  void showEvent(QShowEvent* event) override;
  void hideEvent(QHideEvent* event) override;

 private:
  DaemonModel& model_;
  QPlainTextEdit* text_;
  QCheckBox* follow_;
  QLabel* status_;
  QTimer timer_;
  bool in_flight_ = false;
  QStringList shown_;
};

}  // namespace braid::gui

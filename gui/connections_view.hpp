// The dashboard's connection list: GET /v1/connections every two seconds
// while the tab is on screen, bytes per path, and a Close button per row
// (DELETE /v1/connections/ID).
#pragma once

#include <QTimer>
#include <QWidget>

class QLabel;
class QTableView;

namespace braid::gui {

class ConnectionTableModel;
class DaemonModel;

class ConnectionsView : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kRefreshMs = 2000;

  explicit ConnectionsView(DaemonModel& model, QWidget* parent = nullptr);

  /// Asks the daemon now (also what the timer does).
  void refresh();
  ConnectionTableModel* table_model() const { return table_; }
  QTableView* table_view() const { return view_; }

 protected:
  void showEvent(QShowEvent* event) override;
  void hideEvent(QHideEvent* event) override;

 private:
  void kill(quint64 id);

  DaemonModel& model_;
  ConnectionTableModel* table_;
  QTableView* view_;
  QLabel* header_;
  QLabel* error_;
  QTimer timer_;
  bool in_flight_ = false;
};

}  // namespace braid::gui

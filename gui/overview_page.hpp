// The dashboard's first tab: the mode, a card per path and the stacked
// throughput chart, all following the DaemonModel.
#pragma once

#include <QMap>
#include <QWidget>

class QComboBox;
class QHBoxLayout;
class QLabel;
class QScrollArea;

namespace braid::gui {

class DaemonModel;
class PathCard;
class ThroughputChart;

class OverviewPage : public QWidget {
  Q_OBJECT
 public:
  explicit OverviewPage(DaemonModel& model, QWidget* parent = nullptr);

  QList<PathCard*> cards() const { return cards_.values(); }
  PathCard* card(const QString& path) const { return cards_.value(path); }
  ThroughputChart* chart() const { return chart_; }

 private:
  void sync_cards();
  void sync_traffic();
  void sync_status();

  DaemonModel& model_;
  QComboBox* mode_;
  QLabel* summary_;
  QLabel* mode_error_;
  QLabel* no_paths_;
  QHBoxLayout* cards_row_;
  QScrollArea* scroll_;
  QMap<QString, PathCard*> cards_;
  ThroughputChart* chart_;
};

}  // namespace braid::gui

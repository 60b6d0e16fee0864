// The live stacked throughput chart: one coloured layer per path, the last
// five minutes at one-second resolution, download or upload, with the rate
// axis in human units (kbit/s, Mbit/s, Gbit/s) and time in seconds.
#pragma once

#include <QHash>
#include <QWidget>

class QAreaSeries;
class QButtonGroup;
class QChart;
class QChartView;
class QLineSeries;
class QValueAxis;
class QLabel;

namespace braid::gui {

class DaemonModel;

class ThroughputChart : public QWidget {
  Q_OBJECT
 public:
  enum class Direction { down, up };

  explicit ThroughputChart(DaemonModel& model, QWidget* parent = nullptr);

  void set_direction(Direction d);
  Direction direction() const { return direction_; }
  QChart* chart() const { return chart_; }
  /// The layer drawn for a path, or null.
  QAreaSeries* layer(const QString& path) const;
  /// The axis unit in use ("Mbit/s").
  QString unit() const { return unit_; }

 private:
  struct Layer {
    QAreaSeries* area = nullptr;
    QLineSeries* upper = nullptr;
    QLineSeries* lower = nullptr;
  };

  void redraw();
  Layer& layer_for(const QString& path);

  DaemonModel& model_;
  Direction direction_ = Direction::down;
  QChart* chart_;
  QChartView* view_;
  QValueAxis* time_axis_;
  QValueAxis* rate_axis_;
  QLabel* now_label_;
  QButtonGroup* direction_group_;
  QHash<QString, Layer> layers_;
  QString unit_;
};

}  // namespace braid::gui

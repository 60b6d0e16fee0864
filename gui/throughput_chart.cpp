#include "gui/throughput_chart.hpp"

#include <algorithm>

#include <QAreaSeries>
#include <QButtonGroup>
#include <QChart>
#include <QChartView>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QToolButton>
#include <QValueAxis>
#include <QVBoxLayout>

#include "gui/daemon_model.hpp"
#include "gui/human_units.hpp"
#include "gui/path_colors.hpp"

namespace braid::gui {

namespace {
constexpr double kWindowSeconds = ThroughputHistory::kDefaultCapacity;
}

ThroughputChart::ThroughputChart(DaemonModel& model, QWidget* parent)
    : QWidget(parent),
      model_(model),
      chart_(new QChart),
      view_(new QChartView(chart_, this)),
      time_axis_(new QValueAxis(this)),
      rate_axis_(new QValueAxis(this)),
      now_label_(new QLabel(this)),
      direction_group_(new QButtonGroup(this)) {
  setObjectName(QStringLiteral("ThroughputChart"));
  chart_->legend()->setAlignment(Qt::AlignBottom);
  chart_->setMargins(QMargins(4, 4, 4, 4));
  chart_->setBackgroundRoundness(4);
  // Smooth updates every second; animations would lag behind the data.
  chart_->setAnimationOptions(QChart::NoAnimation);

  time_axis_->setRange(-kWindowSeconds, 0);
  time_axis_->setTickCount(7);
  time_axis_->setLabelFormat(QStringLiteral("%d"));
  time_axis_->setTitleText(tr("seconds (0 = now)"));
  rate_axis_->setRange(0, 1);
  rate_axis_->setLabelFormat(QStringLiteral("%g"));
  rate_axis_->setTickCount(6);
  chart_->addAxis(time_axis_, Qt::AlignBottom);
  chart_->addAxis(rate_axis_, Qt::AlignLeft);

  view_->setRenderHint(QPainter::Antialiasing);
  view_->setFrameShape(QFrame::NoFrame);
  view_->setBackgroundBrush(palette().window());
  view_->setMinimumHeight(260);

  auto* header = new QHBoxLayout;
  auto* title = new QLabel(tr("<b>Throughput per path</b> — last 5 minutes"), this);
  header->addWidget(title);
  header->addStretch(1);
  header->addWidget(now_label_);
  for (auto [d, label] : {std::pair{Direction::down, tr("Download")}, std::pair{Direction::up, tr("Upload")}}) {
    auto* b = new QToolButton(this);
    b->setText(label);
    b->setCheckable(true);
    b->setChecked(d == direction_);
    b->setObjectName(d == Direction::down ? QStringLiteral("show-download") : QStringLiteral("show-upload"));
    direction_group_->addButton(b);
    header->addWidget(b);
    connect(b, &QToolButton::clicked, this, [this, d = d] { set_direction(d); });
  }

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(header);
  layout->addWidget(view_, 1);

  connect(&model_, &DaemonModel::traffic_updated, this, &ThroughputChart::redraw);
  connect(&model_, &DaemonModel::paths_changed, this, &ThroughputChart::redraw);
  redraw();
}

void ThroughputChart::set_direction(Direction d) {
  direction_ = d;
  redraw();
}

QAreaSeries* ThroughputChart::layer(const QString& path) const {
  auto it = layers_.find(path);
  return it == layers_.end() ? nullptr : it->area;
}

ThroughputChart::Layer& ThroughputChart::layer_for(const QString& path) {
  auto it = layers_.find(path);
  if (it != layers_.end()) return *it;
  Layer l;
  l.upper = new QLineSeries;
  l.lower = new QLineSeries;
  l.area = new QAreaSeries(l.upper, l.lower);
  // The boundaries go with their area when a path leaves the window.
  l.upper->setParent(l.area);
  l.lower->setParent(l.area);
  l.area->setName(path);
  chart_->addSeries(l.area);
  l.area->attachAxis(time_axis_);
  l.area->attachAxis(rate_axis_);
  return *layers_.insert(path, l);
}

void ThroughputChart::redraw() {
  const auto& history = model_.history();
  const auto& paths = model_.paths();
  // Current paths first in the daemon's order, then any that left but are still in the window.
  QStringList order;
  for (const auto& p : paths) order.append(p.name);
  for (const auto& n : history.path_names())
    if (!order.contains(n)) order.append(n);

  // Layers of paths no longer in the window go.
  for (auto it = layers_.begin(); it != layers_.end();) {
    if (order.contains(it.key())) {
      ++it;
      continue;
    }
    chart_->removeSeries(it->area);
    delete it->area;
    it = layers_.erase(it);
  }

  const ThroughputSample* latest = history.latest();
  const qint64 now_ms = latest ? latest->at_ms : 0;
  const bool down = direction_ == Direction::down;
  std::vector<double> stacked(static_cast<size_t>(history.size()), 0.0);
  double peak = 0;
  // Build each layer on top of the ones before it, in raw bit/s first.
  QList<QList<QPointF>> uppers, lowers;
  for (const auto& name : order) {
    QList<QPointF> upper, lower;
    upper.reserve(history.size());
    lower.reserve(history.size());
    for (int i = 0; i < history.size(); ++i) {
      const auto& s = history.at(i);
      const double x = static_cast<double>(s.at_ms - now_ms) / 1000.0;
      const PathRate r = s.rates.value(name);
      const double base = stacked[static_cast<size_t>(i)];
      const double top = base + (down ? r.down_bps : r.up_bps);
      lower.append(QPointF(x, base));
      upper.append(QPointF(x, top));
      stacked[static_cast<size_t>(i)] = top;
      peak = std::max(peak, top);
    }
    uppers.append(upper);
    lowers.append(lower);
  }

  const auto scale = units::rate_scale(peak);
  unit_ = scale.unit;
  const double top = units::nice_ceiling(std::max(peak / scale.divisor, 1.0));
  rate_axis_->setRange(0, top);
  rate_axis_->setTitleText(QStringLiteral("%1 (%2)").arg(down ? tr("download") : tr("upload"), scale.unit));

  for (int k = 0; k < order.size(); ++k) {
    Layer& l = layer_for(order[k]);
    for (auto* pts : {&uppers[k], &lowers[k]})
      for (auto& pt : *pts) pt.setY(pt.y() / scale.divisor);
    l.upper->replace(uppers[k]);
    l.lower->replace(lowers[k]);
    const QColor c = path_color(paths, order[k]);
    QColor fill = c;
    fill.setAlpha(190);
    l.area->setBrush(fill);
    l.area->setPen(QPen(c.darker(120), 1.2));
  }

  double total_now = 0;
  if (latest)
    for (const auto& r : latest->rates) total_now += down ? r.down_bps : r.up_bps;
  now_label_->setText(tr("now: %1 %2").arg(units::rate(total_now), down ? tr("down") : tr("up")));
}

}  // namespace braid::gui

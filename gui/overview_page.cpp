#include "gui/overview_page.hpp"

#include <algorithm>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QScrollArea>
#include <QScrollBar>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include "gui/daemon_model.hpp"
#include "gui/human_units.hpp"
#include "gui/path_card.hpp"
#include "gui/path_colors.hpp"
#include "gui/throughput_chart.hpp"

namespace braid::gui {

OverviewPage::OverviewPage(DaemonModel& model, QWidget* parent)
    : QWidget(parent),
      model_(model),
      mode_(new QComboBox(this)),
      summary_(new QLabel(this)),
      mode_error_(new QLabel(this)),
      no_paths_(new QLabel(this)),
      cards_row_(new QHBoxLayout),
      chart_(new ThroughputChart(model, this)) {
  mode_->setObjectName(QStringLiteral("mode"));
  mode_->addItem(tr("Aggregate — every path carries traffic"), QStringLiteral("aggregate"));
  mode_->addItem(tr("Failover — best path on, the others backup"), QStringLiteral("failover"));
  mode_->addItem(tr("Custom — your per-path choices"), QStringLiteral("custom"));
  // "custom" is what per-path changes lead to; it cannot be chosen directly.
  if (auto* items = qobject_cast<QStandardItemModel*>(mode_->model()))
    items->item(2)->setFlags(items->item(2)->flags() & ~Qt::ItemIsEnabled);
  mode_error_->setStyleSheet(QStringLiteral("color: #cf2e2e;"));
  mode_error_->setWordWrap(true);
  mode_error_->hide();
  summary_->setWordWrap(true);
  no_paths_->setWordWrap(true);
  no_paths_->hide();

  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Mode:"), this));
  top->addWidget(mode_);
  top->addSpacing(16);
  top->addWidget(summary_, 1);

  auto* cards_host = new QWidget(this);
  cards_row_->setParent(nullptr);
  cards_host->setLayout(cards_row_);
  cards_row_->setContentsMargins(0, 0, 0, 0);
  cards_row_->setSpacing(10);
  cards_row_->addStretch(1);
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(cards_host);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  scroll->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Minimum);
  scroll_ = scroll;
  // The cards sit on the page itself, not on a grey scroll viewport.
  scroll->viewport()->setAutoFillBackground(false);
  cards_host->setAutoFillBackground(false);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(mode_error_);
  layout->addWidget(no_paths_);
  layout->addWidget(scroll);
  layout->addWidget(chart_, 1);

  connect(mode_, &QComboBox::activated, this, [this](int index) {
    const QString mode = mode_->itemData(index).toString();
    if (mode == QLatin1String("custom")) {
      sync_status();  // not a choice: switch paths one by one on their cards
      return;
    }
    mode_error_->hide();
    model_.set_mode(mode);
  });
  connect(&model_, &DaemonModel::paths_changed, this, &OverviewPage::sync_cards);
  connect(&model_, &DaemonModel::link_changed, this, &OverviewPage::sync_cards);
  connect(&model_, &DaemonModel::traffic_updated, this, &OverviewPage::sync_traffic);
  connect(&model_, &DaemonModel::status_changed, this, &OverviewPage::sync_status);
  connect(&model_, &DaemonModel::link_changed, this, &OverviewPage::sync_status);
  connect(&model_, &DaemonModel::action_failed, this, [this](const QString& subject, const QString& message) {
    if (subject != QLatin1String("mode")) return;
    mode_error_->setText(tr("Mode not changed: %1").arg(message));
    mode_error_->show();
  });
  sync_cards();
  sync_status();
}

void OverviewPage::sync_cards() {
  const auto& paths = model_.paths();
  QStringList names;
  for (const auto& p : paths) names.append(p.name);
  for (auto it = cards_.begin(); it != cards_.end();) {
    if (names.contains(it.key())) {
      ++it;
      continue;
    }
    delete it.value();
    it = cards_.erase(it);
  }
  const bool reachable = model_.link() == DaemonLink::reachable;
  for (int i = 0; i < paths.size(); ++i) {
    const auto& p = paths[i];
    PathCard* card = cards_.value(p.name);
    if (!card) {
      card = new PathCard(p.name);
      connect(card, &PathCard::policy_chosen, &model_, &DaemonModel::set_policy);
      cards_.insert(p.name, card);
    }
    // Keep the daemon's order (the stretch stays last).
    cards_row_->removeWidget(card);
    cards_row_->insertWidget(i, card);
    card->show_path(p, path_color(paths, p.name), model_.pending_policy(p.name), model_.path_error(p.name));
    card->set_reachable(reachable);
  }
  // The card row is as tall as the cards, so the chart gets the rest.
  int tallest = 120;
  for (auto* card : std::as_const(cards_)) tallest = std::max(tallest, card->sizeHint().height());
  scroll_->setFixedHeight(tallest + scroll_->horizontalScrollBar()->sizeHint().height() + 4);
  no_paths_->setVisible(reachable && paths.isEmpty());
  no_paths_->setText(tr("The daemon reports no paths: no network interface has a global address and a route. "
                        "Connect Wi-Fi, Ethernet or a phone and they appear here."));
}

void OverviewPage::sync_traffic() {
  for (const auto& p : model_.paths())
    if (auto* card = cards_.value(p.name)) card->show_traffic(p);
  sync_status();
}

void OverviewPage::sync_status() {
  const auto& s = model_.status();
  const bool reachable = model_.link() == DaemonLink::reachable;
  mode_->setEnabled(reachable);
  const int index = mode_->findData(s.mode.isEmpty() ? QStringLiteral("aggregate") : s.mode);
  if (index >= 0) mode_->setCurrentIndex(index);
  if (!reachable) {
    summary_->setText(tr("Waiting for the daemon…"));
    return;
  }
  double down = 0, up = 0;
  for (const auto& p : model_.paths()) {
    down += p.down_bps;
    up += p.up_bps;
  }
  const QString upstream = s.concentrator.isEmpty() ? tr("direct to destinations") : tr("concentrator %1").arg(s.concentrator);
  summary_->setText(tr("%1 connection%2 · ↓ %3 ↑ %4 · %5 over %6")
                        .arg(s.connections)
                        .arg(s.connections == 1 ? QString() : QStringLiteral("s"))
                        .arg(units::rate(down), units::rate(up), upstream,
                             s.mptcp_available ? tr("MPTCP") : tr("TCP (MPTCP unavailable)")));
}

}  // namespace braid::gui

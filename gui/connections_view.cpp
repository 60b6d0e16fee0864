#include "gui/connections_view.hpp"

#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

#include "gui/connection_table_model.hpp"
#include "gui/daemon_model.hpp"
#include "gui/kill_button_delegate.hpp"

namespace braid::gui {

ConnectionsView::ConnectionsView(DaemonModel& model, QWidget* parent)
    : QWidget(parent),
      model_(model),
      table_(new ConnectionTableModel(this)),
      view_(new QTableView(this)),
      header_(new QLabel(this)),
      error_(new QLabel(this)) {
  auto* kill_delegate = new KillButtonDelegate(this);
  view_->setModel(table_);
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  view_->setAlternatingRowColors(true);
  view_->verticalHeader()->hide();
  view_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  view_->horizontalHeader()->setSectionResizeMode(ConnectionTableModel::kDestination, QHeaderView::Stretch);
  view_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  error_->setStyleSheet(QStringLiteral("color: #cf2e2e;"));
  error_->setWordWrap(true);
  error_->hide();

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(header_);
  layout->addWidget(error_);
  layout->addWidget(view_, 1);

  // The kill column moves with the number of paths; follow it.
  auto place_delegate = [this, kill_delegate] {
    for (int c = 0; c < table_->columnCount(); ++c) view_->setItemDelegateForColumn(c, nullptr);
    view_->setItemDelegateForColumn(table_->kill_column(), kill_delegate);
  };
  connect(table_, &QAbstractItemModel::modelReset, this, place_delegate);
  place_delegate();
  connect(kill_delegate, &KillButtonDelegate::clicked, this, [this](const QModelIndex& index) {
    if (const auto* c = table_->connection_at(index.row())) kill(c->id);
  });

  timer_.setInterval(kRefreshMs);
  connect(&timer_, &QTimer::timeout, this, &ConnectionsView::refresh);
  connect(&model_, &DaemonModel::link_changed, this, [this] {
    if (model_.link() != DaemonLink::reachable) {
      table_->set_connections({}, {});
      header_->setText(tr("The connection list needs the daemon."));
    } else if (isVisible()) {
      refresh();
    }
  });
  header_->setText(tr("Proxied connections, refreshed every %1 s.").arg(kRefreshMs / 1000));
}

void ConnectionsView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  refresh();
  timer_.start();
}

void ConnectionsView::hideEvent(QHideEvent* event) {
  QWidget::hideEvent(event);
  timer_.stop();
}

void ConnectionsView::refresh() {
  // One request at a time: a slow daemon must not pile them up.
  if (in_flight_ || model_.link() != DaemonLink::reachable) return;
  in_flight_ = true;
  model_.api().get(QStringLiteral("/v1/connections"), this, [this](const ApiResult& r) {
    in_flight_ = false;
    if (!r.ok()) {
      error_->setText(tr("Cannot list connections: %1").arg(r.error));
      error_->show();
      return;
    }
    error_->hide();
    QList<ConnectionInfo> list;
    for (const auto& v : r.body.array()) list.append(ConnectionInfo::from_json(v.toObject()));
    QStringList names;
    for (const auto& p : model_.paths()) names.append(p.name);
    table_->set_connections(list, names);
    header_->setText(tr("%1 proxied connection%2, refreshed every %3 s.")
                         .arg(list.size())
                         .arg(list.size() == 1 ? QString() : QStringLiteral("s"))
                         .arg(kRefreshMs / 1000));
  });
}

void ConnectionsView::kill(quint64 id) {
  model_.api().remove(QStringLiteral("/v1/connections/%1").arg(id), this, [this, id](const ApiResult& r) {
    if (!r.ok()) {
      error_->setText(tr("Connection %1 not closed: %2").arg(id).arg(r.error));
      error_->show();
    }
    refresh();
  });
}

}  // namespace braid::gui

#include "gui/connection_table_model.hpp"

#include <QSet>

#include "gui/human_units.hpp"

namespace braid::gui {

ConnectionTableModel::ConnectionTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void ConnectionTableModel::set_connections(const QList<ConnectionInfo>& connections, const QStringList& path_names) {
  if (path_names != path_names_) {
    beginResetModel();
    path_names_ = path_names;
    rows_ = connections;
    endResetModel();
    return;
  }
  QSet<quint64> fresh_ids;
  for (const auto& c : connections) fresh_ids.insert(c.id);
  // Closed connections leave...
  for (int i = static_cast<int>(rows_.size()) - 1; i >= 0; --i) {
    if (fresh_ids.contains(rows_[i].id)) continue;
    beginRemoveRows({}, i, i);
    rows_.removeAt(i);
    endRemoveRows();
  }
  // ...known ones change in place, new ones join at the end.
  for (const auto& c : connections) {
    int at = -1;
    for (int i = 0; i < rows_.size(); ++i)
      if (rows_[i].id == c.id) at = i;
    if (at >= 0) {
      rows_[at] = c;
      emit dataChanged(index(at, 0), index(at, columnCount() - 1));
      continue;
    }
    const int end = static_cast<int>(rows_.size());
    beginInsertRows({}, end, end);
    rows_.append(c);
    endInsertRows();
  }
}

const ConnectionInfo* ConnectionTableModel::connection_at(int row) const {
  return row >= 0 && row < rows_.size() ? &rows_[row] : nullptr;
}

int ConnectionTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int ConnectionTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kill_column() + 1;
}

QVariant ConnectionTableModel::data(const QModelIndex& index, int role) const {
  const ConnectionInfo* c = connection_at(index.row());
  if (!c) return {};
  const int col = index.column();
  if (role == Qt::TextAlignmentRole && col != kDestination && col != kProtocol)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ToolTipRole && col == kDestination)
    return tr("%1 · %2 · %3").arg(c->state, c->mptcp ? tr("MPTCP upstream") : tr("TCP upstream (no MPTCP)"),
                                  tr("%1 ↓ / %2 ↑ in total").arg(units::bytes(c->bytes_down), units::bytes(c->bytes_up)));
  if (role != Qt::DisplayRole) return {};
  switch (col) {
    case kId: return QString::number(c->id);
    case kDestination: return c->destination;
    case kProtocol: return c->protocol.toUpper() + (c->mptcp ? QString() : tr(" (TCP)"));
    case kAge: return units::duration(c->age_s);
    case kDown: return units::bytes(c->bytes_down);
    case kUp: return units::bytes(c->bytes_up);
    default: break;
  }
  if (col == kill_column()) return tr("Close");
  const QString path = path_names_.value(col - kFirstPath);
  const auto it = c->per_path.find(path);
  if (it == c->per_path.end()) return QStringLiteral("–");
  return QStringLiteral("↓ %1  ↑ %2").arg(units::bytes(it->down), units::bytes(it->up));
}

QVariant ConnectionTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kId: return tr("ID");
    case kDestination: return tr("Destination");
    case kProtocol: return tr("Via");
    case kAge: return tr("Age");
    case kDown: return tr("Down");
    case kUp: return tr("Up");
    default: break;
  }
  if (section == kill_column()) return QString();
  return path_names_.value(section - kFirstPath);
}

}  // namespace braid::gui

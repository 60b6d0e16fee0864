// The proxied connections as a table: one row per connection, a column of
// bytes per path, and a last column holding the "Close" button. Rows are
// updated in place by id, so selection and scrolling survive each refresh.
#pragma once

#include <QAbstractTableModel>
#include <QList>
#include <QStringList>

#include "gui/connection_info.hpp"

namespace braid::gui {

class ConnectionTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kId, kDestination, kProtocol, kAge, kDown, kUp, kFirstPath };

  explicit ConnectionTableModel(QObject* parent = nullptr);

  /// Replaces the rows with @p connections; @p path_names become columns.
  void set_connections(const QList<ConnectionInfo>& connections, const QStringList& path_names);
  const ConnectionInfo* connection_at(int row) const;
  int kill_column() const { return kFirstPath + static_cast<int>(path_names_.size()); }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  QList<ConnectionInfo> rows_;
  QStringList path_names_;
};

}  // namespace braid::gui
